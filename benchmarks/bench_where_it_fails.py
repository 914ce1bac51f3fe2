"""Time the four "Where it fails" checks (issue 19) on UCI Adult-sized data.

    python benchmarks/bench_where_it_fails.py [--repeats 3]

A generated twin of UCI Adult's shape: 32,561 training and 16,281 holdout rows, six numeric
and eight categorical columns with Adult's cardinalities (native country 42 values), about
24% positives, a HistGradientBoosting pipeline (one-hot categories), sensitive attributes
``sex`` and ``race`` (both model inputs). The holdout is scored once when the context is
built, as in a review; the checks read those scores. Prints each check's wall time and
process CPU time (median over repeats) and their sum: the time the four add to a review.
A script, not a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHECKS = ["segments.weak", "drift.multivariate", "robustness.perturbation", "model.serving"]
CATEGORIES = {"workclass": 9, "education": 16, "marital_status": 7, "occupation": 15, "relationship": 6, "race": 5,
              "sex": 2, "native_country": 42}


def adult_twin(seed: int = 0, n_train: int = 32_561, n_test: int = 16_281) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    cols = {"age": rng.integers(17, 91, n), "fnlwgt": np.round(rng.lognormal(12, 0.5, n)),
            "education_num": rng.integers(1, 17, n),
            "capital_gain": np.where(rng.random(n) < 0.08, np.round(rng.lognormal(8, 1.2, n)), 0),
            "capital_loss": np.where(rng.random(n) < 0.05, np.round(rng.lognormal(7.4, 0.3, n)), 0),
            "hours_per_week": np.clip(np.round(rng.normal(40, 12, n)), 1, 99)}
    logit = -1.8 + 0.04 * (cols["age"] - 38) + 0.3 * (cols["education_num"] - 10) + 0.0002 * cols["capital_gain"] \
        + 0.03 * (cols["hours_per_week"] - 40)
    for name, k in CATEGORIES.items():
        probs = rng.dirichlet(np.ones(k) * (0.6 if k > 10 else 2))
        codes = rng.choice(k, n, p=probs)
        cols[name] = np.array([f"{name[:3]}_{j}" for j in range(k)])[codes]
        logit = logit + rng.normal(0, 0.5, k)[codes]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(cols).assign(income_over_50k=y)
    return frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)


def model_for(train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = list(CATEGORIES)
    nums = [c for c in train.columns if c not in cats and c != "income_over_50k"]
    pre = ColumnTransformer([("num", "passthrough", nums),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cats)])
    model = Pipeline([("prepare", pre), ("classifier", HistGradientBoostingClassifier(max_iter=100, random_state=0))])
    return model.fit(train[nums + cats], train["income_over_50k"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    from helpers import make_ctx

    from readiness.registry import get_check
    from readiness.review import run_check

    train, test = adult_twin()
    model = model_for(train)
    t0 = time.perf_counter()
    ctx = make_ctx(train, test, target="income_over_50k", model=model, sensitive=["sex", "race"])
    print(f"Adult-sized twin: {len(ctx.train):,} training + {len(ctx.test):,} holdout rows, {len(ctx.features)} "
          f"features; context built and holdout scored once in {time.perf_counter() - t0:.1f} s")
    wall_total, cpu_total = 0.0, 0.0
    for cid in CHECKS:
        walls, cpus = [], []
        for _ in range(a.repeats):
            w, c = time.perf_counter(), time.process_time()
            res = run_check(get_check(cid), ctx)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        wall_total += wall
        cpu_total += cpu
        print(f"  {cid:<26} {wall:6.2f} s wall  {cpu:6.2f} s CPU  {res.status.value:<5} {res.summary[:110]}")
    print(f"  {'the four together':<26} {wall_total:6.2f} s wall  {cpu_total:6.2f} s CPU")


if __name__ == "__main__":
    main()
