"""Business threshold: the decision a threshold makes, in money.

A binary model gives scores; the business flags a case when its score is at least the
threshold. A false positive (flagging a case that is not positive) costs ``cost_fp``, a
false negative (missing a positive) costs ``cost_fn``, in the user's own cost units.
The expected cost per 1,000 decisions is ``1000 · (cost_fp·FP + cost_fn·FN) / n``.

Everything here is exact over *cut points*: with the holdout's distinct scores
``u[0] < … < u[K-1]``, cut ``k`` flags the rows with score ≥ ``u[k]`` (cut 0 flags
everyone, cut ``K`` flags no one). Every threshold lands on one cut, so the cheapest
threshold is found by one sort and two cumulative sums; bootstrap resamples are row
weights over the same sorted order (fast enough for 50,000 rows and 200 resamples).

Pure functions (:func:`analyse`, :func:`decision_at`, :func:`describe_decision`) serve
the check and the page's what-ifs alike; nothing here draws or imports streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from readiness.fmt import change
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity
from readiness.stats import auc_ci, clopper_pearson

USEFUL_AUC = 0.6  # a ranking whose ROC AUC is confidently below this is of no material use
MATERIAL_SHARE = 0.05  # a saving below 5% of the current cost is not worth a flag
GRID_POINTS = 200  # points on the reported curves
PER = 1000  # costs are reported per 1,000 decisions
_TIE = 1e-9

FLAG_ALL, FLAG_NONE, THRESHOLD = "flag_all", "flag_none", "threshold"
POLICY_WORDS = {FLAG_ALL: "flag everyone", FLAG_NONE: "flag no one", THRESHOLD: "use the model"}
POLICY_GERUND = {FLAG_ALL: "flagging everyone", FLAG_NONE: "flagging no one", THRESHOLD: "using the model"}


# --- the cut-point machinery -------------------------------------------------------------------


@dataclass(frozen=True)
class _Cuts:
    y: np.ndarray  # labels (0/1) in ascending score order (cells: the label of each (score, class) cell)
    u: np.ndarray  # distinct scores, ascending
    bounds: np.ndarray  # for cut k = 0..K: first sorted row (cell) flagged (K: past the last, nobody)
    thresholds: np.ndarray  # a threshold realising each cut (the roundest between distinct scores)
    weights: np.ndarray | None = None  # cells: the rows each holds (None: one row each)
    rows_at: np.ndarray | None = None  # cells: the rows before cut k's first flagged row (None: ``bounds``)
    hi: np.ndarray | None = None  # cells spanning scores: each one's highest score (None: ``u``, one score each)

    @property
    def K(self) -> int:
        return len(self.u)

    def cut_of(self, threshold: float) -> int:
        """The cut a threshold lands on (flag when score >= threshold)."""
        return int(np.searchsorted(self.u, threshold, side="left"))

    def counts(self, w: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """(tp, fp, tn, fn) at every cut; ``w`` weights rows (bootstrap counts, out-of-bag masks), or cells."""
        w = self.weights if w is None else w
        pos = self.y if w is None else w * self.y
        neg = (1 - self.y) if w is None else w * (1 - self.y)
        fn = np.concatenate([[0], np.cumsum(pos)])[self.bounds]
        tn = np.concatenate([[0], np.cumsum(neg)])[self.bounds]
        return fn[-1] - fn, tn[-1] - tn, tn, fn


def round_between(lo: float, hi: float) -> float:
    """The roundest number x with lo < x <= hi (fewest decimals): a threshold people can
    type that makes exactly the same decisions as any other in the gap."""
    big = max(abs(lo), abs(hi))
    start = -math.floor(math.log10(big)) - 1 if big > 0 else 0
    for d in range(start, start + 18):
        scale = 10.0 ** d
        x = math.floor(hi * scale) / scale
        if lo < x <= hi:
            return float(x)
    return float(hi)


def round_between_many(lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """:func:`round_between` of every pair (lo, hi), vectorised over the pairs: the same decimals
    tried in the same order with the same floating-point steps, so the same numbers bit for bit."""
    lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    big = np.maximum(np.abs(lows), np.abs(highs))
    # the first decimal tried comes from math.log10, as round_between's does (numpy's may differ in the last bit)
    start = np.array([-math.floor(math.log10(b)) - 1 if b > 0 else 0 for b in big.tolist()], dtype=np.int64)
    out = highs.copy()
    if not len(out):
        return out
    first = int(start.min())
    scales = np.array([10.0 ** d for d in range(first, int(start.max()) + 18)])  # Python's pow, as round_between
    todo = np.ones(len(out), dtype=bool)
    for step in range(18):
        scale = scales[start + step - first]
        x = np.floor(highs * scale) / scale + 0.0  # + 0.0: math.floor gives the integer 0, never -0.0
        hit = todo & (lows < x) & (x <= highs)
        out[hit] = x[hit]
        todo &= ~hit
        if not todo.any():
            break
    return out


def _cuts(scores: np.ndarray, y: np.ndarray) -> _Cuts:
    order = np.argsort(scores, kind="mergesort")
    s, yy = scores[order], y[order].astype(np.int64)
    u, starts = np.unique(s, return_index=True)
    bounds = np.append(starts, len(s))
    return _Cuts(y=yy, u=u, bounds=bounds, thresholds=_thresholds(u))


def _thresholds(u: np.ndarray, hi: np.ndarray | None = None) -> np.ndarray:
    """Cut k is realised by any threshold in (u[k-1], u[k]]; the roundest one of each. With ``hi`` (cells
    spanning scores from ``u[k]`` to ``hi[k]``): any threshold in (hi[k-1], u[k]]."""
    hi = u if hi is None else hi
    span = max(float(hi[-1] - u[0]), abs(float(u[0])), abs(float(hi[-1])), 1.0)
    lows = np.concatenate([[u[0] - span], hi])
    highs = np.concatenate([u, [hi[-1] + span]])
    return round_between_many(lows, highs)


def _cells(u: np.ndarray, pos: np.ndarray, neg: np.ndarray, hi: np.ndarray | None = None) -> _Cuts:
    """The cuts over per-distinct-score counts: the rows with score ``u[k]`` are ``neg[k]`` negatives and
    ``pos[k]`` positives; each (score, class) cell that holds rows is one weighted element, so every count
    at every cut is the one :func:`_cuts` gives on the rows themselves. With ``hi``, cell k holds the rows
    scored from ``u[k]`` to ``hi[k]`` (a score bin, not split): the cuts are those between cells, each count
    at each of them the rows' own (:mod:`readiness.engines.exact_business`)."""
    pos, neg = np.asarray(pos, dtype=np.int64), np.asarray(neg, dtype=np.int64)
    per = np.column_stack([neg, pos]).ravel()  # negatives, then positives, of each score
    keep = per > 0
    label = np.tile(np.array([0, 1], dtype=np.int64), len(u))[keep]
    weights = per[keep]
    bounds = np.concatenate([[0], np.cumsum(keep.reshape(-1, 2).sum(axis=1))])
    rows_at = np.concatenate([[0], np.cumsum(pos + neg)])
    u = np.asarray(u, dtype=float)
    hi = None if hi is None else np.asarray(hi, dtype=float)
    return _Cuts(y=label, u=u, bounds=bounds, thresholds=_thresholds(u, hi), weights=weights, rows_at=rows_at,
                 hi=None if hi is None or np.array_equal(hi, u) else hi)


def _cost(tp, fp, tn, fn, cost_fp: float, cost_fn: float):
    return cost_fp * fp + cost_fn * fn


def _best(cost: np.ndarray, near: int, among: np.ndarray | None = None) -> int:
    """Cheapest cut; among equally cheap cuts the one nearest ``near`` (the current threshold)."""
    idx = np.arange(len(cost)) if among is None else among
    c = cost[idx]
    lo = c.min()
    cand = idx[c <= lo + _TIE * max(1.0, abs(lo))]
    return int(cand[np.argmin(np.abs(cand - near))])


def _ratio(a, b):
    return None if b == 0 else float(a / b)


def _point(cuts: _Cuts, counts, k: int, n: int, cost_fp: float, cost_fn: float, threshold: float | None = None) -> dict:
    tp, fp, tn, fn = (int(c[k]) for c in counts)
    return {
        "threshold": float(cuts.thresholds[k] if threshold is None else threshold),
        "policy": FLAG_ALL if k == 0 else FLAG_NONE if k == cuts.K else THRESHOLD,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "flagged": tp + fp,
        "selection_rate": (tp + fp) / n,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "fpr": _ratio(fp, fp + tn),
        "accuracy": (tp + tn) / n,
        "cost_per_1000": PER * (cost_fp * fp + cost_fn * fn) / n,
    }


def _grid(cuts: _Cuts, n: int, extra: list[int]) -> np.ndarray:
    """Cuts for the reported curves: every cut when there are few, else ~200 at evenly
    spaced score quantiles, plus the cuts that must be on the curve."""
    if cuts.K + 1 <= GRID_POINTS:
        ks = np.arange(cuts.K + 1)
    else:
        rows = np.linspace(0, n, GRID_POINTS)
        ks = np.searchsorted(cuts.bounds if cuts.rows_at is None else cuts.rows_at, rows, side="left")
    return np.unique(np.concatenate([ks, [0, cuts.K], extra]).clip(0, cuts.K).astype(int))


def _interval(values: list[float], n_boot: int) -> list[float | None]:
    if len(values) < max(10, n_boot // 4):
        return [None, None]
    return [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]


# --- the analysis --------------------------------------------------------------------------------


def _validate(cost_fp: float, cost_fn: float) -> None:
    bad = [(name, v) for name, v in (("cost_fp", cost_fp), ("cost_fn", cost_fn))
           if v is None or not math.isfinite(v) or v < 0]
    if bad:
        name, v = bad[0]
        raise ValueError(f"{name} must be a finite number of zero or more; got {v!r}.")
    if cost_fp == 0 and cost_fn == 0:
        raise ValueError("cost_fp and cost_fn are both 0: every threshold costs nothing, so there is nothing to "
                         "optimise. Set the cost of a false positive and of a false negative.")


def analyse_scores(
    scores: np.ndarray,
    y: np.ndarray,
    *,
    threshold: float,
    cost_fp: float,
    cost_fn: float,
    target_accuracy: float | None = None,
    target_recall: float | None = None,
    probabilities: bool = False,
    n_boot: int = 200,
    seed: int = 0,
) -> dict:
    """Cost, rates and confusion counts over thresholds; the cheapest threshold with a
    bootstrap interval; the current threshold against it and against the trivial policies.

    ``scores``: one score per row (positive when score >= threshold), NaN-free;
    ``y``: 1 for the positive label, 0 otherwise. Returns plain JSON values.
    """
    _validate(cost_fp, cost_fn)
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(y).astype(int)
    n = len(scores)
    if n == 0:
        raise ValueError("no scored rows")
    cuts = _cuts(scores, y)
    return _analyse(cuts, n, int(y.sum()), lambda n_boot, seed: _row_draws(n, n_boot, seed), lambda: auc_ci(y, scores),
                    threshold=threshold, cost_fp=cost_fp, cost_fn=cost_fn, target_accuracy=target_accuracy,
                    target_recall=target_recall, probabilities=probabilities, n_boot=n_boot, seed=seed)


def analyse_counts(u: np.ndarray, pos: np.ndarray, neg: np.ndarray, hi: np.ndarray | None = None,
                   **settings) -> dict:
    """:func:`analyse_scores` (its keyword arguments) from the rows per distinct score and class (``u``
    ascending, ``pos[k]`` positive and ``neg[k]`` negative rows scored ``u[k]``), without laying the rows out:
    every figure but the bootstrap intervals is the one :func:`analyse_scores` gives on those rows (the ROC AUC
    interval from DeLong's placement values per score). The bootstrap resamples the (score, class) cells
    (:func:`_cell_draws`). With ``hi`` (cells spanning scores ``u[k]``..``hi[k]``), the cuts are those between
    cells; ``distinct_scores`` is then None and ``score_cells`` the number of cells."""
    u = np.asarray(u, dtype=float)
    pos, neg = np.asarray(pos, dtype=np.int64), np.asarray(neg, dtype=np.int64)
    n = int(pos.sum() + neg.sum())
    _validate(settings.get("cost_fp"), settings.get("cost_fn"))
    if n == 0:
        raise ValueError("no scored rows")
    cuts = _cells(u, pos, neg, hi)
    return _analyse(cuts, n, int(pos.sum()), lambda n_boot, seed: _cell_draws(cuts.weights, n, n_boot, seed),
                    lambda: auc_ci_counts(pos, neg), **settings)


def _row_draws(n: int, n_boot: int, seed: int):
    """The row bootstrap: each resample's draws per row, and its out-of-bag rows (1 when never drawn)."""
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n)
        yield w, (w == 0).astype(np.int64)


CELL_BOOTSTRAP = ("bootstrap over the (score, class) cells: each resample's draws per cell are multinomial over every "
                  "row (n draws, the in-bag counts a row bootstrap gives per cell); the out-of-bag rows of a cell of "
                  "m rows drawn c times are Binomial(m, (1 − 1/m)^c) (exact when m = 1; else the exact mean, an "
                  "approximate spread)")


def _cell_draws(weights: np.ndarray, n: int, n_boot: int, seed: int):
    """The row bootstrap's counts per cell (:data:`CELL_BOOTSTRAP`): the draws landing in each cell are
    Multinomial(n, weights / n), exactly as when n rows are drawn with replacement; given c draws in a cell of
    m rows, its rows never drawn are counted as Binomial(m, (1 − 1/m)^c) (a row is missed with probability
    (1 − 1/m)^c; the rows' misses are taken as independent)."""
    rng = np.random.default_rng(seed)
    p = weights / n
    many = np.flatnonzero(weights > 1)  # cells of one row are out of bag exactly when not drawn
    m_many, miss = weights[many], 1.0 - 1.0 / weights[many]
    for _ in range(n_boot):
        w = rng.multinomial(n, p)
        oob = (w == 0).astype(np.int64)
        oob[many] = rng.binomial(m_many, miss ** w[many])
        yield w, oob


def auc_ci_counts(pos: np.ndarray, neg: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """:func:`readiness.stats.auc_ci` from the positive and negative rows at each distinct score (ascending):
    DeLong's placement values depend only on a row's score and class, so the AUC and its variance are sums
    over the scores, weighted by their rows."""
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    m, n = float(pos.sum()), float(neg.sum())
    if m == 0 or n == 0:
        return (math.nan, math.nan)
    v10 = (np.cumsum(neg) - neg / 2) / n  # negatives scored below a positive (ties one half)
    v01 = (m - np.cumsum(pos) + pos / 2) / m  # positives scored above a negative (ties one half)
    auc = float((pos * v10).sum() / m)
    mean01 = float((neg * v01).sum() / n)
    var = ((pos * (v10 - auc) ** 2).sum() / (m - 1) / m if m > 1 else 0.0) + \
        ((neg * (v01 - mean01) ** 2).sum() / (n - 1) / n if n > 1 else 0.0)
    from readiness.stats import auc_interval

    return auc_interval(auc, float(var), int(m), int(n), alpha=alpha)


def _analyse(cuts: _Cuts, n: int, P: int, resamples, auc, *, threshold: float, cost_fp: float, cost_fn: float,
             target_accuracy: float | None = None, target_recall: float | None = None, probabilities: bool = False,
             n_boot: int = 200, seed: int = 0) -> dict:
    """The analysis over the cuts of ``n`` rows (``P`` positives); ``resamples(n_boot, seed)`` yields each bootstrap
    resample's (in-bag weights, out-of-bag weights) over the cuts' elements; ``auc()``: the ROC AUC interval."""
    draws = resamples(n_boot, seed)
    counts = cuts.counts()
    cost = _cost(*counts, cost_fp, cost_fn)
    K = cuts.K
    k0 = cuts.cut_of(threshold)
    k_opt = _best(cost, k0)
    current = _point(cuts, counts, k0, n, cost_fp, cost_fn, threshold=threshold)
    optimal = _point(cuts, counts, k_opt, n, cost_fp, cost_fn)
    flag_all, flag_none = PER * cost[0] / n, PER * cost[K] / n
    k_triv = 0 if cost[0] < cost[K] else K
    cheaper_trivial = FLAG_ALL if k_triv == 0 else FLAG_NONE
    savings = current["cost_per_1000"] - optimal["cost_per_1000"]

    # bootstrap: re-find the cheapest threshold (and the cheaper trivial policy) on each
    # resample; judge both on the rows the resample left out, so the interval carries the
    # cost of picking a threshold from data.
    thr_b, sav_b, adv_b = [], [], []
    for w, oob in draws:
        c_in = _cost(*cuts.counts(w), cost_fp, cost_fn)
        kb = _best(c_in, k0)
        kt = 0 if c_in[0] < c_in[K] else K
        thr_b.append(float(cuts.thresholds[kb]))
        n_oob = int(oob.sum())
        if n_oob == 0:
            continue
        c_out = _cost(*cuts.counts(oob), cost_fp, cost_fn) * PER / n_oob
        sav_b.append(float(c_out[k0] - c_out[kb]))
        adv_b.append(float(c_out[kt] - c_out[kb]))
    optimal["threshold_ci"] = _interval(thr_b, n_boot)

    m: dict = {
        "n": n,
        "positives": P,
        "prevalence": P / n,
        "cost_fp": float(cost_fp),
        "cost_fn": float(cost_fn),
        "scores_are_probabilities": bool(probabilities),
        "distinct_scores": int(K) if cuts.hi is None else None,
        **({} if cuts.hi is None else {"score_cells": int(K)}),
        "score_min": float(cuts.u[0]),
        "score_max": float(cuts.u[-1] if cuts.hi is None else cuts.hi[-1]),
        "current": current,
        "optimal": optimal,
        "savings_per_1000": float(savings),
        "savings_share": _ratio(savings, current["cost_per_1000"]),
        "savings_ci": _interval(sav_b, n_boot),
        "flag_all_cost_per_1000": float(flag_all),
        "flag_none_cost_per_1000": float(flag_none),
        "cheaper_trivial": cheaper_trivial,
        "model_advantage_per_1000": float(PER * (cost[k_triv] - cost[k_opt]) / n),
        "model_advantage_ci": _interval(adv_b, n_boot),
        "current_vs_trivial_per_1000": float(PER * cost[k_triv] / n - current["cost_per_1000"]),
    }

    # the threshold the costs imply for calibrated probabilities: flag when p·cost_fn >= (1-p)·cost_fp
    m["bayes"] = None
    if probabilities:
        tb = cost_fp / (cost_fp + cost_fn)
        kb = cuts.cut_of(tb)
        lo, hi = optimal["threshold_ci"]
        m["bayes"] = {
            "threshold": float(tb),
            "cost_per_1000": float(PER * cost[kb] / n),
            "extra_cost_per_1000": float(PER * (cost[kb] - cost[k_opt]) / n),
            "within_ci": None if lo is None else bool(lo <= tb <= hi),
        }

    tp, fp, tn, fn = counts
    acc = (tp + tn) / n
    m["target_accuracy"] = None
    if target_accuracy is not None:
        ok = np.flatnonzero(acc >= target_accuracy - 1e-12)
        k_best_acc = _best(-acc, k0)
        entry = {"target": float(target_accuracy), "reachable": bool(len(ok)),
                 "best_accuracy": float(acc[k_best_acc]), "best_accuracy_threshold": float(cuts.thresholds[k_best_acc]),
                 "current_accuracy": float(acc[k0])}
        if len(ok):
            k = _best(cost, k0, among=ok)
            pt = _point(cuts, counts, k, n, cost_fp, cost_fn)
            correct = int(tp[k] + tn[k])
            entry.update(threshold=pt["threshold"], accuracy=pt["accuracy"], accuracy_ci=list(clopper_pearson(correct, n)),
                         cost_per_1000=pt["cost_per_1000"], selection_rate=pt["selection_rate"],
                         lowest_threshold=float(cuts.thresholds[ok.min()]),
                         highest_threshold=float(cuts.thresholds[ok.max()]))
        m["target_accuracy"] = entry

    m["target_recall"] = None
    if target_recall is not None and P > 0:
        rec = tp / P
        ok = np.flatnonzero(rec >= target_recall - 1e-12)  # recall falls as the threshold rises; cut 0 always reaches 1
        k = int(ok.max())
        pt = _point(cuts, counts, k, n, cost_fp, cost_fn)
        m["target_recall"] = {"target": float(target_recall), "threshold": pt["threshold"], "recall": pt["recall"],
                              "recall_ci": list(clopper_pearson(int(tp[k]), P)), "precision": pt["precision"],
                              "selection_rate": pt["selection_rate"], "cost_per_1000": pt["cost_per_1000"],
                              "current_recall": float(rec[k0])}

    ks = _grid(cuts, n, [k0, k_opt])
    curve = {key: [] for key in ("threshold", "tp", "fp", "tn", "fn", "selection_rate", "precision", "recall", "fpr",
                                 "accuracy", "cost_per_1000")}
    for k in ks:
        pt = _point(cuts, counts, int(k), n, cost_fp, cost_fn, threshold=threshold if k == k0 else None)
        for key in curve:
            curve[key].append(pt[key])
    m["curve"] = curve
    m["bootstrap"] = {"resamples": n_boot, "seed": seed, "method": "out-of-bag",
                      "used": len(sav_b)}
    m["rule"] = {"material_share": MATERIAL_SHARE}
    # does the model rank cases at all? (the review's one AUC interval, stats.auc_ci): a model that ranks
    # but cannot beat the trivial policy at these costs is an economic fact, not a useless model
    auc_lo, auc_hi = auc() if 0 < P < n and K > 1 else (math.nan, math.nan)
    m["roc_auc_ci"] = [None if not math.isfinite(auc_lo) else float(auc_lo),
                       None if not math.isfinite(auc_hi) else float(auc_hi)]
    m["ranks_cases"] = bool(math.isfinite(auc_lo) and auc_lo > 0.5)
    m["costs_set"] = (float(cost_fp), float(cost_fn)) != (1.0, 1.0)
    return m


def _binary_inputs(ctx: ReviewContext) -> tuple[np.ndarray, np.ndarray, int]:
    if ctx.task == "regression":
        raise SkipCheck("A decision threshold turns scores into yes/no decisions; this is a regression model "
                        "(numeric predictions), so there is no threshold to choose.")
    if ctx.task != "binary":
        raise SkipCheck(f"The model chooses among {len(ctx.classes)} classes; a single decision threshold applies "
                        "only to yes/no (binary) decisions.")
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = ~np.isnan(scores)
    if not ok.any():
        raise SkipCheck("No holdout row has a score, so no threshold can be evaluated.")
    return scores[ok], ctx.y_test_binary[ok], int((~ok).sum())


def analyse(ctx: ReviewContext, *, cost_fp: float | None = None, cost_fn: float | None = None,
            target_recall: float | None = None) -> dict:
    """:func:`analyse_scores` on a review's holdout, with its settings (costs overridable
    for what-ifs). Raises :class:`SkipCheck` when the task is not binary."""
    s = ctx.settings
    scores, y, missing = _binary_inputs(ctx)
    if target_recall is None:
        target_recall = getattr(s, "target_recall", None)
    m = analyse_scores(scores, y, threshold=s.threshold, cost_fp=s.cost_fp if cost_fp is None else cost_fp,
                       cost_fn=s.cost_fn if cost_fn is None else cost_fn, target_accuracy=s.target_accuracy,
                       target_recall=target_recall, probabilities=ctx.scores_are_probabilities,
                       n_boot=s.bootstrap, seed=s.random_state)
    m["rows_without_score"] = missing
    m["positive_label"] = ctx.positive_label
    return m


def decision_at(ctx: ReviewContext, threshold: float, *, cost_fp: float | None = None,
                cost_fn: float | None = None) -> dict:
    """Confusion counts, rates and cost per 1,000 decisions at one threshold (a what-if)."""
    s = ctx.settings
    cost_fp = s.cost_fp if cost_fp is None else cost_fp
    cost_fn = s.cost_fn if cost_fn is None else cost_fn
    _validate(cost_fp, cost_fn)
    scores, y, _ = _binary_inputs(ctx)
    cuts = _cuts(scores, y)
    return _point(cuts, cuts.counts(), cuts.cut_of(threshold), len(scores), cost_fp, cost_fn, threshold=threshold)


def per_thousand(point: dict) -> dict:
    """The confusion counts scaled to 1,000 decisions, rounded so the parts add up."""
    n = point["tp"] + point["fp"] + point["tn"] + point["fn"]
    flagged = round(PER * (point["tp"] + point["fp"]) / n)
    tp = min(flagged, round(PER * point["tp"] / n))
    passed = PER - flagged
    fn = min(passed, round(PER * point["fn"] / n))
    return {"flagged": flagged, "tp": tp, "fp": flagged - tp, "passed": passed, "fn": fn, "tn": passed - fn}


def describe_decision(point: dict, *, positive: str = "positive", noun: str = "cases") -> str:
    """The confusion matrix in words, per 1,000 decisions (markdown-free plain text)."""
    q = per_thousand(point)
    flagged = f"the model flags {q['flagged']:,}" if q["flagged"] else "the model flags none"
    text = f"Of every 1,000 {noun}, {flagged}"
    if q["flagged"]:
        text += (f": {q['tp']:,} of them truly are {positive} and {q['fp']:,} are false alarms")
    text += "."
    if q["passed"]:
        text += (f" Of the {q['passed']:,} it lets through, {q['fn']:,} truly are {positive} and are missed.")
    else:
        text += " It lets none through, so it misses none."
    return text


# --- the check -----------------------------------------------------------------------------------


def fmt_cost(x: float, *, together: tuple = ()) -> str:
    """A cost per 1,000: whole numbers when large, one decimal from 1, three significant digits when small.
    ``together``: the figures shown beside it (a cost and its interval), which then share its decimals,
    chosen from the largest of them: 95.3 with 80.1 and 102 reads '95', '80', '102'."""
    if x is None:
        return "–"
    ax = max([abs(x)] + [abs(v) for v in together if v is not None and math.isfinite(v)])
    if together and ax < 1:
        text = f"{x:,.{max(0, 2 - math.floor(math.log10(ax)))}f}" if ax > 0 else f"{x:.3g}"
    else:
        text = f"{x:,.0f}" if ax >= 100 else f"{x:,.1f}" if ax >= 1 else f"{x:.3g}"
    return text.replace("-", "−")


def fmt_costs(value: float | None, ci) -> tuple[str, str]:
    """A cost and its 95% interval at one number of decimals (:func:`fmt_cost` with ``together``)."""
    if not ci or ci[0] is None:
        return fmt_cost(value), "interval not available"
    figures = tuple(v for v in (value, *ci) if v is not None)
    return (fmt_cost(value, together=figures) if value is not None else "–",
            f"95% interval {fmt_cost(ci[0], together=figures)} to {fmt_cost(ci[1], together=figures)}")


def fmt_threshold(x: float) -> str:
    """All the digits a reported threshold has (they are round already): 0.5, 0.1554, 1240."""
    return f"{x:.6g}".replace("-", "−")


def fmt_cut(x: float) -> str:
    """A raw cut point (an observed score) to three significant digits, never rounded onto 0 or 1:
    0.1459 -> '0.146', 0.99952 -> '0.9995' (not '1', which would read as 'flags no one')."""
    for d in range(3, 8):
        text = f"{x:.{d}g}"
        if float(text) not in (0.0, 1.0) or x in (0.0, 1.0):
            return text.replace("-", "−")
    return f"{x:.8g}".replace("-", "−")


def fmt_approx(x: float) -> str:
    """Three significant digits, for interval ends and formula values."""
    return f"{x:.3g}".replace("-", "−")


def _bayes(b: dict) -> str:
    return f"{b['threshold']:.3g}"


def compared(a: float, b: float) -> str:
    """'less than' | 'the same as' | 'more than': a against b as the reader sees them (equal when both
    print alike), so a sentence never contradicts its own numbers."""
    if fmt_cost(a) == fmt_cost(b):
        return "the same as"
    return "less than" if a < b else "more than"


def no_gain_summary(m: dict, units: str) -> str:
    """The summary when the holdout does not show that the model is cheaper than the cheaper trivial
    policy: worded from the numbers (point costs and the advantage's interval)."""
    opt = m["optimal"]["cost_per_1000"]
    key = m["cheaper_trivial"]
    triv, triv_cost = POLICY_GERUND[key], m[f"{key}_cost_per_1000"]
    head = (f"Even at its cheapest threshold the model costs {fmt_cost(opt)} {units}, "
            f"{compared(opt, triv_cost)} {triv} ({fmt_cost(triv_cost)})")
    if compared(opt, triv_cost) == "less than":
        saving, band = fmt_costs(triv_cost - opt, m["model_advantage_ci"])
        return (f"{head}, but the holdout cannot show that this saving of {saving} is real "
                f"({band} on new data): the model is not shown to pay for itself.")
    return f"{head}: on this holdout the model does not pay for itself."


def _ci(ci, fmt=fmt_cost) -> str:
    if not ci or ci[0] is None:
        return "interval not available"
    if fmt is fmt_cost:  # both bounds at one number of decimals
        return fmt_costs(None, ci)[1]
    return f"95% interval {fmt(ci[0])} to {fmt(ci[1])}"


def policy_text(point: dict) -> str:
    if point["policy"] == FLAG_ALL:
        return f"{fmt_threshold(point['threshold'])} (flags everyone)"
    if point["policy"] == FLAG_NONE:
        return "above every score (flags no one)"
    return fmt_threshold(point["threshold"])


def verdict(m: dict) -> str:
    """'fail' | 'warn' | 'pass' from the metrics (the rules documented in docs/checks.md)."""
    adv_lo = m["model_advantage_ci"][0]
    if (adv_lo is not None and adv_lo <= 0) or m["model_advantage_per_1000"] <= 0:
        if m["distinct_scores"] == 1:
            return "fail"
        if not m.get("ranks_cases", False):
            # no evidence that the scores separate cases: fail when the holdout shows they are of no material use
            # (the AUC interval's top below USEFUL_AUC), warn when it is too small to tell
            hi = (m.get("roc_auc_ci") or [None, None])[1]
            return "fail" if hi is None or hi < USEFUL_AUC else "warn"
        # the model ranks cases, but at these costs flagging is not worth it: the reviewer's costs make that
        # a question for the business (warn); without costs (equal by default) it is not judged
        return "warn" if m.get("costs_set", True) else "pass"
    sav_lo = m["savings_ci"][0]
    if sav_lo is not None and sav_lo > 0 and (m["savings_share"] or 0) >= MATERIAL_SHARE:
        return "warn"
    return "pass"


@register("business.threshold", title="Business threshold: the decision in money", area="business",
          antipatterns=("pest",), order=70,
          task_titles={"regression": "Cost of errors: over- and under-prediction in money",
                       "multiclass": "Cost of decisions: the cost matrix in money"})
def threshold(ctx: ReviewContext) -> Outcome:
    """Expected cost per 1,000 decisions, 1000·(cost_fp·FP + cost_fn·FN)/n, at every
    distinct holdout score used as threshold (flag when score ≥ threshold); the cheapest
    threshold with a 95% bootstrap interval (resample holdout rows, re-find the cheapest;
    savings judged on the rows each resample left out); the current threshold against it
    and against the trivial policies (flag everyone, flag no one); the threshold the costs
    imply for calibrated probabilities, cost_fp/(cost_fp+cost_fn); and the thresholds
    that reach the required accuracy or recall. Regression: the cost of over- and
    under-prediction per unit (``--cost-over``, ``--cost-under``) per 1,000 predictions and
    the cheapest constant shift (a quantile of the residuals) with an out-of-bag saving.
    Multiclass: a cost matrix (``--cost-matrix``): ``cost_per_1000`` of the model's decisions
    and ``cost_per_1000_best_rule`` of the expected-cost rule, with intervals."""
    if ctx.task in ("regression", "multiclass"):  # over/under costs, a cost matrix
        from readiness.checks.business_tasks import task_cost

        return task_cost(ctx)
    try:
        m = analyse(ctx)
    except ValueError as exc:
        raise SkipCheck(f"The business costs cannot be used: {exc}") from None
    return threshold_outcome(ctx, m)


def _what_ran(ctx: ReviewContext, m: dict) -> str:
    """"The holdout", or the engine's sample of it when the check ran on one (the holdout file's rows exceed
    the rows the check saw)."""
    whole = next((f.rows for f in ctx.input_files if f.role == "test" and f.rows), None)
    seen = m["n"] + m.get("rows_without_score", 0) + (getattr(ctx, "unlabelled", None) or {}).get("test", 0)
    return "The holdout" if not whole or whole <= seen else f"The sample of {m['n']:,} of the holdout's {whole:,} rows"


def threshold_outcome(ctx: ReviewContext, m: dict) -> Outcome:
    """The check's verdict, findings and summary from :func:`analyse`'s metrics: one function for the
    in-memory check and any path that forms the same metrics another way (an engine, from counts)."""
    s = ctx.settings
    cur, opt = m["current"], m["optimal"]
    positive = f"{ctx.target} = {ctx.positive_label}"
    triv = POLICY_GERUND[m["cheaper_trivial"]]
    triv_cost = m[f"{m['cheaper_trivial']}_cost_per_1000"]
    units = "per 1,000 decisions (in your cost units)"
    status = verdict(m)
    findings: list[Finding] = []

    if m["distinct_scores"] == 1:
        findings.append(Finding(severity=Severity.FAIL, message=(
            f"Every holdout row has the same score ({fmt_threshold(m['score_min'])}): no "
            "threshold separates one case from another, so the model can only flag everyone or no one."),
            evidence={"distinct_scores": 1}))
    if status == "fail":
        advantage, band = fmt_costs(m["model_advantage_per_1000"], m["model_advantage_ci"])
        findings.append(Finding(severity=Severity.FAIL, message=(
            f"Even at its cheapest threshold the model costs {fmt_cost(opt['cost_per_1000'])} {units}, and "
            f"the simple policy of {triv} costs {fmt_cost(triv_cost)}: the model's advantage is "
            f"{advantage} ({band} on new data), so the holdout "
            f"does not show that using the model is cheaper than {triv}."),
            evidence={"optimal_cost_per_1000": opt["cost_per_1000"], "trivial_cost_per_1000": triv_cost,
                      "model_advantage_ci": m["model_advantage_ci"]}))
    adv_lo = m["model_advantage_ci"][0]
    no_gain = (adv_lo is not None and adv_lo <= 0) or m["model_advantage_per_1000"] <= 0
    ranks_only = no_gain and status != "fail" and m["ranks_cases"]  # ranks cases, yet no cheaper than trivial
    too_small = no_gain and status == "warn" and not m["ranks_cases"]  # the holdout cannot tell either way
    if too_small:
        lo, hi = m["roc_auc_ci"]
        findings.append(Finding(severity=Severity.WARN, message=(
            no_gain_summary(m, units) + f" Nor can this holdout tell whether the scores rank cases at all (ROC AUC "
            f"95% interval {lo:.3f} to {hi:.3f}, reaching both 0.5 and {USEFUL_AUC:g}): more labelled cases would "
            "settle it."), evidence={"model_advantage_ci": m["model_advantage_ci"], "roc_auc_ci": m["roc_auc_ci"]}))
    if ranks_only:
        lo, hi = m["roc_auc_ci"]
        costs = (f"at your costs ({s.cost_fp:g} per false alarm, {s.cost_fn:g} per miss)" if m["costs_set"] else
                 "with no costs set, every error counting the same")
        findings.append(Finding(severity=Severity.WARN if status == "warn" else Severity.INFO, message=(
            f"The model ranks cases better than chance (ROC AUC 95% interval {lo:.3f} to {hi:.3f}), but {costs} "
            f"its cheapest threshold costs {fmt_cost(opt['cost_per_1000'])} {units} against "
            f"{fmt_cost(triv_cost)} for {triv} ({_ci(m['model_advantage_ci'])} for the model's advantage on new "
            "data): the signal is too weak, or the cases too rare, for flagging to pay. "
            + ("Check the costs with the business owner; if they hold, the model does not pay for itself."
               if m["costs_set"] else "Set the cost of a false alarm and of a miss to judge the threshold in money.")),
            evidence={"optimal_cost_per_1000": opt["cost_per_1000"], "trivial_cost_per_1000": triv_cost,
                      "model_advantage_ci": m["model_advantage_ci"], "roc_auc_ci": m["roc_auc_ci"]}))
    sav, share = m["savings_per_1000"], m["savings_share"]
    if sav > 0 and not (ranks_only or too_small):
        sev = Severity.WARN if status == "warn" else Severity.INFO
        direction = "Lowering" if opt["threshold"] < cur["threshold"] else "Raising"
        shown = m["savings_ci"][0] is not None and m["savings_ci"][0] > 0
        if status == "warn":
            tail = (f"The saving holds up on resampling and is more than {MATERIAL_SHARE:.0%} of today's cost: the "
                    "current threshold is not the cheapest.")
        elif status == "pass" and not shown:
            tail = (f"{_what_ran(ctx, m)} is too small to show that this saving is real; a larger holdout, with "
                    f"more {positive} cases, would settle it.")
        elif status == "pass":
            tail = f"The saving is real but under {MATERIAL_SHARE:.0%} of today's cost."
        else:
            tail = ""
        lo, hi = opt["threshold_ci"]
        if lo is not None and not lo <= cur["threshold"] <= hi:
            tail += (f" The current threshold lies outside the 95% interval of the cheapest one "
                     f"({fmt_approx(lo)} to {fmt_approx(hi)}).")
        findings.append(Finding(severity=sev, message=(
            f"{direction} the threshold {change(fmt_threshold(cur['threshold']), policy_text(opt))} would cut the "
            f"expected cost {change(fmt_cost(cur['cost_per_1000']), fmt_cost(opt['cost_per_1000']))} {units}: a "
            f"saving of {fmt_costs(sav, m['savings_ci'])[0]} "
            f"({_pct(share)} of today's cost; {fmt_costs(sav, m['savings_ci'])[1]} when the threshold is picked from "
            "data and "
            f"used on new cases). It would flag {_pct(opt['selection_rate'])} of cases instead of "
            f"{_pct(cur['selection_rate'])}, catching {_pct(opt['recall'])} of the {positive} cases instead "
            f"of {_pct(cur['recall'])}. {tail.strip()}").strip(),
            evidence={"current_threshold": cur["threshold"], "optimal_threshold": opt["threshold"],
                      "optimal_threshold_ci": opt["threshold_ci"], "savings_per_1000": sav,
                      "savings_ci": m["savings_ci"], "savings_share": share}))
    if m["current_vs_trivial_per_1000"] < 0 and status != "fail" and not (ranks_only or too_small):
        findings.append(Finding(severity=Severity.WARN if status == "warn" else Severity.INFO, message=(
            f"At the current threshold the model costs {fmt_cost(cur['cost_per_1000'])} {units}, "
            f"{compared(cur['cost_per_1000'], triv_cost)} the simple policy of {triv} ({fmt_cost(triv_cost)}): as set "
            "today, using the model loses money."),
            evidence={"current_cost_per_1000": cur["cost_per_1000"], "trivial_cost_per_1000": triv_cost}))
    b = m["bayes"]
    if b is not None:
        if b["within_ci"] is False:
            findings.append(Finding(severity=Severity.INFO, message=(
                f"If the scores were calibrated probabilities, the costs would put the threshold at "
                f"{_bayes(b)} (= {s.cost_fp:g} / ({s.cost_fp:g} + {s.cost_fn:g})); the holdout's cheapest "
                f"is {policy_text(opt)} ({_ci(opt['threshold_ci'], fmt_approx)}), and {_bayes(b)} would cost "
                f"{fmt_cost(b['extra_cost_per_1000'])} more {units}. The probabilities are probably miscalibrated: "
                "pick the threshold from data, or recalibrate (see Calibration)."),
                evidence=b))
        elif b["within_ci"]:
            findings.append(Finding(severity=Severity.INFO, message=(
                f"The costs imply a threshold of {_bayes(b)} for calibrated probabilities "
                f"(= {s.cost_fp:g} / ({s.cost_fp:g} + {s.cost_fn:g})), inside the 95% interval of the holdout's "
                f"cheapest threshold ({fmt_approx(opt['threshold_ci'][0])} to {fmt_approx(opt['threshold_ci'][1])}): "
                "the scores behave like probabilities here."),
                evidence=b))
    ta = m["target_accuracy"]
    if ta is not None:
        if ta["reachable"]:
            msg = (f"The required accuracy {_pct(ta['target'])} is reached on the holdout at thresholds from "
                   f"{fmt_cut(ta['lowest_threshold'])} to {fmt_cut(ta['highest_threshold'])}; the cheapest of them, "
                   f"{fmt_threshold(ta['threshold'])}, gives {_pct(ta['accuracy'])} accuracy "
                   f"({_ci(ta['accuracy_ci'], _pct)}) at {fmt_cost(ta['cost_per_1000'])} {units}.")
            if ta["accuracy_ci"][0] < ta["target"]:
                msg += " The interval still reaches below the requirement."
        else:
            msg = (f"No threshold reaches the required accuracy {_pct(ta['target'])} on the holdout; the best is "
                   f"{_pct(ta['best_accuracy'])} at {fmt_threshold(ta['best_accuracy_threshold'])}. A threshold cannot fix "
                   "this; the model itself must improve (see Holdout performance).")
        findings.append(Finding(severity=Severity.INFO, message=msg, evidence=ta))
    tr = m["target_recall"]
    if tr is not None:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"To catch {_pct(tr['target'])} of the {positive} cases, flag when the score is at least {fmt_threshold(tr['threshold'])}: "
            f"recall {_pct(tr['recall'])} ({_ci(tr['recall_ci'], _pct)}), precision {_pct(tr['precision'])}, "
            f"{_pct(tr['selection_rate'])} of cases flagged, at {fmt_cost(tr['cost_per_1000'])} {units}."), evidence=tr))
    if m["rows_without_score"]:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{m['rows_without_score']:,} holdout rows have no score and were left out of the costs."),
            evidence={"rows_without_score": m["rows_without_score"]}))

    if status == "fail" or too_small:
        summary = no_gain_summary(m, units)
    elif ranks_only and m["costs_set"]:
        summary = (f"At your costs the model, though it ranks cases, is not shown to be cheaper than {triv}: "
                   f"{fmt_cost(opt['cost_per_1000'])} against {fmt_cost(triv_cost)} {units}.")
    elif ranks_only:
        summary = (f"No costs were set; with every error counting the same, {triv} is about as good as the model's "
                   f"cheapest threshold ({fmt_cost(opt['cost_per_1000'])} against {fmt_cost(triv_cost)} per 1,000 "
                   "decisions). Set the costs to judge the threshold in money.")
    elif status == "warn":
        summary = (f"The threshold {fmt_threshold(cur['threshold'])} costs {fmt_cost(cur['cost_per_1000'])} {units}; "
                   f"{policy_text(opt)} would cost {fmt_cost(opt['cost_per_1000'])}, {_pct(share)} less.")
    elif sav <= 0:
        summary = (f"The threshold {fmt_threshold(cur['threshold'])} is the cheapest on the holdout: "
                   f"{fmt_cost(cur['cost_per_1000'])} {units}, against {fmt_cost(triv_cost)} for {triv}.")
    elif m["savings_ci"][0] is None or m["savings_ci"][0] <= 0:
        summary = (f"The threshold {fmt_threshold(cur['threshold'])} costs {fmt_cost(cur['cost_per_1000'])} {units}; "
                   f"{policy_text(opt)} would cost {fmt_cost(opt['cost_per_1000'])} on the holdout, but the holdout "
                   f"cannot show that saving is real ({_ci(m['savings_ci'])}).")
    else:
        summary = (f"The threshold {fmt_threshold(cur['threshold'])} is within {MATERIAL_SHARE:.0%} of the cheapest: "
                   f"{fmt_cost(cur['cost_per_1000'])} against {fmt_cost(opt['cost_per_1000'])} {units}.")
    return Outcome(summary=summary, findings=findings, metrics=m)
