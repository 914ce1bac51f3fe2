"""data_quality.labels on honest data sets (no wrong label at all): the estimate against the true Bayes error.

    python benchmarks/labels_zoo.py [--sets 12]

Each set comes from tests/zoo.py, whose labels are drawn from known probabilities p, so its
Bayes error E[min(p, 1 − p)] is known and no label is wrong. Confident learning cannot tell
a wrong label from a case ambiguous by nature: the estimate tracks (and can exceed) the Bayes
error, which is why the check reports and never judges (docs/checks.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import zoo  # noqa: E402
from helpers import make_ctx  # noqa: E402

from readiness.registry import get_check  # noqa: E402
from readiness.review import run_check  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=12)
    ap.add_argument("--max-rows", type=int, default=20_000)
    a = ap.parse_args()
    print("| rows | features | columns | positive share | true Bayes error | estimate (95%) | status | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    start = time.time()
    for spec in zoo.specs(a.sets, seed=0, max_rows=a.max_rows):
        train, test, _ = zoo.make_set(spec)
        p = test["p_true"].to_numpy()
        bayes = float(np.mean(np.minimum(p, 1 - p)))
        res = run_check(get_check("data_quality.labels"), make_ctx(train, test.drop(columns="p_true"), target="y"))
        m = res.metrics
        lo, hi = m["label_error_rate_ci"]
        print(f"| {spec.rows:,} | {spec.features} | {spec.mix} | {spec.positive_share:.0%} | {bayes:.1%} | "
              f"{m['label_error_rate']:.1%} ({lo:.1%}–{hi:.1%}) | {res.status} | {res.duration_s:.1f} |", flush=True)
    print(f"\n{time.time() - start:.0f} s in all")


if __name__ == "__main__":
    main()
