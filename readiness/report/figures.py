"""Key figures per check, for people: a label with its unit, the value formatted by
:mod:`readiness.fmt`, and one line on what it means.

The PDF's evidence tables show these figures (the attached ``review-record.json`` keeps
every metric). Pages may use the same labels. A check without an entry here gets its plain
scalar metrics with labels made from their keys (never the keys themselves), so a check
added later still shows its numbers; giving it an entry is how it gets proper units.

Each figure names a metric by its key, or by a dotted path into nested metrics
(``optimal.threshold``); its 95% interval is the metric ``<key>_ci`` beside it, when present.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from readiness import fmt


@dataclass(frozen=True)
class Figure:
    key: str  # metric key, or a dotted path into nested metrics
    label: str  # what a person reads, with the unit
    kind: str  # how the value is formatted: see FORMATS
    meaning: str = ""
    none: str | None = None  # text when the metric is null; None: leave the row out
    ci: str | None = None  # the interval's key or path when it is not "<key>_ci"
    words: dict | None = None  # value -> words, for enumerated verdicts
    ref: str | None = None  # a path template resolving the value to a name: "baselines.{}.name"
    when: tuple[str, Any] | None = None  # shown only when this metric (path) has this value


TEXT_ITEMS = 12  # a list in a cell names this many, then says how many more (64 pixel columns read as noise)


def _text(v: Any) -> str:
    if isinstance(v, list):
        if not v:
            return "none"
        more = f", and {len(v) - TEXT_ITEMS:,} more" if len(v) > TEXT_ITEMS else ""
        return ", ".join(map(str, v[:TEXT_ITEMS])) + more
    return str(v)


def _per_class(v: dict) -> str:
    """Multiclass: each class's recall, precision and F1 (the holdout page's table, in one cell)."""
    return "; ".join(f"{c}: recall {fmt.percent(x.get('recall'))}, precision {fmt.percent(x.get('precision'))}, "
                     f"F1 {fmt.percent(x.get('f1'))}" for c, x in v.items()) or "none"


def _confusions(v: list) -> str:
    """Multiclass: the largest confusions in words."""
    return "; ".join(f"{c['actual']} taken for {c['predicted']}: {fmt.count(c['rows'])} "
                     f"{'row' if c['rows'] == 1 else 'rows'} ({fmt.percent(c['share_of_actual'])} of {c['actual']})"
                     for c in v) or "none"


def _yes(v: Any) -> str:
    return "yes" if v else "no"


def _days(v: Any) -> str:
    return f"{fmt.count(v)} days"


def _per_1000(v: Any) -> str:
    return f"{fmt.number(v)} per 1,000 decisions"


def _per_1000_predictions(v: Any) -> str:  # a regression predicts numbers: nothing is decided
    return f"{fmt.number(v)} per 1,000 predictions"


def _threshold(v: Any) -> str:
    return fmt.number(v, 5)  # as the findings quote it: 0.22795


def _date(v: Any) -> str:
    text = str(v)
    return text.removesuffix("T00:00:00").replace("T", " ")


def _class(v: Any) -> str:
    return str(v).rsplit(".", 1)[-1]


def _gap(v: Any) -> str:
    return f"{fmt.number(round(100 * v, 1), 3)} points" if fmt.finite(v) else fmt.MISSING


def _diff3(v: Any) -> str:
    return f"{v:+.3f}".replace("-", fmt.MINUS) if fmt.finite(v) else fmt.MISSING


def _ms(v: Any) -> str:
    return f"{fmt.number(v)} ms" if fmt.finite(v) else fmt.MISSING


def _megabytes(v: Any) -> str:
    """The same reading as the serving check's summary and the page (fmt.byte_size)."""
    return fmt.byte_size(v) if fmt.finite(v) else fmt.MISSING


def _rows_per_second(v: Any) -> str:
    return f"{fmt.count(v)} rows per second" if fmt.finite(v) else fmt.MISSING


def _slices(v: Any) -> str:
    """Reported slices (segments.weak) by their plain-words definition and holdout rows."""
    if not v:
        return "none"
    return "; ".join(f"{e.get('definition', '?')} ({fmt.count(e.get('n_holdout'))} holdout rows)" for e in v)


FORMATS: dict[str, Callable[[Any], str]] = {
    "pct": fmt.percent,  # a share, 0..1
    "points": fmt.points,  # a difference of two shares (signed)
    "gap": _gap,  # a distance between two shares, in points (unsigned)
    "diff3": _diff3,  # a signed difference of scores, three decimals
    "date": _date,
    "class": _class,
    "count": fmt.count,  # rows, columns, uses
    "left": lambda v: fmt.count(v) if v > 0 else "none: the budget is spent",  # what remains of a budget
    "score": lambda v: fmt.number(v, 3),  # AUC, Brier, ECE, ...
    "num": fmt.number,
    "signed": fmt.signed,
    "p": fmt.p_value,
    "budget": fmt.budget_share,  # a part of a budget, or a multiple of it beyond the whole
    "text": _text,
    "span": lambda v: _text(v).removeprefix("defer when "),  # where scores lie, not a rule to act on
    "yes": _yes,
    "days": _days,
    "cost": _per_1000,
    "cost_predictions": _per_1000_predictions,
    "threshold": _threshold,
    "ms": _ms,
    "bytes": _megabytes,
    "rps": _rows_per_second,
    "slices": _slices,
    "per_class": _per_class,
    "confusions": _confusions,
}
WHOLE_KINDS = {"per_class", "confusions"}
# measurements shown with their interval at one shared number of decimals (fmt.with_interval), as the pages
# show them: the value's text around its number
SHARED_DECIMALS = {"num": "{}", "score": "{}", "signed": "{}", "cost": "{} per 1,000 decisions",
                   "cost_predictions": "{} per 1,000 predictions", "ms": "{} ms"}  # formatted whole, not item by item
# how an interval of each kind reads (the value's own formatter unless listed)
_CI_FORMATS: dict[str, Callable[[Any], str]] = {"points": lambda v: fmt.points(v).removesuffix(" points"),
                                                "gap": lambda v: _gap(v).removesuffix(" points"),
                                                "cost": fmt.number, "cost_predictions": fmt.number,
                                                "threshold": fmt.number}

F = Figure
VERDICT_WORDS = {"better": "the model is better", "tie": "no difference shown", "worse": "the baseline is better",
                 "undetermined": "cannot tell"}
DECISION_WORDS = {"better": "the model is better", "worse": "a baseline is better by more than the margin",
                  "within_margin": "as good as the best baseline (within the margin)", "undetermined": "cannot tell"}
BAYES_WORDS = {"achieved": "target already reached", "reachable": "target reachable",
               "infeasible": "target impossible with these features", "probably_infeasible": "target probably impossible",
               "undetermined": "cannot tell", "no_target": "no target set"}
CHAMPION_WORDS = {"better": "the new model is better", "no_difference": "no difference shown",
                  "worse": "the current model is better", "mixed": "better overall, worse for a group"}
FIGURES: dict[str, tuple[Figure, ...]] = {
    "data_quality.completeness": (
        F("rows_train", "Training rows", "count", "labelled rows reviewed"),
        F("rows_test", "Holdout rows", "count", "labelled rows reviewed"),
        F("missing_cell_rate", "Missing cells", "pct",
          "share of all cells empty or holding a placeholder such as '?', both splits"),
        F("columns_with_missing", "Columns with missing values", "text", "explicit or disguised"),
        F("disguised_missing_columns", "Columns hiding missing values", "text",
          "placeholders such as '?' or sentinels such as -999"),
        F("unlabelled_train", "Training rows without a label", "count", "left out of the review"),
        F("unlabelled_test", "Holdout rows without a label", "count", "left out of the review"),
    ),
    "data_quality.integrity": (
        F("constant_columns", "Constant columns", "text", "features with a single value"),
        F("duplicate_rows_train", "Repeated training rows", "count", "rows identical to an earlier training row"),
        F("duplicate_rows_test", "Repeated holdout rows", "count", "rows identical to an earlier holdout row"),
        F("conflicting_label_groups", "Groups with conflicting labels", "count",
          "identical features, different outcomes"),
        F("conflicting_label_rows", "Rows in those groups", "count", "some of them must be labelled wrongly"),
        F("mixed_type_columns", "Columns mixing types", "text", "numbers and words in one column"),
    ),
    "data_quality.labels": (
        F("label_error_rate", "Labels that may be wrong", "pct",
          "upper estimate: labels a model that never saw the row confidently contradicts (95% interval)"),
        F("shortfall_gap", "Training labels below the holdout's", "points",
          "probability a model that never saw the row gives its label, allowing for how sure it is; a 95% lower "
          "bound of 2 points warns, 10 fails", ci="shortfall_gap_ci"),
        F("suspect_rows", "Suspect training rows", "count", "rows to check first with the data owner"),
        F("rows_examined", "Training rows examined", "count", "class-stratified sample, at most 20,000"),
        F("bayes_error_floor_from_labels", "Error floor if all are wrong", "pct",
          "the error any model shows against these labels, from wrong labels alone"),
        F("target_error_share_from_labels", "Share of the target's error budget", "budget",
          "if all are wrong labels; ambiguity by nature looks the same"),
        F("left_out_post_outcome", "Columns left out", "text", "recorded after the outcome (Leakage)"),
    ),
    "drift.features": (
        F("major_drift", "Features with major drift", "text", "population stability index (PSI) of 0.25 or more, beyond chance"),
        F("moderate_drift", "Features with moderate drift", "text", "PSI from 0.10 to 0.25, beyond chance"),
        F("ranked", "Features by drift, largest first", "text", "by PSI between training and holdout"),
        F("target.psi", "Drift of the outcome (PSI)", "score", "below 0.10: stable"),
        F("age.data_age_days", "Age of the newest data", "days", "from the newest row to the review"),
        F("age.train_end", "Training data ends", "date"),
        F("age.test_end", "Holdout data ends", "date"),
    ),
    "evaluation.holdout": (
        F("n", "Holdout rows scored", "count", "rows with a label and a score"),
        F("accuracy", "Accuracy", "pct", "share of holdout rows predicted right (95% interval)"),
        F("majority_class_rate", "Accuracy of always guessing the commonest class", "pct",
          "the bar any model must clear"),
        F("balanced_accuracy", "Balanced accuracy", "pct", "mean of the per-class hit rates"),
        F("roc_auc", "ROC AUC", "score", "chance that a positive scores above a negative; 0.5 is chance, 1 perfect"),
        F("precision", "Precision", "pct", "of the rows flagged positive, the share that are positive"),
        F("recall", "Recall", "pct", "of the positive rows, the share flagged"),
        F("prevalence", "Positive rows", "pct", "share of holdout rows with the positive label"),
        F("threshold", "Decision threshold", "threshold", "positive when the score is at least this"),
        F("target_accuracy", "Required accuracy", "pct", "set for this review"),
        F("log_loss", "Log loss", "score", "penalises confident mistakes; lower is better"),
        F("per_class", "Each class: recall, precision, F1", "per_class",
          "recall: share of the class found; precision: share of its predictions that are right"),
        F("largest_confusions", "Largest mistakes", "confusions", "actual class taken for another, holdout rows"),
        F("mae", "Mean absolute error", "num", "average size of an error, in the target's units"),
        F("rmse", "Root mean squared error", "num", "in the target's units; large errors weigh more"),
        F("r2", "R²", "score", "share of the target's variance explained; 0 is no better than the mean"),
    ),
    "model.hyperparameters": (
        F("estimator", "Model", "class", "the final estimator's class"),
        F("all_defaults", "All settings left at their defaults", "yes", "untuned defaults are worth a question"),
    ),
    "baselines.comparison": (
        F("model.accuracy", "Model accuracy", "pct", "on the holdout (95% interval)"),
        F("best_baseline", "Best simple baseline", "text", ref="baselines.{}.name"),
        F("accuracy_difference", "Model minus best baseline, accuracy", "points",
          "interval at the review's significance level"),
        F("p_value", "McNemar p-value", "p", "chance of a difference this large if the two were equally good"),
        F("decision_verdict", "Verdict", "text", "what the status rests on, with the margin of practical relevance",
          words=DECISION_WORDS),
        F("accuracy_verdict", "Accuracy verdict", "text", "from the interval of the difference", words=VERDICT_WORDS),
        F("model.roc_auc", "Model ROC AUC", "score", "(95% interval)"),
        F("auc_difference", "Model minus best baseline, ROC AUC", "diff3", "paired bootstrap interval"),
        F("auc_verdict", "ROC AUC verdict", "text", words=VERDICT_WORDS),
        F("holdout_rows", "Holdout rows compared", "count"),
        F("train_rows_used", "Training rows the baselines used", "count"),
    ),
    "feasibility.bayes_error": (
        F("model_error", "Model error rate", "pct", "share of holdout rows the model gets wrong (95% interval)"),
        F("ber_lower", "Best possible error, low end", "pct", "estimated floor of any model's error with these features"),
        F("ber_upper", "Best possible error, high end", "pct", "the best any method here already reaches"),
        F("target_error", "Error rate the target allows", "pct", "1 − the required accuracy"),
        F("room_max", "Accuracy any model could still gain, at most", "gap", "model error − low end of the range"),
        F("verdict", "Verdict on the target", "text", words=BAYES_WORDS),
        F("lower_bound_trusted", "Low end trusted", "yes", "whether the floor may call a target impossible"),
        F("label_conflict_rate", "Rows that must be wrong", "pct", "identical features with different labels"),
        F("noise_rmse", "Smallest reachable RMSE (noise floor)", "num",
          "regression: the noise no function of these features explains (Gamma test)"),
        F("best_r2", "Best possible R²", "num", "1 − noise variance / target variance"),
        F("model_rmse", "Model RMSE", "num", "on the holdout (95% bootstrap interval)"),
        F("knn_rmse_best", "RMSE of a plain k-nearest-neighbour rule", "num", "leave-one-out, the best k"),
        F("room_max_rmse", "RMSE any model could still gain, at most", "num", "model RMSE − low end of the floor"),
        F("target_rmse", "Target RMSE", "num", "set by the reviewer (or from the target R²)"),
        F("floor_trusted", "Floor trusted", "yes", "whether the floor may call a target impossible"),
        F("sample_rows", "Rows the estimators used", "count"),
    ),
    "leakage.feature_target": (
        F("model_score", "Model score on the holdout", "score", "ROC AUC (R² for regression)"),
        F("leaking_columns", "Columns that give the outcome away", "text", "over the fail line"),
        F("suspicious_columns", "Suspicious columns", "text", "over the warning line: confirm they are known in time"),
        F("identifier_signal_columns", "Identifiers that carry outcome signal", "text"),
        F("fail_score", "Fail line", "score", "a single column scoring this on its own fails the check"),
        F("warn_score_effective", "Warning line", "score", "a single column scoring this on its own is suspicious"),
        F("sample_rows", "Training rows used", "count"),
    ),
    "leakage.train_test_overlap": (
        F("overlap_test_rows", "Holdout rows copied from training", "count", "identical, outcome included"),
        F("overlap_test_share", "Share of the holdout", "pct"),
        F("overlap_expected_rows", "Copies expected by chance", "num"),
        F("overlap_p_value", "p-value of that many copies by chance", "p"),
        F("feature_overlap_test_rows", "Holdout rows with a training row's features", "count",
          "same features, outcome aside"),
        F("near_duplicate_test_rows", "Near-copies", "count", "features equal after rounding numbers"),
        F("shared_id_column", "ID column", "text"),
        F("shared_ids", "IDs on both sides of the split", "count"),
        F("holdout_rows", "Holdout rows", "count"),
    ),
    "leakage.temporal": (
        F("time_column", "Time column", "text"),
        F("train_start", "Training from", "date"),
        F("train_end", "Training until", "date"),
        F("holdout_start", "Holdout from", "date"),
        F("holdout_end", "Holdout until", "date"),
        F("holdout_rows_before_train_end", "Holdout rows dated before training ends", "count"),
        F("holdout_share_before_train_end", "Share of the holdout", "pct"),
        F("forward_split", "Holdout entirely after training", "yes"),
    ),
    "leakage.oversampling": (
        F("cross_split_duplicates", "Exact copies across the split", "count"),
        F("synthetic_cross_split", "Interpolated points spanning the split", "count", "the trace of SMOTE before splitting"),
        F("synthetic_within_train", "Interpolated points within training", "count"),
        F("duplicate_enrichment", "Copies concentrated in one class", "num", "that class's copy rate ÷ the others'"),
        F("minority_class", "Rarest class (label)", "text"),
        F("points_checked", "Points checked", "count"),
    ),
    "leakage.preprocessing": (
        F("pipeline_inspected", "Model pipeline inspected", "yes"),
        F("transformers_checked", "Transformers refitted and compared", "count"),
        F("fit_on_holdout_columns", "Columns prepared with holdout rows", "text",
          "statistics that include the holdout: the holdout score is optimistic"),
    ),
    "evaluation.holdout_reuse": (
        F("n", "Holdout rows", "count"),
        F("value", "Accuracy on this holdout", "pct", "first use (95% interval, as on the holdout page)", ci="ci",
          when=("metric", "accuracy")),
        F("value", "R² on this holdout", "score", "first use (95% interval, as on the holdout page)", ci="ci",
          when=("metric", "r2")),
        F("budget_fixed", "Uses the holdout supports", "count",
          "models fixed in advance, before the interval is twice as wide"),
        F("budget_steered", "Uses when each result steers the next", "count",
          "only pass/fail shared, before the interval is twice as wide"),
        F("evaluations_including_this", "Recorded uses, this one included", "count",
          none="unknown: no review history"),
        F("remaining_steered", "Steered uses left", "left", none="unknown: no review history"),
        F("holdout_source", "Holdout file", "text"),
    ),
    "bias.groups": (
        F("n", "Holdout rows", "count"),
        F("attributes", "Sensitive attributes", "text"),
        F("threshold", "Decision threshold", "threshold"),
        # multiclass: the all-class view; regression: the error over all rows (groups: the Bias page and chart)
        F("all_classes_largest.accuracy.difference", "Largest accuracy gap between groups", "points",
          "a group minus its reference; interval adjusted for the comparisons",
          ci="all_classes_largest.accuracy.difference_ci"),
        F("all_classes_largest.accuracy.who", "Between", "text"),
        F("all_classes_largest.recall.difference", "Largest gap in one class's recall", "points",
          "the share of a true class's rows recognised, group minus reference",
          ci="all_classes_largest.recall.difference_ci"),
        F("all_classes_largest.recall.who", "Where", "text"),
        F("overall.mae", "Mean absolute error, all holdout rows", "num", "regression; per group on the Bias page"),
        F("overall.mean_error", "Mean error (prediction − actual), all rows", "signed", "above 0: over-estimated"),
    ),
    "bias.categories": (),
    "calibration": (
        F("prevalence", "Observed positive rate", "pct"),
        F("mean_score", "Mean predicted probability", "pct", "equal to the observed rate when calibrated on average"),
        F("ece", "Expected calibration error", "gap", "average gap between predicted and observed rates"),
        F("ece_noise_floor", "Gap a perfectly calibrated model would show", "gap", "noise at this holdout size"),
        F("calibration_error_debiased", "Gap with chance taken out", "gap",
          "what the verdict judges: warn above 2 points, fail above 5, when the test rejects; a root mean square "
          "over the score bins, so it can sit above the ECE (a mean of absolute gaps)"),
        F("mce", "Largest gap in one score bin", "gap"),
        F("brier", "Brier score", "score", "mean squared error of the probabilities; lower is better"),
        F("calibration_p_value", "Calibration test p-value", "p", "Spiegelhalter and Hosmer–Lemeshow combined"),
        F("calibration_p_value_adjusted", "Calibration test p-value, corrected", "p", "the p-value above times the number of sets of tests run (overall, per class, per group)"),
        F("calibration_slope", "Calibration slope", "score", "1 when calibrated; below 1: scores too extreme"),
        F("calibration_intercept", "Calibration intercept", "signed", "0 when calibrated on average"),
        F("bins_outside_interval", "Score bins off the diagonal", "count", "whose observed rate misses the prediction"),
        F("accuracy", "Top-label accuracy", "pct"),
        F("mean_confidence", "Mean top-label confidence", "pct"),
    ),
    "uncertainty.abstention": (
        F("accuracy", "Accuracy deciding every case", "pct", "(95% interval)"),
        F("target_accuracy", "Required accuracy", "pct"),
        F("band.deferred_share", "Cases to send to a person", "pct", "to reach the required accuracy"),
        F("band.kept_accuracy", "Accuracy on the cases the model keeps", "pct"),
        F("least_confident_10pct.accuracy", "Accuracy on the least confident 10%", "pct",
          "these are flagged for optional review"),
        F("least_confident_10pct.rule", "Where the least confident 10% lie", "span",
          "a description, not a recommended rule: only a required accuracy sizes a band"),
        F("confidence_auc", "How well confidence separates right from wrong", "score", "ROC AUC; 0.5 is no better than chance"),
        F("flagged_count", "Cases listed for optional review", "count",
          "the band's cases when a required accuracy is set, else the least confident 10%"),
    ),
    "explanations.shap": (
        F("explainer_label", "Method", "text"),
        F("top_features", "Features that drive the decisions, strongest first", "text"),
        F("dominant_features", "Features carrying a quarter or more of the total", "text"),
        F("rows_explained", "Holdout rows explained", "count"),
    ),
    "explanations.lime": (
        F("rows_checked", "Rows compared with SHAP", "count"),
        F("rows_agreeing", "Rows where LIME and SHAP agree", "count", "on the top features"),
        F("agreement_rate", "Agreement", "pct", "below 50% the explanations are not trusted"),
    ),
    "explanations.permutation": (
        F("metric", "Score measured", "text"),
        F("baseline_score", "Score before scrambling", "score"),
        F("contributes_nothing", "Features that contribute nothing", "text", "scrambling them changes nothing"),
        F("rows", "Holdout rows used", "count"),
        F("n_repeats", "Repeats per feature", "count"),
    ),
    "business.threshold": (
        F("current.threshold", "Current threshold", "threshold"),
        F("current.cost_per_1000", "Cost at the current threshold", "cost", "in your cost units"),
        F("optimal.threshold", "Cheapest threshold", "threshold", "(95% interval)"),
        F("optimal.cost_per_1000", "Cost at the cheapest threshold", "cost"),
        F("savings_per_1000", "Saving from moving the threshold", "cost", "(95% interval)"),
        F("savings_share", "Saving, share of today's cost", "pct"),
        F("flag_all_cost_per_1000", "Cost of flagging everyone", "cost", "no model at all"),
        F("flag_none_cost_per_1000", "Cost of flagging no one", "cost", "no model at all"),
        F("cost_fp", "Cost of a false alarm", "num", "your units"),
        F("cost_fn", "Cost of a missed positive", "num", "your units"),
        F("current.recall", "Positives caught at the current threshold", "pct"),
        F("current.selection_rate", "Cases flagged at the current threshold", "pct"),
        # regression (--cost-over/--cost-under) and multiclass (--cost-matrix): absent keys are left out
        F("cost_per_1000", "Cost of the model's predictions", "cost_predictions", "in your cost units (95% interval)",
          when=("task", "regression")),
        F("cost_per_1000", "Cost of the model's decisions", "cost", "its most probable class; in your cost units "
          "(95% interval)", when=("task", "multiclass")),
        F("cost_per_1000_best_rule", "Cost deciding by expected cost", "cost",
          "the class with the lowest expected cost under the model's probabilities"),
        F("best_shift", "Cheapest constant shift of the predictions", "num", "a quantile of the residuals"),
        F("saving_per_1000", "Saving from the shift", "cost_predictions", "judged out of sample (95% interval)",
          when=("task", "regression")),
        F("saving_per_1000", "Saving from deciding by expected cost", "cost", "(95% interval)",
          when=("task", "multiclass")),
        F("cost_over", "Cost per unit too high", "num", "your units"),
        F("cost_under", "Cost per unit too low", "num", "your units"),
    ),
    "segments.weak": (
        F("overall", "Accuracy, whole holdout", "pct", "the measure the slices are compared on",
          when=("metric", "accuracy")),
        F("overall", "Cost per decision, whole holdout", "num", "the measure the slices are compared on",
          when=("metric", "cost per decision")),
        F("overall", "Mean absolute error, whole holdout", "num", "the measure the slices are compared on",
          when=("metric", "mean absolute error")),
        F("segments", "Segments below their promise", "slices",
          "clearly worse than the model's own scores promise there; confirmed on rows the search never saw, "
          "false discovery rate 1%"),
        F("hard_segments", "Hard segments (as promised)", "slices",
          "more errors than overall, exactly as the scores warn: information for the meeting, not an alarm"),
        F("conditions", "Conditions searched", "count", "ranges and values of each column, alone and in pairs"),
        F("discovery_rows", "Holdout rows searched", "count", "one random half of the holdout"),
        F("confirmation_rows", "Holdout rows confirming", "count", "the other half; every number comes from it"),
    ),
    "drift.multivariate": (
        F("domain_auc", "Domain classifier ROC AUC", "score",
          "how well all features together tell holdout rows from training rows; 0.5 = not at all, and a little "
          "under 0.5 is chance too (95% interval)"),
        F("domain_p_value", "Chance of an AUC this high without drift", "p", "one-sided, against 0.5"),
        F("features_apart", "Features that give the holdout away", "text", "ROC AUC lost when each is shuffled"),
        F("prediction_drift.psi", "Prediction drift (PSI)", "score",
          "the model's scores, training rows against holdout rows; 0.10 moderate, 0.25 large"),
        F("rows_per_side", "Rows per side", "count", "training and holdout rows the classifier compared"),
    ),
    "robustness.perturbation": (
        F("flip_rate", "Decisions that flip under one small change", "pct",
          "one feature nudged by 5% of its spread or moved to another observed value (95% interval)"),
        F("fragile_features", "Fragile features", "text", "a 5% nudge alone flips at least 10% of decisions"),
        F("sensitive_flip_rate", "Decisions changed by a sensitive attribute alone", "pct",
          "counterfactual: only the attribute changes (swapped, or the largest over its other values)"),
        F("sensitive_not_inputs", "Sensitive attributes the model does not read", "text", "0 by construction"),
        F("rows", "Holdout rows perturbed", "count"),
    ),
    "comparison.champion": (
        F("verdict", "Verdict", "text", "same holdout rows, each model at its own threshold", words=CHAMPION_WORDS),
        F("challenger.accuracy", "Accuracy, new model", "pct", "(95% interval)"),
        F("champion.accuracy", "Accuracy, current model", "pct", "(95% interval)"),
        F("accuracy_difference", "New minus current, accuracy", "points",
          "paired interval at the review's significance level"),
        F("p_value", "McNemar p-value", "p", "chance of a difference this large if both were equally accurate"),
        F("auc_difference", "New minus current, ROC AUC", "diff3", "paired interval (DeLong)"),
        F("challenger.cost_per_1000", "Cost, new model", "cost", "in your cost units (95% interval)"),
        F("champion.cost_per_1000", "Cost, current model", "cost", "in your cost units (95% interval)"),
        F("cost_difference_per_1000", "New minus current, cost", "cost", "below 0: the new model costs less"),
        F("brier_difference", "New minus current, Brier score", "signed",
          "below 0: the new model's probabilities are more accurate"),
        F("decision_changes_share", "Decisions that change", "pct",
          "holdout rows the two models decide differently"),
        F("newly_flagged", "Newly flagged", "count", "holdout rows only the new model flags"),
        F("no_longer_flagged", "No longer flagged", "count", "holdout rows only the current model flags"),
    ),
    "monitoring.reference": (
        F("rows", "Holdout rows profiled", "count", "the reference each production batch is compared with"),
        F("model_features", "Features profiled", "text", "binned at the holdout's deciles, or by category"),
        F("target", "Outcome column", "text"),
        F("threshold", "Decision threshold", "threshold"),
        F("performance.accuracy", "Holdout accuracy", "pct", "estimated and realised batch accuracy are compared "
                                                             "with it"),
        F("performance.roc_auc", "Holdout ROC AUC", "score"),
        F("performance.cost_per_1000", "Holdout cost", "cost", "in your cost units"),
        F("calibration_map.method", "Calibration map", "text",
          "turns scores into probabilities: accuracy estimated without labels"),
    ),
    "model.serving": (
        F("model_bytes", "Model file size", "bytes", none="not measured (no model file)"),
        F("latency_ms_p50", "Scoring one row, median", "ms", "repeated single-row calls on one thread"),
        F("latency_ms_p95", "Scoring one row, 95th percentile", "ms", "what the latency budget is compared with"),
        F("latency_budget_ms", "Latency budget", "ms", "set by the reviewer", none="none set"),
        F("rows_per_second", "Throughput", "rps", "a batch of holdout rows scored at once"),
        F("peak_memory_bytes", "Peak memory while scoring", "bytes", "Python and NumPy allocations"),
    ),
}


def _get(metrics: dict, path: str) -> tuple[bool, Any, Any]:
    """(present, value, interval) of a metric by key or dotted path."""
    node: Any = metrics
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False, None, None
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        return False, None, None
    return True, node[parts[-1]], node.get(f"{parts[-1]}_ci")


def format_figure(kind: str, value: Any, ci: Any = None) -> str:
    """A value as people read it, with its 95% interval in brackets when given."""
    fmt_value = FORMATS.get(kind, fmt.number)
    if kind in WHOLE_KINDS:
        return fmt_value(value)
    if isinstance(value, dict):
        if not value:
            return "none"
        return "; ".join(f"{k}: {format_figure(kind, v)}" for k, v in value.items())
    if kind in SHARED_DECIMALS and fmt.finite(value) and fmt.interval(ci):
        # a measurement and its bounds at one number of decimals (fmt.decimals): '56.7 (50.5–62.0)'
        text = SHARED_DECIMALS[kind].format(fmt.estimate(value, ci, sign=kind == "signed"))
        return f"{text} ({fmt.interval(ci, value=value)})"
    text = fmt_value(value) if value is not None or kind in ("text", "yes") else fmt.MISSING
    band = fmt.interval(ci, _CI_FORMATS.get(kind, fmt_value)) if kind not in ("text", "yes") else ""
    return f"{text} ({band})" if band else text


def humanize(key: str) -> str:
    words = [{"auc": "AUC", "roc": "ROC", "ece": "ECE", "psi": "PSI", "ci": "interval"}.get(w, w)
             for w in re.split(r"[_.]+", key) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _guess_kind(key: str, value: Any) -> str:
    k = key.lower()
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (str, list)):
        return "text"
    if isinstance(value, int):
        return "count"
    if k.endswith(("p_value", "_p")):
        return "p"
    if any(h in k for h in ("rate", "share", "accuracy", "precision", "recall", "prevalence", "coverage")) \
            and isinstance(value, float) and 0 <= value <= 1:
        return "pct"
    return "num"


def key_figures(check_id: str, metrics: dict, *, limit: int = 14) -> list[tuple[str, str, str]]:
    """(label, value, meaning) rows for a check's evidence table."""
    spec = FIGURES.get(check_id)
    rows: list[tuple[str, str, str]] = []
    if spec is not None:
        for f in spec:
            present, value, ci = _get(metrics, f.key)
            if not present or (f.when is not None and _get(metrics, f.when[0])[1] != f.when[1]):
                continue
            if value is None:
                if f.none is None:
                    continue
                rows.append((f.label, f.none, f.meaning))
                continue
            if f.ci is not None:
                ci = _get(metrics, f.ci)[1]
            if f.ref is not None:
                found, name, _ = _get(metrics, f.ref.format(value))
                value = name if found and name else value
            if f.words is not None:
                value = f.words.get(value, value)
            rows.append((f.label, format_figure(f.kind, value, ci), f.meaning))
        return rows[:limit]
    for key, value in metrics.items():  # a check without an entry: its plain scalar metrics
        if key.endswith("_ci") or value is None or isinstance(value, dict):
            continue
        if isinstance(value, list) and not all(isinstance(x, (str, int, float)) for x in value):
            continue
        kind = _guess_kind(key, value)
        rows.append((humanize(key), format_figure(kind, value, metrics.get(f"{key}_ci")), ""))
        if len(rows) >= limit:
            break
    return rows


REGRESSION_GROUP_HEADER = ("Group", "Rows", "Mean absolute error", "Mean error (prediction − actual)",
                           "Mean prediction", "Mean actual", "Error vs reference")


def regression_group_rows(metrics: dict, *, limit: int = 12) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    """A regression's bias.groups as tables for the PDF, read from ``metrics["groups"]`` (never recomputed):
    one (attribute, reference group, rows) per sensitive attribute, each row a group's holdout rows, MAE, mean
    error, mean prediction and mean actual with their 95% intervals (one number of decimals per figure,
    fmt.with_interval), and its MAE minus the reference group's. Empty for a classifier."""
    groups = metrics.get("groups") if isinstance(metrics, dict) else None
    if metrics.get("task") != "regression" or not isinstance(groups, dict):
        return []
    disparities = metrics.get("disparities") if isinstance(metrics.get("disparities"), dict) else {}
    out = []
    for attr, table in groups.items():
        if not isinstance(table, dict):
            continue
        disp = disparities.get(attr) if isinstance(disparities.get(attr), dict) else {}
        ref = disp.get("reference")
        rows = []
        for g, v in list(table.items())[:limit]:
            d = (disp.get("groups") or {}).get(g, {})
            rows.append((str(g), fmt.count(v.get("n")), fmt.with_interval(v.get("mae"), v.get("mae_ci")),
                         fmt.with_interval(v.get("mean_error"), v.get("mean_error_ci"), sign=True),
                         fmt.with_interval(v.get("mean_prediction"), v.get("mean_prediction_ci")),
                         fmt.with_interval(v.get("mean_actual"), v.get("mean_actual_ci")),
                         "reference" if g == ref else
                         fmt.with_interval(d.get("mae_difference"), d.get("mae_difference_ci"), sign=True)))
        out.append((str(attr), str(ref) if ref is not None else "", rows))
    return out
