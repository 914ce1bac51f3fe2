"""The statistics behind the bias review: groups, rates, intervals, disparities, direction.

Pure functions of arrays and counts (no review context, no wording): the checks in
``readiness.checks.bias`` and ``readiness.checks.bias_categories`` call them and word the
results. Formulas and thresholds are documented in docs/checks.md ("Bias").

Direction. A binary view has a positive label; the review's *favourable label* says which
outcome is good for the person. ``positive_favorable`` is True when the positive label is
the favourable one (a loan approved), False when it is the adverse one (a default, a
re-arrest, "high risk"), None when nobody said (then no group is called disadvantaged).
Every directed rate is read from the harmed side:

* ``favorable_rate`` — share of the group predicted the favourable outcome (lower harms);
  the four-fifths rule runs on it;
* ``false_adverse_rate`` — of those whose actual outcome was favourable, the share
  predicted adverse (FPR when positive is adverse, FNR when positive is favourable;
  higher harms); ``true_favorable_rate`` is its complement;
* ``false_favorable_rate`` — of those whose actual outcome was adverse, the share still
  predicted favourable, the benefit of the doubt (FNR when positive is adverse, FPR when
  positive is favourable; lower harms);
* ``false_adverse_discovery_rate`` — of those predicted adverse, the share whose actual
  outcome was favourable (FDR when positive is adverse, false omission rate when positive
  is favourable; higher harms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from readiness.stats import clopper_pearson
from readiness.stats import rank_auc as stats_rank_auc

# --- thresholds (documented in docs/checks.md, "Bias") ---------------------------------
MISSING_GROUP = "(missing)"
OTHER_GROUP = "(other)"
INTERSECTION_SEP = " × "
SMALL_GROUP = 30  # holdout rows below which a group is "small": shown, never hidden, never failing alone
SMALL_CLASS = 5  # positives / negatives / flagged rows below which a rate is "small"
WARN_GAP = 0.10  # absolute gap in a rate (10 percentage points) that needs review
FAIL_GAP = 0.20  # gap that blocks, when beyond chance and not from a small group
FOUR_FIFTHS = 0.8  # favourable-rate ratio (lower / higher) below which selection differs materially
ALPHA = 0.05  # family-wise error rate of the "beyond chance" decisions of one check (Bonferroni)
MAX_GROUPS = 30  # groups per attribute; rarer values are pooled into "(other)"
NUMERIC_BINS = 5  # numeric sensitive columns with many values are cut into quantile bands
MAX_INTERSECTION_GROUPS = 60
# category thresholds
HISTORICAL_GAP = 0.10
MISSING_GAP = 0.05
CONFLICT_GAP = 0.01
SHARE_GAP = 0.05
SHARE_RATIO = 0.8
PROXY_WARN_AUC = 0.80
PROXY_NOTE_AUC = 0.70
ACCURACY_GAP_WARN = 0.05
ACCURACY_GAP_FAIL = 0.10
AUC_GAP_WARN = 0.05
AUC_GAP_FAIL = 0.10
CALIBRATION_GAP = 0.05
AMPLIFICATION_WARN = 0.05
AMPLIFICATION_FAIL = 0.10
FLIP_WARN = 0.01
HIDDEN_GAP = 0.10

_NAN = float("nan")


# --- small helpers ------------------------------------------------------------------------


def ci_list(lo, hi) -> list | None:
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)) or (isinstance(hi, float) and math.isnan(hi)):
        return None
    return [float(lo), float(hi)]


def label_text(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def map_distinct(values: np.ndarray, func, dtype) -> np.ndarray:
    """``func`` of every element of a (non-object or text) array, computed once per distinct value
    (NaN is one value)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([func(u) for u in uniques], dtype=dtype)[codes] if len(values) else np.empty(0, dtype=dtype)


def label_texts(values) -> np.ndarray:
    """:func:`label_text` of every element (an object array), computed once per distinct value.

    The same texts as ``[label_text(v) for v in values]``: numbers, booleans and dates are
    factorised (NaN is one value) and their distinct values converted; an array of strings
    is its own text; other object arrays convert each distinct (type, value) once, so that
    ``True``, ``1`` and ``1.0`` — equal in Python — keep their own texts."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.ravel()
    if arr.dtype != object:
        return map_distinct(arr, label_text, object)
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr.astype(object, copy=True)
    seen: dict = {}
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        key = (type(v), v)
        try:
            text = seen[key]
        except KeyError:
            text = seen[key] = label_text(v)
        except TypeError:  # an unhashable value
            text = label_text(v)
        out[i] = text
    return out


def prop(x: int, n: int) -> tuple[float | None, list | None]:
    """A proportion with its exact (Clopper–Pearson) 95% interval; None when n = 0."""
    if n <= 0:
        return None, None
    return x / n, ci_list(*clopper_pearson(int(x), int(n)))


def _wilson_z(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval at a given normal quantile ``z`` (``readiness.stats.wilson`` takes alpha)."""
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe_z(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float, float]:
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson_z(x1, n1, z)
    l2, u2 = _wilson_z(x2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def newcombe_diff(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> tuple[float | None, list | None]:
    """p1 − p2 with Newcombe's hybrid score interval (method 10, from Wilson intervals) at level 1 − alpha."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    d, lo, hi = _newcombe_z(x1, n1, x2, n2, NormalDist().inv_cdf(1 - alpha / 2))
    return d, [lo, hi]


P_FLOOR = 1e-12  # smallest p-value reported ("< 1e-12")


def newcombe_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of p1 = p2 that agrees with the Newcombe interval.

    The largest z at which Newcombe's interval still excludes 0 (bisection), so
    ``p < alpha`` exactly when the 1 − alpha interval excludes 0. Floored at ``P_FLOOR``.
    """
    if n1 <= 0 or n2 <= 0:
        return None

    def excludes(z: float) -> bool:
        _, lo, hi = _newcombe_z(x1, n1, x2, n2, z)
        return lo > 0 or hi < 0

    z_max = NormalDist().inv_cdf(1 - P_FLOOR / 2)
    if not excludes(1e-9):
        return 1.0
    if excludes(z_max):
        return P_FLOOR
    lo, hi = 1e-9, z_max  # excludes at lo, not at hi
    for _ in range(50):
        mid = (lo + hi) / 2
        if excludes(mid):
            lo = mid
        else:
            hi = mid
    return float(2 * (1 - NormalDist().cdf(lo)))


def boot_mean_ci(values: np.ndarray, *, n_boot: int, seed: int, alpha: float = 0.05) -> list | None:
    """Percentile bootstrap interval of a mean (vectorised; chunks keep memory small)."""
    return boot_mean_cis([values], n_boot=n_boot, seed=seed, alpha=alpha)[0]


def boot_mean_cis(arrays: list[np.ndarray], *, n_boot: int, seed: int, alpha: float = 0.05) -> list[list | None]:
    """:func:`boot_mean_ci` of several arrays of the same rows, drawing the resamples once: each
    array's interval is the one ``boot_mean_ci`` gives it alone (the same seed, the same rows)."""
    arrays = [np.asarray(v, dtype=float) for v in arrays]
    n = len(arrays[0]) if arrays else 0
    if n < 2:
        return [None] * len(arrays)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, 2_000_000 // n))
    means: list[list[np.ndarray]] = [[] for _ in arrays]
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(k, n))
        for out, values in zip(means, arrays, strict=True):
            out.append(values[idx].mean(axis=1))
    cis = []
    for parts in means:
        m = np.concatenate(parts)
        cis.append([float(np.quantile(m, alpha / 2)), float(np.quantile(m, 1 - alpha / 2))])
    return cis


def rank_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """ROC AUC by the Mann–Whitney rank sum (ties count one half); None when a class is absent.

    Scores with few distinct values (a proxy's bin probabilities) are ranked by counting:
    each value's average rank times its positives. The rank sum is a sum of half-integers,
    exact in floating point either way, so the AUC is :func:`readiness.stats.rank_auc`'s to the bit."""
    s = np.asarray(s, dtype=float)
    if len(s) < 1000 or len(s) > 10_000_000 or np.isnan(s).any():
        auc = stats_rank_auc(y, s)
        return None if math.isnan(auc) else auc
    pos = np.asarray(y).astype(bool)
    n1 = int(pos.sum())
    n0 = len(pos) - n1
    if n1 == 0 or n0 == 0:
        return None
    codes, uniques = pd.factorize(s, sort=True)
    if len(uniques) > len(s) // 20:  # many distinct scores: sorting is as fast
        return float(stats_rank_auc(pos, s))
    total = np.bincount(codes, minlength=len(uniques))
    avg_rank = (np.cumsum(total) - total) + (total + 1) / 2
    rank_sum = float((np.bincount(codes[pos], minlength=len(uniques)) * avg_rank).sum())
    return float((rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0))


def hanley_mcneil_auc(y: np.ndarray, s: np.ndarray) -> tuple[float | None, list | None]:
    """ROC AUC with the Hanley–McNeil (1982) standard error; None when a class is absent."""
    y = np.asarray(y).astype(int)
    s = np.asarray(s, dtype=float)
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    if n1 == 0 or n0 == 0:
        return None, None
    return hanley_mcneil_from(stats_rank_auc(y, s), n1, n0)


def hanley_mcneil_from(auc: float, n1: int, n0: int) -> tuple[float, list]:
    """:func:`hanley_mcneil_auc` from the AUC and the class counts."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)
    se = math.sqrt(max(var, 0.0))
    return float(auc), [max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)]


def missing_text(series: pd.Series) -> np.ndarray:
    from readiness.inputs.tables import MISSING_TOKENS

    miss = series.isna().to_numpy()
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        text = series.astype(str).str.strip().str.lower()
        miss = miss | text.isin(MISSING_TOKENS).to_numpy()
    return miss


# --- groups -------------------------------------------------------------------------------


@dataclass
class Attribute:
    """Group labels of one sensitive attribute (or a pairwise intersection) per row."""

    name: str
    columns: list[str]
    train: np.ndarray  # str labels per training row
    test: np.ndarray  # str labels per holdout row
    order: list[str]  # display order of the groups
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_intersection(self) -> bool:
        return len(self.columns) > 1


def _natural_order(labels: list[str]) -> list[str]:
    special = [g for g in (OTHER_GROUP, MISSING_GROUP) if g in labels]
    rest = [g for g in labels if g not in special]
    try:
        rest = sorted(rest, key=float)
    except ValueError:
        rest = sorted(rest, key=str.lower)
    return rest + special


def attribute_labels(train_col: pd.Series, test_col: pd.Series, name: str | None = None) -> Attribute:
    """Group labels for one sensitive column over both splits.

    Missing values (NaN and missing-value tokens such as '?') form the group
    "(missing)". Numeric columns with more than 10 distinct values are cut into
    ``NUMERIC_BINS`` quantile bands; beyond ``MAX_GROUPS`` values the rarest are pooled
    into "(other)".
    """
    name = name or str(train_col.name)
    both = pd.concat([train_col, test_col], ignore_index=True)
    miss = missing_text(both)
    notes: dict[str, Any] = {}
    numeric = pd.api.types.is_numeric_dtype(both) and not pd.api.types.is_bool_dtype(both)
    values = both[~miss]
    if numeric and values.nunique() > 10:
        v = values.to_numpy(float)
        edges = np.unique(np.quantile(v, np.linspace(0, 1, NUMERIC_BINS + 1)))
        idx = np.clip(np.searchsorted(edges[1:-1], both.to_numpy(float), side="right"), 0, len(edges) - 2)
        band = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        labels = np.array(band, dtype=object)[idx]
        order = band
        notes["binned"] = [float(e) for e in edges]
    else:
        labels = label_texts(both)
        order = None
    labels[miss] = MISSING_GROUP
    counts = pd.Series(labels).value_counts()
    if len(counts) > MAX_GROUPS:
        keep = set(counts.index[: MAX_GROUPS - 1]) | {MISSING_GROUP}
        pooled = [g for g in counts.index if g not in keep]
        labels = np.where(pd.Series(labels).isin(keep).to_numpy(), labels, OTHER_GROUP).astype(object)
        notes["pooled_into_other"] = len(pooled)
    present = set(labels)
    order = [g for g in order if g in present] + [g for g in (MISSING_GROUP,) if g in present] if order else \
        _natural_order(sorted(present))
    n_train = len(train_col)
    return Attribute(name=name, columns=[name], train=labels[:n_train].astype(str), test=labels[n_train:].astype(str),
                     order=order, notes=notes)


def intersection(a: Attribute, b: Attribute) -> Attribute | None:
    """Pairwise intersection 'a × b'; None when it would have too many groups."""
    tr = np.char.add(np.char.add(a.train.astype(str), INTERSECTION_SEP), b.train.astype(str))
    te = np.char.add(np.char.add(a.test.astype(str), INTERSECTION_SEP), b.test.astype(str))
    present = set(tr) | set(te)
    if len(present) > MAX_INTERSECTION_GROUPS:
        return None
    order = [f"{x}{INTERSECTION_SEP}{y}" for x in a.order for y in b.order if f"{x}{INTERSECTION_SEP}{y}" in present]
    return Attribute(name=f"{a.name}{INTERSECTION_SEP}{b.name}", columns=a.columns + b.columns,
                     train=tr.astype(object).astype(str), test=te.astype(object).astype(str), order=order)


# --- predictions as binary views ------------------------------------------------------------


@dataclass
class View:
    """One binary framing of the predictions: the positive label, or one class vs the rest."""

    label: str | None  # None for a binary task; the class for one-vs-rest
    y: np.ndarray  # 1 = actual positive
    pred: np.ndarray  # 1 = predicted positive
    score: np.ndarray | None  # probability of the positive, when the scores are probabilities


# --- per-group statistics ---------------------------------------------------------------------


def rate_stats(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None = None, *, n_boot: int = 200,
               seed: int = 0, bootstrap: bool = True) -> dict:
    """Counts and rates of one group for one binary view, each with a 95% interval.

    Proportions get exact Clopper–Pearson intervals; mean score and Brier score a
    percentile bootstrap. A rate whose denominator is 0 is None; ``small`` marks a group
    under ``SMALL_GROUP`` rows, ``small_metrics`` the rates resting on fewer than
    ``SMALL_CLASS`` cases.
    """
    y = np.asarray(y).astype(int)
    pred = np.asarray(pred).astype(int)
    n = int(len(y))
    pos, pp = int(y.sum()), int(pred.sum())
    tp = int(((y == 1) & (pred == 1)).sum())
    fp, fn = pp - tp, pos - tp
    out = rates_from_counts(tp, fp, fn, n - pos - fp)
    if score is not None:
        s = np.asarray(score, dtype=float)
        out["mean_score"] = float(s.mean()) if n else None
        out["brier"] = float(np.mean((s - y) ** 2)) if n else None
        out["calibration_gap"] = float(np.mean(s - y)) if n else None
        if bootstrap:  # one set of resamples for the three means (each as boot_mean_ci gives it alone)
            out["mean_score_ci"], out["brier_ci"], out["calibration_gap_ci"] = \
                boot_mean_cis([s, (s - y) ** 2, s - y], n_boot=n_boot, seed=seed) if n else (None, None, None)
    return out


def cell_counts(codes: np.ndarray, n_groups: int, cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Rows per group and cell: an (n_groups, n_cells) int64 array from each row's group code (negative: in
    no group) and cell index (0 .. n_cells − 1)."""
    codes, cell = np.asarray(codes, dtype=np.int64), np.asarray(cell, dtype=np.int64)
    keep = codes >= 0
    flat = np.bincount(codes[keep] * n_cells + cell[keep], minlength=n_groups * n_cells)
    return flat.reshape(n_groups, n_cells).astype(np.int64)


def confusion_cells(codes: np.ndarray, n_groups: int, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Binary confusion counts per group, an (n_groups, 4) int64 array of TP, FP, FN, TN (the order of
    :func:`rates_from_counts`), from each row's group code, actual and prediction (1 = positive)."""
    y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    return cell_counts(codes, n_groups, 2 * (1 - pred) + (1 - y), 4)


def rates_from_counts(tp: int, fp: int, fn: int, tn: int) -> dict:
    """:func:`rate_stats` without scores, from the four counts (merged partition summaries)."""
    n, pos, pp = tp + fp + fn + tn, tp + fn, tp + fp
    neg = n - pos
    out: dict[str, Any] = {"n": n, "positives": pos, "negatives": neg, "predicted_positive": pp,
                           "tp": tp, "fp": fp, "fn": fn, "tn": tn}
    for key, x, d in (("base_rate", pos, n), ("selection_rate", pp, n), ("tpr", tp, pos), ("fpr", fp, neg),
                      ("fnr", fn, pos), ("precision", tp, pp), ("accuracy", tp + tn, n)):
        out[key], out[f"{key}_ci"] = prop(x, d)
    out["small"] = n < SMALL_GROUP
    small_metrics = []
    if pos < SMALL_CLASS:
        small_metrics += ["tpr", "fnr"]
    if neg < SMALL_CLASS:
        small_metrics.append("fpr")
    if pp < SMALL_CLASS:
        small_metrics.append("precision")
    out["small_metrics"] = small_metrics
    return out


_RATE_KEYS = ("base_rate", "selection_rate", "tpr", "fpr", "fnr", "precision")


def multiclass_group(per_class: dict[str, dict], correct: int, n: int) -> dict:
    out: dict[str, Any] = {"n": n}
    out["accuracy"], out["accuracy_ci"] = prop(correct, n)
    for key in _RATE_KEYS[1:]:
        vals = [m[key] for m in per_class.values() if m.get(key) is not None]
        out[key] = float(np.mean(vals)) if vals else None
        out[f"{key}_ci"] = None
    out["base_rate"], out["base_rate_ci"] = None, None
    out["small"] = n < SMALL_GROUP
    out["small_metrics"] = sorted({k for m in per_class.values() for k in m["small_metrics"]})
    out["per_class"] = per_class
    out["correct"] = correct
    # the all-class view (issue 23): each class's recall in this group, with its exact interval
    out["recall_by_class"] = {c: {"recall": m.get("tpr"), "recall_ci": m.get("tpr_ci"), "n": m.get("positives")}
                              for c, m in per_class.items()}
    return out


def all_class_gaps(g: dict, ref: dict, *, alpha: float = ALPHA) -> dict:
    """Multiclass, all classes at once: the group's accuracy minus the reference's and each class's recall
    minus the reference's, Newcombe intervals at ``alpha``; ``worst_class``: the class with the largest
    recall gap whose interval excludes 0 (else the largest gap), and the group that bears it."""
    acc, acc_ci = newcombe_diff(g["correct"], g["n"], ref["correct"], ref["n"], alpha=alpha)
    rec = {}
    for c, pm in g["per_class"].items():
        rm = ref["per_class"].get(c)
        if rm is None or not pm.get("positives") or not rm.get("positives"):
            continue
        d, ci = newcombe_diff(pm["tp"], pm["positives"], rm["tp"], rm["positives"], alpha=alpha)
        rec[c] = {"recall_difference": d, "recall_difference_ci": ci,
                  "beyond_chance": ci is not None and (ci[0] > 0 or ci[1] < 0)}
    worst = None
    if rec:
        worst = max(rec, key=lambda c: (rec[c]["beyond_chance"], abs(rec[c]["recall_difference"] or 0)))
    return {"accuracy_difference": acc, "accuracy_difference_ci": acc_ci,
            "accuracy_beyond_chance": acc_ci is not None and (acc_ci[0] > 0 or acc_ci[1] < 0),
            "recall_difference_by_class": rec, "worst_class": worst,
            "worst_class_harms": None if worst is None else ("group" if rec[worst]["recall_difference"] < 0
                                                             else "reference")}


def amplification(y_g, p_g, y_r, p_r, *, n_boot: int, seed: int) -> dict:
    """|selection gap| − |base-rate gap| between a group and the reference, with a bootstrap interval.

    Rows are resampled within each group; because a row is one of four (label,
    decision) cells, a resample is a multinomial draw of the cell counts.
    """
    def cells(y, p):
        y, p = np.asarray(y).astype(int), np.asarray(p).astype(int)
        return np.array([((y == a) & (p == b)).sum() for a in (0, 1) for b in (0, 1)], dtype=float)

    cg, cr = cells(y_g, p_g), cells(y_r, p_r)
    ng, nr = cg.sum(), cr.sum()

    def stat(c, n):  # c: (..., 4) counts of (y0p0, y0p1, y1p0, y1p1)
        sel = (c[..., 1] + c[..., 3]) / n
        base = (c[..., 2] + c[..., 3]) / n
        return sel, base

    sg, bg = stat(cg, ng)
    sr, br = stat(cr, nr)
    label_gap, model_gap = float(bg - br), float(sg - sr)
    amp = abs(model_gap) - abs(label_gap)
    rng = np.random.default_rng(seed)
    bcg = rng.multinomial(int(ng), cg / ng, size=n_boot)
    bcr = rng.multinomial(int(nr), cr / nr, size=n_boot)
    s1, b1 = stat(bcg, ng)
    s2, b2 = stat(bcr, nr)
    boots = np.abs(s1 - s2) - np.abs(b1 - b2)
    return {"label_gap": label_gap, "model_gap": model_gap, "amplification": float(amp),
            "amplification_ci": [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))],
            "amplification_se": float(np.std(boots, ddof=1))}



def _bins(train_col: pd.Series, test_col: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Discretise one feature for the proxy test: training quantile bins or top categories; NaN its own bin."""
    numeric = pd.api.types.is_numeric_dtype(train_col) and not pd.api.types.is_bool_dtype(train_col)
    if numeric and train_col.nunique() > 20:
        v_tr = train_col.to_numpy(float)
        edges = np.unique(np.nanquantile(v_tr, np.linspace(0, 1, 11)[1:-1]))
        def code(s):
            v = s.to_numpy(float)
            c = np.searchsorted(edges, v, side="right")
            return np.where(np.isnan(v), len(edges) + 1, c)
        return code(train_col), code(test_col), len(edges) + 2
    # each value's text (NaN: its own); typed columns are converted once per distinct value (in an
    # object column 1, 1.0 and True are equal values with different texts: converted one by one)
    both = pd.concat([train_col, test_col], ignore_index=True)
    if both.dtype == object:
        codes, text = pd.factorize(both.astype(str).where(both.notna(), "\0nan").to_numpy())
        text = np.asarray(text, dtype=object)
    else:
        codes, uniques = pd.factorize(both, use_na_sentinel=True)
        text = np.array(list(pd.Series(uniques).astype(str)) + ["\0nan"], dtype=object)
    tr_codes, te_codes = codes[:len(train_col)], codes[len(train_col):]
    top = pd.Series(text[tr_codes]).value_counts().index[:MAX_GROUPS].tolist()
    idx = {v: i for i, v in enumerate(top)}
    other = len(top)
    bin_of = np.array([idx.get(v, other) for v in text])
    return bin_of[tr_codes], bin_of[te_codes], other + 1


def proxy_strength(train: pd.DataFrame, test: pd.DataFrame, attr: Attribute, features: list[str]) -> dict:
    """How well each feature alone (and all together, naive Bayes) predicts the groups of ``attr``.

    Group frequencies per feature bin are learned on training rows and scored on holdout
    rows; the result is the one-vs-rest ROC AUC averaged over groups (0.5 = no
    information, 1 = the feature reveals the group).
    """
    targets = [g for g in attr.order if g not in (MISSING_GROUP, OTHER_GROUP)
               and (attr.test == g).sum() >= SMALL_CLASS and (attr.train == g).sum() >= SMALL_CLASS]
    if len(targets) < 2:
        return {}
    tr_keep = np.isin(attr.train, targets)
    te_keep = np.isin(attr.test, targets)
    pos = {g: i for i, g in enumerate(targets)}
    g_tr = np.array([pos[x] for x in attr.train[tr_keep]])
    g_te = np.array([pos[x] for x in attr.test[te_keep]])
    k = len(targets)
    prior = np.bincount(g_tr, minlength=k) + 1.0
    log_post = np.tile(np.log(prior / prior.sum()), (int(te_keep.sum()), 1))
    out: dict[str, dict] = {}

    def auc_of(probs: np.ndarray) -> tuple[float, str, float]:
        aucs = []
        for j in range(k):
            yj = (g_te == j).astype(int)
            a = rank_auc(yj, probs[:, j])
            aucs.append(0.5 if a is None else a)
        best = int(np.argmax(aucs))
        mean = float(np.mean(aucs)) if k > 2 else float(aucs[0])
        return mean, targets[best], float(aucs[best])

    for f in features:
        b_tr, b_te, nb = _bins(train[f][tr_keep], test[f][te_keep])
        counts = np.bincount(b_tr * k + g_tr, minlength=nb * k).reshape(nb, k).astype(float)
        p_g_given_b = (counts + prior / prior.sum()) / (counts.sum(axis=1, keepdims=True) + 1.0)
        mean, best_g, best_auc = auc_of(p_g_given_b[b_te])
        out[f] = {"auc": mean, "best_group": best_g, "best_group_auc": best_auc}
        p_b_given_g = (counts + 1.0) / (counts.sum(axis=0, keepdims=True) + nb)
        log_post += np.log(p_b_given_g[b_te])
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    mean, best_g, best_auc = auc_of(post)
    return {"features": dict(sorted(out.items(), key=lambda kv: -kv[1]["auc"])),
            "all_features": {"auc": mean, "best_group": best_g, "best_group_auc": best_auc}, "groups": targets}



# --- direction: which prediction is good for the person ------------------------------------------

HARMS = ("favorable_rate", "false_adverse_rate", "false_favorable_rate", "false_adverse_discovery_rate")
# +1: a higher value harms the group; -1: a lower value harms it
HARM_SIGN = {"favorable_rate": -1, "false_adverse_rate": 1, "false_favorable_rate": -1,
             "false_adverse_discovery_rate": 1}
UNDIRECTED = ("selection_rate", "tpr", "fpr", "precision")
# rates judged on rows (never "few cases"): the others rest on a sub-population
ROW_RATES = ("favorable_rate", "selection_rate", "accuracy")


def rate_counts(m: dict, metric: str, positive_favorable: bool | None = None) -> tuple[int, int, str, str]:
    """(cases, denominator, conventional rate, denominator kind) of one rate from confusion counts.

    Directed rates (``HARMS``) need ``positive_favorable``; the conventional name says
    which familiar rate it is (``fpr``, ``fnr``, ``for``, ``fdr``, ...). Denominator
    kinds: ``rows``, ``favorable_actual``, ``adverse_actual``, ``adverse_predicted``,
    ``positive_actual``, ``negative_actual``, ``positive_predicted``.
    """
    tp, fp, fn, tn, n = m["tp"], m["fp"], m["fn"], m["tn"], m["n"]
    if metric in HARMS:
        if positive_favorable is None:
            raise ValueError(f"{metric} needs a direction (positive_favorable)")
        f = positive_favorable
        return {
            "favorable_rate": (tp + fp, n, "selection_rate", "rows") if f else (fn + tn, n, "1 - selection_rate", "rows"),
            "false_adverse_rate": (fn, tp + fn, "fnr", "favorable_actual") if f else (fp, fp + tn, "fpr", "favorable_actual"),
            "false_favorable_rate": (fp, fp + tn, "fpr", "adverse_actual") if f else (fn, tp + fn, "fnr", "adverse_actual"),
            "false_adverse_discovery_rate": ((fn, fn + tn, "for", "adverse_predicted") if f
                                             else (fp, tp + fp, "fdr", "adverse_predicted")),
        }[metric]
    return {
        "selection_rate": (tp + fp, n, "selection_rate", "rows"),
        "tpr": (tp, tp + fn, "tpr", "positive_actual"),
        "fpr": (fp, fp + tn, "fpr", "negative_actual"),
        "precision": (tp, tp + fp, "precision", "positive_predicted"),
        "accuracy": (tp + tn, n, "accuracy", "rows"),
    }[metric]


def directed_rates(m: dict, positive_favorable: bool) -> dict:
    """The four directed rates of one group (and ``true_favorable_rate``), each with an exact interval."""
    out: dict[str, Any] = {}
    few = []
    for h in HARMS:
        x, n, _, _ = rate_counts(m, h, positive_favorable)
        out[h], out[f"{h}_ci"] = prop(x, n)
        if h not in ROW_RATES and n < SMALL_CLASS:
            few.append(h)
    out["small_metrics"] = sorted(set(m.get("small_metrics", [])) | set(few))
    x, n, _, _ = rate_counts(m, "false_adverse_rate", positive_favorable)
    out["true_favorable_rate"], out["true_favorable_rate_ci"] = prop(n - x, n)
    return out


def _view_of(m: dict, favorable_class: str | None) -> dict:
    return m["per_class"][favorable_class] if favorable_class is not None and "per_class" in m else m


def default_reference(groups: dict[str, dict], *, positive_favorable: bool | None = None,
                      favorable_class: str | None = None) -> str | None:
    """The reference group of one attribute.

    With a direction: the most advantaged group, the one with the highest favourable
    rate (as Aequitas' "min metric" reference), among groups of at least ``SMALL_GROUP``
    rows when there are any; ties go to the larger group. Without a direction: the
    largest group. '(missing)' and '(other)' are used only when nothing else exists.
    """
    cands = [g for g in groups if g not in (MISSING_GROUP, OTHER_GROUP)] or list(groups)
    if not cands:
        return None
    order = {g: i for i, g in enumerate(groups)}
    if positive_favorable is None:
        return max(cands, key=lambda g: (groups[g]["n"], -order[g]))
    big = [g for g in cands if not groups[g]["small"]] or cands

    def favorable(g: str) -> float:
        m = _view_of(groups[g], favorable_class)
        x, n, _, _ = rate_counts(m, "favorable_rate", positive_favorable)
        return x / n if n else -1.0

    return max(big, key=lambda g: (favorable(g), groups[g]["n"], -order[g]))


def comparison_count(n_groups: int, n_metrics: int) -> int:
    """Comparisons of one attribute, counted as every pair of groups (the reference is chosen from the data)."""
    return n_metrics * n_groups * (n_groups - 1) // 2


_DIFF_NAME = {"selection_rate": "demographic_parity_difference", "tpr": "equal_opportunity_difference",
              "fpr": "fpr_difference", "precision": "predictive_parity_difference", "accuracy": "accuracy_difference"}
_SEV_RANK = {None: -1, "info": 0, "warn": 1, "fail": 2}


def _excludes_zero(ci: list | None) -> bool:
    return ci is not None and (ci[0] > 0 or ci[1] < 0)


def _flag(metric: str, g: dict, ref: dict, *, positive_favorable: bool | None, alpha: float,
          group_small: bool) -> dict | None:
    """One flagged disparity of a group against the reference, or None when there is nothing to flag."""
    x1, n1, rate, kind = rate_counts(g, metric, positive_favorable)
    x2, n2, _, _ = rate_counts(ref, metric, positive_favorable)
    if n1 <= 0 or n2 <= 0:
        return None
    v1, v2 = x1 / n1, x2 / n2
    d = v1 - v2
    ratio = None
    if metric == "favorable_rate":
        ratio = min(v1, v2) / max(v1, v2) if max(v1, v2) > 0 else None
        if ratio is None or ratio >= FOUR_FIFTHS:
            return None
    elif abs(d) < WARN_GAP:
        return None
    _, ci = newcombe_diff(x1, n1, x2, n2)
    _, ci_adj = newcombe_diff(x1, n1, x2, n2, alpha=alpha)
    significant = _excludes_zero(ci_adj)
    few = None
    if metric not in ROW_RATES and min(n1, n2) < SMALL_CLASS:
        side = "group" if n1 <= n2 else "reference"
        few = {"side": side, "cases": n1 if side == "group" else n2, "kind": kind}
    downgrades = [k for k, on in (("few_cases", few is not None), ("not_significant", not significant),
                                  ("small_group", group_small)) if on]
    if metric in ("favorable_rate", "selection_rate"):  # selection follows base rates: never fails alone
        sev = "warn" if not downgrades else "info"
    elif few is not None or not significant:
        sev = "info"
    elif group_small or abs(d) < FAIL_GAP:
        sev = "warn"
    else:
        sev = "fail"
    side = None
    if metric in HARMS and d != 0:
        side = "group" if HARM_SIGN[metric] * d > 0 else "reference"
    flag = {"metric": metric, "rate": rate, "severity": sev, "difference": d, "ci": ci, "ci_adjusted": ci_adj,
            "alpha": alpha, "p_value": newcombe_p(x1, n1, x2, n2), "significant": significant,
            "small": group_small, "few_cases": few, "downgrades": downgrades,
            "group_value": v1, "reference_value": v2, "group_cases": [x1, n1], "reference_cases": [x2, n2],
            "disadvantaged_side": side}
    if ratio is not None:
        flag.update(ratio=ratio, group_base_rate=g.get("base_rate"), reference_base_rate=ref.get("base_rate"))
    return flag


def compare_groups(g: dict, ref: dict, *, positive_favorable: bool | None = None, alpha: float = ALPHA) -> dict:
    """Disparities of group ``g`` against the reference group ``ref`` (binary confusion counts).

    Every difference is group − reference with a Newcombe 95% interval. ``alpha`` is the
    per-comparison level of the "beyond chance" decision (the check passes its
    Bonferroni share). With a direction, flags run on the directed rates (``HARMS``) and
    say which side bears the harm; without one, on selection rate, TPR, FPR and
    precision, with no side and no four-fifths rule.
    """
    row: dict[str, Any] = {"n": g["n"], "reference_n": ref["n"]}
    group_small = bool(g["n"] < SMALL_GROUP or ref["n"] < SMALL_GROUP)
    for metric, name in _DIFF_NAME.items():
        x1, n1, _, _ = rate_counts(g, metric)
        x2, n2, _, _ = rate_counts(ref, metric)
        row[name], row[f"{name}_ci"] = newcombe_diff(x1, n1, x2, n2)
    s1, s2 = g["selection_rate"], ref["selection_rate"]
    row["demographic_parity_ratio"] = (min(s1, s2) / max(s1, s2) if s1 is not None and s2 is not None
                                       and max(s1, s2) > 0 else None)
    parts = [abs(x) for x in (row["equal_opportunity_difference"], row["fpr_difference"]) if x is not None]
    row["equalized_odds_difference"] = max(parts) if parts else None
    if positive_favorable is not None:
        for h in HARMS:
            x1, n1, _, _ = rate_counts(g, h, positive_favorable)
            x2, n2, _, _ = rate_counts(ref, h, positive_favorable)
            row[f"{h}_difference"], row[f"{h}_difference_ci"] = newcombe_diff(x1, n1, x2, n2)
        f1, f2 = (rate_counts(m, "favorable_rate", positive_favorable) for m in (g, ref))
        v1, v2 = (f1[0] / f1[1] if f1[1] else None), (f2[0] / f2[1] if f2[1] else None)
        row["favorable_rate_ratio"] = (min(v1, v2) / max(v1, v2) if v1 is not None and v2 is not None
                                       and max(v1, v2) > 0 else None)
    metrics = HARMS if positive_favorable is not None else UNDIRECTED
    flags = [f for f in (_flag(m, g, ref, positive_favorable=positive_favorable, alpha=alpha,
                               group_small=group_small) for m in metrics) if f is not None]
    row["small"] = group_small
    row["flags"] = flags
    row["severity"] = max((f["severity"] for f in flags), key=_SEV_RANK.get) if flags else None
    return row


def _named(row: dict, group: str, reference: str) -> dict:
    for f in row["flags"]:
        side = f.get("disadvantaged_side")
        f["disadvantaged"] = None if side is None else (group if side == "group" else reference)
        f["advantaged"] = None if side is None else (reference if side == "group" else group)
    return row


def disparities_against(groups: dict[str, dict], reference: str, *, positive_favorable: bool | None = None,
                        favorable_class: str | None = None, alpha: float = ALPHA) -> dict:
    """Disparities of every group of one attribute against ``reference``.

    Works from the counts stored in ``bias.groups`` metrics, so the page can switch the
    reference group without touching the data. Multiclass groups (``per_class``) are
    compared class by class (the favourable class, if any, with its direction; the
    others without one); the group's row is its worst class (named in ``class``).
    """
    if reference not in groups:
        raise KeyError(f"reference group {reference!r} is not a group; groups are {list(groups)}")
    ref = groups[reference]
    out: dict[str, dict] = {}
    for g, m in groups.items():
        if g == reference:
            continue
        if "per_class" in m and "per_class" in ref:
            rows = {c: _named(compare_groups(pm, ref["per_class"][c], alpha=alpha,
                                             positive_favorable=True if c == favorable_class else None), g, reference)
                    for c, pm in m["per_class"].items() if c in ref["per_class"]}
            if not rows:
                continue
            worst = max(rows, key=lambda c: (_SEV_RANK[rows[c]["severity"]], rows[c]["equalized_odds_difference"] or 0))
            out[g] = {**rows[worst], "class": worst, "by_class": rows}
            if "correct" in m and "correct" in ref:
                gaps = all_class_gaps(m, ref, alpha=alpha)
                if gaps["worst_class"] is not None:
                    gaps["worst_class_harms"] = g if gaps["worst_class_harms"] == "group" else reference
                out[g]["all_classes"] = gaps
        else:
            out[g] = _named(compare_groups(m, ref, positive_favorable=positive_favorable, alpha=alpha), g, reference)
    return {"reference": reference, "directed": positive_favorable is not None or favorable_class is not None,
            "alpha": alpha, "groups": out}


def worst_summary(disp: dict) -> dict:
    """The largest gaps of one attribute, over groups of at least ``SMALL_GROUP`` rows (and over all)."""
    rows = list(disp["groups"].values())
    big = [r for r in rows if not r["small"]]

    def mx(key, rs):
        vals = [abs(r[key]) for r in rs if r.get(key) is not None]
        return max(vals) if vals else None

    def mn(key, rs):
        vals = [r[key] for r in rs if r.get(key) is not None]
        return min(vals) if vals else None

    out = {
        "max_abs_demographic_parity_difference": mx("demographic_parity_difference", big),
        "min_demographic_parity_ratio": mn("demographic_parity_ratio", big),
        "max_abs_equal_opportunity_difference": mx("equal_opportunity_difference", big),
        "max_equalized_odds_difference": mx("equalized_odds_difference", big),
        "max_abs_predictive_parity_difference": mx("predictive_parity_difference", big),
        "including_small_groups": {
            "max_equalized_odds_difference": mx("equalized_odds_difference", rows),
            "min_demographic_parity_ratio": mn("demographic_parity_ratio", rows),
        },
    }
    if disp.get("directed"):
        out["min_favorable_rate_ratio"] = mn("favorable_rate_ratio", big)
        out["max_abs_false_adverse_rate_difference"] = mx("false_adverse_rate_difference", big)
        out["including_small_groups"]["min_favorable_rate_ratio"] = mn("favorable_rate_ratio", rows)
    return out
