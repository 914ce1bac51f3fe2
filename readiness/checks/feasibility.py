"""Feasibility: does the model beat simple baselines (PEST), and how good can any model be
on these features (a Bayes-error feasibility study, Renggli et al. 2021)?

Formulas and their biases: shared/science/bayes_error_and_holdout_reuse.md (part A for the
Bayes error, part B6 for the paired comparison); implementations in :mod:`readiness.ber`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from readiness import ber
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status
from readiness.stats import bootstrap_ci, clopper_pearson, rank_auc

# --- baselines.comparison ----------------------------------------------------------------
BASELINE_TRAIN_CAP = 50_000  # training rows the baselines are fitted on (stratified sample above this)
BASELINE_THRESHOLD = 0.5  # baselines call a row positive when their probability is >= 0.5
ALPHA = 0.05  # two-sided, divided by the number of recorded uses of this holdout (Bonferroni, part B6)
TREE_DEPTH = 4
TREE_MIN_LEAF = 20
MAX_CATEGORIES = 30

# --- feasibility.bayes_error -------------------------------------------------------------
BER_SAMPLE_CAP = 5_000  # rows (training + holdout pooled, stratified) the estimators run on
KS = (1, 3, 5, 9, 15, 25)  # k-NN neighbourhood sizes (k ≤ √(smallest class), always 1, 3, 5)
TRUSTED_DIMENSION = 12.0  # TwoNN intrinsic dimension above which the asymptotic lower bounds overshoot
CONVERGED_CHANGE = 0.01  # the floor may fall by up to 1 point (or 2 sd of noise) over the last doubling
MIN_ROWS_PER_CLASS = 1_000  # Wheat et al. 2025: below this the estimates are loose
RARE_CLASS = 0.05


def _pts(x: float) -> str:
    return f"{100 * x:.1f} points"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _stratified_sample(n: int, cap: int, seed: int, strata: np.ndarray | None) -> np.ndarray:
    """Row indices: all rows when n ≤ cap, else a sample keeping each stratum's share."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, cap, replace=False))
    out = []
    values, inverse = np.unique(strata, return_inverse=True)
    for g in range(len(values)):
        rows = np.flatnonzero(inverse == g)
        take = max(1, round(cap * len(rows) / n))
        out.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(out))


def _scored_rows(ctx: ReviewContext) -> np.ndarray:
    scores = np.asarray(ctx.test_scores, dtype=float)
    return np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)


def _holdout_uses(ctx: ReviewContext) -> int | None:
    prior = ctx.prior_holdout_evaluations
    return None if prior is None else prior + 1


# =========================================================================================
# baselines.comparison
# =========================================================================================


def _preprocessor(frame: pd.DataFrame, features: list[str]):
    """Impute + scale numbers (with missing indicators), one-hot text (30 most common values)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [c for c in features if _is_numeric(frame[c])]
    cat = [c for c in features if c not in num]
    parts = []
    if num:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), num))
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
                                           sparse_output=False), cat))
    return ColumnTransformer(parts, remainder="drop")


def _as_text(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Text/boolean columns as plain object strings ('(missing)' for gaps) for the encoder."""
    out = frame[features].copy()
    for c in features:
        if not _is_numeric(out[c]):
            out[c] = out[c].astype("object").where(out[c].notna(), "(missing)").astype(str).astype(object)
        else:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


BASELINE_NAMES = {
    "majority": "Always the most common class",
    "stratified": "Random guess at the class rates",
    "logistic_regression": "Logistic regression",
    "decision_tree": f"Decision tree, depth {TREE_DEPTH}",
    "mean": "Always the training mean",
    "median": "Always the training median",
    "ridge": "Ridge regression",
    "decision_tree_regressor": f"Regression tree, depth {TREE_DEPTH}",
}
# the same, as they read inside a sentence ("... better than a simple {short}")
BASELINE_SHORT = {
    "majority": "guess of the most common class",
    "stratified": "random guess at the class rates",
    "logistic_regression": "logistic regression",
    "decision_tree": f"depth-{TREE_DEPTH} decision tree",
    "mean": "prediction of the training mean",
    "median": "prediction of the training median",
    "ridge": "ridge regression",
    "decision_tree_regressor": f"depth-{TREE_DEPTH} regression tree",
}


def _baseline_models(task: str, seed: int, frame: pd.DataFrame, features: list[str]) -> dict:
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if task == "regression":
        return {
            "mean": DummyRegressor(strategy="mean"),
            "median": DummyRegressor(strategy="median"),
            "ridge": make_pipeline(_preprocessor(frame, features), Ridge(alpha=1.0)),
            "decision_tree_regressor": make_pipeline(_preprocessor(frame, features), DecisionTreeRegressor(
                max_depth=TREE_DEPTH, min_samples_leaf=TREE_MIN_LEAF, random_state=seed)),
        }
    return {
        "majority": DummyClassifier(strategy="prior"),
        "stratified": DummyClassifier(strategy="stratified", random_state=seed),
        "logistic_regression": make_pipeline(_preprocessor(frame, features), LogisticRegression(max_iter=2000)),
        "decision_tree": make_pipeline(_preprocessor(frame, features), DecisionTreeClassifier(
            max_depth=TREE_DEPTH, min_samples_leaf=TREE_MIN_LEAF, random_state=seed)),
    }


def weighted_auc(codes: np.ndarray, n_codes: int, pos: np.ndarray, neg: np.ndarray, w_pos: np.ndarray,
                 w_neg: np.ndarray) -> float:
    """AUC of a resample given as multiplicities: ``codes`` rank the scores (np.unique inverse),
    ``w_pos``/``w_neg`` count how often each positive/negative row was drawn. O(n), no sorting."""
    neg_w = np.bincount(codes[neg], weights=w_neg, minlength=n_codes)
    below = np.cumsum(neg_w) - neg_w
    cp = codes[pos]
    return float(np.sum(w_pos * (below[cp] + 0.5 * neg_w[cp])) / (w_pos.sum() * w_neg.sum()))


def bootstrap_aucs(y: np.ndarray, scores: dict[str, np.ndarray], *, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """AUC of every score vector on the *same* class-stratified bootstrap resamples of the holdout
    (so differences are paired). Returns name -> array of ``n_boot`` AUCs."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0:
        return {k: np.full(n_boot, np.nan) for k in scores}
    coded = {}
    for k, s in scores.items():
        uniq, inv = np.unique(s, return_inverse=True)
        coded[k] = (inv, len(uniq))
    rng = np.random.default_rng(seed)
    out = {k: np.empty(n_boot) for k in scores}
    for b in range(n_boot):
        w_pos = np.bincount(rng.integers(0, len(pos), len(pos)), minlength=len(pos)).astype(float)
        w_neg = np.bincount(rng.integers(0, len(neg), len(neg)), minlength=len(neg)).astype(float)
        for k, (inv, n_codes) in coded.items():
            out[k][b] = weighted_auc(inv, n_codes, pos, neg, w_pos, w_neg)
    return out


def _interval(values: np.ndarray, alpha: float) -> list:
    v = values[np.isfinite(values)]
    if len(v) < 10:
        return [None, None]
    return [float(np.quantile(v, alpha / 2)), float(np.quantile(v, 1 - alpha / 2))]


def paired_accuracy(model_right: np.ndarray, base_right: np.ndarray, *, alpha: float) -> dict:
    """McNemar (exact when b + c < 25) and Newcombe/Wald intervals for accuracy(model) − accuracy(baseline).

    b = rows the baseline gets right and the model wrong; c = the reverse.
    """
    mr, br = model_right.astype(bool), base_right.astype(bool)
    both, c, b, neither = int((mr & br).sum()), int((mr & ~br).sum()), int((~mr & br).sum()), int((~mr & ~br).sum())
    n = both + b + c + neither
    d, lo, hi = ber.newcombe_paired(both, c, b, neither, alpha=alpha)
    _, wlo, whi = ber.wald_paired(b, c, n, alpha=alpha)
    test = ber.mcnemar(b, c)
    return {"b_baseline_only_right": b, "c_model_only_right": c, "both_right": both, "both_wrong": neither,
            "difference": d, "difference_ci": [lo, hi], "difference_ci_wald": [wlo, whi],
            "mcnemar_test": test["test"], "mcnemar_statistic": test["statistic"], "p_value": test["p_value"],
            "p_value_one_sided": ber.mcnemar_exact_one_sided(b, c)}


def _verdict(lo: float, hi: float) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "undetermined"
    if lo > 0:
        return "better"
    if hi < 0:
        return "worse"
    return "tie"


@register("baselines.comparison", title="Model against simple baselines", area="feasibility",
          antipatterns=("pest", "bad_credit_assignment"), order=22)
def baselines_comparison(ctx: ReviewContext) -> Outcome:
    """Simple baselines trained on the same training rows and features (majority class,
    random guess at the class rates, logistic regression on imputed/scaled/one-hot features,
    a depth-4 decision tree; for regression: mean, median, ridge, depth-4 tree), scored on
    the same holdout rows as the model. The model is compared with the best baseline on
    the same rows: McNemar (exact when b + c < 25, else continuity-corrected) with a
    Newcombe interval for the accuracy difference, and a paired bootstrap for the AUC
    difference (binary). Regression: paired t-interval for the MAE difference."""
    seed = ctx.settings.random_state
    features = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    if not features:
        raise SkipCheck("No feature columns are shared by training and holdout, so no baseline can be trained.")
    y_train = ctx.y_train
    strata = y_train.astype(str).to_numpy() if ctx.task != "regression" else None
    rows = _stratified_sample(len(ctx.train), BASELINE_TRAIN_CAP, seed, strata)
    Xtr = _as_text(ctx.train.iloc[rows], features)
    ytr = y_train.iloc[rows].to_numpy()
    ok = _scored_rows(ctx)
    Xte = _as_text(ctx.test.loc[ok], features)
    uses = _holdout_uses(ctx)
    alpha = ALPHA / (uses or 1)
    m: dict = {"task": ctx.task, "train_rows_used": int(len(rows)), "train_rows": int(len(ctx.train)),
               "train_cap": BASELINE_TRAIN_CAP, "holdout_rows": int(ok.sum()), "alpha": alpha,
               "holdout_uses": uses, "features": len(features)}
    findings: list[Finding] = []
    fitted, failed = {}, {}
    for key, est in _baseline_models(ctx.task, seed, Xtr, features).items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted[key] = est.fit(Xtr, ytr)
        except Exception as exc:  # one baseline failing must not stop the others
            failed[key] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    if failed:
        m["failed_baselines"] = failed
        findings.append(Finding(severity=Severity.INFO, message=(
            "Some baselines could not be trained and are left out: " + "; ".join(
                f"{BASELINE_NAMES[k]} ({v})" for k, v in failed.items())), evidence={"failed": failed}))
    if not fitted:
        raise SkipCheck("None of the baselines could be trained on these features.")
    if len(rows) < len(ctx.train):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The baselines were trained on a stratified sample of {len(rows):,} of the {len(ctx.train):,} training "
            "rows to keep the review fast; more rows would only make them stronger."),
            evidence={"train_rows_used": len(rows)}))
    if ctx.task == "regression":
        return _compare_regression(ctx, fitted, Xte, ok, m, findings, alpha)
    return _compare_classification(ctx, fitted, Xte, ok, m, findings, alpha)


def _compare_classification(ctx, fitted, Xte, ok, m, findings, alpha) -> Outcome:
    seed, B = ctx.settings.random_state, ctx.settings.bootstrap
    y = ctx.y_test.to_numpy()[ok]
    y_s = y.astype(str)
    n = len(y)
    model_pred = np.asarray(ctx.test_pred)[ok].astype(str)
    model_right = model_pred == y_s
    binary = ctx.task == "binary"
    model_scores = np.asarray(ctx.test_scores, dtype=float)[ok] if binary else None
    has_auc = binary and len(np.unique(model_scores)) > 2
    yb = ctx.y_test_binary[ok] if binary else None
    x_model = int(model_right.sum())
    model = {"name": "The model", "accuracy": x_model / n, "accuracy_ci": list(clopper_pearson(x_model, n))}
    if binary:
        model["threshold"] = ctx.settings.threshold
    if has_auc:
        model["roc_auc"] = rank_auc(yb, model_scores)
    m["model"] = model
    baselines: dict = {}
    base_scores: dict = {}
    for key, est in fitted.items():
        classes = [str(c) for c in est.classes_]
        proba = np.asarray(est.predict_proba(Xte), dtype=float)
        if binary:
            pos = classes.index(str(ctx.positive_label)) if str(ctx.positive_label) in classes else None
            neg = next(c for c in [str(c) for c in ctx.classes] if c != str(ctx.positive_label))
            p_pos = proba[:, pos] if pos is not None else np.zeros(n)
            pred = np.where(p_pos >= BASELINE_THRESHOLD, str(ctx.positive_label), neg)
            base_scores[key] = p_pos
        else:
            pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)].astype(str)
        right = pred == y_s
        x = int(right.sum())
        row = {"name": BASELINE_NAMES[key], "accuracy": x / n, "accuracy_ci": list(clopper_pearson(x, n))}
        if binary:
            row["roc_auc"] = rank_auc(yb, base_scores[key]) if len(np.unique(base_scores[key])) > 1 else 0.5
        row["paired"] = paired_accuracy(model_right, right, alpha=alpha)
        baselines[key] = row
    m["baselines"] = baselines
    boots = {}
    if binary:  # AUC intervals: one set of class-stratified resamples for every score, so differences are paired
        ranked_scores = {k: v for k, v in base_scores.items() if len(np.unique(v)) > 2}
        if has_auc:
            ranked_scores["model"] = model_scores
        boots = bootstrap_aucs(yb, ranked_scores, n_boot=B, seed=seed)
        if has_auc:
            model["roc_auc_ci"] = _interval(boots["model"], ALPHA)
        for key in baselines:
            baselines[key]["roc_auc_ci"] = _interval(boots[key], ALPHA) if key in boots else [None, None]
    order = list(baselines)
    best = max(order, key=lambda k: (baselines[k]["accuracy"], -order.index(k)))
    m["best_baseline"] = best
    acc_cmp = baselines[best]["paired"]
    m["accuracy_difference"], m["accuracy_difference_ci"] = acc_cmp["difference"], acc_cmp["difference_ci"]
    m["p_value"], m["mcnemar_test"] = acc_cmp["p_value"], acc_cmp["mcnemar_test"]
    acc_verdict = _verdict(*acc_cmp["difference_ci"])
    m["accuracy_verdict"] = acc_verdict
    auc_verdict = None
    if has_auc:
        ranked = [k for k in order if len(np.unique(base_scores[k])) > 2]
        if ranked:
            best_auc = max(ranked, key=lambda k: (baselines[k]["roc_auc"], -order.index(k)))
            d = model["roc_auc"] - baselines[best_auc]["roc_auc"]
            lo, hi = _interval(boots["model"] - boots[best_auc], alpha)
            m["best_auc_baseline"] = best_auc
            m["auc_difference"], m["auc_difference_ci"] = d, [lo, hi]
            auc_verdict = _verdict(lo, hi)
            m["auc_verdict"] = auc_verdict

    # --- status ----------------------------------------------------------------------------
    bname = BASELINE_SHORT[best]
    conf = f"{100 * (1 - alpha):.0f}%" if alpha >= 0.01 else f"{100 * (1 - alpha):.1f}%"
    acc_txt = (f"accuracy {_pct(model['accuracy'])} against {_pct(baselines[best]['accuracy'])} for the best baseline "
               f"({bname}); difference {100 * acc_cmp['difference']:+.1f} points ({conf} interval "
               f"{100 * acc_cmp['difference_ci'][0]:+.1f} to {100 * acc_cmp['difference_ci'][1]:+.1f}), McNemar "
               f"p = {acc_cmp['p_value']:.3g} (b = {acc_cmp['b_baseline_only_right']}, c = {acc_cmp['c_model_only_right']})")
    auc_txt = ""
    if auc_verdict is not None:
        ab = baselines[m["best_auc_baseline"]]
        auc_txt = (f"ROC AUC {model['roc_auc']:.3f} against {ab['roc_auc']:.3f} for {BASELINE_SHORT[m['best_auc_baseline']]}; "
                   f"difference "
                   f"{m['auc_difference']:+.3f} ({conf} paired bootstrap {m['auc_difference_ci'][0]:+.3f} to "
                   f"{m['auc_difference_ci'][1]:+.3f})")
    ev = {"best_baseline": best, "accuracy_difference_ci": acc_cmp["difference_ci"], "p_value": acc_cmp["p_value"]}
    thr_note = ""
    if binary and ctx.settings.threshold != BASELINE_THRESHOLD:
        thr_note = (f" The model is judged at its decision threshold {ctx.settings.threshold:g}, the baselines at "
                    f"{BASELINE_THRESHOLD:g}; a threshold chosen for costs can trade accuracy for catching positives.")
    if acc_verdict == "worse" and auc_verdict != "better":
        sev, status = Severity.FAIL, Status.FAIL
        msg = f"A simple baseline is significantly better than the model: {acc_txt}." + thr_note
        summary = (f"The model is significantly worse than a simple {bname} on the same holdout rows "
                   f"({_pct(model['accuracy'])} against {_pct(baselines[best]['accuracy'])} accuracy).")
    elif acc_verdict == "worse":
        sev, status = Severity.WARN, Status.WARN
        msg = (f"At its threshold the model is less accurate than the best baseline ({acc_txt}), but it ranks cases "
               f"significantly better ({auc_txt}). Check the threshold on the Calibration page." + thr_note)
        summary = (f"The model ranks cases better than every simple baseline, but at its threshold it is less accurate "
                   f"than a {bname}.")
    elif auc_verdict == "worse":
        # better accuracy but worse ranking: judgement (warn); no better accuracy and worse ranking: fail
        sev = Severity.FAIL if acc_verdict == "tie" else Severity.WARN
        status = Status(sev.value)
        msg = f"A simple baseline ranks cases significantly better than the model: {auc_txt}; {acc_txt}."
        summary = (f"A simple {BASELINE_SHORT[m['best_auc_baseline']]} ranks cases significantly better "
                   f"than the model.")
    elif acc_verdict == "better" or auc_verdict == "better":
        sev, status = Severity.INFO, Status.PASS
        parts = [acc_txt] + ([auc_txt] if auc_txt else [])
        if acc_verdict == "better":
            summary = (f"The model is significantly more accurate than the best simple baseline ({bname}): "
                       f"{_pct(model['accuracy'])} against {_pct(baselines[best]['accuracy'])}.")
            msg = "The model beats every simple baseline by more than chance: " + "; ".join(parts) + "."
        else:
            summary = (f"The model ranks cases significantly better than every simple baseline; at its threshold its "
                       f"accuracy cannot be told apart from the best baseline ({bname}).")
            msg = ("On ranking the model beats the baselines by more than chance, on accuracy at the threshold it does "
                   "not: " + "; ".join(parts) + ".")
    else:
        sev, status = Severity.WARN, Status.WARN
        parts = [acc_txt] + ([auc_txt] if auc_txt else [])
        msg = ("The holdout cannot tell the model apart from a simple baseline: " + "; ".join(parts) + ". Its extra "
               "complexity is not shown to buy anything." + thr_note)
        summary = (f"The model is not shown to be better than a simple {bname} "
                   f"({_pct(model['accuracy'])} against {_pct(baselines[best]['accuracy'])} accuracy).")
    findings.insert(0, Finding(severity=sev, message=msg, evidence=ev))
    uses = m["holdout_uses"]
    if uses and uses > 1:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"This holdout has been evaluated {uses} times (review history), so the tests use α = 0.05/{uses} = "
            f"{alpha:.4f} (Bonferroni) to keep the chance of a false 'better' at 5% over all uses."),
            evidence={"holdout_uses": uses, "alpha": alpha}))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


def _compare_regression(ctx, fitted, Xte, ok, m, findings, alpha) -> Outcome:
    seed, B = ctx.settings.random_state, ctx.settings.bootstrap
    y = ctx.y_test.to_numpy(dtype=float)[ok]
    p_model = np.asarray(ctx.test_scores, dtype=float)[ok]
    err_model = np.abs(y - p_model)

    def r2(a, b):
        sst = float(np.sum((a - a.mean()) ** 2))
        return 1 - float(np.sum((a - b) ** 2)) / sst if sst > 0 else math.nan

    def mae(a, b):
        return float(np.mean(np.abs(a - b)))

    model = {"name": "The model", "mae": mae(y, p_model), "mae_ci": list(bootstrap_ci(mae, y, p_model, n_boot=B, seed=seed)),
             "r2": r2(y, p_model), "r2_ci": list(bootstrap_ci(r2, y, p_model, n_boot=B, seed=seed))}
    m["model"] = model
    baselines = {}
    for key, est in fitted.items():
        p = np.asarray(est.predict(Xte), dtype=float)
        d = np.abs(y - p) - err_model  # > 0: the model errs less on this row
        t = stats.ttest_1samp(d, 0.0) if np.std(d) > 0 else None
        se = float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
        q = float(stats.t.ppf(1 - alpha / 2, max(1, len(d) - 1)))
        baselines[key] = {"name": BASELINE_NAMES[key], "mae": mae(y, p),
                          "mae_ci": list(bootstrap_ci(mae, y, p, n_boot=B, seed=seed)), "r2": r2(y, p),
                          "r2_ci": list(bootstrap_ci(r2, y, p, n_boot=B, seed=seed)),
                          "paired": {"mae_improvement": float(d.mean()),
                                     "mae_improvement_ci": [float(d.mean() - q * se), float(d.mean() + q * se)],
                                     "test": "paired t-test on absolute errors",
                                     "p_value": float(t.pvalue) if t is not None else 1.0}}
    m["baselines"] = baselines
    order = list(baselines)
    best = min(order, key=lambda k: (baselines[k]["mae"], order.index(k)))
    m["best_baseline"] = best
    cmp_ = baselines[best]["paired"]
    m["mae_improvement"], m["mae_improvement_ci"], m["p_value"] = cmp_["mae_improvement"], cmp_["mae_improvement_ci"], cmp_["p_value"]
    verdict = _verdict(*cmp_["mae_improvement_ci"])
    m["mae_verdict"] = verdict
    bname = BASELINE_SHORT[best]
    lo, hi = cmp_["mae_improvement_ci"]
    txt = (f"MAE {model['mae']:.4g} against {baselines[best]['mae']:.4g} for the best baseline ({bname}); the model's "
           f"absolute error is lower by {cmp_['mae_improvement']:.4g} per row on average (interval {lo:.4g} to {hi:.4g}, "
           f"p = {cmp_['p_value']:.3g})")
    ev = {"best_baseline": best, "mae_improvement_ci": [lo, hi], "p_value": cmp_["p_value"]}
    if verdict == "better":
        sev, status = Severity.INFO, Status.PASS
        summary = f"The model's errors are significantly smaller than the best simple baseline's ({bname})."
    elif verdict == "worse":
        sev, status = Severity.FAIL, Status.FAIL
        summary = f"A simple {bname} makes significantly smaller errors than the model."
    else:
        sev, status = Severity.WARN, Status.WARN
        summary = f"The model is not shown to be better than a simple {bname}."
    findings.insert(0, Finding(severity=sev, message=txt + ".", evidence=ev))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


# =========================================================================================
# feasibility.bayes_error
# =========================================================================================


def _cp_lo(x: int, n: int) -> float:
    return clopper_pearson(x, n)[0] if n else math.nan


def _cp_hi(x: int, n: int) -> float:
    return clopper_pearson(x, n)[1] if n else math.nan


@register("feasibility.bayes_error", title="Bayes error: how good can any model be?", area="feasibility",
          antipatterns=("pest",), order=23)
def bayes_error(ctx: ReviewContext) -> Outcome:
    """A feasibility study (Renggli et al. 2021; FeeBee/Snoopy estimators): the lowest error
    any model could reach with these features, estimated on up to 5,000 pooled training
    and holdout rows (standardised numbers, one-hot text). Lower estimates: the Cover–Hart
    bound of the leave-one-out 1-NN error, the GHP minimum-spanning-tree bound, and the
    label-conflict rate of identical feature rows. Upper estimates: the best leave-one-out
    k-NN error, the GHP upper bound, and 1 − the majority class share. The lower bounds are
    asymptotic: they are trusted only when the data's intrinsic dimension is at most 12
    and the 1-NN learning curve has levelled off. Compared with the model's holdout error
    and the target accuracy."""
    if ctx.task == "regression":
        raise SkipCheck("The Bayes error rate is defined for classification; for a regression target the noise "
                        "floor would need a different study (e.g. replicate measurements).")
    seed = ctx.settings.random_state
    features = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    if not features:
        raise SkipCheck("No feature columns are shared by training and holdout.")
    pool = pd.concat([ctx.train[features + [ctx.target]], ctx.test[features + [ctx.target]]], ignore_index=True)
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
    n_pool = len(pool)

    # --- the model's holdout error ----------------------------------------------------------
    ok = _scored_rows(ctx)
    y_te = ctx.y_test.astype(str).to_numpy()[ok]
    wrong = int((np.asarray(ctx.test_pred)[ok].astype(str) != y_te).sum())
    n_te = int(ok.sum())
    model_err = wrong / n_te
    model_ci = list(clopper_pearson(wrong, n_te))

    # --- lower and upper estimates ---------------------------------------------------------
    n = est.n
    lb_lo = ber.cover_hart_lower(_cp_lo(est.errors_1nn, n), C)
    lower_parts = {"cover_hart_1nn": (est.lb_1nn, lb_lo)}
    if est.ghp_lower is not None:
        cross = round(est.ghp_upper * n)
        lower_parts["ghp"] = (est.ghp_lower, ber.cover_hart_lower(_cp_lo(cross, n), C))
    conflict_lo = _cp_lo(conflicts["rows"], n_pool)
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
    upper_parts = {"knn": (est.upper_knn, _cp_hi(est.upper_knn_errors, n)),
                   "prior": (est.prior_cap, _cp_hi(round(est.prior_cap * n), n))}
    if est.ghp_upper is not None:
        upper_parts["ghp"] = (est.ghp_upper, _cp_hi(round(est.ghp_upper * n), n))
    nn_lower = max(v[0] for v in lower_parts.values())
    consistent = nn_lower <= min(v[0] for v in upper_parts.values()) + 1e-12  # floors vs the data's own ceilings
    # any trained model's holdout error is an upper estimate of R*, its Clopper–Pearson top a finite-sample bound
    upper_parts["model"] = (model_err, model_ci[1])
    upper_src = min(upper_parts, key=lambda k: (upper_parts[k][0], upper_parts[k][1]))
    upper, upper_hi = upper_parts[upper_src]
    trusted = low_dim and converged and consistent
    lower_src = max(lower_parts, key=lambda k: lower_parts[k][0])
    lower, lower_lo = lower_parts[lower_src]
    if conflicts["rate"] > lower:
        lower_src, lower, lower_lo = "label_conflicts", conflicts["rate"], conflict_lo
    lower_point_for_range = min(lower, upper)
    hard_floor_lo = conflict_lo  # valid at any dimension
    floor_lo = max(lower_lo, conflict_lo) if trusted else hard_floor_lo

    min_class = int(np.bincount(y, minlength=C).min())
    m: dict = {
        "n_classes": C, "sample_rows": n, "pooled_rows": n_pool, "sample_cap": BER_SAMPLE_CAP,
        "dimensions": info["dimensions"], "numeric_features": info["numeric"],
        "categorical_features": info["categorical"], "priors": dict(zip(names.tolist(), est.priors, strict=True)),
        "smallest_class_rows": min_class,
        "error_1nn": est.r1, "lower_1nn": est.lb_1nn, "lower_1nn_low": lb_lo,
        "knn": {str(k): {"error": v["error"], "lower": v["lower"]} for k, v in est.knn.items()},
        "best_k": est.best_k, "upper_knn": est.upper_knn, "upper_knn_high": upper_parts["knn"][1],
        "ghp_lower": est.ghp_lower, "ghp_upper": est.ghp_upper, "prior_cap": est.prior_cap,
        "label_conflict_rate": conflicts["rate"], "label_conflict_rows": conflicts["rows"],
        "label_conflict_groups": conflicts["groups"], "duplicate_feature_rows": conflicts["duplicate_rows"],
        "per_class_error_1nn": dict(zip(names.tolist(), est.per_class_1nn, strict=True)),
        "intrinsic_dimension": dim, "learning_curve": curve, "lower_bound_change_last_doubling": change,
        "converged_tolerance": tolerance, "converged": converged, "lower_bound_trusted": trusted,
        "ber_lower": lower_point_for_range, "ber_lower_low": lower_lo, "ber_lower_source": lower_src,
        "ber_upper": upper, "ber_upper_high": upper_hi, "ber_upper_source": upper_src,
        "model_error": model_err, "model_error_ci": model_ci, "holdout_rows": n_te,
        "target_accuracy": ctx.settings.target_accuracy,
        "target_error": None if ctx.settings.target_accuracy is None else 1 - ctx.settings.target_accuracy,
        "room_max": max(0.0, model_err - lower_point_for_range), "room_min": max(0.0, model_err - upper),
    }
    findings: list[Finding] = []
    if upper - lower_point_for_range < 0.0005:
        rng_txt = f"at most about {_pct(upper)}"
    else:
        rng_txt = f"about {_pct(lower_point_for_range)}–{_pct(upper)}" + ("" if trusted else " (lower end uncertain)")

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
    if trusted and model_ci[1] < lower_lo:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"The model's holdout error {_pct(model_err)} ({_pct(model_ci[0])}–{_pct(model_ci[1])}) is below the "
            f"estimated floor of {_pct(lower_lo)}: no model should do that well with these features. Check the "
            "Leakage page (a column that reveals the outcome, holdout rows copied from training)."),
            evidence={"model_error_ci": model_ci, "ber_lower_low": lower_lo}))
    if model_ci[0] > upper_hi:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"A plain {est.best_k}-nearest-neighbour rule errs on {_pct(est.upper_knn)} of rows (leave-one-out) against "
            f"the model's {_pct(model_err)} on the holdout: the model leaves accuracy on the table.")))

    # --- the verdict on the target ---------------------------------------------------------
    target = ctx.settings.target_accuracy
    numbers = (f"The model errs on {_pct(model_err)} of the holdout rows ({_pct(model_ci[0])}–{_pct(model_ci[1])}); "
               f"the best possible model on {rng_txt} (95% ends {_pct(lower_lo)}–{_pct(upper_hi)})")
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
    if e_t >= model_ci[1]:
        verdict, sev = "achieved", Severity.INFO
        summary = (f"A target accuracy of {_pct(target)} is reachable: the model already errs on only {_pct(model_err)} "
                   f"of holdout rows; the best possible model would err on {rng_txt}.")
    elif e_t >= upper_hi:
        verdict, sev = "reachable", Severity.INFO
        summary = (f"A target accuracy of {_pct(target)} is reachable: a simple nearest-neighbour rule already errs on "
                   f"about {_pct(upper)}; the best possible model would err on {rng_txt}.")
    elif e_t < floor_lo:
        verdict, sev = "infeasible", Severity.FAIL
        summary = (f"A target accuracy of {_pct(target)} is not reachable: even the best possible model errs on about "
                   f"{_pct(lower_point_for_range)} of cases with these features (at least {_pct(floor_lo)} at 95% "
                   "confidence).")
    elif e_t < lower_lo:
        verdict, sev = "probably_infeasible", Severity.WARN
        summary = (f"A target accuracy of {_pct(target)} is probably not reachable: the estimated floor of the best "
                   f"possible error, about {_pct(lower)}, is above the required {_pct(e_t)}, but that floor is not "
                   "reliable with these features.")
    else:
        verdict, sev = "undetermined", Severity.WARN
        summary = (f"Whether {_pct(target)} accuracy is reachable cannot be settled: the required error "
                   f"{_pct(e_t)} lies within the estimated range of the best possible error, {rng_txt}.")
    m["verdict"] = verdict
    reason = {
        "achieved": f"the required {_pct(e_t)} error is above the top of the model's interval",
        "reachable": f"the required {_pct(e_t)} error is above the 95% top of the range, which a nearest-neighbour "
                     "rule attains",
        "infeasible": f"the required {_pct(e_t)} error is below the 95% bottom of a trusted floor",
        "probably_infeasible": f"the required {_pct(e_t)} error is below the floor, but the floor is not reliable "
                               "here (see below)",
        "undetermined": f"the required {_pct(e_t)} error is inside the range",
    }[verdict]
    findings.insert(0, Finding(severity=sev, message=(
        f"Target accuracy {_pct(target)}: {reason}. {numbers}; at most {_pts(m['room_max'])} of accuracy can still "
        "be gained by any model."), evidence=ev))
    return Outcome(summary=summary, findings=findings, metrics=m)
