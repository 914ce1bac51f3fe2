"""Feasibility: better than simple baselines? Is the target possible at all? How often can the holdout be used?"""

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
from readiness.charts.feasibility import (
    error_ladder,
    learning_curve,
    noise_floor_chart,
    regression_ladder,
)
from readiness.checks.baselines import BASELINE_SHORT
from readiness.fmt import estimate, interval, number, p_value, signed
from readiness.results import Status

ctx, report = review()
st.title("Feasibility")
st.caption("Is the model better than simple alternatives trained on the same data, and is the accuracy the business "
           "asks for possible at all with these features?")

SECTIONS = [
    ("baselines.comparison", "Better than simple baselines?"),
    ("feasibility.bayes_error", "Is the target reachable?"),
    ("evaluation.holdout_reuse", "How often can the holdout be used?"),
]
results = {cid: report.check(cid) for cid, _ in SECTIONS}
base, bayes, reuse = (results[cid] for cid, _ in SECTIONS)
if bayes is not None and bayes.metrics.get("verdict") == "no_target":  # nothing to reach: not a passed target
    SECTIONS[1] = ("feasibility.bayes_error", "How good can any model be? (no target set)")
usable = {cid: r for cid, r in results.items() if r is not None and r.status not in (Status.SKIPPED, Status.ERROR)}


def _baseline_ahead(res) -> bool:
    """The best baseline's lead is beyond chance (the whole interval of the model's difference is below 0) while the
    margin of practical relevance is not shown to be crossed: the check's own "undetermined" case said so."""
    ci = res.metrics.get("decision_difference_ci") or [None, None]
    return res.metrics.get("decision_verdict") == "undetermined" and ci[1] is not None and ci[1] < 0


def _verdict() -> str:
    parts = []
    if base is not None and base.status in (Status.PASS, Status.WARN, Status.FAIL):
        dv = base.metrics.get("decision_verdict")
        parts.append("no model yet: the best simple baseline sets the bar a model must clear" if dv == "no_model" else
                     "the model beats simple baselines only with a column recorded after the outcome (see Leakage)"
                     if dv == "better" and base.status == Status.WARN else
                     "the model beats simple baselines by more than chance" if dv == "better" else
                     "a simple baseline does better than the model, by more than the margin" if dv == "worse" and
                     base.status == Status.FAIL else
                     "a simple baseline does better than the model by more than chance, though not shown to by more "
                     "than the margin (the simpler model may be preferable)" if _baseline_ahead(base) else
                     "the model is itself a simple model and about as good as the baselines"
                     if base.status == Status.PASS and base.metrics.get("model_is_simple_baseline") else
                     "the model is about as good as a simple baseline, at the best error any model can reach here"
                     if base.status == Status.PASS and base.metrics.get("model_error_within_bayes_ceiling") else
                     "the model is about as good as a simple baseline (the simpler model may be preferable)"
                     if base.status == Status.PASS else "the model and the baselines disagree (see below)")
    if bayes is not None and bayes.status in (Status.PASS, Status.WARN, Status.FAIL):
        v = bayes.metrics.get("verdict")
        goal = "the target RMSE or R²" if report.task == "regression" else "the target accuracy"
        parts.append({"achieved": f"{goal} is reachable (the model reaches it)",
                      "reachable": f"{goal} is reachable",
                      "infeasible": f"{goal} is not reachable with these features",
                      "probably_infeasible": f"{goal} is probably not reachable",
                      "undetermined": f"whether {goal} is reachable cannot be settled",
                      "no_target": "no target was set, so whether one is reachable is not applicable"}.get(v, bayes.summary))
    if not parts:
        return "The feasibility checks did not apply to this review."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


page_verdict(results, SECTIONS, lambda _overall, _drivers: _verdict())

# --- key numbers and the ladder ------------------------------------------------------------
if report.task != "regression" and (base in usable.values() or bayes in usable.values()):
    bm = bayes.metrics if bayes in usable.values() else {}
    cm = base.metrics if base in usable.values() else {}
    c1, c2, c3, c4 = st.columns(4)
    if bm:
        if bm["model_error"] is None:
            c1.metric("The model's error", "no model yet", help="A data review: the range and the baselines show "
                      "what a model trained on these features can reach")
        else:
            metric_ci(c1, "The model's error", bm["model_error"], bm["model_error_ci"],
                      help="Share of holdout rows the model gets wrong at its decision threshold (95% Clopper–Pearson)")
        c2.metric("Best possible error (95% range)", f"{pct(bm['ber_lower_low'])} – {pct(bm['ber_upper_high'])}",
                  help="Range in which the Bayes error lies with 95% confidence: the error even a perfect model "
                       "would make with these features, because the same inputs lead to different outcomes. "
                       "Bottom: the highest trusted nearest-neighbour floor (or the conflicting labels); top: the "
                       "lowest upper confidence limit of the nearest-neighbour errors, the most-common-class share "
                       "and the model's own error. The verdict on the target uses these ends")
        c2.caption("best estimate " + f"{pct(bm['ber_lower'])} – {pct(bm['ber_upper'])}"
                   + ("" if bm["lower_bound_trusted"] else " · floor not reliable here"))
        te = bm.get("target_error")
        c3.metric("Target error", pct(te) if te is not None else "not set",
                  help="1 − the target accuracy set in Setup: the largest share of wrong predictions the business "
                       "accepts")
        if te is not None:
            c3.caption(f"target accuracy {pct(1 - te)}")
    elif cm and cm.get("model"):
        mo = cm["model"]
        metric_ci(c1, "The model's error", 1 - mo["accuracy"], [1 - mo["accuracy_ci"][1], 1 - mo["accuracy_ci"][0]],
                  help="Share of holdout rows the model gets wrong (95% Clopper–Pearson)")
    if cm:
        b = cm["baselines"][cm["best_baseline"]]
        c4.metric("Best baseline's error", pct(1 - b["accuracy"]),
                  help="The most accurate of the simple baselines, trained on the same training rows and features "
                       "and scored on the same holdout rows")
        c4.caption(f"{b['name']} · 95% interval {pct(1 - b['accuracy_ci'][1])} – {pct(1 - b['accuracy_ci'][0])}")
    has_target = bool(bm) and bm.get("target_error") is not None  # the chart draws the target line only then
    st.markdown("**The error ladder.** Each rung is the share of holdout rows predicted wrong, with its 95% interval. "
                "The shaded band is where the best possible model's error lies; nothing can reliably get below it. "
                + ("The dashed red line is the target." if has_target else
                   "No target accuracy was set (Setup), so no target line is drawn."))
    plot(error_ladder(bayes if bm else None, base if cm else None))

# --- baselines -----------------------------------------------------------------------------
st.divider()
show_base = check_header(base) and not skipped_or_error(base)
if show_base and base.metrics.get("model") is None:
    m = base.metrics  # a data review: the baselines alone, the bar a model must clear
    findings(base)
    cols = ("mae", "mae_ci", False) if m["task"] == "regression" else ("accuracy", "accuracy_ci", True)
    st.dataframe(pd.DataFrame([{
        "baseline": b["name"] + (" (best)" if k == m["best_baseline"] else ""),
        "MAE" if cols[0] == "mae" else "accuracy": pct(b[cols[0]]) if cols[2] else estimate(b[cols[0]], b[cols[1]]),
        "95% interval": (f"{pct(b[cols[1]][0])} – {pct(b[cols[1]][1])}" if cols[2] else
                         interval(b[cols[1]], value=b[cols[0]])),
        **({"ROC AUC": f"{b['roc_auc']:.3f}"} if "roc_auc" in b else {})} for k, b in m["baselines"].items()]),
        hide_index=True)
    check_details(base)
    what_to_do([f"Train the model, then review it: it must beat {BASELINE_SHORT[m['best_baseline']]} by more than "
                "chance to be worth its complexity."])
elif show_base:
    m = base.metrics
    regression = m["task"] == "regression"
    best = m["baselines"][m["best_baseline"]]
    conf = f"{100 * (1 - m['alpha']):.3g}%"
    if regression:
        c1, c2, c3 = st.columns(3)
        metric_ci(c1, "Model MAE", m["model"]["mae"], m["model"]["mae_ci"], formatter=number,
                  help="Mean absolute error of the model on the holdout (95% bootstrap)")
        metric_ci(c2, f"Best baseline MAE ({best['name']})", best["mae"], best["mae_ci"], formatter=number,
                  help="The baseline with the smallest mean absolute error")
        metric_ci(c3, "How much smaller the model's errors are", m["mae_improvement"], m["mae_improvement_ci"],
                  formatter=signed, help=f"Mean over holdout rows of |baseline error| − |model error|; "
                                         f"{conf} paired t-interval. Above 0: the model errs less")
        plot(regression_ladder(base))
    else:
        c1, c2, c3, c4 = st.columns(4)
        d, (lo, hi) = m["accuracy_difference"], m["accuracy_difference_ci"]
        c1.metric("Accuracy gain", f"{100 * d:+.1f} points",
                  help=f"Model accuracy − accuracy of the best baseline ({best['name']}) on the same holdout rows; "
                       f"{conf} Newcombe interval for paired data")
        c1.caption(f"{conf} interval {100 * lo:+.1f} to {100 * hi:+.1f} points")
        c2.metric("McNemar p-value", p_value(m["p_value"]),
                  help="Chance of a split of disagreements at least this lopsided if model and baseline were equally "
                       "accurate (exact test when fewer than 25 rows disagree)")
        pr = best["paired"]
        c2.caption(f"{pr['mcnemar_test']} · model alone right on {pr['c_model_only_right']:,}, baseline alone on "
                   f"{pr['b_baseline_only_right']:,} rows")
        if m.get("auc_difference") is not None:
            alo, ahi = m["auc_difference_ci"]
            c3.metric("ROC AUC gain", f"{m['auc_difference']:+.3f}",
                      help=f"Model AUC − AUC of {m['baselines'][m['best_auc_baseline']]['name']} on the same rows; "
                           f"{conf} paired bootstrap interval. AUC ignores the threshold")
            if alo is not None:
                c3.caption(f"{conf} interval {alo:+.3f} to {ahi:+.3f}")
        if m["decision_measure"] == "cost_per_1000":
            c4.metric("Margin of practical relevance", f"{m['margin']:,.0f} per 1,000",
                      help="A baseline fails the model only when it is cheaper by more than this, with confidence: "
                           "one accuracy point of errors at the average error cost, per 1,000 decisions")
            dlo, dhi = m["decision_difference_ci"]
            c4.caption(f"model saves {m['decision_difference']:+,.0f} per 1,000 ({dlo:+,.0f} to {dhi:+,.0f})")
        else:
            c4.metric("Margin of practical relevance", f"{100 * m['margin']:.1f} accuracy point",
                      help="A baseline fails the model only when it is more accurate by more than this, with "
                           "confidence; a smaller difference is one nobody would act on")
        st.caption(f"Baselines trained on {m['train_rows_used']:,} training rows (up to {m['train_cap']:,}, "
                   + (f"stratified), with the model's {m['features'] + len(m['left_out_post_outcome'])} features less "
                      f"the {len(m['left_out_post_outcome'])} recorded after the outcome (see below)."
                      if m.get("left_out_post_outcome") else f"stratified), with the same {m['features']} features as "
                      "the model."))
    findings(base)
    rows = []
    for key, b in m["baselines"].items():
        pr = b["paired"]
        if regression:
            lo, hi = pr["mae_improvement_ci"]
            rows.append({"baseline": b["name"] + (" (best)" if key == m["best_baseline"] else ""),
                         "MAE": number(b["mae"]), "R²": number(b["r2"]),
                         "model's MAE smaller by": estimate(pr["mae_improvement"], [lo, hi], sign=True),
                         f"{conf} interval": interval([lo, hi], value=pr["mae_improvement"]), "p-value": p_value(pr["p_value"])})
        else:
            lo, hi = pr["difference_ci"]
            row = {"baseline": b["name"] + (" (best)" if key == m["best_baseline"] else ""),
                   "accuracy": pct(b["accuracy"]),
                   "95% interval": f"{pct(b['accuracy_ci'][0])} – {pct(b['accuracy_ci'][1])}"}
            if "roc_auc" in b:
                row["ROC AUC"] = f"{b['roc_auc']:.3f}"
            row.update({"model − baseline": f"{100 * pr['difference']:+.1f} pts",
                        f"{conf} interval": f"{100 * lo:+.1f} to {100 * hi:+.1f}",
                        "rows only model / only baseline right": f"{pr['c_model_only_right']:,} / "
                                                                 f"{pr['b_baseline_only_right']:,}",
                        "McNemar p": p_value(pr["p_value"])})
            rows.append(row)
    if not regression:
        mo = m["model"]
        rows.append({"baseline": "The model (for reference)", "accuracy": pct(mo["accuracy"]),
                     "95% interval": f"{pct(mo['accuracy_ci'][0])} – {pct(mo['accuracy_ci'][1])}",
                     **({"ROC AUC": f"{mo['roc_auc']:.3f}"} if "roc_auc" in mo else {}),
                     "model − baseline": "", f"{conf} interval": "", "rows only model / only baseline right": "",
                     "McNemar p": ""})
    st.markdown("**Every baseline against the model, on the same holdout rows**")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    with st.expander("How the baselines were built and compared"):
        st.markdown(
            "- Trained on the same training rows and the same feature columns as the model; numbers are imputed "
            "(median, plus a missing-value flag) and scaled, text columns are one-hot encoded (30 most common values).\n"
            "- **Always the most common class** and **random guess at the class rates** need no features: a model "
            "must beat them by a wide margin. **Logistic regression** and a **depth-4 decision tree** are what a "
            "careful analyst would try first.\n"
            + ("- The model is judged at its decision threshold "
               f"{ctx.settings.threshold:g}; the baselines call a row positive when their probability is at least 0.5.\n"
               if report.task == "binary" else "")
            + "- The comparison uses the best baseline on these same rows (choosing it there favours the baseline, "
            "so a win for the model is conservative). McNemar's test looks only at the rows where the two disagree; "
            "the interval for the accuracy difference is Newcombe's for paired data"
            + ("; the AUC difference has a paired bootstrap interval (rows resampled within each class)."
               if report.task == "binary" else ".")
            + (f"\n- This holdout has been used {m['holdout_uses']} times, so the tests run at α = {m['alpha']:.4f} "
               "(0.05 divided by the uses)." if (m.get("holdout_uses") or 1) > 1 else ""))
    check_details(base)
    todo = []
    if base.status == Status.FAIL:
        todo.append(f"Do not deploy this model over a simple {BASELINE_SHORT[m['best_baseline']]}: the simpler model is more "
                    "accurate, cheaper to run and easier to explain. Find out why the model underperforms (leakage in "
                    "training, over-fitting, a threshold set for another purpose).")
    elif base.status == Status.WARN and m.get("decision_verdict") == "better" and m.get("left_out_post_outcome"):
        todo.append("Retrain the model without " + esc(", ".join(f"'{c}'" for c in m["left_out_post_outcome"]))
                    + " (see Leakage) and review again: only then does its lead over the baselines mean anything.")
    elif base.status == Status.WARN:
        todo.append("Check the model's threshold and ranking against the best baseline (see the finding above) before "
                    "choosing the more complex model.")
    elif _baseline_ahead(base):
        todo.append(f"Ask the model's authors why a {BASELINE_SHORT[m['best_baseline']]} does better on this holdout; "
                    "if nothing justifies the extra complexity, prefer the simpler model.")
    elif m.get("decision_verdict") in ("within_margin", "undetermined") and (
            m.get("model_is_simple_baseline") or m.get("model_error_within_bayes_ceiling")):
        pass  # a tie is expected (the finding says why): nothing to ask
    elif m.get("decision_verdict") in ("within_margin", "undetermined"):
        todo.append(f"Ask the model's authors what the extra complexity buys over a {BASELINE_SHORT[m['best_baseline']]}: "
                    "on this holdout they are about as good. If nothing, prefer the simpler model.")
        if m.get("decision_verdict") == "undetermined":
            todo.append("A larger holdout narrows the interval; see how many rows are needed under the holdout budget "
                        "below.")
    if todo and page_has_evidence(report, "pages/explanations.py"):
        todo.append("See the Explanations page for where the model's performance comes from.")
    what_to_do(todo)

# --- Bayes error ---------------------------------------------------------------------------
SOURCES = {"cover_hart_1nn": "Cover–Hart floor of the 1-NN error", "ghp": "GHP spanning-tree bound",
           "label_conflicts": "conflicting labels", "knn": "best k-nearest-neighbour error",
           "prior": "always the most common class", "model": "the model's own holdout error"}
st.divider()
bayes_shown = check_header(bayes) and not skipped_or_error(bayes)  # the header once, whatever the task
if bayes_shown and "noise_rmse" in bayes.metrics:
    m = bayes.metrics  # regression: the noise floor
    c1, c2, c3, c4 = st.columns(4)
    metric_ci(c1, "Noise floor (RMSE)", m["noise_rmse"], m["noise_rmse_ci"], as_pct=False,
              formatter=number, help="The standard deviation of the part of the target no function of these features "
                             "explains (Gamma test, 95% half-sample interval): no model's RMSE can be reliably lower")
    metric_ci(c2, "Best possible R²", m["best_r2"], m["best_r2_ci"], as_pct=False, formatter=number,
              help="1 − noise variance / target variance on the rows of the estimate")
    if m["model_rmse"] is None:
        c3.metric("The model's RMSE", "no model yet")
    else:
        metric_ci(c3, "The model's RMSE", m["model_rmse"], m["model_rmse_ci"], as_pct=False, formatter=number,
                  help="Root mean squared error on the holdout (95% bootstrap)")
    c4.metric("Target RMSE", "not set" if m["target_rmse"] is None else number(m["target_rmse"]),
              help="Set with --target-rmse, or --target-r2 turned into an RMSE with the holdout's variance")
    if m["target_r2"] is not None:
        c4.caption(f"target R² {number(m['target_r2'])}")
    dim = m["intrinsic_dimension"]
    c2.caption(f"effective dimensions {'–' if dim is None else f'{dim:.1f}'}"
               + ("" if m["floor_trusted"] else " · floor not reliable here"))
    findings(bayes)
    plot(noise_floor_chart(bayes))
    with st.expander("How the noise floor is estimated"):
        st.markdown(
            f"- **Gamma test** (Stefánsson, Končar & Jones 1997) on {m['sample_rows']:,} of {m['pooled_rows']:,} "
            f"labelled rows (training and holdout pooled), {m['dimensions']} dimensions after encoding: for each "
            "row's 10 nearest neighbours, half the mean squared difference of their targets is regressed on the mean "
            "squared distance; the line's value at distance zero is the noise variance.\n"
            f"- The first neighbour alone (Devroye et al.'s difference estimator) gives an RMSE of "
            f"{number(m['first_neighbour_rmse'])}, biased upward by how much the target changes between neighbours.\n"
            "- The 95% interval is the spread of the estimate over 20 random halves of the rows.\n"
            f"- The top of the range is what real rules reach: the best leave-one-out k-nearest-neighbour "
            f"regression ({m['best_k']} neighbours, RMSE {number(m['knn_rmse_best'])}, at most "
            f"{number(m['knn_rmse_high'])}) and the model itself.")
    check_details(bayes)
    todo = []
    v = m.get("verdict")
    if v == "infeasible":
        todo.append(f"Renegotiate the target: with these features no model's RMSE can be reliably below "
                    f"{number(m['noise_rmse_ci'][0])}. Lower error needs new information (more informative features, "
                    "more precise measurement of the target), not a better algorithm.")
    elif v in ("probably_infeasible", "undetermined"):
        todo.append("Treat the target as a stretch: the data cannot settle whether it is possible.")
    if any(f.severity == "warn" and "noise floor" in f.message and "Leakage" in f.message for f in bayes.findings):
        todo.append("Open the Leakage page: a model that beats the noise floor usually sees information it should not.")
    what_to_do(todo)
elif bayes_shown:
    m = bayes.metrics
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Accuracy left to gain, at most",
              "no model yet" if m["room_max"] is None else f"{100 * m['room_max']:.1f} points",
              help="The model's holdout error minus the lower end of the best possible error: what a perfect model "
                   "could still add. Near 0 means tuning will not help; only new information will")
    c2.metric("Floor reliable?", "yes" if m["lower_bound_trusted"] else "no",
              help="Nearest-neighbour floors hold only in few effective dimensions (≤ 10) and once the estimate has "
                   "levelled off as rows are added; otherwise they can overstate the floor")
    dim = m["intrinsic_dimension"]
    c2.caption(f"effective dimensions {'–' if dim is None else f'{dim:.1f}'} of {m['dimensions']} encoded")
    c3.metric("Conflicting labels", pct(m["label_conflict_rate"], 2),
              help="Share of rows that must be wrong whatever the model does: their features equal another row's "
                   "but the outcome differs")
    c4.metric("Rows in the estimate", f"{m['sample_rows']:,}",
              help=f"Training and holdout rows pooled, class shares kept, at most {m['sample_cap']:,}")
    c4.caption(f"of {m['pooled_rows']:,} labelled rows")
    findings(bayes)
    labels = report.check("data_quality.labels")
    if labels is not None and labels.status == Status.PASS and labels.metrics.get("label_error_rate") is not None:
        lm = labels.metrics
        share = lm["target_error_share_from_labels"]
        floor_l, model_err = lm["bayes_error_floor_from_labels"], m.get("model_error")
        budget = ("" if share is None else ", more than the target's whole error budget" if share > 1 else
                  f", {pct(share)} of the target's error budget")
        if model_err is not None and floor_l is not None and model_err < floor_l:
            # the model errs less than "all suspects are wrong labels" would allow: say so, not both
            st.caption(f"Wrong labels (Data quality page): up to an estimated {pct(lm['label_error_rate'])} of "
                       "training labels look suspect. They cannot all be wrong: the model errs on only "
                       f"{pct(model_err)} of holdout rows against these labels. Most suspects are cases the features "
                       "alone cannot settle (already inside the range above)"
                       + (", or the model reads a column recorded after the outcome (see Leakage)"
                          if m.get("left_out_post_outcome") else "") + ".")
        else:
            st.caption(f"Wrong labels (Data quality page): up to an estimated {pct(lm['label_error_rate'])} of "
                       "training labels may be wrong; if they all are, they alone put the error against these labels "
                       f"at {pct(floor_l)} or more{budget}. Cases ambiguous by nature look the same and are already "
                       "inside the range above.")
    with st.expander("The estimators behind the range"):
        knn = m["knn"]
        est_rows = [
            {"estimate": "1-nearest-neighbour error (leave-one-out)", "value": pct(m["error_1nn"]),
             "role": "above the true Bayes error (asymptotically at most twice it)"},
            {"estimate": "Cover–Hart floor from the 1-NN error", "value": pct(m["lower_1nn"]),
             "role": "lower bound (asymptotic: its 95% end covers sampling noise, not the bias of too few rows "
                     "or too many dimensions, hence the trust rule)"},
            {"estimate": "GHP minimum-spanning-tree floor", "value": pct(m["ghp_lower"]), "role": "lower bound (asymptotic)"},
            {"estimate": "GHP minimum-spanning-tree ceiling", "value": pct(m["ghp_upper"]), "role": "upper bound"},
            {"estimate": "Identical features, different outcome", "value": pct(m["label_conflict_rate"], 2),
             "role": "hard floor (a share of rows that must be wrong)"},
            {"estimate": "Always the most common class", "value": pct(m["prior_cap"]), "role": "ceiling"},
        ] + ([{"estimate": "The model's own holdout error", "value": pct(m["model_error"]),
               "role": "upper estimate (an actual model; only its upper confidence limit enters the range)"}]
             if m["model_error"] is not None else []) + [{"estimate": f"{k}-nearest-neighbour error (leave-one-out)", "value": pct(v["error"]),
              "role": "upper estimate (a real classifier's error)" + (" · best" if int(k) == m["best_k"] else "")}
             for k, v in knn.items() if k != "1"]
        st.dataframe(pd.DataFrame(est_rows), hide_index=True, height=36 * (len(est_rows) + 1) + 3)
        dim = m["intrinsic_dimension"]
        st.caption(
            f"Estimated on {m['sample_rows']:,} of {m['pooled_rows']:,} labelled rows (training and holdout pooled, "
            f"class shares kept), {m['dimensions']} dimensions after encoding ({m['numeric_features']} numeric "
            f"standardised, {m['categorical_features']} text one-hot). Intrinsic dimension (TwoNN) "
            f"{'not measurable' if dim is None else f'{dim:.1f}'}; the floors are trusted up to 10. The 95% range "
            f"runs from the highest trusted floor ({SOURCES.get(m['ber_lower_source'], m['ber_lower_source'])}) to "
            f"the lowest ceiling ({SOURCES.get(m['ber_upper_source'], m['ber_upper_source'])}); each end's "
            "confidence limit is split over the estimates on its side, so the range as a whole holds at 95%.")
        st.markdown("**Has the estimate levelled off?** A floor still falling as rows are added is not converged.")
        plot(learning_curve(bayes))
    check_details(bayes)
    todo = []
    v = m.get("verdict")
    if v == "infeasible":
        todo.append(f"Renegotiate the target: with these features no model can be right more than "
                    f"{pct(1 - m['ber_lower_low'])} of the time (95% confidence). Higher accuracy needs new information (more informative "
                    "features, cleaner labels), not a better algorithm.")
    elif v in ("probably_infeasible", "undetermined"):
        todo.append("Treat the target as a stretch: the data cannot settle whether it is possible. More labelled rows "
                    "and fewer, more informative features tighten the range.")
    if m["room_max"] is not None and m["room_max"] < 0.02:
        todo.append(f"Do not expect tuning to help: at most {100 * m['room_max']:.1f} points of accuracy are left "
                    "with these features. Spend effort on new information (features, label quality) instead.")
    if any(f.severity == "warn" and "floor" in f.message and "Leakage" in f.message for f in bayes.findings):
        todo.append("Open the Leakage page: a model that beats the floor usually sees information it should not.")
    what_to_do(todo)

# --- holdout reuse (another area's check, shown here for the budget) ----------------------
st.divider()
if check_header(reuse, heading="Holdout reuse budget") and not skipped_or_error(reuse):
    m = reuse.metrics
    c1, c2, c3 = st.columns(3)
    c1.metric("Uses: models fixed in advance", f"{m['budget_fixed']:,}",
              help="How many pre-chosen models this holdout can score before the 95% interval of the holdout page "
                   "is twice as wide")
    c2.metric("Uses: each result steers the next", f"{m['budget_steered']:,}",
              help="The same when each result may influence the next model or threshold and only pass/fail is shared")
    used = m.get("evaluations_including_this")
    c3.metric("Used so far (incl. this review)", f"{used:,}" if used is not None else "not recorded",
              help="Evaluations of this exact holdout file (same SHA-256) in the review history")
    findings(reuse)
    st.page_link("pages/leakage.py", label="The full budget, with the tolerance curve, is on the Leakage page",
                 icon=":material/water_drop:")
