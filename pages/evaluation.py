"""Holdout performance: the model's metrics with 95% intervals."""

import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    metric_ci,
    pct,
    plot,
    review,
    skipped_or_error,
    what_to_do,
)
from readiness.charts.evaluation import (
    confusion_matrix,
    error_by_decile,
    predicted_vs_actual,
    residuals_vs_prediction,
    roc_curve,
)
from readiness.fmt import interval, number


def _ci(ci) -> str:
    """Plain percent bounds ('90.3%–100.0%'): '90.3% – > 99.9%' read as a range of its own."""
    return interval(ci, pct) or "–"


def _multiclass(res) -> None:
    """Per-class figures, the confusion matrix as shares of each actual class, the largest mistakes in words."""
    m = res.metrics
    st.markdown("**Each class: precision, recall and F1** (95% intervals; recall = share of that class found, "
                "precision = share of predictions of that class that are right)")
    rows = [{"class": c, "holdout rows": v["support"], "recall": pct(v["recall"]), "recall 95%": _ci(v["recall_ci"]),
             "precision": pct(v["precision"]), "precision 95%": _ci(v["precision_ci"]), "F1": pct(v["f1"]),
             "F1 95%": _ci(v["f1_ci"])} for c, v in m["per_class"].items()]
    st.dataframe(rows, hide_index=True)
    if m.get("largest_confusions"):
        st.markdown("**The largest mistakes**")
        st.markdown("\n".join(f"- {c['rows']:,} holdout {'rows' if c['rows'] != 1 else 'row'} of class "
                               f"**{esc(c['actual'])}** {'were' if c['rows'] != 1 else 'was'} predicted as "
                               f"**{esc(c['predicted'])}** ({pct(c['share_of_actual'])} of that class)"
                               for c in m["largest_confusions"]))
    st.markdown("**Confusion matrix**: each row is an actual class; a cell is the share of that class's holdout rows "
                "predicted as the column's class (the diagonal is recall). Hover for row counts.")
    plot(confusion_matrix(res))


ctx, report = review()
st.title("Holdout performance")
st.caption("How well does the model do on data it did not learn from, and how sure can we be?")

res = report.check("evaluation.holdout")
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    if report.task == "regression":
        c1, c2, c3 = st.columns(3)
        metric_ci(c1, "MAE", m["mae"], m["mae_ci"], formatter=number, help="Mean absolute error, in target units")
        metric_ci(c2, "RMSE", m["rmse"], m["rmse_ci"], formatter=number, help="Root mean squared error")
        metric_ci(c3, "R²", m["r2"], m["r2_ci"], formatter=number, help="Share of the target's variance explained")
        if m.get("points"):
            if m.get("on_sample"):  # an engine: the metrics are on every row, the plots need the rows
                st.caption(f"The plots below are drawn from the engine's sample of {m['on_sample']['rows']:,} holdout "
                           f"rows; the MAE, RMSE and R² above are on all {m['n']:,} rows.")
            left, right = st.columns(2)
            shown = len(m["points"]["prediction"])
            sample = f" ({shown:,} of {m['points']['rows']:,} rows drawn)" if shown < m["points"]["rows"] else ""
            with left:
                st.markdown("**Predicted vs actual**" + sample + ": on the dotted line the prediction is exact; the "
                            "blue points are the mean actual value per tenth of the predictions, with 95% intervals")
                plot(predicted_vs_actual(res))
            with right:
                st.markdown("**Errors along the range**: prediction − actual per row; red, the mean error per tenth "
                            "of the predictions (95%). Away from 0: the model is biased there (Calibration page)")
                plot(residuals_vs_prediction(res))
            st.markdown("**Error by decile of the prediction**: mean absolute error of each tenth of the holdout rows, "
                        "sorted by prediction, with 95% t intervals")
            plot(error_by_decile(res))
    else:
        c1, c2, c3, c4 = st.columns(4)
        metric_ci(c1, "Accuracy", m["accuracy"], m["accuracy_ci"],
                  help="Share of holdout rows predicted right; 95% Clopper–Pearson interval")
        metric_ci(c2, "Balanced accuracy", m["balanced_accuracy"], m["balanced_accuracy_ci"],
                  help="Average recall over classes; not fooled by a majority class (95% bootstrap)")
        metric_ci(c3, "ROC AUC", m.get("roc_auc"), m.get("roc_auc_ci"), as_pct=False,
                  help="Chance a random positive scores above a random negative (0.5 = random)")
        metric_ci(c4, "Log loss", m.get("log_loss"), m.get("log_loss_ci"), as_pct=False,
                  help="Penalty for confident wrong probabilities; lower is better")
        st.caption(f"Always predicting the most common class would give {pct(m['majority_class_rate'])} accuracy."
                   + (f" Positive class: **{esc(m['positive_label'])}**, decision threshold {m['threshold']}."
                      if report.task == "binary" else ""))
        if report.task == "binary":
            left, right = st.columns(2)
            with left:
                st.markdown("**Confusion matrix** (holdout rows)")
                plot(confusion_matrix(res))
            with right:
                if m.get("roc_curve"):
                    st.markdown("**ROC curve**")
                    plot(roc_curve(res))
        else:
            _multiclass(res)
    findings(res)
    check_details(res)
    todo = []
    if res.status.value == "fail":
        todo.append("Do not deploy on this evidence: the model does not clear its bar on the holdout.")
    if m.get("n", 0) < 1000:
        todo.append("A larger holdout would narrow the intervals; see the holdout reuse budget on the Leakage page.")
    todo.append("Compare these numbers with the Leakage page: a score that looks too good often is.")
    what_to_do(todo)

st.divider()
hp = report.check("model.hyperparameters")
if check_header(hp) and not skipped_or_error(hp):
    m = hp.metrics
    findings(hp)
    if m["changed_from_default"]:
        st.markdown("**Hyper-parameters that differ from the library defaults**")
        st.dataframe([{"parameter": k, "value": str(v["value"]), "default": str(v["default"])}
                      for k, v in m["changed_from_default"].items()], hide_index=True)
    with st.expander("Every step and hyper-parameter"):
        for name, step in m["steps"].items():
            st.markdown(f"**{esc(name)}** · `{step['class']}`")
            st.dataframe([{"parameter": k, "value": str(v)} for k, v in step["params"].items()], hide_index=True)
    check_details(hp)
    what_to_do(["Ask for the search space, the validation scheme and the number of configurations tried; tuning "
                "on the holdout makes its score optimistic (see the holdout reuse budget)."]
               if m["all_defaults"] or m["changed_from_default"] else [])
