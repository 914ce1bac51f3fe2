"""Baselines: does the model beat simple models trained on the same data (PEST)?

Simple baselines are fitted on the same training rows and compared with the model on the
same holdout rows with paired tests (science notes part B6); the Bayes-error study lives in
:mod:`readiness.checks.feasibility`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from readiness import ber
from readiness.checks.feasibility import (
    MAX_CATEGORIES,
    _scored_rows,
    _stratified_sample,
    leak_free_features,
    leak_note,
    train_labels_text,
)
from readiness.checks.leakage import _listed
from readiness.fmt import estimate, interval, number, p_text, with_interval
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status
from readiness.stats import auc_ci, bootstrap_ci, clopper_pearson, rank_auc

# --- baselines.comparison ----------------------------------------------------------------
BASELINE_TRAIN_CAP = 50_000  # training rows the baselines are fitted on (stratified sample above this)
BASELINE_THRESHOLD = 0.5  # baselines call a row positive when their probability is >= 0.5
ALPHA = 0.05  # two-sided, divided by the number of recorded uses of this holdout (Bonferroni, part B6)
TREE_DEPTH = 4
TREE_MIN_LEAF = 20
#: margin of practical relevance: a baseline must beat the model by more than this, with confidence, to fail
#: it; with costs set, one accuracy point of errors at the average error cost, per 1,000 decisions
MARGIN_POINTS = 0.01
AUC_MARGIN = 0.02  # a ranking worse by more than this (with confidence) is worth a warning
MAE_MARGIN = 0.01  # regression: 1% of the best baseline's mean absolute error


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


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
        if isinstance(out[c].dtype, pd.StringDtype):  # already text: fill in place (a round trip through objects
            out[c] = out[c].fillna("(missing)").astype(object)  # and back to text is slow at a million rows)
        elif not _is_numeric(out[c]):
            out[c] = out[c].astype("object").where(out[c].notna(), "(missing)").astype(str).astype(object)
        else:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


class _Prepared:
    """A baseline pipeline fitted on features its preprocessor made once for every baseline (the same
    preprocessor: counting a million text values for the one-hot encoder is slow); it predicts as
    the pipeline does, and transforms each frame once for all the baselines that share it."""

    def __init__(self, shared: dict, estimator):
        self.shared, self.estimator = shared, estimator

    @property
    def classes_(self):
        return self.estimator.classes_

    def _features(self, X: pd.DataFrame):
        if self.shared.get("frame") is not X:
            self.shared["frame"], self.shared["features"] = X, self.shared["pre"].transform(X)
        return self.shared["features"]

    def predict_proba(self, X: pd.DataFrame):
        return self.estimator.predict_proba(self._features(X))

    def predict(self, X: pd.DataFrame):
        return self.estimator.predict(self._features(X))


def _fit_baseline(est, X: pd.DataFrame, y: np.ndarray, shared: dict):
    """``est.fit(X, y)``; a pipeline's preprocessor (every baseline has the same) is fitted once, in ``shared``."""
    from sklearn.pipeline import Pipeline

    if not isinstance(est, Pipeline) or len(est.steps) != 2:
        return est.fit(X, y)
    if "pre" not in shared:
        pre = est.steps[0][1]
        try:
            shared.update(pre=pre, train=pre.fit_transform(X, y), error=None)
        except Exception as exc:  # every pipeline meets it, as its own fit would
            shared.update(pre=pre, train=None, error=exc)
    if shared["error"] is not None:
        raise shared["error"]
    return _Prepared(shared, est.steps[-1][1].fit(shared["train"], y))


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
    return _weighted_auc_of_codes(codes[pos], codes[neg], n_codes, w_pos, w_neg)


def _weighted_auc_of_codes(c_pos: np.ndarray, c_neg: np.ndarray, n_codes: int, w_pos: np.ndarray,
                           w_neg: np.ndarray) -> float:
    """:func:`weighted_auc` given the positives' and the negatives' codes."""
    neg_w = np.bincount(c_neg, weights=w_neg, minlength=n_codes)
    below = np.cumsum(neg_w) - neg_w
    return float(np.sum(w_pos * (below[c_pos] + 0.5 * neg_w[c_pos])) / (w_pos.sum() * w_neg.sum()))


def bootstrap_aucs(y: np.ndarray, scores: dict[str, np.ndarray], *, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """AUC of every score vector on the *same* class-stratified bootstrap resamples of the holdout
    (so differences are paired). Returns name -> array of ``n_boot`` AUCs."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0:
        return {k: np.full(n_boot, np.nan) for k in scores}
    coded = {}
    for k, s in scores.items():
        uniq, inv = np.unique(s, return_inverse=True)
        coded[k] = (inv[pos], inv[neg], len(uniq))  # each resample's AUC needs the classes' codes: taken out once
    rng = np.random.default_rng(seed)
    out = {k: np.empty(n_boot) for k in scores}
    for b in range(n_boot):
        w_pos = np.bincount(rng.integers(0, len(pos), len(pos)), minlength=len(pos)).astype(float)
        w_neg = np.bincount(rng.integers(0, len(neg), len(neg)), minlength=len(neg)).astype(float)
        for k, (c_pos, c_neg, n_codes) in coded.items():
            out[k][b] = _weighted_auc_of_codes(c_pos, c_neg, n_codes, w_pos, w_neg)
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


def _decision(lo: float, hi: float, margin: float) -> str:
    """better (interval above 0), worse (interval below −margin), within_margin (inside ±margin) or undetermined."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "undetermined"
    if lo > 0:
        return "better"
    if hi < -margin:
        return "worse"
    if lo >= -margin and hi <= margin:
        return "within_margin"
    return "undetermined"


def _gain(d: float, by_cost: bool) -> str:
    if by_cost:
        return f"saves {d:,.0f} per 1,000 decisions" if d >= 0 else f"costs {-d:,.0f} more per 1,000 decisions"
    return f"{100 * d:+.1f} accuracy points"


def _paired_mean_ci(d: np.ndarray, alpha: float) -> tuple[float, list[float]]:
    """Mean of paired differences with a t-interval."""
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return mean, [math.nan, math.nan]
    se = float(d.std(ddof=1) / math.sqrt(n))
    q = float(stats.t.ppf(1 - alpha / 2, n - 1))
    return mean, [mean - q * se, mean + q * se]


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
    features, leaks = leak_free_features(ctx)
    if not features:
        raise SkipCheck("No feature columns are shared by training and holdout, so no baseline can be trained."
                        if not leaks else "Every feature looks recorded after the outcome (Leakage page), so no "
                        "honest baseline can be trained.")
    y_train = ctx.y_train
    strata = train_labels_text(ctx) if ctx.task != "regression" else None
    rows = _stratified_sample(len(ctx.train), BASELINE_TRAIN_CAP, seed, strata)
    Xtr = _as_text(ctx.train.iloc[rows], features)
    ytr = y_train.iloc[rows].to_numpy()
    ok = _scored_rows(ctx)
    Xte = _as_text(ctx.test.loc[ok], features)
    uses = _holdout_uses(ctx)
    alpha = ALPHA / (uses or 1)
    m: dict = {"task": ctx.task, "train_rows_used": int(len(rows)), "train_rows": int(len(ctx.train)),
               "train_cap": BASELINE_TRAIN_CAP, "holdout_rows": int(ok.sum()), "alpha": alpha,
               "holdout_uses": uses, "features": len(features), "left_out_post_outcome": leaks}
    findings: list[Finding] = []
    if leaks:
        findings.append(Finding(severity=Severity.INFO, columns=leaks, message=leak_note(
            ctx, leaks, "The baselines leave out"), evidence={"left_out_post_outcome": leaks}))
    fitted, failed = {}, {}
    shared: dict = {}
    for key, est in _baseline_models(ctx.task, seed, Xtr, features).items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted[key] = _fit_baseline(est, Xtr, ytr, shared)
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
    if ctx.data_only:
        return _baselines_only(ctx, fitted, Xte, ok, m, findings)
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
    base_preds: dict = {}
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
        base_preds[key] = pred
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
        # each AUC's own interval is the one the review uses wherever an AUC appears (stats.auc_ci);
        # the paired resamples serve the differences only
        if has_auc:
            model["roc_auc_ci"] = list(auc_ci(yb, model_scores))
        for key in baselines:
            baselines[key]["roc_auc_ci"] = list(auc_ci(yb, base_scores[key])) if key in boots else [None, None]
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

    # --- the measure that decides, and its margin of practical relevance ----------------------
    costs = (ctx.settings.cost_fp, ctx.settings.cost_fn)
    by_cost = binary and costs != (1.0, 1.0)
    if by_cost:
        pos_l = str(ctx.positive_label)
        truth_pos = y_s == pos_l

        def row_cost(pred):
            return np.where((pred == pos_l) & ~truth_pos, costs[0], 0.0) + np.where((pred != pos_l) & truth_pos,
                                                                                     costs[1], 0.0)
        model_cost = row_cost(model_pred)
        model["cost_per_1000"] = 1000 * float(model_cost.mean())
        for key in baselines:
            c = row_cost(base_preds[key])
            baselines[key]["cost_per_1000"] = 1000 * float(c.mean())
            baselines[key]["paired"]["cost_saving_per_1000"] = _paired_mean_ci(1000 * (c - model_cost), alpha)
        dec_best = min(order, key=lambda k: (baselines[k]["cost_per_1000"], order.index(k)))
        gain, (glo, ghi) = baselines[dec_best]["paired"]["cost_saving_per_1000"]
        margin = 1000 * MARGIN_POINTS * (costs[0] + costs[1]) / 2
        unit = "cost per 1,000 decisions"
    else:
        dec_best = best
        gain, (glo, ghi) = acc_cmp["difference"], acc_cmp["difference_ci"]
        margin = MARGIN_POINTS
        unit = "accuracy points"
    decision = _decision(glo, ghi, margin)
    m.update({"decision_measure": "cost_per_1000" if by_cost else "accuracy", "decision_baseline": dec_best,
              "margin": margin, "margin_unit": unit, "decision_difference": gain,
              "decision_difference_ci": [glo, ghi], "decision_verdict": decision, "auc_margin": AUC_MARGIN})

    # --- status ----------------------------------------------------------------------------
    bname = BASELINE_SHORT[dec_best]
    conf = f"{100 * (1 - alpha):.0f}%" if alpha >= 0.01 else f"{100 * (1 - alpha):.1f}%"
    b_acc = baselines[best]
    acc_txt = (f"accuracy {_pct(model['accuracy'])} against {_pct(b_acc['accuracy'])} for the best baseline "
               f"({BASELINE_SHORT[best]}); difference {100 * acc_cmp['difference']:+.1f} points ({conf} interval "
               f"{100 * acc_cmp['difference_ci'][0]:+.1f} to {100 * acc_cmp['difference_ci'][1]:+.1f}), McNemar "
               f"{p_text(acc_cmp['p_value'])} (b = {acc_cmp['b_baseline_only_right']}, c = {acc_cmp['c_model_only_right']})")
    if by_cost:
        dec_txt = (f"cost {model['cost_per_1000']:,.0f} per 1,000 decisions against "
                   f"{baselines[dec_best]['cost_per_1000']:,.0f} for the cheapest baseline ({bname}); the model "
                   f"{_gain(gain, True)} ({conf} interval of the saving {glo:+,.0f} to {ghi:+,.0f}; the margin, "
                   f"{margin:,.0f}, is one accuracy point of errors at the average error cost)")
        margin_txt = f"{margin:,.0f} per 1,000 decisions"
    else:
        dec_txt = acc_txt
        margin_txt = f"{100 * margin:.1f} accuracy point"
    auc_txt = ""
    if auc_verdict is not None:
        ab = baselines[m["best_auc_baseline"]]
        auc_txt = (f"ROC AUC {model['roc_auc']:.3f} against {ab['roc_auc']:.3f} for {BASELINE_SHORT[m['best_auc_baseline']]}; "
                   f"difference {m['auc_difference']:+.3f} ({conf} paired bootstrap {m['auc_difference_ci'][0]:+.3f} "
                   f"to {m['auc_difference_ci'][1]:+.3f})")
    auc_worse = auc_verdict is not None and m["auc_difference_ci"][1] < -AUC_MARGIN
    ev = {"best_baseline": dec_best, "decision_difference_ci": [glo, ghi], "margin": margin,
          "p_value": acc_cmp["p_value"]}
    thr_note = ""
    if binary and ctx.settings.threshold != BASELINE_THRESHOLD:
        thr_note = (f" The model is judged at its decision threshold {ctx.settings.threshold:g}, the baselines at "
                    f"{BASELINE_THRESHOLD:g}; a threshold chosen for costs can trade accuracy for catching positives.")
    parts = [dec_txt] + ([acc_txt] if by_cost else []) + ([auc_txt] if auc_txt else [])
    # a model file fed a post-outcome column: its lead over honest baselines is no evidence
    fed_leak = [c for c in m.get("left_out_post_outcome", []) if ctx.model is not None and c in ctx.features]
    if decision == "worse" and auc_verdict != "better":
        sev, status = Severity.FAIL, Status.FAIL
        msg = (f"A simple baseline beats the model by more than the margin of practical relevance ({margin_txt}), "
               f"with {conf} confidence: " + "; ".join(parts) + "." + thr_note)
        summary = f"A simple {bname} does better than the model, by more than {margin_txt}, on the same holdout rows."
    elif decision == "worse":
        sev, status = Severity.WARN, Status.WARN
        msg = (f"At its threshold the model does worse than the best baseline by more than {margin_txt}, but it ranks "
               "cases significantly better: " + "; ".join(parts) + ". Check the threshold on the Business threshold "
               "page." + thr_note)
        summary = (f"The model ranks cases better than every simple baseline, but at its threshold a {bname} does "
                   "better.")
    elif auc_worse:
        sev, status = Severity.WARN, Status.WARN
        msg = (f"A simple baseline ranks cases better than the model by more than {AUC_MARGIN:.2f} AUC, with "
               f"{conf} confidence: " + "; ".join(parts) + ".")
        summary = (f"A simple {BASELINE_SHORT[m['best_auc_baseline']]} ranks cases better than the model by more "
                   f"than {AUC_MARGIN:.2f} AUC.")
    elif decision == "better" and fed_leak:
        sev, status = Severity.WARN, Status.WARN
        cols = _listed(fed_leak, quote=True)
        msg = (f"The model beats every simple baseline, but it is fed {cols}, which looks recorded after the "
               f"outcome, and the baselines are not: its lead may be the leak's. On the holdout: " + "; ".join(parts) + ".")
        summary = (f"The model beats the simple baselines only with {cols}, which looks recorded after the outcome; "
                   "compare again once it is retrained without it.")
    elif decision == "better":
        sev, status = Severity.INFO, Status.PASS
        msg = "The model beats every simple baseline by more than chance: " + "; ".join(parts) + "."
        summary = (f"The model does better than the best simple baseline ({bname}) by more than chance "
                   f"({_gain(gain, by_cost)}).")
    elif decision == "undetermined" and ghi < 0:  # a baseline is better beyond chance, not shown beyond the margin
        # (issue 12, COMPAS: "the holdout cannot separate them" above an interval of -3.9 to -0.5 points, p = 0.012)
        sev, status = Severity.INFO, Status.PASS
        msg = (f"A simple baseline does better than the model by more than chance, but the holdout cannot show that it "
               f"is better by more than the margin of practical relevance ({margin_txt}); the simpler model may be "
               "preferable: " + "; ".join(parts) + "." + thr_note)
        summary = (f"A simple {bname} does better than the model by more than chance ({_gain(gain, by_cost)}), though "
                   f"not shown to by more than {margin_txt}. The simpler model may be preferable.")
    else:
        sev, status = Severity.INFO, Status.PASS
        within = decision == "within_margin"
        why, why_short = _why_a_tie_is_fine(ctx, m, model)
        prefer = "the simpler model may be preferable"
        msg = (("As good as a simple baseline — within the margin of practical relevance "
                f"(±{margin_txt}){', so ' + prefer if not why else ''}: ") if within else
               (f"The holdout cannot tell the model apart from a simple baseline, and no baseline is shown to be "
                f"better by more than {margin_txt}{'; ' + prefer if not why else ''}: ")) + "; ".join(parts) + "."
        if why:
            msg += " " + why
        tail = why_short or prefer[0].upper() + prefer[1:] + "."
        summary = (f"As good as a simple {bname} ({_gain(gain, by_cost)}, within ±{margin_txt}). {tail}" if within else
                   f"About as good as a simple {bname} ({_gain(gain, by_cost)}; the holdout cannot separate them). "
                   f"{tail}")
    findings.insert(0, Finding(severity=sev, message=msg, evidence=ev))
    uses = m["holdout_uses"]
    if uses and uses > 1:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"This holdout has been evaluated {uses} times (review history), so the tests use α = 0.05/{uses} = "
            f"{alpha:.4f} (Bonferroni) to keep the chance of a false 'better' at 5% over all uses."),
            evidence={"holdout_uses": uses, "alpha": alpha}))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


#: a model of one of these kinds is itself a simple baseline (decision trees up to the baseline's depth)
SIMPLE_KINDS = {"LogisticRegression": "logistic_regression", "LogisticRegressionCV": "logistic_regression",
                "DecisionTreeClassifier": "decision_tree", "Ridge": "ridge", "RidgeCV": "ridge",
                "LinearRegression": "ridge", "DecisionTreeRegressor": "decision_tree_regressor"}


def _simple_kind(ctx: ReviewContext) -> str | None:
    """The baseline key the model itself is (a logistic regression, a tree no deeper than the baseline's)."""
    from readiness.inputs.models import final_estimator

    est = final_estimator(getattr(ctx.model, "estimator", None)) if ctx.model is not None else None
    # an ONNX graph names its kind itself (one LinearClassifier with a logistic link: a logistic regression)
    kind = (SIMPLE_KINDS.get(type(est).__name__) or getattr(est, "readiness_kind", None)) if est is not None else None
    if kind in ("decision_tree", "decision_tree_regressor"):
        depth = getattr(est, "max_depth", None)
        if depth is None or depth > TREE_DEPTH:
            return None
    return kind


def _why_a_tie_is_fine(ctx: ReviewContext, m: dict, model: dict) -> tuple[str, str]:
    """A tie with the simple baselines is no 'extra complexity that buys nothing' when the model is itself
    that simple model, or when its error already sits within the best error any model can reach here
    (the data's own ceiling of the Bayes error, Feasibility page): (the sentence, a short one for the
    summary); ('', '') otherwise."""
    kind = _simple_kind(ctx)
    m["model_is_simple_baseline"] = kind
    if kind is not None:
        return (f"The model is itself a {BASELINE_SHORT[kind]}, the kind of model the baselines are: a tie is what "
                "to expect, and there is no extra complexity to question.",
                f"The model is itself a {BASELINE_SHORT[kind]}: no extra complexity to question.")
    from readiness.checks.feasibility import data_ceiling

    try:
        ceiling = data_ceiling(ctx)
    except Exception:  # the feasibility check reports its own error
        ceiling = None
    err = 1 - model["accuracy"]
    at_floor = ceiling is not None and err <= ceiling["ceiling_high"]
    m["model_error_within_bayes_ceiling"] = at_floor if ceiling is not None else None
    m["bayes_ceiling_high"] = ceiling["ceiling_high"] if ceiling is not None else None
    if not at_floor:
        return "", ""
    return (f"The model is at the floor: its error, {_pct(err)}, is within the best error any model can reach with "
            f"these features (at most {_pct(ceiling['ceiling_high'])}, 95% confidence; Feasibility page), so no "
            "model, simple or complex, can do much better. A tie there says the task is easy for simple models, "
            "not that the model's complexity buys nothing.",
            "Its error is already at the best any model can reach here (Feasibility), so a tie is expected.")


def _zero_noise(v, tiny: float):
    return 0.0 if v is not None and abs(v) < tiny else v


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
        mean_d, ci_d = _paired_mean_ci(d, alpha)
        # a difference a million times below the error is floating-point noise (the model may be this very baseline)
        tiny = 1e-6 * float(np.mean(err_model))
        mean_d, ci_d = _zero_noise(mean_d, tiny), [_zero_noise(c, tiny) for c in ci_d]
        baselines[key] = {"name": BASELINE_NAMES[key], "mae": mae(y, p),
                          "mae_ci": list(bootstrap_ci(mae, y, p, n_boot=B, seed=seed)), "r2": r2(y, p),
                          "r2_ci": list(bootstrap_ci(r2, y, p, n_boot=B, seed=seed)),
                          "paired": {"mae_improvement": mean_d, "mae_improvement_ci": ci_d,
                                     "test": "paired t-test on absolute errors",
                                     "p_value": float(t.pvalue) if t is not None else 1.0}}
    m["baselines"] = baselines
    order = list(baselines)
    best = min(order, key=lambda k: (baselines[k]["mae"], order.index(k)))
    m["best_baseline"] = best
    cmp_ = baselines[best]["paired"]
    m["mae_improvement"], m["mae_improvement_ci"], m["p_value"] = cmp_["mae_improvement"], cmp_["mae_improvement_ci"], cmp_["p_value"]
    margin = MAE_MARGIN * baselines[best]["mae"]
    verdict = _decision(*cmp_["mae_improvement_ci"], margin)
    m["mae_verdict"] = verdict
    m.update({"decision_measure": "mae", "decision_baseline": best, "margin": margin,
              "margin_unit": "mean absolute error", "decision_difference": cmp_["mae_improvement"],
              "decision_difference_ci": cmp_["mae_improvement_ci"], "decision_verdict": verdict})
    bname = BASELINE_SHORT[best]
    lo, hi = cmp_["mae_improvement_ci"]
    d = cmp_["mae_improvement"]
    how = ("the same as the baseline's" if d == 0 else
           f"{'lower' if d > 0 else 'higher'} by {number(abs(d))} per row")
    txt = (f"MAE {number(model['mae'])} against {number(baselines[best]['mae'])} for the best baseline ({bname}); on "
           f"average the model's absolute error is {how} (baseline − model {estimate(d, [lo, hi], sign=True)}, 95% interval "
           f"{interval([lo, hi], value=d)}, {p_text(cmp_['p_value'])}); margin of practical relevance {number(margin)} (1% of "
           "the baseline's MAE)")
    ev = {"best_baseline": best, "mae_improvement_ci": [lo, hi], "p_value": cmp_["p_value"], "margin": margin}
    fed_leak = [c for c in m.get("left_out_post_outcome", []) if ctx.model is not None and c in ctx.features]
    if verdict == "better" and fed_leak:
        sev, status = Severity.WARN, Status.WARN
        summary = (f"The model's errors are smaller than the best simple baseline's only with "
                   f"{_listed(fed_leak, quote=True)}, which looks recorded after the outcome; compare again once it "
                   "is retrained without it.")
    elif verdict == "better":
        sev, status = Severity.INFO, Status.PASS
        summary = f"The model's errors are significantly smaller than the best simple baseline's ({bname})."
    elif verdict == "worse":
        sev, status = Severity.FAIL, Status.FAIL
        summary = (f"A simple {bname} makes smaller errors than the model, by more than the margin of "
                   f"{number(margin)}.")
    else:
        sev, status = Severity.INFO, Status.PASS
        kind = _simple_kind(ctx)
        m["model_is_simple_baseline"] = kind
        summary = (f"About as good as a simple {bname}. The model is itself a {BASELINE_SHORT[kind]}: no extra "
                   "complexity to question." if kind is not None else
                   f"About as good as a simple {bname}: the simpler model may be preferable.")
    findings.insert(0, Finding(severity=sev, message=txt + ".", evidence=ev))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


def _baselines_only(ctx, fitted, Xte, ok, m, findings) -> Outcome:
    """A data-only review: the baselines' holdout scores are the bar a future model must clear."""
    seed, B = ctx.settings.random_state, ctx.settings.bootstrap
    baselines: dict = {}
    if ctx.task == "regression":
        y = ctx.y_test.to_numpy(dtype=float)[ok]
        for key, est in fitted.items():
            p = np.asarray(est.predict(Xte), dtype=float)
            err = np.abs(y - p)
            baselines[key] = {"name": BASELINE_NAMES[key], "mae": float(err.mean()),
                              "mae_ci": list(bootstrap_ci(lambda a, b: float(np.mean(np.abs(a - b))), y, p,
                                                          n_boot=B, seed=seed))}
        best = min(baselines, key=lambda k: baselines[k]["mae"])
        row = baselines[best]
        text = f"mean absolute error {with_interval(row['mae'], row['mae_ci'])} on the holdout"
    else:
        y_s = ctx.y_test.to_numpy()[ok].astype(str)
        n = len(y_s)
        binary = ctx.task == "binary"
        yb = ctx.y_test_binary[ok] if binary else None
        for key, est in fitted.items():
            classes = np.asarray([str(c) for c in est.classes_], dtype=object)
            proba = np.asarray(est.predict_proba(Xte), dtype=float)
            x = int((classes[np.argmax(proba, axis=1)] == y_s).sum())
            row = {"name": BASELINE_NAMES[key], "accuracy": x / n, "accuracy_ci": list(clopper_pearson(x, n))}
            if binary and str(ctx.positive_label) in classes:
                p_pos = proba[:, list(classes).index(str(ctx.positive_label))]
                if len(np.unique(p_pos)) > 2:
                    row["roc_auc"], row["roc_auc_ci"] = rank_auc(yb, p_pos), list(auc_ci(yb, p_pos))
            baselines[key] = row
        order = list(baselines)
        best = max(order, key=lambda k: (baselines[k]["accuracy"], -order.index(k)))
        row = baselines[best]
        text = (f"accuracy {_pct(row['accuracy'])} ({_pct(row['accuracy_ci'][0])}–{_pct(row['accuracy_ci'][1])}, "
                "95% interval) on the holdout")
        if "roc_auc" in row:
            text += f", ROC AUC {row['roc_auc']:.3f}"
    m.update({"model": None, "baselines": baselines, "best_baseline": best, "decision_verdict": "no_model"})
    findings.insert(0, Finding(severity=Severity.INFO, message=(
        f"No model yet: the best simple baseline, {BASELINE_SHORT[best]}, reaches {text}. A model must beat this "
        "by more than chance to be worth its complexity; the review compares them once the model exists."),
        evidence={"best_baseline": best}))
    return Outcome(summary=f"No model yet; the best simple baseline ({BASELINE_SHORT[best]}) reaches {text}: the bar "
                          "a model must clear.", findings=findings, metrics=m, status=Status.PASS)
