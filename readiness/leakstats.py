"""Statistics behind the leakage checks, with their chance models (wording lives in
:mod:`readiness.checks.leakage`).

- Row keys and overlap counts against the repeat rate within training (what chance gives
  in coarse data), with a test that carries the uncertainty of that rate.
- A feature's standalone power: out-of-fold target rate of its values (AUC / R²).
- Post-outcome *shape*: a rule without exception over a large share of rows
  (``is_recid = 0`` ⇒ ``two_year_recid = 0``), classes whose value ranges do not overlap.
- SMOTE's signature: points on the segment between two of their nearest neighbours, with
  the chance count estimated from the same data at a ten times looser tolerance.

Memory: every function here works column by column or on a capped sample of rows and
columns, so its peak does not grow with the number of columns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness.inputs.roles import parse_time
from readiness.stats import rank_auc

MAX_BINS = 32
SMOOTHING = 10.0  # pseudo-rows pulling a bin's target rate towards the fold's overall rate

# --- overlap: chance model ------------------------------------------------------------
OVERLAP_P_VALUE = 1e-3
OVERLAP_MATERIAL_SHARE = 0.01  # an excess of ≥ 1% of the holdout over chance is material ...
OVERLAP_MATERIAL_RATIO = 1.25  # ... when it is also ≥ 25% above the chance count
OVERLAP_MIN_EXCESS = 3  # fewer extra rows than this are never reported as copying
UNINFORMATIVE_SHARE = 0.5  # when half of training repeats itself, a match says nothing

# --- post-outcome rules ------------------------------------------------------------------
RULE_MIN_SHARE = 0.10  # a rule must cover ≥ 10% of the rows ...
RULE_MIN_ROWS = 100  # ... and at least 100 of them
RULE_RATE_FACTOR = 50.0  # the exception rate must be ≥ 50x below the other classes' share (95% upper bound)
RULE_MAX_EXCEPTIONS = 0.005  # at most 1 exception in 200 rows (a data-entry slip does not hide a rule)
RULE_MIN_OTHER_SHARE = 0.20  # the classes a rule excludes must make up ≥ 20% of the rows: only then is
#                              a clean rule surprising (a level with no positives in 5%-positive data is not)
POINT_MASS = 0.05  # a value held by ≥ 5% of the rows is a level, not a point on a continuum
SEPARATION_MAX_SHARE = 0.005  # ranges of the classes overlap on ≤ 0.5% of the rows: they do not overlap

# --- SMOTE-like interpolation --------------------------------------------------------------
SMOTE_TOL = 1e-4  # distance from the segment, relative to the segment's length
CHANCE_FACTOR = 10  # the chance count is read off the annulus (tol, 10·tol]
WORK_BYTES = 64 * 2**20  # per block of query points


def round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    out = np.array(x, dtype=float)
    nz = np.isfinite(out) & (out != 0)
    mag = 10.0 ** (np.floor(np.log10(np.abs(out[nz]))) - (digits - 1))
    out[nz] = np.round(out[nz] / mag) * mag
    return out


def row_keys(frame: pd.DataFrame, columns: list[str], *, numeric: set[str], round_digits: int | None = None,
             keys: np.ndarray | None = None, position: int = 0) -> np.ndarray:
    """64-bit content hash of each row over ``columns``, robust to int/float dtype drift.

    Columns are hashed one at a time and mixed into the row hash, so memory is O(rows)
    whatever the number of columns. ``keys``, the keys of the first ``position`` columns, are
    extended by ``columns``: ``row_keys(f, a + b)`` equals
    ``row_keys(f, b, keys=row_keys(f, a), position=len(a))``."""
    h = np.zeros(len(frame), dtype=np.uint64) if keys is None else np.array(keys, dtype=np.uint64)
    for i, c in enumerate(columns, start=position):
        s = frame[c]
        if c in numeric:
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if round_digits is not None:
                v = round_sig(v, round_digits)
            v = np.where(v == 0, 0.0, v)  # -0.0 == 0.0
            col = pd.Series(v)
        else:
            # text hashes by content alone: no round trip of a pyarrow column through Python objects
            col = s.astype("string").fillna("\x00<NA>").astype(str)
        ch = pd.util.hash_pandas_object(col, index=False, hash_key=f"{i:016d}").to_numpy()
        with np.errstate(over="ignore"):
            h = (h * np.uint64(0x100000001B3)) ^ ch
    return h


def score(task: str, Y: np.ndarray, P: np.ndarray) -> float:
    """AUC (binary), one-vs-rest macro AUC (multiclass) or R² (regression)."""
    if task == "regression":
        y, p = Y[:, 0], P[:, 0]
        sst = float(np.sum((y - y.mean()) ** 2))
        return float(1 - np.sum((y - p) ** 2) / sst) if sst > 0 else math.nan
    aucs = []
    for j in range(Y.shape[1]):
        yj = Y[:, j]
        if 0 < yj.sum() < len(yj):
            aucs.append(rank_auc(yj, P[:, j]))
    return float(np.mean(aucs)) if aucs else math.nan


def power(task: str, score: float) -> float:
    if score is None or not np.isfinite(score):
        return 0.0
    return float(max(0.0, score if task == "regression" else 2 * score - 1))


def score_from_power(task: str, power: float) -> float:
    return power if task == "regression" else (1 + power) / 2


def encode(train: pd.Series, test: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer bin codes for a training sample and the holdout; missing is its own bin."""
    if kind in ("numeric", "date", "identifier_rank"):
        if kind == "date":
            tr_t, _ = parse_time(train)
            te_t, _ = parse_time(test)
            tr = tr_t.astype("int64").where(tr_t.notna()).to_numpy(dtype=float, na_value=np.nan)
            te = te_t.astype("int64").where(te_t.notna()).to_numpy(dtype=float, na_value=np.nan)
        elif kind == "identifier_rank":
            both = pd.concat([train, test], ignore_index=True).astype("string")
            ranks = both.rank(method="dense").to_numpy(dtype=float, na_value=np.nan)
            tr, te = ranks[: len(train)], ranks[len(train):]
        else:
            tr = pd.to_numeric(train, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            te = pd.to_numeric(test, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = tr[np.isfinite(tr)]
        uniq = np.unique(finite)
        if len(uniq) <= MAX_BINS:
            edges = (uniq[:-1] + uniq[1:]) / 2 if len(uniq) > 1 else np.array([])
        else:
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))
        n_bins = len(edges) + 2

        def codes(v):
            c = np.searchsorted(edges, v, side="right")
            c[~np.isfinite(v)] = n_bins - 1
            return c

        return codes(tr), codes(te), n_bins
    values = pd.concat([train, test], ignore_index=True).astype("string").fillna("\x00<NA>")
    codes, uniques = pd.factorize(values)
    return codes[: len(train)], codes[len(train):], len(uniques)


def oof_rates(codes: np.ndarray, Y: np.ndarray, n_bins: int, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold smoothed target rate (or mean) of each row's bin."""
    k = int(folds.max()) + 1
    idx = folds * n_bins + codes
    cnt = np.bincount(idx, minlength=k * n_bins).reshape(k, n_bins)
    tot_cnt = cnt.sum(axis=0)
    P = np.empty_like(Y)
    for j in range(Y.shape[1]):
        s = np.bincount(idx, weights=Y[:, j], minlength=k * n_bins).reshape(k, n_bins)
        tot = s.sum(axis=0)
        fold_tot = s.sum(axis=1)
        fold_n = cnt.sum(axis=1)
        prior = (tot.sum() - fold_tot) / np.maximum(len(Y) - fold_n, 1)  # per fold
        out_s = tot[None, :] - s
        out_n = tot_cnt[None, :] - cnt
        rate = (out_s + SMOOTHING * prior[:, None]) / (out_n + SMOOTHING)
        P[:, j] = rate[folds, codes]
    return P


def fit_rates(codes: np.ndarray, Y: np.ndarray, n_bins: int) -> np.ndarray:
    cnt = np.bincount(codes, minlength=n_bins)
    prior = Y.mean(axis=0)
    rates = np.empty((n_bins, Y.shape[1]))
    for j in range(Y.shape[1]):
        s = np.bincount(codes, weights=Y[:, j], minlength=n_bins)
        rates[:, j] = (s + SMOOTHING * prior[j]) / (cnt + SMOOTHING)
    return rates


def sample_index(n: int, cap: int, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, size=cap, replace=False))
    out = []
    for g in np.unique(strata):
        members = np.flatnonzero(strata == g)
        take = max(1, round(cap * len(members) / n))
        out.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(out))


def null_power_se(task: str, Y: np.ndarray) -> float:
    """Standard error of the power of a column with no signal (Hanley–McNeil under H0)."""
    n = len(Y)
    if task == "regression":
        return 1.0 / math.sqrt(max(n, 1))
    ses = []
    for j in range(Y.shape[1]):
        n1 = Y[:, j].sum()
        n0 = n - n1
        if n1 > 0 and n0 > 0:
            ses.append(math.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))
    return 2 * float(np.mean(ses)) if ses else 1.0



def first_match(train_keys: np.ndarray, test_keys: np.ndarray) -> np.ndarray:
    """For each holdout row the index of the first training row with the same key, else -1."""
    first = pd.Series(np.arange(len(train_keys)), index=train_keys)
    first = first[~first.index.duplicated(keep="first")]
    return first.reindex(test_keys).fillna(-1).to_numpy(dtype=np.int64)


def grid_decimals(values: np.ndarray) -> int | None:
    """Decimals of the grid ≥ 90% of a column's values lie on (0 = integers), else None (continuous)."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return None
    for d in range(7):
        scaled = v * 10.0 ** d
        if np.mean(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))) >= 0.9:
            return d
    return None




# ======================================================================================
# overlap: holdout rows matching training rows, against chance
# ======================================================================================


def match_counts(train_keys: np.ndarray, test_keys: np.ndarray) -> dict:
    """Holdout rows whose key occurs in training, against the chance rate seen within training.

    Chance: the share of training rows that repeat another training row (``baseline``), floored
    at 1/(n_train + 1) — the rate ``chance_share`` both the expected count and the test use.
    Test: one-sided z-test of the holdout's hit rate against that share, whose own sampling
    variance counts twice (repeats come in pairs); with no repeats in training, an exact
    binomial test against the floor. *Material*: the excess is ≥ 1% of the holdout and ≥ 25%
    above chance, and at least 3 rows. Where half of training repeats itself (rounding makes
    every row a near-copy) a match carries no information and is never flagged."""
    test_hit = np.asarray(pd.Index(test_keys).isin(train_keys))
    n_tr = len(train_keys)
    repeated = int(pd.Series(train_keys).duplicated(keep=False).sum()) if n_tr else 0
    return {"mask": test_hit, **match_stats(n_tr, len(test_keys), repeated, int(test_hit.sum()))}


def match_stats(n_tr: int, n_te: int, repeated: int, observed: int) -> dict:
    """:func:`match_counts` from counts alone: ``repeated`` training rows whose key another training row
    shares, ``observed`` holdout rows whose key occurs in training (what an engine counts over every row)."""
    from scipy import stats

    baseline = repeated / n_tr if n_tr else 0.0
    chance = max(baseline, 1.0 / (n_tr + 1))
    expected = chance * n_te
    if not observed or not n_te:
        p_value = 1.0
    elif baseline == 0:
        p_value = float(stats.binom.sf(observed - 1, n_te, chance))
    else:
        h = observed / n_te
        se = math.sqrt(h * (1 - h) / n_te + 2 * chance * (1 - chance) / max(n_tr, 1))
        p_value = float(stats.norm.sf((h - chance) / se)) if se > 0 else (0.0 if h > chance else 1.0)
    excess = max(0.0, observed - expected)
    excess_share = excess / n_te if n_te else 0.0
    informative = baseline < UNINFORMATIVE_SHARE
    significant = bool(observed and p_value < OVERLAP_P_VALUE and informative and excess >= OVERLAP_MIN_EXCESS)
    relative = observed / expected if expected > 0 else math.inf
    material = bool(excess_share >= OVERLAP_MATERIAL_SHARE and relative >= OVERLAP_MATERIAL_RATIO)
    return {"rows": observed, "share": observed / n_te if n_te else 0.0,
            "baseline_share": baseline, "chance_share": chance, "expected_rows": expected, "excess_rows": excess,
            "excess_share": excess_share, "p_value": p_value, "informative": informative,
            "significant": significant, "material": significant and material}


# ======================================================================================
# feature ~ target: the shape of post-outcome evidence
# ======================================================================================


def _exception_bound(exceptions: int, n: int) -> float:
    """One-sided 95% upper bound of a rate with ``exceptions`` events in n trials (Clopper–Pearson)."""
    from scipy.stats import beta

    if n == 0 or exceptions >= n:
        return 1.0
    return float(beta.ppf(0.95, exceptions + 1, n - exceptions))


def post_outcome_rules(values: pd.Series, classes: np.ndarray, n_classes: int) -> list[dict]:
    """Rules "value ∈ S ⇒ class c" without exception (or nearly: ≤ 0.5% of the rule's rows) over
    a large share of rows.

    Candidate sets S: every *level* of the column (a value — or "missing" — held by ≥ 5% of
    the rows; every value of a text column with ≥ 5% of the rows), the union of the levels that
    are pure for one class, and *the rest* (all values that are not a level: for a zero-inflated
    column, its non-zero values). A rule counts when it covers ≥ 10% of the rows and ≥ 100 rows
    and its zero exceptions put the exception rate (95% upper bound) 50 times below the share
    of the other classes: an honest strong feature has pure tails of a few percent, a column
    filled in after the outcome has a rule like ``is_recid = 0`` ⇒ ``two_year_recid = 0`` over
    half of the data. Continuous values never form levels, so a smooth tail never makes a rule.
    ``classes`` holds each row's class index (0..n_classes-1)."""
    n = len(values)
    if n == 0 or n_classes < 2:
        return []
    text = values.astype("string").fillna("\x00<NA>").to_numpy(dtype=object)
    codes, uniques = pd.factorize(text)
    counts = np.bincount(codes, minlength=len(uniques))
    level = counts >= POINT_MASS * n
    is_level = level[codes]
    class_share = np.bincount(classes, minlength=n_classes) / n
    def shown(j):
        return "missing" if uniques[j] == "\x00<NA>" else str(uniques[j])

    levels = np.flatnonzero(level)
    sets: list[tuple[str, np.ndarray, list]] = []
    for j in levels:
        sets.append(("value", codes == j, [shown(j)]))
        if len(levels) <= 20:  # "any value but v": the values that exist for one class only
            sets.append(("other_values", codes != j, [shown(j)]))
    if (~is_level).any():
        sets.append(("other_values", ~is_level, [shown(j) for j in levels]))
    # per class, the union of the levels (and of the rest) that hold that class only
    by_class: dict[int, list[np.ndarray]] = {}
    for j in levels:
        present = np.unique(classes[codes == j])
        if len(present) == 1:
            by_class.setdefault(int(present[0]), []).append(codes == j)
    if (~is_level).any():
        present = np.unique(classes[~is_level])
        if len(present) == 1:
            by_class.setdefault(int(present[0]), []).append(~is_level)
    for _c, masks in by_class.items():
        if len(masks) > 1:
            union = np.logical_or.reduce(masks)
            sets.append(("other_values", union, [shown(j) for j in levels if not union[codes == j].any()]))
    rules = []
    seen = set()
    for kind, mask, values_shown in sets:
        rows = int(mask.sum())
        if rows < max(RULE_MIN_ROWS, RULE_MIN_SHARE * n) or rows == n:
            continue
        counts_c = np.bincount(classes[mask], minlength=n_classes)
        c = int(counts_c.argmax())
        exceptions = rows - int(counts_c[c])
        others = 1.0 - class_share[c]
        bound = _exception_bound(exceptions, rows)
        if others < RULE_MIN_OTHER_SHARE or exceptions > RULE_MAX_EXCEPTIONS * rows or bound > others / RULE_RATE_FACTOR:
            continue
        key = (rows, c, exceptions)
        if key in seen:
            continue
        seen.add(key)
        rules.append({"kind": kind, "values": values_shown, "class_index": c, "rows": rows, "share": rows / n,
                      "exceptions": exceptions, "other_classes_share": float(others),
                      "exception_rate_upper": bound})
    rules.sort(key=lambda r: -r["rows"])
    return rules


_GENERIC_TOKENS = {"date", "time", "year", "years", "days", "flag", "code", "type", "count", "rate", "score",
                   "value", "status", "amount", "total", "prev", "last", "first", "month", "months", "label",
                   "target", "class", "number"}


def _tokens(name: str) -> set[str]:
    import re

    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return {t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t}


def name_from_target(column: str, target: str) -> str | None:
    """The token the column's name shares with the target's (``is_recid`` / ``two_year_recid``
    -> ``recid``), ignoring generic words like date, days, flag; None if none."""
    shared = {t for t in _tokens(column) & _tokens(target) if len(t) >= 4 and t not in _GENERIC_TOKENS}
    return min(shared) if shared else None


# ======================================================================================
# oversampling: SMOTE's interpolation signature, against chance
# ======================================================================================


def interpolation_triples(P: np.ndarray, queries: np.ndarray, k: int, *, raw: np.ndarray | None = None,
                          grid: list[int | None] | None = None, tol: float = SMOTE_TOL,
                          factor: int = CHANCE_FACTOR) -> pd.DataFrame:
    """Triples (point, a, b): a query point lying on the segment between two of its k nearest
    neighbours, within ``factor``·``tol`` of it (relative to the segment's length).

    A coordinate counts as evidence when the point lies strictly between the two neighbours
    there and, for a column whose values sit on a grid (integers, cents), off that grid: on a
    grid, points fall on lines between other points by coincidence; interpolation leaves it. At
    least two coordinates must count. Work is done in blocks of query points sized so that one
    block needs about ``WORK_BYTES`` whatever the number of columns.
    Columns: point, a, b, lam (position on the segment), rel (distance / segment length)."""
    from sklearn.neighbors import NearestNeighbors

    empty = pd.DataFrame({"point": [], "a": [], "b": [], "lam": [], "rel": []})
    n, d = P.shape
    if n < 3 or len(queries) == 0:
        return empty
    k = min(k, n - 1)
    _, nbr = NearestNeighbors(n_neighbors=k + 1).fit(P).kneighbors(P[queries])
    ii, jj = np.triu_indices(k, 1)
    scale = np.abs(P).max(axis=0) + 1.0
    eps = 1e-9 * scale
    off_grid = None
    if raw is not None and grid is not None:
        off_grid = np.ones(raw.shape, dtype=bool)
        for j, dec in enumerate(grid):
            if dec is not None:
                v = raw[:, j] * 10.0 ** dec
                off_grid[:, j] = np.abs(v - np.round(v)) >= 1e-6 * np.maximum(1.0, np.abs(v))
    block = max(1, int(WORK_BYTES // (len(ii) * d * 8 * 6)))
    found = []
    for start in range(0, len(queries), block):
        q = queries[start:start + block]
        nb = nbr[start:start + block]
        # drop the query itself from its neighbour list
        nb = np.array([row[row != qi][:k] if (row == qi).any() else row[:k] for row, qi in zip(nb, q, strict=True)])
        S = P[q][:, None, :]
        A = P[nb[:, ii]]
        D = P[nb[:, jj]] - A
        dd = np.einsum("qpd,qpd->qp", D, D)
        SA = S - A
        with np.errstate(invalid="ignore", divide="ignore"):
            lam = np.einsum("qpd,qpd->qp", SA, D) / dd
            resid = SA - lam[..., None] * D
            rel = np.sqrt(np.einsum("qpd,qpd->qp", resid, resid) / dd)
        del resid
        between = (np.abs(SA) > eps) & (np.abs(SA - D) > eps)
        if off_grid is not None:
            between &= off_grid[q][:, None, :]
        hit = (dd > 0) & (lam > 1e-6) & (lam < 1 - 1e-6) & (rel <= factor * tol) & (between.sum(axis=2) >= 2)
        r, pidx = np.nonzero(hit)
        if len(r):
            found.append(pd.DataFrame({"point": q[r], "a": nb[r, ii[pidx]], "b": nb[r, jj[pidx]],
                                       "lam": lam[r, pidx], "rel": rel[r, pidx]}))
    return pd.concat(found, ignore_index=True) if found else empty


def chance_test(close: int, annulus: int, factor: int = CHANCE_FACTOR) -> dict:
    """Triples within ``tol`` (``close``) against those in (tol, factor·tol] (``annulus``).

    By chance, a point's distance to a line through two neighbours has a density that rises
    like r^(m−1) near 0 with m ≥ 1 the co-dimension, so P(r ≤ tol | r ≤ factor·tol) ≤ 1/factor;
    an exact interpolation sits at r ≈ 0. Expected chance count annulus/(factor − 1); p-value
    binomial(close + annulus, 1/factor) — conservative whenever m > 1."""
    from scipy import stats

    total = close + annulus
    expected = annulus / (factor - 1)
    p = float(stats.binom.sf(close - 1, total, 1.0 / factor)) if close else 1.0
    return {"close": int(close), "annulus": int(annulus), "expected": float(expected), "p_value": p}


def enrichment_test(class_hits: int, class_rows: int, other_hits: int, other_rows: int) -> float:
    """One-sided Fisher exact p-value that copies are more common in one class than in the rest."""
    from scipy import stats

    table = [[class_hits, class_rows - class_hits], [other_hits, other_rows - other_hits]]
    return float(stats.fisher_exact(table, alternative="greater")[1])


def affine_copy(x: np.ndarray, y: np.ndarray) -> dict | None:
    """Regression: the target is an exact affine function of the column (a copy, a unit
    change) on ≥ 90% of the rows with both values — least squares, then |residual| ≤ 1e-9
    of the target's scale. None otherwise."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < RULE_MIN_ROWS or np.ptp(x[ok]) == 0:
        return None
    xs, ys = x[ok], y[ok]
    b, a = np.polyfit(xs, ys, 1)
    exact = np.abs(ys - (a + b * xs)) <= 1e-9 * max(1.0, float(np.abs(ys).max()))
    if exact.mean() < 0.9:
        return None
    return {"kind": "affine", "slope": float(b), "intercept": float(a), "rows": int(exact.sum()),
            "share": float(exact.mean()), "exceptions": int((~exact).sum())}
