"""bias.groups for a regression model: who bears the larger error, who is over- or under-estimated.

Per group of every sensitive attribute (and pairwise intersection): ``n``, ``mae`` (mean absolute
error), ``mean_error`` (prediction − actual: positive = over-estimated), ``mean_prediction`` and
``mean_actual``, each with a 95% Student-t interval on the group's rows. Disparities against the
reference group (the group with the smallest MAE, or the one the reviewer chose): the differences of
MAE and of mean error with Welch 95% intervals and p-values; "beyond chance" allows for every
comparison made (Bonferroni over every pair of groups and both metrics), as for classifiers. A
warning needs a gap beyond chance at a family-wise 5% and of a size that matters (MAE 1.25 times
the reference's, or mean errors apart by a quarter of the overall MAE); a fail needs it at 1%, 1.5
times or half the MAE, with both groups of at least 30 rows.
Wording beside the statistics; no drawing.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from readiness.checks.bias_stats import ALPHA, SMALL_GROUP, comparison_count
from readiness.fmt import counted, number
from readiness.results import Finding, Severity
from readiness.stats import moments, welch_from

WARN_RATIO = 1.25  # a group's MAE this many times the reference's, beyond chance: warn
FAIL_RATIO = 1.5  # ... and fail (both groups at least SMALL_GROUP rows)
WARN_SHIFT = 0.25  # a difference of mean error this share of the overall MAE, beyond chance: warn
FAIL_SHIFT = 0.5
METRICS_JUDGED = 2  # MAE and mean error
FAIL_ALPHA_SHARE = 0.2  # a fail needs the gap beyond chance at a family-wise 1% (0.2 × ALPHA), a warning at 5%


def t_interval(x: np.ndarray, alpha: float = 0.05) -> list[float | None]:
    """Student-t interval of the mean of ``x`` (None for fewer than two rows)."""
    return t_interval_from(*moments(x), alpha=alpha)


def t_interval_from(mean: float, var: float | None, n: int, alpha: float = 0.05) -> list[float | None]:
    """:func:`t_interval` from the mean, the variance (ddof 1) and the count."""
    if n < 2:
        return [None, None]
    se = math.sqrt(var) / math.sqrt(n)
    h = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return [mean - h, mean + h]


def group_moments(y: np.ndarray, p: np.ndarray) -> dict:
    """:func:`readiness.stats.moments` of a group's absolute error, error, prediction and actual."""
    e = p - y
    return {"abs": moments(np.abs(e)), "err": moments(e), "pred": moments(p), "actual": moments(y)}


def figures_from(m: dict) -> dict:
    """A group's figures from its :func:`group_moments` (or the same moments from merged partition sums)."""
    n = m["err"][2]
    return {"n": int(n), "small": bool(n < SMALL_GROUP),
            "mae": m["abs"][0], "mae_ci": t_interval_from(*m["abs"]),
            "mean_error": m["err"][0], "mean_error_ci": t_interval_from(*m["err"]),
            "mean_prediction": m["pred"][0], "mean_prediction_ci": t_interval_from(*m["pred"]),
            "mean_actual": m["actual"][0], "mean_actual_ci": t_interval_from(*m["actual"])}


def group_figures(y: np.ndarray, p: np.ndarray) -> dict:
    return figures_from(group_moments(y, p))


def _who(attr: str, group: str) -> str:
    return f"{attr} = {group}"


def regression_groups(ctx, attrs, skipped: list[str], chosen_reference: dict[str, str]) -> tuple[str, list, dict]:
    """(summary, findings, metrics) of bias.groups for a regression model."""
    ok = np.asarray(ctx.scored, dtype=bool)
    y = ctx.y_test.to_numpy(dtype=float)[ok]
    p = np.asarray(ctx.test_scores, dtype=float)[ok]
    overall = group_figures(y, p)
    from readiness.checks.evaluation import mae_interval

    overall["mae_ci"] = mae_interval(y, p, ctx.settings)  # the holdout page's interval (groups: t intervals)
    moms: dict[str, dict] = {}
    for a in attrs:
        labels = a.test[ok]
        moms[a.name] = {g: group_moments(y[labels == g], p[labels == g]) for g in a.order if (labels == g).any()}
    return regression_verdict(attrs, skipped, chosen_reference, moms, overall, scored=int(ok.sum()),
                              unscored=int((~ok).sum()))


def regression_verdict(attrs, skipped: list[str], chosen_reference: dict[str, str], moms: dict, overall: dict, *,
                       scored: int, unscored: int) -> tuple[str, list, dict]:
    """(summary, findings, metrics) from each group's :func:`group_moments` (``moms[attribute][group]``) and
    the overall figures; ``scored`` / ``unscored``: holdout rows with and without a prediction."""
    scale = overall["mae"] or 1.0
    groups = {name: {g: figures_from(m) for g, m in by.items()} for name, by in moms.items()}
    counts = {a.name: comparison_count(len(groups[a.name]), METRICS_JUDGED) for a in attrs}
    total = sum(counts.values())
    alpha = ALPHA / total if total else ALPHA
    findings: list[Finding] = []
    disparities, reference = {}, {}
    for a in attrs:
        g = groups[a.name]
        big = {k: v for k, v in g.items() if not v["small"]} or g
        ref = chosen_reference.get(a.name) if chosen_reference.get(a.name) in g else min(big, key=lambda k: big[k]["mae"])
        reference[a.name] = ref
        rows = {}
        r_abs, r_err = moms[a.name][ref]["abs"], moms[a.name][ref]["err"]
        for grp in g:
            if grp == ref:
                continue
            ga, ge = moms[a.name][grp]["abs"], moms[a.name][grp]["err"]
            d_mae, ci_mae, p_mae = welch_from(ga, r_abs)
            d_me, ci_me, p_me = welch_from(ge, r_err)
            ratio = g[grp]["mae"] / g[ref]["mae"] if g[ref]["mae"] > 0 else math.inf
            # Bonferroni-adjusted interval: the "beyond chance" decision uses the family-wise alpha
            _, ci_mae_adj, _ = welch_from(ga, r_abs, alpha)
            _, ci_me_adj, _ = welch_from(ge, r_err, alpha)
            mae_beyond = p_mae is not None and p_mae < alpha
            me_beyond = p_me is not None and p_me < alpha
            both_big = not g[grp]["small"] and not g[ref]["small"]
            row = {"n": g[grp]["n"], "reference_n": g[ref]["n"], "mae_difference": d_mae, "mae_difference_ci": ci_mae,
                   "mae_difference_ci_adjusted": ci_mae_adj, "mae_ratio": ratio, "p_mae": p_mae,
                   "mae_beyond_chance": mae_beyond, "mean_error_difference": d_me, "mean_error_difference_ci": ci_me,
                   "mean_error_difference_ci_adjusted": ci_me_adj, "p_mean_error": p_me,
                   "mean_error_beyond_chance": me_beyond, "severity": "info", "flags": []}
            harmed = grp if d_mae > 0 else ref
            if mae_beyond and max(ratio, 1 / ratio if ratio > 0 else math.inf) >= WARN_RATIO:
                sev = ("fail" if both_big and max(ratio, 1 / ratio) >= FAIL_RATIO
                       and p_mae < FAIL_ALPHA_SHARE * alpha else "warn")
                hi, lo = (grp, ref) if d_mae > 0 else (ref, grp)
                row["flags"].append({"metric": "mae", "severity": sev, "disadvantaged": harmed, "message": (
                    f"{_who(a.name, hi)} bears the larger error: MAE {number(g[hi]['mae'])} against "
                    f"{number(g[lo]['mae'])} for {_who(a.name, lo)} (difference {number(abs(d_mae))}, 95% interval "
                    f"{number(abs(ci_mae[0]) if d_mae > 0 else -ci_mae[1])}–"
                    f"{number(ci_mae[1] if d_mae > 0 else -ci_mae[0])}; beyond chance after {total} comparisons).")})
            shift = abs(d_me) / scale
            if me_beyond and shift >= WARN_SHIFT:
                sev = "fail" if both_big and shift >= FAIL_SHIFT and p_me < FAIL_ALPHA_SHARE * alpha else "warn"
                def side(v):
                    return "over-estimated" if v > 0 else "under-estimated"
                row["flags"].append({"metric": "mean_error", "severity": sev, "disadvantaged": None, "message": (
                    f"{_who(a.name, grp)} is {side(g[grp]['mean_error'])} by {number(abs(g[grp]['mean_error']))} on "
                    f"average, {_who(a.name, ref)} {side(g[ref]['mean_error'])} by {number(abs(g[ref]['mean_error']))} "
                    f"(difference {number(d_me)}, 95% interval {number(ci_me[0])} to {number(ci_me[1])}; beyond chance "
                    f"after {total} comparisons): the model's errors lean differently for the two groups.")})
            if row["flags"]:
                row["severity"] = max((f["severity"] for f in row["flags"]), key={"warn": 1, "fail": 2}.get)
                if not a.is_intersection or row["severity"] != "info":
                    findings.append(Finding(
                        severity=Severity(row["severity"]), columns=a.columns,
                        message=" ".join(f["message"] for f in row["flags"]),
                        evidence={"attribute": a.name, "group": grp, "reference": ref, "n": row["n"],
                                  "reference_n": row["reference_n"], "flags": row["flags"]}))
            rows[grp] = row
        disparities[a.name] = {"reference": ref, "groups": rows}
        smalls = {k: v["n"] for k, v in g.items() if v["small"]}
        if smalls:
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"{a.name}: {counted(len(smalls), 'group')} {'has' if len(smalls) == 1 else 'have'} fewer than {SMALL_GROUP} holdout rows "
                f"({', '.join(f'{k}: {v}' for k, v in list(smalls.items())[:6])}); their intervals are wide and they "
                "cannot fail the review on their own."), evidence={"small_groups": smalls}))
    if skipped:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Intersections left out because they have too many groups: {', '.join(skipped)}."),
            evidence={"intersections_skipped": skipped}))
    worst_rows = [(a, g, r) for a, d in disparities.items() for g, r in d["groups"].items() if r["flags"]]
    singles = [a for a in attrs if not a.is_intersection]
    if not worst_rows:
        gaps = []
        for a in singles:
            g = groups[a.name]
            if len(g) >= 2:
                hi = max(g, key=lambda k: g[k]["mae"])
                lo = min(g, key=lambda k: g[k]["mae"])
                gaps.append(f"{a.name}: MAE from {number(g[lo]['mae'])} ({lo}) to {number(g[hi]['mae'])} ({hi})")
        summary = ("No group's error or bias differs beyond chance (" + "; ".join(gaps) + ")." if gaps else
                   "No sensitive attribute has two groups to compare.")
    else:
        a, g, r = max(worst_rows, key=lambda t: ({"warn": 1, "fail": 2}[t[2]["severity"]], abs(t[2]["mae_difference"])))
        summary = r["flags"][0]["message"]
    metrics = {
        "task": "regression", "n": scored, "rows_without_score": unscored,
        "attributes": [a.name for a in singles], "intersections": [a.name for a in attrs if a.is_intersection],
        "intersections_skipped": skipped,
        "thresholds": {"small_group": SMALL_GROUP, "warn_ratio": WARN_RATIO, "fail_ratio": FAIL_RATIO,
                       "warn_shift": WARN_SHIFT, "fail_shift": FAIL_SHIFT, "alpha": ALPHA},
        "multiple_testing": {"method": "bonferroni", "family_alpha": ALPHA, "comparisons": counts,
                             "comparisons_total": total, "alpha_per_comparison": alpha},
        "overall": overall, "groups": groups, "reference": reference, "disparities": disparities,
    }
    return summary, findings, metrics
