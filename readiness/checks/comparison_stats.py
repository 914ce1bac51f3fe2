"""The statistics of a paired comparison of two models on the same holdout rows.

Pure functions of arrays (no review context, no wording); ``readiness.checks.comparison``
words the results. Proportions on the same rows are compared with McNemar's test and
Newcombe's paired interval (``readiness.ber``, shared with ``baselines.comparison``);
per-group rates come from ``readiness.checks.bias_stats.rate_stats`` (the bias review's
own); ROC AUCs with DeLong's paired test; means of per-row differences (cost, Brier,
absolute error) with a paired t-interval (``scipy.stats.ttest_1samp``).
Formulas: docs/checks.md, ``comparison.champion``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from readiness import ber


def _ci(lo: float, hi: float) -> list | None:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return [float(lo), float(hi)]


def paired_change(a: np.ndarray, b: np.ndarray, *, alpha: float = 0.05) -> dict:
    """Share of rows with an event under the first model minus under the second, on the same rows.

    ``a``/``b``: booleans per row (e.g. "wrong" under the new and the current model).
    Newcombe's paired square-and-add interval at level 1 − ``alpha`` and McNemar's
    two-sided test on the discordant rows (exact when there are fewer than 25).
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    both, only_a, only_b = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    return paired_change_counts(both, only_a, only_b, int(len(a) - both - only_a - only_b), alpha=alpha)


def paired_change_counts(both: int, only_a: int, only_b: int, neither: int, *, alpha: float = 0.05) -> dict:
    """:func:`paired_change` from the paired 2x2 table: rows with the event under both models, under the
    first only, the second only, neither (merged per-partition counts on an engine)."""
    n = both + only_a + only_b + neither
    if n == 0:
        return {"n": 0, "first": None, "second": None, "change": None, "ci": None, "p_value": None,
                "only_first": 0, "only_second": 0}
    d, lo, hi = ber.newcombe_paired(both, only_a, only_b, neither, alpha=alpha)
    test = ber.mcnemar(only_b, only_a)
    return {"n": n, "first": (both + only_a) / n, "second": (both + only_b) / n, "change": float(d),
            "ci": _ci(lo, hi), "p_value": test["p_value"], "test": test["test"], "statistic": test["statistic"],
            "only_first": only_a, "only_second": only_b}


def mean_difference(d: np.ndarray, *, alpha: float = 0.05) -> dict:
    """Mean of paired per-row differences with a t-interval and a two-sided t-test p-value."""
    d = np.asarray(d, dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean if n else None, "ci": None, "p_value": None, "n": n}
    if np.all(d == d[0]):  # no spread: the interval is the value itself
        return {"mean": mean, "ci": [mean, mean], "p_value": 1.0 if mean == 0 else 0.0, "n": n}
    res = stats.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(1 - alpha)
    return {"mean": mean, "ci": _ci(ci.low, ci.high), "p_value": float(res.pvalue), "n": n}


def mean_difference_from(n: int, mean: float, var: float, constant: bool, *, alpha: float = 0.05) -> dict:
    """:func:`mean_difference` from the values' count, mean and variance (ddof 1) and whether they are all
    equal (an engine's merged sums): the same t-test and t-interval without the rows."""
    if n < 2:
        return {"mean": mean if n else None, "ci": None, "p_value": None, "n": n}
    if constant:
        return {"mean": mean, "ci": [mean, mean], "p_value": 1.0 if mean == 0 else 0.0, "n": n}
    se = math.sqrt(var / n)
    t = mean / se
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return {"mean": mean, "ci": _ci(mean - half, mean + half), "p_value": float(2 * stats.t.sf(abs(t), n - 1)), "n": n}


def mean_ci_from(n: int, mean: float, var: float, constant: bool, *, alpha: float = 0.05) -> list | None:
    """:func:`mean_ci` from the values' count, mean, variance (ddof 1) and whether they are all equal."""
    if n < 2:
        return None
    if constant:
        return [mean, mean]
    return mean_difference_from(n, mean, var, False, alpha=alpha)["ci"]


def mean_ci(values: np.ndarray, *, alpha: float = 0.05) -> list | None:
    """t-interval of a mean (costs per row)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return None
    if np.all(v == v[0]):
        return [float(v[0]), float(v[0])]
    ci = stats.ttest_1samp(v, 0.0).confidence_interval(1 - alpha)
    return _ci(ci.low, ci.high)


def _placements(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values: per positive, the share of negatives scored below it (ties
    one half); per negative, the share of positives scored above it (midranks)."""
    pos = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=float)
    m, n = int(pos.sum()), int((~pos).sum())
    r_all = stats.rankdata(np.concatenate([s[pos], s[~pos]]))
    v10 = (r_all[:m] - stats.rankdata(s[pos])) / n
    v01 = 1 - (r_all[m:] - stats.rankdata(s[~pos])) / m
    return v10, v01


def delong_paired(y: np.ndarray, s1: np.ndarray, s2: np.ndarray, *, alpha: float = 0.05) -> dict | None:
    """ROC AUC of two score vectors on the same rows, their difference (first − second) with
    DeLong, DeLong & Clarke-Pearson's (1988) paired variance, the 1 − ``alpha`` interval and
    the two-sided z-test p-value; each AUC with its own DeLong interval. None when a class is absent.
    """
    y = np.asarray(y).astype(int)
    m, n = int(y.sum()), int(len(y) - y.sum())
    if m < 2 or n < 2:
        return None
    p1, q1 = _placements(y, s1)
    p2, q2 = _placements(y, s2)
    a1, a2 = float(p1.mean()), float(p2.mean())
    s10 = np.cov(np.vstack([p1, p2]), ddof=1)
    s01 = np.cov(np.vstack([q1, q2]), ddof=1)
    var1 = s10[0, 0] / m + s01[0, 0] / n
    var2 = s10[1, 1] / m + s01[1, 1] / n
    var_d = max(0.0, (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n)
    z = float(stats.norm.ppf(1 - alpha / 2))
    d = a1 - a2
    se = math.sqrt(var_d)
    if se == 0:
        p = 1.0 if d == 0 else 0.0
        ci = [d, d]
    else:
        p = float(2 * stats.norm.sf(abs(d) / se))
        ci = [d - z * se, d + z * se]

    def one(a, v):
        h = z * math.sqrt(max(v, 0.0))
        return [max(0.0, a - h), min(1.0, a + h)]

    return {"first": a1, "first_ci": one(a1, var1), "second": a2, "second_ci": one(a2, var2), "difference": d,
            "difference_ci": ci, "se": se, "p_value": p, "positives": m, "negatives": n}


def churn(first_pred: np.ndarray, second_pred: np.ndarray, *, flagged_first: np.ndarray | None = None,
          flagged_second: np.ndarray | None = None, y: np.ndarray | None = None) -> dict:
    """Decisions that differ between two models on the same rows.

    With binary flags (positive decisions): how many rows are *newly flagged* (flagged by
    the first model, not by the second) and *no longer flagged*, and with labels ``y``
    (1 = actual positive) how many of each were actual positives.
    """
    first_pred, second_pred = np.asarray(first_pred), np.asarray(second_pred)
    n = len(first_pred)
    changed = first_pred.astype(str) != second_pred.astype(str)
    out: dict = {"n": n, "decision_changes": int(changed.sum()),
                 "decision_changes_share": float(changed.mean()) if n else None}
    if flagged_first is not None and flagged_second is not None:
        f1, f2 = np.asarray(flagged_first, dtype=bool), np.asarray(flagged_second, dtype=bool)
        newly, no_longer = f1 & ~f2, ~f1 & f2
        out["newly_flagged"], out["no_longer_flagged"] = int(newly.sum()), int(no_longer.sum())
        if y is not None:
            yb = np.asarray(y).astype(bool)
            out["newly_flagged_positive"] = int((newly & yb).sum())
            out["no_longer_flagged_positive"] = int((no_longer & yb).sum())
    return out
