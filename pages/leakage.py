"""Leakage and test independence: the model must not see the answer, the future or the exam."""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    metric_ci,
    page_has_evidence,
    page_verdict,
    pct,
    plot,
    review,
    skipped_or_error,
    what_to_do,
)
from readiness.charts.leakage import feature_power_bars, oversampling_bars, reuse_curve, timeline
from readiness.checks.explanations import dominant_and_leaky
from readiness.fmt import drop_column_remedy
from readiness.results import Status

ctx, report = review()
st.title("Leakage and test independence")
st.caption("Does the model get information it will not have in production, and is the holdout a fair, independent "
           "exam of it?")

SECTIONS = [
    ("leakage.feature_target", "Columns that give away the answer"),
    ("leakage.train_test_overlap", "Holdout rows that are also in training"),
    ("leakage.temporal", "Training before holdout in time"),
    ("leakage.oversampling", "Oversampling before the split"),
    ("leakage.preprocessing", "Preparation fit on the holdout"),
    ("evaluation.holdout_reuse", "How often the holdout can be used"),
]
results = {cid: report.check(cid) for cid, _ in SECTIONS}
LEAKAGE_VERDICT = {
    Status.PASS: "No sign of leakage: the holdout score can be taken as an honest estimate.",
    Status.WARN: "Possible leakage: a reviewer must settle the warnings below before trusting the holdout score.",
    Status.FAIL: "Leakage found: the holdout score is optimistic and cannot support a release decision as it stands.",
    Status.ERROR: "Some leakage checks could not run; their evidence is missing.",
    Status.SKIPPED: "The leakage checks did not apply.",
}
REUSE_ONLY_VERDICT = {
    Status.WARN: "No leakage found, but the holdout has been used more often than its budget allows if results "
                 "steered the model: its score may be optimistic.",
    Status.FAIL: "No leakage found, but the holdout has been used too often to be an independent exam: its score "
                 "is optimistic.",
    Status.ERROR: "The holdout reuse budget could not be computed; the leakage checks ran.",
}


def _verdict(overall: Status, drivers: list[str]) -> str:
    if drivers == ["evaluation.holdout_reuse"] and overall in REUSE_ONLY_VERDICT:
        return REUSE_ONLY_VERDICT[overall]
    return LEAKAGE_VERDICT[overall]


page_verdict(results, SECTIONS, _verdict)


def metric_text(ci, as_pct: bool) -> str:
    return f"{pct(ci[0])} – {pct(ci[1])}" if as_pct else f"{ci[0]:.3f} – {ci[1]:.3f}"


def _num(v, digits=3):
    return "–" if v is None else f"{v:.{digits}f}"


# --- column-wise ----------------------------------------------------------------------
st.divider()
res = results["leakage.feature_target"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    name = "R²" if m["metric"] == "r2" else "AUC"
    top = m["features"][0] if m["features"] else None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Whole model, holdout {name}", _num(m["model_score"]),
              help=f"The model's {name} on the holdout; 0.5 is random ranking, 1 is perfect" if name == "AUC" else
              "Share of the target's variance the model explains on the holdout")
    c2.metric(f"Strongest column alone, {name}", _num(top["score"]) if top else "–",
              help=f"The feature that predicts the target best on its own, cross-validated on {m['sample_rows']:,} "
                   f"training rows ({m['cv_folds']} folds) from its per-value target rate")
    if top:
        c2.caption(f"'{esc(top['column'])}'")
    c3.metric("Columns that leak", len(m["leaking_columns"]),
              help="Columns with the shape of a post-outcome leak: a rule that holds without exception over at least "
                   f"{100 * m['rule_min_share']:.0f}% of the rows (like is_recid = 0 ⇒ two_year_recid = 0), or the "
                   "reviewers' answer that the column is filled in after the outcome")
    c4.metric("Questions to the data owner", len(m["suspicious_columns"]) + len(m["question_columns"])
              + len(m["identifier_signal_columns"]),
              help=f"Columns strong on their own ({name} ≥ {m['warn_score']:.2f}; a warning from {m['extreme_score']:.2f}) "
                   "or identifiers that carry signal. Strength alone does not show a leak — a good feature is strong "
                   "too — so these are questions: is the column known at prediction time?")
    st.markdown("**Each feature's power to predict the target on its own**, strongest first. Past the dashed line a "
                "column is worth a question to the data owner; red bars have the shape of a leak (a rule without "
                "exception), whatever their length. The diamond shows the same column on the holdout.")
    plot(feature_power_bars(res))
    for item in dominant_and_leaky(report):
        share = item["shap_share"] if item["shap_share"] is not None else item["permutation_share"]
        st.warning(f"**'{esc(item['feature'])}' also dominates the model's explanations** "
                   f"({100 * (share or 0):.0f}% of the explained effect; see the Explanations page). A flagged column "
                   "that drives the decisions means the holdout score rests on it.", icon=":material/link:")
    findings(res)
    with st.expander("All features, ranked"):
        st.dataframe(pd.DataFrame([{
            "column": r["column"], "kind": r["kind"], f"{name} alone (training, cross-validated)": r["score"],
            f"{name} alone (holdout)": r["score_holdout"], "power (0 = none, 1 = determines)": r["power"],
            "missing %": round(100 * r["missing_rate"], 1), "distinct values %": round(100 * r["unique_share"], 1),
            "verdict": r.get("status", "pass")} for r in m["features"]]), hide_index=True,
            column_config={f"{name} alone (training, cross-validated)": st.column_config.NumberColumn(format="%.3f"),
                           f"{name} alone (holdout)": st.column_config.NumberColumn(format="%.3f"),
                           "power (0 = none, 1 = determines)": st.column_config.NumberColumn(format="%.3f")})
        st.caption(f"Sample: {m['sample_rows']:,} training rows, {m['holdout_sample_rows']:,} holdout rows. Numeric "
                   "columns are cut into up to 32 bins; missing values count as their own value.")
    check_details(res)
    todo = []
    if m["leaking_columns"]:
        cols = esc(", ".join(f"'{c}'" for c in m["leaking_columns"]))
        remedy = drop_column_remedy(cols, vendor=report.model.kind == "predictions", many=len(m["leaking_columns"]) > 1)
        todo.append(f"{remedy[0].upper() + remedy[1:]}: until then the holdout score is not evidence of anything.")
    asked = m["suspicious_columns"] + m["question_columns"]
    if asked:
        todo.append(f"Ask the data owner when {esc(', '.join(asked))} {'is' if len(asked) == 1 else 'are'} recorded: at "
                    "the moment of prediction, or after the outcome is known? Record the answer in the questionnaire "
                    "('post_outcome:<column>' = yes / no); if after, " + drop_column_remedy(
                        "the column", vendor=report.model.kind == "predictions") + ".")
    if m["identifier_signal_columns"]:
        todo.append(f"Drop identifier columns {esc(', '.join(m['identifier_signal_columns']))} from the features.")
    if todo and page_has_evidence(report, "pages/explanations.py"):
        todo.append("Cross-check with the Explanations page: a leaking column usually tops the importance ranking.")
    what_to_do(todo)

# --- row-wise -------------------------------------------------------------------------
st.divider()
res = results["leakage.train_test_overlap"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    n = m["holdout_rows"]
    c1, c2, c3, c4 = st.columns(4)

    def chance(col, v):
        col.caption(f"chance alone: about {v:,.0f}")

    c1.metric("Identical rows (target included)", f"{m['overlap_test_rows']:,} ({pct(m['overlap_test_share'])})",
              help="Holdout rows that also appear in training with every feature and the target equal")
    chance(c1, m["overlap_expected_rows"])
    c2.metric("Same features", f"{m['feature_overlap_test_rows']:,} ({pct(m['feature_overlap_test_share'])})",
              help="Holdout rows whose feature values all equal a training row's (target may differ)")
    chance(c2, m["feature_overlap_expected_rows"])
    c3.metric("Near-duplicates", f"{m['near_duplicate_test_rows']:,} ({pct(m['near_duplicate_test_share'])})",
              help=f"Holdout rows equal to a training row once numbers are rounded to {m['near_significant_digits']} "
                   "significant digits (includes the exact matches)")
    chance(c3, m["near_duplicate_expected_rows"])
    if m["shared_id_column"]:
        c4.metric(f"Shared '{esc(m['shared_id_column'])}' values", f"{m['shared_ids']:,}",
                  help=f"Values of the ID/group column found in both splits; {m['shared_id_test_rows']:,} holdout rows "
                       "carry them")
    else:
        c4.metric("Shared IDs", "–", help="No ID/group column was given in Setup")
    findings(res)
    if m["examples"]:
        flagged = res.status in (Status.FAIL, Status.WARN)
        with st.expander(f"Sample of overlapping rows ({len(m['examples'])} of "
                         f"{max(m['near_duplicate_test_rows'], m['overlap_test_rows']):,})", expanded=flagged):
            st.dataframe(pd.DataFrame(m["examples"]).rename(columns={
                "holdout_row": "holdout row", "training_row": "matching training row"}), hide_index=True)
            st.caption("Row numbers count labelled rows from 0 in each file; the matching training row is the "
                       "first one found.")
    check_details(res)
    todo = []
    if res.status in (Status.FAIL, Status.WARN):
        todo.append("Remove the overlapping rows from the holdout and re-run the review to see the honest score.")
        if m["shared_id_column"]:
            todo.append(f"Rebuild the split by '{esc(m['shared_id_column'])}' (e.g. scikit-learn GroupShuffleSplit), so no "
                        "customer or record sits on both sides.")
        todo.append("Find out how the copies got in (a re-exported batch, a join that duplicated rows) and fix it "
                    "upstream.")
    what_to_do(todo)

# --- temporal -------------------------------------------------------------------------
st.divider()
res = results["leakage.temporal"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    st.markdown(f"Training rows run from **{esc(m['train_start'])}** to **{esc(m['train_end'])}**; holdout rows from "
                f"**{esc(m['holdout_start'])}** to **{esc(m['holdout_end'])}** (time column '{esc(m['time_column'])}').")
    c1, c2, c3 = st.columns(3)
    c1.metric("Holdout rows dated before training ends", f"{m['holdout_rows_before_train_end']:,} "
              f"({pct(m['holdout_share_before_train_end'])})",
              help="In a forward split every holdout row comes at or after the latest training row")
    c2.metric("Training rows dated after the holdout starts", f"{m['train_rows_after_holdout_start']:,} "
              f"({pct(m['train_share_after_holdout_start'])})",
              help="Training rows later than the earliest holdout row; one early holdout row can make this large")
    w = m["overlap_window"]
    c3.metric("Period both splits cover", f"{w['length']:,.0f} {w['unit']}" if w else "none",
              help="Length of the time window in which training and holdout both have rows (shaded in the chart)")
    st.markdown("**When the training and holdout rows happened.** In a clean forward split every holdout row lies "
                "right of the dashed line; crosses mark holdout rows dated earlier, and the shading shows the period "
                "both splits cover.")
    plot(timeline(res))
    findings(res)
    if m["early_holdout_rows"]:
        with st.expander(f"Holdout rows dated before training ends ({m['holdout_rows_before_train_end']:,})"):
            st.dataframe(pd.DataFrame(m["early_holdout_rows"]).rename(columns={"row": "holdout row",
                                                                            "time": m["time_column"]}),
                         hide_index=True)
            st.caption("Row numbers count labelled holdout rows from 0.")
    if m["peek_a_boo"]:
        with st.expander("Date columns compared with the row's own time (Peek-a-Boo)"):
            st.dataframe(pd.DataFrame([{"column": c, "rows with a later date": v["rows_after"],
                                        "share": pct(v["share_after"]), "rows compared": v["rows_compared"]}
                                       for c, v in m["peek_a_boo"].items()]), hide_index=True)
    check_details(res)
    todo = []
    if m["holdout_rows_before_train_end"]:
        todo.append(f"Re-split by time: train on rows before a cut-off date, hold out the rows after it, and review "
                    f"again. The {m['holdout_rows_before_train_end']:,} early holdout rows are listed above.")
    if any(v["rows_after"] for v in m["peek_a_boo"].values()):
        todo.append("Drop date columns that are filled in after the prediction is made, or replace them with the "
                    "value as it was known at the row's time.")
    what_to_do(todo)

# --- oversampling ---------------------------------------------------------------------
st.divider()
res = results["leakage.oversampling"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Copies across the split", f"{m['cross_split_duplicates']:,}",
              help="Holdout rows identical to a training row (features and target)")
    c2.metric("Class where copies concentrate", m["concentrated_class"] or "none",
              help="Random oversampling before the split copies one class (usually the rare one) into both splits")
    c3.metric("Interpolated across split", f"{m['synthetic_cross_split']:,}",
              help="Points lying exactly between two same-class points, spread over training and holdout: "
                   "the signature of SMOTE applied before splitting")
    c4.metric("Points checked", f"{m['points_checked']:,}",
              help=f"Up to {m['query_cap_per_class_and_split']:,} rows per class and split are searched among their "
                   f"{m['neighbours']} nearest neighbours")
    if m["cross_split_duplicates"] or m["synthetic_cross_split"]:
        st.markdown("**Copies and interpolated points across the split, per class.** Oversampling before the split "
                    "shows as one class standing far above the others.")
        plot(oversampling_bars(res))
    findings(res)
    if m["examples"]:
        with st.expander("Interpolated points that cross the split"):
            st.dataframe(pd.DataFrame([{
                "class": e["class"], "point": f"{e['point']['split']} row {e['point']['row']}",
                "between": " and ".join(f"{b['split']} row {b['row']}" for b in e["between"]),
                "position (0–1)": e["position"]} for e in m["examples"]]), hide_index=True)
    check_details(res)
    what_to_do(["Split the data first; then oversample (or SMOTE) the training part only, and evaluate on the "
                "untouched holdout."] if res.status in (Status.FAIL, Status.WARN) else [])

# --- preprocessing --------------------------------------------------------------------
st.divider()
res = results["leakage.preprocessing"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    c1, c2, c3 = st.columns(3)
    c1.metric("Preparation steps checked", m["transformers_checked"],
              help="Scalers, imputers and encoders found in the model's pipeline, refitted to compare their "
                   "statistics")
    c2.metric("Columns prepared with holdout rows", len(m["fit_on_holdout_columns"]),
              help="Columns whose scaler/imputer/encoder statistics match training + holdout, not training alone")
    c3.metric("Columns that look pre-scaled with the holdout", len(m["data_signatures"]),
              help="Columns in the data itself that are standardised, min-max scaled or mean-imputed exactly over "
                   "training + holdout")
    findings(res)
    if m["steps"]:
        verdict_word = {"training": "training only", "training_and_holdout": "training + holdout",
                        "indistinguishable": "training (cannot tell apart)", "neither": "other rows"}
        rows = [{"step": s["step"], "transformer": s["transformer"], "column": c,
                 "fit on": verdict_word.get(v["fit_on"], v["fit_on"])}
                for s in m["steps"] for c, v in s["columns"].items()]
        with st.expander("What each preparation step was fit on", expanded=bool(m["fit_on_holdout_columns"])):
            st.dataframe(pd.DataFrame(rows), hide_index=True)
            st.caption(f"Statistics compared with a refit on the {m['rows_train']:,} training rows and on all "
                       f"{m['rows_train_and_holdout']:,} training + holdout rows.")
    check_details(res)
    what_to_do(["Put every scaler, imputer and encoder inside the model pipeline and fit the pipeline on training "
                "rows only; then re-evaluate on the holdout."] if res.status in (Status.FAIL, Status.WARN) else [])

# --- holdout reuse --------------------------------------------------------------------
st.divider()
res = results["evaluation.holdout_reuse"]
if check_header(res) and not skipped_or_error(res):
    m = res.metrics
    acc = m["metric"] == "accuracy"
    c1, c2, c3, c4 = st.columns(4)
    metric_ci(c1, "Accuracy" if acc else "R²", m["value"], m["ci"], as_pct=acc,
              help="The holdout page's figure and 95% interval: what one use of this holdout tells")
    c2.metric("Uses: models fixed in advance", f"{m['budget_fixed']:,}",
              help="How many models, chosen before any of them was scored, this holdout can score before the 95% "
                   "interval is twice as wide as on its first use (Bonferroni)")
    c3.metric("Uses: each result steers the next", f"{m['budget_steered']:,}",
              help="When each result may influence the next model or threshold (the usual case) and only pass/fail "
                   "is shared: the first use plus the steered ones before the interval is twice as wide. Sharing "
                   f"exact scores cuts this to {m['budget_steered_scores']:,}")
    used = m["evaluations_including_this"]
    c4.metric("Used so far", f"{used:,}" if used is not None else "not recorded",
              help="Evaluations of this exact holdout file (same SHA-256) in the review history, this review included")
    if used is not None and used > 1:
        c4.caption(f"if steered: 95% interval {metric_text(m['ci_reuse_adjusted'], acc)}")
    st.markdown(f"**How the {'accuracy' if acc else 'R²'} interval widens with every use of the holdout.** At one use "
                "it is the holdout page's interval; each further use spends part of the 95% confidence, more quickly "
                "when each result steers the next model.")
    plot(reuse_curve(res))
    findings(res)
    if "rows_needed" in m:
        with st.expander("Holdout rows needed to know accuracy within a tolerance"):
            rn = m["rows_needed"]
            st.dataframe(pd.DataFrame([{"accuracy within": f"±{100 * float(e):.0f} percentage points", **{
                f"{k} use{'s' if k != '1' else ''} (fixed / steering)": f"{v['nonadaptive']:,} / {v['adaptive']:,}"
                for k, v in rn[e].items()}} for e in rn]), hide_index=True)
            st.caption("Hoeffding bounds, 95% confidence; 'steering' assumes only pass/fail results are shared "
                       "(method: docs/checks.md, evaluation.holdout_reuse).")
    st.caption("Holdout file SHA-256: " + str(m["holdout_sha256"]))
    check_details(res)
    todo = []
    if used is None:
        todo.append("Count every evaluation of this holdout (reviews of uploaded data are recorded in the Review "
                    "history by the holdout file's SHA-256), and share pass/fail rather than exact scores with the "
                    "people tuning the model.")
    elif m["remaining_steered"] is not None and m["remaining_steered"] < 0:
        todo.append("Retire this holdout for model selection; collect a fresh one for the release decision.")
    what_to_do(todo)
