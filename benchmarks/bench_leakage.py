"""Time the leakage checks (and the holdout reuse budget) on a generated table.

    python benchmarks/bench_leakage.py            # 100,000 rows (80k training / 20k holdout)
    python benchmarks/bench_leakage.py --rows 200000

The table has 16 numeric and 4 categorical features, a time column (shuffled split, so the
temporal check has work to do), an ID column, 1% of holdout rows copied from training,
SMOTE-like points across the split, and a model pipeline whose scaler was fit on all rows,
so every check runs its full path. This is a script, not a timed test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

CHECKS = ["leakage.feature_target", "leakage.train_test_overlap", "leakage.temporal", "leakage.oversampling",
          "leakage.preprocessing", "evaluation.holdout_reuse"]


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    num = [f"n{i}" for i in range(16)]
    cat = [f"c{i}" for i in range(4)]
    X = rng.normal(size=(n, len(num)))
    logit = X[:, 0] + 0.5 * X[:, 1] - 0.5 * X[:, 2] - 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(X, columns=num)
    for i, c in enumerate(cat):
        df[c] = rng.choice([f"v{j}" for j in range(3 + 5 * i)], n)
    df["n15"] = np.where(y == 1, rng.poisson(2, n) + 1, 0) * (rng.random(n) < 0.6)  # post-outcome column
    df["when"] = (pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")).strftime("%Y-%m-%d")
    df["uid"] = [f"U{i:07d}" for i in range(n)]
    df["y"] = y
    n_train = int(0.8 * n)
    tr, te = df.iloc[:n_train].copy(), df.iloc[n_train:].copy()
    copies = tr.sample(int(0.01 * len(te)), random_state=1)
    # SMOTE-like points: a training positive, one of its 5 nearest positive neighbours, a point between
    from sklearn.neighbors import NearestNeighbors

    pos = tr[tr["y"] == 1]
    P = pos[num].to_numpy()
    pick = rng.choice(len(P), 200, replace=False)
    _, nb = NearestNeighbors(n_neighbors=6).fit(P).kneighbors(P[pick])
    a, b = P[pick], P[nb[np.arange(200), rng.integers(1, 6, 200)]]
    lam = rng.uniform(0.0, 1.0, (200, 1))
    synth = pos.iloc[pick].copy()
    synth[num] = a + lam * (b - a)
    synth["uid"] = [f"S{i:07d}" for i in range(200)]
    te = pd.concat([te, copies, synth], ignore_index=True)
    return tr.reset_index(drop=True), te, num, cat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    from helpers import make_ctx
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from readiness.registry import get_check
    from readiness.review import run_check

    t0 = time.perf_counter()
    tr, te, num, cat = make_data(args.rows)
    feats = num + cat
    ct = ColumnTransformer([("scale", StandardScaler(), num),
                            ("onehot", OneHotEncoder(handle_unknown="ignore"), cat)])
    ct.fit(pd.concat([tr, te])[feats])  # the planted mistake: preprocessing fit on all rows
    clf = LogisticRegression(max_iter=300).fit(ct.transform(tr[feats]), tr["y"])
    model = Pipeline([("prepare", ct), ("classifier", clf)])
    ctx = make_ctx(tr, te, target="y", model=model, time_column="when", id_column="uid")
    ctx.prior_holdout_evaluations = 3
    _ = ctx.test_scores
    print(f"data + model + context: {time.perf_counter() - t0:.1f} s "
          f"({len(tr):,} training / {len(te):,} holdout rows, {len(feats)} features)")
    total = 0.0
    for cid in CHECKS:
        start = time.perf_counter()
        res = run_check(get_check(cid), ctx)
        dt = time.perf_counter() - start
        total += dt
        m = res.metrics
        extra = {
            "leakage.feature_target": lambda: f"sample {m['sample_rows']:,} rows; flagged {m['suspicious_columns'] + m['leaking_columns']}",
            "leakage.train_test_overlap": lambda: f"overlap {m['overlap_test_rows']:,}, shared IDs {m['shared_ids']:,}",
            "leakage.temporal": lambda: f"{m['holdout_rows_before_train_end']:,} holdout rows before training ends",
            "leakage.oversampling": lambda: f"{m['points_checked']:,} points checked; {m['synthetic_cross_split']} interpolated across",
            "leakage.preprocessing": lambda: f"fit on holdout: {len(m['fit_on_holdout_columns'])} columns",
            "evaluation.holdout_reuse": lambda: f"budget {m['budget_fixed']} / {m['budget_steered']}",
        }[cid]()
        print(f"{cid:30s} {dt:6.2f} s  {res.status.value:5s}  {extra}")
    print(f"{'total':30s} {total:6.2f} s")


if __name__ == "__main__":
    main()
