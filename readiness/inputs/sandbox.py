"""Run work on an untrusted model file in a child process with memory and time limits.

A crafted model file can crash compiled code (a segmentation fault cannot be caught in
Python) or exhaust memory. So the first load and the first scoring of a model file run
in a throw-away child process: if it crashes, runs out of memory or time, the child dies
and the caller gets a :class:`SandboxFailure` it turns into a one-line
:class:`readiness.errors.ModelError`; the CLI, the Streamlit server and the rest of the
review go on.

How: a small *fork server* (``python -m readiness.inputs.sandbox``) is started once per
calling process, imports NumPy, pandas, scikit-learn and skops, and then forks one fresh
child per request. Forking from this clean, single-threaded server (rather than from
the caller, which may run threads and OpenMP pools, e.g. the Streamlit server) is what
makes forking safe, and it makes a request cost a fork instead of an interpreter start.
Each child sets ``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` and no core dumps, and the server
kills it at the wall-clock deadline.

The child is not a security boundary for code that *runs* (a trusted pickle runs its
code in the child and again in the caller): it contains crashes and resource use. Its
answer is JSON, never a pickle, so a misbehaving child can at worst make the caller
refuse a model, never hand it an object. Requests (from the trusted caller to the
server) are pickles.

Limits come from the environment (documented in docs/models.md):
``READINESS_MODEL_MEMORY_MB`` (default 2048: address space the child may add) and
``READINESS_MODEL_TIMEOUT_S`` (default 120).
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

DEFAULT_MEMORY_MB = 2048
DEFAULT_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 300.0  # the server imports scikit-learn once; slow on a busy machine
MAX_ANSWER_BYTES = 1 << 20
_HEADER = struct.Struct("<Q")
_READY = b"ready"
# modules the server imports once so that every forked child starts warm
_PRELOAD = (
    "numpy", "pandas", "scipy.sparse", "joblib", "skops.io", "sklearn.pipeline", "sklearn.compose",
    "sklearn.preprocessing", "sklearn.impute", "sklearn.linear_model", "sklearn.tree", "sklearn.ensemble",
    "sklearn.neighbors", "sklearn.svm", "sklearn.calibration", "sklearn.neural_network",
    "readiness.inputs.models",
)


class SandboxFailure(Exception):
    """The isolated child did not return an answer: ``kind`` is crash | memory | timeout | unavailable."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls) -> Limits:
        return cls(memory_mb=_env_number("READINESS_MODEL_MEMORY_MB", DEFAULT_MEMORY_MB, int),
                   timeout_s=_env_number("READINESS_MODEL_TIMEOUT_S", DEFAULT_TIMEOUT_S, float))


def _env_number(name: str, default, kind):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        return default
    return value if value > 0 else default


# --- caller side ---------------------------------------------------------------------------


class _Server:
    """The fork server of this process (started lazily, shared by threads, one request at a time)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.ready = False
        self.pid = os.getpid()

    def start(self) -> None:
        if self.pid != os.getpid():  # we are a fork of the process that started it: not ours
            self.proc, self.ready, self.pid = None, False, os.getpid()
        if self.proc is not None and self.proc.poll() is None:
            return
        env = dict(os.environ)
        # one thread per child: small, predictable memory, and no thread pools across fork
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        # the caller's import path: a trusted pickle may name classes from the caller's own project
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in [_package_root(), *sys.path] if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "readiness.inputs.sandbox"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True, env=env)
        self.ready = False

    def stop(self) -> None:
        proc, self.proc, self.ready = self.proc, None, False
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=2)
        except Exception:
            proc.kill()
            proc.wait()

    def request(self, meta: dict, payload: bytes, timeout_s: float) -> dict:
        with self.lock:
            for attempt in (1, 2):  # a server that died since the last request is restarted once
                self.start()
                try:
                    if not self.ready:
                        if _read_frame(self.proc.stdout, STARTUP_TIMEOUT_S) != _READY:
                            raise SandboxFailure("unavailable", "the isolation server did not start")
                        self.ready = True
                    _write_frame(self.proc.stdin, json.dumps(meta).encode())
                    _write_frame(self.proc.stdin, payload)
                    answer = _read_frame(self.proc.stdout, timeout_s + 30)
                except (OSError, EOFError, SandboxFailure) as exc:
                    self.stop()
                    if attempt == 2:
                        raise SandboxFailure("unavailable", f"the isolation server failed ({exc})") from None
                    continue
                return json.loads(answer)
        raise AssertionError("unreachable")


_SERVER = _Server()
atexit.register(_SERVER.stop)


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def prestart() -> None:
    """Start the fork server in the background (it imports scikit-learn once), without waiting."""
    if not hasattr(os, "fork") or not _SERVER.lock.acquire(blocking=False):
        return  # busy with a request: it is running already
    try:
        _SERVER.start()
    except OSError:
        pass  # the request itself reports the problem
    finally:
        _SERVER.lock.release()


def run_isolated(func: str, payload: dict, *, limits: Limits | None = None) -> dict:
    """Call ``module:function(**payload)`` in a fresh child process; return its JSON answer.

    The answer is ``{"ok": True, "result": ...}`` or ``{"ok": False, "error": class name,
    "message": ...}`` for an exception the function raised. A crash, exhausted memory or
    time, or an unusable server raise :class:`SandboxFailure`.
    """
    limits = limits or Limits.from_env()
    if not hasattr(os, "fork"):  # no fork (Windows): validation still protects; no isolation
        return _call(func, pickle.dumps(payload))
    meta = {"func": func, "memory_mb": limits.memory_mb, "timeout_s": limits.timeout_s}
    answer = _SERVER.request(meta, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL), limits.timeout_s)
    status = answer.get("status")
    if status == "ok":
        return answer["answer"]
    raise SandboxFailure(str(status), str(answer.get("detail", ""))[:300])


# --- the fork server ------------------------------------------------------------------------


def _write_frame(stream, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream, n: int, deadline: float) -> bytes:
    fd = stream.fileno()
    chunks, left = [], n
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], None if wait == float("inf") else wait)[0]:
            raise SandboxFailure("unavailable", "no answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream, timeout_s: float) -> bytes:
    deadline = time.monotonic() + timeout_s
    (n,) = _HEADER.unpack(_read_exact(stream, _HEADER.size, deadline))
    return _read_exact(stream, n, deadline)


def _serve() -> None:
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # stray prints can never corrupt the protocol
    import warnings

    warnings.simplefilter("ignore")
    for name in _PRELOAD:
        try:
            __import__(name)
        except Exception:
            pass
    _write_frame(proto_out, _READY)
    while True:
        try:
            meta = json.loads(_read_frame(proto_in, float("inf")))
            payload = _read_frame(proto_in, float("inf"))
        except (EOFError, OSError, ValueError, SandboxFailure):
            return  # the caller went away
        _write_frame(proto_out, json.dumps(_run_child(meta, payload, (proto_in, proto_out, devnull))).encode())


def _run_child(meta: dict, payload: bytes, close: tuple) -> dict:
    """Fork a child for one request (the server itself never unpickles the payload)."""
    timeout_s = float(meta["timeout_s"])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(r)
            for f in close[:2]:
                f.close()
            os.dup2(close[2], 2)
            _child(meta, payload, w)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + timeout_s
    chunks, size, killed = [], 0, None
    try:
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                killed = "timeout"
                break
            if not select.select([r], [], [], wait)[0]:
                continue
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                killed = "crash"
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        if killed:
            _kill(pid)
    _, status = os.waitpid(pid, 0)
    if killed == "timeout":
        return {"status": "timeout", "detail": f"no answer within {timeout_s:g} s"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "detail": f"used more than {timeout_s:g} s of CPU"}
        if sig == signal.SIGKILL:
            return {"status": "memory", "detail": "killed (out of memory)"}
        return {"status": "crash", "detail": f"signal {signal.Signals(sig).name}"}
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        return {"status": "crash", "detail": f"exit status {os.WEXITSTATUS(status)} without an answer"}
    if answer.get("error") == "MemoryError":
        return {"status": "memory", "detail": "out of memory"}
    return {"status": "ok", "answer": answer}


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _address_space_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _apply_limits(memory_mb: int, timeout_s: float) -> None:
    import resource

    cpu = int(timeout_s) + 1
    wanted = [(resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_CPU, cpu, cpu + 5)]
    current = _address_space_bytes()
    if current:  # Linux; elsewhere RLIMIT_AS is not enforced and the wall-clock limit remains
        limit = current + memory_mb * (1 << 20)
        wanted.append((resource.RLIMIT_AS, limit, limit))
    for which, soft, hard in wanted:
        old_hard = resource.getrlimit(which)[1]
        if old_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


def _call(func: str, payload: bytes) -> dict:
    """Run ``module:function`` on the unpickled payload; the answer as plain JSON data."""
    try:
        import importlib

        module, _, name = func.partition(":")
        kwargs = pickle.loads(payload)  # noqa: S301 - the trusted caller's own request
        result = getattr(importlib.import_module(module), name)(**kwargs)
        return {"ok": True, "result": result}
    except MemoryError:
        return {"ok": False, "error": "MemoryError", "message": "out of memory"}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__, "message": " ".join(str(exc).split())[:1000]}


def _child(meta: dict, payload: bytes, w: int) -> None:
    _apply_limits(int(meta["memory_mb"]), float(meta["timeout_s"]))
    data = json.dumps(_call(meta["func"], payload), default=str).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(w, view):]
    os.close(w)


if __name__ == "__main__":
    _serve()
