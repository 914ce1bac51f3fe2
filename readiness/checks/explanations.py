"""Explanations: why does the model decide (SHAP, LIME) and where does its performance come
from (permutation importance)? The machinery lives in :mod:`readiness.explain`."""

from __future__ import annotations

import numpy as np

from readiness import explain as X
from readiness import explain_stats as ES
from readiness.fmt import beside
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import NEEDS_MODEL, NeedsModel, Outcome, SkipCheck, register
from readiness.results import Finding, ReviewReport, Severity, Status

#: a feature with at least this share of the total mean |SHAP| is listed in ``dominant_features``
DOMINANT_SHARE = 0.25
#: one feature with more than this share of the total mean |SHAP| (or of the positive
#: permutation importance) makes the check ``warn``
SINGLE_FEATURE_WARN = 0.5
#: quantiles of the score at which the LIME check picks extra rows (besides the default row)
LIME_ROW_QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)
#: share of checked rows on which SHAP and LIME must agree for the LIME check to pass
LIME_MIN_AGREEMENT = 0.5
MIN_STABLE_ROWS = 3  # no verdict on agreement from fewer rows where LIME is stable across seeds
#: permutation importance below max(this, 1% of the largest) with an interval reaching 0: "contributes nothing"
NEGLIGIBLE_FLOOR = 0.001
NEGLIGIBLE_SHARE = 0.01

NO_MODEL = ("Only a prediction column was given, so SHAP, LIME and permutation importance cannot run: they need "
            "a model that can score changed rows. Load the model file in Setup to see why it decides.")


def _need_model(ctx: ReviewContext) -> None:
    if ctx.data_only:
        raise NeedsModel(NEEDS_MODEL)
    if ctx.model is None:
        raise SkipCheck(NO_MODEL)
    if not ctx.features:
        raise SkipCheck("The model has no feature columns to explain.")


def _post_outcome(ctx: ReviewContext) -> list[str]:
    """The columns ``leakage.feature_target`` fails as recorded after the outcome ([] if it cannot tell)."""
    from readiness.checks.leakage import post_outcome_columns

    try:
        return post_outcome_columns(ctx)
    except Exception:  # the leakage check reports its own error
        return []


def _names(cols: list[str], limit: int = 3) -> str:
    quoted = [f"'{c}'" for c in cols[:limit]]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _names_more(cols: list[str], limit: int) -> str:
    """'a', 'b' and 'c'; beyond ``limit`` names: 'a', 'b', 'c' and 61 more."""
    if len(cols) <= limit:
        return _names(cols, limit)
    return ", ".join(f"'{c}'" for c in cols[:limit]) + f" and {len(cols) - limit} more"


# --- explanations.shap ---------------------------------------------------------------------


@register("explanations.shap", title="SHAP: what drives the model's decisions", area="explanations",
          antipatterns=("act_now_reflect_never",), order=60,
          task_titles={"regression": "SHAP: what drives the model's predictions"})
def shap_check(ctx: ReviewContext) -> Outcome:
    """Global importance as the mean absolute SHAP value per original input feature on a seeded
    holdout sample (one-hot and other transformed columns summed back to their source
    column), with beeswarm/dependence points for the top features. Explainer: Tree SHAP on
    the final estimator over the pipeline's transformed data when the model is a tree model,
    exact linear SHAP for linear models, else model-agnostic permutation SHAP on a
    50-row training background. Binary models are explained for the positive label's score
    (log-odds for tree and linear models, probability for the model-agnostic explainer)."""
    _need_model(ctx)
    g = X.global_shap(ctx)
    share = g["importance_share"]
    ranked = list(g["global_importance"])
    total = sum(g["global_importance"].values())
    dominant = [f for f in ranked[:3] if share[f] >= DOMINANT_SHARE]
    findings: list[Finding] = []
    metrics = {**g, "dominant_features": dominant, "dominant_share": DOMINANT_SHARE,
               "single_feature_warn": SINGLE_FEATURE_WARN}
    if total == 0:
        return Outcome(summary="The model's output does not change with any feature on the holdout sample: it predicts "
                               "a constant.", findings=[Finding(severity=Severity.WARN, message=(
                                   "All SHAP values are zero: the model ignores every input."))], metrics=metrics)
    top = ranked[0]
    leaks = _post_outcome(ctx)
    for f in dominant:
        # strength alone is a question, not an alarm (issue 18): one dominant honest feature is common; it warns
        # when the leakage check also finds the column recorded after the outcome
        sev = Severity.WARN if share[f] > SINGLE_FEATURE_WARN and f in leaks else Severity.INFO
        msg = (f"'{f}' alone carries {_pct(share[f])} of the model's explained effect"
               + (": the model leans on one column. Make sure it is known at prediction time and not a proxy for "
                  "the outcome (see Leakage)." if sev == Severity.WARN else
                  "; confirm it is legitimate and known at prediction time (see Leakage). One strong feature is "
                  "common in honest data; it is a question, not a finding of a problem."))
        findings.append(Finding(severity=sev, message=msg, columns=[f],
                                evidence={"share": share[f], "mean_abs_shap": g["global_importance"][f]}))
    zero = [f for f in ranked if g["global_importance"][f] == 0]
    if zero:
        findings.append(Finding(severity=Severity.INFO, columns=zero, message=(
            f"{len(zero)} feature(s) never change the model's output: {_names(zero, 6)}"
            + (" …" if len(zero) > 6 else "") + ". The model does not use them."),
            evidence={"features": zero}))
    rs = g["ranking_stability"]
    if rs["resamples"]:
        order = ", ".join(f"'{f}'" for f in rs["top"])
        msg = (f"The top-{rs['top_k']} order ({order}) holds in {_pct(rs['same_order_share'])} of "
               f"{rs['resamples']} bootstrap resamples of the {rs['rows']:,} explained rows (the same three, in any "
               f"order, in {_pct(rs['same_set_share'])}).")
        if rs["unsettled"]:
            msg += " Not settled: " + "; ".join(
                f"'{u['features'][0]}' and '{u['features'][1]}' swap places in {_pct(u['flip_share'])}"
                for u in rs["unsettled"]) + " — read them as about equally important."
        findings.append(Finding(severity=Severity.INFO, columns=rs["top"], message=msg, evidence=rs))
    for note in g.get("notes", []):
        findings.append(Finding(severity=Severity.INFO, message=note))
    if g["stopped_by_budget"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Stopped after {g['rows_explained']:,} of {min(g['row_cap'], g['rows_available']):,} planned rows: the "
            f"{g['budget_s']:.0f} s time budget was spent. Importance from fewer rows is less precise."),
            evidence={"rows_explained": g["rows_explained"]}))
    trend = g["points"].get(top, {}).get("trend")
    direction = ""
    if trend is not None and abs(trend) >= 0.3:
        direction = f"; higher values {'raise' if trend > 0 else 'lower'} {X.explained_output(ctx)}"
    outputs = "predictions" if ctx.task == "regression" else "decisions"  # a regression decides nothing
    if share[top] > SINGLE_FEATURE_WARN:
        summary = (f"One feature, '{top}', drives {_pct(share[top])} of the model's {outputs}{direction}; "
                   "the model stands or falls with that one column.")
    else:
        rest = [f for f in ranked[1:3] if share[f] > 0]
        summary = (f"The model's {outputs} are driven most by '{top}' ({_pct(share[top])} of the explained "
                   f"effect{direction})" + (f", then {_names(rest)}" if rest else "") + ".")
    summary += f" {g['explainer_label'].split(' (')[0]} on {g['rows_explained']:,} holdout rows."
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# --- explanations.lime ---------------------------------------------------------------------


def lime_rows(ctx: ReviewContext) -> list[int]:
    """The default row, then the rows nearest the score quantiles in ``LIME_ROW_QUANTILES``."""
    scores = np.asarray(ctx.test_scores, dtype=float)
    if scores.ndim == 2:
        scores = np.nanmax(scores, axis=1)
    rows = [X.default_row(ctx)]
    ok = np.flatnonzero(~np.isnan(scores))
    for q in LIME_ROW_QUANTILES:
        target = np.nanquantile(scores, q)
        r = int(ok[np.argmin(np.abs(scores[ok] - target))])
        if r not in rows:
            rows.append(r)
    return rows


@register("explanations.lime", title="LIME: does a second method tell the same story?", area="explanations",
          antipatterns=("act_now_reflect_never",), order=61)
def lime_check(ctx: ReviewContext) -> Outcome:
    """LIME tabular explanation (3,000 perturbed samples, quartile-discretised numbers,
    categories as codes) of the default row — the holdout row closest to the decision
    threshold (binary), with the smallest margin between the top two classes (multiclass),
    or with the prediction closest to the median (regression) — and of the rows nearest the
    10/30/50/70/90% score quantiles. Each method's top list holds its three largest features
    among those with at least 10% of its largest weight on that row; SHAP and LIME *agree*
    on a row when the lists share all but one feature of the shorter list (at least one) and
    no shared feature pushes in opposite directions. Magnitudes are not compared (SHAP may
    be in log-odds, LIME explains the score). The local SHAP values and LIME weights of the
    default row are kept for the report."""
    _need_model(ctx)
    rows = lime_rows(ctx)
    explained = [X.explain_row(ctx, r) for r in rows]
    default = explained[0]
    agree = [e["agreement"]["agree"] for e in explained]
    rate = float(np.mean(agree))
    stab = [e["lime_stability"] for e in explained]
    stable = [s_["stable"] for s_ in stab]
    agree_stable = [a_ for a_, ok in zip(agree, stable, strict=True) if ok]
    per_row = [{"row": e["row"], "row_id": e["row_id"], "score": e["score"], "agree": e["agreement"]["agree"],
                "shap_top": e["agreement"]["shap_top"], "lime_top": e["agreement"]["lime_top"],
                "shared": e["agreement"]["shared"], "direction_conflicts": e["agreement"]["direction_conflicts"],
                "lime_fit_r2": e["lime"]["fit_r2"], "lime_stable": st_["stable"],
                "lime_top_feature_votes": st_["top_feature_votes"], "lime_seeds": st_["seeds"]}
               for e, st_ in zip(explained, stab, strict=True)]
    groups = [g for name, g in X.feature_groups(ctx).items() if name.endswith("(correlated)")]
    diagnosis = ES.which_to_believe(shap_kind=X.explainer_info(ctx)["explainer"], lime_runs=stab, correlated=groups,
                                    n_features=len(ctx.model.features))
    screen = X.screened_features(ctx)
    metrics = {
        "default_row": default,
        "features_varied": len(screen["features"]),
        "features_available": screen["available"],
        "rows_checked": len(rows),
        "rows_agreeing": int(sum(agree)),
        "agreement_rate": rate,
        "rows_lime_stable": int(sum(stable)),
        "rows_agreeing_stable": int(sum(agree_stable)),
        "agreement_rate_stable": float(np.mean(agree_stable)) if agree_stable else None,
        "lime_seeds": ES.LIME_SEEDS,
        "diagnosis": diagnosis,
        "min_agreement": LIME_MIN_AGREEMENT,
        "top_k": X.AGREEMENT_TOP_K,
        "num_samples": X.LIME_SAMPLES,
        "per_row": per_row,
        "suggested_rows": X.suggested_rows(ctx),
    }
    a = default["agreement"]
    who = (f"{ctx.roles.id_column} {default['row_id']}, holdout row {default['row']}" if default["row_id"] is not None
           else f"holdout row {default['row']}")
    findings: list[Finding] = []
    if not a["agree"]:
        findings.append(Finding(severity=Severity.INFO, columns=sorted(set(a["shap_top"]) | set(a["lime_top"])), message=(
            f"On the default row ({who}) SHAP ranks {_names(a['shap_top'])} highest, LIME {_names(a['lime_top'])}"
            + (f"; they push {_names(a['direction_conflicts'])} in opposite directions" if a["direction_conflicts"] else "")
            + "."), evidence=a))
    conflicts = sorted({f for r in per_row for f in r["direction_conflicts"]})
    if conflicts:
        findings.append(Finding(severity=Severity.INFO, columns=conflicts, message=(
            f"SHAP and LIME disagree on the direction of {_names(conflicts, 5)} on some rows: read explanations of "
            "those features with care."), evidence={"features": conflicts}))
    n_stable = int(sum(stable))
    if n_stable < len(rows):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"LIME's top features change with its random seed on {len(rows) - n_stable} of {len(rows)} rows "
            f"({ES.LIME_SEEDS} seeds each): on those rows LIME is not compared with SHAP."),
            evidence={"rows": [r["row"] for r in per_row if not r["lime_stable"]], "seeds": ES.LIME_SEEDS}))
    exact = diagnosis["shap_exact"]
    if n_stable >= MIN_STABLE_ROWS and metrics["agreement_rate_stable"] < LIME_MIN_AGREEMENT:
        evidence = {"rows_agreeing_stable": int(sum(agree_stable)), "rows_lime_stable": n_stable, "shap_exact": exact}
        if exact:  # SHAP is the model's own arithmetic here: a different LIME story is LIME's approximation (issue 18)
            findings.append(Finding(severity=Severity.INFO, message=(
                f"SHAP and LIME agree on the top features for only {sum(agree_stable)} of the {n_stable} rows where "
                "LIME is stable across seeds. SHAP is exact for this model (its contributions add up to the "
                "model's output), so the difference is LIME's approximation, not an unstable model: explain single "
                "decisions with SHAP."), evidence=evidence))
        else:
            findings.append(Finding(severity=Severity.WARN, message=(
                f"SHAP and LIME agree on the top features for only {sum(agree_stable)} of the {n_stable} rows where "
                "LIME is stable across seeds: both are estimates for this model, so the explanations of single "
                "decisions are not stable enough to tell a customer or an auditor without care."), evidence=evidence))
    if not all(agree):
        believe = {"shap": "believe SHAP", "either": "neither method is privileged"}[diagnosis["believe"]]
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Where they differ, {believe} for this model: {diagnosis['why']}. Likely causes of the difference: "
            + "; ".join(diagnosis["reasons"]) + f" (LIME's kernel width here: {diagnosis['kernel_width']:.2f})."),
            evidence=diagnosis))
    note = X.screen_note(screen, "LIME varies")
    if note:
        findings.append(Finding(severity=Severity.INFO, message=note, evidence={
            "features_varied": len(screen["features"]), "features_available": screen["available"]}))
    low_fit = [r["row"] for r in per_row if r["lime_fit_r2"] < 0.3]
    if low_fit:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"LIME's local linear fit is poor (R² < 0.3) for {len(low_fit)} of {len(rows)} rows: the model is far "
            "from linear around them and LIME's weights are rough."), evidence={"rows": low_fit}))
    if ctx.task == "regression":  # no call to be close to: the row nearest the median prediction
        lead = (f"For a typical prediction ({who}, the one nearest the median, {default['score']:.3g}),"
                if default["score"] is not None else f"For a typical prediction ({who}),")
    else:
        # never '0.5' for a score just under the threshold 0.5 (the row was predicted on the other side)
        lead = (f"For the closest call ({who}, score {beside(default['score'], ctx.settings.threshold)})," if
                default["score"] is not None and ctx.task == "binary" else
                f"For the closest call ({who}, score {default['score']:.3g}),"
                if default["score"] is not None
                else f"For the least certain call ({who}),")
    if not stable[0]:
        summary = (f"{lead} LIME's explanation changes with its random seed (its top feature held in "
                   f"{stab[0]['top_feature_votes']} of {stab[0]['seeds']} runs), so it is not compared with SHAP; "
                   f"on the {n_stable} of {len(rows)} rows where LIME is stable, they agree on {sum(agree_stable)}.")
    elif a["agree"]:
        verb = "matters" if len(a["shared"]) == 1 else "matter"
        summary = (f"{lead} LIME and SHAP agree that {_names(a['shared'])} {verb} most; they agree on "
                   f"{sum(agree)} of {len(rows)} rows checked.")
    else:
        summary = (f"{lead} LIME and SHAP point to different features; they agree on {sum(agree)} of "
                   f"{len(rows)} rows checked.")
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# --- explanations.permutation --------------------------------------------------------------


@register("explanations.permutation", title="Permutation importance: where the performance comes from",
          area="explanations", antipatterns=("bad_credit_assignment",), order=62)
def permutation_check(ctx: ReviewContext) -> Outcome:
    """Drop in the holdout score (ROC AUC for binary, the negative log loss for multiclass
    with probabilities, else accuracy; R² for regression) when a feature is shuffled,
    ``sklearn.inspection.permutation_importance`` on a stratified holdout sample of up to
    2,000 rows with 10 repeats (fewer for very wide data, at least 500 rows and 5 repeats),
    with a 95% t-interval over the repeats. Groups shuffled together: features sharing a
    name prefix, numeric features correlated at |Spearman ρ| ≥ 0.7, and the sensitive
    attributes. A feature *contributes nothing* when its interval reaches 0 and its mean
    drop is below max(0.001, 1% of the largest drop)."""
    _need_model(ctx)
    try:
        p = X.permutation_importance(ctx)
    except ValueError as exc:
        if "one class" in str(exc).lower() or "only one" in str(exc).lower():
            raise SkipCheck("The holdout has one class only, so the score that importance is measured on is "
                            "undefined.") from None
        raise
    imp = p["importances"]
    top_drop = max((v["mean"] for v in imp.values()), default=0.0)
    negligible = max(NEGLIGIBLE_FLOOR, NEGLIGIBLE_SHARE * max(top_drop, 0.0))
    nothing = [f for f, v in imp.items() if v["ci"][0] <= 0 and v["mean"] < negligible]
    positive_total = sum(max(v["mean"], 0.0) for v in imp.values())
    shares = {f: (max(v["mean"], 0.0) / positive_total if positive_total > 0 else 0.0) for f, v in imp.items()}
    ranked = list(imp)
    top = ranked[0] if ranked else None
    metrics = {**p, "negligible_below": negligible, "contributes_nothing": nothing, "importance_share": shares,
               "single_feature_warn": SINGLE_FEATURE_WARN}
    findings: list[Finding] = []
    metric = p["metric"]
    log_loss = metric == "negative log loss"  # said as the log loss rising, not a negative number dropping
    if top is not None and shares[top] > SINGLE_FEATURE_WARN:
        v = imp[top]
        # a question unless the leakage check finds the column recorded after the outcome (issue 18)
        sev = Severity.WARN if top in _post_outcome(ctx) else Severity.INFO
        findings.append(Finding(severity=sev, columns=[top], message=(
            f"{_pct(shares[top])} of the model's holdout performance comes from '{top}' (shuffling it costs "
            f"{v['mean']:.3f} {metric}, 95% interval {v['ci'][0]:.3f}–{v['ci'][1]:.3f}). If that column leaks the "
            "outcome or changes in production, the model fails with it."),
            evidence={"share": shares[top], **v}))
    if nothing:
        findings.append(Finding(severity=Severity.INFO, columns=nothing, message=(
            f"{len(nothing)} of {len(imp)} features contribute nothing measurable to the holdout {metric}: "
            f"{_names_more(nothing, 8)}. Candidates to drop for a simpler model."),
            evidence={"features": nothing, "negligible_below": negligible}))
    hurting = [f for f, v in imp.items() if v["ci"][1] < 0]
    if hurting:
        findings.append(Finding(severity=Severity.INFO, columns=hurting, message=(
            f"Shuffling {_names(hurting, 5)} improves the holdout {metric}: the model learned patterns in "
            f"{'it' if len(hurting) == 1 else 'them'} that do not hold on new data (overfitting)."),
            evidence={f: imp[f] for f in hurting}))
    sens = [c for c in ctx.roles.sensitive if c in imp]
    sens_groups = {k: v for k, v in p["groups"].items() if k.startswith("sensitive attributes")}
    sens_sig = [c for c in sens if imp[c]["ci"][0] > 0] + [k for k, v in sens_groups.items() if v["ci"][0] > 0]
    if sens_sig:
        every = {**{c: imp[c] for c in sens}, **sens_groups}
        findings.append(Finding(severity=Severity.INFO, columns=sens, message=(
            "Sensitive attributes carry part of the holdout " + metric + ": shuffling "
            + "; ".join(f"{k} costs {every[k]['mean']:.3f} ({every[k]['ci'][0]:.3f}–{every[k]['ci'][1]:.3f})"
                        for k in sens_sig)
            + ". Check on the Bias page whether using them is acceptable."),
            evidence={"sensitive": {c: imp[c] for c in sens}, "groups": sens_groups}))
    for name, g in p["groups"].items():
        members = [imp[c]["mean"] for c in g["features"]]
        if g["ci"][0] > 0 and g["mean"] > 1.5 * max(sum(max(m, 0) for m in members), 1e-12) and g["mean"] >= negligible:
            cost = (f"shuffled together they raise the log loss by {g['mean']:.3f}" if log_loss else
                    f"{g['mean']:.3f} {metric}")
            findings.append(Finding(severity=Severity.INFO, columns=g["features"], message=(
                f"Together {_names_more(g['features'], 5)} matter more ({cost}) than the sum of their single "
                "importances: they stand in for each other, so single-feature importance under-credits them."),
                evidence={"group": name, **g}))
    if p["groups_skipped"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{len(p['groups_skipped'])} feature group(s) were not measured: the time budget was spent."),
            evidence={"groups": p["groups_skipped"]}))
    note = X.screen_note(X.screened_features(ctx), "importance is measured for")
    if note:
        findings.append(Finding(severity=Severity.INFO, message=note, evidence={
            "features_shuffled": p["features_shuffled"], "features_available": p["features_available"]}))
    # one number per quantity (issue 12): a score on a sample of the holdout is labelled as such, so it is not
    # read as the full holdout's value on Holdout performance
    where = (f"the {metric} on a {p['rows']:,}-row sample of the holdout" if p["rows"] < p["rows_available"] else
             f"the holdout {metric}")
    if top is None or top_drop <= 0:
        summary = (f"No feature's shuffling lowers {where} ({p['baseline_score']:.3f}): the model's "
                   "performance does not come from any single input.")
        summary = summary[0].upper() + summary[1:]
    else:
        v = imp[top]
        if log_loss:
            where = where.replace("negative log loss", "log loss")
            summary = (f"{where[0].upper() + where[1:]} ({-p['baseline_score']:.3f}; lower is better) rises most when "
                       f"'{top}' is scrambled (+{v['mean']:.3f}, {_pct(shares[top])} of all features' effects together)")
        else:
            summary = (f"{where[0].upper() + where[1:]} ({p['baseline_score']:.3f}) drops most when '{top}' is "
                       f"scrambled (−{v['mean']:.3f}, {_pct(shares[top])} of all features' drops together)")
        verb = "contributes" if len(nothing) == 1 else "contribute"
        summary += f"; {len(nothing)} of {len(imp)} features {verb} nothing." if nothing else "."
    if note:
        summary += (f" Measured for the {p['features_shuffled']:,} of {p['features_available']:,} features most "
                    "associated with the score.")
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# --- cross-check with the leakage checks (pages and PDF) -----------------------------------


def leakage_flagged_columns(report: ReviewReport) -> dict[str, list[str]]:
    """Columns named by a warn/fail finding of any ``leakage.*`` check -> the check ids."""
    flagged: dict[str, list[str]] = {}
    for c in report.checks:
        if not c.id.startswith("leakage.") or c.status in (Status.SKIPPED, Status.ERROR):
            continue
        for f in c.findings:
            if f.severity in (Severity.WARN, Severity.FAIL):
                for col in f.columns:
                    flagged.setdefault(col, [])
                    if c.id not in flagged[col]:
                        flagged[col].append(c.id)
    return flagged


def dominant_and_leaky(report: ReviewReport) -> list[dict]:
    """Features that dominate the explanations *and* were flagged by a leakage check.

    "Dominate": listed in ``explanations.shap`` ``dominant_features``, or the top feature of
    ``explanations.permutation`` with more than half the performance. Empty when either side
    is missing. Each item: feature, SHAP share, permutation share, leakage check ids."""
    flagged = leakage_flagged_columns(report)
    shap_res, perm_res = report.check("explanations.shap"), report.check("explanations.permutation")
    out = []
    candidates: list[str] = []
    if shap_res is not None and shap_res.status not in (Status.SKIPPED, Status.ERROR):
        candidates += list(shap_res.metrics.get("dominant_features", []))
    if perm_res is not None and perm_res.status not in (Status.SKIPPED, Status.ERROR):
        shares = perm_res.metrics.get("importance_share", {})
        top = next(iter(perm_res.metrics.get("importances", {})), None)
        if top is not None and shares.get(top, 0) > SINGLE_FEATURE_WARN and top not in candidates:
            candidates.append(top)
    for f in candidates:
        if f in flagged:
            out.append({
                "feature": f,
                "shap_share": (shap_res.metrics.get("importance_share", {}).get(f) if shap_res is not None else None),
                "permutation_share": (perm_res.metrics.get("importance_share", {}).get(f) if perm_res is not None else None),
                "leakage_checks": flagged[f],
            })
    return out
