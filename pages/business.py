"""Business threshold: the decision a threshold makes, in money."""

import math

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
from readiness.charts.business import cost_curve, decision_bar, rates_curve
from readiness.checks.business import (
    FLAG_NONE,
    POLICY_GERUND,
    POLICY_WORDS,
    analyse,
    decision_at,
    describe_decision,
    fmt_approx,
    fmt_cost,
    fmt_costs,
    fmt_threshold,
    per_thousand,
    policy_text,
)
from readiness.fmt import estimate, interval, signed
from readiness.results import Status

ctx, report = review()
st.title("Business threshold" if report.task == "binary" else "Business cost")
st.caption("Where should the model draw the line? What each threshold costs, in your own cost units, and whether "
           "the current one is the cheapest." if report.task == "binary" else
           "What the model's errors cost, in your own cost units: too high or too low, per unit of the target, and "
           "the constant correction that would cost least." if report.task == "regression" else
           "What the model's decisions cost under a cost matrix (true class by predicted class), and whether "
           "choosing by expected cost instead of the most probable class would cost less.")


@st.cache_data(show_spinner="Recomputing the costs…", max_entries=32)
def _analysis(digest: str, cost_fp: float, cost_fn: float, target_recall: float | None, _ctx):
    return analyse(_ctx, cost_fp=cost_fp, cost_fn=cost_fn, target_recall=target_recall)


@st.cache_data(show_spinner=False, max_entries=256)
def _decision(digest: str, threshold: float, cost_fp: float, cost_fn: float, _ctx):
    return decision_at(_ctx, threshold, cost_fp=cost_fp, cost_fn=cost_fn)


def _metric(col, label, value, note=None, help=None):
    col.metric(label, value, help=help)
    if note:
        col.caption(note)


def _per_1000(x):
    return f"{fmt_cost(x)} per 1,000"


def _shared_per_1000(x, ci) -> str:
    """A regression's or multiclass review's cost per 1,000 at the decimals it shares with its interval."""
    return f"{estimate(x, ci)} per 1,000"


def _shared_note(x, ci) -> str | None:
    band = interval(ci, value=x)
    return f"95% interval {band}" if band else None


def _short(point: dict) -> str:
    """A threshold for a metric tile; the simple policies by name."""
    return POLICY_WORDS[point["policy"]] if point["policy"] != "threshold" else fmt_threshold(point["threshold"])


def _slider_spec(m: dict) -> tuple[float, float, float, str]:
    """Range, step and format of the what-if slider: 0–1 for probabilities, else the score range;
    fine steps, so the reported (round) thresholds can be set exactly."""
    if m["scores_are_probabilities"]:
        return 0.0, 1.0, 0.0001, "%.4f"
    lo, hi = m["score_min"], m["score_max"]
    raw = (hi - lo) / 10000 or 1.0
    step = 10 ** math.floor(math.log10(raw))
    step = next(s * step for s in (1, 2, 5, 10) if s * step >= raw)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    digits = max(0, -math.floor(math.log10(step)))
    return float(lo), float(hi), float(step), f"%.{digits}f"


res = report.check("business.threshold")
shown = check_header(res) and not skipped_or_error(res)
if shown and report.task in ("regression", "multiclass"):
    m = res.metrics  # the cost of over/under-prediction, or of a cost matrix (no threshold to move)
    c1, c2, c3 = st.columns(3)
    if report.task == "regression":
        _metric(c1, "Cost of the predictions", _shared_per_1000(m["cost_per_1000"], m["cost_per_1000_ci"]),
                note=_shared_note(m["cost_per_1000"], m["cost_per_1000_ci"]),
                help=f"1,000 × the mean of {m['cost_over']:g} per unit too high and {m['cost_under']:g} per unit too "
                     "low, over the holdout rows (95% bootstrap)")
        lo, hi = m["best_shift_ci"]
        _metric(c2, "Cheapest constant shift", estimate(m["best_shift"], [lo, hi], sign=True),
                note=_shared_note(m["best_shift"], [lo, hi]),
                help=f"Added to every prediction, the {pct(m['best_quantile'])} quantile of the residuals (actual − "
                     "predicted) minimises this cost: cost per unit under / (over + under)")
        slo, shi = m["saving_per_1000_ci"]
        _metric(c3, "Saving on new cases", _shared_per_1000(m["saving_per_1000"], [slo, shi]),
                note=_shared_note(m["saving_per_1000"], [slo, shi]),
                help="The shift is re-chosen on each bootstrap resample and priced on the rows it left out, so the "
                     "saving is not flattered by choosing it on the holdout")
        st.caption(f"**Costs, in your units:** {m['cost_over']:g} per unit a prediction is too high, "
                   f"{m['cost_under']:g} per unit too low; {pct(m['over_predicted_share'])} of {m['n']:,} holdout "
                   f"predictions are too high. Of the cost per 1,000, {fmt_cost(m['cost_from_over_prediction_per_1000'])}"
                   f" comes from over- and {fmt_cost(m['cost_from_under_prediction_per_1000'])} from "
                   "under-prediction.")
    else:
        ci = m["cost_per_1000_ci"]
        _metric(c1, "Cost of the model's decisions", _shared_per_1000(m["cost_per_1000"], ci),
                note=_shared_note(m["cost_per_1000"], ci),
                help="1,000 × the mean cost of (true class, the model's most probable class) over the holdout rows")
        ci = m["cost_per_1000_best_rule_ci"]
        _metric(c2, "Deciding by expected cost", _shared_per_1000(m["cost_per_1000_best_rule"], ci),
                note=_shared_note(m["cost_per_1000_best_rule"], ci),
                help="Each row gets the class with the lowest expected cost under the model's probabilities; right "
                     "only if the probabilities are calibrated (Calibration page)")
        slo, shi = m["saving_per_1000_ci"]
        _metric(c3, "Saving", _shared_per_1000(m["saving_per_1000"], [slo, shi]),
                note=f"{_shared_note(m['saving_per_1000'], [slo, shi])}; {m['decisions_changed']:,} of {m['n']:,} "
                     "decisions change" if slo is not None else None,
                help="Paired bootstrap over the holdout rows; nothing is fitted on them, so the interval is honest")
    findings(res)
    from readiness.charts.business import task_cost_bars

    plot(task_cost_bars(res))
    if report.task == "multiclass":
        with st.expander("The cost matrix (rows: true class; columns: predicted class)"):
            st.dataframe(pd.DataFrame(m["cost_matrix"], index=m["labels"], columns=m["labels"]))
    check_details(res)
    if res.status == Status.WARN and report.task == "regression":
        what_to_do([f"Shift the model's predictions by {signed(m['best_shift'])}, or train it for the "
                    f"{pct(m['best_quantile'])} quantile (a quantile loss) instead of the mean; confirm both costs "
                    "with the business owner first."])
    elif res.status == Status.WARN:
        what_to_do(["Decide by expected cost instead of the most probable class, after checking that the "
                    "probabilities are calibrated (Calibration page); confirm the cost matrix with the business owner."])
    elif report.task == "regression":
        what_to_do(["Keep the predictions as they are: no constant shift saves materially. Confirm both costs "
                    "per unit with the business owner."])
    else:
        what_to_do(["Keep deciding as the model does; confirm the costs with the business owner."])
elif shown:
    m = res.metrics
    s = ctx.settings
    cur, opt = m["current"], m["optimal"]
    positive = f"{report.roles.target} = {m['positive_label']}"
    positive_md = esc(positive)  # in Markdown; charts take the plain text
    triv_key = m["cheaper_trivial"]
    triv_cost = m[f"{triv_key}_cost_per_1000"]
    sav_lo, sav_hi = m["savings_ci"]
    thr_lo, thr_hi = opt["threshold_ci"]

    c1, c2, c3, c4 = st.columns(4)
    _metric(c1, f"Cost at the current threshold {fmt_threshold(cur['threshold'])}", _per_1000(cur["cost_per_1000"]),
            note=f"flags {pct(cur['selection_rate'])} of cases",
            help=("Expected cost per 1,000 decisions in your cost units: 1,000 × (cost of a false positive × false "
                  "positives + cost of a false negative × false negatives) / holdout rows."))
    _metric(c2, "Cheapest threshold", _short(opt),
            note=(f"95% interval {fmt_approx(thr_lo)} – {fmt_approx(thr_hi)}" if thr_lo is not None else None),
            help=("The threshold with the lowest expected cost on the holdout rows. The interval shows where the cheapest "
                  "threshold lands when the holdout rows are resampled (bootstrap)."))
    _metric(c3, "Saving if you switch", (fmt_costs(m["savings_per_1000"], [sav_lo, sav_hi])[0] + " per 1,000"
                                         if sav_lo is not None else _per_1000(m["savings_per_1000"])),
            note=(f"{pct(m['savings_share'])} of today's cost; on new cases "
                  + fmt_costs(m["savings_per_1000"], [sav_lo, sav_hi])[1].replace("95% interval", "95%:")
                  if sav_lo is not None else f"{pct(m['savings_share'])} of today's cost"),
            help=("Current cost minus the cheapest cost, on the holdout. The interval is honest about choosing the "
                  "threshold from data: on each resample the cheapest threshold is picked again and judged on the "
                  "holdout rows that resample left out. If it includes 0, the holdout cannot show the saving is real."))
    _metric(c4, "Without the model", _per_1000(triv_cost), note=f"the cheaper simple policy: {POLICY_WORDS[triv_key]}",
            help=(f"Flag no one costs {fmt_cost(m['flag_none_cost_per_1000'])} per 1,000 (every {positive_md} case is "
                  f"missed); flag everyone costs {fmt_cost(m['flag_all_cost_per_1000'])} (every other case is a false "
                  "alarm). A model is worth using only if it is cheaper than the better of the two."))
    st.caption(
        f"**Costs, in your units:** a false positive (flagging a case that is not {positive_md}) costs "
        f"**{s.cost_fp:g}**; a false negative (missing a {positive_md} case) costs **{s.cost_fn:g}**. "
        f"A case is flagged when its score is at least the threshold. Measured on {m['n']:,} holdout rows, "
        f"{m['positives']:,} of them {positive_md} ({pct(m['prevalence'])}).")

    cost_slot = st.container()
    rates_slot = st.container()
    findings(res)

    # --- what-if -------------------------------------------------------------------------------
    lo, hi, step, fmt = _slider_spec(m)
    key = f"business_whatif_{ctx.digest[:12]}"

    def _snap(x: float) -> float:
        return float(min(hi, max(lo, round(round((x - lo) / step) * step + lo, 10))))

    def _to_cheapest():
        """The cheapest threshold for the costs entered in the what-if (the review's costs at first)."""
        fp, fn = st.session_state.get(f"{key}_fp", s.cost_fp), st.session_state.get(f"{key}_fn", s.cost_fn)
        best = opt
        if (fp, fn) != (float(s.cost_fp), float(s.cost_fn)) and (fp or fn):
            best = _analysis(ctx.digest, fp, fn, None, ctx)["optimal"]
        st.session_state[f"{key}_thr"] = _snap(best["threshold"]) if best["policy"] != FLAG_NONE else hi

    def _to_current():
        st.session_state[f"{key}_thr"] = _snap(cur["threshold"])

    with st.container(border=True):
        st.markdown("#### What if… another threshold, or other costs?")
        st.caption("Explore here; this does not change the review or the signed report. Costs start from the "
                   "review's settings.")
        w1, w2, w3, w4 = st.columns([3, 1, 1, 1.3])
        if f"{key}_thr" not in st.session_state:  # set once here, so the buttons can move it without a clash
            st.session_state[f"{key}_thr"] = _snap(cur["threshold"])
        thr = w1.slider("Threshold (flag when the score is at least this)", min_value=lo, max_value=hi,
                        step=step, format=fmt, key=f"{key}_thr")
        cfp = w2.number_input("Cost of a false positive", min_value=0.0, value=float(s.cost_fp), key=f"{key}_fp",
                              help=f"e.g. the cost of acting on a case that is not {positive_md}")
        cfn = w3.number_input("Cost of a false negative", min_value=0.0, value=float(s.cost_fn), key=f"{key}_fn",
                              help=f"e.g. the cost of missing a {positive_md} case")
        recall_pct = w4.number_input(f"Catch at least this % of {positive_md} cases", min_value=0.0, max_value=100.0,
                                     value=0.0, step=5.0, format="%.0f", key=f"{key}_recall",
                                     help="Optional: find the highest threshold that still catches this share "
                                          "(0 = no target)")
        b1, b2, _ = st.columns([1.2, 1.2, 2])
        b1.button("Try the cheapest threshold", on_click=_to_cheapest, key=f"{key}_cheapest",
                  icon=":material/savings:", width="stretch")
        b2.button("Back to the current threshold", on_click=_to_current, key=f"{key}_current",
                  icon=":material/undo:", width="stretch")
        if cfp == 0 and cfn == 0:
            st.warning("Both costs are 0: every threshold costs nothing. Enter at least one cost.")
            wi, wm = None, None
        else:
            costs_changed = (cfp, cfn) != (float(s.cost_fp), float(s.cost_fn))
            target_recall = recall_pct / 100 if recall_pct > 0 else None
            wm = (_analysis(ctx.digest, cfp, cfn, target_recall, ctx) if costs_changed or target_recall else m)
            wi = _decision(ctx.digest, float(thr), cfp, cfn, ctx)
            q = per_thousand(wi)
            st.markdown(f"**{esc(describe_decision(wi, positive=positive))}**")
            plot(decision_bar(q, positive=positive))
            wopt = wm["optimal"]
            v1, v2, v3, v4 = st.columns(4)
            _metric(v1, f"Cost at {fmt_threshold(thr)}", _per_1000(wi["cost_per_1000"]),
                    note=f"{wi['fp']:,} false alarms and {wi['fn']:,} missed on {m['n']:,} holdout rows",
                    help="Expected cost per 1,000 decisions at this threshold, with the costs entered here")
            cur_here = wm["current"]["cost_per_1000"]
            diff = wi["cost_per_1000"] - cur_here
            _metric(v2, f"Against the current {fmt_threshold(cur['threshold'])}",
                    "no change" if diff == 0 else f"{'+' if diff > 0 else '−'}{fmt_cost(abs(diff))}",
                    note=("per 1,000 decisions: costs more" if diff > 0 else "per 1,000 decisions: cheaper"
                          if diff < 0 else "the same cost"),
                    help="Difference in expected cost per 1,000 decisions against the review's current threshold")
            _metric(v3, "Cheapest with these costs", _short(wopt), note=_per_1000(wopt["cost_per_1000"]),
                    help="The cheapest threshold on the holdout for the costs entered here")
            _metric(v4, "Precision · recall", f"{pct(wi['precision'])} · {pct(wi['recall'])}",
                    note=f"flags {pct(wi['selection_rate'])} of cases",
                    help=(f"Precision: share of flagged cases that truly are {positive_md}. Recall: share of the "
                          f"{positive_md} cases that get flagged."))
            tr = wm.get("target_recall")
            if tr:
                st.markdown(f"To catch **{pct(tr['target'])}** of the {positive_md} cases, flag when the score is at "
                            f"least **{fmt_threshold(tr['threshold'])}**: recall {pct(tr['recall'])} (95% interval "
                            f"{pct(tr['recall_ci'][0])}–{pct(tr['recall_ci'][1])}), precision {pct(tr['precision'])}, "
                            f"{pct(tr['selection_rate'])} of cases flagged, {_per_1000(tr['cost_per_1000'])}.")
            if costs_changed:
                st.markdown(f"**Cost against threshold with these costs** ({cfp:g} per false positive, {cfn:g} per "
                            "false negative)")
                plot(cost_curve(wm, what_if=wi))

    # --- the main charts (filled after the what-if so they can mark it) ---------------------------
    same_costs = wm is m or (wm is not None and (wm["cost_fp"], wm["cost_fn"]) == (m["cost_fp"], m["cost_fn"]))
    marker = wi if (wi is not None and same_costs and wi["threshold"] not in (cur["threshold"], opt["threshold"])) \
        else None
    with cost_slot:
        st.markdown("**Expected cost per 1,000 decisions at each threshold** — lower is better; the grey lines are "
                    "what you pay without the model")
        plot(cost_curve(res, what_if=marker))
    with rates_slot:
        with st.expander("Precision, recall and the share flagged at each threshold", expanded=True):
            st.caption(f"Raising the threshold flags fewer cases: those flagged are more often truly {positive_md} "
                       "(precision rises), but more of them are missed (recall falls).")
            plot(rates_curve(res, what_if=marker))

    with st.expander("Threshold table"):
        c = m["curve"]
        st.dataframe(pd.DataFrame({
            "threshold": [round(t, 4) for t in c["threshold"]],
            "flagged": [tp + fp for tp, fp in zip(c["tp"], c["fp"], strict=True)],
            "true positives": c["tp"], "false alarms": c["fp"], "missed": c["fn"], "correctly let through": c["tn"],
            "precision %": [None if v is None else round(100 * v, 1) for v in c["precision"]],
            "recall %": [None if v is None else round(100 * v, 1) for v in c["recall"]],
            "accuracy %": [round(100 * v, 1) for v in c["accuracy"]],
            "cost per 1,000": [round(v, 1) for v in c["cost_per_1000"]],
        }), hide_index=True)
        st.caption(f"{len(c['threshold'])} thresholds at evenly spaced score quantiles ({m['distinct_scores']:,} "
                   "distinct scores); the cheapest threshold is searched over all of them.")
    with st.expander("Method"):
        b = m.get("bayes")
        st.markdown(
            f"- **Cost**: 1,000 × ({m['cost_fp']:g} × false positives + {m['cost_fn']:g} × false negatives) / "
            f"{m['n']:,} holdout rows, at every distinct score used as threshold.\n"
            f"- **Intervals**: {m['bootstrap']['used']} bootstrap resamples of the holdout rows (seed "
            f"{m['bootstrap']['seed']}). On each, the cheapest threshold (and the cheaper simple policy) is found "
            "again; its saving is measured on the rows that resample left out, so the interval includes the luck "
            "of picking a threshold from data.\n"
            "- **Verdict**: *fail* when the model at its cheapest is not shown to beat the cheaper simple policy "
            "(the interval of its advantage reaches 0); *warn* when switching to the cheapest threshold saves "
            f"money (interval above 0) and at least {100 * m['rule']['material_share']:.0f}% of today's cost; "
            "*pass* otherwise.\n"
            + (f"- **Cost-implied threshold**: for calibrated probabilities, flagging pays when p × {m['cost_fn']:g} "
               f"≥ (1 − p) × {m['cost_fp']:g}, i.e. p ≥ {m['cost_fp']:g} / ({m['cost_fp']:g} + {m['cost_fn']:g}) = "
               f"{b['threshold']:.3f}. It costs {_per_1000(b['cost_per_1000'])} on the holdout.\n" if b else
               "- The scores are not probabilities, so no threshold follows from the costs alone; it must be picked "
               "from data, as here.\n"))
    check_details(res)

    todo = []
    if res.status == Status.FAIL:
        todo.append(f"Do not use the model for this decision at these costs: at its best it is not shown to be "
                    f"cheaper than {POLICY_GERUND[triv_key]}. Check the costs with the business; if they hold, the "
                    "model must separate cases better (see Holdout performance and Feasibility).")
    elif m.get("ranks_cases") and (m["model_advantage_ci"][0] is not None and m["model_advantage_ci"][0] <= 0):
        todo.append(f"The model ranks cases, but {POLICY_GERUND[triv_key]} is about as cheap"
                    + (" at these costs: check them with the business owner; if they hold, the model does not pay "
                       "for itself here." if m.get("costs_set") else
                       ". Set the cost of a false alarm and of a miss (Setup) to judge the threshold in money."))
    elif res.status == Status.WARN:
        todo.append(f"Move the threshold from {fmt_threshold(cur['threshold'])} to about {policy_text(opt)}: "
                    f"expected saving {_per_1000(m['savings_per_1000'])} decisions (your cost units). The model would "
                    f"flag {pct(opt['selection_rate'])} of cases instead of {pct(cur['selection_rate'])}; check "
                    "that the team can handle that volume.")
    elif m["savings_per_1000"] > 0 and (sav_lo is None or sav_lo <= 0):
        todo.append(f"The holdout hints that {policy_text(opt)} would be cheaper (about "
                    f"{_per_1000(m['savings_per_1000'])}) but cannot show it. Collect more labelled cases, especially "
                    f"{positive_md} ones, before moving the threshold — or move it as a monitored trial.")
    else:
        todo.append("Keep the threshold.")
    b = m.get("bayes")
    if b is not None and b["within_ci"] is False:
        todo.append("The costs imply a different threshold than the data for probabilities: the scores are likely "
                    "miscalibrated. Pick the threshold from data, as here, or recalibrate (see Calibration).")
    todo.append(f"Confirm both costs with the business owner: the best threshold depends on their ratio "
                f"({m['cost_fn']:g} : {m['cost_fp']:g} here). Use the what-if above to see how much the choice moves.")
    todo.append("Re-check the threshold after deployment whenever the share of "
                f"{positive_md} cases or the costs change (see drift on the Data quality page).")
    what_to_do(todo)
