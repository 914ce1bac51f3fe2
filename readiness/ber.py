"""Bayes-error-rate (BER) estimators and paired-comparison statistics.

Pure numpy/scipy; no review context here, so every function can be validated against
data whose Bayes error is known analytically (shared/science/bayes_error_and_holdout_reuse.md,
part A; the paired tests are part B6).

Estimators (the spec's numbering):

* E1  1-NN leave-one-out error R̂₁ (estimates the asymptotic 1-NN risk R∞ ≥ R*) and the
      Cover–Hart lower bound LB_CH(R̂₁) ≤ R* (asymptotic: overshoots in high dimension).
* E2  k-NN leave-one-out majority-vote errors R̂_k. Each is the honest error of a real
      classifier, so E[R̂_k] ≥ R* at every n: min over k is the upper estimate.
* E6  GHP / Friedman–Rafsky bounds from the cross-class edges of the Euclidean minimum
      spanning tree: upper 2S, lower LB_CH(2S), S = cross edges / (2n).
* E10 label-conflict rate of exact duplicate feature rows: a floor (biased low).
* Trivial cap: R* ≤ 1 − max prior.
* TwoNN intrinsic dimension (Facco et al. 2017), used to decide whether the asymptotic
  lower bounds can be trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from readiness.stats import wilson

BLOCK = 1024  # query rows per distance block (BLOCK × n float64)


# --- bound formulas --------------------------------------------------------------------


def cover_hart_lower(r: float, n_classes: int) -> float:
    """Multiclass Cover–Hart lower bound on R* from the asymptotic 1-NN risk ``r``:
    ((C−1)/C)·(1 − √(1 − C/(C−1)·r)), 0 for r ≤ 1e-10 (FeeBee/Snoopy convention)."""
    if r is None or not math.isfinite(r) or r <= 1e-10:
        return 0.0
    c = float(n_classes)
    return (c - 1) / c * (1 - math.sqrt(max(0.0, 1 - c / (c - 1) * r)))


DEVROYE_ALPHA, DEVROYE_BETA = 0.3399, 0.9749  # Devroye (1981), property 2, as in dataeval's _knn_lowerbound


def devroye_a(k: int) -> float:
    """Devroye's (1981) constant a_k for the binary k-NN rule, k > 5: R_k ≤ (1 + a_k)·R* asymptotically,
    a_k = 0.3399·√k/(k − 3.25)·(1 + 0.9749/√(k − 3))."""
    return DEVROYE_ALPHA * math.sqrt(k) / (k - 3.25) * (1 + DEVROYE_BETA / math.sqrt(k - 3))


def knn_lower(r: float, k: int, n_classes: int) -> float:
    """Lower bound on R* from the k-NN error (asymptotic, like every floor here), as dataeval and FeeBee
    compute it: LB_CH for C > 2 or k = 1; binary: R̂_k/2 for k = 2, R̂_k/(1 + 1/√k) for k = 3..5 and the
    tighter R̂_k/(1 + a_k) of Devroye (1981) for k > 5."""
    if n_classes > 2 or k == 1:
        return cover_hart_lower(r, n_classes)
    if r is None or not math.isfinite(r) or r <= 1e-10:
        return 0.0
    if k == 2:
        return r / 2
    if k > 5:
        return r / (1 + devroye_a(k))
    return r / (1 + 1 / math.sqrt(k))


def ghp_bounds(cross_edges: int, n: int, n_classes: int) -> tuple[float, float]:
    """(lower, upper) from the number of MST edges joining different classes."""
    s = cross_edges / (2 * n)
    return cover_hart_lower(2 * s, n_classes), min(1.0, 2 * s)


def noisy_ber(r_star: float, rho: float, n_classes: int) -> float:
    """R* after FeeBee label noise (with prob. ρ a uniform label over all C classes)."""
    return (1 - rho) * r_star + rho * (n_classes - 1) / n_classes


def two_gaussians_ber(delta: float, prior0: float = 0.5) -> float:
    """R* of N(μ0, Σ) vs N(μ1, Σ) with Mahalanobis distance Δ and priors π0, 1 − π0."""
    if prior0 == 0.5:
        return float(stats.norm.cdf(-delta / 2))
    t = math.log(prior0 / (1 - prior0)) / delta
    return float(prior0 * stats.norm.cdf(-delta / 2 - t) + (1 - prior0) * stats.norm.cdf(-delta / 2 + t))


# --- representation --------------------------------------------------------------------


def encode(frame: pd.DataFrame, columns: list[str], *, max_categories: int = 30) -> tuple[np.ndarray, dict]:
    """Standardised numbers (median-imputed, plus a 0/1 missing indicator where values are
    missing) and one-hot text/boolean columns (the ``max_categories`` most common values,
    the rest pooled; missing is its own value). Unsupervised: labels are never used.
    ``info["recipe"]`` holds what was learnt from ``frame``; :func:`encode_like` applies it to other rows."""
    parts, names, recipe = [], [], []
    info = {"numeric": 0, "categorical": 0, "dropped_constant": []}
    for col in columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = pd.to_numeric(s, errors="coerce").to_numpy(float)
            miss = np.isnan(v)
            if miss.all():
                info["dropped_constant"].append(col)
                continue
            median = float(np.nanmedian(v))
            v = np.where(miss, median, v)
            sd = v.std()
            mean = float(v.mean())
            if sd > 0:
                parts.append(((v - mean) / sd)[:, None])
                names.append(col)
            if miss.any() and not miss.all():
                parts.append(miss.astype(float)[:, None])
                names.append(f"{col} (missing)")
            recipe.append(("number", col, median, mean, float(sd), bool(miss.any())))
            if sd == 0 and not miss.any():
                info["dropped_constant"].append(col)
                continue
            info["numeric"] += 1
        else:
            v = _as_text(s)
            top = v.value_counts().index[:max_categories]
            if len(top) < 2:
                info["dropped_constant"].append(col)
                continue
            v = v.where(v.isin(top), "(other)")
            levels = sorted(set(v.unique()))
            codes = pd.Categorical(v, categories=levels).codes
            parts.append(np.eye(len(levels))[codes])
            names.extend(f"{col}={lv}" for lv in levels)
            recipe.append(("text", col, tuple(top), tuple(levels)))
            info["categorical"] += 1
    X = np.hstack(parts) if parts else np.zeros((len(frame), 0))
    info["dimensions"] = X.shape[1]
    info["names"] = names
    info["recipe"] = recipe
    return X, info


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype):  # text already: no round trip through Python objects
        return s.fillna("(missing)").astype(str)
    return s.astype("object").where(s.notna(), "(missing)").astype(str)


def encode_like(frame: pd.DataFrame, info: dict) -> np.ndarray:
    """Other rows (e.g. the holdout's) encoded with what :func:`encode` learnt from its frame: its
    medians, means and spreads, its kept categories (a value it did not keep is '(other)'; one it never
    saw at all has no column, so all zeros). ``encode_like(frame, encode(frame, cols)[1])`` is ``encode``'s X."""
    parts = []
    for step in info["recipe"]:
        if step[0] == "number":
            _, col, median, mean, sd, indicator = step
            v = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
            miss = np.isnan(v)
            if sd > 0:
                parts.append(((np.where(miss, median, v) - mean) / sd)[:, None])
            if indicator:
                parts.append(miss.astype(float)[:, None])
        else:
            _, col, top, levels = step
            v = _as_text(frame[col])
            v = v.where(v.isin(list(top)), "(other)")
            codes = pd.Categorical(v, categories=list(levels)).codes
            onehot = np.zeros((len(frame), len(levels)))
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
    return np.hstack(parts) if parts else np.zeros((len(frame), 0))


# --- nearest neighbours ----------------------------------------------------------------


def loo_neighbours(X: np.ndarray, k: int, *, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each row's k nearest *other* rows (leave-one-out),
    nearest first. Brute force in blocks: O(n²d) time, O(block·n) memory."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    k = min(k, n - 1)
    sq = np.einsum("ij,ij->i", X, X)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k))
    for start in range(0, n, block):
        stop = min(n, start + block)
        d2 = sq[start:stop, None] + sq[None, :] - 2 * X[start:stop] @ X.T
        np.maximum(d2, 0, out=d2)
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < n - 1 else np.tile(np.arange(n), (stop - start, 1))
        pd2 = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd2, axis=1, kind="stable")
        idx[start:stop] = np.take_along_axis(part, order, axis=1)[:, :k]
        dist[start:stop] = np.sqrt(np.take_along_axis(pd2, order, axis=1))[:, :k]
    return idx, dist


def knn_errors(y: np.ndarray, neighbours: np.ndarray, ks, n_classes: int) -> dict[int, np.ndarray]:
    """Per-row 0/1 errors of the k-NN majority vote for each k (labels coded 0..C−1; ties go
    to the smallest label, as in FeeBee)."""
    onehot = np.eye(n_classes, dtype=np.int32)[neighbours]  # n × kmax × C
    cum = np.cumsum(onehot, axis=1)
    out = {}
    for k in ks:
        if k > neighbours.shape[1]:
            continue
        votes = cum[:, k - 1, :]
        out[int(k)] = (np.argmax(votes, axis=1) != y).astype(np.int8)
    return out


def two_nn_dimension(dist: np.ndarray) -> float | None:
    """TwoNN intrinsic-dimension MLE: n / Σ ln(r₂/r₁) over rows with 0 < r₁ < r₂ (exact and
    tied neighbours carry no scale information and are left out)."""
    if dist.shape[1] < 2:
        return None
    r1, r2 = dist[:, 0], dist[:, 1]
    ok = (r1 > 0) & (r2 > r1)
    if ok.sum() < 20:
        return None
    return float(ok.sum() / np.sum(np.log(r2[ok] / r1[ok])))


def mst_cross_edges(X: np.ndarray, y: np.ndarray) -> int:
    """Number of edges of the Euclidean minimum spanning tree joining different labels
    (Prim's algorithm on the implicit complete graph: O(n²d) time, O(n) memory)."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    if n < 2:
        return 0
    sq = np.einsum("ij,ij->i", X, X)
    in_tree = np.zeros(n, dtype=bool)
    best = np.full(n, np.inf)
    parent = np.full(n, -1)
    cur = 0
    in_tree[0] = True
    cross = 0
    for _ in range(n - 1):
        d = sq + sq[cur] - 2 * (X @ X[cur])
        upd = (~in_tree) & (d < best)
        best[upd] = d[upd]
        parent[upd] = cur
        best[in_tree] = np.inf
        cur = int(np.argmin(best))
        in_tree[cur] = True
        cross += int(y[cur] != y[parent[cur]])
        best[cur] = np.inf
    return cross


def label_conflicts(frame: pd.DataFrame, features: list[str], y: np.ndarray) -> dict:
    """Exact duplicate feature rows with different labels: Σ_groups (n_g − max_c n_gc) / n."""
    n = len(frame)
    if n == 0 or not features:
        return {"rate": 0.0, "rows": 0, "groups": 0, "duplicate_rows": 0}
    keys = pd.util.hash_pandas_object(frame[features], index=False).to_numpy()
    df = pd.DataFrame({"k": keys, "y": pd.Series(y).astype(str).to_numpy()})
    counts = df.groupby(["k", "y"], sort=False).size()
    per_group = counts.groupby(level=0)
    size, top, n_labels = per_group.sum(), per_group.max(), per_group.size()
    conflict = size - top
    return {"rate": float(conflict.sum() / n), "rows": int(conflict.sum()),
            "groups": int((n_labels > 1).sum()), "duplicate_rows": int((size[size > 1] - 1).sum())}


# --- the study -------------------------------------------------------------------------


@dataclass
class BerEstimate:
    n: int
    n_classes: int
    priors: list[float]
    errors_1nn: int
    r1: float  # 1-NN LOO error
    lb_1nn: float  # Cover–Hart lower bound of r1
    knn: dict  # k -> {"error", "lower"}
    best_k: int
    upper_knn: float
    upper_knn_errors: int
    ghp_lower: float | None
    ghp_upper: float | None
    prior_cap: float
    intrinsic_dimension: float | None
    learning_curve: dict  # {"n": [...], "r1": [...], "lower": [...]}
    per_class_1nn: list[float]


def estimate(X: np.ndarray, y: np.ndarray, *, n_classes: int | None = None, ks=(1, 3, 5, 9, 15, 25),
             ghp: bool = True, curve: bool = True, seed: int = 0) -> BerEstimate:
    """Run E1, E2, E6, the prior cap, TwoNN and the R̂₁ learning curve on (X, y codes 0..C−1)."""
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    C = int(n_classes or (y.max() + 1))
    counts = np.bincount(y, minlength=C)
    priors = (counts / n).tolist()
    min_class = int(counts[counts > 0].min())
    ks = sorted({1, *[k for k in ks if k <= max(1, math.isqrt(max(min_class, 1))) or k <= 5]})
    kmax = max(ks)
    idx, dist = loo_neighbours(X, max(kmax, 2))
    nb = y[idx]
    errs = knn_errors(y, nb, ks, C)
    e1 = errs[1]
    r1 = float(e1.mean())
    knn = {k: {"error": float(e.mean()), "lower": knn_lower(float(e.mean()), k, C), "errors": int(e.sum())}
           for k, e in errs.items()}
    best_k = min(knn, key=lambda k: (knn[k]["error"], k))
    ghp_lo = ghp_hi = None
    if ghp:
        ghp_lo, ghp_hi = ghp_bounds(mst_cross_edges(X, y), n, C)
    lc: dict = {"n": [], "r1": [], "lower": []}
    if curve and n >= 400:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        for frac in (8, 4, 2):
            m = n // frac
            sub = perm[:m]
            i_sub, _ = loo_neighbours(X[sub], 1)
            r = float((y[sub][i_sub[:, 0]] != y[sub]).mean())
            lc["n"].append(m)
            lc["r1"].append(r)
            lc["lower"].append(cover_hart_lower(r, C))
        lc["n"].append(n)
        lc["r1"].append(r1)
        lc["lower"].append(cover_hart_lower(r1, C))
    per_class = [float(e1[y == c].mean()) if counts[c] else None for c in range(C)]
    return BerEstimate(n=n, n_classes=C, priors=priors, errors_1nn=int(e1.sum()), r1=r1,
                       lb_1nn=cover_hart_lower(r1, C), knn=knn, best_k=best_k, upper_knn=knn[best_k]["error"],
                       upper_knn_errors=knn[best_k]["errors"], ghp_lower=ghp_lo, ghp_upper=ghp_hi,
                       prior_cap=1 - max(priors), intrinsic_dimension=two_nn_dimension(dist),
                       learning_curve=lc, per_class_1nn=per_class)


# --- paired comparison (part B6) -------------------------------------------------------


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p: min(1, 2·P(Bin(b+c, ½) ≤ min(b, c)))."""
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5)))


def mcnemar_exact_one_sided(b: int, c: int) -> float:
    """Exact one-sided p for H₁ "the second model (wins c) is better": P(Bin(b+c, ½) ≥ c)."""
    if b + c == 0:
        return 1.0
    return float(stats.binom.sf(c - 1, b + c, 0.5))


def mcnemar_cc(b: int, c: int) -> tuple[float, float]:
    """Continuity-corrected McNemar: χ² = (|b − c| − 1)²/(b + c), df 1 → (χ², p)."""
    if b + c == 0:
        return 0.0, 1.0
    chi2 = max(0.0, abs(b - c) - 1) ** 2 / (b + c)
    return float(chi2), float(stats.chi2.sf(chi2, 1))


def mcnemar(b: int, c: int) -> dict:
    """The test the review reports: exact when b + c < 25, continuity-corrected otherwise."""
    if b + c < 25:
        return {"test": "exact", "p_value": mcnemar_exact(b, c), "statistic": None}
    chi2, p = mcnemar_cc(b, c)
    return {"test": "continuity-corrected chi-squared", "p_value": p, "statistic": chi2}


def newcombe_paired(both: int, only_first: int, only_second: int, neither: int, *,
                    alpha: float = 0.05) -> tuple[float, float, float]:
    """Newcombe's (1998, method 10) square-and-add interval for p₁ − p₂ on paired data.

    ``both``: rows right under both; ``only_first``: right under the first only; etc.
    Returns (estimate, lower, upper). φ uses Newcombe's continuity-corrected correlation.
    """
    n = both + only_first + only_second + neither
    if n == 0:
        return math.nan, math.nan, math.nan
    r1, r2 = both + only_first, both + only_second  # successes of first / second
    p1, p2 = r1 / n, r2 / n
    l1, u1 = wilson(r1, n, alpha=alpha)
    l2, u2 = wilson(r2, n, alpha=alpha)
    f1, f2 = n - r1, n - r2
    if min(r1, f1, r2, f2) == 0:
        phi = 0.0
    else:
        a = both * neither - only_first * only_second
        phi = (a - n / 2) / math.sqrt(r1 * f1 * r2 * f2) if a > n / 2 else (0.0 if a >= 0 else a / math.sqrt(r1 * f1 * r2 * f2))
    d = p1 - p2
    lo = d - math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)))
    hi = d + math.sqrt(max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)))
    return d, max(-1.0, lo), min(1.0, hi)


def wald_paired(b: int, c: int, n: int, *, alpha: float = 0.05) -> tuple[float, float, float]:
    """Wald interval for Δ = (c − b)/n: Δ̂ ± z·√(p̂_d − Δ̂²)/√n (b: first right only, c: second right only)."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    d = (c - b) / n
    pd_ = (b + c) / n
    half = z * math.sqrt(max(0.0, pd_ - d * d) / n)
    return d, d - half, d + half
