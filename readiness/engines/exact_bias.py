"""``bias.groups`` exact on an engine: per-group counts over every holdout row, not the sample.

Per partition (:func:`holdout_partition`, called from the holdout summary where the model has
just scored the rows): for each sensitive column, each of its values (the value as text, as
:func:`readiness.checks.bias_stats.label_text` writes it; a number kept as a number, so that the
driver can cut bands; a missing value or missing-value token as '(missing)'), and for each pair
of sensitive columns each pair of values, a vector of

* the holdout rows (scored or not: the groups, their order and pooling are decided on them);
* the confusion counts of the scored rows — binary: TP, FP, FN, TN at the review threshold;
  multiclass: the true-by-predicted matrix with one more row and column for a value outside
  the classes;
* when the scores are probabilities, sums of the score and of its error (score − actual, its
  square, and for a binary model the score's square and the error's fourth power) for the mean
  score, Brier score and calibration gap and their intervals.

The training data's partitions (:func:`train_partition`) give the rows per value and pair, since
the in-memory check forms its groups over both splits. The merged vectors add exactly (counts are
integers; sums to rounding) whatever the partitioning.

On the driver, :func:`attributes_from_counts` forms the groups exactly as
:func:`readiness.checks.bias_stats.attribute_labels` and ``intersection`` do on all rows: numeric
columns with more than 10 values are cut at the exact quantiles of every value (numpy's linear
method, from the value counts), more than ``MAX_GROUPS`` values are pooled into '(other)' by count,
intersections with more than ``MAX_INTERSECTION_GROUPS`` groups are left out. Each group's
statistics are ``rates_from_counts`` (Clopper–Pearson intervals, as in memory) and the verdict is
:func:`readiness.checks.bias.groups_outcome`, the in-memory check's own (references, Newcombe
intervals of the differences, Bonferroni, four-fifths rule, findings and summary). The mean score,
Brier score and calibration gap intervals, which the in-memory check bootstraps, are normal
intervals from the sums (``interval_methods``).

A sensitive column with more than ``MAX_KEYS`` distinct values (a continuous number) is not
summarised; ``bias.groups`` then stays on the sample (:func:`exact_ready`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from readiness.checks.bias_stats import (
    INTERSECTION_SEP,
    MAX_GROUPS,
    MAX_INTERSECTION_GROUPS,
    MISSING_GROUP,
    NUMERIC_BINS,
    OTHER_GROUP,
    Attribute,
    _natural_order,
    cell_counts,
    confusion_cells,
    directed_rates,
    label_text,
    label_texts,
    missing_text,
    multiclass_group,
    rates_from_counts,
)

MAX_KEYS = 2_000  # distinct values of one sensitive column (per partition and merged)
MAX_PAIRS = 50_000  # distinct value pairs of two sensitive columns
REGRESSION_SUMS = ("abs_error", "squared_error", "error", "prediction", "prediction_sq", "actual", "actual_sq")
Z = 1.959963984540054
INTERVAL_METHODS = {
    "rates": "Clopper-Pearson (exact binomial), from the group's counts",
    "differences": "Newcombe hybrid score (from Wilson intervals), from the two groups' counts",
    "mean_score_ci, brier_ci, calibration_gap_ci": ("normal approximation: mean ± 1.96 × standard deviation / √n, "
                                                   "from the sums of the values and their squares, clipped to the "
                                                   "possible range (the in-memory check bootstraps these)"),
}
REGRESSION_METHODS = {
    "group intervals": "Student t from the group's sums of values and squares (as in memory, from rows)",
    "differences": "Welch from the two groups' sums (as in memory, from rows)",
    "overall.mae_ci": ("Student t from sums (the in-memory check quotes the holdout page's bootstrap interval "
                       "of the overall MAE)"),
}


@dataclass(frozen=True)
class BiasSpec:
    """What a partition needs to count the groups; picklable."""

    columns: tuple  # the sensitive columns, in the review's order
    numeric: tuple  # per column: numbers (kept as numbers: bands are possible) or text
    task: str
    k: int  # classes
    positive: int | None  # binary: index of the positive class
    probabilities: bool  # scores are probabilities: the score sums are kept
    labels: tuple = ()  # the classes as text

    @property
    def cells(self) -> int:
        return {"binary": 4, "regression": 1}.get(self.task, (self.k + 1) ** 2)

    @property
    def sums(self) -> int:
        if self.task == "regression":
            return len(REGRESSION_SUMS)
        if not self.probabilities:
            return 0
        return 5 if self.task == "binary" else 3 * self.k


def bias_spec(ctx) -> BiasSpec | None:
    """The spec for a review of a model (or its predictions) with sensitive columns (None otherwise)."""
    if not ctx.roles.sensitive or ctx.data_only:
        return None
    if ctx.task == "regression":
        return BiasSpec(tuple(ctx.roles.sensitive), _numeric(ctx), "regression", 0, None, False)
    return _classifier_spec(ctx)


def _numeric(ctx) -> tuple:
    out = []
    for c in ctx.roles.sensitive:
        both = pd.concat([ctx.train[c], ctx.test[c]], ignore_index=True)
        out.append(bool(pd.api.types.is_numeric_dtype(both) and not pd.api.types.is_bool_dtype(both)))
    return tuple(out)


def _classifier_spec(ctx) -> BiasSpec:
    probs = bool(ctx.scores_are_probabilities)
    if ctx.task == "multiclass":
        s = np.asarray(ctx.test_scores)
        probs = probs and s.ndim == 2 and s.shape[1] == len(ctx.classes)
    positive = list(ctx.classes).index(ctx.positive_label) if ctx.task == "binary" else None
    return BiasSpec(tuple(ctx.roles.sensitive), _numeric(ctx), ctx.task, len(ctx.classes), positive, probs,
                    tuple(label_text(c) for c in ctx.classes))


@dataclass(frozen=True)
class Keyed:
    """A vector per key (a value, or a pair of values); ``overflow``: too many keys to keep."""

    rows: dict = field(default_factory=dict)
    overflow: bool = False
    limit: int = MAX_KEYS

    def __add__(self, other: Keyed) -> Keyed:
        if self.overflow or other.overflow:
            return Keyed({}, True, self.limit)
        out = dict(self.rows)
        for k, v in other.rows.items():
            out[k] = out[k] + v if k in out else v
        if len(out) > self.limit:
            return Keyed({}, True, self.limit)
        return Keyed(out, False, self.limit)


def value_keys(series: pd.Series, numeric: bool) -> np.ndarray:
    """Each row's key: the number itself (numeric columns) or its text; '(missing)' for a missing value."""
    miss = missing_text(series)
    keys = series.to_numpy(dtype=object, na_value=None) if numeric else label_texts(series)
    keys = np.asarray(keys, dtype=object).copy()
    keys[miss] = MISSING_GROUP
    return keys


def _summarise(frame: pd.DataFrame, spec: BiasSpec, vectors) -> dict:
    """Per column and per pair of columns: ``vectors(codes, n_keys)`` (a (n_keys, width) array) per key."""
    cols: dict = {}
    coded = []
    for c, num in zip(spec.columns, spec.numeric, strict=True):
        codes, uniques = pd.factorize(value_keys(frame[c], num))
        uniques = list(uniques)
        if len(uniques) > MAX_KEYS:
            cols[c] = Keyed({}, True)
            coded.append(None)
            continue
        cols[c] = Keyed(dict(zip(uniques, vectors(codes, len(uniques)), strict=True)))
        coded.append((codes, uniques))
    pairs: dict = {}
    for i in range(len(spec.columns)):
        for j in range(i + 1, len(spec.columns)):
            name = (spec.columns[i], spec.columns[j])
            if coded[i] is None or coded[j] is None:
                pairs[name] = Keyed({}, True, MAX_PAIRS)
                continue
            (ca, ua), (cb, ub) = coded[i], coded[j]
            codes, uniques = pd.factorize(ca.astype(np.int64) * len(ub) + cb)
            keys = [(ua[u // len(ub)], ub[u % len(ub)]) for u in uniques]
            pairs[name] = (Keyed({}, True, MAX_PAIRS) if len(keys) > MAX_PAIRS
                           else Keyed(dict(zip(keys, vectors(codes, len(keys)), strict=True)), False, MAX_PAIRS))
    return {"columns": cols, "pairs": pairs}


def regression_partition(rows: pd.DataFrame, s: np.ndarray, spec: BiasSpec, target: str) -> dict:
    """:func:`holdout_partition` of a regression model: ``s`` the predictions of the labelled ``rows``."""
    s = np.asarray(s, dtype=float)
    ok = ~np.isnan(s)
    return holdout_partition(rows, ok, rows[target].to_numpy(dtype=float)[ok], None, s[ok], spec)


def train_partition(frame: pd.DataFrame, spec: BiasSpec) -> dict:
    """Training rows per sensitive value and pair of values (the groups are formed over both splits)."""
    return _summarise(frame, spec, lambda codes, n: np.bincount(codes, minlength=n).astype(float)[:, None])


def holdout_partition(rows: pd.DataFrame, ok: np.ndarray, y: np.ndarray, pred: np.ndarray, s: np.ndarray,
                      spec: BiasSpec) -> dict:
    """The holdout partition's vectors per sensitive value and pair (see the module), and over all rows.

    ``rows``: the labelled rows; ``ok``: those with a score; ``y``, ``pred`` (class codes, −1 outside
    the classes) and ``s`` (the scores) for the scored rows."""
    n = len(rows)
    k = spec.k
    idx = np.flatnonzero(ok)
    if spec.task == "regression":  # y: the actual values, s: the predictions
        e = np.asarray(s, dtype=float) - np.asarray(y, dtype=float)
        cell = np.zeros(len(idx), dtype=np.int64)
        sums = [np.abs(e), e * e, e, s, s * s, y, y * y]  # REGRESSION_SUMS
    elif spec.task == "binary":
        yb, pb = (y == spec.positive).astype(np.int64), (pred == spec.positive).astype(np.int64)
        cell = 2 * (1 - pb) + (1 - yb)  # TP, FP, FN, TN (as confusion_cells)
        sums = []
        if spec.probabilities:
            sc = np.clip(np.asarray(s, dtype=float), 0, 1)
            d = sc - yb
            sums = [sc, sc * sc, d, d * d, d ** 4]
    else:
        yy, pp = np.where(y < 0, k, y), np.where(pred < 0, k, pred)
        cell = yy * (k + 1) + pp
        sums = []
        if spec.probabilities:
            for c in range(k):
                sc = np.asarray(s, dtype=float)[:, c]
                d = sc - (y == c)
                sums += [sc, d, d * d]
    width = 1 + spec.cells + spec.sums

    def vectors(codes: np.ndarray, n_keys: int) -> np.ndarray:
        out = np.empty((n_keys, width))
        out[:, 0] = np.bincount(codes, minlength=n_keys)
        c = codes[idx]
        if spec.task == "binary":
            out[:, 1:5] = confusion_cells(c, n_keys, yb, pb)
        else:
            out[:, 1:1 + spec.cells] = cell_counts(c, n_keys, cell, spec.cells)
        for j, w in enumerate(sums):
            out[:, 1 + spec.cells + j] = np.bincount(c, weights=w, minlength=n_keys)
        return out

    out = _summarise(rows, spec, vectors)
    out["overall"] = vectors(np.zeros(n, dtype=np.int64), 1)[0]
    return out


# --- the driver: groups, statistics, the verdict -----------------------------------------------------


def _virtual_index(n: int, q: np.ndarray) -> np.ndarray:
    """numpy's 'linear' quantile index (alpha = beta = 1), computed as numpy computes it."""
    alpha = beta = 1
    return n * q + (alpha + q * (1 - alpha - beta)) - 1


def quantiles_from_counts(values: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(np.repeat(values, counts), q)`` (the default linear method) without the rows: the
    order statistics from the cumulative counts, interpolated as numpy does."""
    order = np.argsort(values, kind="stable")
    values, counts = np.asarray(values, float)[order], np.asarray(counts, np.int64)[order]
    n = int(counts.sum())
    cum = np.cumsum(counts)
    vi = _virtual_index(n, np.asarray(q, dtype=float))
    prev = np.floor(vi)
    nxt = prev + 1
    above = vi >= n - 1
    prev[above], nxt[above] = n - 1, n - 1
    below = vi < 0
    prev[below], nxt[below] = 0, 0
    gamma = vi - np.floor(vi)

    def stat(i):
        return values[np.searchsorted(cum, i.astype(np.int64), side="right")]

    a, b = stat(prev), stat(nxt)
    diff = b - a
    out = a + diff * gamma
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), out)


def _single(name: str, numeric: bool, rows: dict) -> tuple[Attribute, dict]:
    """One sensitive column's groups from its rows per value over both splits (first-seen order), as
    :func:`readiness.checks.bias_stats.attribute_labels` forms them on the rows; and value -> group."""
    notes: dict = {}
    values = {k: v for k, v in rows.items() if not (isinstance(k, str) and k == MISSING_GROUP)}
    order = None
    if numeric and len(values) > 10:
        v = np.array([float(x) for x in values], dtype=float)
        edges = np.unique(quantiles_from_counts(v, np.array(list(values.values())), np.linspace(0, 1, NUMERIC_BINS + 1)))
        band = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        idx = np.clip(np.searchsorted(edges[1:-1], v, side="right"), 0, len(edges) - 2)
        mapping = {k: band[i] for k, i in zip(values, idx, strict=True)}
        order = band
        notes["binned"] = [float(e) for e in edges]
    else:
        mapping = {k: label_text(k) for k in values}
    if MISSING_GROUP in rows:
        mapping[MISSING_GROUP] = MISSING_GROUP
    per_group: dict = {}
    for key in rows:  # first-seen order, as value_counts breaks ties
        g = mapping[key]
        per_group[g] = per_group.get(g, 0) + rows[key]
    if len(per_group) > MAX_GROUPS:
        counts = pd.Series(per_group).sort_values(ascending=False, kind="stable")
        keep = set(counts.index[: MAX_GROUPS - 1]) | {MISSING_GROUP}
        notes["pooled_into_other"] = len([g for g in counts.index if g not in keep])
        mapping = {k: g if g in keep else OTHER_GROUP for k, g in mapping.items()}
    present = set(mapping.values())
    order = ([g for g in order if g in present] + [g for g in (MISSING_GROUP,) if g in present] if order
             else _natural_order(sorted(present)))
    empty = np.empty(0, dtype=str)
    return Attribute(name=name, columns=[name], train=empty, test=empty, order=order, notes=notes), mapping


def _rows_per_key(*keyed: Keyed) -> dict:
    out: dict = {}
    for kd in keyed:
        for key, vec in kd.rows.items():
            out[key] = out.get(key, 0) + int(vec[0])
    return out


def exact_ready(spec: BiasSpec | None, train: dict, test: dict) -> bool:
    """Whether every sensitive column (and pair) was summarised: no continuous column overflowed."""
    if spec is None or "bias" not in test or "bias" not in train:
        return False
    return not any(kd.overflow for part in (train["bias"], test["bias"]) for kind in ("columns", "pairs")
                   for kd in part[kind].values())


def attributes_from_counts(spec: BiasSpec, train: dict, test: dict) -> tuple[list[Attribute], list[str], dict]:
    """The attributes (singles, then the pairwise intersections kept), the intersections left out, and per
    attribute its groups' summed holdout vectors ``{group: vector}``."""
    singles, maps, vectors = [], {}, {}
    for c, num in zip(spec.columns, spec.numeric, strict=True):
        a, mapping = _single(c, num, _rows_per_key(train["columns"][c], test["columns"][c]))
        singles.append(a)
        maps[c] = mapping
        vectors[c] = _sum_by(test["columns"][c].rows, mapping.__getitem__)
    pairs, skipped = [], []
    for i in range(len(singles)):
        for j in range(i + 1, len(singles)):
            a, b = singles[i], singles[j]
            key = (a.name, b.name)
            ma, mb = maps[a.name], maps[b.name]

            def group(kk, ma=ma, mb=mb):
                return f"{ma[kk[0]]}{INTERSECTION_SEP}{mb[kk[1]]}"

            present = {group(kk) for kk, v in train["pairs"][key].rows.items() if v[0]} | \
                      {group(kk) for kk, v in test["pairs"][key].rows.items() if v[0]}
            name = f"{a.name}{INTERSECTION_SEP}{b.name}"
            if len(present) > MAX_INTERSECTION_GROUPS:
                skipped.append(name)
                continue
            order = [f"{x}{INTERSECTION_SEP}{y}" for x in a.order for y in b.order
                     if f"{x}{INTERSECTION_SEP}{y}" in present]
            pairs.append(Attribute(name=name, columns=a.columns + b.columns, train=a.train, test=a.test, order=order))
            vectors[name] = _sum_by(test["pairs"][key].rows, group)
    return singles + pairs, skipped, vectors


def _sum_by(rows: dict, group) -> dict:
    out: dict = {}
    for key, vec in rows.items():
        g = group(key)
        out[g] = out[g] + vec if g in out else vec.copy()
    return out


def _mean_ci(total: float, squares: float, n: int, lo: float, hi: float) -> list | None:
    if n < 2:
        return None
    mean = total / n
    sd = math.sqrt(max(squares - n * mean * mean, 0.0) / (n - 1))
    half = Z * sd / math.sqrt(n)
    return [max(lo, mean - half), min(hi, mean + half)]


def group_statistics(spec: BiasSpec, vec: np.ndarray, o) -> dict:
    """One group's statistics from its vector, as ``group_stats`` computes them from its rows."""
    sums = vec[1 + spec.cells:]
    if spec.task == "binary":
        tp, fp, fn, tn = (int(x) for x in vec[1:5])
        out = rates_from_counts(tp, fp, fn, tn)
        n = out["n"]
        if spec.probabilities and n:
            s, s2, d, d2, d4 = (float(x) for x in sums)
            out["mean_score"], out["brier"], out["calibration_gap"] = s / n, d2 / n, d / n
            out["mean_score_ci"] = _mean_ci(s, s2, n, 0.0, 1.0)
            out["brier_ci"] = _mean_ci(d2, d4, n, 0.0, 1.0)
            out["calibration_gap_ci"] = _mean_ci(d, d2, n, -1.0, 1.0)
        if o.positive_favorable is not None:
            out.update(directed_rates(out, o.positive_favorable))
        return out
    k = spec.k
    conf = vec[1:1 + spec.cells].astype(np.int64).reshape(k + 1, k + 1)
    n = int(conf.sum())
    per = {}
    for c, label in enumerate(spec.labels):
        tp = int(conf[c, c])
        fp, fn = int(conf[:, c].sum()) - tp, int(conf[c, :].sum()) - tp
        m = rates_from_counts(tp, fp, fn, n - tp - fp - fn)
        if spec.probabilities and n:
            s, d, d2 = (float(x) for x in sums[3 * c:3 * c + 3])
            m["mean_score"], m["brier"], m["calibration_gap"] = s / n, d2 / n, d / n
        per[label] = m
    if o.favorable_class in per:
        per[o.favorable_class].update(directed_rates(per[o.favorable_class], True))
    return multiclass_group(per, int(np.trace(conf[:k, :k])), n)


def regression_moments(vec: np.ndarray) -> dict:
    """A regression group's ``bias_regression.group_moments`` (mean, variance, count of the absolute error,
    error, prediction and actual) from its vector's sums."""
    n = int(vec[1])
    sa, s2, se, sp, sp2, sy, sy2 = (float(x) for x in vec[2:2 + len(REGRESSION_SUMS)])

    def mom(total: float, squares: float) -> tuple:
        mean = total / n
        return mean, (max(squares - n * mean * mean, 0.0) / (n - 1) if n >= 2 else None), n

    return {"abs": mom(sa, s2), "err": mom(se, s2), "pred": mom(sp, sp2), "actual": mom(sy, sy2)}


def groups(ctx, spec: BiasSpec, train: dict, test: dict):
    """``bias.groups`` from the merged summaries: the in-memory check's verdict on every holdout row."""
    from readiness.checks.bias import _require_sensitive, groups_outcome, outcomes
    from readiness.registry import Outcome

    _require_sensitive(ctx)
    attrs, skipped, vectors = attributes_from_counts(spec, train["bias"], test["bias"])
    scored = slice(1, 1 + spec.cells)
    overall_vec = test["bias"]["overall"]
    n = int(overall_vec[scored].sum())
    unscored = int(overall_vec[0]) - n
    if spec.task == "regression":
        from readiness.checks.bias_regression import figures_from, regression_verdict

        moms = {a.name: {g: regression_moments(vectors[a.name][g]) for g in a.order
                         if g in vectors[a.name] and vectors[a.name][g][1] > 0} for a in attrs}
        summary, findings, metrics = regression_verdict(attrs, skipped, dict(ctx.settings.reference_groups or {}),
                                                        moms, figures_from(regression_moments(overall_vec)),
                                                        scored=n, unscored=unscored)
        metrics["interval_methods"] = REGRESSION_METHODS
        return Outcome(summary=summary, findings=findings, metrics=metrics)
    o = outcomes(ctx)
    stats = {}
    for a in attrs:
        v = vectors[a.name]
        stats[a.name] = {g: group_statistics(spec, v[g], o) for g in a.order
                         if g in v and v[g][scored].sum() > 0}
    overall = group_statistics(spec, overall_vec, o)
    outcome = groups_outcome(ctx, attrs, skipped, stats, overall, scored=n, unscored=unscored)
    methods = dict(INTERVAL_METHODS)
    if not spec.probabilities or spec.task != "binary":
        methods.pop("mean_score_ci, brier_ci, calibration_gap_ci")
    outcome.metrics["interval_methods"] = methods
    return outcome
