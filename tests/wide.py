"""A wide table (thousands of columns) and a child-process run of the CLI with its peak memory.

Shared by tests/test_wide_memory.py and benchmarks/bench_wide.py (issue 9, item 7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def write_wide(folder: Path, *, columns: int, rows: int, seed: int = 0) -> dict:
    """train.csv / test.csv (half the rows each), model.skops (logistic regression on every
    column) and a ``p_true`` column in the holdout with the true probability."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, columns)).astype(np.float32)
    logit = X[:, :5] @ np.array([1.0, -0.8, 0.6, 0.5, -0.4])
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(rows) < p).astype(int)
    names = [f"f{i}" for i in range(columns)]
    frame = pd.DataFrame(X, columns=names)
    frame["y"] = y
    n_train = rows // 2
    train, test = frame.iloc[:n_train], frame.iloc[n_train:].copy()
    model = LogisticRegression(max_iter=300).fit(train[names], train["y"])
    test_pred = test.copy()
    test_pred["p_true"] = p[n_train:]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"train": folder / "train.csv", "test": folder / "test.csv", "test_pred": folder / "test_pred.csv",
             "model": folder / "model.skops", "folder": folder}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    test_pred.to_csv(paths["test_pred"], index=False)
    sio.dump(model, paths["model"])
    return paths


def run_cli(paths: dict, *, mode: str = "model", checks: list[str] | None = None, preexec=None,
            timeout: float | None = None) -> dict:
    """``readiness review`` in a child process: exit code, seconds, CPU seconds (``cpu_s``: user + system, the
    measure that survives a busy machine), peak RSS (MiB), JSON path.

    With ``timeout`` the child is killed after that many seconds (exit ``"timeout"``); its
    peak RSS up to then is still reported."""
    out = paths["folder"] / f"review-{mode}.json"
    peak = paths["folder"] / f"peak-{mode}.json"
    peak.unlink(missing_ok=True)
    args = [sys.executable, str(ROOT / "tests" / "peak_rss.py"), str(peak), "readiness.cli", "review", "--train", str(paths["train"]), "--target", "y",
            "--json", str(out), "--quiet"]
    if mode == "model":
        args += ["--test", str(paths["test"]), "--model", str(paths["model"])]
    else:
        args += ["--test", str(paths["test_pred"]), "--prediction-column", "p_true"]
    for c in checks or []:
        args += ["--check", c]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec)
    timer = None
    if timeout:
        import threading
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    timed_out = False
    if timer is not None:
        timed_out = not timer.is_alive() and proc.returncode < 0
        timer.cancel()
    # the child's own peak (tests/peak_rss.py); ru_maxrss carries this process's size over fork and exec, so it
    # is only the fallback when the child was killed before it could report (an upper bound then)
    own = json.loads(peak.read_text()) if peak.exists() else None
    rss_kib = max(own["vmhwm_kib"], own["children_maxrss_kib"]) if own else usage.ru_maxrss
    return {"exit": "timeout" if timed_out else proc.returncode, "seconds": time.perf_counter() - t0, "max_rss_mib": rss_kib / 1024,
            "rss_measured": "own peak" if own else "ru_maxrss (includes the parent's size)",
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "json": out, "stderr": stderr}
