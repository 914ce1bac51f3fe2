"""Bias review, group by group: who the model fails, and who bears the harm.

``bias.groups`` — per sensitive attribute (and pairwise intersections) and per group:
counts, base rate, selection rate, TPR, FPR, FNR, precision, accuracy (exact
Clopper–Pearson intervals), mean score and Brier score (bootstrap intervals) when the
scores are probabilities; with a favourable label (``Roles.favorable_label``) the
directed rates (favourable rate, false-adverse rate, benefit of the doubt, false-adverse
discovery rate); disparities against a reference group (by default the most advantaged)
with Newcombe intervals, and one sentence per disparity that names the group bearing
the harm. The statistics live in ``readiness.checks.bias_stats``; the wording is here.
The seven sources of harm (``bias.categories``) are in ``readiness.checks.bias_categories``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from readiness import errors as E
from readiness.checks.bias_stats import (  # noqa: F401  (re-exported: pages, charts and tests use them)
    ALPHA,
    FAIL_GAP,
    FOUR_FIFTHS,
    HARMS,
    INTERSECTION_SEP,
    MAX_INTERSECTION_GROUPS,
    MISSING_GROUP,
    OTHER_GROUP,
    SMALL_CLASS,
    SMALL_GROUP,
    WARN_GAP,
    Attribute,
    View,
    attribute_labels,
    comparison_count,
    default_reference,
    directed_rates,
    disparities_against,
    hanley_mcneil_auc,
    intersection,
    label_text,
    label_texts,
    multiclass_group,
    newcombe_diff,
    newcombe_p,
    rank_auc,
    rate_stats,
    worst_summary,
)
from readiness.fmt import counted, interval, p_text, points
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity


def _pts(x: float) -> str:
    return f"{100 * abs(x):.1f} points"


# --- groups and predictions of a review -----------------------------------------------------------


def sensitive_attributes(ctx: ReviewContext, *, intersections: bool = True) -> tuple[list[Attribute], list[str]]:
    """The sensitive attributes of the review, then their pairwise intersections.

    Returns the attributes and the names of intersections left out (too many groups).
    Computed once per review (``ctx.memo``; five checks use them); their label arrays are
    read-only.
    """
    key = ("sensitive_attributes", tuple(ctx.roles.sensitive), id(ctx.train), id(ctx.test))
    if key not in ctx.memo:
        singles = [_frozen(attribute_labels(ctx.train[c], ctx.test[c], c)) for c in ctx.roles.sensitive]
        pairs: list[Attribute] = []
        skipped: list[str] = []
        for i in range(len(singles)):
            for j in range(i + 1, len(singles)):
                x = intersection(singles[i], singles[j])
                if x is None:
                    skipped.append(f"{singles[i].name}{INTERSECTION_SEP}{singles[j].name}")
                else:
                    pairs.append(_frozen(x))
        ctx.memo[key] = (singles, pairs, skipped)
    singles, pairs, skipped = ctx.memo[key]
    return (list(singles) + list(pairs), list(skipped)) if intersections else (list(singles), [])


def _frozen(attr: Attribute) -> Attribute:
    attr.train.flags.writeable = False
    attr.test.flags.writeable = False
    return attr


def prediction_views(ctx: ReviewContext) -> tuple[np.ndarray, list[View], np.ndarray, np.ndarray]:
    """Rows with a score (mask), the binary views, and labels / predictions as text."""
    if ctx.task not in ("binary", "multiclass"):
        raise SkipCheck("Group metrics need a classifier; this is a regression model, so the bias review "
                        "shows representation and measurement only.")
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = ~np.isnan(scores) if scores.ndim == 1 else ~np.isnan(scores).any(axis=1)
    probs = ctx.scores_are_probabilities
    y_text = label_texts(ctx.y_test)[ok]
    pred_all = np.asarray(ctx.test_pred)
    pred_text = label_texts(pred_all)[ok]
    if ctx.task == "binary":
        y = np.asarray(ctx.y_test_binary)[ok].astype(int)
        pred = (scores[ok] >= ctx.settings.threshold).astype(int)
        views = [View(None, y, pred, np.clip(scores[ok], 0, 1) if probs else None)]
    else:
        views = []
        for i, c in enumerate(ctx.classes):
            lab = label_text(c)
            s = scores[ok][:, i] if probs and scores.ndim == 2 and scores.shape[1] == len(ctx.classes) else None
            views.append(View(lab, (y_text == lab).astype(int), (pred_text == lab).astype(int), s))
    return ok, views, y_text, pred_text


@dataclass(frozen=True)
class Outcomes:
    """How the review names outcomes: the target, its positive label, and which outcome is good for the person."""

    target: str
    positive: str | None  # binary: the positive label as text
    favorable: str | None  # the favourable label as text; None when not given
    adverse: str | None  # binary: the other label; multiclass: 'not <favourable>'
    positive_favorable: bool | None  # binary: positive label == favourable label; None: unknown
    favorable_class: str | None  # multiclass: the favourable class (its one-vs-rest view is directed)

    @property
    def directed(self) -> bool:
        return self.positive_favorable is not None or self.favorable_class is not None


def outcomes(ctx: ReviewContext) -> Outcomes:
    fav = ctx.roles.favorable_label
    fav_text = None if fav is None else label_text(fav)
    if ctx.task == "binary":
        pos = label_text(ctx.positive_label)
        other = next((label_text(c) for c in ctx.classes if label_text(c) != pos), None)
        if fav_text is None:
            return Outcomes(ctx.target, pos, None, None, None, None)
        adverse = other if fav_text == pos else pos
        return Outcomes(ctx.target, pos, fav_text, adverse, fav_text == pos, None)
    if fav_text is None:
        return Outcomes(ctx.target, None, None, None, None, None)
    return Outcomes(ctx.target, None, fav_text, f"not {fav_text}", None, fav_text)


def group_stats(ctx: ReviewContext, attrs: list[Attribute], *, bootstrap: bool = True) -> tuple[dict, dict, np.ndarray]:
    """``groups[attribute][group]`` and ``overall`` for the holdout rows with a score.

    With a favourable label, each binary group (or the favourable class's one-vs-rest
    view) also carries the directed rates of ``bias_stats.directed_rates``.
    """
    ok, views, y_text, pred_text = prediction_views(ctx)
    o = outcomes(ctx)
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    correct = y_text == pred_text

    def stats_for(mask: np.ndarray) -> dict:
        if len(views) == 1:
            v = views[0]
            out = rate_stats(v.y[mask], v.pred[mask], None if v.score is None else v.score[mask],
                             n_boot=B, seed=seed, bootstrap=bootstrap)
            if o.positive_favorable is not None:
                out.update(directed_rates(out, o.positive_favorable))
            return out
        per = {v.label: rate_stats(v.y[mask], v.pred[mask], None if v.score is None else v.score[mask],
                                   n_boot=B, seed=seed, bootstrap=False) for v in views}
        if o.favorable_class in per:
            per[o.favorable_class].update(directed_rates(per[o.favorable_class], True))
        return multiclass_group(per, int(correct[mask].sum()), int(mask.sum()))

    overall = stats_for(np.ones(int(ok.sum()), dtype=bool))
    groups: dict[str, dict] = {}
    for a in attrs:
        labels = a.test[ok]
        groups[a.name] = {g: stats_for(labels == g) for g in a.order if (labels == g).any()}
    return groups, overall, ok


def reference_groups(ctx: ReviewContext, attrs: list[Attribute], groups: dict) -> tuple[dict, dict]:
    """The reference group per attribute and how it was chosen ('chosen', 'most advantaged', 'largest').

    A reference named in ``Settings.reference_groups`` must be a group of its attribute
    (:func:`validate_reference_groups` says so up front; here it raises the same error).
    """
    o = outcomes(ctx)
    chosen = dict(ctx.settings.reference_groups or {})
    reference, source = {}, {}
    for a in attrs:
        g = groups[a.name]
        if a.name in chosen:
            if chosen[a.name] not in g:
                raise E.ReadinessError(E.REFERENCE_GROUP_UNKNOWN.format(group=chosen[a.name], attribute=a.name,
                                                                       groups=list(g)))
            reference[a.name], source[a.name] = chosen[a.name], "chosen"
        else:
            reference[a.name] = default_reference(g, positive_favorable=True if o.favorable_class else o.positive_favorable,
                                                  favorable_class=o.favorable_class)
            source[a.name] = "most advantaged" if o.directed else "largest"
    return reference, source


def validate_reference_groups(ctx: ReviewContext) -> None:
    """Raise a one-line ReadinessError when a chosen reference group names no attribute or no group."""
    chosen = dict(ctx.settings.reference_groups or {})
    if not chosen:
        return
    attrs, _ = sensitive_attributes(ctx)
    by_name = {a.name: a for a in attrs}
    for attr, group in chosen.items():
        if attr not in by_name:
            raise E.ReadinessError(E.REFERENCE_GROUP_ATTRIBUTE.format(attribute=attr, attributes=list(by_name)))
        present = [g for g in by_name[attr].order if (by_name[attr].test == g).any()]
        if group not in present:
            raise E.ReadinessError(E.REFERENCE_GROUP_UNKNOWN.format(group=group, attribute=attr, groups=present))


def parse_reference_groups(values: list[str]) -> dict[str, str]:
    """``['race=Caucasian', 'sex × race=Male × Caucasian']`` -> ``{attribute: group}`` (CLI ``--reference-group``)."""
    out = {}
    for v in values or []:
        attr, sep, group = v.partition("=")
        if not sep or not attr.strip() or not group.strip():
            raise E.ReadinessError(E.REFERENCE_GROUP_FORMAT.format(value=v))
        out[attr.strip()] = group.strip()
    return out


def _alphas(attrs: list[Attribute], groups: dict, n_metrics: int) -> tuple[dict, dict]:
    """Per-comparison significance level per attribute (Bonferroni) and the comparison counts.

    Single attributes share ``ALPHA`` (half of it when there are intersections); the
    intersections share the other half. Comparisons are counted as every pair of groups
    times the metrics judged, since the reference group is chosen from the data.
    """
    singles = [a for a in attrs if not a.is_intersection]
    inters = [a for a in attrs if a.is_intersection]
    share = ALPHA / 2 if inters else ALPHA
    counts = {a.name: comparison_count(len(groups[a.name]), n_metrics) for a in attrs}
    out = {}
    for family in (singles, inters):
        m = sum(counts[a.name] for a in family)
        for a in family:
            out[a.name] = share / m if m else share
    return out, counts


def recompute_disparities(metrics: dict, attribute: str, reference: str) -> dict:
    """Disparities of ``attribute`` against another reference group, from ``bias.groups`` metrics."""
    groups = metrics.get("groups", {}).get(attribute)
    if groups is None:
        raise KeyError(f"no sensitive attribute {attribute!r} in this review")
    d = metrics.get("direction") or {}
    alpha = (metrics.get("multiple_testing") or {}).get("alpha_per_comparison", {}).get(attribute, ALPHA)
    out = disparities_against(groups, reference, positive_favorable=d.get("positive_favorable"),
                              favorable_class=d.get("favorable_class"), alpha=alpha)
    word_disparities(out, attribute, Outcomes(**{k: d.get(k) for k in Outcomes.__dataclass_fields__}),
                     comparisons=(metrics.get("multiple_testing") or {}).get("comparisons_total"))
    return out


# --- wording: one sentence per disparity, from the harmed side --------------------------------------

RATE_NAME = {"fpr": "false positive rate", "fnr": "false negative rate", "for": "false omission rate",
             "fdr": "false discovery rate", "tpr": "true positive rate", "precision": "precision",
             "selection_rate": "selection rate", "1 - selection_rate": "1 − selection rate"}


def _who(attr: str, group: str) -> str:
    return f"{attr} = {group}"


def _times(k: float | None) -> str:
    return f"{k:.1f}× as often as" if k is not None and k >= 1.05 else "more often than"


def _oriented(f: dict) -> tuple[float, list | None]:
    """The flag's difference and 95% interval, harmed group minus the other when a side is known."""
    d, ci = f["difference"], f["ci"]
    if f.get("disadvantaged_side") == "reference":
        d, ci = -d, ([-ci[1], -ci[0]] if ci else None)
    return d, ci


def _sized(f: dict) -> tuple[float, list | None]:
    """The gap as a size (≥ 0) and its 95% interval in the same direction, so that '13.2-point gap' never
    stands beside an interval of '−18.1 to −8.2' (issue 12)."""
    d, ci = _oriented(f)
    if d < 0:
        d, ci = -d, ([-ci[1], -ci[0]] if ci else None)
    return d, ci


def _gap_text(f: dict) -> str:
    d, ci = _sized(f)
    text = f"{100 * d:.1f}-point gap"
    if ci:
        text += f", 95% interval {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}"
    return text


def _cases_noun(kind: str, o: Outcomes) -> str:
    t = o.target
    return {"favorable_actual": f"people with actual {t} = {o.favorable}",
            "adverse_actual": f"people with actual {t} = {o.adverse}",
            "adverse_predicted": f"people predicted {t} = {o.adverse}",
            "positive_actual": f"actual {t} = {o.positive} cases",
            "negative_actual": f"actual {t} ≠ {o.positive} cases",
            "positive_predicted": f"rows predicted {t} = {o.positive}"}.get(kind, "cases")


def downgrade_text(f: dict, attr: str, group: str, reference: str, row: dict, o: Outcomes,
                   comparisons: int | None) -> str:
    """Why a flag is weaker than its gap suggests: few cases, chance, or a small group."""
    parts = []
    if f.get("few_cases"):
        fc = f["few_cases"]
        who = group if fc["side"] == "group" else reference
        parts.append(f"only {fc['cases']} {_cases_noun(fc['kind'], o)} in {_who(attr, who)}: the "
                     f"{100 * abs(f['difference']):.0f}-point gap cannot be judged")
    elif "not_significant" in f.get("downgrades", []):
        _, ci = _sized(f)
        if ci and ci[0] <= 0 <= ci[1]:
            parts.append(f"the 95% interval ({100 * ci[0]:+.1f} to {100 * ci[1]:+.1f} points) reaches 0, no gap, "
                         "so this may be chance")
        else:
            many = f"all {comparisons:,} comparisons" if comparisons else "the comparisons"
            parts.append(f"not beyond chance once {many} of this review are allowed for ({p_text(f['p_value'])})")
    if "small_group" in f.get("downgrades", []) and not f.get("few_cases"):
        small, n = (group, row["n"]) if row["n"] <= row["reference_n"] else (reference, row["reference_n"])
        parts.append(f"{_who(attr, small)} has only {n} holdout rows, so this cannot fail the review on its own")
    return "; ".join(parts)


def flag_sentence(f: dict, attr: str, group: str, reference: str, o: Outcomes) -> str:
    """The disparity in one sentence, the group bearing the harm first (no downgrade text)."""
    metric, rate = f["metric"], RATE_NAME.get(f["rate"], f["rate"])
    D, A = f.get("disadvantaged"), f.get("advantaged")
    if D is not None:
        dv, av = (f["group_value"], f["reference_value"]) if D == group else (f["reference_value"], f["group_value"])
        fav, adv = f"{o.target} = {o.favorable}", f"{o.target} = {o.adverse}"
        wd, wa = _who(attr, D), _who(attr, A)
        if metric == "favorable_rate":
            if o.positive_favorable is False:
                k = (1 - dv) / (1 - av) if av < 1 else None
                return (f"people with {wd} are predicted the adverse outcome ({adv}) {_times(k)} people with {wa}: "
                        f"{_pct(1 - dv)} vs {_pct(1 - av)}; their rate of the favourable outcome ({fav}) is "
                        f"{f['ratio']:.2f} of theirs, below the four-fifths rule")
            return (f"people with {wd} are predicted the favourable outcome ({fav}) at {f['ratio']:.2f} the rate of "
                    f"people with {wa}: {_pct(dv)} vs {_pct(av)}, below the four-fifths rule")
        gap = _gap_text(f)
        if metric == "false_adverse_rate":
            k = dv / av if av > 0 else None
            return (f"of people whose actual outcome was favourable ({fav}), those with {wd} are wrongly predicted "
                    f"the adverse outcome ({adv}) {_times(k)} those with {wa}: {_pct(dv)} vs {_pct(av)} ({rate}; {gap})")
        if metric == "false_favorable_rate":
            return (f"of people whose actual outcome was adverse ({adv}), those with {wd} are given the favourable "
                    f"prediction less often than those with {wa}: {_pct(dv)} vs {_pct(av)} ({rate}; {gap})")
        return (f"of people predicted {adv}, more of those with {wd} actually had the favourable outcome than of "
                f"those with {wa}: {_pct(dv)} vs {_pct(av)} ({rate}; {gap})")
    pos = f"{o.target} = {o.positive}" if o.positive is not None else "positive"
    wg, wr = _who(attr, group), _who(attr, reference)
    gv, rv, gap = _pct(f["group_value"]), _pct(f["reference_value"]), _gap_text(f)
    return {
        "selection_rate": f"{wg} are predicted {pos} for {gv} vs {rv} of {wr} ({gap})",
        "tpr": f"of actual {pos} cases, {wg} are predicted {pos} for {gv} vs {rv} of {wr} (true positive rate; {gap})",
        "fpr": f"of cases that are not {pos}, {wg} are wrongly predicted {pos} for {gv} vs {rv} of {wr} "
               f"(false positive rate; {gap})",
        "precision": f"of rows predicted {pos}, {gv} of {wg} vs {rv} of {wr} are actually {pos} (precision; {gap})",
    }[metric]


def word_disparities(disp: dict, attr: str, o: Outcomes, *, comparisons: int | None) -> dict:
    """Add ``message`` (sentence plus downgrade) to every flag of one attribute's disparities."""
    ref = disp["reference"]
    for g, row in disp["groups"].items():
        for cls, r in (row.get("by_class") or {None: row}).items():
            oc = o if cls is None or cls == o.favorable_class else dataclasses.replace(o, positive=cls)
            for f in r["flags"]:
                text = flag_sentence(f, attr, g, ref, oc)
                down = downgrade_text(f, attr, g, ref, r, oc, comparisons)
                lead = f"Class '{cls}' vs the rest: " if cls is not None else ""
                f["message"] = lead + text[0].upper() + text[1:] + (f" ({down})" if down else "")
    return disp


def selection_headline(attr: str, groups: dict, o: Outcomes) -> dict | None:
    """Who gets the adverse prediction most often, against who gets it least: one sentence, harmed side first.

    Between the groups with the lowest and the highest favourable rate (among groups of
    at least ``SMALL_GROUP`` rows when there are two; '(missing)' and '(other)' left
    out), whether or not the gap is flagged, so a reader always sees which way selection
    leans. Without a direction: the highest and lowest selection rates, no side named.
    """
    from readiness.checks.bias_stats import rate_counts

    if o.favorable_class is not None:
        groups = {g: {**m["per_class"][o.favorable_class], "small": m["small"]} for g, m in groups.items()
                  if o.favorable_class in m.get("per_class", {})}
    elif any("per_class" in m for m in groups.values()):
        return None
    cands = [g for g in groups if g not in (MISSING_GROUP, OTHER_GROUP)]
    big = [g for g in cands if not groups[g]["small"]]
    cands = big if len(big) >= 2 else cands
    if len(cands) < 2:
        return None
    pf = True if o.favorable_class is not None else o.positive_favorable

    def rate(g):
        x, n, _, _ = rate_counts(groups[g], "favorable_rate" if pf is not None else "selection_rate", pf)
        return x / n if n else 0.0

    lo, hi = min(cands, key=rate), max(cands, key=rate)
    rl, rh = rate(lo), rate(hi)
    if rl == rh:
        return None
    if pf is None:
        return {"highest": hi, "lowest": lo, "selection_rate": {hi: rh, lo: rl}, "disadvantaged": None,
                "message": (f"People with {attr} = {hi} are predicted {o.target} = {o.positive} for {_pct(rh)} against "
                            f"{_pct(rl)} of {attr} = {lo}; no favourable label was given, so neither is named as "
                            "disadvantaged.")}
    ratio = rl / rh if rh else None
    rule = (f"favourable-outcome ratio {ratio:.2f}, {'below' if ratio < FOUR_FIFTHS else 'within'} the four-fifths "
            "rule" if ratio is not None else "")
    fav = f"{o.target} = {o.favorable}"
    if pf:
        text = (f"People with {attr} = {lo} are predicted the favourable outcome ({fav}) less often than people with "
                f"{attr} = {hi}: {_pct(rl)} vs {_pct(rh)} ({rule}).")
    else:
        k = (1 - rl) / (1 - rh) if rh < 1 else None
        text = (f"People with {attr} = {lo} are predicted the adverse outcome ({o.target} = {o.adverse}) {_times(k)} "
                f"people with {attr} = {hi}: {_pct(1 - rl)} vs {_pct(1 - rh)} ({rule}).")
    return {"disadvantaged": lo, "advantaged": hi, "favorable_rate": {lo: rl, hi: rh}, "ratio": ratio,
            "message": text}


# --- bias.groups ---------------------------------------------------------------------------------------


def _require_sensitive(ctx: ReviewContext) -> None:
    if not ctx.roles.sensitive:
        raise SkipCheck("No sensitive attribute was named in Setup, so no group can be compared. Name columns such as "
                        "sex, age band or region as sensitive to review bias.")


NO_DIRECTION = ("No favourable label was given, so disparities are reported without a direction: no group is named "
                "as disadvantaged and the four-fifths rule is not applied. Say which outcome of '{target}' is good "
                "for the person (Setup, --favorable-label, or Roles.favorable_label).")
_SEV = {"info": Severity.INFO, "warn": Severity.WARN, "fail": Severity.FAIL}
_FLAG_ORDER = {"false_adverse_rate": 0, "favorable_rate": 1, "false_favorable_rate": 2,
               "false_adverse_discovery_rate": 3, "tpr": 0, "fpr": 1, "precision": 2, "selection_rate": 3}


def _flag_key(f: dict):
    return (-_SEV_RANK_WORD[f["severity"]], _FLAG_ORDER.get(f["metric"], 9))


_SEV_RANK_WORD = {"info": 0, "warn": 1, "fail": 2}


@register("bias.groups", title="Bias: metrics by group", area="bias", antipatterns=(), order=40)
def groups_check(ctx: ReviewContext) -> Outcome:
    """Per sensitive attribute and pairwise intersection, per group: rows, base rate, selection
    rate, TPR, FPR, FNR, precision, accuracy (exact 95% intervals) and, when scores are
    probabilities, mean score and Brier score (bootstrap intervals); with a favourable label,
    the favourable rate, false-adverse rate, benefit of the doubt and false-adverse discovery
    rate. Disparities against a reference group (the most advantaged by default): differences
    with Newcombe 95% intervals, the four-fifths rule on the favourable outcome, and for every
    flag the group that bears the harm. "Beyond chance" allows for every comparison made
    (Bonferroni). Multiclass models are compared one class against the rest. Regression models:
    per group MAE, mean error (prediction − actual), mean prediction and mean actual with t
    intervals, and Welch disparities of MAE and mean error (``readiness.checks.bias_regression``)."""
    _require_sensitive(ctx)
    attrs, skipped = sensitive_attributes(ctx)
    if ctx.task == "regression":  # who bears the larger error, who is over- or under-estimated
        from readiness.checks.bias_regression import regression_groups

        validate_reference_groups(ctx)
        summary, findings, metrics = regression_groups(ctx, attrs, skipped, dict(ctx.settings.reference_groups or {}))
        return Outcome(summary=summary, findings=findings, metrics=metrics)
    groups, overall, ok = group_stats(ctx, attrs)
    return groups_outcome(ctx, attrs, skipped, groups, overall, scored=int(ok.sum()), unscored=int((~ok).sum()))


def groups_outcome(ctx: ReviewContext, attrs: list[Attribute], skipped: list[str], groups: dict, overall: dict, *,
                   scored: int, unscored: int) -> Outcome:
    """The verdict of ``bias.groups`` (classifiers) from the per-group statistics of :func:`group_stats`
    (or the same statistics from merged partition counts, ``readiness.engines.exact_bias``): references,
    disparities, findings, metrics and summary. ``scored`` / ``unscored``: holdout rows with and without a score."""
    o = outcomes(ctx)
    reference, ref_source = reference_groups(ctx, attrs, groups)
    n_metrics = 4 * (len(ctx.classes) if ctx.task == "multiclass" else 1)
    alphas, counts = _alphas(attrs, groups, n_metrics)
    total = sum(counts.values())
    disparities, worst, selection = {}, {}, {}
    findings: list[Finding] = []
    if unscored:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{unscored} holdout rows have no score and are left out of the group metrics."),
            evidence={"rows_without_score": unscored}))
    if not o.directed:
        findings.append(Finding(severity=Severity.INFO, message=NO_DIRECTION.format(target=ctx.target),
                                evidence={"direction": None}))
    for a in attrs:
        g = groups[a.name]
        ref = reference[a.name]
        if ref is None or len(g) < 2:
            disparities[a.name] = {"reference": ref, "directed": o.directed, "alpha": alphas[a.name], "groups": {}}
            worst[a.name] = {}
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"'{a.name}' has a single group in the holdout; there is nothing to compare."),
                evidence={"groups": list(g)}))
            continue
        d = disparities_against(g, ref, positive_favorable=o.positive_favorable, favorable_class=o.favorable_class,
                                alpha=alphas[a.name])
        word_disparities(d, a.name, o, comparisons=total)
        disparities[a.name] = d
        worst[a.name] = worst_summary(d)
        for grp, row in d["groups"].items():
            if not row["flags"] or (a.is_intersection and row["severity"] == "info"):
                continue  # intersections: only what needs review (their notes would drown the page)
            # the finding states every gap that needs review (notes only when nothing does); all flags stay in metrics
            floor = min(_SEV_RANK_WORD[row["severity"]], _SEV_RANK_WORD["warn"])
            flags = sorted((f for f in row["flags"] if _SEV_RANK_WORD[f["severity"]] >= floor), key=_flag_key)
            findings.append(Finding(severity=_SEV[row["severity"]], columns=a.columns,
                                    message=" ".join(f["message"].rstrip(".") + "." for f in flags),
                                    evidence={"attribute": a.name, "group": grp, "reference": ref, "n": row["n"],
                                              "reference_n": row["reference_n"], "flags": flags,
                                              "class": row.get("class"),
                                              "disadvantaged": sorted({f["disadvantaged"] for f in flags
                                                                       if f.get("disadvantaged")})}))
        head = selection_headline(a.name, g, o) if not a.is_intersection else None
        if head is not None:
            selection[a.name] = head
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=head["message"],
                                    evidence={"attribute": a.name, "selection": head}))
        smalls = {k: v["n"] for k, v in g.items() if v["small"]}
        if smalls:
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"{a.name}: {counted(len(smalls), 'group')} {'has' if len(smalls) == 1 else 'have'} fewer than {SMALL_GROUP} holdout rows "
                f"({', '.join(f'{k}: {v}' for k, v in list(smalls.items())[:6])}). Their numbers are shown with "
                "wide intervals and cannot fail the review on their own."), evidence={"small_groups": smalls}))
        if MISSING_GROUP in g and not a.is_intersection:
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"'{a.name}' is missing for {g[MISSING_GROUP]['n']} holdout rows; they form their own group "
                f"'{MISSING_GROUP}'."), evidence={"missing_rows": g[MISSING_GROUP]["n"]}))
    if skipped:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Intersections left out because they would have more than {MAX_INTERSECTION_GROUPS} groups: "
            f"{', '.join(skipped)}."), evidence={"intersections_skipped": skipped}))
    metrics = {
        "task": ctx.task,
        "positive_label": ctx.positive_label if ctx.task == "binary" else None,
        "favorable_label": ctx.roles.favorable_label,
        "direction": dataclasses.asdict(o),
        "classes": [label_text(c) for c in ctx.classes],
        "threshold": ctx.settings.threshold if ctx.task == "binary" else None,
        "scores_are_probabilities": bool(ctx.scores_are_probabilities),
        "n": scored,
        "rows_without_score": unscored,
        "attributes": [a.name for a in attrs if not a.is_intersection],
        "intersections": [a.name for a in attrs if a.is_intersection],
        "intersections_skipped": skipped,
        "attribute_notes": {a.name: a.notes for a in attrs if a.notes},
        "thresholds": {"small_group": SMALL_GROUP, "small_class": SMALL_CLASS, "warn_gap": WARN_GAP,
                       "fail_gap": FAIL_GAP, "four_fifths": FOUR_FIFTHS, "alpha": ALPHA},
        "multiple_testing": {"method": "bonferroni", "family_alpha": ALPHA, "comparisons": counts,
                             "comparisons_total": total, "alpha_per_comparison": alphas},
        "overall": overall,
        "groups": groups,
        "reference": reference,
        "reference_source": ref_source,
        "disparities": disparities,
        "worst": worst,
        "selection": selection,
    }
    summary = _groups_summary(findings, attrs, worst, o, reference, ref_source)
    lead, largest = _all_classes_lead(disparities)
    summary = lead + summary[0].lower() + summary[1:] if lead else summary
    if largest:
        metrics["all_classes_largest"] = largest
    return Outcome(summary=summary, findings=findings, metrics=metrics)


def _all_classes_lead(disparities: dict) -> tuple[str, dict]:
    """Multiclass: the all-class view first — the largest accuracy gap and the largest gap in one class's
    recall between a group and its reference (groups of 30+ rows), with the comparison-adjusted interval;
    (the sentence, the two gaps for ``metrics["all_classes_largest"]``)."""
    acc = rec = None
    for attr, d in disparities.items():
        for g, r in d["groups"].items():
            ac = r.get("all_classes")
            if not ac or r.get("small") or ac.get("accuracy_difference") is None:
                continue
            who = (attr, g, d["reference"])
            if acc is None or abs(ac["accuracy_difference"]) > abs(acc[1]["accuracy_difference"]):
                acc = (who, ac)
            c = ac.get("worst_class")
            if c is not None:
                x = ac["recall_difference_by_class"][c]
                if rec is None or (x["beyond_chance"], abs(x["recall_difference"])) > (
                        rec[2]["beyond_chance"], abs(rec[2]["recall_difference"])):
                    rec = (who, c, x)
    if acc is None:
        return "", {}

    def said(d, ci, beyond, who):
        attr, g, ref = who
        band = interval([100 * ci[0], 100 * ci[1]] if None not in ci else None, lambda v: f"{v:+.1f}".replace("-", "−"))
        return (f"{points(d)} for {attr} = {g} against {ref} ("
                + (f"interval adjusted for the comparisons {band} points; " if band else "")
                + f"{'beyond chance' if beyond else 'within chance'})")

    (who, ac) = acc
    text = "All classes: the largest accuracy gap is " + said(ac["accuracy_difference"], ac["accuracy_difference_ci"],
                                                              ac["accuracy_beyond_chance"], who)
    largest = {"accuracy": {"difference": ac["accuracy_difference"], "difference_ci": ac["accuracy_difference_ci"],
                            "beyond_chance": ac["accuracy_beyond_chance"], "attribute": who[0], "group": who[1],
                            "reference": who[2], "who": f"{who[0]} = {who[1]} against {who[2]}"}}
    if rec is not None:
        who, c, x = rec
        text += f"; the largest gap in one class's recall is class '{c}', " + said(
            x["recall_difference"], x["recall_difference_ci"], x["beyond_chance"], who)
        largest["recall"] = {"class": c, "difference": x["recall_difference"], "difference_ci": x["recall_difference_ci"],
                             "beyond_chance": x["beyond_chance"], "attribute": who[0], "group": who[1],
                             "reference": who[2], "who": f"class '{c}', {who[0]} = {who[1]} against {who[2]}"}
    return text + ". One class against the rest: ", largest


def _groups_summary(findings: list[Finding], attrs: list[Attribute], worst: dict, o: Outcomes, reference: dict,
                    ref_source: dict) -> str:
    bad = [f for f in findings if f.severity in (Severity.FAIL, Severity.WARN) and "flags" in f.evidence]
    names = ", ".join(a.name for a in attrs if not a.is_intersection)
    undirected = "" if o.directed else " No favourable label was given, so no group is named as disadvantaged."
    if not bad:
        eod = [w.get("max_equalized_odds_difference") for w in worst.values() if w]
        eod = [x for x in eod if x is not None]
        largest = f" (largest error-rate gap {_pts(max(eod))})" if eod else ""
        combos = " and their combinations" if len(attrs) > len(names.split(", ")) else ""
        rule = " and the favourable outcome passes the four-fifths rule" if o.directed else ""
        return (f"Across {names}{combos}, no group's selection or error rates differ from the reference group's by "
                f"{100 * WARN_GAP:.0f} points or more beyond chance{rule}{largest}.{undirected}")
    n_fail = sum(f.severity == Severity.FAIL for f in bad)
    n_warn = len(bad) - n_fail

    def rank(f):
        top = f.evidence["flags"][0]
        return (f.severity != Severity.FAIL, INTERSECTION_SEP in f.evidence["attribute"],
                top["metric"] in ("favorable_rate", "selection_rate"), -abs(top.get("difference") or 0))

    first = sorted(bad, key=rank)[0]
    top = first.evidence["flags"][0]
    example = top["message"][0].lower() + top["message"][1:]
    harmed = sorted({x["disadvantaged"] for f in bad for x in f.evidence["flags"]
                     if x.get("disadvantaged") and x["severity"] in ("warn", "fail")})
    who = f" Disadvantaged: {', '.join(harmed[:4])}{' and others' if len(harmed) > 4 else ''}." if harmed else ""
    if n_fail:
        more = f"; {n_warn} more need review" if n_warn else ""
        return f"{counted(n_fail, 'group gap')} fail{'s' if n_fail == 1 else ''} the review{more}. Worst: {example}.{who}{undirected}"
    return (f"{counted(n_warn, 'group gap')} need{'s' if n_warn == 1 else ''} review, none large and certain enough to fail. For example, "
            f"{example}.{who}{undirected}")


# --- reviewer answers -------------------------------------------------------------------------------------


def with_reviewer_answers(ctx: ReviewContext, answers: dict[str, str]) -> ReviewContext:
    """A copy of ``ctx`` with new reviewer answers, keeping the computed predictions.

    ``dataclasses.replace`` builds a fresh instance (cached properties are not copied);
    predictions do not depend on the answers, so they are carried over, while the digest
    (which covers the settings) is recomputed.
    """
    clean = {str(k): str(v) for k, v in (answers or {}).items() if v is not None and str(v).strip()}
    new = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"reviewer_answers": clean}))
    for name in ("test_scores", "test_pred", "y_test_binary"):
        if name in ctx.__dict__:
            new.__dict__[name] = ctx.__dict__[name]
    return new
