"""``calibration`` for a regression model: is the model biased along its range, and how wide must
an honest prediction interval be?

* Calibration line: the actual value regressed on the prediction by ordinary least squares,
  ``actual = intercept + slope · prediction`` (1 and 0 ideal), with 95% t intervals.
* Mean error (prediction − actual) by decile of the prediction, with 95% t intervals.
* Split-conformal 90% prediction intervals (Lei et al. 2018): the holdout is split at random in
  two halves; the half-width is the ⌈(m+1)·0.9⌉-th smallest absolute error of the first half
  (m rows); its coverage is measured on the second half, overall and per sensitive group, with
  Clopper–Pearson 95% intervals. Coverage is guaranteed overall (≥ 90% on average); a group
  covered well below 90% is one whose errors are larger than the rest.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from readiness.fmt import estimate, interval, number, pct, with_interval
from readiness.results import Finding, Severity
from readiness.stats import clopper_pearson

COVERAGE = 0.9
DECILES = 10
SLOPE_WARN = 0.2  # |slope − 1| beyond this, with 1 outside the 99.9% interval: warn
SLOPE_FAIL = 0.5
MIN_GROUP = 30
GROUP_COVERAGE_WARN = 0.8  # a group's coverage interval entirely below this: warn


def calibration_line(y: np.ndarray, p: np.ndarray, alpha: float = 0.05) -> dict:
    """OLS of y on p: slope, intercept, their (1 − alpha) t intervals and the slope's p-value against 1."""
    n = len(y)
    X = np.column_stack([np.ones(n), p])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    dof = n - 2
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(cov))
    t = float(stats.t.ppf(1 - alpha / 2, dof))
    p_slope = float(2 * stats.t.sf(abs(beta[1] - 1) / se[1], dof)) if se[1] > 0 else (0.0 if beta[1] != 1 else 1.0)
    return {"calibration_intercept": float(beta[0]),
            "calibration_intercept_ci": [float(beta[0] - t * se[0]), float(beta[0] + t * se[0])],
            "calibration_slope": float(beta[1]),
            "calibration_slope_ci": [float(beta[1] - t * se[1]), float(beta[1] + t * se[1])],
            "slope_p_value": p_slope}


def _t_ci(x: np.ndarray) -> list[float | None]:
    if len(x) < 2:
        return [None, None]
    h = float(stats.t.ppf(0.975, len(x) - 1)) * float(np.std(x, ddof=1)) / math.sqrt(len(x))
    return [float(np.mean(x) - h), float(np.mean(x) + h)]


def by_decile(y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Mean error (prediction − actual) per decile of the prediction (equal-count bins by rank)."""
    order = np.argsort(p, kind="stable")
    out = []
    for idx in np.array_split(order, DECILES):
        if len(idx) == 0:
            continue
        e = p[idx] - y[idx]
        out.append({"n": int(len(idx)), "lo": float(p[idx].min()), "hi": float(p[idx].max()),
                    "mean_prediction": float(p[idx].mean()), "mean_actual": float(y[idx].mean()),
                    "mean_error": float(e.mean()), "mean_error_ci": _t_ci(e)})
    return out


def conformal_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return perm[: n // 2], perm[n // 2:]


def conformal_half_width(abs_err: np.ndarray, coverage: float = COVERAGE) -> float:
    """The ⌈(m+1)·coverage⌉-th smallest of m absolute errors (infinite when that exceeds m)."""
    m = len(abs_err)
    k = math.ceil((m + 1) * coverage)
    return math.inf if k > m else float(np.sort(abs_err)[k - 1])


def regression_calibration(ctx, ok: np.ndarray) -> tuple[str, list[Finding], dict, str | None]:
    """(summary, findings, metrics, status or None for the worst finding)."""
    y = ctx.y_test.to_numpy(dtype=float)[ok]
    p = np.asarray(ctx.test_scores, dtype=float)[ok]
    n = len(y)
    m: dict = {"task": "regression", "n": n, **calibration_line(y, p)}
    m["by_decile"] = by_decile(y, p)
    fit, check = conformal_split(n, ctx.settings.random_state)
    err = np.abs(y - p)
    q = conformal_half_width(err[fit])
    hits = err[check] <= q
    cov = float(hits.mean())
    m["interval_coverage"] = {"target": COVERAGE, "half_width": q, "coverage": cov,
                              "coverage_ci": list(clopper_pearson(int(hits.sum()), len(check))),
                              "n_fit": int(len(fit)), "n_check": int(len(check))}
    by_group: dict = {}
    for col in ctx.roles.sensitive:
        vals = ctx.test[col].astype(str).to_numpy()[ok][check]
        by_group[col] = {}
        for g in sorted(set(vals)):
            h = hits[vals == g]
            by_group[col][g] = {"n": int(len(h)), "coverage": float(h.mean()),
                                "coverage_ci": list(clopper_pearson(int(h.sum()), len(h)))}
    m["interval_coverage_by_group"] = by_group
    findings: list[Finding] = []
    b, (blo, bhi) = m["calibration_slope"], m["calibration_slope_ci"]
    strict = calibration_line(y, p, alpha=0.001)["calibration_slope_ci"]
    status = None
    if not (strict[0] <= 1 <= strict[1]) and abs(b - 1) >= SLOPE_WARN:
        sev = Severity.FAIL if abs(b - 1) >= SLOPE_FAIL else Severity.WARN
        status = sev.value
        shape = ("too spread out: high predictions are too high and low ones too low" if b < 1 else
                 "too compressed: high predictions are too low and low ones too high")
        findings.append(Finding(severity=sev, message=(
            f"The predictions are {shape} (calibration slope {estimate(b, [blo, bhi])}, 95% interval {interval([blo, bhi], value=b)}; "
            f"1 is ideal). Recalibrate: fit actual = a + b · prediction on held-out rows and apply it."),
            evidence={"calibration_slope": b, "calibration_slope_ci": [blo, bhi]}))
    worst = max(m["by_decile"], key=lambda d: abs(d["mean_error"]))
    over = worst["mean_error"] > 0
    lo_e, hi_e = worst["mean_error_ci"]  # the interval of the amount said: an under-estimate is − the mean error
    amount_ci = [lo_e, hi_e] if over else [-hi_e, -lo_e]
    findings.append(Finding(severity=Severity.INFO, message=(
        f"Largest bias along the range: predictions from {number(worst['lo'])} to {number(worst['hi'])} are "
        f"{'over' if over else 'under'}-estimated by {estimate(abs(worst['mean_error']), amount_ci)} on average "
        f"(95% interval {interval(amount_ci, value=abs(worst['mean_error']))})."), evidence={"decile": worst}))
    for col, groups in by_group.items():
        for g, v in groups.items():
            if v["n"] >= MIN_GROUP and v["coverage_ci"][1] < GROUP_COVERAGE_WARN:
                status = status or Severity.WARN.value
                findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                    f"The 90% prediction interval (±{number(q)}) covers only {pct(v['coverage'])} of {col} = {g} "
                    f"(95% interval {interval(v['coverage_ci'], pct)}, {v['n']} rows): this group's errors are larger "
                    "than the rest's; see the Bias page."), evidence={"attribute": col, "group": g, **v}))
    summary = (f"Calibration slope {estimate(b, [blo, bhi])} ({interval([blo, bhi], value=b)}; 1 is ideal), intercept "
               f"{with_interval(m['calibration_intercept'], m.get('calibration_intercept_ci'))}; a 90% prediction interval is ±{number(q)}, covering "
               f"{pct(cov)} of the check half of the holdout ({interval(m['interval_coverage']['coverage_ci'], pct)}).")
    return summary, findings, m, status
