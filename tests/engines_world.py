"""A data set for the engine agreement tests and benchmarks/bench_engines.py.

Training and holdout of a credit-like problem with a model (a scikit-learn pipeline in a
.skops file), written as partitioned Parquet. Planted: drift (``income`` shifted up by half
a standard deviation in the holdout, and ``channel`` moved towards 'web'), a group disparity
(the model's scores for ``group`` = 'b' carry less signal, so its error rate is higher),
missing values (``tenure`` 3% empty; ``region`` with '?' tokens) and a sentinel (-999 in
``debt``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

N_FEATURES_EXTRA = 0


def make_rows(n: int, seed: int, *, holdout: bool, extra: int = N_FEATURES_EXTRA) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.7, 0.3])
    income = rng.normal(50 + (5 if holdout else 0), 10, n)
    debt = rng.gamma(2.0, 5.0, n)
    tenure = rng.integers(0, 30, n).astype(float)
    channel = rng.choice(["branch", "web", "phone"], n, p=[0.2, 0.6, 0.2] if holdout else [0.4, 0.4, 0.2])
    region = rng.choice(["north", "south", "east", "west", "?"], n, p=[0.3, 0.3, 0.2, 0.18, 0.02])
    signal = 0.08 * (income - 50) - 0.12 * (debt - 10) + 0.05 * (tenure - 15)
    noise = rng.normal(0, np.where(group == "b", 2.5, 0.8))
    y = (signal + noise + rng.normal(0, 0.5, n) > 0.3).astype(int)
    tenure[rng.random(n) < 0.03] = np.nan
    debt[rng.random(n) < 0.005] = -999.0
    frame = pd.DataFrame({"income": income, "debt": debt, "tenure": tenure, "channel": channel, "region": region,
                          "group": group})
    for j in range(extra):
        frame[f"x{j:02d}"] = rng.normal(0, 1, n)
    frame["default"] = y
    return frame


def fit_model(train: pd.DataFrame, path: Path) -> Path:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = train.drop(columns=["default", "group"])
    num = [c for c in X.columns if c not in ("channel", "region")]
    pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), num),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["channel", "region"])])
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(X, train["default"])
    path.write_bytes(sio.dumps(model))
    return path


def write_dataset(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].to_parquet(folder / f"part-{i:04d}.parquet", index=False, row_group_size=50_000)
    return folder


def build(root: Path, *, n_train: int, n_test: int, parts: int = 8, extra: int = N_FEATURES_EXTRA) -> dict:
    """Write train/ and holdout/ datasets and model.skops under ``root``; return their paths."""
    root.mkdir(parents=True, exist_ok=True)
    train = make_rows(n_train, 1, holdout=False, extra=extra)
    model = fit_model(train.iloc[:min(n_train, 200_000)], root / "model.skops")
    out = {"train": write_dataset(train, root / "train", max(1, parts // 2)), "model": model}
    del train
    out["holdout"] = write_dataset(make_rows(n_test, 2, holdout=True, extra=extra), root / "holdout", parts)
    return out


def close(a, b, path=""):
    """Differences between two JSON values: floats at relative 1e-9, everything else equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


BOOTSTRAPPED = ("mean_score_ci", "brier_ci", "calibration_gap_ci")  # bias.groups: normal intervals from sums on an engine


def unbootstrapped(x):
    """A JSON value without the intervals the in-memory bias.groups bootstraps."""
    if isinstance(x, dict):
        return {k: unbootstrapped(v) for k, v in x.items() if k not in BOOTSTRAPPED}
    if isinstance(x, list):
        return [unbootstrapped(v) for v in x]
    return x
