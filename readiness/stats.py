"""Interval estimates shared by the checks (formulas: shared/science, part B2)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats


def clopper_pearson(x: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (conservative) interval for a proportion x/n."""
    if n <= 0:
        return (math.nan, math.nan)
    lo = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lo, hi


def wilson(x: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion x/n."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def rank_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC by the Mann–Whitney rank sum (ties count one half); NaN when a class is absent.

    ``y`` holds 0/1 (or booleans) for negative/positive; ``s`` the scores.
    """
    pos = np.asarray(y).astype(bool)
    n1 = int(pos.sum())
    n0 = len(pos) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = stats.rankdata(np.asarray(s, dtype=float))
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    stratify: np.ndarray | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*arrays)`` over rows.

    Resamples that make the statistic undefined (e.g. one class only) are skipped.
    ``stratify`` keeps each stratum's size fixed (use the labels for AUC).
    """
    n = len(arrays[0])
    if n < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if stratify is None else [np.flatnonzero(stratify == g) for g in np.unique(stratify)]
    values = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        try:
            v = statistic(*(a[idx] for a in arrays))
        except ValueError:
            continue
        if v is not None and np.isfinite(v):
            values.append(v)
    if len(values) < max(10, n_boot // 4):
        return (math.nan, math.nan)
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))
