"""Data quality: completeness (incl. disguised missing values), integrity, label errors and drift."""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    pct,
    plot,
    review,
    skipped_or_error,
    what_to_do,
)
from readiness.charts.data_quality import drift_bars, missingness_bars
from readiness.fmt import budget_share, points

SUSPECT_COLUMNS = {"row": "training row", "given_label": "given label", "likely_label": "likely label",
                   "given_label_probability": "P(given label)", "likely_label_probability": "P(likely label)",
                   "influence": "fixing it moves predictions by (avg.)", "priority": "expected move"}

ctx, report = review()
st.title("Data quality")
st.caption("Is the data complete and consistent enough to trust what the model learned from it?")

comp = report.check("data_quality.completeness")
if check_header(comp) and not skipped_or_error(comp):
    m = comp.metrics
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows (training / holdout)", f"{m['rows_train']:,} / {m['rows_test']:,}",
              help="Labelled rows used by the review")
    c2.metric("Missing cells", pct(m["missing_cell_rate"]),
              help="Share of all cells that are empty or hold a placeholder for missing (such as '?' or -999); "
                   "the same count as the per-column findings")
    c3.metric("Columns with disguised missing values", len(m["disguised_missing_columns"]),
              help="Columns where placeholders like '?', 'N/A' or -999 stand for 'unknown'")
    if m["columns_with_missing"]:
        plot(missingness_bars(comp))
    findings(comp)
    with st.expander("Per-column table"):
        st.dataframe(pd.DataFrame([
            {"column": k, "empty in training": v["missing_train"], "empty in holdout": v["missing_test"],
             "missing, placeholders included": pct(v["total_missing_rate"]),
             "placeholders": ", ".join(f"{t} in {n:,} rows" for t, n in {**v["disguised"], **v["sentinels"]}.items())}
            for k, v in m["columns"].items()]), hide_index=True)
    check_details(comp)
    todo = []
    if m["disguised_missing_columns"]:
        todo.append("Replace placeholders (" + esc(", ".join(m["disguised_missing_columns"])) + ") by real missing values "
                    + ("in the data the model is fed, and ask its owner whether the model treats them as values."
                       if report.model.kind == "predictions" else "in the pipeline, retrain, and review again."))
    if any(v["total_missing_rate"] >= 0.05 for v in m["columns"].values()):
        todo.append("For heavily missing columns, find out why values are missing; if missingness depends on the "
                    "outcome, it can leak it (see Leakage).")
    what_to_do(todo)

st.divider()
integ = report.check("data_quality.integrity")
if check_header(integ) and not skipped_or_error(integ):
    m = integ.metrics
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Duplicate rows (training / holdout)", f"{m['duplicate_rows_train']:,} / {m['duplicate_rows_test']:,}",
              help="Rows that are exact copies of another row in the same split")
    c2.metric("Rows with conflicting labels", f"{m['conflicting_label_rows']:,}",
              help="Rows whose features are identical to another row's but whose target differs")
    c3.metric("Constant columns", len(m["constant_columns"]), help="Columns with one value only: no information")
    c4.metric("Unseen holdout categories", len(m["unseen_categories"]),
              help="Categorical columns with holdout values never seen in training")
    findings(integ)
    if m["unseen_categories"]:
        with st.expander("Unseen categories in the holdout"):
            st.dataframe(pd.DataFrame([{"column": c, "holdout rows": v["rows"],
                                        "values (count)": ", ".join(f"{k} ({n})" for k, n in v["values"].items())}
                                       for c, v in m["unseen_categories"].items()]), hide_index=True)
    check_details(integ)
    todo = []
    if m["conflicting_label_rows"]:
        todo.append("Look at the conflicting rows with the data owner: noisy labels cap the accuracy any "
                    "model can reach.")
    if m["constant_columns"]:
        todo.append("Drop constant columns from the model's inputs.")
    if m["mixed_type_columns"]:
        todo.append("Fix mixed-type columns at the source so numbers are not read as text.")
    what_to_do(todo)

st.divider()
labels = report.check("data_quality.labels")
if labels is not None and check_header(labels) and not skipped_or_error(labels):
    m = labels.metrics
    lo, hi = m["label_error_rate_ci"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Wrong labels (upper estimate)", pct(m["label_error_rate"]),
              help="Share of training labels that a model which never saw the row confidently contradicts "
                   "(confident learning, cleanlab), with its 95% interval; an upper estimate, since a case "
                   "ambiguous by nature looks the same")
    c1.caption(f"95% interval {pct(lo)} – {pct(hi)} · of {m['train_rows']:,} training rows")
    c2.metric("Suspect rows", f"{m['suspect_rows']:,} of {m['rows_examined']:,}",
              help="Training rows a model that never saw them contradicts; the table below lists first those whose "
                   "fix would move the model most")
    share = m["target_error_share_from_labels"]
    c3.metric("Error budget used, if all are wrong",
              budget_share(share) if share is not None else "no target",
              help="Wrong labels put at least this error under any model, measured against these labels, as a "
                   "multiple of the error the target accuracy allows (above 1 ×: more than the whole budget)")
    if share is not None and m.get("target_error") is not None:
        c3.caption(f"{pct(m['label_error_rate'])} wrong labels against the {pct(m['target_error'])} error the "
                   f"target accuracy of {pct(1 - m['target_error'])} allows")
    if m.get("shortfall_gap") is not None:
        glo, ghi = m["shortfall_gap_ci"]
        c4.metric("Training vs holdout labels", points(m["shortfall_gap"]),
                  help="How much less probability a model that never saw the row gives a training label than a "
                       "holdout label, allowing for how sure it is on each row. About 0 when both come from one "
                       "labelling process; a 95% lower bound of 2 points warns (the training data carry wrong labels "
                       "the holdout does not), 10 points fails. Wrong labels in both look like ambiguity and are "
                       "not judged.")
        c4.caption(f"95% interval {points(glo)} to {points(ghi)} · {m['holdout_rows_examined']:,} holdout rows")
    findings(labels)
    if m["examples"]:
        ranked = "influence" in m["examples"][0]
        title = ("Check these rows first: fixing their labels would move the model most" if ranked
                 else f"The {len(m['examples'])} most suspect training rows")
        with st.expander(title, expanded=ranked):
            if ranked:
                st.caption("Ranked by the chance the label is wrong times how far fixing it would move the predicted "
                           "probabilities of the training rows, on average (a far-out row moves a model more than one "
                           "in the bulk). Expected move = (1 − P(given label)) × what fixing it moves.")
            percent = st.column_config.NumberColumn(format="percent")
            st.dataframe(pd.DataFrame(m["examples"]).rename(columns=SUSPECT_COLUMNS), hide_index=True,
                         column_config={c: percent for c in ("P(given label)", "P(likely label)",
                                                             "fixing it moves predictions by (avg.)",
                                                             "expected move")})
    check_details(labels)
    todo = (["Find where the training labels come from (another source, period or labeller than the holdout's): "
             "they are wrong more often than the holdout's."] if labels.status.value in ("warn", "fail") else [])
    todo += (["Check the rows at the top of the table with the data owner (fixing them moves the model most); "
              "relabel the ones that are wrong, then review "
              "again: wrong labels raise the error floor of any model."] if lo >= m["near_zero"] else [])
    what_to_do(todo)

st.divider()
drift = report.check("drift.features")
if check_header(drift) and not skipped_or_error(drift):
    m = drift.metrics
    c1, c2, c3 = st.columns(3)
    c1.metric("Features that shifted", f"{len(m['major_drift']) + len(m['moderate_drift'])} of {len(m['features'])}",
              help="Features whose population stability index (PSI) between training and holdout is at least 0.10")
    c2.metric("Outcome drift (PSI)", f"{m['target']['psi']:.3f}" if m["target"] else "–",
              help="How much the target's distribution moved between training and holdout")
    if m["age"]:
        c3.metric("Age of newest training row", f"{m['age']['data_age_days']:,} days",
                  help="Days between the newest training row and today")
    plot(drift_bars(drift))
    findings(drift)
    if m["age"]:
        st.caption(f"Training covers {m['age']['train_start'][:10]} to {m['age']['train_end'][:10]}; "
                   f"holdout {m['age']['test_start'][:10]} to {m['age']['test_end'][:10]}.")
    check_details(drift)
    todo = []
    if m["major_drift"] or m["moderate_drift"]:
        todo.append("Compare the shifted features with recent production data; if production looks like the "
                    "holdout, the holdout score is the one to trust.")
    if m["age"] and m["age"]["data_age_days"] > 365:
        todo.append("Validate on recent data before deployment and schedule retraining and monitoring.")
    what_to_do(todo)
