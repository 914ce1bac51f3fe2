"""A logistic world for the monitoring known answers (tests/test_monitor.py) and benchmark
(benchmarks/monitor_false_alarms.py): four numeric features, one categorical, a sensitive
attribute; a one-hot + logistic regression model is well specified, so its scores are calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["x1", "x2", "x3", "x4", "c"]


def world(n: int, seed, *, shift: dict | None = None, b1: float = 1.5, new_category: float = 0.0) -> pd.DataFrame:
    """``n`` rows; ``seed`` an int or a numpy Generator. ``shift`` adds to columns (covariate
    shift: P(y | x) unchanged); ``b1`` is x1's coefficient (concept drift when changed);
    ``new_category`` the share of rows whose ``c`` is a category never seen ("d")."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    df = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(1, 5)})
    df["c"] = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    if new_category:
        df.loc[rng.random(n) < new_category, "c"] = "d"
    df["g"] = rng.choice(["f", "m"], n)
    for col, d in (shift or {}).items():
        df[col] = df[col] + d
    logit = b1 * df.x1 - df.x2 + 0.5 * (df.c == "a") - 0.3
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def model_pipeline():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    return make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["c"]),
                                                 remainder="passthrough"), LogisticRegression())
