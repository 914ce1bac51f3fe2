"""A second process for the review's heavy checks, so a review uses two cores (issue 15).

``run_review(ctx, workers=2)`` (the CLI and the app ask for it on large data) hands a fixed
set of checks (:data:`WORKER_CHECKS`: the ones that fit their own models) to one child
process, ``python -m readiness.parallel``, and runs the rest itself. The child is started
early (:func:`prestart`, while the tables load), imports the checks once, receives the
pickled review context (with the shared quantities already in ``ctx.memo``), streamed through
the pipe (no whole copy of it in either process), and sends back one pickled
:class:`CheckResult` per check as each finishes.

Why the results are the same as a sequential run, byte for byte: every check is a pure
function of the context (seeded, no global random state, no state shared with another check
except ``ctx.memo``, which is filled before the context is sent), and the child is a fresh
interpretation of the same code and libraries with the same thread settings.
``tests/test_parallel.py`` proves it on a whole review. The assignment of checks to processes
is a constant, never a race, so whatever the load, each check runs in the same process.

Anything unusual (a context that does not pickle, e.g. an ONNX session; a child that fails to
start or dies) falls back to running the remaining checks in the calling process: slower,
never different. The child is our own code run on our own pickles (trusted both ways); a
model file is never first loaded here (that is :mod:`readiness.inputs.sandbox`'s job).
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

# the checks the second process runs: each fits its own models (single-threaded), together about
# half of a review's time on Adult-sized data; the explanation checks stay together in the caller
# (they share one explainer state)
WORKER_CHECKS = frozenset({"data_quality.labels", "feasibility.bayes_error", "baselines.comparison",
                           "robustness.perturbation"})
# below this many rows (training + holdout) a review takes a few seconds and a second interpreter
# would cost more than it saves
PARALLEL_MIN_ROWS = 20_000
# ... and above this many bytes of tables (training + holdout in memory) the context's copy in the
# second process costs too much memory: 1M rows x 20 columns are 181 MiB in memory and the whole
# process tree then peaks at ~2.5 GiB (benchmarks/bench_review.py); 10M rows stay in one process
PARALLEL_MAX_BYTES = 512 * 2**20
# ... and on files smaller than this (bytes, training + holdout) the CLI does not start one
PARALLEL_MIN_BYTES = 2_000_000
_HEADER = struct.Struct("<Q")
_READY = b"ready\n"

_lock = threading.Lock()
_prestarted: subprocess.Popen | None = None


def table_bytes(ctx) -> int:
    """Bytes the review's training and holdout tables take in memory (what the second process copies)."""
    return int(sum(frame.memory_usage(index=True, deep=True).sum() for frame in (ctx.train, ctx.test)))


def enabled() -> bool:
    """Off with READINESS_WORKERS=1 (or on a single core)."""
    return os.environ.get("READINESS_WORKERS", "") != "1" and (os.cpu_count() or 1) > 1


def prestart() -> None:
    """Start the second process now (it imports the checks while the caller loads the data)."""
    global _prestarted
    if not enabled():
        return
    with _lock:
        if _prestarted is None or _prestarted.poll() is not None:
            _prestarted = _spawn()


def _spawn() -> subprocess.Popen | None:
    import readiness

    # the same readiness as the caller's (not another install on the path)
    root = str(Path(readiness.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "readiness.parallel"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None
    atexit.register(_stop, proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def take() -> subprocess.Popen | None:
    """The prestarted process if any, else a new one (the caller owns it)."""
    global _prestarted
    with _lock:
        proc, _prestarted = _prestarted, None
    if proc is not None and proc.poll() is None:
        return proc
    return _spawn()


def discard_prestarted() -> None:
    """Stop a prestarted process that will not be used."""
    global _prestarted
    with _lock:
        proc, _prestarted = _prestarted, None
    if proc is not None:
        _stop(proc)


def _send(stream, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


class Lane:
    """The checks running in the second process; results arrive in the background."""

    def __init__(self, proc: subprocess.Popen, ids: list[str]):
        self.proc, self.ids = proc, ids
        self.results: dict[str, object] = {}
        self.failed = False
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, ctx, ids: Iterable[str]) -> Lane | None:
        """Send the context and the check ids; None when that is not possible (run them here).

        The pickle is written straight into the pipe as it is made, so neither process holds a
        second, serialised copy of the tables."""
        import warnings

        ids = list(ids)
        proc = take()
        if proc is None:
            return None
        try:
            # the caller's warning filters too: a check that records warnings sees the same ones
            pickle.dump((ctx, ids, list(warnings.filters)), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.close()
        except Exception:  # e.g. a model object that does not pickle (the child sees a cut stream
            _stop(proc)   # and stops): the caller runs everything
            return None
        return cls(proc, ids)

    def _read(self) -> None:
        out = self.proc.stdout
        try:
            if out.readline() != _READY:
                raise EOFError
            for _ in self.ids:
                data = _recv(out)
                if data is None:
                    raise EOFError
                result = pickle.loads(data)  # our own child's answer
                with self._cond:
                    self.results[result.id] = result
                    self._cond.notify_all()
        except Exception:
            with self._cond:
                self.failed = True
                self._cond.notify_all()
        finally:
            _stop(self.proc)

    def ready(self, check_id: str) -> bool:
        with self._cond:
            return check_id in self.results

    def wait(self, check_id: str):
        """The check's result, or None when the process failed before it (run it here then)."""
        with self._cond:
            while check_id not in self.results and not self.failed:
                self._cond.wait()
            return self.results.get(check_id)

    def close(self) -> None:
        _stop(self.proc)


def _serve() -> None:
    """The child: import the checks, say ready, read (context, ids), answer one result per check."""
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a check prints may corrupt the answers
    import warnings

    from readiness.registry import registered_checks
    from readiness.review import run_check

    specs = {s.id: s for s in registered_checks()}  # imports every check module
    stdout.write(_READY)
    stdout.flush()
    try:
        ctx, ids, filters = pickle.load(sys.stdin.buffer)  # from the trusted parent, as it streams in
    except Exception:  # a cut stream: the parent could not pickle the context and runs the checks
        return
    warnings.filters[:] = filters
    getattr(warnings, "_filters_mutated", lambda: None)()
    for check_id in ids:
        _send(stdout, pickle.dumps(run_check(specs[check_id], ctx), protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _serve()
