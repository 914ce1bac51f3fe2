"""Where does the model fall short? Weak segments, told apart from merely hard ones.

Statistics in :mod:`readiness.checks.segments_stats`; the wording lives here.
"""

from __future__ import annotations

import math

import numpy as np

from readiness.checks import segments_stats as S
from readiness.checks.bias_stats import label_texts
from readiness.checks.feasibility import leak_free_features, leak_note
from readiness.fmt import p_text, pct, segment_interval, segment_value
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity

MIN_ROWS = 200  # holdout rows below which no slice can be confirmed
MIN_SLICE = 30  # rows a slice needs in each half
MIN_SLICE_SHARE = 0.01  # ... and this share of the half
RELATIVE_EXCESS = 0.25  # under-delivering: loss at least 25% above the promise ...
ABSOLUTE_EXCESS = 0.02  # ... and (accuracy) at least 2 points
LARGE_EXCESS = 0.5  # fail: the gap's lower bound is at least half the promised loss ...
LARGE_POINTS = 0.05  # ... and (accuracy) at least 5 points
HARD_RELATIVE = 1.25  # hard: loss at least 25% above the overall loss ...
HARD_POINTS = 0.03  # ... and (accuracy) at least 3 points
MAX_HARD = 5
BIAS_SHARE = 0.25  # regression: a slice's bias at least a quarter of the residuals' spread


def _features(ctx: ReviewContext) -> list[str]:
    """The columns slices are cut on: the features and sensitive attributes, without the columns
    ``leakage.feature_target`` fails as recorded after the outcome (issue 12, COMPAS: "is_recid 0" is the
    outcome itself, so every model "fails" there; a slice a reviewer cannot know before deciding says nothing)."""
    leaks = set(leak_free_features(ctx)[1])
    cols = [c for c in [*ctx.features, *ctx.roles.sensitive] if c in ctx.test.columns and c not in leaks]
    return list(dict.fromkeys(cols))


def row_losses(ctx: ReviewContext, disc: np.ndarray) -> S.RowLosses:
    """Loss and promised loss per scored holdout row (the recalibration is fitted on ``disc``)."""
    scores = np.asarray(ctx.test_scores)
    scored = ctx.scored
    if ctx.task == "regression":
        out = S.regression_losses(scores[scored], ctx.y_test.to_numpy(float)[scored], disc)
        out.notes = {"promise": "an unbiased prediction (mean residual 0 in every slice)"}
        return out
    if ctx.task == "binary":
        y = ctx.y_test_binary[scored]
        s = scores[scored]
        p, notes = S.platt(s, y, disc, probabilities=ctx.scores_are_probabilities)
        pred = s >= ctx.settings.threshold
        out = S.classification_losses(pred, p, y, cost_fp=ctx.settings.cost_fp, cost_fn=ctx.settings.cost_fn,
                                      binary=True)
        out.notes = notes
        return out
    proba = scores[scored]
    pred = np.asarray(ctx.test_pred, dtype=object)[scored]
    classes = list(ctx.model.classes) if ctx.model is not None else list(ctx.classes)
    index = {c: i for i, c in enumerate(classes)}
    col = np.array([index.get(c, int(np.argmax(r))) for c, r in zip(pred, proba, strict=True)])
    conf = proba[np.arange(len(col)), col]
    # labels compared as text, as evaluation.holdout does: a model fitted on the classes '0'…'9' is right on a
    # holdout whose CSV reads them back as the numbers 0…9 (issue 18: every digits row counted wrong)
    truth = label_texts(ctx.y_test.to_numpy()[scored])
    right = (label_texts(pred) == truth).astype(int)
    p, notes = S.platt(conf, right, disc, probabilities=True)
    out = S.classification_losses(right, p, None, binary=False)
    out.notes = notes
    return out


def _describe(preds: list[S.Predicate]) -> str:
    return " and ".join(p.text for p in preds)


def _confirm_under(cand, P_all, names, conf, L: S.RowLosses, overall: float, n_all: int) -> dict:
    mask_all = np.all(P_all[:, list(cand.preds)] > 0, axis=1)
    m = mask_all & conf
    n = int(m.sum())
    if L.two_sided:
        r = L.signed[m]
        bias = float(np.mean(r))
        se = math.sqrt(float(L.variance[0]) / max(n, 1))
        z = bias / se if se > 0 else 0.0
        p = float(2 * S.stats.norm.sf(abs(z)))
        value = float(np.mean(L.loss[m]))
        expected = float(np.mean(np.abs(r - bias)))
        ci = S.mean_interval(L.loss[m])
        gap, gap_ci = value - expected, (bias - 1.96 * se, bias + 1.96 * se)
        extra = {"bias": bias}
    else:
        lo, ex = L.loss[m], L.expected[m]
        p = S.tail_p(L.q[m], L.cost[m], float(lo.sum()))
        if L.metric == "accuracy":
            value, expected = 1 - float(lo.mean()), 1 - float(ex.mean())
            ci = S.wilson_interval(n - lo.sum(), n)
        else:
            value, expected = float(lo.mean()), float(ex.mean())
            ci = S.mean_interval(lo)
        d = lo - ex
        se = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        gap = float(d.mean())  # observed loss − promised loss (positive: worse than promised)
        gap_ci = (gap - 1.96 * se, gap + 1.96 * se)
        extra = {"promised_loss": float(ex.mean())}
    return {"preds": [names[i] for i in cand.preds], "n": n, "n_holdout": int(mask_all.sum()),
            "share": float(mask_all.sum() / n_all), "value": value, "expected": expected, "ci": list(ci),
            "overall": overall, "p_value": p, "gap": gap, "gap_ci": list(gap_ci), "z_discovery": cand.z, **extra}


def _confirm_hard(cand, P_all, names, conf, L: S.RowLosses, overall_loss: float, var_all: float, overall: float,
                  n_all: int) -> dict:
    mask_all = np.all(P_all[:, list(cand.preds)] > 0, axis=1)
    m = mask_all & conf
    n = int(m.sum())
    lo = L.loss[m]
    z = (float(lo.mean()) - overall_loss) / math.sqrt(var_all / n) if var_all > 0 and n else 0.0
    p = float(S.stats.norm.sf(z))
    if L.two_sided:
        value, expected = float(lo.mean()), float(np.mean(np.abs(L.signed[m] - L.signed[m].mean())))
        ci = S.mean_interval(lo)
        under_p = float(2 * S.stats.norm.sf(abs(L.signed[m].mean()) / math.sqrt(var_all_res(L) / n)))
    elif L.metric == "accuracy":
        value, expected = 1 - float(lo.mean()), 1 - float(L.expected[m].mean())
        ci = S.wilson_interval(n - lo.sum(), n)
    else:
        value, expected = float(lo.mean()), float(L.expected[m].mean())
        ci = S.mean_interval(lo)
    if not L.two_sided:
        under_p = S.tail_p(L.q[m], L.cost[m], float(lo.sum()))
    return {"preds": [names[i] for i in cand.preds], "n": n, "n_holdout": int(mask_all.sum()),
            "share": float(mask_all.sum() / n_all), "value": value, "expected": expected, "ci": list(ci),
            "overall": overall, "p_value": p, "under_p_value": under_p, "z_discovery": cand.z,
            "loss_ratio": float(lo.mean() / overall_loss) if overall_loss > 0 else None}


def var_all_res(L: S.RowLosses) -> float:
    return float(L.variance[0]) if len(L.variance) else 0.0


def _entry(c: dict, q: float, metric: str) -> dict:
    preds = c["preds"]
    return {"definition": _describe(preds), "columns": list(dict.fromkeys(p.column for p in preds)),
            "n": c["n"], "n_holdout": c["n_holdout"], "share": c["share"], "metric": metric, "value": c["value"],
            "expected": c["expected"], "ci": c["ci"], "overall": c["overall"], "q_value": q,
            "p_value": c["p_value"], "predicates": [p.as_dict() for p in preds],
            **{k: c[k] for k in ("gap", "gap_ci", "bias", "loss_ratio", "z_discovery") if k in c}}


def find_segments(ctx: ReviewContext) -> dict:
    """The search itself: under-delivering and hard slices with their confirmation numbers."""
    frame = ctx.test.loc[ctx.scored].reset_index(drop=True)
    n = len(frame)
    disc, conf = S.split_halves(n, ctx.settings.random_state + 19)
    L = row_losses(ctx, disc)
    columns = _features(ctx)
    min_rows = max(MIN_SLICE, int(math.ceil(MIN_SLICE_SHARE * n / 2)))
    cache = S.ColumnCache(frame)
    preds = S.predicates(frame, columns, min_rows=2 * min_rows, cache=cache)
    if not preds:
        return {"n": n, "losses": L, "predicates": 0, "under": [], "hard": [], "tested_under": 0, "tested_hard": 0,
                "min_rows": min_rows, "columns": columns}
    P_all = np.column_stack([p.mask(frame, cache) for p in preds])  # 0/1 as booleans: an eighth of the memory
    col_id = {c: i for i, c in enumerate(columns)}
    pcols = np.array([col_id[p.column] for p in preds])
    Pd = P_all[disc].astype(float)
    taken: dict[int, np.ndarray] = {}  # the discovery rows of each predicate the greedy passes look at
    max_rows = int(S.MAX_SHARE * disc.sum())
    if L.two_sided:
        d_u, v_u = L.signed[disc], L.variance[disc]
        spread = math.sqrt(var_all_res(L))

        def accept_under(mask):
            return abs(float(d_u[mask].mean())) >= BIAS_SHARE * spread
    else:
        d_u, v_u = (L.loss - L.expected)[disc], L.variance[disc]
        e_d = L.expected[disc]

        def accept_under(mask):
            gap, promised = float(d_u[mask].mean()), float(e_d[mask].mean())
            floor = ABSOLUTE_EXCESS if L.metric == "accuracy" else 0.0
            return gap >= max(RELATIVE_EXCESS * promised, floor)
    cands = S.scan(Pd, d_u, v_u, pcols, min_rows=min_rows, max_rows=max_rows, two_sided=L.two_sided)
    kept = S.greedy(cands, Pd, d_u, v_u, min_rows=min_rows, two_sided=L.two_sided, accept=accept_under,
                  columns=taken)

    loss_d = L.loss[disc]
    mean_d = float(loss_d.mean())
    d_h, v_h = loss_d - mean_d, np.full(len(loss_d), float(loss_d.var()))

    def accept_hard(mask):
        m = float(loss_d[mask].mean())
        floor = HARD_POINTS if L.metric == "accuracy" else 0.0
        return m >= HARD_RELATIVE * mean_d and m - mean_d >= floor
    cands_h = S.scan(Pd, d_h, v_h, pcols, min_rows=min_rows, max_rows=max_rows, two_sided=False)
    kept_h = S.greedy(cands_h, Pd, d_h, v_h, min_rows=min_rows, two_sided=False, accept=accept_hard,
                    columns=taken)

    overall_loss = float(L.loss.mean())
    overall = 1 - overall_loss if L.metric == "accuracy" else overall_loss
    under = [_confirm_under(c, P_all, preds, conf, L, overall, n) for c in kept]
    hard = [_confirm_hard(c, P_all, preds, conf, L, overall_loss, float(L.loss.var()), overall, n) for c in kept_h]
    for group in (under, hard):
        for c, q in zip(group, S.bh([c["p_value"] for c in group]), strict=True):
            c["q_value"] = q
    return {"n": n, "losses": L, "predicates": len(preds), "under": under, "hard": hard,
            "tested_under": len(under), "tested_hard": len(hard), "min_rows": min_rows, "columns": columns,
            "candidates_under": len(cands), "candidates_hard": len(cands_h)}


def _practical(c: dict, L: S.RowLosses) -> bool:
    if L.two_sided:
        return abs(c["bias"]) >= BIAS_SHARE * math.sqrt(var_all_res(L))
    promised = c["promised_loss"]
    floor = ABSOLUTE_EXCESS if L.metric == "accuracy" else 0.0
    return c["gap"] >= max(RELATIVE_EXCESS * promised, floor)


def _large(c: dict, L: S.RowLosses) -> bool:
    if L.two_sided:
        return False
    lo = c["gap_ci"][0]
    floor = LARGE_POINTS if L.metric == "accuracy" else 0.0
    return lo is not None and lo >= max(LARGE_EXCESS * c["promised_loss"], floor) and c["share"] >= 0.01


def _sentence(e: dict, *, hard: bool) -> str:
    n = f"{e['n_holdout']:,} holdout rows ({pct(e['share'])})"
    lo, hi = e["ci"]
    ci = f"95% interval {segment_interval(e['metric'], lo, hi, value=e['value'])}" if lo is not None else ""
    if e["metric"] == "accuracy":
        body = (f"{pct(e['value'])} accurate where its scores promise {pct(e['expected'])}" if not hard else
                f"{pct(e['value'])} accurate (the holdout overall: {pct(e['overall'])}), as its scores promise "
                f"({pct(e['expected'])})")
    elif e["metric"] == "cost per decision":
        v, x, o = (segment_value(e["metric"], e[k], ci=e["ci"] if k == "value" else None)
                   for k in ("value", "expected", "overall"))
        body = (f"costs {v} (in your cost units) where its scores promise {x}" if not hard else
                f"costs {v} (in your cost units; overall {o}), as its scores promise {x}")
    else:
        mae = segment_value(e["metric"], e["value"], ci=e["ci"])  # the decimals it shares with its interval
        body = (f"predictions off by {e['bias']:+,.4g} on average (mean absolute error {mae}, "
                f"{e['expected']:,.4g} without that bias)" if not hard else
                f"mean absolute error {mae} (overall {e['overall']:,.4g}), with no systematic bias")
    return f"{e['definition']}: {body}, {n}; {ci}, {p_text(e['q_value'], 'q')}"


@register("segments.weak", title="Weak segments: where the model falls short", area="where_it_fails",
          antipatterns=("act_now_reflect_never", "grade_your_own_exam"), order=80)
def weak_segments(ctx: ReviewContext) -> Outcome:
    """Searches every feature (numeric ranges, categories, missing) and every pair of them for
    holdout slices where the model does worse than its own scores promise (after one overall
    recalibration), and apart from those, slices that are merely hard (worse than the
    holdout overall, as promised). Slices are found on a random half of the holdout and
    confirmed on the other half; the Benjamini–Hochberg procedure controls the false discovery
    rate over every slice confirmed; a slice needs at least 30 rows (and 1% of the rows) in
    each half. Under-delivering slices warn (fail when the shortfall is large); hard ones are
    information."""
    if ctx.scored.sum() < MIN_ROWS:
        raise SkipCheck(f"Too few scored holdout rows ({int(ctx.scored.sum())}) to search for weak segments: at least "
                        f"{MIN_ROWS} are needed to find slices on one half and confirm them on the other.")
    if not _features(ctx):
        raise SkipCheck("No feature columns in the holdout to slice by.")
    found = find_segments(ctx)
    L: S.RowLosses = found["losses"]
    metric = L.metric
    segs = [_entry(c, c["q_value"], metric) | {"large": _large(c, L)} for c in found["under"]
            if c["q_value"] <= S.FDR and _practical(c, L)]
    segs.sort(key=lambda e: (-int(e["large"]), e["q_value"]))
    hard = [_entry(c, c["q_value"], metric) for c in found["hard"]
            if c["q_value"] <= S.FDR_HARD and c["under_p_value"] > 0.05 and (c.get("loss_ratio") or 0) >= HARD_RELATIVE]
    hard = sorted(hard, key=lambda e: e["q_value"])[:MAX_HARD]
    findings: list[Finding] = []
    for e in segs:
        sev = Severity.FAIL if e["large"] else Severity.WARN
        findings.append(Finding(severity=sev, columns=e["columns"], message=(
            f"{_sentence(e, hard=False)}. The model does worse here than its scores say: its decisions for this group "
            "deserve less trust than elsewhere. Look at these rows, and consider more training data for them, a "
            "feature that tells them apart, or sending them to a person."), evidence={k: e[k] for k in (
                "definition", "n_holdout", "value", "expected", "ci", "q_value")}))
    for e in hard:
        findings.append(Finding(severity=Severity.INFO, columns=e["columns"], message=(
            f"{_sentence(e, hard=True)}. Hard, not broken: the outcome is harder to predict here and the scores say "
            "so. Who is in this group gets more wrong decisions; decide whether that is acceptable."),
            evidence={k: e[k] for k in ("definition", "n_holdout", "value", "expected", "q_value")}))
    n = found["n"]
    half = n - n // 2
    if segs:
        top = segs[0]
        got = {"accuracy": "{} accurate", "cost per decision": "costing {}",
               "mean absolute error": "mean absolute error {}"}[metric].format(segment_value(metric, top["value"]))
        summary = (f"{len(segs)} segment{'s' if len(segs) > 1 else ''} where the model does clearly worse than its "
                   f"scores promise; worst: {top['definition']} ({got} where "
                   f"{segment_value(metric, top['expected'])} was promised, {top['n_holdout']:,} rows).")
    else:
        summary = (f"No segment does worse than the model's scores promise (searched {found['predicates']:,} "
                   f"conditions on {len(found['columns'])} columns and their pairs, confirmed on {half:,} rows).")
    if hard:
        summary += (f" {len(hard)} hard segment{'s' if len(hard) > 1 else ''} (more errors, as promised): information, "
                    "not an alarm.")
    leaks = leak_free_features(ctx)[1]
    if leaks:
        findings.append(Finding(severity=Severity.INFO, columns=leaks, message=leak_note(
            ctx, leaks, "The segment search leaves out",
            f"a slice cut on {'it' if len(leaks) == 1 else 'them'} would be the outcome itself, where every model errs"),
            evidence={"left_out_post_outcome": leaks}))
    metrics = {
        "segments": segs, "hard_segments": hard, "metric": metric,
        "overall": (1 - float(L.loss.mean())) if metric == "accuracy" else float(L.loss.mean()),
        "rows": n, "discovery_rows": n // 2, "confirmation_rows": half,
        "columns_searched": found["columns"], "conditions": found["predicates"], "left_out_post_outcome": leaks,
        "slices_tested": {"under_delivering": found["tested_under"], "hard": found["tested_hard"]},
        "min_slice_rows": found["min_rows"], "fdr": S.FDR, "fdr_hard": S.FDR_HARD,
        "promise": L.notes,
        "thresholds": {"relative_excess": RELATIVE_EXCESS, "absolute_excess_points": ABSOLUTE_EXCESS,
                       "large_excess": LARGE_EXCESS, "hard_relative": HARD_RELATIVE},
    }
    return Outcome(summary=summary, findings=findings, metrics=metrics)
