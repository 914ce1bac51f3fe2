"""data_quality.labels: how many training labels are wrong (confident learning, cleanlab).

Accuracy is the first of the data-quality dimensions (Renggli et al. 2021) and wrong labels
are the first cause of a non-zero Bayes error. The check fits its own simple model with
k-fold cross-validation, so every training row gets probabilities from a model that never
saw it, and hands those to cleanlab (Northcutt et al., *Confident learning*, JAIR 2021):
the confident joint counts rows whose given label is contradicted by a confident
prediction of another class, per-class thresholds absorbing each class's own uncertainty.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from readiness import ber, labels_stats
from readiness.checks.feasibility import (
    MAX_CATEGORIES,
    _stratified_sample,
    leak_free_features,
    leak_note,
    train_labels_text,
)
from readiness.fmt import pct as _pct
from readiness.fmt import points
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status
from readiness.stats import max_abs_correlation, standardised

LABEL_SAMPLE_CAP = 20_000  # training rows examined (class-stratified sample above this)
FOLDS = 5  # cross-validation folds for the out-of-sample probabilities
MIN_CLASS_ROWS = FOLDS  # every class needs a row in each fold
BOOTSTRAP = 200  # row resamples for the interval of the estimated share
NEAR_ZERO = 0.01  # an interval whose lower end is below 1% is "within noise of zero"
# The share itself is never judged: confident learning cannot tell a wrong label from a case ambiguous by
# nature (two honest Gaussians 2 sd apart, Bayes error 15.9%, no wrong label, give an estimate of 12%; 12% of
# labels flipped on separable data give 12% too). What is judged is how far the training labels fall short
# of the holdout labels judged alike (readiness.labels_stats): the 95% lower bound of the gap.
SHORTFALL_WARN = 0.02  # warn: training labels fall short of the holdout's by at least 2 probability points
SHORTFALL_FAIL = 0.10  # fail: by at least 10 points (on separable data: about 15% of two classes flipped)
MIN_HOLDOUT_ROWS = 30  # labelled holdout rows the comparison needs
MAX_EXAMPLES = 20  # suspect rows listed, the ones whose fix matters most first
LABEL_MAX_COLUMNS = 400  # encoded columns one fold's model fits on (beyond: those most associated, per fold)
SCREEN_CHUNK = 256  # columns standardised at once when screening


def out_of_fold_probabilities(X: np.ndarray, y: np.ndarray, n_classes: int, seed: int,
                              X_extra: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """k-fold out-of-sample class probabilities from a histogram gradient-boosting model
    (flexible enough for interactions; its log-loss fit keeps the probabilities near calibrated).
    With ``X_extra`` (rows outside the training data, e.g. the holdout's), also theirs: each extra row
    is scored by one fold model, the folds taken in turn over a seeded permutation, so it is judged
    by a model of the same kind as a training row's and returned as (P, P_extra)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    P = np.zeros((len(y), n_classes))
    extra_fold = None
    if X_extra is not None:
        P_extra = np.zeros((len(X_extra), n_classes))
        extra_fold = np.random.default_rng(seed + 1).permutation(len(X_extra)) % FOLDS
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for k, (fit_rows, out_rows) in enumerate(folds.split(X, y)):
        cols = (screen_columns(X[fit_rows], y[fit_rows], n_classes, LABEL_MAX_COLUMNS)
                if X.shape[1] > LABEL_MAX_COLUMNS else slice(None))
        est = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, early_stopping=False,
                                             min_samples_leaf=20, random_state=seed)
        with warnings.catch_warnings(), threadpool_limits(1):  # one thread: 30x faster on a shared machine
            warnings.simplefilter("ignore")
            est.fit(X[fit_rows][:, cols], y[fit_rows])
            P[np.ix_(out_rows, est.classes_)] = est.predict_proba(X[out_rows][:, cols])
            if extra_fold is not None and (extra_fold == k).any():
                mine = np.flatnonzero(extra_fold == k)
                P_extra[np.ix_(mine, est.classes_)] = est.predict_proba(X_extra[mine][:, cols])
    return P if X_extra is None else (P, P_extra)


def screen_columns(X: np.ndarray, y: np.ndarray, n_classes: int, keep: int) -> np.ndarray:
    """The ``keep`` columns of ``X`` most associated with the labels ``y`` (|Pearson r| with a
    class indicator, the largest over the classes), in column order. Called with one fold's
    fitting rows only, so the rows it then scores never chose their own columns (selecting on
    every row would make the out-of-fold probabilities agree with the given labels by chance).
    Standardises SCREEN_CHUNK columns at a time, so memory stays within rows x chunk."""
    Y, _ = standardised(np.eye(n_classes)[y])
    assoc = np.zeros(X.shape[1])
    for start in range(0, X.shape[1], SCREEN_CHUNK):
        assoc[start:start + SCREEN_CHUNK] = max_abs_correlation(X[:, start:start + SCREEN_CHUNK], Y)
    return np.sort(np.argsort(-assoc, kind="stable")[:keep])


def calibrated_issue_count(y: np.ndarray, P: np.ndarray, n_classes: int) -> int:
    """``cleanlab.count.num_label_issues(y, P, estimation_method="off_diagonal_calibrated")`` for
    labels 0..C-1, the same arithmetic step for step (per-class thresholds, confident joint,
    cleanlab's own calibration) without its input validation and ``confusion_matrix`` call,
    which take 95% of its time; the bootstrap calls it 200 times. ``tests/test_labels.py``
    proves it equal to cleanlab's on resamples, binary and multiclass."""
    from cleanlab.count import calibrate_confident_joint, estimate_joint

    C = n_classes
    guess, keep = labels_stats.confident_guess(P, labels_stats.class_thresholds(y, P, C))
    # [given, likely true], built transposed as cleanlab's confusion_matrix(...).T is: the memory order
    # decides the float summation order in the calibration, hence its rounding
    joint = np.bincount(guess[keep] * C + y[keep], minlength=C * C).reshape(C, C).T
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    joint = estimate_joint(y, P, confident_joint=calibrate_confident_joint(joint, y))
    return int(np.rint((1.0 - joint.trace()) * len(y)))


def estimate_label_errors(y: np.ndarray, P: np.ndarray, *, seed: int, n_boot: int = BOOTSTRAP) -> dict:
    """Confident-learning estimate of the share of wrong labels, a percentile-bootstrap
    interval over rows, and the rows cleanlab flags (``find_label_issues``)."""
    from cleanlab.count import num_label_issues
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    n = len(y)
    count = int(num_label_issues(y, P, estimation_method="off_diagonal_calibrated"))
    rng = np.random.default_rng(seed)
    shares = []
    C = P.shape[1]
    for _ in range(n_boot):
        rows = rng.integers(0, n, n)
        yb = y[rows]
        if np.count_nonzero(np.bincount(yb, minlength=C)) < C:
            continue
        shares.append(calibrated_issue_count(yb, P[rows], C) / n)
    lo, hi = (np.percentile(shares, [2.5, 97.5]).tolist() if shares else [math.nan, math.nan])
    # n_jobs=1: by default cleanlab forks a multiprocessing.Pool (one process per physical core); forked from a
    # multi-threaded process (the app's server) a worker can inherit a lock another thread held and hang for
    # ever, with the review waiting on it (seen in CI's browser test). Its documentation: the result is the same
    flagged = np.asarray(find_label_issues(y, P, n_jobs=1), dtype=bool)
    quality = np.asarray(get_label_quality_scores(y, P, method="self_confidence"), dtype=float)
    return {"count": count, "rate": count / n, "rate_ci": [min(lo, count / n), max(hi, count / n)],
            "flagged": flagged, "quality": quality, "bootstrap": len(shares)}


@register("data_quality.labels", title="Label errors: how many training labels are wrong?", area="data_quality",
          antipatterns=("data_crisis_as_a_service",), order=3)
def label_errors(ctx: ReviewContext) -> Outcome:
    """Confident learning (cleanlab) on out-of-fold probabilities: each training row (a
    class-stratified sample of at most 20,000) is scored by a gradient-boosting model fitted
    on the other four fifths (without the columns leakage.feature_target finds recorded after
    the outcome); cleanlab's calibrated confident joint estimates how many given
    labels a confident prediction contradicts. The share comes with a 95% bootstrap interval
    over rows; the suspect rows are those cleanlab's ``find_label_issues`` flags, ranked by
    priority: the chance the label is wrong (1 − its out-of-fold probability) times the row's
    influence (how much fixing the label would move an L2 logistic regression's predictions,
    ``readiness.labels_stats``), so the rows to check first lead. A label error rate ρ
    raises the Bayes error measured against these labels to at least ρ (flips to another
    class, ρ below (C−1)/C). The share is reported, not judged (ambiguity by nature looks the
    same); judged is the gap between the training and the holdout labels' shortfall, the holdout
    rows scored by the same fold models: warn when its 95% lower bound reaches 2 probability
    points, fail at 10."""
    if ctx.task == "regression":
        raise SkipCheck("Label errors are estimated for class labels; a numeric target would need a different "
                        "study (e.g. replicate measurements).")
    features, leaks = leak_free_features(ctx)  # a post-outcome column would make the judge read the answer
    if not features:
        raise SkipCheck("No feature columns, so no model can judge the labels.")
    seed = ctx.settings.random_state
    labels_text = train_labels_text(ctx)
    rows = _stratified_sample(len(ctx.train), LABEL_SAMPLE_CAP, seed, labels_text)
    names, y = np.unique(labels_text[rows], return_inverse=True)
    counts = np.bincount(y, minlength=len(names))
    if counts.min() < MIN_CLASS_ROWS * 2:
        small = names[int(np.argmin(counts))]
        raise SkipCheck(f"Class '{small}' has only {int(counts.min())} training rows; estimating label errors needs "
                        f"at least {MIN_CLASS_ROWS * 2} per class.")
    sample = ctx.train.iloc[rows].reset_index(drop=True)
    X, recipe = ber.encode(sample, features, max_categories=MAX_CATEGORIES)
    if X.shape[1] == 0:
        raise SkipCheck("Every feature is constant or empty, so no model can judge the labels.")
    hold_rows, y_hold = _holdout_labels(ctx, names, seed)
    if len(hold_rows) >= MIN_HOLDOUT_ROWS:
        X_hold = ber.encode_like(ctx.test.iloc[hold_rows].reset_index(drop=True), recipe)
        P, P_hold = out_of_fold_probabilities(X, y, len(names), seed, X_hold)
    else:
        P, P_hold = out_of_fold_probabilities(X, y, len(names), seed), None
    est = estimate_label_errors(y, P, seed=seed)
    n = len(y)
    rate, (lo, hi) = est["rate"], est["rate_ci"]
    C = len(names)

    # --- suspects: flagged rows, the ones whose fix would matter most first -----------------------
    flagged = np.flatnonzero(est["flagged"])
    given_p = P[np.arange(n), y]
    influence, ranked_by = suspect_influence(X, y, P, flagged, C, seed)
    if influence is None:
        order = flagged[np.argsort(est["quality"][flagged], kind="stable")]
    else:  # highest priority first; ties (e.g. both 0) by the lower out-of-fold probability of the given label
        prio = labels_stats.priority(given_p[flagged], influence)
        by_row = dict(zip(flagged.tolist(), zip(influence.tolist(), prio.tolist(), strict=True), strict=True))
        order = flagged[np.lexsort((est["quality"][flagged], -prio))]
    id_col = ctx.roles.id_column
    examples = []
    for i in order[:MAX_EXAMPLES]:
        src = int(rows[i])
        likely = int(np.argmax(P[i]))
        ex = {"row": src + 1, "given_label": str(names[y[i]]), "likely_label": str(names[likely]),
              "given_label_probability": float(P[i, y[i]]), "likely_label_probability": float(P[i, likely])}
        if influence is not None:
            ex["influence"], ex["priority"] = by_row[int(i)]
        if id_col and id_col in ctx.train.columns:
            ex["id"] = ctx.train[id_col].iloc[src]
        examples.append(ex)
    per_class = {str(names[c]): int(((y == c) & est["flagged"]).sum()) for c in range(C)}

    # --- what it does to the Bayes error and to the target --------------------------------------
    target = ctx.settings.target_accuracy
    target_error = None if target is None else 1 - target
    floor = min(rate, (C - 1) / C)
    budget = None if not target_error else floor / target_error
    m = {"label_error_rate": rate, "label_error_rate_ci": [lo, hi], "label_errors_estimated": est["count"],
         "suspect_rows": int(len(flagged)), "suspect_rows_by_given_label": per_class, "examples": examples,
         "examples_ranked_by": ranked_by, "influence_reference_rows": min(n, labels_stats.REFERENCE_ROWS),
         "rows_examined": n, "train_rows": int(len(ctx.train)), "sample_cap": LABEL_SAMPLE_CAP, "folds": FOLDS,
         "columns_encoded": int(X.shape[1]), "columns_per_fold": int(min(X.shape[1], LABEL_MAX_COLUMNS)),
         "bootstrap": est["bootstrap"], "left_out_post_outcome": leaks, "n_classes": C, "near_zero": NEAR_ZERO,
         "bayes_error_floor_from_labels": floor, "target_error": target_error, "target_error_share_from_labels": budget,
         "method": "confident learning (cleanlab, calibrated confident joint) on 5-fold out-of-fold probabilities "
                   "of a histogram gradient-boosting model"}
    findings: list[Finding] = []
    est_txt = (f"up to an estimated {_pct(rate)} of training labels may be wrong ({_pct(lo)}–{_pct(hi)}, 95% "
               f"interval, on {n:,} rows examined; {len(flagged):,} flagged to check)")
    # the flagged rows, not the estimate's own count, are the number the page and the report show next to it
    # (issue 12, COMPAS: "1,231 of 4,320 rows examined" above "Suspect rows 1,219 of 4,320")
    ambiguity = ("Confident learning cannot tell a wrong label from a case that is ambiguous by nature (the same "
                 "features, either outcome), so this share is an upper estimate of the wrong labels and is reported, "
                 "not judged: check the most suspect rows with the data owner.")
    sev = Severity.INFO
    if lo < NEAR_ZERO:
        summary = f"No sign of wrong labels beyond noise: {est_txt}."
    else:
        summary = (f"A model that never saw them contradicts some labels: {est_txt} — wrong labels or cases "
                   "ambiguous by nature; check the most suspect rows.")
    status, against = _against_holdout(m, P, y, P_hold, y_hold)
    findings.append(against)
    if status != Status.PASS:
        summary = against.message.split(". ")[0] + f"; {est_txt}."
    elif m["shortfall_gap"] is not None and lo >= NEAR_ZERO:
        summary += (f" Training labels are as likely as the holdout's (gap {points(m['shortfall_gap'])}), so nothing "
                    "points to wrong labels in the training data alone.")
    findings.append(Finding(severity=sev, message=(
        f"{est_txt[0].upper() + est_txt[1:]}. A model trained on the other rows confidently predicts a different "
        f"class for {len(flagged):,} rows (listed with the ones whose fix would move the model most first). "
        + ambiguity),
        evidence={"label_error_rate_ci": [lo, hi], "suspect_rows": len(flagged)}))
    if X.shape[1] > LABEL_MAX_COLUMNS:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The training features encode to {X.shape[1]:,} columns; each fold's judging model uses the "
            f"{LABEL_MAX_COLUMNS:,} most associated with the label (|Pearson r|) on that fold's own fitting rows, so "
            "the time does not grow with the column count and no row chooses the columns it is judged by."),
            evidence={"columns_encoded": int(X.shape[1]), "columns_per_fold": LABEL_MAX_COLUMNS}))
    effect = (f"If they all are wrong labels, they alone put the error any model shows against these labels at "
              f"{_pct(floor)} or more (flips to another class raise the Bayes error to at least the flip rate)")
    if budget is not None:
        effect += (f", {budget:.1f} times the {_pct(target_error)} error the target accuracy of {_pct(target)} allows"
                   if budget > 1 else
                   f", {_pct(budget)} of the {_pct(target_error)} error the target accuracy of {_pct(target)} allows")
    effect += ("; the part that is ambiguity by nature is already inside the Bayes-error range on the Feasibility "
               "page")
    # the model's own holdout error against these labels: below the floor, the suspects cannot all be wrong labels
    model_err = _model_holdout_error(ctx)
    m["model_holdout_error"] = model_err
    if model_err is not None and model_err < floor:
        effect += (f". They cannot all be wrong: the model errs on only {_pct(model_err)} of holdout rows against "
                   "these labels, so most suspects are cases the features "
                   + ("(without the columns left out below) " if leaks else "") + "cannot settle, not wrong labels")
    findings.append(Finding(severity=Severity.INFO, message=effect + ".",
                            evidence={"bayes_error_floor_from_labels": floor, "target_error_share_from_labels": budget,
                                      "model_holdout_error": model_err}))
    if leaks:
        findings.append(Finding(severity=Severity.INFO, message=leak_note(
            ctx, leaks, "The model that judges the labels leaves out"), evidence={"left_out_post_outcome": leaks}))
    if n < len(ctx.train):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Estimated on a class-stratified sample of {n:,} of the {len(ctx.train):,} training rows to bound the "
            "time; the interval reflects the sample's size."), evidence={"rows_examined": n}))
    if examples:
        top = examples[0]
        first = "Check first" if "influence" in top else "Most suspect"
        moves = ("" if "influence" not in top else
                 f"; fixing it would move the predicted probabilities of the examined rows by "
                 f"{100 * top['influence']:.2f} points on average, the largest expected effect of a fix among the suspects")
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{first}: training row {top['row']:,}" + (f" (id {top['id']})" if "id" in top else "")
            + f" is labelled '{top['given_label']}', but a model that never saw it gives that label "
            f"{_pct(top['given_label_probability'])} and '{top['likely_label']}' {_pct(top['likely_label_probability'])}"
            + moves + "."), columns=[ctx.target], evidence={"examples": examples[:5]}))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


def suspect_influence(X: np.ndarray, y: np.ndarray, P: np.ndarray, rows: np.ndarray, n_classes: int,
                      seed: int) -> tuple[np.ndarray | None, str]:
    """Influence of fixing each suspect's label (``labels_stats.flip_influence``: an L2 logistic
    regression on the same features, the label changed to the likeliest other class out of fold,
    mean change of predicted probabilities over up to 2,000 examined rows) and how the examples are
    ranked, in words. None when there is nothing to rank or the model would be too large."""
    confidence = "lowest out-of-fold probability of the given label first (self-confidence)"
    if len(rows) == 0:
        return None, confidence
    if not labels_stats.influence_feasible(X.shape[1], n_classes):
        return None, confidence + (f"; influence not computed ({n_classes} classes × {X.shape[1]} encoded features "
                                   "make the logistic regression's Hessian too large)")
    other = P[rows].copy()
    other[np.arange(len(rows)), y[rows]] = -1.0
    likely_other = other.argmax(axis=1)
    rng = np.random.default_rng(seed)
    n = len(y)
    reference = np.sort(rng.choice(n, labels_stats.REFERENCE_ROWS, replace=False)) if n > labels_stats.REFERENCE_ROWS \
        else None
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread on a shared machine, as the out-of-fold model
        model = labels_stats.fit_influence_model(X, y)
        influence = labels_stats.flip_influence(model, X, y, rows, likely_other, reference=reference)
    return influence, ("priority first: (1 − out-of-fold probability of the given label) × influence, the mean change "
                       "of predicted probabilities over the examined rows if the label were fixed (one Newton step of "
                       "an L2 logistic regression)")


def suspects_frame(metrics: dict) -> pd.DataFrame:
    """The suspect rows as a table (for pages and the report)."""
    return pd.DataFrame(metrics.get("examples") or [])


def _holdout_labels(ctx: ReviewContext, names: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Holdout rows whose label is one of the training classes (a class-stratified sample of at most
    LABEL_SAMPLE_CAP), and those labels as class indices."""
    y = ctx.y_test
    text = y.astype(str).to_numpy()
    known = np.flatnonzero(y.notna().to_numpy() & np.isin(text, names))
    if len(known) == 0:
        return known, known
    pick = known[_stratified_sample(len(known), LABEL_SAMPLE_CAP, seed + 2, text[known])]
    return pick, np.searchsorted(names, text[pick])


def _against_holdout(m: dict, P: np.ndarray, y: np.ndarray, P_hold: np.ndarray | None,
                     y_hold: np.ndarray) -> tuple[Status, Finding]:
    """The judged part: do training labels fall short of holdout labels judged alike (labels_stats)?"""
    m["shortfall_thresholds"] = {"warn": SHORTFALL_WARN, "fail": SHORTFALL_FAIL}
    if P_hold is None:
        m["shortfall_gap"] = None
        return Status.PASS, Finding(severity=Severity.INFO, message=(
            f"Fewer than {MIN_HOLDOUT_ROWS} holdout rows carry a training class as their label, so the training "
            "labels cannot be compared with the holdout's; the estimate is reported, not judged."))
    cmp = labels_stats.shortfall_gap(labels_stats.shortfall(P, y), labels_stats.shortfall(P_hold, y_hold))
    d, (lo, hi) = cmp["gap"], cmp["ci"]
    p_t, p_h = float(P[np.arange(len(y)), y].mean()), float(P_hold[np.arange(len(y_hold)), y_hold].mean())
    m.update({"shortfall_gap": d, "shortfall_gap_ci": [lo, hi], "given_label_probability_train": p_t,
              "given_label_probability_holdout": p_h, "holdout_rows_examined": int(len(y_hold))})
    means = (f"a model that never saw the rows gives the {len(y):,} training labels examined {_pct(p_t)} probability "
             f"on average and the {len(y_hold):,} holdout labels {_pct(p_h)}")
    gap = f"{points(d)} (95% interval {points(lo)} to {points(hi)})"
    if lo >= SHORTFALL_WARN:
        status = Status.FAIL if lo >= SHORTFALL_FAIL else Status.WARN
        return status, Finding(severity=Severity.FAIL if status == Status.FAIL else Severity.WARN, message=(
            f"Training labels look wrong more often than holdout labels judged the same way: {means}; allowing for "
            f"how sure it is on each row, the training labels fall short by {gap}. The training data carry wrong "
            "labels the holdout does not: check the suspects listed first with the data owner and correct them, or "
            "find where the training labels come from (another source, period or labeller). A model learns these "
            "errors, and the cleaner holdout labels do not show what they cost."), evidence={
                "shortfall_gap": d, "ci": [lo, hi], "thresholds": m["shortfall_thresholds"]})
    return Status.PASS, Finding(severity=Severity.INFO, message=(
        f"Training labels are as likely as holdout labels judged the same way ({means}; allowing for how sure it is "
        f"on each row, the gap is {gap}): no sign that the training data carry wrong labels the holdout does not. "
        "Wrong labels in both, like cases ambiguous by nature, cannot be told apart here, so the share above is "
        "reported, not judged."), evidence={"shortfall_gap": d, "ci": [lo, hi]})


def _model_holdout_error(ctx: ReviewContext) -> float | None:
    """The model's (or prediction column's) error on the scored holdout rows; None in a data review."""
    if ctx.data_only or ctx.task == "regression":
        return None
    from readiness.checks.feasibility import _scored_rows

    try:
        ok = _scored_rows(ctx)
        y = ctx.y_test.astype(str).to_numpy()[ok]
        return float((np.asarray(ctx.test_pred)[ok].astype(str) != y).mean()) if ok.any() else None
    except Exception:  # the evaluation checks report a model that cannot score
        return None

