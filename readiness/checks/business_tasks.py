"""``business.threshold`` for regression and multiclass models: what the predictions cost.

Regression (``--cost-over``, ``--cost-under``): a prediction ``p`` of an actual ``y`` costs
``cost_over · (p − y)`` when it is too high and ``cost_under · (y − p)`` when too low (in the
user's units per unit of the target). The expected cost per 1,000 predictions is 1,000 times
the mean. Adding a constant shift ``s`` to every prediction minimises that cost at the
τ-quantile of the residuals ``y − p``, τ = cost_under / (cost_over + cost_under) (the
pinball loss; Koenker & Bassett 1978). The shift is chosen on the holdout, so its saving
there is optimistic: the honest saving is judged out of bag — the shift is re-found on
each bootstrap resample and priced on the rows that resample left out.

Multiclass (``--cost-matrix``): ``cost[true][predicted]``. The model's decisions (its most
probable class) cost ``1000 · mean cost[y_i][ŷ_i]`` per 1,000 (``cost_per_1000``); the
rule that minimises the expected cost under the model's probabilities picks
``argmin_j Σ_k p_ik · cost[k][j]`` (``cost_per_1000_best_rule``; it needs calibrated
probabilities, see the Calibration page). Neither uses the holdout's labels to choose
anything, so percentile bootstrap intervals (rows resampled) are honest, and the paired
difference has its own.
"""

from __future__ import annotations

import math

import numpy as np

from readiness.fmt import estimate, interval, number, percent, with_interval
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck
from readiness.results import Finding, Severity

PER = 1000
MATERIAL_SHARE = 0.05  # as for the threshold: a saving below 5% of the current cost is not worth a flag
ALPHA = 0.05


def _pct_ci(values: list[float]) -> list[float | None]:
    if len(values) < 10:
        return [None, None]
    return [float(np.quantile(values, ALPHA / 2)), float(np.quantile(values, 1 - ALPHA / 2))]


# =========================================================================================
# regression: the cost of over- and under-prediction
# =========================================================================================


def asymmetric_cost(residual: np.ndarray, cost_over: float, cost_under: float) -> np.ndarray:
    """Per-row cost of a prediction with residual ``y − p`` (over-prediction: residual < 0)."""
    return np.where(residual < 0, -residual * cost_over, residual * cost_under)


def best_shift(residual: np.ndarray, cost_over: float, cost_under: float) -> float:
    """The constant added to every prediction that minimises the mean cost: the τ-quantile of the
    residuals, τ = cost_under / (cost_over + cost_under) (the lower one where the minimum is flat)."""
    tau = cost_under / (cost_over + cost_under)
    return float(np.quantile(residual, tau, method="inverted_cdf"))


def regression_cost(y: np.ndarray, p: np.ndarray, cost_over: float, cost_under: float, *, n_boot: int = 200,
                    seed: int = 0) -> dict:
    r = y - p
    n = len(r)
    cost = asymmetric_cost(r, cost_over, cost_under)
    s = best_shift(r, cost_over, cost_under)
    shifted = asymmetric_cost(r - s, cost_over, cost_under)
    rng = np.random.default_rng(seed)
    boot_cost, boot_shift, oob_saving = [], [], []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        boot_cost.append(PER * cost[idx].mean())
        sb = best_shift(r[idx], cost_over, cost_under)
        boot_shift.append(sb)
        out = np.ones(n, dtype=bool)
        out[idx] = False
        if out.any():
            ro = r[out]
            oob_saving.append(PER * (asymmetric_cost(ro, cost_over, cost_under).mean()
                                     - asymmetric_cost(ro - sb, cost_over, cost_under).mean()))
    return {
        "cost_over": cost_over, "cost_under": cost_under, "n": n,
        "cost_per_1000": PER * float(cost.mean()), "cost_per_1000_ci": _pct_ci(boot_cost),
        "best_shift": s, "best_shift_ci": _pct_ci(boot_shift), "best_quantile": cost_under / (cost_over + cost_under),
        "cost_per_1000_shifted": PER * float(shifted.mean()),
        "saving_per_1000_in_sample": PER * float(cost.mean() - shifted.mean()),
        "saving_per_1000": float(np.mean(oob_saving)) if oob_saving else None,
        "saving_per_1000_ci": _pct_ci(oob_saving),
        "over_predicted_share": float((r < 0).mean()),
        "cost_from_over_prediction_per_1000": PER * float(np.where(r < 0, cost, 0).mean()),
        "cost_from_under_prediction_per_1000": PER * float(np.where(r > 0, cost, 0).mean()),
    }


def _regression(ctx: ReviewContext) -> Outcome:
    s = ctx.settings
    if s.cost_over is None and s.cost_under is None:
        raise SkipCheck("No costs of over- and under-prediction were set (--cost-over, --cost-under per unit of "
                        "the target; in Setup, Business context), so there is nothing to price. The holdout page "
                        "shows the errors themselves.")
    co = 1.0 if s.cost_over is None else s.cost_over
    cu = 1.0 if s.cost_under is None else s.cost_under
    if co + cu <= 0:
        raise SkipCheck("Both costs are 0: every prediction costs nothing, so there is nothing to price.")
    y = ctx.y_test.to_numpy(dtype=float)
    p = np.asarray(ctx.test_scores, dtype=float)
    ok = np.isfinite(y) & np.isfinite(p)
    m = regression_cost(y[ok], p[ok], co, cu, n_boot=s.bootstrap, seed=s.random_state)
    m["defaulted"] = [k for k, v in (("cost_over", s.cost_over), ("cost_under", s.cost_under)) if v is None]
    m["task"] = "regression"
    findings: list[Finding] = []
    if m["defaulted"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Only one cost was set; the other ({', '.join(m['defaulted'])}) is taken as 1 per unit.")))
    cost, sv, svci = m["cost_per_1000"], m["saving_per_1000"], m["saving_per_1000_ci"]
    direction = "raising" if m["best_shift"] > 0 else "lowering"
    lo_s, hi_s = m["best_shift_ci"]  # the interval of the amount said: lowering by x is a shift of −x
    amount_ci = [lo_s, hi_s] if m["best_shift"] > 0 or lo_s is None else [-hi_s, -lo_s]
    base = (f"At {number(co)} per unit over and {number(cu)} per unit under, the predictions cost "
            f"{estimate(cost, m['cost_per_1000_ci'])} per 1,000 predictions ({interval(m['cost_per_1000_ci'], value=cost)}); {percent(m['over_predicted_share'])} "
            f"are too high. The cheapest constant correction, the {percent(m['best_quantile'])} quantile of the "
            f"residuals, is to {'raise' if m['best_shift'] > 0 else 'lower'} every prediction by "
            f"{with_interval(abs(m['best_shift']), amount_ci)}")
    material = svci[0] is not None and svci[0] > 0 and sv is not None and sv >= MATERIAL_SHARE * cost
    if material:
        findings.insert(0, Finding(severity=Severity.WARN, message=(
            f"{base}: judged on rows it was not chosen on, that saves {estimate(sv, svci)} per 1,000 ({interval(svci, value=sv)}), "
            f"{percent(sv / cost)} of the cost. The model is not centred where these costs want it (a model "
            "trained for squared error predicts the mean; asymmetric costs want a quantile): shift its predictions, "
            "or train it for this quantile."),
            evidence={"best_shift": m["best_shift"], "saving_per_1000_ci": svci}))
        summary = (f"Predictions cost {number(cost)} per 1,000 predictions; {direction} them by "
                   f"{number(abs(m['best_shift']))} "
                   f"would save about {estimate(sv, svci)} per 1,000 ({interval(svci, value=sv)}).")
    else:
        findings.insert(0, Finding(severity=Severity.INFO, message=(
            f"{base}; out of sample that saves {estimate(sv, svci)} per 1,000 ({interval(svci, value=sv)}), not a material "
            "saving: the predictions are already about where these costs want them.")))
        summary = (f"Predictions cost {estimate(cost, m['cost_per_1000_ci'])} per 1,000 predictions ({interval(m['cost_per_1000_ci'], value=cost)}); no constant "
                   "shift saves materially.")
    return Outcome(summary=summary, findings=findings, metrics=m)


# =========================================================================================
# multiclass: a cost matrix
# =========================================================================================


def matrix_for(classes: list, table: dict) -> np.ndarray:
    """The cost matrix in the order of ``classes`` (rows true, columns predicted) from
    ``{true: {predicted: cost}}`` keyed by the labels as text."""
    labels = [str(c) for c in classes]
    return np.array([[float(table[t][p]) for p in labels] for t in labels])


def matrix_problems(classes: list, table: dict) -> str | None:
    """One sentence on what is wrong with a cost matrix for these classes, or None."""
    labels = [str(c) for c in classes]
    rows = [str(k) for k in table]
    missing_rows = [c for c in labels if c not in rows]
    extra = [c for c in rows if c not in labels]
    if missing_rows or extra:
        parts = []
        if missing_rows:
            parts.append("no row for true class " + ", ".join(repr(c) for c in missing_rows))
        if extra:
            parts.append("rows for classes the target does not have: " + ", ".join(repr(c) for c in extra))
        return f"The cost matrix does not match the target's classes {labels}: " + "; ".join(parts) + "."
    for t in labels:
        cols = {str(k) for k in table[t]}
        if set(labels) - cols or cols - set(labels):
            return (f"The cost matrix's columns (predicted classes) must be the target's classes {labels}; row "
                    f"{t!r} has {sorted(cols)}.")
        for p_, v in table[t].items():
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                return f"The cost matrix's entry for true {t!r}, predicted {p_!r} must be a number of 0 or more; got {v!r}."
    return None


def matrix_cost(y_codes: np.ndarray, proba: np.ndarray, pred_codes: np.ndarray, cost: np.ndarray, *,
                n_boot: int = 200, seed: int = 0) -> dict:
    """Cost per 1,000 of the model's decisions and of the cost-minimising rule, with intervals."""
    model_cost = cost[y_codes, pred_codes]
    best = np.argmin(proba @ cost, axis=1)
    best_cost = cost[y_codes, best]
    n = len(y_codes)
    rng = np.random.default_rng(seed)
    bm, bb, bd = [], [], []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        a, b = model_cost[idx].mean(), best_cost[idx].mean()
        bm.append(PER * a)
        bb.append(PER * b)
        bd.append(PER * (a - b))
    return {"cost_per_1000": PER * float(model_cost.mean()), "cost_per_1000_ci": _pct_ci(bm),
            "cost_per_1000_best_rule": PER * float(best_cost.mean()), "cost_per_1000_best_rule_ci": _pct_ci(bb),
            "saving_per_1000": PER * float(model_cost.mean() - best_cost.mean()), "saving_per_1000_ci": _pct_ci(bd),
            "decisions_changed": int((best != pred_codes).sum()), "n": n, "best_rule_codes": best}


def _multiclass(ctx: ReviewContext) -> Outcome:
    s = ctx.settings
    if not s.cost_matrix:
        raise SkipCheck(f"No cost matrix was set (--cost-matrix: a CSV of true class by predicted class; in Setup, "
                        f"Business context), so the {len(ctx.classes)} classes' decisions cannot be priced.")
    problem = matrix_problems(ctx.classes, s.cost_matrix)
    if problem:
        raise SkipCheck(problem)
    cost = matrix_for(ctx.classes, s.cost_matrix)
    labels = [str(c) for c in ctx.classes]
    proba = np.asarray(ctx.test_scores, dtype=float)
    y_s = ctx.y_test.astype(str).to_numpy()
    pred_s = np.asarray(ctx.test_pred).astype(str)
    index = {c: i for i, c in enumerate(labels)}
    ok = np.isfinite(proba).all(axis=1) & np.isin(y_s, labels) & np.isin(pred_s, labels)
    y_c = np.array([index[v] for v in y_s[ok]])
    p_c = np.array([index[v] for v in pred_s[ok]])
    r = matrix_cost(y_c, proba[ok], p_c, cost, n_boot=s.bootstrap, seed=s.random_state)
    best = r.pop("best_rule_codes")
    changes: dict[tuple[str, str], int] = {}
    for a, b in zip(p_c[best != p_c], best[best != p_c], strict=True):
        changes[(labels[a], labels[b])] = changes.get((labels[a], labels[b]), 0) + 1
    m = {**r, "task": "multiclass", "labels": labels, "cost_matrix": cost.tolist(),
         "largest_changes": [{"from": a, "to": b, "rows": k} for (a, b), k in
                             sorted(changes.items(), key=lambda kv: -kv[1])[:5]]}
    c, cb, sv, svci = m["cost_per_1000"], m["cost_per_1000_best_rule"], m["saving_per_1000"], m["saving_per_1000_ci"]
    base = (f"The model's decisions (its most probable class) cost {number(c)} per 1,000 "
            f"({interval(m['cost_per_1000_ci'])}); choosing the class with the lowest expected cost under its "
            f"probabilities would cost {with_interval(cb, m['cost_per_1000_best_rule_ci'])}, changing "
            f"{m['decisions_changed']:,} of {m['n']:,} decisions")
    if m["largest_changes"]:
        top = m["largest_changes"][0]
        base += f" (most often {top['from']} → {top['to']}, {top['rows']:,} rows)"
    findings: list[Finding] = []
    if svci[0] is not None and svci[0] > 0 and sv >= MATERIAL_SHARE * c:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{base}: a saving of {estimate(sv, svci)} per 1,000 ({interval(svci, value=sv)}), {percent(sv / c)} of the cost. Decide "
            "by expected cost rather than by the most probable class — once the probabilities are shown to be "
            "calibrated (Calibration page)."), evidence={"saving_per_1000_ci": svci}))
        summary = (f"Decisions cost {number(c)} per 1,000; deciding by expected cost would save about {number(sv)} "
                   f"({interval(svci)}).")
    else:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{base}: no material saving ({number(sv)} per 1,000, {interval(svci)}).")))
        summary = (f"Decisions cost {estimate(c, m['cost_per_1000_ci'])} per 1,000 ({interval(m['cost_per_1000_ci'], value=c)}); the cost-minimising "
                   "rule saves nothing material.")
    return Outcome(summary=summary, findings=findings, metrics=m)


def task_cost(ctx: ReviewContext) -> Outcome:
    """business.threshold for a regression or multiclass model."""
    return _regression(ctx) if ctx.task == "regression" else _multiclass(ctx)


def read_cost_matrix(path) -> dict[str, dict[str, float]]:
    """A cost matrix from a CSV: the first column holds the true classes, the header the predicted
    ones (the top-left cell is ignored). Raises :class:`readiness.errors.ReadinessError` with one line."""
    import pandas as pd

    from readiness import errors as E

    try:
        frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise E.ReadinessError(f"--cost-matrix: no such file: {path}") from None
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise E.ReadinessError(f"--cost-matrix: {path} is not a readable CSV ({' '.join(str(exc).split())}).") from None
    if frame.empty or frame.shape[0] != frame.shape[1]:
        raise E.ReadinessError(f"--cost-matrix: {path} must be a square table, true classes down the first column "
                               f"and predicted classes across the header; got {frame.shape[0]} rows and "
                               f"{frame.shape[1]} columns.")
    out: dict[str, dict[str, float]] = {}
    for t, row in frame.iterrows():
        out[str(t).strip()] = {}
        for p_, v in row.items():
            try:
                x = float(str(v).strip())
            except ValueError:
                raise E.ReadinessError(f"--cost-matrix: the cost for true {t!r}, predicted {p_!r} is not a number: "
                                       f"{v!r}.") from None
            if not math.isfinite(x) or x < 0:
                raise E.ReadinessError(f"--cost-matrix: the cost for true {t!r}, predicted {p_!r} must be 0 or more; "
                                       f"got {v!r}.")
            out[str(t).strip()][str(p_).strip()] = x
    return out


def validate_cost_matrix(ctx: ReviewContext) -> None:
    """A cost matrix that does not fit the target's classes is bad input (one line, exit 2)."""
    from readiness import errors as E

    if not ctx.settings.cost_matrix:
        return
    if ctx.task != "multiclass":
        raise E.ReadinessError(f"--cost-matrix prices the decisions of a multiclass model; this is a {ctx.task} "
                               "review (use --cost-fp/--cost-fn for yes/no, --cost-over/--cost-under for regression).")
    problem = matrix_problems(ctx.classes, ctx.settings.cost_matrix)
    if problem:
        raise E.ReadinessError("--cost-matrix: " + problem)
