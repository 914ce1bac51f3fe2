"""``drift.features`` exact on the engines: every feature's (and the target's) bins counted over every
labelled training and holdout row, then the in-memory check's own verdict (``drift_outcome``).

The bins are the in-memory check's (``readiness.checks.drift``): for a number, a value holding at least
10% of the known training values gets its own bin (the first such value in row order among equal
counts, as pandas' stable ``value_counts`` picks it), the other known training values are cut at their
exact deciles (numpy's linear quantiles), and missing values are a bin; for text, the 50 most frequent
training values (ties in order of first appearance) and '(other)', missing values as '(missing)'.

Exact deciles without a global sort, in passes over the training data (``Engine.map_partitions``):

1. per column: known and missing counts, the least and greatest value, the value counts while a
   partition has at most :data:`MAX_VALUES` distinct values (then the deciles follow exactly from the
   counts, ``quantiles_from_counts``), and the values holding 10% of a partition's known values (a value
   holding 10% of all rows holds 10% of some partition's: the only spike candidates);
2. otherwise: the candidates' exact counts and a histogram of the known values on :data:`BINS` equal
   bins between the least and greatest value; the order statistics the deciles need lie in known bins;
3. those bins are histogrammed again (finer) until a bin holds at most :data:`COLLECT` values, whose
   distinct values and counts are then collected: the order statistics, hence the deciles, are exact.

A last pass counts every training and holdout row into the bins. The data's age (time column) is
taken on the sample (``metrics.age_basis``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness.checks import drift as D

MAX_VALUES = 2_000  # distinct values per partition counted exactly in the first pass
BINS = 4_096  # equal bins of a refining histogram
COLLECT = 200_000  # a window of at most this many values is collected (its distinct values and counts)
Q = np.linspace(0, 1, 11)


@dataclass(frozen=True)
class DriftSpec:
    """What the partitions need; picklable."""

    target: str
    columns: tuple  # feature columns in both splits
    numeric: frozenset  # columns binned as numbers (the target included for a regression)
    target_text: bool  # the target binned as text (classification)


def drift_spec(ctx) -> DriftSpec:
    cols = tuple(c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns)
    numeric = {c for c in cols if D.is_numeric(ctx.train[c])}
    if ctx.task == "regression":
        numeric.add(ctx.target)
    return DriftSpec(target=ctx.target, columns=cols, numeric=frozenset(numeric),
                     target_text=ctx.task != "regression")


class Ordered:
    """Counts of values in order of first appearance (merge: in partition order; None = too many)."""

    def __init__(self, counts: dict | None, limit: float = np.inf):
        self.counts, self.limit = counts, limit

    def __add__(self, other: Ordered) -> Ordered:
        if self.counts is None or other.counts is None:
            return Ordered(None)
        out = dict(self.counts)
        for k, v in other.counts.items():
            out[k] = out.get(k, 0) + v
        return Ordered(out if len(out) <= self.limit else None)


def _ordered_counts(s: pd.Series) -> dict:
    vc = s.value_counts(sort=False, dropna=False)
    return {k: int(v) for k, v in vc.items()}


def _labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    return frame[frame[target].notna()] if target in frame else frame


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(float)


def _binned_columns(spec: DriftSpec) -> tuple:
    return (*spec.columns, spec.target)


# --- pass 1 ----------------------------------------------------------------------------------------------


def first_pass(frame: pd.DataFrame, spec: DriftSpec) -> dict:
    f = _labelled(frame, spec.target)
    out: dict = {}
    for col in _binned_columns(spec):
        if col not in spec.numeric:
            continue
        v = _numbers(f, col)
        known = v[~np.isnan(v)]
        vc = pd.Series(known).value_counts(sort=False)
        cand = tuple(float(k) for k, c in vc.items() if c >= D.SPIKE_SHARE * len(known))
        out[col] = {"known": len(known), "lo": [float(known.min())] if len(known) else [],
                    "hi": [float(known.max())] if len(known) else [], "candidates": {c: 1 for c in cand},
                    "values": Ordered({float(k): int(c) for k, c in vc.items()} if len(vc) <= MAX_VALUES else None,
                                      limit=50 * MAX_VALUES)}
    return out


# --- windows: refining histograms, then collected values -------------------------------------------------


def _bin_of(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The equal bin of [lo, hi] (BINS of them, [e_i, e_i+1), the last closed) each value falls into."""
    edges = np.linspace(lo, hi, BINS + 1)
    return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, BINS - 1)


def window_pass(frame: pd.DataFrame, spec: DriftSpec, windows: dict, spikes: dict, candidates: dict) -> dict:
    """Per column and window (lo, hi, closed, mode) holding the known values in [lo, hi) ([lo, hi] when
    closed) other than the column's spike: their histogram on BINS equal bins, or their distinct values and
    counts; with ``candidates``, the spike candidates' exact counts."""
    f = _labelled(frame, spec.target)
    out: dict = {}
    for col in set(windows) | set(candidates):
        v = _numbers(f, col)
        v = v[~np.isnan(v)]
        res: dict = {}
        if col in candidates:
            res["candidates"] = Ordered({c: int((v == c).sum()) for c in candidates[col]})
        spike = spikes.get(col)
        if spike is not None:
            v = v[v != spike]
        for i, (lo, hi, closed, mode) in enumerate(windows.get(col, ())):
            w = v[(v >= lo) & ((v < hi) | ((v == hi) if closed else False))]
            if mode == "hist":
                res[i] = np.bincount(_bin_of(w, lo, hi), minlength=BINS).astype(np.int64)
            else:
                u, c = np.unique(w, return_counts=True)
                res[i] = Ordered(dict(zip(u.tolist(), c.tolist(), strict=True)))
        out[col] = res
    return out


def _ranks(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order statistics numpy's linear deciles of m values interpolate: (prev, next, gamma)."""
    vi = (m - 1) * Q  # numpy's 'linear' virtual index, computed as numpy (2.x) computes it
    prev = np.floor(vi)
    nxt = prev + 1
    above = vi >= m - 1
    prev[above], nxt[above] = m - 1, m - 1
    below = vi < 0
    prev[below], nxt[below] = 0, 0
    return prev.astype(np.int64), nxt.astype(np.int64), vi - np.floor(vi)


def _deciles_from_counts(counts: dict) -> np.ndarray:
    """``np.quantile(values, Q)`` of the values counted in ``counts`` (value -> count)."""
    values = np.array(sorted(counts))
    cum = np.cumsum([counts[v] for v in values])
    prev, nxt, gamma = _ranks(int(cum[-1]))
    return _interpolate(values[np.searchsorted(cum, prev, side="right")],
                        values[np.searchsorted(cum, nxt, side="right")], gamma)


def _interpolate(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _passes(engine, src, fn) -> dict:
    from readiness.engines.review import summarize

    return summarize(engine, src, fn)


def exact_bins(engine, src, spec: DriftSpec) -> dict:
    """Column -> (spike, inner edges) over every labelled training row, as ``numeric_bins`` on all rows."""
    first = _passes(engine, src, functools.partial(first_pass, spec=spec))
    bins: dict = {}
    pending: dict = {}
    for col in spec.numeric:
        s = first.get(col)
        if s is None or not s["known"]:
            bins[col] = (None, np.array([]))
            continue
        if s["values"].counts is not None:
            counts = s["values"].counts
            top = max(counts, key=counts.get)  # the first of equal counts, as pandas' stable value_counts
            spike = float(top) if counts[top] / s["known"] >= D.SPIKE_SHARE else None
            rest = {k: c for k, c in counts.items() if k != spike}
            if rest:
                edges = np.unique(_deciles_from_counts(rest))
            else:
                edges = np.array([])
            bins[col] = (spike, edges[1:-1])
        else:
            pending[col] = (min(s["lo"]), max(s["hi"]), s["known"], tuple(s["candidates"]))
    if not pending:
        return bins
    # pass 2: the candidates' counts and a histogram of all known values
    windows = {c: [(lo, hi, True, "hist")] for c, (lo, hi, _, _) in pending.items()}
    res = _passes(engine, src, functools.partial(window_pass, spec=spec, windows=windows, spikes={},
                                                 candidates={c: p[3] for c, p in pending.items()}))
    state: dict = {}
    for col, (lo, hi, known, _) in pending.items():
        cand = res[col]["candidates"].counts
        spike = None
        if cand:
            top = max(cand, key=cand.get)  # first-seen order among equal counts is that of partition 1
            spike = float(top) if cand[top] / known >= D.SPIKE_SHARE else None
        hist = res[col][0].copy()
        if spike is not None:
            hist[_bin_of(np.array([spike]), lo, hi)[0]] -= cand[top]
        m = int(hist.sum())
        prev, nxt, gamma = _ranks(m)
        state[col] = {"spike": spike, "m": m, "ranks": sorted(set(prev.tolist()) | set(nxt.tolist())),
                      "prev": prev, "nxt": nxt, "gamma": gamma, "found": {},
                      "windows": _split(lo, hi, True, hist, 0)}
    spikes = {c: st["spike"] for c, st in state.items()}
    while True:
        todo = {}
        for col, st in state.items():
            st["windows"] = [w for w in st["windows"] if _wanted(st, w)]
            if st["windows"]:
                todo[col] = [(w["lo"], w["hi"], w["closed"], w["mode"]) for w in st["windows"]]
        if not todo:
            break
        res = _passes(engine, src, functools.partial(window_pass, spec=spec, windows=todo, spikes=spikes,
                                                     candidates={}))
        for col, st in state.items():
            if col not in todo:
                continue
            nxt_windows = []
            for i, w in enumerate(st["windows"]):
                got = res[col][i]
                if w["mode"] == "hist":
                    nxt_windows += _split(w["lo"], w["hi"], w["closed"], got, w["below"])
                else:
                    vals = np.array(sorted(got.counts))
                    cum = w["below"] + np.cumsum([got.counts[v] for v in vals])
                    for r in st["ranks"]:
                        if w["below"] <= r < w["below"] + w["count"]:
                            st["found"][r] = float(vals[np.searchsorted(cum, r, side="right")])
            st["windows"] = nxt_windows
    for col, st in state.items():
        if not st["m"]:
            bins[col] = (st["spike"], np.array([]))
            continue
        a = np.array([st["found"][r] for r in st["prev"]])
        b = np.array([st["found"][r] for r in st["nxt"]])
        edges = np.unique(_interpolate(a, b, st["gamma"]))
        bins[col] = (st["spike"], edges[1:-1])
    return bins


def _split(lo: float, hi: float, closed: bool, hist: np.ndarray, below: int) -> list[dict]:
    """The non-empty sub-windows of a histogrammed window, each with the count of values below it."""
    edges = np.linspace(lo, hi, BINS + 1)
    cum = below + np.concatenate([[0], np.cumsum(hist)])
    out = []
    for i in np.flatnonzero(hist):
        a, b = float(edges[i]), float(edges[i + 1])
        shut = closed and i == BINS - 1
        count = int(hist[i])
        mode = "collect" if count <= COLLECT or (a, b) == (lo, hi) else "hist"
        out.append({"lo": a, "hi": b, "closed": shut, "mode": mode, "below": int(cum[i]), "count": count})
    return out


def _wanted(st: dict, w: dict) -> bool:
    return any(w["below"] <= r < w["below"] + w["count"] and r not in st["found"] for r in st["ranks"])


# --- the counting pass -----------------------------------------------------------------------------------


def count_pass(frame: pd.DataFrame, spec: DriftSpec, bins: dict) -> dict:
    f = _labelled(frame, spec.target)
    out: dict = {"rows": len(f)}
    for col in _binned_columns(spec):
        if col not in f:
            continue
        if col in spec.numeric:
            spike, inner = bins[col]
            out[col] = D.numeric_counts(_numbers(f, col), spike, inner).astype(np.int64)
        else:
            s = f[col].astype(str) if col == spec.target else D._as_text(f[col])
            out[col] = Ordered(_ordered_counts(s))
    return out


def _text_bins(train: dict, test: dict) -> tuple[list, np.ndarray, np.ndarray]:
    """``binned_counts`` of a text column from its training and holdout value counts."""
    order = sorted(train, key=lambda k: -train[k])  # stable: first appearance among equal counts
    top = set(order[:D.MAX_CATEGORIES])

    def pooled(counts: dict) -> dict:
        out: dict = {}
        for k, c in counts.items():
            key = k if k in top else "(other)"
            out[key] = out.get(key, 0) + c
        return out

    tr, te = pooled(train), pooled(test)
    labels = sorted(set(tr) | set(te))
    return labels, np.array([tr.get(k, 0) for k in labels]), np.array([te.get(k, 0) for k in labels])


def features(ctx, er):
    """The check from every labelled row's bin counts (the in-memory verdict, ``drift_outcome``)."""
    spec = drift_spec(ctx)
    bins = exact_bins(er.engine, er.srcs["train"], spec)
    fn = functools.partial(count_pass, spec=spec, bins=bins)
    tr, te = (_passes(er.engine, er.srcs[role], fn) for role in ("train", "test"))
    binned = {}
    for col in _binned_columns(spec):
        if col in spec.numeric:
            binned[col] = (D.numeric_labels(*bins[col]), tr[col], te[col])
        else:
            binned[col] = _text_bins(tr[col].counts, te[col].counts)
    target = binned.pop(spec.target)
    out = D.drift_outcome(ctx, binned, target, tr["rows"], te["rows"], D.data_age(ctx))
    if out.metrics.get("age"):
        out.metrics["age_basis"] = "sample"
    return out

