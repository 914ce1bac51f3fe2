"""Memory and time of a review with many columns (issue 9, item 7).

    python benchmarks/bench_wide.py                         # 5,000 columns x 2,000 rows, whole CLI
    python benchmarks/bench_wide.py --columns 1000 --per-check
    python benchmarks/bench_wide.py --limit-gib 2           # under an address-space limit of 2 GiB

Writes a generated table (Gaussian features, a target that depends on the first five, a
logistic-regression model as .skops and a prediction column holding the true probability)
to a temporary folder and runs ``readiness review`` in a child process, reporting its wall
time and peak resident memory (``ru_maxrss`` of the child). ``--per-check`` runs every check
in its own child process (``--check ID``) so the one that needs the memory is easy to spot.
A script, not a timed test; tests/test_wide_memory.py asserts the memory bound.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from wide import run_cli, write_wide  # noqa: E402


def _limit(gib: float | None):
    if not gib:
        return None
    limit = int(gib * 2**30)

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--columns", type=int, default=5_000)
    ap.add_argument("--rows", type=int, default=2_000)
    ap.add_argument("--mode", choices=["model", "prediction", "both"], default="both")
    ap.add_argument("--per-check", action="store_true", help="one child process per check")
    ap.add_argument("--limit-gib", type=float, help="RLIMIT_AS of the child process")
    ap.add_argument("--timeout", type=float, help="kill a child after this many seconds (peak RSS still shown)")
    ap.add_argument("--only", nargs="*", help="with --per-check: these check ids only")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_wide(Path(tmp), columns=a.columns, rows=a.rows)
        modes = ["model", "prediction"] if a.mode == "both" else [a.mode]
        for mode in modes:
            print(f"\n{a.columns:,} columns x {a.rows:,} rows, {mode}:")
            if a.per_check:
                ids = subprocess.run([sys.executable, "-m", "readiness.cli", "checks"], capture_output=True,
                                     text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
                ids = [line.split()[0] for line in ids.splitlines() if line.strip()]
                for cid in a.only or ids:
                    r = run_cli(paths, mode=mode, checks=[cid], preexec=_limit(a.limit_gib), timeout=a.timeout)
                    print(f"  {r['seconds']:7.1f} s wall  {r['cpu_s']:7.1f} s CPU  {r['max_rss_mib']:7.0f} MiB  exit {r['exit']}  {cid}",
                          flush=True)
            else:
                r = run_cli(paths, mode=mode, preexec=_limit(a.limit_gib), timeout=a.timeout)
                print(f"  whole review: {r['seconds']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak RSS {r['max_rss_mib']:.0f} MiB, "
                      f"exit {r['exit']}", flush=True)
                if r["exit"] == 0:
                    rep = json.loads(Path(r["json"]).read_text())
                    slow = sorted(rep["checks"], key=lambda c: -(c.get("duration_s") or 0))[:6]
                    for c in slow:
                        print(f"    {c.get('duration_s') or 0:7.1f} s  {c['status']:<8} {c['id']}")
                else:
                    print(r["stderr"][-2000:])


if __name__ == "__main__":
    main()
