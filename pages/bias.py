"""Bias: who does the model fail, and why (Suresh & Guttag's seven sources of harm)."""

import pandas as pd
import streamlit as st

from pages._ui import (
    check_details,
    check_header,
    esc,
    findings,
    pct,
    plot,
    skipped_or_error,
    state,
    status_text,
    what_to_do,
    with_ci,
)
from readiness.charts.bias import disparity_chart, group_metrics_chart
from readiness.checks.bias import recompute_disparities, with_reviewer_answers
from readiness.checks.bias_categories import (
    CATEGORIES,
    CATEGORY_QUESTIONS,
    CATEGORY_TITLES,
    QUESTIONS,
)
from readiness.fmt import interval, number, p_value, signed, with_interval
from readiness.results import Status

s = state()
ctx, report = s.ctx, s.report
st.title("Bias")
st.caption("Who does the model fail, and why? Group by group on the holdout, then through the seven sources of harm "
           "(Suresh & Guttag): what the data shows, and what only the reviewers can answer.")


def _all_classes(m: dict, attribute: str, groups: dict, disp: dict, reference: str) -> None:
    """Multiclass: accuracy and each class's recall per group, and the gaps against the reference, all classes
    at once (figures from ``bias.groups``; nothing computed here)."""
    rows = {g: r.get("all_classes") for g, r in disp["groups"].items() if r.get("all_classes")}
    big = {g: r for g, r in rows.items() if not groups[g]["small"]}
    c1, c2 = st.columns(2)
    acc = max(big.items(), key=lambda kv: abs(kv[1]["accuracy_difference"] or 0), default=None)
    if acc:
        g, r = acc
        c1.metric("Largest accuracy gap", _pts(r["accuracy_difference"]),
                  help="A group's share of rows classified right minus the reference's (95% Newcombe interval, "
                       "adjusted for the number of comparisons)")
        c1.caption(f"{esc(g)} vs {esc(reference)} · {_pts(r['accuracy_difference'], r['accuracy_difference_ci'])}"
                   + ("" if r["accuracy_beyond_chance"] else " · within chance"))
    rec = max(((g, r["worst_class"], r["recall_difference_by_class"][r["worst_class"]]) for g, r in big.items()
               if r["worst_class"] is not None), key=lambda t: (t[2]["beyond_chance"], abs(t[2]["recall_difference"])),
              default=None)
    if rec:
        g, c, r = rec
        c2.metric("Largest recall gap of one class", _pts(r["recall_difference"]),
                  help="For one true class, the share of its rows the model recognises in a group minus in the "
                       "reference group")
        c2.caption(f"class '{esc(c)}', {esc(g)} vs {esc(reference)} · "
                   f"{_pts(r['recall_difference'], r['recall_difference_ci'])} · "
                   + (f"harder for {esc(rows[g]['worst_class_harms'])}" if r["beyond_chance"] else "within chance"))
    classes = m["classes"]
    st.markdown(f"**All classes by group of {esc(attribute)}** — accuracy and, per true class, the share of its rows "
                "recognised (recall), with 95% intervals")
    st.dataframe(pd.DataFrame([{
        "group": g, "rows": v["n"], "accuracy": with_ci(v.get("accuracy"), v.get("accuracy_ci")),
        **{f"recall '{c}'": with_ci((v.get("recall_by_class") or {}).get(str(c), {}).get("recall"),
                                    (v.get("recall_by_class") or {}).get(str(c), {}).get("recall_ci"))
           for c in classes}} for g, v in groups.items()]), hide_index=True, width="stretch")
    lines = [f"{esc(g)}: class '{esc(c)}' recognised {_pts(x['recall_difference'], x['recall_difference_ci'])} "
             f"against {esc(reference)} — harder for {esc(g if x['recall_difference'] < 0 else reference)}"
             for g, r in rows.items() for c, x in r["recall_difference_by_class"].items() if x["beyond_chance"]]
    if lines:
        st.markdown("**Gaps beyond chance, by group and class:**\n" + "\n".join(f"- {t}" for t in lines[:10]))
    else:
        st.caption(f"No group's accuracy or per-class recall differs from {esc(reference)}'s beyond chance.")


def _pts(x, ci=None):
    if x is None:
        return "–"
    text = f"{100 * x:+.1f} pts"
    if ci:
        text += f" ({100 * ci[0]:+.1f} to {100 * ci[1]:+.1f})"
    return text


@st.cache_data(show_spinner=False, max_entries=64)
def _disparities(digest: str, attribute: str, reference: str, _metrics: dict) -> dict:
    """Disparities against another reference group; keyed on the review digest, not on the data."""
    return recompute_disparities(_metrics, attribute, reference)


def _class_view(disp: dict, cls: str | None) -> dict:
    if cls is None:
        return disp
    return {**disp, "groups": {g: r["by_class"][cls] for g, r in disp["groups"].items() if cls in r.get("by_class", {})}}


_SEV_WORD = {"fail": "Fail", "warn": "Review", "info": "Note (small, few cases or chance)", None: "–"}
_SEV_ICON = {"fail": ":red[:material/cancel:]", "warn": ":orange[:material/warning:]", "info": ":gray[:material/info:]"}

# --- bias.groups ---------------------------------------------------------------------------


def _num(v) -> str:
    return number(v)


def _regression(res) -> None:
    """A regression model: error and bias by group, with intervals; gaps in words from the check."""
    m = res.metrics
    attribute = st.selectbox("Sensitive attribute", m["attributes"] + m["intersections"], key="bias_attribute",
                             help="A sensitive column named in Setup, or the combination of two of them")
    groups, disp = m["groups"][attribute], m["disparities"][attribute]
    ref = disp["reference"]
    st.markdown(f"**Error and bias by group of '{esc(attribute)}'** (holdout rows; 95% intervals). Mean error is "
                "prediction − actual: above 0 the model over-estimates the group, below 0 it under-estimates it. "
                f"Reference group (smallest error): **{esc(ref)}**.")
    rows = []
    for g, v in groups.items():
        d = disp["groups"].get(g, {})
        rows.append({"group": g, "rows": v["n"], "mean absolute error": with_interval(v["mae"], v["mae_ci"]),
                     "mean error (pred − actual)": with_interval(v["mean_error"], v["mean_error_ci"], sign=True),
                     "mean prediction": with_interval(v["mean_prediction"], v.get("mean_prediction_ci")),
                     "mean actual": with_interval(v["mean_actual"], v.get("mean_actual_ci")),
                     "MAE vs reference": "reference" if g == ref else
                     with_interval(d.get("mae_difference"), d.get("mae_difference_ci"), sign=True),
                     "verdict": _SEV_WORD.get(d.get("severity")) if g != ref else "–"})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    o = m["overall"]
    st.caption(f"All holdout rows: MAE {with_interval(o['mae'], o['mae_ci'])}, mean error "
               f"{with_interval(o['mean_error'], o['mean_error_ci'], sign=True)}. A gap counts as beyond chance only after "
               f"allowing for all {m['multiple_testing']['comparisons_total']} comparisons (Bonferroni); groups under "
               f"{m['thresholds']['small_group']} rows cannot fail on their own.")
    findings(res)
    check_details(res)
    flagged = [g for g, d in disp["groups"].items() if d["flags"]]
    what_to_do([f"Look at the rows of {esc(attribute)} = {esc(g)}: is the group's target measured the same way, is it "
                "represented enough in training, does a feature act as a proxy? Consider a model per group or "
                "features that explain the difference." for g in flagged[:3]])


res = report.check("bias.groups")
_shown = check_header(res, heading="Metrics by group") and not skipped_or_error(res)
if _shown and res.metrics.get("task") == "regression":
    _regression(res)
elif _shown:
    m = res.metrics
    th = m["thresholds"]
    direction = m.get("direction") or {}
    directed = direction.get("positive_favorable") is not None or direction.get("favorable_class") is not None
    target = direction.get("target") or "the target"
    if directed:
        st.markdown(f"**Favourable outcome: {target} = {direction['favorable']}** (good for the person); adverse: "
                    f"{target} = {direction['adverse']}. Every gap below is read from the side that bears the harm.")
    else:
        st.warning(f"No favourable label was given, so this page cannot say which group is disadvantaged and does not "
                   f"apply the four-fifths rule. Choose which outcome of '{target}' is good for the person in Setup.",
                   icon=":material/help:")
    all_attrs = m["attributes"] + m["intersections"]
    left, mid, right = st.columns([2, 2, 1])
    attribute = left.selectbox("Sensitive attribute", all_attrs, key="bias_attribute",
                               help="A sensitive column named in Setup, or the combination of two of them")
    groups = m["groups"][attribute]
    default_ref = m["reference"][attribute]
    options = list(groups)
    source = (m.get("reference_source") or {}).get(attribute, "largest")
    reference = mid.selectbox(
        "Reference group", options, index=options.index(default_ref) if default_ref in options else 0,
        key=f"bias_reference_{attribute}",
        help=("Every other group is compared with this one. By default the most advantaged group (the highest rate of "
              "the favourable outcome); without a favourable label, the largest group. Whatever the reference, each "
              "finding names the group that bears the harm."))
    disp = m["disparities"][attribute] if reference == default_ref else _disparities(ctx.digest, attribute, reference, m)
    cls = None
    if m["task"] == "multiclass":  # every class at once first; one class against the rest on demand
        _all_classes(m, attribute, groups, disp, reference)
        cls = right.selectbox("Detail: one class vs the rest", m["classes"], key="bias_class",
                              help="The binary metrics of one class against all others, below the all-class summary")
        st.markdown(f"#### Detail: class '{esc(cls)}' against the rest")
    view = _class_view(disp, cls)
    rows = view["groups"]
    big = {g: r for g, r in rows.items() if not r["small"]}
    row_directed = bool(rows) and all("favorable_rate_difference" in r for r in rows.values())

    def _worst(key, rs, absolute=True):
        cands = [(g, r) for g, r in rs.items() if r.get(key) is not None]
        if not cands:
            return None, None
        return (max(cands, key=lambda t: abs(t[1][key])) if absolute else min(cands, key=lambda t: t[1][key]))

    def _harmed(row, metric):
        f = next((f for f in row.get("flags", []) if f["metric"] == metric), None)
        return f.get("disadvantaged") if f else None

    n_small = sum(1 for g in groups.values() if g["small"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Groups", f"{len(groups)}" + (f" ({n_small} small)" if n_small else ""),
              help=f"Groups of '{esc(attribute)}' in the holdout. Small: fewer than {th['small_group']} rows — shown with "
                   "wide intervals, never failing the review on their own.")
    if row_directed:
        g_fa, r_fa = _worst("false_adverse_rate_difference", big)
        c2.metric("Largest wrongly-adverse gap", _pts(r_fa["false_adverse_rate_difference"]) if r_fa else "–",
                  help=("False-adverse rate: of people whose actual outcome was favourable, the share predicted the "
                        "adverse outcome (FPR when the positive label is adverse, FNR when it is favourable). Group "
                        "minus reference, in points, with its 95% interval."))
        if r_fa:
            harmed = g_fa if r_fa["false_adverse_rate_difference"] > 0 else reference
            c2.caption(f"{esc(g_fa)} vs {esc(reference)} · harms {esc(harmed)}")
    else:
        g_fa, r_fa = _worst("equal_opportunity_difference", big)
        c2.metric("Largest gap in positives caught", _pts(r_fa["equal_opportunity_difference"]) if r_fa else "–",
                  help=("Equal opportunity difference: the group's true positive rate minus the reference group's, in "
                        f"points; among groups of at least {th['small_group']} rows."))
        if r_fa:
            c2.caption(f"{esc(g_fa)} vs {esc(reference)}")
    g_od, r_od = _worst("equalized_odds_difference", big)
    c3.metric("Largest error-rate gap", f"{100 * r_od['equalized_odds_difference']:.1f} pts" if r_od else "–",
              help=("Equalized odds difference: the larger of the TPR and FPR gaps against the reference. "
                    f"Review from {100 * th['warn_gap']:.0f} points when beyond chance; fails from "
                    f"{100 * th['fail_gap']:.0f} points."))
    if r_od:
        c3.caption(f"{esc(g_od)} vs {esc(reference)} · review from {100 * th['warn_gap']:.0f}, fail from "
                   f"{100 * th['fail_gap']:.0f} pts, when beyond chance")
    head = (m.get("selection") or {}).get(attribute)
    if row_directed:
        g_dp, r_dp = _worst("favorable_rate_ratio", big, absolute=False)
        c4.metric("Lowest favourable-outcome ratio", f"{r_dp['favorable_rate_ratio']:.2f}" if r_dp else "–",
                  help=("The lower group's rate of the favourable outcome divided by the higher one's (1 = equal). "
                        f"Below {th['four_fifths']:.2f} fails the four-fifths rule of thumb."))
        if r_dp:
            c4.caption(f"harms {esc(_harmed(r_dp, 'favorable_rate') or (g_dp if r_dp['favorable_rate_difference'] < 0 else reference))}"
                       f" · four-fifths rule: {th['four_fifths']:.2f}")
    else:
        g_dp, r_dp = _worst("demographic_parity_difference", big)
        c4.metric("Largest selection gap", _pts(r_dp["demographic_parity_difference"]) if r_dp else "–",
                  help="Share predicted positive, group minus reference. No four-fifths verdict without a favourable "
                       "label: which way is the harm is not known.")
        if r_dp:
            c4.caption(f"{esc(g_dp)} vs {esc(reference)}")
    if head and cls is None:
        st.markdown(f":material/balance: **Widest selection gap of {esc(attribute)}:** {esc(head['message'])}")
    scope = f"'{esc(cls)}' vs the rest" if cls else (f"positive = '{esc(m['positive_label'])}', flagged when score ≥ "
                                                f"{m['threshold']}" if m["task"] == "binary" else "")
    st.caption(f"{m['n']:,} holdout rows. {scope}. Reference: {esc(reference)}"
               + (" (most advantaged)" if reference == default_ref and source == "most advantaged" else
                  " (largest group)" if reference == default_ref and source == "largest" else "")
               + f". Rates in %. Dots are the group's value, bars its 95% interval; the dashed line is the reference "
               f"group, the shaded band ±{100 * th['warn_gap']:.0f} points around it; grey hollow dots rest on few cases.")
    plot(group_metrics_chart(m, attribute, reference=reference, cls=cls))
    if row_directed:
        st.markdown(f"**Who is worse off than {esc(reference)}** — right of zero: the group is worse off on that measure; "
                    f"orange band: review (≥ {100 * th['warn_gap']:.0f} points, beyond chance); red: fails "
                    f"(≥ {100 * th['fail_gap']:.0f} points). Right: the favourable-outcome ratio with the four-fifths line.")
    else:
        st.markdown(f"**Gaps against {esc(reference)}** (group − reference) — orange: review (≥ {100 * th['warn_gap']:.0f} "
                    f"points, beyond chance); red: fails (≥ {100 * th['fail_gap']:.0f} points). Without a favourable "
                    "label the chart cannot say which side is worse off.")
    plot(disparity_chart(view, warn_gap=th["warn_gap"], fail_gap=th["fail_gap"], four_fifths=th["four_fifths"]))

    def _harm_cell(r):
        names = sorted({f["disadvantaged"] for f in r["flags"] if f.get("disadvantaged") and f["severity"] != "info"})
        return ", ".join(names) or ("–" if row_directed else "not known")

    if row_directed:
        table = [{"group": g, "rows": r["n"], "verdict": _SEV_WORD[r["severity"]], "bears the harm": _harm_cell(r),
                  "favourable gap": _pts(r["favorable_rate_difference"], r["favorable_rate_difference_ci"]),
                  "ratio": None if r.get("favorable_rate_ratio") is None else round(r["favorable_rate_ratio"], 2),
                  "wrongly adverse gap": _pts(r["false_adverse_rate_difference"], r["false_adverse_rate_difference_ci"]),
                  "benefit-of-doubt gap": _pts(r["false_favorable_rate_difference"],
                                               r["false_favorable_rate_difference_ci"]),
                  "adverse calls wrong gap": _pts(r["false_adverse_discovery_rate_difference"],
                                                  r["false_adverse_discovery_rate_difference_ci"])}
                 for g, r in rows.items()]
        helps = {"favourable gap": "Favourable rate, group − reference (lower harms), with its 95% interval",
                 "ratio": "Favourable-outcome ratio, lower / higher (four-fifths rule below 0.8)",
                 "wrongly adverse gap": "False-adverse rate (FPR or FNR), group − reference (higher harms)",
                 "benefit-of-doubt gap": "False-favourable rate, group − reference (lower harms)",
                 "adverse calls wrong gap": "Share of adverse predictions that were wrong, group − reference "
                                            "(higher harms)"}
    else:
        table = [{"group": g, "rows": r["n"], "verdict": _SEV_WORD[r["severity"]],
                  "selection gap": _pts(r["demographic_parity_difference"], r["demographic_parity_difference_ci"]),
                  "TPR gap": _pts(r["equal_opportunity_difference"], r["equal_opportunity_difference_ci"]),
                  "FPR gap": _pts(r["fpr_difference"], r["fpr_difference_ci"]),
                  "precision gap": _pts(r["predictive_parity_difference"], r["predictive_parity_difference_ci"])}
                 for g, r in rows.items()]
        helps = {"selection gap": "Demographic parity difference, with its 95% interval",
                 "TPR gap": "Equal opportunity difference: true positive rate gap",
                 "FPR gap": "False positive rate gap", "precision gap": "Predictive parity difference: precision gap"}
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", column_config={
        "group": st.column_config.TextColumn(width="medium"),
        "rows": st.column_config.NumberColumn(width="small"),
        "verdict": st.column_config.TextColumn(help="Small groups, few cases and gaps that may be chance never fail",
                                               width="medium"),
        **{k: st.column_config.TextColumn(help=v) for k, v in helps.items()}})
    flagged = [f for r in rows.values() for f in r["flags"] if f.get("message")]
    if flagged:
        st.markdown(f"**Each gap against {esc(reference)}, in words** (worst first)")
        rank = {"fail": 0, "warn": 1, "info": 2}
        for f in sorted(flagged, key=lambda f: rank[f["severity"]])[:10]:
            st.markdown(f"{_SEV_ICON[f['severity']]} {esc(f['message'])}")
        if len(flagged) > 10:
            with st.expander(f"{len(flagged) - 10} more"):
                for f in sorted(flagged, key=lambda f: rank[f["severity"]])[10:]:
                    st.markdown(f"{_SEV_ICON[f['severity']]} {esc(f['message'])}")
    with st.expander("Findings of the whole check (every attribute and combination)"):
        findings(res, limit=8)
    with st.expander(f"Every metric per group of {esc(attribute)}, with 95% intervals"):
        src = groups if cls is None else {g: {**v["per_class"][cls], "n": v["n"]} for g, v in groups.items()}
        st.dataframe(pd.DataFrame([{
            "group": g, "rows": v["n"], "actual positives": v.get("positives"),
            "base rate": with_ci(v.get("base_rate"), v.get("base_rate_ci")),
            "selection rate": with_ci(v.get("selection_rate"), v.get("selection_rate_ci")),
            "TPR": with_ci(v.get("tpr"), v.get("tpr_ci")), "FPR": with_ci(v.get("fpr"), v.get("fpr_ci")),
            "FNR": with_ci(v.get("fnr"), v.get("fnr_ci")), "precision": with_ci(v.get("precision"), v.get("precision_ci")),
            "accuracy": with_ci(v.get("accuracy"), v.get("accuracy_ci")),
            "mean score": with_ci(v.get("mean_score"), v.get("mean_score_ci")),
            "Brier": with_ci(v.get("brier"), v.get("brier_ci"), as_pct=False),
            "few cases behind": ", ".join(v.get("small_metrics", [])),
        } for g, v in src.items()]), hide_index=True, width="stretch")
        mt = m.get("multiple_testing") or {}
        st.caption("Proportions: exact Clopper–Pearson intervals. Mean score and Brier: percentile bootstrap. Gaps: "
                   "Newcombe intervals for a difference of two proportions. \"Beyond chance\" allows for all "
                   f"{mt.get('comparisons_total', 0):,} comparisons of this check (Bonferroni, family-wise "
                   f"{100 * mt.get('family_alpha', 0.05):.0f}%).")
    check_details(res)
    todo = []
    if not directed:
        todo.append("Say in Setup which outcome is good for the person, so each gap names the group that bears the "
                    "harm and the four-fifths rule can be applied.")
    if res.status in (Status.FAIL, Status.WARN):
        todo.append("For each flagged gap, read the Historical and Learning cards below: a gap the labels already carry "
                    "needs a business decision; a gap the model adds needs a model fix (reweighting, more data for "
                    "the group, a fairness constraint) and a new review.")
    if any(g["small"] for a in m["groups"].values() for g in a.values()):
        todo.append(f"Collect more holdout rows for the small groups before concluding anything about them; their "
                    f"intervals are too wide to tell a {100 * th['warn_gap']:.0f}-point gap from chance.")
    if any(f.get("metric") == "favorable_rate" and f["severity"] != "info"
           for fi in res.findings for f in fi.evidence.get("flags", [])):
        todo.append("Favourable-outcome ratios below 0.8 are a legal red flag in some domains (the US four-fifths "
                    "rule): have the model owner explain them by the groups' actual rates.")
    what_to_do(todo)

# --- bias.categories -----------------------------------------------------------------------
st.divider()
cat_res = report.check("bias.categories")


def _evidence(cat: str, ev: dict) -> None:
    """Category evidence as small tables; everything else stays in the raw JSON."""
    if report.task == "regression" and cat in ("historical", "aggregation", "learning"):
        _regression_evidence(cat, ev)
    elif cat == "historical":
        for attr, a in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}** — share of rows with the label (training + holdout)")
            st.dataframe(pd.DataFrame([{"group": g, "rows": v["n"], **{f"rate '{c}'": with_ci(r["rate"], r["ci"])
                                                                      for c, r in v["rates"].items()}}
                                       for g, v in a["groups"].items()]), hide_index=True)
    elif cat == "representation":
        for attr, a in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}**" + (f" — χ² p-value training vs holdout {p_value(a['chi2_p_value'])}"
                                         if a.get("chi2_p_value") is not None else ""))
            st.dataframe(pd.DataFrame([{"group": g, "training rows": v["train_n"], "training share": pct(v["train_share"]),
                                        "holdout rows": v["test_n"], "holdout share": pct(v["test_share"]),
                                        "population share": pct(v["population_share"])}
                                       for g, v in a["groups"].items()]), hide_index=True)
        if ev.get("small_intersections"):
            st.caption("Small combinations (holdout rows): " + "; ".join(
                f"{esc(a)}: " + ", ".join(f"{esc(g)} {n}" for g, n in v.items()) for a, v in ev["small_intersections"].items()))
    elif cat == "measurement":
        for attr, p in ev.get("proxies", {}).items():
            st.markdown(f"**Proxies for {esc(attr)}** — how well each feature alone predicts the group on the holdout "
                        f"(AUC; 0.5 = not at all, 1 = perfectly; warn from {ev['proxy_thresholds']['warn_auc']:.2f}). "
                        f"All features together: {p['all_features']['auc']:.2f}.")
            two = len(p["groups"]) == 2  # with two groups both one-vs-rest AUCs are the same
            st.dataframe(pd.DataFrame([{"feature": f, "AUC": round(r["auc"], 3),
                                        **({} if two else {"best revealed group": r["best_group"]})}
                                       for f, r in p["features"].items()]), hide_index=True)
        if ev.get("missingness_gaps"):
            st.markdown("**Missing values by group**")
            # in the finding's own words and percentages ("missing for 8.4% of race = Asian-Pac-Islander vs 0.0% ...")
            st.dataframe(pd.DataFrame([{"column": r["column"], "attribute": r["attribute"],
                                        "most missing in": f"{r['highest']} ({pct(r['highest_rate'])})",
                                        "least missing in": f"{r['lowest']} ({pct(r['lowest_rate'])})",
                                        "difference": _pts(r["difference"], r.get("difference_ci"))}
                                       for r in ev["missingness_gaps"]]), hide_index=True)
    elif cat == "aggregation":
        for attr, rows in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}** — overall accuracy {pct(ev['overall_accuracy'])}"
                        + (f", overall AUC {ev['overall_auc']:.3f}" if ev.get("overall_auc") is not None else ""))
            st.dataframe(pd.DataFrame([{"group": g, "rows": r["n"], "accuracy": with_ci(r["accuracy"], r["accuracy_ci"]),
                                        "AUC": with_ci(r.get("auc"), r.get("auc_ci"), as_pct=False),
                                        "mean score − actual rate": _pts(r.get("calibration_gap"), r.get("calibration_gap_ci"))}
                                       for g, r in rows.items()]), hide_index=True)
    elif cat == "learning":
        for attr, a in ev.get("amplification", {}).items():
            st.markdown(f"**{esc(attr)}** vs {esc(a['reference'])} — gap in the labels vs gap in the model's decisions")
            st.dataframe(pd.DataFrame([{"group": g, "rows": r["n"], "label gap": _pts(r["label_gap"]),
                                        "decision gap": _pts(r["model_gap"]),
                                        "added by the model": _pts(r["amplification"], r["amplification_ci"])}
                                       for g, r in a["groups"].items()]), hide_index=True)
        for col, d in ev.get("direct_use", {}).items():
            ft = d.get("flip_test")
            if ft:
                how = ft.get("how") or f"setting it to another value ({', '.join(ft['values_tried'])})"
                st.caption(f"'{esc(col)}' is a model input: changing only {esc(col)} ({esc(how)}) changes "
                           f"{ft['changed']:,} of {ft['rows']:,} holdout decisions ({pct(ft['changed_share'])}), the "
                           "counterfactual test below.")
            elif d.get("note"):
                st.caption(esc(d["note"][0].upper() + d["note"][1:] + "."))
    elif cat == "evaluation":
        for attr, gs in ev.get("cases", {}).items():
            st.markdown(f"**{esc(attr)}** — holdout cases behind each group's rates (fewer than 5 cannot measure a rate)")
            st.dataframe(pd.DataFrame([{"group": g, "rows": v["n"], "actual positives": v["positives"],
                                        "actual negatives": v["negatives"], "flagged": v["predicted_positive"]}
                                       for g, v in gs.items()]), hide_index=True)
        if ev.get("hidden_failures"):
            st.markdown("**Overall numbers that hide a group's failure**")
            st.dataframe(pd.DataFrame([{"attribute": h["attribute"], "group": h["group"], "metric": h["metric"],
                                        "overall": pct(h["overall"]), "group value": with_ci(h["group_value"], h["group_ci"]),
                                        "rows": h["n"]} for h in ev["hidden_failures"]]), hide_index=True)
        for attr, gs in ev.get("unmeasurable", {}).items():
            st.caption(f"{esc(attr)}: " + "; ".join(f"{esc(g)} cannot measure {', '.join(v['rates'])}" for g, v in gs.items()))
    elif cat == "deployment":
        for a in ev.get("answers", {}).values():
            st.markdown(f"**{a['question']}**  \n{esc(a['answer_text']) if a['answer_text'] else '_not answered_'}")
    if cat != "deployment":
        for issue in ev.get("issues", [])[3:]:
            st.caption(f"{issue['severity']}: {esc(issue['text'])}")


def _regression_evidence(cat: str, ev: dict) -> None:
    """A regression model's evidence: the mean target, each group's error and the widening of the gap."""
    if cat == "historical":
        for attr, a in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}** — mean target by group (training + holdout rows; 95% intervals)")
            st.dataframe(pd.DataFrame([{"group": g, "rows": v["n"], "mean target": with_interval(v["mean"], v["mean_ci"])} for g, v in a["groups"].items()]),
                         hide_index=True)
    elif cat == "aggregation":
        for attr, rows in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}** — overall MAE {_num(ev['overall_mae'])}, overall mean error "
                        f"{signed(ev['overall_mean_error'])}")
            st.dataframe(pd.DataFrame([{"group": g, "rows": r["n"],
                                        "mean absolute error": with_interval(r["mae"], r["mae_ci"]),
                                        "mean error (pred − actual)": with_interval(r["mean_error"],
                                                                                    r["mean_error_ci"], sign=True)}
                                       for g, r in rows.items()]), hide_index=True)
    elif cat == "learning":
        for attr, a in ev.get("attributes", {}).items():
            st.markdown(f"**{esc(attr)}** = {esc(a['highest'])} vs {esc(a['lowest'])}: actual means "
                        f"{_num(a['actual_gap'])} apart, predictions {_num(a['predicted_gap'])} apart; the model "
                        f"{'widens' if a['widening'] > 0 else 'narrows'} the gap by {_num(abs(a['widening']))} "
                        f"(95% interval of the change {interval(a['widening_ci'], value=a['widening'])}).")


def _save_answers() -> None:
    """Form callback: runs before the page re-renders, so the cards show the new answers."""
    from readiness.review import update_report

    app = state()
    answers = {q["key"]: str(st.session_state.get(f"bias_q_{q['key']}") or "").strip() for q in QUESTIONS}
    new_ctx = with_reviewer_answers(app.ctx, answers)
    app.report = update_report(app.report, new_ctx, ["bias.categories"])
    app.ctx = new_ctx
    app.extras["bias_answers_saved"] = True


if check_header(cat_res, heading="Seven sources of harm") and not skipped_or_error(cat_res):
    cats = cat_res.metrics["categories"]
    counts = {w: sum(1 for c in cats.values() if c["status"] == w) for w in ("fail", "warn", "pass", "skipped")}
    st.caption(f"{counts['fail']} fail · {counts['warn']} need attention · {counts['pass']} show nothing of concern · "
               f"{counts['skipped']} could not be measured. Each card: the question, what the data shows, the evidence.")
    for i, cat in enumerate(CATEGORIES):
        if i % 2 == 0:
            grid = st.columns(2)  # one row per pair, so cards side by side start level
        c = cats[cat]
        with grid[i % 2].container(border=True):
            st.markdown(f"#### {status_text(c['status'])} · {CATEGORY_TITLES[cat]}")
            st.caption(CATEGORY_QUESTIONS[cat])
            st.markdown(esc(c["summary"]))
            if c["evidence"]:
                with st.expander("Evidence"):
                    _evidence(cat, c["evidence"])

    st.markdown("### Deployment questions")
    st.caption("What the data cannot show. The answers go into the report and decide the Deployment card; the "
               "reference population is compared with the training and holdout shares.")
    if s.extras.pop("bias_answers_saved", False):
        st.success("Answers saved: the cards above and the report now include them.", icon=":material/check:")
    current = dict(ctx.settings.reviewer_answers or {})
    with st.form("bias_questionnaire"):
        for q in QUESTIONS:
            key, val = f"bias_q_{q['key']}", current.get(q["key"], "")
            if q["kind"] == "choice":
                opts = ["", *q["choices"]]
                st.selectbox(q["question"], opts, index=opts.index(val) if val in opts else 0, key=key,
                             format_func=lambda o, q=q: q["choices"].get(o, "— not answered —"), help=q["help"])
            elif q["key"] == "reference_population":
                st.text_input(q["question"], value=val, key=key, help=q["help"],
                              placeholder="female=51%, male=49%, North=10%")
            else:
                st.text_area(q["question"], value=val, key=key, help=q["help"], height=80)
        st.form_submit_button("Save answers and update the review", type="primary", on_click=_save_answers)
    check_details(cat_res)
    todo = []
    if cats["deployment"]["status"] != "pass":
        todo.append("Answer the deployment questions above with the business owner; they are part of the signed report.")
    if cats["representation"]["status"] == "pass" and not (cats["representation"]["evidence"] or {}).get(
            "reference_population"):
        todo.append("Enter the shares of each group in the population the model will serve, to check that training "
                    "and holdout represent it.")
    if cats["representation"]["status"] in ("warn", "fail"):
        todo.append("Collect more data for the under-represented or small groups (or reweight training), then review "
                    "again; a group the model rarely saw is the group it is most likely to fail.")
    if cats["evaluation"]["status"] in ("warn", "fail"):
        todo.append("Report the per-group numbers next to the overall ones, and resample or reweight the holdout to "
                    "the population before quoting an overall figure.")
    if cats["learning"]["status"] in ("warn", "fail"):
        todo.append("Where the model widens a gap or uses a sensitive attribute directly, decide with legal and the "
                    "business owner whether that is acceptable; if not, " + (
                        "ask the model's owner to remove it, and review again." if report.model.kind == "predictions"
                        else "retrain without it and review again."))
    if cats["measurement"]["status"] in ("warn", "fail"):
        todo.append("Proxy features reproduce the sensitive attribute: dropping the attribute alone does not make the "
                    "model blind to it.")
    what_to_do(todo)

# --- counterfactual flips (robustness.perturbation; the section lives in pages/_where.py) ----
from pages._where import counterfactual_section  # noqa: E402

counterfactual_section(report)
