"""Feasibility: how good can any model be on these features (a Bayes-error feasibility
study, Renggli et al. 2021)? The comparison with simple baselines (PEST) lives in
:mod:`readiness.checks.baselines`; both appear on the Feasibility page.

Formulas and their biases: shared/science/bayes_error_and_holdout_reuse.md (part A);
implementations in :mod:`readiness.ber`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness import ber
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity
from readiness.stats import clopper_pearson, cp_lower, cp_upper, unique_inverse

MAX_CATEGORIES = 30  # one-hot keeps the 30 most common values of a text column (baselines too)

# --- feasibility.bayes_error -------------------------------------------------------------
BER_SAMPLE_CAP = 5_000  # rows (training + holdout pooled, stratified) the estimators run on
KS = (1, 3, 5, 9, 15, 25)  # k-NN neighbourhood sizes (k ≤ √(smallest class), always 1, 3, 5)
TRUSTED_DIMENSION = 10.0  # TwoNN intrinsic dimension above which the asymptotic lower bounds overshoot
# (measured: at 11–12 dimensions and a Bayes error of 1–2% the floors' 95% end passed the truth in up to
# 1 run in 6 at 5,000 rows; at 10 and below in none — docs/checks.md)
BER_ALPHA = 0.05  # the range is a 95% statement: 2.5% per side, split (Bonferroni) over that side's estimates
CONVERGED_CHANGE = 0.01  # the floor may fall by up to 1 point (or 2 sd of noise) over the last doubling
MIN_ROWS_PER_CLASS = 1_000  # Wheat et al. 2025: below this the estimates are loose
RARE_CLASS = 0.05


def _pts(x: float) -> str:
    return f"{100 * x:.1f} points"


def _stratified_sample(n: int, cap: int, seed: int, strata: np.ndarray | None) -> np.ndarray:
    """Row indices: all rows when n ≤ cap, else a sample keeping each stratum's share."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, cap, replace=False))
    out = []
    values, inverse = unique_inverse(strata)
    for g in range(len(values)):
        rows = np.flatnonzero(inverse == g)
        take = max(1, round(cap * len(rows) / n))
        out.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(out))


def train_labels_text(ctx: ReviewContext) -> np.ndarray:
    """The training labels as text (one array for every check that samples by class: do not change it)."""
    key = ("training labels as text",)
    if key not in ctx.memo:
        ctx.memo[key] = ctx.y_train.astype(str).to_numpy()
    return ctx.memo[key]


def leak_free_features(ctx: ReviewContext) -> tuple[list[str], list[str]]:
    """(the features shared by training and holdout minus the post-outcome columns, those columns).

    A column ``leakage.feature_target`` fails as recorded after the outcome would let a baseline or
    the Bayes-error study "predict" from the answer itself; both leave it out and say so."""
    from readiness.checks.leakage import post_outcome_columns

    shared = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    try:
        leaks = [c for c in post_outcome_columns(ctx) if c in shared]
    except Exception:  # the leakage check reports its own error; here the columns are used as given
        leaks = []
    return [c for c in shared if c not in leaks], leaks


def leak_note(ctx: ReviewContext, leaks: list[str], leaves_out: str, why: str | None = None) -> str:
    """Sentences on the post-outcome columns left out (``leaves_out``: "The baselines leave out"), why
    (``why``, default: a simple model would read the answer), and what they mean for the model under review."""
    from readiness.checks.leakage import _listed

    one = len(leaks) == 1
    cols = _listed(leaks, quote=True)
    why = why or f"with {'it' if one else 'them'}, a simple model would read the answer instead of predicting it"
    text = f"{leaves_out} {cols}, which the leakage check finds recorded after the outcome (Leakage page): {why}."
    if ctx.model is not None:
        text += (f" The model itself is fed {cols}, so its holdout score is inflated too: judge it again once it "
                 f"is retrained without {'it' if one else 'them'}.")
    elif ctx.data_only:
        text += f" Train the model without {'it' if one else 'them'}."
    else:
        text += (f" If the model behind the prediction column uses {cols}, its scores are inflated too: make sure "
                 f"it does not (ask its owner) and exclude {'it' if one else 'them'} from the data.")
    return text


def pooled_rows(ctx: ReviewContext) -> tuple[list[str], list[str], pd.DataFrame]:
    """(leak-free features, post-outcome columns left out, training and holdout rows of those features and
    the target pooled); SkipCheck when no feature is left."""
    features, leaks = leak_free_features(ctx)
    if not features:
        raise SkipCheck("No feature columns are shared by training and holdout." if not leaks else
                        "Every feature looks recorded after the outcome (Leakage page), so no honest floor can be "
                        "estimated.")
    cols = features + [ctx.target]
    return features, leaks, pd.concat([ctx.train[cols], ctx.test[cols]], ignore_index=True)


def _scored_rows(ctx: ReviewContext) -> np.ndarray:
    if ctx.data_only:  # no model yet: every holdout row counts
        return np.ones(len(ctx.test), dtype=bool)
    scores = np.asarray(ctx.test_scores, dtype=float)
    return np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)


# =========================================================================================
# feasibility.bayes_error
# =========================================================================================


def _study(ctx: ReviewContext) -> dict:
    """The estimators' run on the pooled, leak-free sample, once per review (``ctx.memo``):
    ``baselines.comparison`` asks for the data's own error ceiling too. Raises SkipCheck."""
    key = ("feasibility.study", ctx.settings.random_state)
    if key in ctx.memo:
        if isinstance(ctx.memo[key], SkipCheck):
            raise ctx.memo[key]
        return ctx.memo[key]
    try:
        ctx.memo[key] = _run_study(ctx)
    except SkipCheck as e:
        ctx.memo[key] = e
        raise
    return ctx.memo[key]


def _run_study(ctx: ReviewContext) -> dict:
    seed = ctx.settings.random_state
    features, leaks, pool = pooled_rows(ctx)
    labels = pool[ctx.target].astype(str).to_numpy()
    rows = _stratified_sample(len(pool), BER_SAMPLE_CAP, seed, labels)
    sample = pool.iloc[rows].reset_index(drop=True)
    X, info = ber.encode(sample, features, max_categories=MAX_CATEGORIES)
    if X.shape[1] == 0:
        raise SkipCheck("Every feature is constant or empty, so there is nothing to estimate from.")
    names, y = np.unique(labels[rows], return_inverse=True)
    C = len(names)
    est = ber.estimate(X, y, n_classes=C, ks=KS, seed=seed)
    conflicts = ber.label_conflicts(pool, features, labels)
    return {"features": features, "leaks": leaks, "info": info, "names": names, "y": y, "n_classes": C,
            "est": est, "conflicts": conflicts, "pooled_rows": len(pool)}


def data_ceiling(ctx: ReviewContext) -> dict | None:
    """The data's own ceiling of the best possible error, without the model: the lowest 95% top of the
    k-NN rules, the GHP bound and the majority class (the ``feasibility.bayes_error`` sources other than
    the model, each at α/2 split over them). None when no study can run (regression, no features)."""
    if ctx.task == "regression":
        return None
    try:
        s = _study(ctx)
    except SkipCheck:
        return None
    est = s["est"]
    n = est.n
    counts = {f"knn_{k}": (v["errors"], n) for k, v in est.knn.items()}
    counts["prior"] = (round(est.prior_cap * n), n)
    if est.ghp_upper is not None:
        counts["ghp"] = (round(est.ghp_upper * n), n)
    a_up = BER_ALPHA / 2 / len(counts)
    highs = {k: cp_upper(x, m_, alpha=a_up) for k, (x, m_) in counts.items()}
    key = min(highs, key=highs.get)
    return {"ceiling_high": highs[key], "source": "knn" if key.startswith("knn_") else key,
            "left_out_post_outcome": s["leaks"]}


# what each end of the range rests on, as it reads inside a sentence
BER_SOURCE_TEXT = {"knn": "a plain nearest-neighbour rule", "prior": "always predicting the most common class",
                   "ghp": "the spanning-tree (GHP) ceiling", "model": "the model itself",
                   "cover_hart_1nn": "the Cover–Hart floor of the 1-NN error", "label_conflicts": "conflicting labels"}


@register("feasibility.bayes_error", title="Bayes error: how good can any model be?", area="feasibility",
          antipatterns=("pest",), order=23,
          task_titles={"regression": "Noise floor: how good can any model be?"})
def bayes_error(ctx: ReviewContext) -> Outcome:
    """A feasibility study (Renggli et al. 2021; FeeBee/Snoopy estimators): the lowest error
    any model could reach with these features, estimated on up to 5,000 pooled training
    and holdout rows (standardised numbers, one-hot text). Lower estimates: the Cover–Hart
    bound of the leave-one-out 1-NN error, the GHP minimum-spanning-tree bound, and the
    label-conflict rate of identical feature rows. Upper estimates: the best leave-one-out
    k-NN error, the GHP upper bound, and 1 − the majority class share. The lower bounds are
    asymptotic: they are trusted only when the data's intrinsic dimension is at most 10
    and the 1-NN learning curve has levelled off. Compared with the model's holdout error
    and the target accuracy. For a regression target: the noise floor (the Gamma test's
    smallest reachable RMSE, ``noise_rmse`` with a 95% interval, and ``best_r2``) against
    the model, a k-NN rule and ``--target-rmse`` / ``--target-r2``."""
    if ctx.task == "regression":  # the noise floor: the smallest RMSE any model could reach
        from readiness.checks.feasibility_regression import noise_floor_review

        return noise_floor_review(ctx, max_categories=MAX_CATEGORIES, cap=BER_SAMPLE_CAP)
    s = _study(ctx)
    leaks, info, names, y, C, est, conflicts, n_pool = (
        s["leaks"], s["info"], s["names"], s["y"], s["n_classes"], s["est"], s["conflicts"],
        s["pooled_rows"])

    # --- the model's holdout error (none in a data-only review) ------------------------------
    has_model = not ctx.data_only
    wrong = n_te = model_err = None
    model_ci = [None, None]
    if has_model:
        ok = _scored_rows(ctx)
        y_te = ctx.y_test.astype(str).to_numpy()[ok]
        wrong = int((np.asarray(ctx.test_pred)[ok].astype(str) != y_te).sum())
        n_te = int(ok.sum())
        model_err = wrong / n_te
        model_ci = list(clopper_pearson(wrong, n_te))

    # --- lower and upper estimates ---------------------------------------------------------
    n = est.n
    curve = est.learning_curve
    # Still falling? In high dimension the 1-NN error approaches its limit from above, slowly. A drop
    # over the last doubling larger than 1 point and than twice its sampling noise means not converged.
    change = tolerance = None
    if len(curve["lower"]) >= 2:
        change = curve["lower"][-2] - curve["lower"][-1]
        r_half, n_half = curve["r1"][-2], curve["n"][-2]
        sd_r = math.sqrt(max(r_half * (1 - r_half), 1e-12) / n_half)
        sd_lb = (ber.cover_hart_lower(min(r_half + sd_r, (C - 1) / C), C)
                 - ber.cover_hart_lower(max(r_half - sd_r, 0.0), C)) / 2
        tolerance = max(CONVERGED_CHANGE, 2 * sd_lb)
    converged = change is not None and change <= tolerance
    dim = est.intrinsic_dimension
    low_dim = dim is not None and dim <= TRUSTED_DIMENSION
    cross = round(est.ghp_upper * n) if est.ghp_upper is not None else None
    # Every upper source is the error rate of a real rule (k-NN, majority class, the model) or the GHP
    # ceiling: each counts x errors of n rows, so its one-sided Clopper–Pearson top holds at level α/2/m.
    upper_counts = {f"knn_{k}": (v["errors"], n) for k, v in est.knn.items()}
    upper_counts["prior"] = (round(est.prior_cap * n), n)
    if cross is not None:
        upper_counts["ghp"] = (cross, n)
    if has_model and not leaks:  # with a post-outcome column about, the model's error may rest on it
        upper_counts["model"] = (wrong, n_te)
    a_up = BER_ALPHA / 2 / len(upper_counts)
    upper_parts = {k: (x / m_, cp_upper(x, m_, alpha=a_up)) for k, (x, m_) in upper_counts.items()}
    upper_key = min(upper_parts, key=lambda k: (upper_parts[k][1], upper_parts[k][0]))
    upper, upper_hi = upper_parts[upper_key]
    upper_src = "knn" if upper_key.startswith("knn_") else upper_key
    data_ceiling = min(v[0] for k, v in upper_parts.items() if k != "model")
    # Floors: asymptotic bounds of the 1-NN and GHP counts, the label-conflict rate (biased low, any dimension)
    nn_counts = {"cover_hart_1nn": (est.errors_1nn, n)}
    if cross is not None:
        nn_counts["ghp"] = (cross, n)
    nn_points = {"cover_hart_1nn": est.lb_1nn, "ghp": est.ghp_lower}
    nn_lower = max(nn_points[k] for k in nn_counts)
    consistent = nn_lower <= data_ceiling + 1e-12  # floors vs the data's own ceilings
    trusted = low_dim and converged and consistent
    a_lo = BER_ALPHA / 2 / (len(nn_counts) + 1)
    lower_parts = {k: (nn_points[k], ber.cover_hart_lower(cp_lower(x, m_, alpha=a_lo), C))
                   for k, (x, m_) in nn_counts.items()}
    lower_parts["label_conflicts"] = (conflicts["rate"], cp_lower(conflicts["rows"], n_pool, alpha=a_lo))
    lower_src = max(lower_parts, key=lambda k: lower_parts[k][0])
    lower_point = lower_parts[lower_src][0]
    nn_low = max(lower_parts[k][1] for k in nn_counts)  # the floors' 95% end, trusted or not
    floor_raw = max(lower_parts[k][1] for k in lower_parts if trusted or k == "label_conflicts")
    # one confidence statement: ber_lower_low ≤ ber_lower ≤ ber_upper ≤ ber_upper_high, always
    lower_point_for_range = min(lower_point, upper)
    lower_lo = min(floor_raw, lower_point_for_range)
    floor_lo = lower_lo
    lb_lo = lower_parts["cover_hart_1nn"][1]

    min_class = int(np.bincount(y, minlength=C).min())
    m: dict = {
        "n_classes": C, "sample_rows": n, "pooled_rows": n_pool, "sample_cap": BER_SAMPLE_CAP,
        "dimensions": info["dimensions"], "numeric_features": info["numeric"],
        "categorical_features": info["categorical"], "priors": dict(zip(names.tolist(), est.priors, strict=True)),
        "smallest_class_rows": min_class,
        "error_1nn": est.r1, "lower_1nn": est.lb_1nn, "lower_1nn_low": lb_lo,
        "knn": {str(k): {"error": v["error"], "lower": v["lower"]} for k, v in est.knn.items()},
        "best_k": est.best_k, "upper_knn": est.upper_knn,
        "upper_knn_high": upper_parts[f"knn_{est.best_k}"][1],
        "ghp_lower": est.ghp_lower, "ghp_upper": est.ghp_upper, "prior_cap": est.prior_cap,
        "label_conflict_rate": conflicts["rate"], "label_conflict_rows": conflicts["rows"],
        "label_conflict_groups": conflicts["groups"], "duplicate_feature_rows": conflicts["duplicate_rows"],
        "per_class_error_1nn": dict(zip(names.tolist(), est.per_class_1nn, strict=True)),
        "intrinsic_dimension": dim, "learning_curve": curve, "lower_bound_change_last_doubling": change,
        "converged_tolerance": tolerance, "converged": converged, "lower_bound_trusted": trusted,
        "ber_lower": lower_point_for_range, "ber_lower_low": lower_lo, "ber_lower_source": lower_src,
        "ber_upper": upper, "ber_upper_high": upper_hi, "ber_upper_source": upper_src,
        "ber_confidence": 1 - BER_ALPHA, "ber_floor_low_unclamped": floor_raw,
        "model_error": model_err, "model_error_ci": model_ci, "holdout_rows": n_te,
        "target_accuracy": ctx.settings.target_accuracy,
        "target_error": None if ctx.settings.target_accuracy is None else 1 - ctx.settings.target_accuracy,
        "room_max": max(0.0, model_err - lower_lo) if has_model else None,
        "room_min": max(0.0, model_err - upper_hi) if has_model else None,
        "left_out_post_outcome": leaks,
    }
    findings: list[Finding] = []
    if leaks:
        findings.append(Finding(severity=Severity.INFO, columns=leaks, message=leak_note(
            ctx, leaks, "The estimate of the best possible error leaves out") + " The model's own error is not "
            "used as a ceiling of the best possible error here, since it may rest on the leak.",
            evidence={"left_out_post_outcome": leaks}))
    conf = f"{100 * (1 - BER_ALPHA):.0f}%"
    rng_txt = f"between {_pct(lower_lo)} and {_pct(upper_hi)} ({conf} confidence)"
    if not trusted:
        rng_txt += "; the floor is not reliable here, so the bottom rests on conflicting labels alone"

    # --- caveats (biases of the estimators) ---------------------------------------------------
    reasons = []
    if not low_dim:
        reasons.append(f"the features span about {dim:.0f} effective dimensions" if dim is not None else
                       "the effective dimension could not be measured")
    if not converged and change is not None:
        reasons.append(f"the floor still fell by {_pts(change)} when the sample doubled (not levelled off)")
    if not consistent:
        reasons.append("the lower estimate exceeds the best nearest-neighbour error")
    m["untrusted_reasons"] = reasons
    if reasons:
        findings.append(Finding(severity=Severity.INFO, message=(
            "The lower end of the range is not reliable here: " + "; ".join(reasons) + ". Nearest-neighbour floors "
            "are asymptotic and are biased upward in high dimension or on too few rows (in the validation study, "
            "50 dimensions gave a floor of 21.7% for a true Bayes error of 15.9%), so they are not used to call a "
            "target impossible; only the label-conflict rate is."),
            evidence={"intrinsic_dimension": dim, "change_last_doubling": change, "consistent": consistent}))
    if conflicts["rows"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{conflicts['groups']:,} groups of rows have identical features but different outcomes; "
            f"{conflicts['rows']:,} of {n_pool:,} rows ({_pct(conflicts['rate'], 2)}) must be wrong whatever the model "
            "does, a hard floor."), evidence={k: conflicts[k] for k in ("rows", "groups", "rate")}))
    if min(est.priors) < RARE_CLASS:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The rarest class makes up {_pct(min(est.priors))} of the rows: error rates are dominated by the common "
            "class, and 'always the most common class' already errs only "
            f"{_pct(est.prior_cap)}. Judge the rare class with recall and precision too.")))
    if min_class < MIN_ROWS_PER_CLASS:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The smallest class has {min_class:,} rows in the sample; estimates like these need about "
            f"{MIN_ROWS_PER_CLASS:,} rows per class for a ±2.5-point band (Wheat et al. 2025), so read the range "
            "as approximate."), evidence={"smallest_class_rows": min_class}))
    if has_model and trusted and model_ci[1] < floor_raw:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"The model's holdout error {_pct(model_err)} ({_pct(model_ci[0])}–{_pct(model_ci[1])}) is below the "
            f"estimated floor of {_pct(floor_raw)} ({conf} bottom): no model should do that well with these features. "
            "Check the Leakage page (a column that reveals the outcome, holdout rows copied from training)."),
            evidence={"model_error_ci": model_ci, "ber_floor_low_unclamped": floor_raw}))
    if has_model and upper_src == "knn" and model_ci[0] > upper_hi:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"A plain {est.best_k}-nearest-neighbour rule errs on {_pct(est.upper_knn)} of rows (leave-one-out) against "
            f"the model's {_pct(model_err)} on the holdout: the model leaves accuracy on the table.")))

    # --- the verdict on the target: the 95% ends decide ------------------------------------
    target = ctx.settings.target_accuracy
    numbers = (f"the best possible model errs on {rng_txt}, best estimate about {_pct(lower_point_for_range)}–"
               f"{_pct(upper)}")
    if has_model:
        numbers = (f"The model errs on {_pct(model_err)} of the holdout rows ({_pct(model_ci[0])}–{_pct(model_ci[1])}); "
                   + numbers)
    else:
        numbers = numbers[0].upper() + numbers[1:]
    if target is None and not has_model:
        findings.insert(0, Finding(severity=Severity.INFO, message=(
            f"No target accuracy was set, so nothing is judged. {numbers}. No model exists yet: any model trained "
            f"on these features will err on at least {_pct(lower_lo)} of cases ({conf} confidence), and a simple "
            f"rule already reaches {_pct(upper_hi)} or better."), evidence={"ber_lower_low": lower_lo,
                                                                             "ber_upper_high": upper_hi}))
        summary = (f"Even the best possible model would err on between {_pct(lower_lo)} and {_pct(upper_hi)} of cases "
                   f"({conf} confidence); set a target accuracy to learn whether it is reachable before training a "
                   "model.")
        m["verdict"] = "no_target"
        return Outcome(summary=summary, findings=findings, metrics=m)
    if target is None:
        findings.insert(0, Finding(severity=Severity.INFO, message=(
            f"No target accuracy was set, so nothing is judged. {numbers}: between "
            f"{_pts(m['room_min'])} and {_pts(m['room_max'])} of accuracy are left for any better model to gain."),
            evidence={"room_max": m["room_max"], "room_min": m["room_min"]}))
        summary = (f"Even the best possible model would err on {rng_txt} of cases; the model errs on "
                   f"{_pct(model_err)}, so at most {_pts(m['room_max'])} of accuracy are left to gain.")
        m["verdict"] = "no_target"
        return Outcome(summary=summary, findings=findings, metrics=m)
    e_t = 1 - target
    ev = {"target_error": e_t, "ber_lower_low": lower_lo, "ber_upper_high": upper_hi, "model_error_ci": model_ci}
    if has_model and e_t >= model_ci[1]:
        verdict, sev = "achieved", Severity.INFO
        summary = (f"A target accuracy of {_pct(target)} is reachable: the model already errs on only {_pct(model_err)} "
                   f"of holdout rows ({_pct(model_ci[1])} at most, {conf} confidence).")
    elif e_t >= upper_hi:
        verdict, sev = "reachable", Severity.INFO
        summary = (f"A target accuracy of {_pct(target)} is reachable: {BER_SOURCE_TEXT[upper_src]} already errs on "
                   f"at most {_pct(upper_hi)} ({conf} confidence).")
    elif e_t < floor_lo:
        verdict, sev = "infeasible", Severity.FAIL
        summary = (f"A target accuracy of {_pct(target)} is not reachable: even the best possible model errs on at "
                   f"least {_pct(floor_lo)} of cases with these features ({conf} confidence; best estimate about "
                   f"{_pct(lower_point_for_range)}).")
    elif not trusted and e_t < min(nn_low, upper_hi):
        verdict, sev = "probably_infeasible", Severity.WARN
        summary = (f"A target accuracy of {_pct(target)} is probably not reachable: the estimated floor of the best "
                   f"possible error, about {_pct(nn_lower)}, is above the required {_pct(e_t)}, but that floor is not "
                   "reliable with these features.")
    else:
        verdict, sev = "undetermined", Severity.WARN
        summary = (f"Whether {_pct(target)} accuracy is reachable cannot be settled: the required error "
                   f"{_pct(e_t)} lies within the range of the best possible error, {rng_txt}.")
    m["verdict"] = verdict
    reason = {
        "achieved": f"the required {_pct(e_t)} error is above the top of the model's interval",
        "reachable": f"the required {_pct(e_t)} error is above the {conf} top of the range, which "
                     f"{BER_SOURCE_TEXT[upper_src]} attains",
        "infeasible": f"the required {_pct(e_t)} error is below the {conf} bottom of a trusted floor",
        "probably_infeasible": f"the required {_pct(e_t)} error is below the floor, but the floor is not reliable "
                               "here (see below)",
        "undetermined": f"the required {_pct(e_t)} error is inside the range",
    }[verdict]
    gain = (f"; at most {_pts(m['room_max'])} of accuracy can still be gained by any model" if has_model else
            " (no model yet: this is what any model trained on these features can reach)")
    findings.insert(0, Finding(severity=sev, message=f"Target accuracy {_pct(target)}: {reason}. {numbers}{gain}.",
                               evidence=ev))
    return Outcome(summary=summary, findings=findings, metrics=m)
