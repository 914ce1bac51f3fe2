"""Compared with the current model: is the new model better than the one in production, for whom,
and which decisions change?"""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    esc,
    findings,
    metric_ci,
    pct,
    plot,
    review,
    status_text,
    what_to_do,
)
from readiness.charts.comparison import (
    VERDICT_WORD,
    change_unit,
    decision_changes,
    who_gains_who_loses,
)
from readiness.fmt import p_text
from readiness.results import Status

ctx, report = review()
st.title("Compared with the current model")
st.caption("The new model against the model in production today, on the same holdout rows, each at its own decision "
           "threshold: is it better, for whom, and which decisions change if it replaces the current one?")

result = report.check("comparison.champion")
if result is None or result.status == Status.SKIPPED:
    st.info("This review has no current model to compare with. In **Setup**, add the model in production today "
            "(a model file, or a holdout column with its scores) under *Optional: the model in production today*; "
            "headless: `readiness review … --champion CURRENT.skops` or `--champion-prediction-column COL`.",
            icon=":material/compare_arrows:")
    st.page_link("pages/setup.py", label="Go to Setup", icon=":material/upload_file:")
    st.stop()
if result.status == Status.ERROR:
    st.error(f"{esc(result.summary)} The other checks are unaffected; report this with the check id `{result.id}`.")
    st.stop()

m = result.metrics
new, old = m["challenger"], m["champion"]
VERDICT = {"better": "Better than the current model", "worse": "Worse than the current model",
           "mixed": "Mixed: better for some, worse for others", "no_difference": "No difference the holdout can show"}
st.markdown(f"### {status_text(result.status)} — {VERDICT[m['verdict']]}")
st.markdown(f"**{esc(result.summary)}**")
conf = f"{100 * (1 - m['alpha']):.3g}%"

# --- key numbers ----------------------------------------------------------------------------------
cols = st.columns(4)
if m["task"] == "regression":
    metric_ci(cols[0], "Mean absolute error, new model", new["mae"], new.get("mae_ci"), as_pct=False, digits=4,
              help="Average size of the new model's errors on the holdout (95% t-interval)")
    metric_ci(cols[1], "Mean absolute error, current model", old["mae"], old.get("mae_ci"), as_pct=False, digits=4,
              help="Average size of the current model's errors on the same rows")
    metric_ci(cols[2], "Errors smaller by", m["mae_improvement"], m["mae_improvement_ci"], as_pct=False, digits=4,
              help=f"Current model's |error| − new model's |error|, averaged over rows; {conf} paired t-interval. "
                   "Above 0: the new model errs less")
else:
    d, ci = m["accuracy_difference"], m["accuracy_difference_ci"]
    cols[0].metric("Accuracy", pct(new["accuracy"]), f"{100 * d:+.1f} points", delta_color="normal",
                   help=f"Share of holdout rows the new model gets right; the delta is new − current ({pct(old['accuracy'])}) "
                        f"on the same rows, {conf} Newcombe interval for paired data")
    if ci:
        cols[0].caption(f"current {pct(old['accuracy'])} · change {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f} points · "
                        f"McNemar {p_text(m['p_value'])}")
    if m.get("auc_difference") is not None:
        aci = m["auc_difference_ci"]
        cols[1].metric("ROC AUC", f"{new['roc_auc']:.3f}", f"{m['auc_difference']:+.3f}",
                       help="How well the scores rank positives above negatives, whatever the threshold (0.5 = chance); "
                            f"delta new − current ({old['roc_auc']:.3f}), {conf} DeLong interval for paired data")
        cols[1].caption(f"current {old['roc_auc']:.3f} · change {aci[0]:+.3f} to {aci[1]:+.3f}")
    if m.get("cost_difference_per_1000") is not None:
        cd, cci = m["cost_difference_per_1000"], m["cost_difference_per_1000_ci"]
        cols[2].metric("Cost per 1,000 decisions", f"{new['cost_per_1000']:,.0f}", f"{cd:+,.0f}", delta_color="inverse",
                       help=f"Expected cost of 1,000 decisions at each model's threshold: false positives × "
                            f"{m['cost_fp']:g} + false negatives × {m['cost_fn']:g}; delta new − current "
                            f"({old['cost_per_1000']:,.0f}), {conf} paired t-interval")
        if cci:
            cols[2].caption(f"current {old['cost_per_1000']:,.0f} · change {cci[0]:+,.0f} to {cci[1]:+,.0f}")
    cols[3].metric("Decisions that change", pct(m["decision_changes_share"]),
                   help="Holdout rows whose decision (or predicted class) differs between the two models")
    extra = (f" · {m['newly_flagged']:,} newly flagged, {m['no_longer_flagged']:,} no longer"
             if "newly_flagged" in m else "")
    cols[3].caption(f"{m['decision_changes']:,} of {m['rows']:,} rows{extra}")

# --- who gains, who loses -----------------------------------------------------------------------------
st.subheader("Who gains, who loses")
if m.get("groups"):
    st.markdown(f"Each dot is the {change_unit(result).removeprefix('change in ')} of the new model minus the current "
                f"one in a group, with its 95% interval; **left of zero the new model makes fewer errors there**. "
                f"A group is said to gain or lose only when the change is beyond chance after allowing for the "
                f"{m['group_tests']} groups compared (Bonferroni); groups under 30 rows are shown but not judged.")
else:
    st.markdown("No sensitive attributes were named in Setup, so only the change over all rows is shown. Name them "
                "to see who gains and who loses.")
plot(who_gains_who_loses(result))
findings(result)

if "newly_flagged" in m:
    st.subheader("Which decisions change")
    pos = str(report.roles.positive_label)
    st.markdown(f"Replacing the current model changes **{m['decision_changes']:,}** of {m['rows']:,} holdout decisions "
                f"({pct(m['decision_changes_share'])}): **{m['newly_flagged']:,} newly flagged** "
                f"({esc(report.roles.target)} = {esc(pos)}), of which "
                f"{m.get('newly_flagged_positive', 0):,} actually were, and **{m['no_longer_flagged']:,} no longer "
                f"flagged**, of which {m.get('no_longer_flagged_positive', 0):,} actually were. These are the "
                "customers whose outcome changes on the day of the switch.")
    plot(decision_changes(result, positive=f"{report.roles.target} = {pos}"))

# --- details -------------------------------------------------------------------------------------------
with st.expander("Both models side by side"):
    rows = []

    def _row(label, key, fmt):
        a, b = new.get(key), old.get(key)
        if a is None and b is None:
            return
        rows.append({"measure": label, "new model": fmt(a) if a is not None else "–",
                     "current model": fmt(b) if b is not None else "–"})

    _row("model", "name", str)
    _row("decision threshold", "threshold", lambda v: f"{v:g}")
    _row("accuracy", "accuracy", pct)
    _row("ROC AUC", "roc_auc", lambda v: f"{v:.3f}")
    _row("cost per 1,000 decisions", "cost_per_1000", lambda v: f"{v:,.0f}")
    _row("share flagged", "flagged_share", pct)
    _row("Brier score (lower is better)", "brier", lambda v: f"{v:.4f}")
    _row("ECE (calibration error)", "ece", lambda v: f"{v:.3f}")
    _row("mean absolute error", "mae", lambda v: f"{v:.4g}")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if "both_right" in m:
        st.caption(f"Both right on {m['both_right']:,} rows, only the new model on {m['challenger_only_right']:,}, only "
                   f"the current model on {m['champion_only_right']:,}, both wrong on {m['both_wrong']:,}. McNemar's "
                   f"test ({m['mcnemar_test']}) looks only at the rows where exactly one model is right.")

if m.get("groups"):
    with st.expander("Every group, both models"):
        rows = []
        for attr, groups in m["groups"].items():
            for g, e in groups.items():
                er = e.get("error_rate")
                row = {"group": f"{attr} = {g}", "rows": e["n"], "verdict": VERDICT_WORD.get(e["verdict"], e["verdict"])}
                if er:
                    row.update({"error rate, current": pct(er["second"]), "error rate, new": pct(er["first"]),
                                "change (points)": f"{100 * er['change']:+.1f}",
                                "95% interval": f"{100 * er['ci'][0]:+.1f} to {100 * er['ci'][1]:+.1f}" if er["ci"] else "–"})
                for key, label in (("false_adverse_rate", "wrongly adverse"), ("fpr", "FPR"), ("fnr", "FNR")):
                    x = e.get(key)
                    if x and x.get("change") is not None:
                        row[f"{label}: current → new"] = f"{pct(x['second'])} → {pct(x['first'])}"
                if e.get("cost_per_1000"):
                    row["cost per 1,000 change"] = f"{e['cost_per_1000']['mean']:+,.0f}"
                if e.get("mae_change"):
                    row.update({"MAE, current": f"{e['mae_champion']:.4g}", "MAE, new": f"{e['mae_challenger']:.4g}"})
                rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption("Rates with their counts are in the raw numbers below (each model's rates come from the same "
                   "functions as the Bias page). 'Wrongly adverse': of the people whose actual outcome was the "
                   "favourable one, the share given the adverse decision.")

cm = m["champion_model"]
with st.expander("The current model"):
    if cm["kind"] == "predictions":
        col = report.roles.champion_prediction_column
        st.markdown(f"Given as scores in the holdout column **{esc(col)}**"
                    + (f"; decisions at threshold {cm['threshold']:g}." if cm.get("threshold") is not None else "."))
    else:
        st.markdown(f"**{esc(cm['name'])}** · {cm['estimator']} ({cm['format']}) · SHA-256 `{cm['sha256'][:16]}…` · "
                    f"{len(cm['features'])} features" + (f" · threshold {cm['threshold']:g}" if cm.get("threshold")
                                                         is not None else ""))
        new_features = set(report.roles.features)
        added, removed = sorted(new_features - set(cm["features"])), sorted(set(cm["features"]) - new_features)
        if added or removed:
            st.markdown("Features: " + "; ".join(x for x in (
                f"the new model adds {esc(', '.join(added))}" if added else "",
                f"drops {esc(', '.join(removed))}" if removed else "") if x))
        hp_new, hp_old = report.model.hyperparameters, cm["hyperparameters"]
        keys = sorted(set(hp_new) | set(hp_old))
        if keys and report.model.estimator == cm["estimator"]:
            changed = [{"hyper-parameter": k, "current": str(hp_old.get(k)), "new": str(hp_new.get(k))}
                       for k in keys if hp_old.get(k) != hp_new.get(k)]
            if changed:
                st.dataframe(pd.DataFrame(changed), hide_index=True)
            else:
                st.caption("Same hyper-parameters as the new model.")
        elif keys:
            st.caption(f"Another algorithm: {cm['estimator']} → {report.model.estimator}.")

link = m.get("champion_review")
st.subheader("The current model's own review")
if link:
    ch = link["changes"]
    signers = ", ".join(f"{esc(s['name'])} ({esc(s['role'])}, {s['decision'].replace('_', ' ')})" for s in link.get("signers", []))
    st.markdown(f"Reviewed and signed off on **{(link['created_at'] or '')[:10]}** — {esc(link['project'])}, "
                f"{esc(link['model_name'])} {esc(link['model_version'])}; decision **{(link['decision'] or 'pending').replace('_', ' ')}**"
                + (f"; signed by {signers}" if signers else "") + f". Record `{link['record_id']}`.")
    if link.get("conditions"):
        st.markdown("Its conditions: " + "; ".join(f"*{esc(c)}*" for c in link["conditions"]))
    st.markdown("**What changed since — where a gain can come from:**")
    st.markdown("\n".join(f"- {esc(s)}" for s in ch["sentences"]) if ch["sentences"] else
                "- nothing recorded besides the model itself")
    st.page_link("pages/history.py", label="Open the review history", icon=":material/history:")
else:
    st.caption("No signed review of the current model was found in the review history (it is found by the model "
               "file's SHA-256; a prediction column cannot be matched). A signed review there would be linked here, "
               "with what changed since.")

check_details(result)

todo = []
v = m["verdict"]
if v == "worse":
    todo.append("Keep the current model: the new one is worse on the same rows. Find out why before another review "
                "(see the Feasibility and Leakage pages).")
elif v == "mixed":
    who = esc(", ".join(f"{r['attribute']} = {r['group']}" for r in m["loses"][:3]))
    todo.append(f"Decide, with the business owner, whether the overall gain justifies more errors for {who}; record "
                "the reasoning as a condition or note on the Report & sign-off page.")
    todo.append("See the Bias page for how the new model treats these groups against the others.")
elif v == "no_difference":
    todo.append("Ask what the switch buys: on this holdout the new model is not shown to be better. A larger holdout "
                "narrows the interval; otherwise the change brings churn without proven gain.")
if m.get("decision_changes_share") and m["decision_changes_share"] > 0.05 and v != "worse":
    todo.append(f"Plan the switch for the {pct(m['decision_changes_share'])} of decisions that change: tell the teams "
                "who handle them, and monitor the first batches (`readiness monitor`).")
if not link and cm["kind"] == "model":
    todo.append("Link the current model's signed review by keeping reviews in one shared history (READINESS_DB).")
what_to_do(todo)
