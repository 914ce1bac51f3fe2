"""Calibration and uncertainty: can the model say how sure it is?"""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    page_has_evidence,
    pct,
    plot,
    review,
    skipped_or_error,
    what_to_do,
    with_ci,
)
from readiness.charts.calibration import (
    abstention_curve,
    group_calibration,
    recalibration_diagram,
    regression_bias_by_decile,
    reliability_diagram,
    score_histogram,
)
from readiness.fmt import estimate, interval, number, p_text, p_value
from readiness.results import Severity, Status

ctx, report = review()
st.title("Calibration and uncertainty")
st.caption("Are the predictions right on average across their range, and how far from a prediction can the actual "
           "value be, 9 times in 10?" if report.task == "regression" else
           "Can the model say how sure it is? When it says 30%, does it happen 3 times in 10 — and which "
           "predictions should a person check before anyone acts on them?")


def _pts(x):
    return "–" if x is None else f"{100 * x:.1f} pts"


def _num(x, digits=4):
    return "–" if x is None else f"{x:.{digits}f}"


def _metric(col, label, value, *, interval=None, note=None, help=None):
    """A metric whose interval (or note) sits on a caption line beneath, so the value stays
    legible in a narrow column and on a projector."""
    col.metric(label, value, help=help)
    if interval:
        col.caption(f"95% interval {interval}")
    elif note:
        col.caption(note)




def _regression(res) -> None:
    """A regression model: the calibration line, bias along the range, honest 90% prediction intervals."""
    m = res.metrics
    ic = m["interval_coverage"]
    c1, c2, c3, c4 = st.columns(4)
    _metric(c1, "Calibration slope", estimate(m["calibration_slope"], m["calibration_slope_ci"]),
            interval=interval(m["calibration_slope_ci"], value=m["calibration_slope"]),
            help="Actual value regressed on the prediction: 1 is ideal; below 1 the predictions are too spread out, "
                 "above 1 too compressed")
    _metric(c2, "Calibration intercept", estimate(m["calibration_intercept"], m["calibration_intercept_ci"]),
            interval=interval(m["calibration_intercept_ci"], value=m["calibration_intercept"]), help="Of the same line; 0 is ideal with a slope of 1")
    _metric(c3, "90% prediction interval", f"± {number(ic['half_width'])}",
            note=f"fit on {ic['n_fit']:,} holdout rows",
            help="Split conformal: the half-width that covers 90% of the errors of one half of the holdout")
    _metric(c4, "Its coverage on the other half", pct(ic["coverage"]), interval=interval(ic["coverage_ci"], pct),
            help=f"Share of the other {ic['n_check']:,} holdout rows whose actual value falls inside the interval; "
                 "90% is the promise")
    st.markdown("**Is the model biased along its range?** Mean error (prediction − actual) in each tenth of the "
                "predictions, with 95% intervals; above 0 the model over-estimates there.")
    plot(regression_bias_by_decile(res))
    by = m.get("interval_coverage_by_group") or {}
    if by:
        st.markdown("**Does the 90% interval hold for every group?**")
        st.dataframe(pd.DataFrame([{"attribute": a, "group": g, "rows": v["n"], "coverage": pct(v["coverage"]),
                                    "95% interval": interval(v["coverage_ci"], pct)}
                                   for a, gs in by.items() for g, v in gs.items()]), hide_index=True)
    findings(res)
    check_details(res)
    todo = []
    if res.status in (Status.FAIL, Status.WARN):
        todo.append("Recalibrate on held-out rows (fit actual = a + b · prediction) and review again; a group the "
                    "interval does not cover needs its own error model — see the Bias page.")
    what_to_do(todo)


_ON_SAMPLE = {"recalibration": "the recalibration preview", "hosmer_lemeshow": "the Hosmer–Lemeshow test",
              "calibration_p_value": "the combined test (through Hosmer–Lemeshow)", "adaptive_ece": "the adaptive ECE",
              "calibration_slope": "the calibration slope"}


def _engine_caption(m: dict) -> str:
    """What an engine review computed on every row and what on its sample (``metrics.on_sample``)."""
    listed = [_ON_SAMPLE[k] for k in m["on_sample"]["keys"] if k in _ON_SAMPLE]
    text = f"Computed on all {m['n']:,} holdout rows"
    if listed:
        text += (f" except {', '.join(listed[:-1]) + ' and ' if len(listed) > 1 else ''}{listed[-1]}, on the "
                 f"engine's sample of {m['on_sample']['rows']:,} rows")
    if m.get("interval_methods"):
        text += "; the ECE and Brier intervals come from per-band sums, not a bootstrap of the rows"
    return text + "."


res = report.check("calibration")
_shown = check_header(res) and not skipped_or_error(res)
if _shown and res.metrics.get("task") == "regression":
    _regression(res)
elif _shown:
    m = res.metrics
    multi = m["task"] == "multiclass"
    c1, c2, c3, c4 = st.columns(4)
    _metric(c1, "Calibration error (ECE)", _pts(m["ece"]), interval=interval(m.get("ece_ci"), _pts),
            help=("Average gap between what the model predicts and what happens, in percentage points, over 10 "
                  "score bands weighted by their rows (95% bootstrap interval). Even a perfectly calibrated model "
                  f"shows about {_pts(m['ece_noise_floor'])} on {m['n']:,} rows, from chance alone; with chance "
                  f"taken out the gap is about {_pts(m.get('calibration_error_debiased'))}, the figure the "
                  "verdict judges against 2 points (warn) and 5 points (fail); it is a root mean square over the "
                  "bands, so it can sit above the ECE, which averages the gaps' sizes."
                  + (" Multiclass: confidence in the top class against how often it is right." if multi else "")))
    p_dec = m.get("calibration_p_value_adjusted", m["calibration_p_value"])
    fam = m.get("test_families", 1)
    _metric(c2, "Calibration test p-value" + (" (corrected)" if fam > 1 else ""), p_value(p_dec),
            note=("more than chance" if p_dec is not None and p_dec < 0.05 else "consistent with chance"),
            help=("Could the gap be chance? Spiegelhalter's z "
                  f"(z = {_num(m['spiegelhalter_z'], 2)}) and Hosmer–Lemeshow "
                  f"({p_text(m['hosmer_lemeshow']['p_value'])}), combined"
                  + (f" ({p_text(m['calibration_p_value'])}), times the {fam} sets of tests this check runs "
                     "(overall, per class, per group)" if fam > 1 else "")
                  + "; below 0.05 the gap is more than chance."))
    # the report's figures: 3 significant digits (fmt.number), so the page and the PDF read the same Brier score
    _metric(c3, "Brier score", number(m["brier"], 3), interval=interval(m.get("brier_ci")),
            help=("Mean squared difference between the predicted probability and the outcome (0 is perfect; lower "
                  "is better; 95% bootstrap interval). "
                  + ("Summed over classes (0–2)." if multi else
                     f"Always predicting the base rate would score {m['brier_decomposition']['uncertainty']:.4f}.")))
    if multi:
        _metric(c4, "Class-wise ECE", _pts(m["classwise_ece"]), note="mean over classes",
                help="Mean over classes of each class's own calibration error (one class against the rest)")
    else:
        slope = m.get("calibration_slope")
        _metric(c4, "Calibration slope", _num(slope, 2), note="1 is ideal",
                help=("1 is ideal. Below 1: the probabilities are too extreme (overconfident); above 1: too timid. "
                      "From a logistic regression of the outcome on the log-odds of the score."))
    st.caption(f"Compared on {m['n']:,} holdout rows: {esc(m['variable'])}. "
               + (f"Mean predicted {pct(m['mean_score'])} vs observed {pct(m['prevalence'])}. Log loss "
                  f"{number(m['log_loss'], 3)}." if not multi else
                  f"Mean confidence {pct(m['mean_confidence'])} vs accuracy {pct(m['accuracy'])}. Log loss "
                  f"{number(m['log_loss'], 3)}."))
    if m.get("on_sample"):  # an engine: the figures are on every row, except those that need the rows
        st.caption(_engine_caption(m))
    left, right = st.columns(2)
    with left:
        st.markdown("**Reliability diagram** — on the dashed line, predictions mean what they say; bars show 95% "
                    "intervals, bigger dots hold more rows")
        plot(reliability_diagram(res))
    with right:
        st.markdown("**How the scores spread** — holdout rows per score band"
                    + (", right and wrong predictions" if multi else ", by actual outcome"))
        plot(score_histogram(res))
    findings(res)

    groups = m.get("groups") or {}
    if groups:
        flagged = any(f.columns and f.columns[0] in groups for f in res.findings)
        with st.expander(f"Calibration per group ({esc(', '.join(groups))})", expanded=flagged):
            st.caption("Do the probabilities mean the same for every group? Predicted (mean score) against observed "
                       "rate per group; p-values are corrected for the number of groups tested (Bonferroni)."
                       + (" Multiclass: confidence against accuracy." if multi else ""))
            for col, info in groups.items():
                st.markdown(f"**{esc(col)}**")
                left, right = st.columns([2, 3])
                with left:
                    plot(group_calibration(res, col))
                with right:
                    st.dataframe(pd.DataFrame([{
                        "group": g["group"], "rows": f"{g['n']:,}", "predicted": pct(g["predicted"]),
                        "observed (95%)": with_ci(g["observed"], g["observed_ci"]), "ECE": _pts(g["ece"]),
                        "noise level": _pts(g["ece_noise_floor"]),
                        "gap without chance": _pts(g.get("calibration_error_debiased")),
                        "p (corrected)": p_value(g.get("p_value_adjusted")) if g.get("p_value") is not None
                        else "fewer than 30 rows"} for g in info["groups"]]), hide_index=True)
                    if info.get("groups_not_shown"):
                        st.caption(f"{info['groups_not_shown']} smaller groups not shown.")
    if multi:
        with st.expander("Class-wise calibration"):
            st.dataframe(pd.DataFrame([{
                "class": c["class"], "rows": f"{c['n']:,}", "predicted": pct(c["predicted"]), "observed": pct(c["observed"]),
                "ECE": _pts(c["ece"]), "noise level": _pts(c["ece_noise_floor"]),
                "gap without chance": _pts(c.get("calibration_error_debiased")),
                "p (corrected)": p_value(c.get("p_value_adjusted"))} for c in m["classwise"]]), hide_index=True)

    rec = m.get("recalibration")
    st.markdown("#### Would a recalibration fix it?")
    if rec and "recalibration" in (m.get("on_sample") or {}).get("keys", ()):
        st.caption(f"Fitted and graded on the engine's sample of {m['on_sample']['rows']:,} holdout rows (the "
                   f"'as delivered' row too), so its figures differ from those above, which are on all {m['n']:,} rows.")
    if rec:
        st.caption(f"Platt{' (temperature scaling)' if multi else ''} and isotonic maps fitted by {rec['folds']}-fold "
                   "cross-fitting on the holdout: every row is scored by a map fitted on the other folds, so the "
                   "'after' numbers are not graded on their own exam. A preview only — fit the real calibrator on "
                   "data the model did not train on.")
        left, right = st.columns([1, 1])
        with left:
            names = {"before": "as delivered", "platt": "Platt" + (" (temperature)" if multi else ""),
                     "isotonic": "isotonic"}
            st.dataframe(pd.DataFrame([{
                "": names[k], "ECE": _pts(rec[k]["ece"]), "adaptive ECE": _pts(rec[k]["adaptive_ece"]),
                "Brier": f"{rec[k]['brier']:.4f}", "log loss": f"{rec[k]['log_loss']:.4f}"}
                for k in ("before", "platt", "isotonic")]), hide_index=True)
            best = rec["best"]
            if rec["improves"] and res.status != Status.PASS:
                st.markdown(f"**{names[best].capitalize()}** gives the lowest Brier score: a cheap fix is available.")
            elif rec["improves"]:
                st.markdown(f"{names[best].capitalize()} would change the Brier score by "
                            f"{rec[best]['brier'] - rec['before']['brier']:+.4f} — little to gain.")
            else:
                st.markdown("Neither map improves the Brier score: the probabilities are already as good as a simple "
                            "recalibration can make them.")
        with right:
            plot(recalibration_diagram(res))
    else:
        st.caption("Not available: too few rows of some class to cross-fit a recalibration.")

    with st.expander("Reliability table and Brier decomposition"):
        st.dataframe(pd.DataFrame([{
            "score band": f"{r['lower']:.1f}–{r['upper']:.1f}", "rows": r["count"],
            "mean score": pct(r["mean_score"]) if r["count"] else "–",
            "observed (95%)": with_ci(r["observed_rate"], r["observed_ci"]) if r["count"] else "–"}
            for r in m["reliability"]]), hide_index=True)
        d = m["brier_decomposition"]
        st.markdown(
            f"Brier {m.get('top_label_brier', m['brier']):.4f} = reliability {d['reliability']:.4f} "
            f"− resolution {d['resolution']:.4f} + uncertainty {d['uncertainty']:.4f} "
            f"+ within-band terms ({d['within_bin_variance'] - d['within_bin_covariance']:+.4f})"
            + (" (top-label Brier)." if multi else "."))
        st.caption("Reliability: how far predictions are from observed rates (lower is better). Resolution: how much "
                   "the predictions separate cases with different outcome rates (higher is better). Uncertainty: the "
                   "outcome's own variance, fixed by the data. Adaptive ECE (equal-size bands): "
                   f"{_pts(m['adaptive_ece'])}; largest gap in one band (MCE): {_pts(m['mce'])}.")
    check_details(res)
    todo = []
    if res.status == Status.FAIL:
        todo.append("Do not use the scores as probabilities (pricing, expected-loss, 'x% risk' messages) until the "
                    "model is recalibrated.")
    if res.status != Status.PASS and rec and rec["improves"]:
        todo.append(f"Recalibrate with {'isotonic regression' if rec['best'] == 'isotonic' else 'Platt scaling'} "
                    "(scikit-learn `CalibratedClassifierCV`) on data the model did not train on, then run this review "
                    "again on a fresh holdout.")
    if any(f.severity != Severity.INFO and f.columns for f in res.findings) and page_has_evidence(report, "pages/bias.py"):
        todo.append("A group whose probabilities mean something different is a fairness issue: take it to the Bias page.")
    if res.status == Status.PASS:
        todo.append("The probabilities can be shown to decision makers as chances; keep monitoring calibration after "
                    "deployment, since drift breaks it first.")
    what_to_do(todo)

st.divider()
ab = report.check("uncertainty.abstention")
if check_header(ab) and not skipped_or_error(ab):
    m = ab.metrics
    band = m.get("band")
    c1, c2, c3, c4 = st.columns(4)
    if m["target_accuracy"] is not None:
        _metric(c1, "Target accuracy", pct(m["target_accuracy"]), note="from the review settings",
                help="Required accuracy from the review settings")
    else:
        _metric(c1, "Target accuracy", "not set", note="set it in Setup to size a review band",
                help="No target accuracy was set, so no band is recommended: the curve below shows what deferring "
                     "the least confident cases buys; pick the accuracy the business needs")
    if m["target_accuracy"] is None:
        o = m["deferral_options"][0]
        _metric(c2, f"Deferring the least confident {pct(o['deferred_share'], 0)}", pct(o["kept_accuracy"]),
                interval=interval(o["kept_accuracy_ci"], pct), note="accuracy on the rest",
                help="Accuracy on the cases the model would still decide alone (95% Clopper–Pearson interval)")
        _metric(c3, "Accuracy, all cases", pct(m["accuracy"]), interval=interval(m["accuracy_ci"], pct),
                help="Accuracy when the model decides every case (95% Clopper–Pearson interval)")
    elif band is None:
        _metric(c2, "Cases for people", "not reachable", note="no band reaches the target",
                help="No review band reaches the target while the model still decides at least 10% of cases")
        _metric(c3, "Accuracy, all cases", pct(m["accuracy"]), interval=interval(m["accuracy_ci"], pct),
                help="Accuracy when the model decides every case (95% Clopper–Pearson interval)")
    elif not band.get("needed"):
        _metric(c2, "Cases for people", "none needed",
                note=f"{m['flagged_count']:,} least confident flagged for optional review",
                help="The model already meets the target deciding every case; the least confident 10% are flagged")
        _metric(c3, "Accuracy, all cases", pct(m["accuracy"]), interval=interval(m["accuracy_ci"], pct),
                help="Accuracy when the model decides every case (95% Clopper–Pearson interval)")
    else:
        _metric(c2, "Cases for people", pct(band["deferred_share"]),
                note=f"{band['deferred']:,} of {m['n']:,} holdout cases",
                help=f"Cases in the review band go to a person: {band['rule']}")
        _metric(c3, "Accuracy on the rest", pct(band["kept_accuracy"]),
                interval=interval(band["kept_accuracy_ci"], pct),
                help=(f"Accuracy on the cases the model still decides alone (95% Clopper–Pearson interval); all "
                      f"cases: {pct(m['accuracy'])}"))
    auc = m.get("confidence_auc")
    _metric(c4, "Confidence tells right from wrong", "–" if auc is None else f"AUC {auc:.2f}",
            note="0.5 = no better than a coin",
            help=("Chance that a right prediction is more confident than a wrong one (0.5: confidence is useless; "
                  f"1: perfect). Ranking by {m['confidence']}."))
    st.markdown("**Accuracy as uncertain cases go to people** — from left (model decides everything) to right (model "
                "decides only its most confident cases)")
    plot(abstention_curve(ab))
    if band and band.get("needed"):
        st.caption(f"Review band: {band['rule']}. " + (
            f"Conservative band (the interval's lower bound reaches the target): {m['conservative_band']['rule']}, "
            f"{pct(m['conservative_band']['deferred_share'])} of cases." if m.get("conservative_band") else
            "No band makes the lower bound of the interval reach the target on this holdout."))
    findings(ab)
    basis = ("in the review band" if m["flagged_basis"] == "target_band" else "the 10% least confident")
    with st.expander(f"Flagged low-confidence predictions ({m['flagged_count']:,}, {pct(m['flagged_share'])} of the "
                     f"holdout: {basis})"):
        st.caption("Predictions a person should check before anyone acts on them, least confident first"
                   + (f" (first {len(m['flagged_examples'])} shown)." if m["flagged_count"] > len(m["flagged_examples"])
                      else "."))
        id_name = ctx.roles.id_column or "holdout row"
        st.dataframe(pd.DataFrame([{
            id_name: e["id"], "score": round(e["score"], 4), "predicted": e["predicted"], "actual": e["actual"],
            "right?": "✔" if str(e["predicted"]) == str(e["actual"]) else "✘"} for e in m["flagged_examples"]]),
            hide_index=True)
    check_details(ab)
    todo = []
    if band and band.get("needed"):
        todo.append(f"Route cases with {band['rule'].removeprefix('defer when ')} to a person; that is about "
                    f"{pct(band['deferred_share'])} of the volume — check that the team can handle it.")
    elif m["target_accuracy"] is None:
        todo.append("Agree on the accuracy the business needs for the cases the model decides alone, set it in Setup "
                    "and review again: the review then sizes the band for it (the curve above shows the trade-off).")
    elif band is None:
        todo.append("A review band cannot rescue this model at the required accuracy: improve the model or revisit "
                    "the target (see Feasibility).")
    else:
        todo.append("No review band is required; consider a light review of the least confident 10% while the model "
                    "is new.")
    cal = report.check("calibration")
    if cal is not None and cal.status in (Status.FAIL, Status.WARN) and band and band.get("needed"):
        todo.append("The band is drawn on the scores as delivered, which are miscalibrated (see above): after "
                    "recalibrating, review again — the band's score limits will move.")
    if any(f.severity == Severity.WARN and "separate" in f.message for f in ab.findings):
        todo.append("The model's confidence is not informative: recalibration will not fix that; the model needs "
                    "better features or a different learner.")
    what_to_do(todo)
