"""Statistics of weak-segment search (``segments.weak``): slices, the model's promise, and
selective inference by data splitting.

A *slice* is one predicate on one column (a numeric range, a category, missing) or the
conjunction of two predicates on different columns. For every holdout row the review knows
its loss ``L`` (an error, or its cost) and what the model's own scores promise that loss
to be, ``E`` (after one overall recalibration of the scores, so a model over-confident
everywhere is the calibration check's finding, not a segment's). Under the null "the
scores keep their promise in this slice", ``L − E`` has mean 0 and a known variance row by
row, so the slice's excess is a sum of independent, centred terms.

Two kinds of slice are told apart:

* **under-delivering**: the loss is clearly above the promise (``segments``);
* **hard**: the loss is clearly above the holdout's overall loss, but as promised
  (``hard_segments``): information, never an alarm.

Selective inference: the holdout is split at random in two halves. Every slice (single
predicates and all pairs, by matrix products over a 0/1 predicate matrix) is scored on the
*discovery* half; a greedy pass keeps the strongest slices whose excess is not explained
by slices already kept; only those are tested on the *confirmation* half, whose rows the
search never saw, and the Benjamini–Hochberg procedure controls the false discovery rate
over every slice tested there. Numbers reported are the confirmation half's (unbiased by
the search).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from readiness.fmt import MINUS

#: numeric columns are cut at (up to) these many quantile bins of the holdout
NUMERIC_BINS = 10
#: at most this many categories per text column (the most common)
MAX_CATEGORIES = 30
#: at most this many predicates enter the pair search (the strongest singles first)
MAX_PAIR_PREDICATES = 300
#: a slice covers at most this share of the rows (larger ones are the model, not a segment)
MAX_SHARE = 0.5
#: discovery: a slice enters the greedy selection when its z-score reaches this
Z_DISCOVER = 2.0
#: a pair's z-score must beat each of its two parts' by this much
PAIR_MARGIN = 1.0
#: at most this many slices of each kind are tested on the confirmation half
MAX_CONFIRM = 10
#: false discovery rate over the under-delivering slices tested (an alarm), and over the hard ones (information)
FDR = 0.01
FDR_HARD = 0.05


@dataclass(frozen=True)
class Predicate:
    column: str
    op: str  # "==", "<", ">=", "range", "missing"
    value: Any = None
    text: str = ""

    def mask(self, frame: pd.DataFrame, cache: ColumnCache | None = None) -> np.ndarray:
        """The rows the predicate holds on; ``cache`` (of the same frame) converts each column once."""
        cache = cache if cache is not None else ColumnCache(frame)
        if self.op == "missing":
            return frame[self.column].isna().to_numpy()
        if self.op == "==":
            if isinstance(self.value, str):
                return cache.text_equals(self.column, self.value)
            return cache.numeric(self.column) == float(self.value)
        v = cache.numeric(self.column)
        with np.errstate(invalid="ignore"):
            if self.op == "<":
                return v < self.value
            if self.op == ">=":
                return v >= self.value
            lo, hi = self.value
            return (v >= lo) & (v < hi)

    def as_dict(self) -> dict:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"column": self.column, "op": self.op, "value": value}


class ColumnCache:
    """Per-column conversions of one frame, made once for all the predicates on a column
    (a pyarrow string column converts to text element by element: slow at a million rows)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._numeric: dict[str, np.ndarray] = {}
        self._texts: dict[str, pd.Series] = {}
        self._text: dict[str, tuple[np.ndarray, dict[str, int], np.ndarray]] = {}

    def numeric(self, col: str) -> np.ndarray:
        if col not in self._numeric:
            self._numeric[col] = pd.to_numeric(self.frame[col], errors="coerce").to_numpy(float)
        return self._numeric[col]

    def text(self, col: str) -> pd.Series:
        """The column as text (missing values read 'None'; mask them with ``notna``)."""
        if col not in self._texts:
            s = self.frame[col]
            self._texts[col] = s.astype("object").where(s.notna(), None).astype(str)
        return self._texts[col]

    def text_equals(self, col: str, value: str) -> np.ndarray:
        """Rows whose text is ``value`` and not missing."""
        if col not in self._text:
            s = self.frame[col]
            codes, uniques = pd.factorize(self.text(col).to_numpy())  # text: equal codes iff equal strings
            self._text[col] = (codes, {str(u): i for i, u in enumerate(uniques)}, s.notna().to_numpy())
        codes, index, notna = self._text[col]
        if value not in index:
            return np.zeros(len(codes), dtype=bool)
        return (codes == index[value]) & notna


def nice(v: float) -> float:
    """A cut point rounded to 3 significant figures (so the words and the mask agree)."""
    if v == 0 or not math.isfinite(v):
        return float(v)
    digits = 2 - int(math.floor(math.log10(abs(v))))
    out = round(v, digits)
    return float(int(out)) if float(out).is_integer() else float(out)


def _num(v: float) -> str:
    """A cut point in a slice's plain-words definition, with a true minus sign ('x under −0.269')."""
    return (f"{int(v):,}" if float(v).is_integer() else f"{v:,.6g}").replace("-", MINUS)


def predicates(frame: pd.DataFrame, columns: list[str], *, min_rows: int,
               cache: ColumnCache | None = None) -> list[Predicate]:
    """Candidate predicates on the holdout's columns, each holding at least ``min_rows`` rows."""
    cache = cache if cache is not None else ColumnCache(frame)
    out: list[Predicate] = []
    n = len(frame)
    for col in columns:
        s = frame[col]
        cands: list[Predicate] = []
        if s.isna().any():
            cands.append(Predicate(col, "missing", None, f"{col} missing"))
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric:
            v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
            uniq = np.unique(v)
            if len(uniq) < 2:
                continue
            if len(uniq) <= 10:
                cands += [Predicate(col, "==", float(u), f"{col} {_num(float(u))}") for u in uniq]
                cuts = sorted({nice(float(u)) for u in uniq[1:]})
            else:
                qs = np.quantile(v, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
                whole = bool(np.all(uniq == np.round(uniq)))
                rounded = [float(round(q)) if whole else nice(float(q)) for q in qs]
                cuts = sorted({c for c in rounded if uniq[0] < c <= uniq[-1]})
            for c in cuts:
                cands.append(Predicate(col, "<", c, f"{col} under {_num(c)}"))
                cands.append(Predicate(col, ">=", c, f"{col} {_num(c)} or more"))
            if len(uniq) > 10:
                for lo, hi in zip(cuts[:-1], cuts[1:], strict=False):
                    cands.append(Predicate(col, "range", (lo, hi), f"{col} from {_num(lo)} to under {_num(hi)}"))
        else:
            counts = cache.text(col)[s.notna()].value_counts()
            if len(counts) < 2:
                continue
            for value in counts.index[:MAX_CATEGORIES]:
                cands.append(Predicate(col, "==", str(value), f"{col} {value}"))
        for p in cands:
            k = int(p.mask(frame, cache).sum())
            if min_rows <= k <= MAX_SHARE * n:
                out.append(p)
    return out


@dataclass
class RowLosses:
    """Per holdout row: loss, promised loss and the null variance of their difference."""

    metric: str  # "accuracy" | "cost per decision" | "mean absolute error"
    loss: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    third: np.ndarray | None = None  # third central moment (for the skewness correction)
    q: np.ndarray | None = None  # classification: promised probability of an error
    cost: np.ndarray | None = None  # classification: what an error costs in this row
    two_sided: bool = False  # regression: a slice is biased either way
    signed: np.ndarray | None = None  # regression residuals (prediction − truth)
    notes: dict = field(default_factory=dict)


def platt(score: np.ndarray, y: np.ndarray, fit_rows: np.ndarray, *, probabilities: bool) -> tuple[np.ndarray, dict]:
    """P(y = 1 | score) by a logistic recalibration fitted on ``fit_rows`` only."""
    from sklearn.linear_model import LogisticRegression

    s = np.asarray(score, float)
    x = np.log(np.clip(s, 1e-6, 1 - 1e-6) / (1 - np.clip(s, 1e-6, 1 - 1e-6))) if probabilities else s
    mu, sd = float(np.mean(x[fit_rows])), float(np.std(x[fit_rows]) or 1.0)
    z = ((x - mu) / sd)[:, None]
    yy = np.asarray(y)[fit_rows]
    if len(np.unique(yy)) < 2:
        return (np.clip(s, 0, 1) if probabilities else np.full(len(s), float(yy.mean()))), {"recalibrated": False}
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(z[fit_rows], yy)
    slope = float(lr.coef_[0, 0]) / sd
    intercept = float(lr.intercept_[0]) - slope * mu
    return lr.predict_proba(z)[:, 1], {"recalibrated": True, "slope": slope, "intercept": intercept,
                                      "on": "logit of the score" if probabilities else "the raw score"}


def classification_losses(correct_or_pred: np.ndarray, p_promise: np.ndarray, y: np.ndarray | None, *,
                          cost_fp: float = 1.0, cost_fn: float = 1.0, binary: bool) -> RowLosses:
    """Binary: ``correct_or_pred`` is the 0/1 decision, ``p_promise`` P(y = 1), ``y`` the 0/1 truth.
    Multiclass: ``correct_or_pred`` is 1 where the prediction is right, ``p_promise`` P(right)."""
    if not binary:
        right = np.asarray(correct_or_pred, float)
        q = 1 - np.clip(p_promise, 0, 1)  # promised error
        return RowLosses("accuracy", 1 - right, q, q * (1 - q), q * (1 - q) * (1 - 2 * q), q=q, cost=np.ones(len(q)))
    pred = np.asarray(correct_or_pred).astype(bool)
    p = np.clip(p_promise, 0, 1)
    yb = np.asarray(y).astype(bool)
    costs = cost_fp != cost_fn
    c = np.where(pred, cost_fp, cost_fn) if costs else np.ones(len(pred))
    q = np.where(pred, 1 - p, p)  # promised probability of an error
    wrong = (pred != yb).astype(float)
    return RowLosses("cost per decision" if costs else "accuracy", c * wrong, c * q, c * c * q * (1 - q),
                     c ** 3 * q * (1 - q) * (1 - 2 * q), q=q, cost=np.asarray(c, float))


def regression_losses(pred: np.ndarray, y: np.ndarray, fit_rows: np.ndarray) -> RowLosses:
    r = np.asarray(pred, float) - np.asarray(y, float)
    centre = float(np.mean(r[fit_rows]))
    var = float(np.var(r[fit_rows], ddof=1)) if fit_rows.sum() > 1 else 0.0
    return RowLosses("mean absolute error", np.abs(r), np.abs(r), np.full(len(r), var), None, True, r - centre)


# --- the search ------------------------------------------------------------------------------


@dataclass
class Candidate:
    preds: tuple[int, ...]
    z: float


def _z(num: np.ndarray, var: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, num / np.sqrt(np.maximum(var, 1e-300)), 0.0)


def scan(P: np.ndarray, d: np.ndarray, v: np.ndarray, cols: np.ndarray, *, min_rows: int, max_rows: int,
         two_sided: bool, keep: np.ndarray | None = None) -> list[Candidate]:
    """z-scores of every single predicate and every pair on different columns.

    ``P`` is the (rows × predicates) 0/1 matrix of the discovery half, ``d`` the per-row
    excess (centred under the null), ``v`` its null variance; ``keep`` (per predicate)
    optionally marks a slice that must also pass a size filter (the practical effect)."""
    n_s, D_s, V_s = P.sum(0), P.T @ d, P.T @ v
    z_s = _z(D_s, V_s)
    z_s = np.abs(z_s) if two_sided else z_s
    ok_s = (n_s >= min_rows) & (n_s <= max_rows)
    out = [Candidate((i,), float(z_s[i])) for i in np.flatnonzero(ok_s & (z_s >= Z_DISCOVER))]
    m = P.shape[1]
    idx = np.arange(m)
    if m > MAX_PAIR_PREDICATES:
        idx = np.argsort(-np.abs(z_s))[:MAX_PAIR_PREDICATES]
    Q = P[:, idx]
    if Q.shape[0] < 2 ** 24:  # counts of 0/1 products: exact in single precision, in half the time
        Q32 = Q.astype(np.float32)
        N2 = (Q32.T @ Q32).astype(float)
    else:
        N2 = Q.T @ Q
    D2 = Q.T @ (Q * d[:, None])
    V2 = Q.T @ (Q * v[:, None])
    z2 = _z(D2, V2)
    z2 = np.abs(z2) if two_sided else z2
    c = cols[idx]
    good = (N2 >= min_rows) & (N2 <= max_rows) & (c[:, None] != c[None, :]) & (z2 >= Z_DISCOVER)
    good &= np.triu(np.ones_like(good, dtype=bool), 1)
    # a pair must add clearly to each of its parts (else the single predicate says it more simply)
    good &= (z2 >= z_s[idx][:, None] + PAIR_MARGIN) & (z2 >= z_s[idx][None, :] + PAIR_MARGIN)
    a, b = np.nonzero(good)
    out += [Candidate((int(idx[i]), int(idx[j])), float(z2[i, j])) for i, j in zip(a, b, strict=True)]
    out.sort(key=lambda c: -c.z)
    return out


def greedy(cands: list[Candidate], P: np.ndarray, d: np.ndarray, v: np.ndarray, *, min_rows: int,
           two_sided: bool, accept=None, limit: int = MAX_CONFIRM, pool: int = 400,
           columns: dict[int, np.ndarray] | None = None) -> list[Candidate]:
    """Keep the strongest slices whose excess stays significant on rows no kept slice covers.

    ``columns`` caches each predicate's rows of ``P`` (a strided column is slow to take out);
    pass the same dict to passes over the same ``P``."""
    covered = np.zeros(P.shape[0], dtype=bool)
    kept: list[Candidate] = []
    columns = {} if columns is None else columns

    def rows(i: int) -> np.ndarray:
        if i not in columns:
            columns[i] = P[:, i] > 0
        return columns[i]

    for cand in cands[:pool]:
        mask = rows(cand.preds[0])
        for i in cand.preds[1:]:
            mask = mask & rows(i)
        rest = mask & ~covered
        if rest.sum() < max(min_rows // 2, 10):
            continue
        z = float(_z(np.array(d[rest].sum()), np.array(v[rest].sum())))
        z = abs(z) if two_sided else z
        if z < Z_DISCOVER or (accept is not None and not accept(mask)):
            continue
        kept.append(Candidate(cand.preds, z))
        covered |= mask
        if len(kept) >= limit:
            break
    return kept


def upper_tail(excess: float, var: float, third: float | None) -> float:
    """P(sum of the centred terms ≥ excess) by the refined normal approximation (skewness
    corrected; Volkova 1996), which is not anti-conservative for small error rates."""
    if var <= 0:
        return 1.0 if excess <= 0 else 0.0
    sd = math.sqrt(var)
    x = excess / sd
    g = 0.0 if third is None else third / sd ** 3
    cdf = stats.norm.cdf(x) + g * (1 - x * x) * stats.norm.pdf(x) / 6
    return float(min(1.0, max(0.0, 1 - cdf)))


#: below this many promised errors in a slice the tail is computed exactly (Poisson-binomial)
EXACT_BELOW = 100.0


def poisson_binomial(q: np.ndarray, *, cap: int | None = None) -> np.ndarray:
    """Exact distribution of the number of successes of independent Bernoulli(q) trials
    (dynamic programming; with ``cap`` the last entry holds P(X ≥ cap))."""
    length = len(q) + 1 if cap is None else min(len(q), cap) + 1
    dist = np.zeros(length)
    dist[0] = 1.0
    for qi in q:
        moved = dist * qi
        dist *= 1 - qi
        dist[1:] += moved[:-1]
        dist[-1] += moved[-1] if cap is not None and length <= len(q) else 0.0
    return dist


def tail_p(q: np.ndarray, cost: np.ndarray, observed: float) -> float:
    """P(Σ cost·Bernoulli(q) ≥ observed): exact when few errors are promised (the normal
    approximation is anti-conservative there even with its skewness correction), else the
    skewness-corrected normal approximation with a continuity correction."""
    q, cost = np.asarray(q, float), np.asarray(cost, float)
    levels = np.unique(cost)
    if q.sum() >= EXACT_BELOW or len(levels) > 2 or np.any(levels <= 0):
        step = float(levels.min()) if len(levels) and levels.min() > 0 else 0.0
        return upper_tail(observed - step / 2 - float((cost * q).sum()), float((cost * cost * q * (1 - q)).sum()),
                          float((cost ** 3 * q * (1 - q) * (1 - 2 * q)).sum()))
    eps = 1e-9
    if len(levels) == 1:
        c = float(levels[0])
        k = int(math.ceil(observed / c - eps))
        if k <= 0:
            return 1.0
        dist = poisson_binomial(q, cap=k)
        return float(min(1.0, dist[-1])) if k <= len(q) else 0.0
    a, b = float(levels[0]), float(levels[1])

    def capped(qs):  # mass beyond mean + 15 sd is negligible; the last entry absorbs it
        mu = float(qs.sum())
        return poisson_binomial(qs, cap=int(mu + 15 * math.sqrt(mu) + 20))

    qb = q[cost == b]
    da, db = capped(q[cost == a]), capped(qb)
    tail_b = np.cumsum(db[::-1])[::-1]  # P(Xb ≥ j); when capped, the last entry is P(Xb ≥ cap)
    total = 0.0
    for xa, pa in enumerate(da):
        need = int(math.ceil((observed - a * xa) / b - eps))
        if need <= 0:
            total += pa
        elif need <= len(qb):  # more errors than rows cannot happen
            total += pa * tail_b[min(need, len(tail_b) - 1)]
    return float(min(1.0, total))


def bh(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values)."""
    if not p_values:
        return []
    return [float(q) for q in stats.false_discovery_control(np.asarray(p_values, float), method="bh")]


def split_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random halves of the rows: discovery, confirmation."""
    rng = np.random.default_rng(seed)
    disc = np.zeros(n, dtype=bool)
    disc[rng.permutation(n)[: n // 2]] = True
    return disc, ~disc


def wilson_interval(successes: float, n: int) -> tuple[float, float]:
    from readiness.stats import wilson

    return wilson(int(round(successes)), n)


def mean_interval(x: np.ndarray) -> tuple[float, float]:
    if len(x) < 2:
        return (math.nan, math.nan)
    m, se = float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(len(x)))
    return m - 1.96 * se, m + 1.96 * se
