"""``evaluation.holdout`` and ``evaluation.holdout_reuse`` of a regression model, exactly on every holdout row.

Each partition sums, over its labelled rows with a prediction, powers of the error ``e = prediction −
actual`` and of the actual value centred on a fixed shift ``c`` (the sample's mean actual, the same on
every partition, so the sums are well conditioned): ``|e|``, ``|e|²``, ``e²``, ``e⁴``, ``y−c`` to its
fourth power, ``e²(y−c)`` and ``e²(y−c)²``. From the merged sums the driver forms the MAE, RMSE, R² and the
target's standard deviation as scikit-learn computes them on all rows, and the 95% intervals that the
in-memory check bootstraps in closed form (named in ``metrics["interval_methods"]``): a t interval for
the MAE, the delta method for the RMSE (from the variance of ``e²``) and for R² (``1 − mean(e²)/var(y)``,
from the variances and covariance of ``e²`` and ``(y − ȳ)²``). The verdict is the in-memory check's own
(:func:`readiness.checks.evaluation.regression_verdict`). The error-by-decile table and the scatter
points need the rows in order: they stay on the engine's sample (``metrics["on_sample"]``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome
from readiness.results import Finding, Severity

SUMS = ("n", "abs", "abs2", "e2", "e4", "y1", "y2", "y3", "y4", "e2y1", "e2y2")


def shift_of(ctx: ReviewContext) -> float | None:
    """The centring of the actual values sent to every partition (None: no exact regression summary)."""
    if ctx.task != "regression" or ctx.data_only:
        return None
    y = ctx.y_test.to_numpy(dtype=float)
    y = y[np.isfinite(y)]
    return float(y.mean()) if len(y) else 0.0


def partition(rows: pd.DataFrame, s: np.ndarray, target: str, shift: float) -> dict:
    """The sums of one partition's labelled ``rows`` with predictions ``s`` (NaN: not scored)."""
    s = np.asarray(s, dtype=float)
    ok = ~np.isnan(s)
    y = rows[target].to_numpy(dtype=float)[ok]
    e = s[ok] - y
    a, e2, yc = np.abs(e), e * e, y - shift
    yc2 = yc * yc
    vals = (len(y), a.sum(), (a * a).sum(), e2.sum(), (e2 * e2).sum(), yc.sum(), yc2.sum(), (yc2 * yc).sum(),
            (yc2 * yc2).sum(), (e2 * yc).sum(), (e2 * yc2).sum())
    return {"sums": np.array(vals, dtype=float), "unscored": int((~ok).sum())}


def figures(sums: np.ndarray) -> dict:
    """MAE, RMSE, R², the target's standard deviation and their intervals from the merged sums."""
    S = dict(zip(SUMS, np.asarray(sums, dtype=float), strict=True))
    n = int(S["n"])
    mae, mse = S["abs"] / n, S["e2"] / n
    d = S["y1"] / n  # mean of (y − c): ȳ − c
    # central moments of y about ȳ from the moments about c
    m2 = S["y2"] / n - d * d
    m4 = S["y4"] / n - 4 * d * S["y3"] / n + 6 * d * d * S["y2"] / n - 3 * d ** 4
    m: dict = {"n": n, "mae": mae, "rmse": math.sqrt(mse), "r2": 1 - mse / m2 if m2 > 0 else float("nan"),
               "target_std": math.sqrt(max(m2, 0.0))}
    if n < 2:
        m.update(mae_ci=[None, None], rmse_ci=[None, None], r2_ci=[None, None])
        return m
    t = float(stats.t.ppf(0.975, n - 1))
    sd_abs = math.sqrt(max(S["abs2"] / n - mae * mae, 0.0) * n / (n - 1))
    m["mae_ci"] = [mae - t * sd_abs / math.sqrt(n), mae + t * sd_abs / math.sqrt(n)]
    var_u = max(S["e4"] / n - mse * mse, 0.0)  # u = e²
    se_mse = math.sqrt(var_u / n)
    se_rmse = se_mse / (2 * m["rmse"]) if m["rmse"] > 0 else 0.0
    z = float(stats.norm.ppf(0.975))
    m["rmse_ci"] = [max(0.0, m["rmse"] - z * se_rmse), m["rmse"] + z * se_rmse]
    if m2 > 0:
        var_v = max(m4 - m2 * m2, 0.0)  # v = (y − ȳ)²
        e2v = S["e2y2"] / n - 2 * d * S["e2y1"] / n + d * d * mse  # mean of e²(y − ȳ)²
        cov = e2v - mse * m2
        ratio = mse / m2
        var_r = (var_u / m2 ** 2 - 2 * ratio * cov / m2 ** 2 + ratio ** 2 * var_v / m2 ** 2) / n
        h = z * math.sqrt(max(var_r, 0.0))
        m["r2_ci"] = [m["r2"] - h, min(1.0, m["r2"] + h)]
    else:
        m["r2_ci"] = [float("nan"), float("nan")]
    return m


INTERVAL_METHODS = {"mae_ci": "t interval (mean and standard deviation of the absolute errors)",
                    "rmse_ci": "delta method (normal, from the variance of the squared errors)",
                    "r2_ci": "delta method (normal, from the variances and covariance of the squared errors "
                             "and the squared deviations of the actual values)"}


def _merged(test: dict) -> tuple[np.ndarray, int]:
    r = test["regression"]
    return np.asarray(r["sums"], dtype=float), int(r["unscored"])


def holdout(ctx: ReviewContext, test: dict) -> Outcome:
    from readiness.checks.evaluation import _deciles, _points, regression_verdict

    sums, unscored = _merged(test)
    findings = []
    if unscored:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{unscored} holdout rows have no score and were left out of the metrics."),
            evidence={"rows_without_score": unscored}))
    m = figures(sums)
    ok = np.asarray(ctx.scored, dtype=bool)
    y = ctx.y_test.to_numpy(dtype=float)[ok]
    p = np.asarray(ctx.test_scores, dtype=float)[ok]
    m["by_decile"] = _deciles(y, p)
    m["points"] = _points(y, p, ctx.settings.random_state)
    m["interval_methods"] = dict(INTERVAL_METHODS)
    m["on_sample"] = {"keys": ["by_decile", "points"], "rows": int(len(y))}
    return regression_verdict(m, findings)


def holdout_reuse(ctx: ReviewContext, test: dict) -> Outcome:
    from readiness.checks.holdout_reuse import reuse_outcome

    m = figures(_merged(test)[0])
    return reuse_outcome(ctx, r2=(m["n"], m["r2"], m["r2_ci"], f"{INTERVAL_METHODS['r2_ci']} (as on the holdout page)"))


def ready(test: dict) -> bool:
    return "regression" in test and test["regression"]["sums"][0] > 0
