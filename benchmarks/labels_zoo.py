"""data_quality.labels on honest data (no wrong label at all), and on planted wrong labels.

    python benchmarks/labels_zoo.py [--sets 12] [--real-seeds 3] [--skip-real]

Honest synthetic sets come from tests/zoo.py, whose labels are drawn from known probabilities p, so
their Bayes error E[min(p, 1 − p)] is known and no label is wrong; the real sets are tests/zoo_real.py's
classification sets (scikit-learn's breast cancer, wine, iris, digits; COMPAS; the credit sample) split
at random. Confident learning cannot tell a wrong label from a case ambiguous by nature, so the estimated
share tracks (and can exceed) the Bayes error and is never judged; what is judged is the training labels'
shortfall against the holdout labels judged alike (docs/checks.md). Each honest row should pass; the planted
rows (a share of the training labels of a zoo set flipped, the holdout left as it is) should not.
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


def row(label: str, res, extra: str = "") -> str:
    m = res.metrics
    lo, hi = m["label_error_rate_ci"]
    d = m.get("shortfall_gap")
    exc = "—" if d is None else (f"{100 * d:+.1f} ({100 * m['shortfall_gap_ci'][0]:+.1f} to "
                                 f"{100 * m['shortfall_gap_ci'][1]:+.1f})")
    return (f"| {label} | {extra} | {m['label_error_rate']:.1%} ({lo:.1%}–{hi:.1%}) | {exc} | {res.status} | "
            f"{res.duration_s:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=12)
    ap.add_argument("--max-rows", type=int, default=20_000)
    ap.add_argument("--real-seeds", type=int, default=3)
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--flip", type=float, default=0.10, help="share of training labels flipped in the planted rows")
    a = ap.parse_args()
    print("| set | true Bayes error / planted | estimate (95%) | shortfall gap, training − holdout, points (95%) | status "
          "| seconds |")
    print("|---|---|---|---|---|---|")
    start = time.time()
    statuses = {"honest": [], "planted": []}
    for spec in zoo.specs(a.sets, seed=0, max_rows=a.max_rows):
        train, test, _ = zoo.make_set(spec)
        p = test["p_true"].to_numpy()
        bayes = float(np.mean(np.minimum(p, 1 - p)))
        label = f"zoo {spec.rows:,} rows, {spec.features} features ({spec.mix}), {spec.positive_share:.0%} positive"
        res = run_check(get_check("data_quality.labels"), make_ctx(train, test.drop(columns="p_true"), target="y"))
        statuses["honest"].append(res.status.value)
        print(row(label, res, f"{bayes:.1%}"), flush=True)
        rng = np.random.default_rng(spec.rows)
        noisy = train.copy()
        flip = rng.random(len(noisy)) < a.flip
        noisy.loc[flip, "y"] = 1 - noisy.loc[flip, "y"]
        res = run_check(get_check("data_quality.labels"), make_ctx(noisy, test.drop(columns="p_true"), target="y"))
        statuses["planted"].append(res.status.value)
        print(row(label, res, f"{bayes:.1%} + {flip.mean():.1%} flipped"), flush=True)
    if not a.skip_real:
        import zoo_real

        for rs in zoo_real.SETS.values():
            if rs.task == "regression":
                continue
            for seed in range(a.real_seeds):
                ctx = zoo_real.context(rs, seed)
                res = run_check(get_check("data_quality.labels"), ctx)
                statuses["honest"].append(res.status.value)
                print(row(f"{rs.name} (split {seed})", res, "real"), flush=True)
    for kind, got in statuses.items():
        print(f"\n{kind}: " + ", ".join(f"{s} {got.count(s)}" for s in ("pass", "warn", "fail", "skipped", "error")
                                         if got.count(s)) + f" of {len(got)}")
    print(f"\n{time.time() - start:.0f} s in all")


if __name__ == "__main__":
    main()
