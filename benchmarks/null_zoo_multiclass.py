"""The null zoo for multiclass models (issue 23): how often the checks that judge a multiclass model
cry wolf on honest data.

    python benchmarks/null_zoo_multiclass.py            # 100 honest sets
    python benchmarks/null_zoo_multiclass.py --sets 30

Each honest set: 300 to 10,000 rows (log-uniform), 3 to 10 classes, four Gaussian features, the
class drawn from a multinomial-logistic (softmax) model of them with random weights, so a
multinomial logistic regression fitted on the training half is the right model; a sensitive
attribute with 2–4 groups drawn independently of everything (Dirichlet shares). No group is
treated differently and the model is well specified, so every warn or fail is a false alarm.
Results: docs/false-alarms.md (section "Multiclass models").
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

from readiness.registry import get_check  # noqa: E402
from readiness.review import run_check  # noqa: E402

CHECKS = ("bias.groups", "calibration", "evaluation.holdout", "evaluation.holdout_reuse", "feasibility.bayes_error")


class TruePosterior:
    """The data's own softmax probabilities as a scikit-learn classifier: the calibration null (a fitted model
    may really be miscalibrated; this one is calibrated by construction)."""

    def __init__(self, w: np.ndarray, classes: np.ndarray):
        self.w, self.classes_ = w, classes
        self.feature_names_in_ = np.array(["x0", "x1", "x2", "x3"], dtype=object)
        self.n_features_in_ = 4

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        z = np.asarray(X, dtype=float) @ self.w
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def get_params(self, deep=True):
        return {}


def honest_set(i: int, *, truth: bool = False):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5000 + i)
    n = int(np.exp(rng.uniform(np.log(300), np.log(10000))))
    c = int(rng.integers(3, 11))
    k = int(rng.integers(2, 5))
    x = rng.normal(size=(n, 4))
    w = rng.normal(scale=1.2, size=(4, c))
    logits = x @ w
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    grp = rng.choice([f"g{j}" for j in range(k)], size=n, p=rng.dirichlet(np.ones(k) * 3))
    f = pd.DataFrame(x, columns=["x0", "x1", "x2", "x3"]).assign(grp=grp, y=np.array([f"c{j}" for j in range(c)])[y])
    half = n // 2
    train, test = f.iloc[:half].reset_index(drop=True), f.iloc[half:].reset_index(drop=True)
    model = (TruePosterior(w, np.array([f"c{j}" for j in range(c)], dtype=object)) if truth else
             LogisticRegression(max_iter=2000).fit(train[["x0", "x1", "x2", "x3"]], train["y"]))
    return n, c, k, make_ctx(train, test, target="y", model=model, sensitive=["grp"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=100)
    ap.add_argument("--truth", action="store_true", help="the true probabilities as the model (the calibration null)")
    ap.add_argument("--check", action="append", help="run only this check (repeat)")
    a = ap.parse_args()
    checks = tuple(a.check or CHECKS)
    rows = []
    start = time.perf_counter()
    for i in range(a.sets):
        n, c, k, ctx = honest_set(i, truth=a.truth)
        row = {"n": n, "classes": c, "groups": k}
        for ch in checks:
            res = run_check(get_check(ch), ctx)
            row[ch] = res.status.value
            # why: the first words of each warn/fail finding, to tell "cannot tell on so few rows" from a verdict
            row[f"{ch} why"] = " | ".join(sorted({" ".join(f.message.split()[:6]) for f in res.findings
                                                  if f.severity in ("warn", "fail")}))
        rows.append(row)
    df = pd.DataFrame(rows)
    print(f"{a.sets} honest multiclass sets, {df['n'].min():,}–{df['n'].max():,} rows, "
          f"{df['classes'].min()}–{df['classes'].max()} classes, {time.perf_counter() - start:.0f} s")
    print("| check | honest sets | fail | warn |\n|---|---|---|---|")
    for ch in checks:
        f, w = int((df[ch] == "fail").sum()), int((df[ch] == "warn").sum())
        print(f"| `{ch}` | {a.sets} | {100 * f / a.sets:.1f}% ({f}/{a.sets}) | {100 * w / a.sets:.1f}% ({w}/{a.sets}) |")
    for ch in checks:
        bad = df[df[ch].isin(["warn", "fail"])]
        if len(bad):
            print(f"{ch}: " + "; ".join(f"n={r['n']} C={r['classes']} {r[ch]}" for _, r in bad.iterrows()))
            reasons = bad[f"{ch} why"].str.split(" \\| ").explode().value_counts()
            for why, count in reasons.items():
                print(f"    {count:3d} × {why} …")


if __name__ == "__main__":
    main()
