"""The null zoo: seeded honest data sets with no defect of any kind (issue 18).

Each set is drawn so that the absence of every defect is known: rows are independent draws
from one distribution, split at random (no copies, no time order, no oversampling, no
preprocessing fit on the holdout); the target is a Bernoulli draw from a known probability
``p_true`` of the features, so a prediction column holding ``p_true`` is the Bayes-optimal
model; the model file is a plain scikit-learn pipeline fitted on the training rows only.

Axes: 1–20 features; Gaussian, skewed (log-normal), heavy-tailed (Student t, 2 d.f.),
integer (Poisson counts) and categorical columns and mixtures; positive share 50% to 5%;
500 to 100,000 rows; signal from weak to strong (the model's AUC roughly 0.6 to 0.95).

Used by tests/test_null_zoo.py (a small zoo, asserting the rates) and benchmarks/null_zoo.py
(the full zoo and the committed table in docs/false-alarms.md). Later work extends it to
regression and multiclass targets and to new checks: add a ``task`` axis to :class:`Spec`
and a branch in :func:`make_set`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

KINDS = ("gaussian", "skewed", "heavy", "integer", "categorical")
MIXES = {  # the column kinds a set draws from
    "gaussian": ("gaussian",), "skewed": ("skewed",), "heavy": ("heavy",), "integer": ("integer",),
    "categorical": ("categorical",), "mixed": KINDS,
}


@dataclass(frozen=True)
class Spec:
    seed: int
    rows: int
    features: int
    mix: str
    positive_share: float
    signal: float  # scale of the true logit's spread (≈ the Bayes-optimal model's separation)
    task: str = "binary"

    def name(self) -> str:
        return (f"zoo{self.seed:03d}-{self.mix}-{self.features}f-{self.rows}r-{round(100 * self.positive_share)}pct-"
                f"s{self.signal:.1f}")


def specs(n: int, *, seed: int = 0, max_rows: int = 100_000, min_rows: int = 500) -> list[Spec]:
    """``n`` seeded specs spread over the axes (rows log-uniform between min_rows and max_rows)."""
    rng = np.random.default_rng(seed)
    mixes = list(MIXES)
    out = []
    for i in range(n):
        rows = int(round(np.exp(rng.uniform(np.log(min_rows), np.log(max_rows))), -1))
        out.append(Spec(seed=seed * 1000 + i, rows=max(rows, min_rows), features=int(rng.integers(1, 21)),
                        mix=mixes[i % len(mixes)], positive_share=float(rng.choice([0.5, 0.35, 0.2, 0.1, 0.05])),
                        signal=float(rng.uniform(0.5, 3.0))))
    return out


def _column(kind: str, n: int, rng: np.random.Generator) -> tuple[pd.Series, np.ndarray]:
    """A column and its standardised contribution to the logit."""
    if kind == "gaussian":
        v = rng.normal(size=n)
        return pd.Series(v), v
    if kind == "skewed":
        v = rng.lognormal(mean=3.0, sigma=0.8, size=n)
        z = np.log(v)
        return pd.Series(v.round(2)), (z - 3.0) / 0.8
    if kind == "heavy":
        v = rng.standard_t(2, size=n)
        return pd.Series(v), np.clip(v, -4, 4) / 1.5
    if kind == "integer":
        lam = float(rng.uniform(0.5, 12))
        v = rng.poisson(lam, size=n)
        return pd.Series(v), (v - lam) / np.sqrt(lam)
    levels = int(rng.integers(2, 9))
    probs = rng.dirichlet(np.ones(levels) * 2)
    codes = rng.choice(levels, size=n, p=probs)
    effects = rng.normal(size=levels)
    effects = (effects - effects.mean()) / (effects.std() + 1e-9)
    return pd.Series(np.array([f"L{j}" for j in range(levels)])[codes]), effects[codes]


def make_set(spec: Spec, *, holdout_share: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(train, test, features): test carries ``p_true``; the target column is ``y``."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    kinds = MIXES[spec.mix]
    cols, contrib = {}, []
    for j in range(spec.features):
        kind = kinds[int(rng.integers(len(kinds)))] if len(kinds) > 1 else kinds[0]
        s, c = _column(kind, n, rng)
        cols[f"{kind[:3]}{j}"] = s
        contrib.append(c)
    weights = rng.dirichlet(np.ones(spec.features))  # one feature may dominate, others may be noise-like
    weights = np.sqrt(weights) * (rng.random(spec.features) > 0.25)  # some columns carry no signal at all
    if not weights.any():
        weights[0] = 1.0
    z = np.column_stack(contrib) @ weights
    z = spec.signal * (z - z.mean()) / (z.std() + 1e-12)
    intercept = brentq(lambda b: np.mean(1 / (1 + np.exp(-(z + b)))) - spec.positive_share, -30, 30)
    p = 1 / (1 + np.exp(-(z + intercept)))
    y = (rng.random(n) < p).astype(int)
    frame = pd.DataFrame(cols).assign(y=y)
    test_mask = np.zeros(n, dtype=bool)
    test_mask[rng.permutation(n)[: int(round(holdout_share * n))]] = True
    train = frame[~test_mask].reset_index(drop=True)
    test = frame[test_mask].reset_index(drop=True).assign(p_true=p[test_mask])
    return train, test, list(cols)


def fit_model(train: pd.DataFrame, features: list[str], seed: int = 0):
    """A plain, honest pipeline: one-hot text, scaled numbers, logistic regression; fit on training rows only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in features if not pd.api.types.is_numeric_dtype(train[c])]
    num = [c for c in features if c not in cat]
    parts = ([("num", StandardScaler(), num)] if num else []) + (
        [("cat", OneHotEncoder(handle_unknown="ignore"), cat)] if cat else [])
    return Pipeline([("prep", ColumnTransformer(parts)), ("clf", LogisticRegression(max_iter=1000))]).fit(
        train[features], train["y"])


def contexts(spec: Spec):
    """The two reviews of one honest set: with a model file, and with the true probability as prediction column."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from helpers import make_ctx

    train, test, features = make_set(spec)
    model = fit_model(train, features, spec.seed)
    with_model = make_ctx(train, test.drop(columns="p_true"), target="y", model=model)
    with_truth = make_ctx(train, test, target="y", prediction_column="p_true")
    return {"model": with_model, "true_probability": with_truth}


#: checks that ask the reviewer a question rather than judge the data or the model: listed
#: separately in the zoo's table, not counted as alarms
QUESTION_CHECKS = {"model.hyperparameters", "bias.categories"}

#: checks whose alarms in the model-file reviews find real defects of the zoo's own model (a plain logistic
#: regression reading log-normal and heavy-tailed columns raw, or with few rows per feature): for them the
#: honest null is the review whose prediction column holds the true probability (docs/false-alarms.md)
MODEL_DEFECTS = {"calibration", "segments.weak"}


def null_reviews(rows: list[dict]) -> list[dict]:
    """The reviews that are honest for each check: all of them, except the model-file reviews of
    :data:`MODEL_DEFECTS`."""
    return [r for r in rows if not (r["check"] in MODEL_DEFECTS and r["mode"] == "model")]


def tally(results: list[dict]) -> pd.DataFrame:
    """Per check: reviews run, fail and warn rates (``results``: dicts with check, status)."""
    df = pd.DataFrame(results)
    if df.empty:
        return pd.DataFrame(columns=["check", "reviews", "fail", "warn", "fail_rate", "warn_rate"])
    g = df.groupby("check")["status"]
    out = pd.DataFrame({"reviews": g.size(), "fail": g.apply(lambda s: int((s == "fail").sum())),
                        "warn": g.apply(lambda s: int((s == "warn").sum())),
                        "skipped": g.apply(lambda s: int((s == "skipped").sum())),
                        "error": g.apply(lambda s: int((s == "error").sum()))})
    ran = (out["reviews"] - out["skipped"]).clip(lower=1)
    out["fail_rate"] = out["fail"] / ran
    out["warn_rate"] = out["warn"] / ran
    return out.reset_index()


def review_set(spec: Spec, checks: list[str] | None = None) -> list[dict]:
    """Run the review (all registered checks, or ``checks``) on both contexts of one honest set."""
    from readiness.review import run_review

    rows = []
    for mode, ctx in contexts(spec).items():
        report = run_review(ctx, checks=checks)
        for c in report.checks:
            rows.append({"set": spec.name(), "mode": mode, "check": c.id, "status": c.status.value,
                         "summary": c.summary, **{k: v for k, v in asdict(spec).items() if k != "task"}})
    return rows
