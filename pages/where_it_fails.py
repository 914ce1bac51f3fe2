"""Where it fails: weak segments, joint drift, robustness to small changes, serving cost."""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    metric_ci,
    page_verdict,
    pct,
    plot,
    review,
    skipped_or_error,
    what_to_do,
)
from readiness.charts.where_it_fails import (
    domain_importance,
    flip_chart,
    score_drift_chart,
    segments_chart,
)
from readiness.checks.domain import CHANCE_BELOW_HALF
from readiness.fmt import byte_size, number, p_value, segment_interval, segment_value
from readiness.results import Status

ctx, report = review()
st.title("Where it fails")
# a classifier's decisions flip; a regression's predictions move (robustness.perturbation's tolerance)
REG = report.task == "regression"
st.caption("Where does the model do worse than it claims, can the holdout be told from the training data, do small "
           f"changes {'move its predictions' if REG else 'flip its decisions'}, and what does it cost to run?")

SECTIONS = [
    ("segments.weak", "Weak segments"),
    ("drift.multivariate", "Joint drift"),
    ("robustness.perturbation", "Small changes"),
    ("model.serving", "Serving cost"),
]
results = {cid: report.check(cid) for cid, _ in SECTIONS}
seg, drift, robust, serving = (results[cid] for cid, _ in SECTIONS)


def _verdict(status: Status, _drivers: list[str]) -> str:
    return {
        Status.PASS: "no segment falls short of what the scores promise, and nothing else here needs attention",
        Status.WARN: "some findings below need a reviewer's judgement before sign-off",
        Status.FAIL: "the model does far worse than it claims for some people: not ready as it stands",
        Status.ERROR: "some checks could not run; their evidence is missing",
        Status.SKIPPED: "these checks did not apply to this review",
    }[status]


page_verdict(results, SECTIONS, _verdict)


# --- weak segments ---------------------------------------------------------------------------
st.divider()
if check_header(seg, heading="Weak segments: where the model falls short") and not skipped_or_error(seg):
    m = seg.metrics
    metric = m["metric"]
    word = {"accuracy": "Accuracy", "cost per decision": "Cost per 1,000 decisions",
            "mean absolute error": "Mean absolute error"}[metric]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(word if metric == "cost per decision" else f"{word}, whole holdout", segment_value(metric, m["overall"], unit=metric != "cost per decision"),
              help="The metric the slices are compared on, over every scored holdout row (the whole holdout; a cost in your own cost units)")
    c2.metric("Segments below their promise", len(m["segments"]),
              help="Slices where the model does clearly worse than its own scores say it will (confirmed on rows the "
                   "search never saw; false discovery rate 1%)")
    c3.metric("Hard segments (as promised)", len(m["hard_segments"]),
              help="Slices with more errors than the holdout overall, but exactly as the scores warn: the outcome is "
                   "harder to predict there. Information, not an alarm")
    c4.metric("Conditions searched", f"{m['conditions']:,}",
              help=f"Ranges and values of {len(m['columns_searched'])} columns, alone and in pairs; slices found on "
                   f"{m['discovery_rows']:,} rows, confirmed on {m['confirmation_rows']:,} others")
    plot(segments_chart(seg))
    if m["segments"] or m["hard_segments"]:
        st.caption("Dots: what the model achieved in each slice, with its 95% interval (measured on the half of the "
                   "holdout the search did not use). Blue ticks: what its scores promise there. Red: below the promise. "
                   "Brown: hard but as promised.")
    findings(seg)
    rows = [{"segment": e["definition"], "kind": kind, "holdout rows": f"{e['n_holdout']:,} ({pct(e['share'])})",
             "observed": segment_value(metric, e["value"], ci=e["ci"]),
             "95% interval": segment_interval(metric, *e["ci"], value=e["value"]),
             "promised": segment_value(metric, e["expected"]), "q-value": p_value(e["q_value"])}
            for kind, key in (("below its promise", "segments"), ("hard, as promised", "hard_segments"))
            for e in m[key]]
    if rows:
        with st.expander("Every reported segment"):
            st.dataframe(pd.DataFrame(rows), hide_index=True)
    with st.expander("How segments are found and confirmed"):
        promise = m.get("promise", {})
        recal = (f"The scores were first recalibrated overall (a logistic fit on {promise.get('on', 'the score')}, "
                 f"slope {promise['slope']:.2f}), so a model that is over- or under-confident everywhere is the "
                 "Calibration page's finding, not a segment's." if promise.get("recalibrated") else "")
        st.markdown(
            f"- Every feature and sensitive attribute is cut into ranges (deciles of the holdout) or values, and every "
            f"pair of conditions on two columns is tried: {m['conditions']:,} single conditions.\n"
            f"- The search runs on one random half of the holdout ({m['discovery_rows']:,} rows); the strongest "
            f"slices (at most {m['slices_tested']['under_delivering']} here) are then tested on the other half "
            f"({m['confirmation_rows']:,} rows), which the search never saw. Every number shown comes from that half.\n"
            f"- The promise: each row's score says how likely an error is; summed over a slice, that is the error the "
            f"model claims there. {recal}\n"
            f"- False discoveries are controlled over every slice tested (Benjamini–Hochberg, 1% for segments below "
            f"their promise, 5% for hard ones). A slice needs at least {m['min_slice_rows']} rows in each half.")
    check_details(seg)
    todo = []
    if m["segments"]:
        worst = m["segments"][0]
        todo.append(f"Pull the holdout rows of **{esc(worst['definition'])}** and look at them with the model's "
                    "authors: missing features, a data problem, or too few training rows like them.")
        todo.append("Until fixed, consider sending decisions for these segments to a person (see the abstain band on "
                    "the Calibration page), and monitor their accuracy in production.")
    if m["hard_segments"]:
        todo.append("Hard segments are not defects, but the people in them get more wrong decisions: decide whether "
                    "that is acceptable, and check the Bias page when a sensitive attribute is among their columns.")
    what_to_do(todo)

# --- joint drift -------------------------------------------------------------------------------
st.divider()
if check_header(drift, heading="Joint drift: can training and holdout rows be told apart?") and \
        not skipped_or_error(drift):
    m = drift.metrics
    c1, c2, c3 = st.columns(3)
    metric_ci(c1, "Domain classifier ROC AUC", m["domain_auc"], m["domain_auc_ci"], as_pct=False, digits=2,
              help="How well a classifier tells holdout rows from training rows using all features together. "
                   "0.5 = not at all (same distribution); 1 = perfectly")
    if m["domain_auc"] < 0.5:
        c1.caption(f"**No better than chance**: {CHANCE_BELOW_HALF}.")
    p = m["domain_p_value"]
    c2.metric("Chance of an AUC this high with no drift", p_value(p),
              help="One-sided p-value against 0.5. The check warns below 0.001 when the AUC also reaches 0.55")
    pd_ = m.get("prediction_drift")
    c3.metric("Prediction drift (PSI)", "not measured" if pd_ is None else f"{pd_['psi']:.2f}",
              help="How much the model's scores moved from training rows to holdout rows. Below 0.10: little; "
                   "0.10–0.25: moderate; above 0.25: large. Needs the model file")
    if m["features_apart"]:
        st.markdown("**What gives the holdout away** (ROC AUC lost when the feature is shuffled)")
        plot(domain_importance(drift))
    if pd_:
        st.markdown("**The model's scores, training rows against holdout rows**")
        plot(score_drift_chart(drift))
    findings(drift)
    check_details(drift)
    todo = []
    if any(f.severity == "warn" for f in drift.findings):
        todo.append("Find out why the holdout differs from training (a later period, another channel, a changed "
                    "form), and whether production will look like the holdout or like training.")
        if m["features_apart"]:
            todo.append("Per-feature drift is on the Data quality page; compare it with the features named here — "
                        "features that drift only together point to a changed relationship, not a changed range.")
    what_to_do(todo)

# --- robustness --------------------------------------------------------------------------------
st.divider()
if check_header(robust, heading="Small changes: do they move predictions?" if REG else
                "Small changes: do they flip decisions?") and not skipped_or_error(robust):
    m = robust.metrics
    c1, c2, c3 = st.columns(3)
    moved = (f"moves by more than {number(m['regression_tolerance'])} (a tenth of the target's standard deviation)"
             if REG else "changes")
    metric_ci(c1, "Predictions that move under one small change" if REG else
              "Decisions that flip under one small change", m["flip_rate"], m["flip_rate_ci"],
              help=f"Share of holdout rows whose {'prediction' if REG else 'decision'} {moved} when a single feature "
                   "is nudged by 5% of its spread or moved to another category it takes")
    c2.metric("Fragile features", len(m["fragile_features"]),
              help=f"Features where a 5% nudge alone {'moves' if REG else 'flips'} at least 10% of "
                   f"{'predictions that far' if REG else 'decisions'}")
    sens = m["sensitive_flip_rate"]
    top = max(sens, key=sens.get) if sens else None
    c3.metric("Predictions moved by a sensitive attribute alone" if REG else
              "Decisions changed by a sensitive attribute alone", pct(sens[top]) if top else "no sensitive attribute",
              help="Counterfactual test: only that attribute changes (swapped, or set to each other value); the "
                   "largest over the sensitive attributes")
    if sens:
        c3.caption(" · ".join(f"{esc(a)}: {pct(v)}" for a, v in sorted(sens.items(), key=lambda kv: -kv[1])))
    plot(flip_chart(robust))
    findings(robust)
    if m["sensitive_detail"]:
        with st.expander("Sensitive attributes, group by group"):
            rows = []
            for attr, d in m["sensitive_detail"].items():
                for g, moves in d["by_group"].items():
                    for to, rate in moves.items():
                        rows.append({"attribute": attr, "group": g, "changed to": to,
                                     "predictions that move" if REG else "decisions that change": pct(rate)})
            st.dataframe(pd.DataFrame(rows), hide_index=True)
    if m["missing_flip_rate_by_feature"]:
        with st.expander("When a value goes missing"):
            st.dataframe(pd.DataFrame([{"feature": k, ("predictions that move when blanked" if REG else
                                                       "decisions that flip when blanked"): pct(v)}
                                       for k, v in m["missing_flip_rate_by_feature"].items()]), hide_index=True)
    check_details(robust)
    todo = []
    if m["fragile_features"]:
        todo.append("For each fragile feature, ask how precisely it is measured in production; a decision that turns "
                    "on a measurement error is not defensible. Smoother models or a human-review band near the "
                    "threshold help.")
    if any(v > 0 for v in sens.values()):
        todo.append(f"A sensitive attribute changes {'predictions' if REG else 'decisions'} on its own: confirm with "
                    "legal and compliance that using it is allowed and intended (the Bias page shows its effect group "
                    "by group).")
    what_to_do(todo)

# --- serving cost ------------------------------------------------------------------------------
st.divider()
if check_header(serving, heading="Serving cost: size, latency, throughput, memory") and not skipped_or_error(serving):
    m = serving.metrics
    c1, c2, c3, c4 = st.columns(4)
    size = m["model_bytes"]
    c1.metric("Model file", "–" if size is None else byte_size(size), help="Size of the model file")
    c2.metric("One row, median", f"{m['latency_ms_p50']:.1f} ms",
              help=f"Time to score one row, median over {m['single_calls']} calls on one thread")
    c2.caption(f"95th percentile {m['latency_ms_p95']:.1f} ms" + (
        f" · budget {m['latency_budget_ms']:g} ms" if m["latency_budget_ms"] else " · no budget set"))
    c3.metric("Throughput", f"{m['rows_per_second']:,.0f} rows/s",
              help=f"A batch of {m['batch_rows']:,} holdout rows scored at once")
    c4.metric("Memory while scoring", byte_size(m['peak_memory_bytes']),
              help=f"Peak memory allocated while scoring {m['batch_rows']:,} rows (Python and NumPy allocations)")
    findings(serving)
    st.caption("Measured on the machine running this review, under its current load: repeat on the serving machine "
               "before committing to a service level. Set a latency budget in Setup (or `--latency-budget-ms`).")
    check_details(serving)
