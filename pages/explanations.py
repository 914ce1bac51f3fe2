"""Explanations: why does the model decide, and where does its performance come from?"""

import pandas as pd
import streamlit as st

from pages._ui import (
    area_page,
    check_details,
    check_header,
    esc,
    findings,
    pct,
    plot,
    review,
    skipped_or_error,
    state,
    what_to_do,
)
from readiness.charts.explanations import (
    beeswarm,
    dependence,
    global_importance,
    group_bars,
    lime_bars,
    permutation_bars,
    waterfall,
)
from readiness.checks.explanations import dominant_and_leaky, leakage_flagged_columns
from readiness.fmt import beside

ROW_KEY = "explanations_row"


@st.cache_data(show_spinner=False, max_entries=64)
def _explain_row(digest: str, row: int, _ctx) -> dict:
    """SHAP + LIME for one holdout row; cached on the review's content digest and the row."""
    from readiness.explain import explain_row

    return explain_row(_ctx, row)


SPACE_TEXT = {
    "log-odds": "in **log-odds** (the score's logit)",
    "probability": "in **probability**",
    "prediction": "in the **target's units**",
    "decision function": "in the model's **decision-function units**",
}


def _leakage_link() -> None:
    page = area_page("leakage")
    if page:
        try:
            st.page_link(page, label="Open the Leakage page", icon=":material/water_drop:")
        except Exception:  # the Leakage page is not part of this app (yet)
            pass


ctx, report = review()
st.title("Explanations")
st.caption(("Why does the model predict what it predicts" if report.task == "regression" else
            "Why does the model decide what it decides") + " — and where does its holdout performance actually come from?")

# --- cross-check: dominant features that the leakage checks flagged --------------------------
for item in dominant_and_leaky(report):
    shares = []
    if item["shap_share"] is not None:
        shares.append(f"{pct(item['shap_share'])} of the explained effect")
    if item["permutation_share"] is not None:
        shares.append(f"{pct(item['permutation_share'])} of the holdout performance")
    st.error(f"**'{esc(item['feature'])}' dominates the explanations** ({' and '.join(shares)}) **and the leakage checks "
             f"flag it** ({', '.join(f'`{c}`' for c in item['leakage_checks'])}). A model that leans on a leaking "
             "column will not perform like this in production: its explanations and its score both rest on "
             "information it will not have.", icon=":material/warning:")
    _leakage_link()
flagged = list(leakage_flagged_columns(report))

# --- SHAP -------------------------------------------------------------------------------------
shap_res = report.check("explanations.shap")
if check_header(shap_res) and not skipped_or_error(shap_res):
    m = shap_res.metrics
    top = next(iter(m["global_importance"]), None)
    shares = sorted(m["importance_share"].values(), reverse=True)
    carry80 = next((i + 1 for i in range(len(shares)) if sum(shares[: i + 1]) >= 0.8), len(shares))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Largest share of the effect", pct(shares[0]) if shares else "–",
              help=f"'{esc(top)}': its mean |SHAP| as a share of all features' mean |SHAP|. Above 50% the model leans "
                   "on one column.")
    c2.metric("Features carrying 80% of it", f"{carry80} of {len(shares)}",
              help="How many of the largest features it takes to add up to 80% of the total mean |SHAP|")
    c3.metric("Holdout rows explained", f"{m['rows_explained']:,}",
              help=f"Of {m['rows_available']:,} holdout rows: a seeded random sample when the holdout is larger "
                   "than the explainer's plan (docs/checks.md)")
    c4.metric("Explainer", m["explainer_label"].split(" (")[0],
              help=m["explainer_label"] + ". Tree and linear explainers are exact; the model-agnostic one "
                                          "estimates from a 50-row training background.")
    st.caption(f"Explains {esc(m['explained_output'])}, {SPACE_TEXT.get(m['output_space'], m['output_space'])}. "
               "A SHAP value is how much a feature moves one row's output away from the average output "
               f"({m['base_value']:.3f}); for each row the values add up exactly to its output. Transformed columns "
               "(e.g. one-hot categories) are summed back to the column they came from.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Which features matter overall** (mean |SHAP|; labels: share of the total)")
        klass = None
        if m.get("by_class"):  # multiclass: the reader picks whose score is explained
            options = ["each row's predicted class", *m["by_class"]]
            pick = st.selectbox("Explain the score of", options, key="shap_class",
                                help="SHAP values of every class's score are computed; pick a class to see which "
                                     "features push rows towards or away from it")
            klass = None if pick == options[0] else pick
        plot(global_importance(shap_res, flagged=[f for f in flagged if f in m["global_importance"]], klass=klass))
    with right:
        shown = min(500, m["rows_explained"])
        st.markdown("**How they push each row** (one dot per holdout row; colour: the feature's value)"
                    + (f" — {shown:,} of the {m['rows_explained']:,} explained rows drawn" if shown < m["rows_explained"]
                       else ""))
        plot(beeswarm(shap_res, max_points=500))
    findings(shap_res)
    with st.expander("Dependence: how a feature's value changes its effect"):
        options = [f for f in m["top_features"] if f in (m.get("points") or {})]
        if options:
            feat = st.selectbox("Feature", options, key="explanations_dependence")
            trend = m["points"][feat].get("trend")
            if trend is not None:
                st.caption(f"Rank correlation between the value and its SHAP value: {trend:+.2f} "
                           "(+1: higher values always push the output up; −1: always down).")
            plot(dependence(shap_res, feat))
    with st.expander("Importance table"):
        st.dataframe(pd.DataFrame([{"feature": f, "mean |SHAP|": round(v, 5),
                                    "share %": round(100 * m["importance_share"][f], 1),
                                    "mean SHAP (signed)": round(m["mean_shap"][f], 5)}
                                   for f, v in m["global_importance"].items()]), hide_index=True)
    check_details(shap_res)

st.divider()

# --- one decision: SHAP waterfall and LIME side by side ---------------------------------------
lime_res = report.check("explanations.lime")
if check_header(lime_res, heading=f"Explain one {'prediction' if report.task == 'regression' else 'decision'}: SHAP and "
                "LIME side by side") and not skipped_or_error(lime_res):
    lm = lime_res.metrics
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows where SHAP and LIME agree", f"{lm['rows_agreeing']} of {lm['rows_checked']}",
              help="Agree: they share all but one of their top three features and push them the same way. "
                   + ("Checked on the prediction nearest the median and on rows across the range of predictions."
                      if report.task == "regression" else
                      "Checked on the closest call and on rows across the range of scores."))
    c2.metric("Agreement rate", pct(lm["agreement_rate"]),
              help=f"Below {pct(lm['min_agreement'], 0)} the check warns: single-row explanations are unstable")
    c3.metric("LIME samples per row", f"{lm['num_samples']:,}",
              help="Perturbed copies of the row LIME scores with the model to fit its local linear explanation")

    s = state()
    suggestions = lm.get("suggested_rows", [])
    id_col = ctx.roles.id_column
    n_rows = len(ctx.test)
    other = "Another holdout row…"
    labels = []
    for r in suggestions:
        rid = f" · {id_col} {ctx.test[id_col].iloc[r['row']]}" if id_col else ""
        labels.append(f"Row {r['row']}{rid} — {r['reason']}")
    choice_default = s.extras.get(ROW_KEY, suggestions[0]["row"] if suggestions else 0)
    options = labels + [other]
    preset = next((i for i, r in enumerate(suggestions) if r["row"] == choice_default), len(labels))
    pick_col, num_col = st.columns([3, 1])
    with pick_col:
        picked = st.selectbox("Holdout row to explain", options, index=preset, key="explanations_pick",
                              help="Suggested rows: the closest call, the extremes and the most confident mistakes")
    if picked == other:
        with num_col:
            row = int(st.number_input(f"Row number (0–{n_rows - 1})", min_value=0, max_value=n_rows - 1,
                                      value=int(choice_default), step=1, key="explanations_row_number"))
    else:
        row = suggestions[labels.index(picked)]["row"]
    s.extras[ROW_KEY] = row

    stored = lm.get("default_row")
    if stored is not None and stored.get("row") == row:  # the check explained this row: its figures, not a re-run
        expl = stored
    else:
        with st.spinner(f"Explaining holdout row {row} with SHAP and LIME…"):
            try:
                expl = _explain_row(ctx.digest, row, ctx)
            except Exception as exc:  # a row the explainers cannot handle: say so, keep the page
                expl = None
                st.error(f"Row {row} could not be explained: {type(exc).__name__}: {esc(exc)}")
    if expl is not None:
        facts = []
        if expl["row_id"] is not None:
            facts.append(f"{esc(id_col)} **{esc(expl['row_id'])}**")
        if expl["score"] is not None:
            facts.append(f"score **{beside(expl['score'], ctx.settings.threshold)}**" if report.task == "binary" else
                         f"score **{expl['score']:.3f}**" if report.task != "regression"
                         else f"prediction **{expl['score']:.4g}**")
        facts.append(f"predicted **{esc(expl['predicted'])}**" if report.task != "regression" else "")
        facts.append(f"actual **{esc(expl['actual'])}**")
        st.markdown(" · ".join(f for f in facts if f))
        a = expl["agreement"]
        if a["agree"]:
            st.success(f"SHAP and LIME agree on this row: {esc(', '.join(a['shared']))} "
                       f"{'matters' if len(a['shared']) == 1 else 'matter'} most, pushing the same way.",
                       icon=":material/check_circle:")
        else:
            msg = (f"SHAP and LIME disagree on this row: SHAP ranks {esc(', '.join(a['shap_top'])) or 'nothing'} highest, "
                   f"LIME {esc(', '.join(a['lime_top'])) or 'nothing'}")
            if a["direction_conflicts"]:
                msg += f"; they push {esc(', '.join(a['direction_conflicts']))} in opposite directions"
            st.warning(msg + ". Treat this row's explanation as uncertain.", icon=":material/warning:")
        left, right = st.columns(2)
        with left:
            st.markdown("**SHAP waterfall**: from the average output to this row's")
            plot(waterfall(expl))
            sh = expl["shap"]
            note = (f"{SPACE_TEXT.get(sh['output_space'], '').capitalize()}; red pushes towards "
                    f"{esc(expl['explained_output'].replace('the ', 'a higher ', 1))}, blue away from it.")
            if sh.get("base_probability") is not None:
                note += (f" In probability: from the average {pct(sh['base_probability'])} to "
                         f"{pct(sh['output_probability'])} for this row.")
            st.caption(note)
        with right:
            st.markdown("**LIME**: weights of a local linear model around this row")
            plot(lime_bars(expl))
            lime = expl["lime"]
            st.caption(f"Explains the model's output {SPACE_TEXT.get(lime['output_space'], '')} from "
                       f"{lime['num_samples']:,} perturbed copies of the row; the local fit explains "
                       f"R² = {lime['fit_r2']:.2f} of the model's variation around it.")
        with st.expander("This row's values"):
            st.dataframe(pd.DataFrame([{"feature": c["feature"], "value": "missing" if c["value"] is None else str(c["value"]),
                                        "SHAP": round(c["shap"], 4)} for c in expl["shap"]["contributions"]]),
                         hide_index=True)
    findings(lime_res)
    with st.expander("Agreement on every row checked"):
        st.dataframe(pd.DataFrame([{"row": r["row"], "id": r["row_id"], "score": r["score"],
                                    "agree": "yes" if r["agree"] else "no", "SHAP top": ", ".join(r["shap_top"]),
                                    "LIME top": ", ".join(r["lime_top"]),
                                    "LIME fit R²": round(r["lime_fit_r2"], 2)} for r in lm["per_row"]]),
                     hide_index=True)
    check_details(lime_res)

st.divider()

# --- permutation importance --------------------------------------------------------------------
perm = report.check("explanations.permutation")
if check_header(perm) and not skipped_or_error(perm):
    pm = perm.metrics
    imp = pm["importances"]
    top = next(iter(imp), None)
    c1, c2, c3, c4 = st.columns([1, 1.5, 1, 1])
    sampled = pm["rows"] < pm["rows_available"]
    c1.metric(f"{pm['metric']} on the {pm['rows']:,}-row sample" if sampled else f"Holdout {pm['metric']}",
              f"{pm['baseline_score']:.3f}",
              help=("The score on this seeded holdout sample before any feature is shuffled; the full holdout's "
                    "value is on Holdout performance" if sampled else
                    "The score on the whole holdout before any feature is shuffled"))
    if top is not None:
        v = imp[top]
        c2.metric("Largest drop (95% interval)", f"{v['mean']:.3f} ({v['ci'][0]:.3f}–{v['ci'][1]:.3f})",
                  help=f"Shuffling '{esc(top)}' across rows costs this much {pm['metric']}; interval over the repeats")
    c3.metric("Contribute nothing", f"{len(pm['contributes_nothing'])} of {len(imp)}",
              help=f"Features whose interval reaches 0 and whose mean drop is below {pm['negligible_below']:.4f}")
    c4.metric("Rows × repeats", f"{pm['rows']:,} × {pm['n_repeats']}",
              help="Holdout rows scored (stratified sample) and how often each feature was shuffled")
    plot(permutation_bars(perm))
    findings(perm)
    if pm.get("groups"):
        with st.expander("Grouped importance: features shuffled together", expanded=True):
            st.caption("Groups: features sharing a name prefix, numeric features that move together "
                       "(|Spearman ρ| ≥ 0.7), and the sensitive attributes. Correlated features share credit, so "
                       "each alone can look unimportant while the group matters.")
            plot(group_bars(perm))
    with st.expander("Importance table"):
        st.dataframe(pd.DataFrame([{"feature": f, "drop": round(v["mean"], 4), "95% low": round(v["ci"][0], 4),
                                    "95% high": round(v["ci"][1], 4),
                                    "share %": round(100 * pm["importance_share"][f], 1),
                                    "contributes nothing": "yes" if f in pm["contributes_nothing"] else ""}
                                   for f, v in imp.items()]), hide_index=True)
    check_details(perm)

# --- what to do ------------------------------------------------------------------------------
todo = []
overlap = dominant_and_leaky(report)
if overlap:
    todo.append(f"Resolve the leakage of {esc(', '.join(repr(i['feature']) for i in overlap))} first: drop the column if it "
                "is not known at prediction time, retrain, and review again.")
if shap_res is not None and shap_res.status.value == "warn":
    todo.append("A single column drives most decisions: confirm with the data owner that it is legitimate, stable "
                "and available in production.")
if lime_res is not None and lime_res.status.value == "warn":
    todo.append("Single-row explanations are unstable here: do not hand them to customers or auditors without a "
                "data scientist's review of the row.")
if perm is not None and perm.status.value not in ("skipped", "error") and perm.metrics.get("contributes_nothing"):
    todo.append("Consider dropping the features that contribute nothing and retraining: a simpler model is easier "
                "to explain and to monitor.")
todo.append("Check that the features driving the model make sense to a domain expert; a surprising driver is "
            "often a data problem (see Data quality and Leakage).")
what_to_do(todo)
