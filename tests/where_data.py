"""Known-answer data sets for the "Where it fails" checks (issue 19).

* :func:`coin_flip` — a model whose scores are the true probabilities everywhere except in
  ``region == "east" and age < 35`` (about 6% of the rows), where it guesses at random;
* :func:`truth` — the same world, scores are the true probabilities everywhere;
* :func:`correlation_flip` — two Gaussian features correlated +0.8 in training and −0.8 in the
  holdout, each keeping its N(0, 1) marginal;
* :func:`sex_model` — a logistic regression that uses ``sex`` directly, and one that drops it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = np.array(["east", "west", "north", "south", "centre"])


def world(n: int, seed: int) -> pd.DataFrame:
    """Rows with region, age, two numeric features, the true probability and the outcome."""
    rng = np.random.default_rng(seed)
    region = REGIONS[rng.choice(5, size=n, p=[0.2, 0.3, 0.15, 0.2, 0.15])]
    age = rng.integers(18, 76, size=n)
    income = np.round(np.exp(rng.normal(10.5, 0.5, size=n)), -2)
    x = rng.normal(size=n)
    logit = 1.6 * x - 0.8 * (np.log(income) - 10.5) + 0.02 * (age - 45) + 0.4 * (region == "west")
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"region": region, "age": age, "income": income, "x": x, "p_true": p, "y": y})


def _split(frame: pd.DataFrame, seed: int, share: float = 1 / 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed + 1)
    mask = np.zeros(len(frame), dtype=bool)
    mask[rng.permutation(len(frame))[: int(share * len(frame))]] = True
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


def truth(n: int = 9000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test); test's ``score`` is the true probability."""
    train, test = _split(world(n, seed), seed)
    return train.drop(columns="p_true"), test.assign(score=test["p_true"]).drop(columns="p_true")


def coin_flip(n: int = 9000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test); ``score`` is the truth except a uniform guess for east and age < 35."""
    train, test = _split(world(n, seed), seed)
    rng = np.random.default_rng(seed + 2)
    inside = (test["region"] == "east") & (test["age"] < 35)
    score = np.where(inside, rng.random(len(test)), test["p_true"])
    return train.drop(columns="p_true"), test.assign(score=score).drop(columns="p_true")


def correlation_flip(n: int = 6000, seed: int = 0, flip: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows with corr(a, b) = +0.8, holdout rows with −0.8 (or +0.8 with ``flip=False``)."""
    rng = np.random.default_rng(seed)

    def draw(m, rho):
        a = rng.normal(size=m)
        b = rho * a + np.sqrt(1 - rho * rho) * rng.normal(size=m)
        c = rng.normal(size=m)
        y = (rng.random(m) < 1 / (1 + np.exp(-(a + 0.5 * c)))).astype(int)
        return pd.DataFrame({"a": a, "b": b, "c": c, "y": y})

    n_test = n // 3
    return draw(n - n_test, 0.8), draw(n_test, -0.8 if flip else 0.8)
