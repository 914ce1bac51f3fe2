"""Sources of harm that apply to a regression model (issue 23), for ``bias.categories``.

* Historical: does the target itself differ by group (the world as recorded)? The mean target of
  each group over training and holdout rows, the highest against the lowest group with a Welch
  interval; a warning needs the gap beyond chance after Bonferroni over every pair of groups and a
  size that matters (a quarter of the target's standard deviation).
* Aggregation: does one model for everyone serve a group worse? Each group's mean absolute error
  against the whole holdout's, and its mean error (prediction − actual) against the whole's; a
  warning needs a gap beyond chance (Bonferroni over both tests of every group of 30+ rows) and of a
  size that matters (a group's MAE 1.25 times the overall, fail at 1.5 times; a mean error apart by
  a quarter of the overall MAE).
* Learning: does the model widen the gap already in the target? Between the groups whose mean
  target differs most, the gap of the mean predictions minus the gap of the mean actual values (the
  difference of their mean errors, Welch); a warning when it widens the gap beyond chance by a
  quarter of the overall MAE or more.

Wording beside the statistics, as in ``bias_categories``.
"""

from __future__ import annotations

import numpy as np

from readiness.checks.bias_regression import FAIL_RATIO, WARN_RATIO, WARN_SHIFT, t_interval
from readiness.checks.bias_stats import SMALL_GROUP, comparison_count
from readiness.fmt import estimate, interval, number, signed
from readiness.results import Severity, Status
from readiness.stats import welch

HISTORICAL_SHIFT = 0.25  # a gap of the mean target this share of its standard deviation, beyond chance: warn


def _numbers(s) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _status(sevs: list[Severity]) -> Status:
    return Status.FAIL if Severity.FAIL in sevs else Status.WARN if Severity.WARN in sevs else Status.PASS


def historical(ctx, singles, alpha_family: float):
    """Mean target by group over training + holdout; (status, summary, evidence)."""
    y = np.concatenate([_numbers(ctx.train[ctx.target]), _numbers(ctx.test[ctx.target])])
    ok = np.isfinite(y)
    sd = float(np.std(y[ok], ddof=1)) if ok.sum() > 1 else 0.0
    pairs = sum(comparison_count(len(a.order), 1) for a in singles)
    alpha = alpha_family / max(1, pairs)
    per_attr, sevs, worst = {}, [], None
    for a in singles:
        labels = np.concatenate([a.train, a.test])
        table = {}
        for g in a.order:
            v = y[(labels == g) & ok]
            if len(v):
                table[g] = {"n": int(len(v)), "small": bool(len(v) < SMALL_GROUP), "mean": float(v.mean()),
                            "mean_ci": t_interval(v)}
        big = [g for g, v in table.items() if not v["small"]]
        gap = None
        if len(big) >= 2:
            hi = max(big, key=lambda g: table[g]["mean"])
            lo = min(big, key=lambda g: table[g]["mean"])
            a_hi, a_lo = y[(labels == hi) & ok], y[(labels == lo) & ok]
            d, ci, p = welch(a_hi, a_lo)
            _, ci_adj, _ = welch(a_hi, a_lo, alpha=alpha)
            sig = ci_adj[0] is not None and ci_adj[0] > 0
            size = d / sd if sd > 0 else 0.0
            sev = Severity.WARN if sig and size >= HISTORICAL_SHIFT else None
            gap = {"highest": hi, "lowest": lo, "difference": d, "difference_ci": ci, "p_value": p,
                   "standardised": size, "significant": sig, "severity": sev.value if sev else None}
            if sev:
                sevs.append(sev)
            if worst is None or size > worst[1]["standardised"]:
                worst = (a.name, gap, table)
        per_attr[a.name] = {"groups": table, "largest_gap": gap}
    status = _status(sevs)
    if worst is None:
        summary = "Too few rows per group to compare the target's mean."
    else:
        name, g, table = worst
        txt = (f"mean {ctx.target} {number(table[g['highest']]['mean'])} for {name} = {g['highest']} vs "
               f"{number(table[g['lowest']]['mean'])} for {name} = {g['lowest']} (difference {estimate(g['difference'], g['difference_ci'])}, "
               f"95% interval {interval(g['difference_ci'], value=g['difference'])}; {number(g['standardised'], 2)} standard deviations)")
        summary = (f"The target itself differs by group: {txt}. A model trained on it learns this history; decide "
                   "whether it reflects real differences or past treatment." if status == Status.WARN else
                   f"The target's mean is similar across groups (largest gap: {txt}; under "
                   f"{HISTORICAL_SHIFT:g} standard deviations or within chance).")
    return status, summary, {"rows": "training + holdout", "target_sd": sd, "alpha_per_test": alpha,
                             "attributes": per_attr}


def _holdout(ctx):
    ok = np.asarray(ctx.scored, dtype=bool)
    y = ctx.y_test.to_numpy(dtype=float)
    p = np.asarray(ctx.test_scores, dtype=float)
    ok = ok & np.isfinite(y) & np.isfinite(p)
    return ok, y[ok], p[ok]


def aggregation(ctx, attrs, alpha_family: float):
    """Each group's MAE and mean error against the whole holdout's; (status, summary, evidence)."""
    ok, y, p = _holdout(ctx)
    e = p - y
    mae, bias = float(np.mean(np.abs(e))), float(np.mean(e))
    n_tests = 2 * max(1, sum(1 for a in attrs for g in a.order if (a.test[ok] == g).sum() >= SMALL_GROUP))
    alpha = alpha_family / n_tests
    issues, per_attr = [], {}
    for a in attrs:
        labels = a.test[ok]
        rows = {}
        for g in a.order:
            m = labels == g
            if not m.any():
                continue
            ga, ge = np.abs(e[m]), e[m]
            row = {"n": int(m.sum()), "small": bool(m.sum() < SMALL_GROUP), "mae": float(ga.mean()),
                   "mae_ci": t_interval(ga), "mean_error": float(ge.mean()), "mean_error_ci": t_interval(ge)}
            rows[g] = row
            if row["small"]:
                continue
            lo_mae = t_interval(ga, alpha)[0]
            if lo_mae is not None and lo_mae > mae and row["mae"] >= WARN_RATIO * mae:
                sev = Severity.FAIL if row["mae"] >= FAIL_RATIO * mae else Severity.WARN
                issues.append((sev, f"the mean absolute error for {a.name} = {g} is {number(row['mae'])} vs "
                                    f"{number(mae)} overall ({number(row['mae'] / mae, 2)} times)"))
            shift = row["mean_error"] - bias
            ci = t_interval(ge, alpha)
            beyond = ci[0] is not None and (ci[0] > bias or ci[1] < bias)
            row["mean_error_vs_overall"] = shift
            if beyond and abs(shift) >= WARN_SHIFT * mae:
                word = "over" if shift > 0 else "under"
                issues.append((Severity.WARN, f"the model {word}-estimates {a.name} = {g} by {number(abs(shift))} "
                                              "more than it does overall (mean error "
                                              f"{signed(row['mean_error'])} vs {signed(bias)})"))
        per_attr[a.name] = rows
    status = _status([s for s, _ in issues])
    if issues:
        ordered = [t for _, t in sorted(issues, key=lambda t: t[0] != Severity.FAIL)]
        body = "; ".join(ordered[:3]) + (f"; and {len(ordered) - 3} more" if len(ordered) > 3 else "")
        summary = f"One model for everyone serves some groups worse: {body}."
    else:
        summary = (f"The error (MAE {number(mae)} overall) and its direction hold up in every group of at least "
                   f"{SMALL_GROUP} rows: one model for all does not visibly fail a group.")
    return status, summary, {"overall_mae": mae, "overall_mean_error": bias, "alpha_per_test": alpha,
                             "attributes": per_attr,
                             "issues": [{"severity": s.value, "text": t} for s, t in issues]}


def learning(ctx, singles, alpha_family: float):
    """Does the model widen the target's gap between groups? (status, summary, evidence)."""
    ok, y, p = _holdout(ctx)
    e = p - y
    mae = float(np.mean(np.abs(e))) or 1.0
    alpha = alpha_family / max(1, len(singles))
    per_attr, sevs, texts = {}, [], []
    for a in singles:
        labels = a.test[ok]
        big = [g for g in a.order if (labels == g).sum() >= SMALL_GROUP]
        if len(big) < 2:
            continue
        hi = max(big, key=lambda g: y[labels == g].mean())
        lo = min(big, key=lambda g: y[labels == g].mean())
        actual_gap = float(y[labels == hi].mean() - y[labels == lo].mean())
        predicted_gap = float(p[labels == hi].mean() - p[labels == lo].mean())
        widening, ci, pv = welch(e[labels == hi], e[labels == lo])  # predicted gap − actual gap
        _, ci_adj, _ = welch(e[labels == hi], e[labels == lo], alpha=alpha)
        sig = ci_adj[0] is not None and (ci_adj[0] > 0 or ci_adj[1] < 0)
        sev = Severity.WARN if sig and widening >= WARN_SHIFT * mae else None
        per_attr[a.name] = {"highest": hi, "lowest": lo, "actual_gap": actual_gap, "predicted_gap": predicted_gap,
                            "widening": widening, "widening_ci": ci, "p_value": pv, "significant": sig,
                            "severity": sev.value if sev else None}
        txt = (f"{a.name} = {hi} vs {lo}: actual means {number(actual_gap)} apart, predictions {number(predicted_gap)} "
               f"apart")
        if sev:
            sevs.append(sev)
            texts.append(f"{txt} — the model widens the gap by {estimate(widening, ci)} (95% interval {interval(ci, value=widening)})")
        else:
            texts.append(txt)
    if not per_attr:
        return Status.SKIPPED, f"Too few holdout rows per group (at least {SMALL_GROUP} in two groups) to compare.", {}
    status = _status(sevs)
    summary = (("The model widens the differences already in the target: " if status == Status.WARN else
                "The model does not widen the differences already in the target beyond chance: ")
               + "; ".join(texts[:3]) + ".")
    return status, summary, {"alpha_per_test": alpha, "attributes": per_attr}
