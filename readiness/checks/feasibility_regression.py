"""``feasibility.bayes_error`` for a regression target: the noise floor.

The smallest RMSE any model could reach with these features is the standard deviation of the
noise, estimated by the Gamma test (:mod:`readiness.noise_floor`) on up to 5,000 pooled
training and holdout rows (standardised numbers, one-hot text, post-outcome columns left
out). The top of the range is what real rules reach: a leave-one-out k-nearest-neighbour
regression and the model itself. A target set as ``--target-rmse`` or ``--target-r2`` (R² is
turned into an RMSE with the holdout's variance, as the holdout R² is computed) is judged
against the interval's ends.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness import ber
from readiness.fmt import estimate as figure
from readiness.fmt import interval, number, with_interval
from readiness.inputs.context import ReviewContext
from readiness.noise_floor import estimate, mse_upper
from readiness.registry import Outcome, SkipCheck
from readiness.results import Finding, Severity
from readiness.stats import bootstrap_ci

TRUSTED_DIMENSION = 10.0  # as for the Bayes error: above it the neighbour extrapolation is not trusted
MIN_ROWS = 100
ALPHA = 0.05


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def noise_floor_review(ctx: ReviewContext, *, max_categories: int, cap: int) -> Outcome:
    from readiness.checks.feasibility import (
        _scored_rows,
        _stratified_sample,
        leak_note,
        pooled_rows,
    )

    seed = ctx.settings.random_state
    features, leaks, pool = pooled_rows(ctx)
    yall = pd.to_numeric(pool[ctx.target], errors="coerce").to_numpy(float)
    keep = np.isfinite(yall)
    pool, yall = pool[keep].reset_index(drop=True), yall[keep]
    if len(pool) < MIN_ROWS:
        raise SkipCheck(f"The noise floor needs at least {MIN_ROWS} labelled rows; there are {len(pool)}.")
    rows = _stratified_sample(len(pool), cap, seed, None)
    X, info = ber.encode(pool.iloc[rows].reset_index(drop=True), features, max_categories=max_categories)
    if X.shape[1] == 0:
        raise SkipCheck("Every feature is constant or empty, so there is nothing to estimate from.")
    y = yall[rows]
    est = estimate(X, y, seed=seed)
    var_y = float(np.var(y))
    nr, (nr_lo, nr_hi) = est.noise_rmse, est.noise_rmse_ci
    dim = est.intrinsic_dimension
    trusted = dim is not None and dim <= TRUSTED_DIMENSION

    # the top: the best leave-one-out k-NN rule, its one-sided 97.5% top (Bonferroni over the k tried)
    a_up = ALPHA / 2 / len(est.knn_sq_errors)
    best_k = min(est.knn_rmse, key=est.knn_rmse.get)
    knn_hi = math.sqrt(mse_upper(est.knn_sq_errors[best_k], alpha=a_up))

    has_model = not ctx.data_only
    model_rmse = None
    model_ci = [None, None]
    y_te = None
    if has_model:
        ok = _scored_rows(ctx)
        y_te = ctx.y_test.to_numpy(dtype=float)[ok]
        p_te = np.asarray(ctx.test_scores, dtype=float)[ok]
        model_rmse = _rmse(y_te, p_te)
        model_ci = list(bootstrap_ci(_rmse, y_te, p_te, n_boot=ctx.settings.bootstrap, seed=seed))
    holdout_var = float(np.var(ctx.y_test.to_numpy(dtype=float)[np.isfinite(ctx.y_test.to_numpy(dtype=float))]))

    s = ctx.settings
    target_rmse = s.target_rmse
    target_src = "rmse" if s.target_rmse is not None else None
    if target_rmse is None and s.target_r2 is not None:
        target_rmse = math.sqrt(max(0.0, (1 - s.target_r2) * holdout_var))
        target_src = "r2"
    best_r2 = 1 - max(est.noise_var, 0.0) / var_y if var_y > 0 else None
    best_r2_ci = ([1 - nr_hi ** 2 / var_y, 1 - nr_lo ** 2 / var_y] if var_y > 0 else [None, None])
    m: dict = {
        "noise_rmse": nr, "noise_rmse_ci": [nr_lo, nr_hi], "noise_variance": est.noise_var,
        "noise_variance_ci": list(est.noise_var_ci), "best_r2": best_r2, "best_r2_ci": best_r2_ci,
        "gamma_slope": est.slope, "first_neighbour_rmse": math.sqrt(max(est.first_neighbour_var, 0.0)),
        "gamma_delta": est.delta, "gamma_gamma": est.gamma, "target_variance": var_y,
        "knn_rmse": {str(k): v for k, v in est.knn_rmse.items()}, "best_k": best_k, "knn_rmse_best": est.knn_rmse[best_k],
        "knn_rmse_high": knn_hi, "intrinsic_dimension": dim, "floor_trusted": trusted,
        "sample_rows": est.n, "pooled_rows": len(pool), "sample_cap": cap, "dimensions": info["dimensions"],
        "numeric_features": info["numeric"], "categorical_features": info["categorical"],
        "model_rmse": model_rmse, "model_rmse_ci": model_ci, "holdout_rows": None if y_te is None else len(y_te),
        "holdout_variance": holdout_var, "target_rmse": target_rmse, "target_r2": s.target_r2,
        "target_source": target_src, "left_out_post_outcome": leaks,
        "room_max_rmse": None if model_rmse is None else max(0.0, model_rmse - nr_lo),
    }
    findings: list[Finding] = []
    if leaks:
        findings.append(Finding(severity=Severity.INFO, columns=leaks, message=leak_note(
            ctx, leaks, "The noise floor leaves out"), evidence={"left_out_post_outcome": leaks}))
    rng_txt = f"{figure(nr, [nr_lo, nr_hi])} (95% interval {interval([nr_lo, nr_hi], value=nr)})"
    r2_txt = ("" if best_r2 is None else
              f"; the best R² any model could reach on this data is about {number(best_r2)}")
    if not trusted:
        findings.append(Finding(severity=Severity.INFO, message=(
            "The floor is not reliable here: " + (f"the features span about {dim:.0f} effective dimensions"
                                                   if dim is not None else "the effective dimension could not be "
                                                   "measured") + ". The Gamma test extrapolates neighbour "
            "differences to distance zero, which needs close neighbours; it is not used to call a target "
            "impossible or the model too good."), evidence={"intrinsic_dimension": dim}))
    if has_model and trusted and model_ci[1] is not None and model_ci[1] < nr_lo:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"The model's holdout RMSE {with_interval(model_rmse, model_ci)} is below the noise floor "
            f"{rng_txt}: no model should do that well with these features. Check the Leakage page (a column "
            "that reveals the outcome, holdout rows copied from training)."),
            evidence={"model_rmse_ci": model_ci, "noise_rmse_ci": [nr_lo, nr_hi]}))
    numbers = (f"the smallest RMSE any model could reach with these features is {rng_txt}{r2_txt}; a plain "
               f"{best_k}-nearest-neighbour rule reaches {number(est.knn_rmse[best_k])}")
    if has_model:
        numbers = f"The model's holdout RMSE is {with_interval(model_rmse, model_ci)}; " + numbers
    else:
        numbers = numbers[0].upper() + numbers[1:]
    if target_rmse is None:
        m["verdict"] = "no_target"
        findings.insert(0, Finding(severity=Severity.INFO, message=(
            f"No target was set (--target-rmse or --target-r2), so whether it is reachable is not applicable. "
            f"{numbers}."), evidence={"noise_rmse_ci": [nr_lo, nr_hi]}))
        summary = f"Noise floor: no model can reach an RMSE below about {rng_txt} with these features"
        summary += (f"; the model's is {number(model_rmse)}, so at most {number(m['room_max_rmse'])} of RMSE is left "
                    "to gain." if has_model else "; set a target RMSE or R² to learn whether it is reachable.")
        return Outcome(summary=summary, findings=findings, metrics=m)
    goal = (f"A target R² of {number(s.target_r2)} (RMSE {number(target_rmse)} on this holdout)"
            if target_src == "r2" else f"A target RMSE of {number(target_rmse)}")
    if has_model and model_ci[1] is not None and target_rmse >= model_ci[1]:
        verdict, sev = "achieved", Severity.INFO
        summary = (f"{goal} is reachable: the model already reaches {number(model_rmse)} "
                   f"({number(model_ci[1])} at most, 95% confidence).")
    elif target_rmse >= knn_hi:
        verdict, sev = "reachable", Severity.INFO
        summary = (f"{goal} is reachable: a plain {best_k}-nearest-neighbour rule already reaches at most "
                   f"{number(knn_hi)} (95% confidence).")
    elif trusted and target_rmse < nr_lo:
        verdict, sev = "infeasible", Severity.FAIL
        summary = (f"{goal} is not reachable: the noise in the target alone leaves an RMSE of at least "
                   f"{number(nr_lo)} with these features (95% confidence; best estimate {number(nr)}).")
    elif not trusted and target_rmse < nr_lo:
        verdict, sev = "probably_infeasible", Severity.WARN
        summary = (f"{goal} is probably not reachable: the estimated noise floor, {number(nr)}, is above it, but "
                   "the floor is not reliable with these features.")
    else:
        verdict, sev = "undetermined", Severity.WARN
        top, who = knn_hi, f"a plain {best_k}-nearest-neighbour rule"
        if has_model and model_ci[1] is not None and model_ci[1] < knn_hi:
            top, who = model_ci[1], "the model"
        summary = (f"Whether {goal[0].lower() + goal[1:]} is reachable cannot be settled: it lies between the "
                   f"noise floor {rng_txt} and what is shown reachable, {number(top)} ({who}, 95% top).")
    m["verdict"] = verdict
    findings.insert(0, Finding(severity=sev, message=f"{summary} {numbers}.",
                               evidence={"target_rmse": target_rmse, "noise_rmse_ci": [nr_lo, nr_hi],
                                         "knn_rmse_high": knn_hi, "model_rmse_ci": model_ci}))
    return Outcome(summary=summary, findings=findings, metrics=m)
