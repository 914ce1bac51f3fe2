"""The null zoo for group checks on yes/no models (issue 18): how often ``bias.groups`` and the
per-group part of ``calibration`` cry wolf when no group is treated differently.

    python benchmarks/null_zoo_groups.py              # 200 honest sets
    python benchmarks/null_zoo_groups.py --sets 50 --model

Each honest set: 300 to 20,000 rows (log-uniform), 1 to 6 Gaussian features, the outcome drawn
from a logistic model of them with a random intercept (base rates about 5% to 60%), and a
sensitive attribute of 2–4 groups (Dirichlet shares) drawn independently of everything. Random
split in halves. The review's score is the true probability (a prediction column), or with
``--model`` a logistic regression fitted on the training half (the right family). The
favourable outcome is 0, as in credit (a positive prediction is adverse). No group is treated
differently, so every warn or fail is a false alarm. Results: docs/false-alarms.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import make_ctx  # noqa: E402

from readiness.inputs import Settings  # noqa: E402
from readiness.registry import get_check  # noqa: E402
from readiness.review import run_check  # noqa: E402

CHECKS = ("bias.groups", "calibration")


def honest_set(i: int, *, model: bool = False):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(9000 + i)
    n = int(np.exp(rng.uniform(np.log(300), np.log(20000))))
    d = int(rng.integers(1, 7))
    k = int(rng.integers(2, 5))
    x = rng.normal(size=(n, d))
    z = x @ rng.normal(scale=1.0, size=d) + rng.uniform(-3.0, 0.5)
    p = 1 / (1 + np.exp(-z))
    y = (rng.random(n) < p).astype(int)
    grp = rng.choice([f"g{j}" for j in range(k)], size=n, p=rng.dirichlet(np.ones(k) * 3))
    cols = [f"x{j}" for j in range(d)]
    f = pd.DataFrame(x, columns=cols).assign(grp=grp, y=y, score=p)
    half = n // 2
    train, test = f.iloc[:half].reset_index(drop=True), f.iloc[half:].reset_index(drop=True)
    settings = Settings(bootstrap=100)
    roles = dict(sensitive=["grp"], positive_label=1, favorable_label=0)
    if model:
        fitted = LogisticRegression(max_iter=2000).fit(train[cols], train["y"])
        ctx = make_ctx(train.drop(columns="score"), test.drop(columns="score"), target="y", model=fitted,
                       settings=settings, **roles)
    else:
        ctx = make_ctx(train, test, target="y", prediction_column="score", settings=settings, **roles)
    return n, d, k, float(y.mean()), ctx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=200)
    ap.add_argument("--model", action="store_true", help="a logistic regression fitted on the training half")
    ap.add_argument("--check", action="append", help="run only this check (repeat)")
    a = ap.parse_args()
    checks = tuple(a.check or CHECKS)
    rows = []
    start = time.perf_counter()
    for i in range(a.sets):
        n, d, k, rate, ctx = honest_set(i, model=a.model)
        row = {"n": n, "features": d, "groups": k, "rate": rate}
        for ch in checks:
            res = run_check(get_check(ch), ctx)
            row[ch] = res.status.value
            row[f"{ch} why"] = " | ".join(sorted({" ".join(f.message.split()[:6]) for f in res.findings
                                                  if f.severity in ("warn", "fail")}))
        rows.append(row)
    df = pd.DataFrame(rows)
    print(f"{a.sets} honest yes/no sets with an independent sensitive attribute, {df['n'].min():,}–{df['n'].max():,} "
          f"rows, base rate {df['rate'].min():.0%}–{df['rate'].max():.0%}, "
          f"{'fitted logistic regression' if a.model else 'true probabilities'}, {time.perf_counter() - start:.0f} s")
    print("| check | honest sets | fail | warn |\n|---|---|---|---|")
    for ch in checks:
        f, w = int((df[ch] == "fail").sum()), int((df[ch] == "warn").sum())
        print(f"| `{ch}` | {a.sets} | {100 * f / a.sets:.1f}% ({f}/{a.sets}) | {100 * w / a.sets:.1f}% ({w}/{a.sets}) |")
    for ch in checks:
        bad = df[df[ch].isin(["warn", "fail"])]
        if len(bad):
            print(f"{ch}: " + "; ".join(f"n={r['n']} k={r['groups']} {r[ch]}" for _, r in bad.iterrows()))
            for why, count in bad[f"{ch} why"].str.split(" \\| ").explode().value_counts().items():
                print(f"    {count:3d} × {why} …")


if __name__ == "__main__":
    main()
