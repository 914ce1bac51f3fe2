"""Start the real app (``streamlit run app.py``) for browser tests; shared by the e2e modules."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `streamlit run` with every thread's stack written to the log on SIGUSR1: when a browser test times
# out, the log says where the server was (CI keeps no server log otherwise)
_LAUNCH = ("import faulthandler, runpy, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
           "sys.argv = ['streamlit', *sys.argv[1:]]; runpy.run_module('streamlit', run_name='__main__')")


def dump_server(proc: subprocess.Popen, log: Path, why: str) -> None:
    """Write the server's thread stacks into its log and print the log's end to stderr (shown by pytest)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
    with contextlib.suppress(OSError):
        print(f"--- streamlit server ({why}); end of its log {log}:\n{log.read_text(errors='replace')[-12000:]}",
              file=sys.stderr)


@contextlib.contextmanager
def streamlit_app(port: int, *, env: dict | None = None, args: tuple[str, ...] = (), log: Path | None = None,
                  host: str = "localhost", failed=lambda: False):
    """Yield the base URL of a fresh `streamlit run app.py` once it answers its health check.

    On the way out, when ``failed()`` says a test failed or the server does not stop within 20 s, the
    server's thread stacks and the end of its log go to stderr before it is killed."""
    log = log or Path(tempfile.mkdtemp(prefix="readiness-e2e-")) / "streamlit.log"
    out = log.open("w")
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, "run", str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.port", str(port), "--server.fileWatcherType", "none",
                             "--browser.gatherUsageStats", "false", *args],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://{host}:{port}"
    try:
        deadline = time.time() + 120
        while not _healthy(url):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if failed():
            dump_server(proc, log, "a test failed")
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            dump_server(proc, log, "did not stop within 20 s of SIGTERM")
            proc.kill()
            proc.wait()
        out.close()


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False
