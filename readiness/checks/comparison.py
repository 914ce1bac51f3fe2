"""Champion vs challenger: is the new model better than the one in production today, for whom,
and which decisions change?

``comparison.champion`` compares the review's model (the *challenger*) with the current
model (the *champion*, :mod:`readiness.inputs.champion`) on the same holdout rows, each at
its own decision threshold: paired accuracy (McNemar, Newcombe), paired ROC AUC (DeLong),
expected cost, calibration of both, per-group change of the error rates (who gains, who
loses), and decision churn (how many decisions change, for whom, in which direction).
When the review history holds a signed review of the champion, it is linked and what
changed since is listed (``ctx.champion_review``, :mod:`readiness.checks.comparison_history`).
Statistics: :mod:`readiness.checks.comparison_stats`; documentation: docs/checks.md.
"""

from __future__ import annotations

import numpy as np

from readiness.checks.baselines import ALPHA, MAE_MARGIN, MARGIN_POINTS
from readiness.checks.bias import outcomes, sensitive_attributes
from readiness.checks.bias_stats import (
    MISSING_GROUP,
    SMALL_GROUP,
    directed_rates,
    label_texts,
    prop,
    rate_stats,
)
from readiness.checks.calibration import brier, ece
from readiness.checks.comparison_history import what_changed
from readiness.checks.comparison_stats import (
    churn,
    delong_paired,
    mean_ci,
    mean_difference,
    paired_change,
)
from readiness.fmt import p_text
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status

VERDICTS = ("better", "no_difference", "worse", "mixed")
MIN_ROWS = 30  # rows scored by both models below which no comparison is made
GROUP_RATE_KEYS = ("error_rate", "false_adverse_rate")  # tested for "who loses" (the second with a favourable label)


def _pts(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:+.{digits}f} points"


def _interval_pts(ci: list | None) -> str:
    return "" if not ci else f"{100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}"


def _money(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _holdout_uses(ctx: ReviewContext) -> int | None:
    prior = ctx.prior_holdout_evaluations
    return None if prior is None else prior + 1


def _model_facts(ctx: ReviewContext) -> dict:
    ch = ctx.champion
    return {"kind": ch.info.kind, "name": ch.info.name, "estimator": ch.info.estimator, "format": ch.info.format,
            "sha256": ch.sha256, "hyperparameters": ch.info.hyperparameters, "features": ch.features,
            "threshold": ch.threshold, "scores_are_probabilities": bool(ch.scores_are_probabilities)}


# --- per-group changes ---------------------------------------------------------------------------


def _group_labels(ctx: ReviewContext, ok: np.ndarray) -> list[tuple[str, np.ndarray, list[str]]]:
    attrs, _ = sensitive_attributes(ctx, intersections=False)
    return [(a.name, a.test[ok], a.order) for a in attrs]


def _tested_groups(labels) -> int:
    return sum(1 for _, lab, order in labels for g in order if g != MISSING_GROUP and (lab == g).sum() >= SMALL_GROUP)


def _binary_groups(ctx, ok, y, f_new, f_old, s_new, s_old, probs: bool, alpha: float,
                   costs: tuple[np.ndarray, np.ndarray] | None) -> tuple[dict, dict, int]:
    """Per attribute and group: each model's rates (bias_stats.rate_stats), the paired changes
    of the error rate, selection rate, FPR, FNR (and the false-adverse rate with a favourable
    label), and the change of the decision measure (error rate, or cost per 1,000 decisions
    with ``costs``) that says who gains and who loses."""
    o = outcomes(ctx)
    directed = o.positive_favorable is not None
    groups: dict = {}
    by_group_churn: dict = {}
    labels = _group_labels(ctx, ok)
    tested = _tested_groups(labels)
    alpha_g = alpha / max(tested, 1)
    wrong_new, wrong_old = f_new != (y == 1), f_old != (y == 1)
    for name, lab, order in labels:
        rows, churn_rows = {}, {}
        for g in order:
            m = lab == g
            if not m.any():
                continue
            yg = y[m]
            entry: dict = {"n": int(m.sum()), "small": bool(m.sum() < SMALL_GROUP)}
            for key, f, s in (("challenger", f_new, s_new), ("champion", f_old, s_old)):
                st = rate_stats(yg, f[m], s[m] if probs else None, bootstrap=False)
                if directed:
                    st.update(directed_rates(st, o.positive_favorable))
                entry[key] = st
            entry["error_rate"] = paired_change(wrong_new[m], wrong_old[m])
            entry["selection_rate"] = paired_change(f_new[m], f_old[m])
            entry["fpr"] = paired_change(f_new[m & (y == 0)], f_old[m & (y == 0)])
            entry["fnr"] = paired_change(~f_new[m & (y == 1)], ~f_old[m & (y == 1)])
            if directed:  # the harmful error: the adverse decision when the favourable outcome happened
                fav_actual = m & ((y == 1) == o.positive_favorable)
                entry["false_adverse_rate"] = paired_change((f_new != o.positive_favorable)[fav_actual],
                                                            (f_old != o.positive_favorable)[fav_actual])
            if costs is None:
                entry["decision_change_adjusted_ci"] = paired_change(wrong_new[m], wrong_old[m], alpha=alpha_g)["ci"]
            else:
                d = 1000 * (costs[0][m] - costs[1][m])
                entry["cost_per_1000"] = mean_difference(d)
                entry["decision_change_adjusted_ci"] = mean_difference(d, alpha=alpha_g)["ci"]
            rows[g] = entry
            churn_rows[g] = churn(f_new[m], f_old[m], flagged_first=f_new[m], flagged_second=f_old[m], y=yg)
        groups[name] = rows
        by_group_churn[name] = churn_rows
    return groups, by_group_churn, tested


def _group_verdict(entry: dict, group: str) -> str:
    """``loses`` when the group's errors (error rate, or cost per decision with costs; mean
    absolute error for regression) rose beyond chance, Bonferroni over the groups compared;
    ``gains`` when they fell; ``no_difference`` otherwise. Groups under 30 rows and the
    missing-value group are shown but not judged (``not_judged``)."""
    if entry["small"] or group == MISSING_GROUP:
        return "not_judged"
    ci = entry.get("decision_change_adjusted_ci")
    if ci is not None and ci[0] > 0:
        return "loses"
    if ci is not None and ci[1] < 0:
        return "gains"
    return "no_difference"


def _simple_groups(ctx, ok, wrong_new, wrong_old, alpha, *, abs_err=None) -> tuple[dict, int]:
    """Multiclass (error rate) and regression (mean absolute error) per-group changes."""
    labels = _group_labels(ctx, ok)
    tested = _tested_groups(labels)
    alpha_g = alpha / max(tested, 1)
    groups: dict = {}
    for name, lab, order in labels:
        rows = {}
        for g in order:
            m = lab == g
            if not m.any():
                continue
            entry: dict = {"n": int(m.sum()), "small": bool(m.sum() < SMALL_GROUP)}
            if abs_err is None:
                entry["error_rate"] = paired_change(wrong_new[m], wrong_old[m])
                entry["decision_change_adjusted_ci"] = paired_change(wrong_new[m], wrong_old[m], alpha=alpha_g)["ci"]
            else:
                e_new, e_old = abs_err
                entry["mae_challenger"], entry["mae_champion"] = float(e_new[m].mean()), float(e_old[m].mean())
                diff = mean_difference(e_new[m] - e_old[m])
                entry["mae_change"] = diff
                entry["decision_change_adjusted_ci"] = mean_difference(e_new[m] - e_old[m], alpha=alpha_g)["ci"]
            rows[g] = entry
        groups[name] = rows
    return groups, tested


def _who(groups: dict, verdict: str) -> list[dict]:
    """Groups with this verdict, the largest change first: attribute, group, rows, and the
    change of the error rate (or of the mean absolute error) and of the cost per 1,000."""
    out = []
    for attr, rows in groups.items():
        for g, e in rows.items():
            if e.get("verdict") == verdict:
                out.append({"attribute": attr, "group": g, "n": e["n"],
                            "error_rate_change": (e.get("error_rate") or {}).get("change"),
                            "cost_per_1000_change": (e.get("cost_per_1000") or {}).get("mean"),
                            "mae_change": (e.get("mae_change") or {}).get("mean")})

    def size(r):
        v = next((r[k] for k in ("cost_per_1000_change", "mae_change", "error_rate_change") if r[k] is not None), 0)
        return -v if verdict == "loses" else v
    return sorted(out, key=size)


# --- the verdict ------------------------------------------------------------------------------------


def _verdict(ci: list | None, loses: list) -> str:
    worse = ci is not None and ci[1] < 0
    better = ci is not None and ci[0] > 0
    if worse:
        return "worse"
    if loses:
        return "mixed"
    return "better" if better else "no_difference"


def _status(verdict: str, ci: list | None, margin: float) -> tuple[Status, Severity]:
    if verdict == "worse":
        beyond = ci is not None and ci[1] < -margin
        return (Status.FAIL, Severity.FAIL) if beyond else (Status.WARN, Severity.WARN)
    if verdict == "mixed":
        return Status.WARN, Severity.WARN
    return Status.PASS, Severity.INFO


# --- the check -----------------------------------------------------------------------------------------


@register("comparison.champion", title="Compared with the current model", area="comparison",
          antipatterns=("pest", "bad_credit_assignment"), order=80)
def champion(ctx: ReviewContext) -> Outcome:
    """The new model against the model in production today (the champion, a model file or
    a column of its scores) on the same holdout rows, each at its own threshold. Accuracy:
    McNemar's test with Newcombe's paired interval; ROC AUC: DeLong's paired test; expected
    cost per 1,000 decisions at each threshold and its paired difference (t-interval);
    Brier score and ECE of both; per sensitive attribute and group, the change of the
    error rate (and, with a favourable label, of the false-adverse rate) with paired
    intervals, Bonferroni over the groups (who gains, who loses); decision churn: holdout
    rows whose decision differs, by direction and group. Verdict ``better``,
    ``no_difference``, ``worse`` or ``mixed`` (not worse overall, but worse for a group)."""
    if ctx.champion is None:
        raise SkipCheck("No current model was given: bring the model in production today (Setup, or "
                        "--champion / --champion-prediction-column) to compare the new model with it.")
    ch = ctx.champion
    ok = np.asarray(ctx.scored) & ch.scored
    n = int(ok.sum())
    if n < MIN_ROWS:
        raise SkipCheck(f"Only {n} holdout rows have a score from both models; a comparison needs at least {MIN_ROWS}.")
    m = champion_header(ctx, n)
    {"binary": _binary, "multiclass": _multiclass}.get(ctx.task, _regression)(ctx, ok, m, m["alpha"])
    return champion_outcome(ctx, m)


def champion_header(ctx: ReviewContext, n: int) -> dict:
    """The metrics every comparison starts with: task, rows scored by both, the level, the current model."""
    uses = _holdout_uses(ctx)
    return {"task": ctx.task, "rows": n, "alpha": ALPHA / (uses or 1), "holdout_uses": uses,
            "champion_model": _model_facts(ctx)}


def champion_outcome(ctx: ReviewContext, m: dict, *, holdout_rows: int | None = None) -> Outcome:
    """The verdict, status, findings and summary from the comparison's statistics ``m`` (the metrics
    :func:`champion` forms from the rows, or an engine from per-partition counts): each group's verdict,
    who gains and who loses, the deciding measure and its margin, the wording and the champion's review.
    ``holdout_rows``: the holdout's labelled rows (default: the context's)."""
    n = m["rows"]
    total = len(ctx.test) if holdout_rows is None else holdout_rows
    findings: list[Finding] = []
    if n < total:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{total - n:,} holdout rows lack a score from one of the models; both are compared on the "
            f"{n:,} rows scored by both."), evidence={"rows": n, "holdout_rows": total}))
    for rows in m["groups"].values():
        for g, entry in rows.items():
            entry["verdict"] = _group_verdict(entry, g)
    m["gains"], m["loses"] = _who(m["groups"], "gains"), _who(m["groups"], "loses")
    if ctx.task == "binary":
        out = _decide_binary(ctx, m, findings)
    elif ctx.task == "multiclass":
        out = _word_simple(_decide_accuracy(m), findings, "class predictions")
    else:
        margin = MAE_MARGIN * m["champion"]["mae"]
        ci = m["mae_improvement_ci"]
        m.update({"decision_measure": "mae", "decision_difference": m["mae_improvement"], "decision_difference_ci": ci,
                  "margin": margin, "margin_unit": "mean absolute error",
                  "within_margin": bool(ci is not None and ci[0] >= -margin and ci[1] <= margin)})
        out = _word_simple(m, findings, None)
    _history(ctx, m, findings)
    return out


def _decide_accuracy(m: dict) -> dict:
    ci, margin = m["accuracy_difference_ci"], MARGIN_POINTS
    m.update({"decision_measure": "accuracy", "decision_difference": m["accuracy_difference"],
              "decision_difference_ci": ci, "margin": margin, "margin_unit": "accuracy points"})
    m["within_margin"] = bool(ci is not None and ci[0] >= -margin and ci[1] <= margin)
    return m


def _decide_binary(ctx: ReviewContext, m: dict, findings: list[Finding]) -> Outcome:
    """The measure that decides: cost per 1,000 decisions when costs are set, else accuracy."""
    cfp, cfn = m["cost_fp"], m["cost_fn"]
    by_cost = (cfp, cfn) != (1.0, 1.0)
    if by_cost:
        mean, cost_ci = m["cost_difference_per_1000"], m["cost_difference_per_1000_ci"]
        saving = mean and -mean
        ci = None if cost_ci is None else [-cost_ci[1], -cost_ci[0]]
        margin = 1000 * MARGIN_POINTS * (cfp + cfn) / 2
        m.update({"decision_measure": "cost_per_1000", "decision_difference": saving, "decision_difference_ci": ci,
                  "margin": margin, "margin_unit": "cost per 1,000 decisions"})
        m["within_margin"] = bool(ci is not None and ci[0] >= -margin and ci[1] <= margin)
    else:
        _decide_accuracy(m)
    ci, margin = m["decision_difference_ci"], m["margin"]
    verdict = _verdict(ci, m["loses"])
    m["verdict"] = verdict
    status, sev = _status(verdict, ci, margin)
    return _word_binary(ctx, m, findings, status, sev, by_cost)


def paired_figures(acc: dict, both_right: int, both_wrong: int, auc: dict | None, cfp: float, cfn: float,
                   cost_diff: dict) -> dict:
    """The binary comparison's paired figures (McNemar's table and test, the AUC and cost differences) from their
    statistics; one copy for rows in memory and for an engine's counts (readiness.engines.exact_champion)."""
    out = {"accuracy_difference": acc["change"], "accuracy_difference_ci": acc["ci"], "p_value": acc["p_value"],
           "mcnemar_test": acc["test"], "mcnemar_statistic": acc["statistic"], "both_right": both_right,
           "challenger_only_right": acc["only_first"], "champion_only_right": acc["only_second"],
           "both_wrong": both_wrong}
    if auc is not None:
        out.update({"auc_difference": auc["difference"], "auc_difference_ci": auc["difference_ci"],
                    "auc_p_value": auc["p_value"]})
    out.update({"cost_fp": cfp, "cost_fn": cfn, "cost_difference_per_1000": cost_diff["mean"],
                "cost_difference_per_1000_ci": cost_diff["ci"], "cost_p_value": cost_diff["p_value"]})
    return out


def _binary(ctx: ReviewContext, ok, m: dict, alpha: float) -> None:
    ch = ctx.champion
    y = np.asarray(ctx.y_test_binary)[ok].astype(int)
    s_new = np.asarray(ctx.test_scores, dtype=float)[ok]
    s_old = np.asarray(ch.scores, dtype=float)[ok]
    t_new, t_old = float(ctx.settings.threshold), float(ch.threshold)
    f_new, f_old = s_new >= t_new, s_old >= t_old
    r_new, r_old = f_new == (y == 1), f_old == (y == 1)
    acc = paired_change(r_new, r_old, alpha=alpha)
    cfp, cfn = float(ctx.settings.cost_fp), float(ctx.settings.cost_fn)
    cost_new = np.where(f_new & (y == 0), cfp, 0.0) + np.where(~f_new & (y == 1), cfn, 0.0)
    cost_old = np.where(f_old & (y == 0), cfp, 0.0) + np.where(~f_old & (y == 1), cfn, 0.0)
    cost_diff = mean_difference(1000 * (cost_new - cost_old), alpha=alpha)
    probs = bool(ctx.scores_are_probabilities and ch.scores_are_probabilities)
    auc = delong_paired(y, s_new, s_old, alpha=alpha)

    def model_row(name, thr, right, cost, s, auc_value, auc_ci):
        cost_ci = mean_ci(1000 * cost, alpha=alpha)
        row = {"name": name, "threshold": thr, "accuracy": float(right.mean()),
               "accuracy_ci": prop(int(right.sum()), len(right))[1], "cost_per_1000": 1000 * float(cost.mean()),
               "cost_per_1000_ci": cost_ci, "roc_auc": auc_value, "roc_auc_ci": auc_ci}
        if probs:
            p = np.clip(s, 0, 1)
            row["brier"], row["ece"] = brier(p, y), ece(p, y)
        return row

    m["challenger"] = model_row(ctx.model_info.name, t_new, r_new, cost_new, s_new,
                                auc and auc["first"], auc and auc["first_ci"])
    m["challenger"]["flagged_share"] = float(f_new.mean())
    m["champion"] = model_row(ch.info.name, t_old, r_old, cost_old, s_old, auc and auc["second"],
                              auc and auc["second_ci"])
    m["champion"]["flagged_share"] = float(f_old.mean())
    m.update(paired_figures(acc, int((r_new & r_old).sum()), int((~r_new & ~r_old).sum()), auc, cfp, cfn, cost_diff))
    if probs:
        bd = mean_difference((np.clip(s_new, 0, 1) - y) ** 2 - (np.clip(s_old, 0, 1) - y) ** 2, alpha=alpha)
        m.update({"brier_difference": bd["mean"], "brier_difference_ci": bd["ci"]})
    c = churn(f_new, f_old, flagged_first=f_new, flagged_second=f_old, y=y)
    m.update({k: v for k, v in c.items() if k != "n"})
    by_cost = (cfp, cfn) != (1.0, 1.0)
    groups, by_group, tested = _binary_groups(ctx, ok, y, f_new, f_old, s_new, s_old, probs, alpha,
                                              (cost_new, cost_old) if by_cost else None)
    m["groups"], m["decision_changes_by_group"] = groups, by_group
    m["group_tests"], m["group_alpha"] = tested, alpha / max(tested, 1)


def _measure_text(m: dict, by_cost: bool) -> str:
    ci = m["decision_difference_ci"]
    if by_cost:
        d = m["decision_difference"]
        word = f"a saving of {_money(d)}" if d >= 0 else f"{_money(-d)} more"
        inner = f" (interval of the saving {ci[0]:+,.0f} to {ci[1]:+,.0f})" if ci else ""
        return (f"cost per 1,000 decisions {m['challenger']['cost_per_1000']:,.0f} against "
                f"{m['champion']['cost_per_1000']:,.0f}, {word}{inner}")
    return (f"accuracy {_pct(m['challenger']['accuracy'])} against {_pct(m['champion']['accuracy'])}, "
            f"{_pts(m['accuracy_difference'])} ({_interval_pts(m['accuracy_difference_ci'])}; McNemar {p_text(m['p_value'])})")


def _group_change_text(e: dict) -> str:
    er = e["error_rate"]
    text = f"error rate {_pct(er['second'])} → {_pct(er['first'])}, {_pts(er['change'])} ({_interval_pts(er['ci'])})"
    if e.get("cost_per_1000"):
        c = e["cost_per_1000"]
        text += f"; cost per 1,000 decisions {c['mean']:+,.0f}" + (
            f" ({c['ci'][0]:+,.0f} to {c['ci'][1]:+,.0f})" if c.get("ci") else "")
    return text


def _churn_text(m: dict, noun: str = "decisions") -> str:
    n_changes, share = m["decision_changes"], m["decision_changes_share"]
    if n_changes == 0:
        return f"no {noun} change"
    text = f"{n_changes:,} of {m['rows']:,} {noun} ({_pct(share)}) change"
    if "newly_flagged" in m:
        text += f": {m['newly_flagged']:,} newly flagged, {m['no_longer_flagged']:,} no longer flagged"
    return text


def _group_name(r: dict) -> str:
    return f"{r['attribute']} = {r['group']}"


def _word_binary(ctx, m: dict, findings: list, status: Status, sev: Severity, by_cost: bool) -> Outcome:
    conf = f"{100 * (1 - m['alpha']):.0f}%" if m["alpha"] >= 0.01 else f"{100 * (1 - m['alpha']):.1f}%"
    verdict = m["verdict"]
    measure = _measure_text(m, by_cost)
    parts = [measure]
    if by_cost:
        parts.append(_measure_text(m, False))
    if m.get("auc_difference") is not None:
        ci = m["auc_difference_ci"]
        sample = m.get("on_sample") or {}
        where = (f", on a sample of {sample['rows']:,} of the {sample['of_rows']:,} rows"
                 if sample.get("rows", 0) < sample.get("of_rows", 0) else "")
        parts.append(f"ROC AUC {m['challenger']['roc_auc']:.3f} against {m['champion']['roc_auc']:.3f}, difference "
                     f"{m['auc_difference']:+.3f} ({ci[0]:+.3f} to {ci[1]:+.3f}; DeLong {p_text(m['auc_p_value'])}{where})")
    loses, gains = m["loses"], m["gains"]
    if verdict == "better":
        summary = f"The new model is better than the current one: {measure}; {_churn_text(m)}."
    elif verdict == "worse":
        summary = f"The new model is worse than the current one: {measure}."
    elif verdict == "mixed":
        who = ", ".join(_group_name(r) for r in loses[:3])
        overall = "better overall" if (m["decision_difference_ci"] or [0])[0] > 0 else "no worse overall"
        summary = f"Mixed: the new model is {overall}, but more errors fall on {who}; {_churn_text(m)}."
    elif m["within_margin"]:
        summary = (f"As good as the current model (within ±{_margin_text(m)}): {measure}; {_churn_text(m)}.")
    else:
        summary = (f"No difference the holdout can show between the new and the current model: {measure}; "
                   f"{_churn_text(m)}.")
    msg = {"better": "The new model does better than the current one beyond chance",
           "worse": "The new model does worse than the current one beyond chance",
           "mixed": "The new model is not worse overall, but worse for some groups",
           "no_difference": "The holdout shows no difference between the two models"}[verdict]
    if verdict == "worse" and status == Status.WARN:
        msg += f", though by less than the margin of practical relevance ({_margin_text(m)})"
    if verdict == "worse" and status == Status.FAIL:
        msg += f", by more than the margin of practical relevance ({_margin_text(m)})"
    findings.insert(0, Finding(severity=sev, message=f"{msg} ({conf} intervals, same {m['rows']:,} rows): "
                               + "; ".join(parts) + ".", evidence={
                                   "verdict": verdict, "decision_difference": m["decision_difference"],
                                   "decision_difference_ci": m["decision_difference_ci"], "p_value": m["p_value"]}))
    for r in loses:
        e = m["groups"][r["attribute"]][r["group"]]
        findings.append(Finding(severity=Severity.WARN, columns=[r["attribute"]], message=(
            f"{_group_name(r)} loses with the new model ({e['n']:,} rows): " + _group_change_text(e)
            + f". The change is beyond chance after allowing for the {m['group_tests']} groups compared."),
            evidence={**r, "ci": e["error_rate"]["ci"]}))
    if gains:
        more = f"; and {len(gains) - 3} more group{'s' if len(gains) > 4 else ''}" if len(gains) > 3 else ""
        findings.append(Finding(severity=Severity.INFO, columns=sorted({r["attribute"] for r in gains}), message=(
            "The new model does better for " + "; ".join(
                f"{_group_name(r)} ({_group_change_text(m['groups'][r['attribute']][r['group']])})"
                for r in gains[:3]) + more + "."), evidence={"gains": gains}))
    harmed = [(a, g, e) for a, rows in m["groups"].items() for g, e in rows.items()
              if not e["small"] and (e.get("false_adverse_rate") or {}).get("ci")
              and e["false_adverse_rate"]["ci"][0] > 0]
    if harmed:
        findings.append(Finding(severity=Severity.INFO, columns=sorted({a for a, _, _ in harmed}), message=(
            "More people are wrongly given the adverse outcome with the new model in " + "; ".join(
                f"{a} = {g} ({_pct(e['false_adverse_rate']['second'])} → {_pct(e['false_adverse_rate']['first'])})"
                for a, g, e in harmed[:6]) + ". See the Bias page for how these rates compare across groups."),
            evidence={"groups": [[a, g] for a, g, _ in harmed]}))
    findings.append(Finding(severity=Severity.INFO, message=_churn_sentence(m), evidence={
        k: m.get(k) for k in ("decision_changes", "decision_changes_share", "newly_flagged", "no_longer_flagged",
                              "newly_flagged_positive", "no_longer_flagged_positive")}))
    if m["challenger"]["threshold"] != m["champion"]["threshold"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Each model decides at its own threshold: the new model at {m['challenger']['threshold']:g}, the current "
            f"one at {m['champion']['threshold']:g}."), evidence={"thresholds": [m["challenger"]["threshold"],
                                                                           m["champion"]["threshold"]]}))
    if m.get("brier_difference_ci") is not None:
        b, ci = m["brier_difference"], m["brier_difference_ci"]
        if ci[0] > 0 or ci[1] < 0:
            word = "more" if b < 0 else "less"
            findings.append(Finding(severity=Severity.INFO, message=(
                f"The new model's probabilities are {word} accurate overall: Brier score {m['challenger']['brier']:.4f} against "
                f"{m['champion']['brier']:.4f} (difference {b:+.4f}, interval {ci[0]:+.4f} to {ci[1]:+.4f}); calibration error (ECE) "
                f"{m['challenger']['ece']:.3f} against {m['champion']['ece']:.3f}."),
                evidence={"brier_difference": b, "brier_difference_ci": ci}))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


def _margin_text(m: dict) -> str:
    if m["decision_measure"] == "cost_per_1000":
        return f"{m['margin']:,.0f} per 1,000 decisions"
    if m["decision_measure"] == "mae":
        return f"{m['margin']:.4g} mean absolute error"
    return f"{100 * m['margin']:.1f} accuracy point"


def _churn_sentence(m: dict) -> str:
    if m["decision_changes"] == 0:
        return f"The two models take the same decision on all {m['rows']:,} holdout rows."
    text = f"Replacing the current model changes {m['decision_changes']:,} of {m['rows']:,} decisions ({_pct(m['decision_changes_share'])})"
    if "newly_flagged" in m:
        text += (f": {m['newly_flagged']:,} newly flagged ({m.get('newly_flagged_positive', 0):,} of them actually "
                 f"positive), {m['no_longer_flagged']:,} no longer flagged ({m.get('no_longer_flagged_positive', 0):,} "
                 "of them actually positive)")
    most = _most_churn(m.get("decision_changes_by_group") or {})
    if most:
        text += f". Most changes for {most[0]} = {most[1]} ({_pct(most[2])} of its decisions)"
    return text + "."


def _most_churn(by_group: dict) -> tuple[str, str, float] | None:
    best = None
    for attr, rows in by_group.items():
        for g, c in rows.items():
            if c["n"] >= SMALL_GROUP and c["decision_changes_share"] is not None:
                if best is None or c["decision_changes_share"] > best[2]:
                    best = (attr, g, c["decision_changes_share"])
    return best


def _multiclass(ctx: ReviewContext, ok, m: dict, alpha: float) -> None:
    ch = ctx.champion
    y = label_texts(ctx.y_test.to_numpy()[ok])
    p_new = label_texts(np.asarray(ctx.test_pred)[ok])
    p_old = label_texts(np.asarray(ch.pred)[ok])
    r_new, r_old = p_new == y, p_old == y
    acc = paired_change(r_new, r_old, alpha=alpha)
    m["challenger"] = {"name": ctx.model_info.name, "accuracy": acc["first"]}
    m["champion"] = {"name": ch.info.name, "accuracy": acc["second"]}
    m.update({"accuracy_difference": acc["change"], "accuracy_difference_ci": acc["ci"], "p_value": acc["p_value"],
              "mcnemar_test": acc["test"], "mcnemar_statistic": acc["statistic"],
              "challenger_only_right": acc["only_first"], "champion_only_right": acc["only_second"]})
    c = churn(p_new, p_old)
    m.update({k: v for k, v in c.items() if k != "n"})
    groups, tested = _simple_groups(ctx, ok, ~r_new, ~r_old, alpha)
    m["groups"], m["group_tests"], m["group_alpha"] = groups, tested, alpha / max(tested, 1)


def _regression(ctx: ReviewContext, ok, m: dict, alpha: float) -> None:
    ch = ctx.champion
    y = ctx.y_test.to_numpy(dtype=float)[ok]
    e_new = np.abs(np.asarray(ctx.test_scores, dtype=float)[ok] - y)
    e_old = np.abs(np.asarray(ch.scores, dtype=float)[ok] - y)
    diff = mean_difference(e_new - e_old, alpha=alpha)
    m["challenger"] = {"name": ctx.model_info.name, "mae": float(e_new.mean()), "mae_ci": mean_ci(e_new, alpha=alpha)}
    m["champion"] = {"name": ch.info.name, "mae": float(e_old.mean()), "mae_ci": mean_ci(e_old, alpha=alpha)}
    improvement = None if diff["mean"] is None else -diff["mean"]
    ci = None if diff["ci"] is None else [-diff["ci"][1], -diff["ci"][0]]
    m.update({"mae_improvement": improvement, "mae_improvement_ci": ci, "p_value": diff["p_value"]})
    groups, tested = _simple_groups(ctx, ok, None, None, alpha, abs_err=(e_new, e_old))
    m["groups"], m["group_tests"], m["group_alpha"] = groups, tested, alpha / max(tested, 1)


def _word_simple(m: dict, findings: list, noun: str | None) -> Outcome:
    verdict = _verdict(m["decision_difference_ci"], m["loses"])
    m["verdict"] = verdict
    status, sev = _status(verdict, m["decision_difference_ci"], m["margin"])
    if m["decision_measure"] == "mae":
        ci = m["decision_difference_ci"]
        measure = (f"mean absolute error {m['challenger']['mae']:.4g} against {m['champion']['mae']:.4g} "
                   f"(improvement {m['decision_difference']:+.4g}, interval {ci[0]:+.4g} to {ci[1]:+.4g})" if ci else
                   f"mean absolute error {m['challenger']['mae']:.4g} against {m['champion']['mae']:.4g}")
    else:
        measure = (f"accuracy {_pct(m['challenger']['accuracy'])} against {_pct(m['champion']['accuracy'])}, "
                   f"{_pts(m['accuracy_difference'])} ({_interval_pts(m['accuracy_difference_ci'])}; McNemar "
                   f"{p_text(m['p_value'])})")
    tail = f"; {_churn_text(m, noun)}" if noun else ""
    who = ", ".join(_group_name(r) for r in m["loses"][:3])
    summary = {"better": f"The new model is better than the current one: {measure}{tail}.",
               "worse": f"The new model is worse than the current one: {measure}.",
               "mixed": f"Mixed: the new model is not worse overall, but more errors fall on {who}{tail}.",
               "no_difference": (f"As good as the current model (within ±{_margin_text(m)}): {measure}{tail}."
                                 if m["within_margin"] else
                                 f"No difference the holdout can show between the two models: {measure}{tail}.")}[verdict]
    findings.insert(0, Finding(severity=sev, message=summary, evidence={
        "verdict": verdict, "decision_difference": m["decision_difference"],
        "decision_difference_ci": m["decision_difference_ci"]}))
    for r in m["loses"]:
        findings.append(Finding(severity=Severity.WARN, columns=[r["attribute"]], message=(
            f"{_group_name(r)} loses with the new model ({r['n']:,} rows): its errors grow beyond chance after "
            f"allowing for the {m['group_tests']} groups compared."), evidence=r))
    return Outcome(summary=summary, findings=findings, metrics=m, status=status)


# --- the champion's signed review -------------------------------------------------------------------------


def _history(ctx: ReviewContext, m: dict, findings: list[Finding]) -> None:
    rec = ctx.champion_review
    if not rec:
        m["champion_review"] = None
        return
    changes = what_changed(rec.get("review") or {}, ctx)
    link = {k: rec.get(k) for k in ("record_id", "created_at", "project", "model_name", "model_version", "decision",
                                     "conditions", "signers", "record_sha256")}
    m["champion_review"] = {**link, "changes": changes}
    when = (rec.get("created_at") or "")[:10]
    head = (f"The current model was reviewed and signed off on {when} ({rec.get('project')}, "
            f"{rec.get('model_name')} {rec.get('model_version')}; decision: {rec.get('decision') or 'pending'}).")
    said = changes.get("sentences") or []
    findings.append(Finding(severity=Severity.INFO, message=head + (
        " Since then: " + "; ".join(said) + "." if said else " Nothing recorded has changed since, except the model."),
        evidence={"record_id": rec.get("record_id")}))
