"""The null zoo on real public data (issue 18): how often each check fails or warns when real
data sets, split at random, are reviewed with a sensible model fitted on the training rows.

    python benchmarks/null_zoo_real.py                          # every set, 5 seeds
    python benchmarks/null_zoo_real.py --sets breast_cancer wine --seeds 2
    python benchmarks/null_zoo_real.py --from-csv               # re-tally the saved rows

The sets, their loaders and the model: tests/zoo_real.py (nothing is downloaded). Each set is
split at random (stratified by class for classification) into 70% training and 30% holdout rows
with several seeds; a scikit-learn pipeline is fitted on the training rows, saved as .skops and
reviewed by the whole review through the same path as the CLI (``prepare_review`` with the CSV
and model bytes, then ``run_review``). An alarm on real data may be a true finding;
docs/false-alarms.md ("Real public data") says, per alarm, whether it is true or a false alarm
and why. Raw rows: benchmarks/null_zoo_real_results.csv.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import zoo  # noqa: E402
import zoo_real as Z  # noqa: E402


def markdown(rows: list[dict]) -> str:
    """Per set and check with any alarm: splits reviewed, fails, warnings."""
    df = pd.DataFrame(rows)
    out = ["| data set | splits | check | fail | warn |", "|---|---|---|---|---|"]
    for name, part in df.groupby("set", sort=False):
        t = zoo.tally(part.to_dict("records"))
        for _, r in t[(t["fail"] + t["warn"]) > 0].iterrows():
            out.append(f"| {name} | {part['seed'].nunique()} | `{r['check']}` | {int(r['fail'])} | {int(r['warn'])} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", choices=list(Z.SETS), default=list(Z.SETS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--checks", nargs="+", metavar="ID", help="run these checks only")
    ap.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "null_zoo_real_results.csv")
    ap.add_argument("--from-csv", action="store_true", help="re-tally the rows saved in --csv (no re-run)")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    if a.from_csv:
        rows = pd.read_csv(a.csv).to_dict("records")
    else:
        rows = []
        for name in a.sets:
            for seed in range(a.seeds):
                t = time.perf_counter()
                got = Z.review(Z.SETS[name], seed, a.checks)
                rows += got
                alarms = [f"{r['check']}={r['status']}" for r in got if r["status"] in ("fail", "warn")]
                print(f"{name} seed {seed}: {time.perf_counter() - t:.0f} s; {', '.join(alarms) or 'no alarm'}",
                      flush=True)
        pd.DataFrame(rows).to_csv(a.csv, index=False)
    print(markdown(rows))


if __name__ == "__main__":
    main()
