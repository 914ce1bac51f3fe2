"""The statistics of the calibration and uncertainty checks: binning, calibration errors, tests,
the Brier score's decomposition, the reliability diagram's data, the recalibration preview and the
selective-prediction curve.

Pure functions of arrays (no review context, no wording): ``readiness.checks.calibration`` calls
them and words the results, and re-exports the public ones (``from readiness.checks.calibration
import ece`` keeps working). Formulas: docs/checks.md, "Calibration and uncertainty".
"""

from __future__ import annotations

import math

import numpy as np

from readiness.stats import bootstrap_cis, clopper_pearson

N_BINS = 10
HIST_BINS = 20
HL_MIN_EXPECTED = 5.0  # Hosmer–Lemeshow bins expect at least this many events and non-events (Cochran)
RECAL_FOLDS = 5
LOGIT_CLIP = 1e-6  # Platt works on logit(score); scores are clipped to [1e-6, 1 - 1e-6] first
RECAL_CLIP = 1e-3  # recalibrated probabilities are clipped to [0.001, 0.999] (isotonic gives 0 and 1)
LOG_CLIP = 1e-15

# --- pure metric functions -----------------------------------------------------------------


def _as_arrays(p, y) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"p and y must be 1-d arrays of equal length, got shapes {p.shape} and {y.shape}")
    return p, y


def equal_width_bins(p, n_bins: int = N_BINS) -> np.ndarray:
    """Bin index of each score over ``n_bins`` equal-width bins of [0, 1].

    Same convention as ``sklearn.calibration.calibration_curve(strategy="uniform")``:
    bin k holds scores in (k/n, (k+1)/n], the first bin also holds 0.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], np.asarray(p, dtype=float))


def equal_mass_bins(p, n_bins: int = N_BINS) -> np.ndarray:
    """Bin index of each score over ``n_bins`` bins of (as near as possible) equal size,
    by rank of the score (ties broken by position)."""
    p = np.asarray(p, dtype=float)
    n_bins = max(1, min(n_bins, len(p)))
    order = np.argsort(p, kind="stable")
    bins = np.empty(len(p), dtype=int)
    for k, chunk in enumerate(np.array_split(order, n_bins)):
        bins[chunk] = k
    return bins


def _bin_sums(p, y, bins, n_bins):
    count = np.bincount(bins, minlength=n_bins).astype(float)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    return count, sum_p, sum_y


def ece(p, y, n_bins: int = N_BINS) -> float:
    """Expected calibration error over equal-width bins: the bin-share-weighted mean of
    |observed rate − mean score| (= |accuracy − confidence| for top-label inputs)."""
    p, y = _as_arrays(p, y)
    _, sum_p, sum_y = _bin_sums(p, y, equal_width_bins(p, n_bins), n_bins)
    return float(np.abs(sum_y - sum_p).sum() / len(p))


def _ece_of_bins(p: np.ndarray, y: np.ndarray, bins: np.ndarray) -> float:
    """:func:`ece` of float arrays whose equal-width bins are known (a resample of the rows takes
    its bins along: the same value, without binning every resample again)."""
    _, sum_p, sum_y = _bin_sums(p, y, bins, N_BINS)
    return float(np.abs(sum_y - sum_p).sum() / len(p))


def _ece_of_cells(p: np.ndarray, cells: np.ndarray) -> float:
    """:func:`ece` of rows given as scores and cells ``2 * bin + outcome`` (outcomes 0/1): the events
    per bin are counted, which is their sum exactly."""
    sum_p = np.bincount(cells >> 1, weights=p, minlength=N_BINS)
    sum_y = np.bincount(cells, minlength=2 * N_BINS)[1::2]
    return float(np.abs(sum_y - sum_p).sum() / len(p))


def _brier_of_cells(p: np.ndarray, cells: np.ndarray) -> float:
    """:func:`brier` of rows given as scores and cells ``2 * bin + outcome``."""
    return float(np.mean((p - (cells & 1)) ** 2))


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values))


def _brier_and_ece_ci(p, y, *, seed: int, n_boot: int, row_brier: np.ndarray | None = None) -> tuple[list, list]:
    """Bootstrap intervals of the Brier score (the mean of ``row_brier``, each row's Brier term, when
    given; else of (p − y)²) and of ``ece(p, y)``, over the same resamples that two
    :func:`bootstrap_ci` calls with this seed draw, drawn once. With 0/1 outcomes a resample takes
    each row's score and one small code (its bin and outcome) along: the same values, fewer bytes moved."""
    p, y = _as_arrays(p, y)
    bins = equal_width_bins(p)
    if np.isin(y, (0.0, 1.0)).all() and 2 * N_BINS <= 127:
        cells = (2 * bins + y.astype(np.int64)).astype(np.int8)
        stats_ = [(_brier_of_cells, (p, cells)) if row_brier is None else (_mean, (row_brier,)),
                  (_ece_of_cells, (p, cells))]
    else:
        stats_ = [(_mean, ((p - y) ** 2 if row_brier is None else row_brier,)), (_ece_of_bins, (p, y, bins))]
    brier_ci, ece_ci = bootstrap_cis(stats_, n_boot=n_boot, seed=seed)
    return list(brier_ci), list(ece_ci)


def adaptive_ece(p, y, n_bins: int = N_BINS) -> float:
    """ECE over equal-mass bins (each bin holds ~n/n_bins rows)."""
    p, y = _as_arrays(p, y)
    bins = equal_mass_bins(p, n_bins)
    _, sum_p, sum_y = _bin_sums(p, y, bins, int(bins.max()) + 1)
    return float(np.abs(sum_y - sum_p).sum() / len(p))


def mce(p, y, n_bins: int = N_BINS) -> float:
    """Maximum calibration error: the largest |observed rate − mean score| over the
    non-empty equal-width bins (noisy for sparsely filled bins)."""
    p, y = _as_arrays(p, y)
    count, sum_p, sum_y = _bin_sums(p, y, equal_width_bins(p, n_bins), n_bins)
    ok = count > 0
    return float(np.max(np.abs(sum_y[ok] - sum_p[ok]) / count[ok]))


def ece_noise_floor(p, n_bins: int = N_BINS) -> float:
    """The ECE a perfectly calibrated model would show on average with these scores and
    this many rows (normal approximation: E|O_k − E_k| = sqrt(2 V_k / π), V_k the sum of
    p(1−p) in bin k)."""
    p = np.asarray(p, dtype=float)
    bins = equal_width_bins(p, n_bins)
    var = np.bincount(bins, weights=p * (1 - p), minlength=n_bins)
    return float(np.sqrt(2 * var / math.pi).sum() / len(p))


def calibration_error_debiased(p, y, n_bins: int = N_BINS) -> float:
    """How far the probabilities are off with chance taken out: the quantity the status rule judges. In bin k,
    with n_k rows, O_k observed and E_k expected events and V_k = sum p(1-p) (the variance of O_k were the
    scores calibrated), ((O_k - E_k)^2 - V_k) / n_k^2 estimates the squared gap without bias (Kumar, Liang & Ma
    2019, 'Verified uncertainty calibration', the debiased plug-in estimator); the bins' gaps are pooled as a
    root mean square, sqrt(max(0, sum_k (n_k/n) gap_k^2)). For one shift of all scores it equals that shift
    (3 points -> 2.6, 2.8, 3.0 on 1,500, 5,000, 20,000 rows), while calibrated scores give 0.6, 0.4, 0.2 points
    where the plain ECE, which carries the noise, gives 2.5, 1.4, 0.7."""
    p, y = _as_arrays(p, y)
    bins = equal_width_bins(p, n_bins)
    count, sum_p, sum_y = _bin_sums(p, y, bins, n_bins)
    var = np.bincount(bins, weights=p * (1 - p), minlength=n_bins)
    ok = count > 0
    return float(math.sqrt(max(0.0, float((((sum_y - sum_p) ** 2 - var)[ok] / count[ok]).sum()) / len(p))))


def brier(p, y) -> float:
    p, y = _as_arrays(p, y)
    return float(np.mean((p - y) ** 2))


def brier_decomposition(p, y, n_bins: int = N_BINS) -> dict:
    """Murphy's decomposition of the Brier score over equal-width bins.

    Brier = reliability − resolution + uncertainty + within_bin_variance − within_bin_covariance
    (exact; Stephenson et al. 2008). The two within-bin terms vanish when every score in a
    bin is equal, which gives Murphy's classic three-term form.
    """
    p, y = _as_arrays(p, y)
    n = len(p)
    bins = equal_width_bins(p, n_bins)
    count, sum_p, sum_y = _bin_sums(p, y, bins, n_bins)
    ok = count > 0
    pbar = np.zeros(n_bins)
    obar = np.zeros(n_bins)
    pbar[ok], obar[ok] = sum_p[ok] / count[ok], sum_y[ok] / count[ok]
    base = float(y.mean())
    dp, dy = p - pbar[bins], y - obar[bins]
    return {
        "reliability": float((count * (pbar - obar) ** 2).sum() / n),
        "resolution": float((count * (obar - base) ** 2).sum() / n),
        "uncertainty": base * (1 - base),
        "within_bin_variance": float((dp ** 2).sum() / n),
        "within_bin_covariance": float(2 * (dp * dy).sum() / n),
        "n_bins": n_bins,
    }


def log_loss_binary(p, y) -> float:
    p, y = _as_arrays(p, y)
    q = np.clip(p, LOG_CLIP, 1 - LOG_CLIP)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _normal_p(z: float) -> float:
    from scipy import stats

    return math.nan if np.isnan(z) else float(2 * stats.norm.sf(abs(z)))


def spiegelhalter(p, y) -> tuple[float, float]:
    """Spiegelhalter's z test of calibration (1986): z = Σ(y−p)(1−2p) / sqrt(Σ(1−2p)² p(1−p)).

    Returns (z, two-sided p-value). Note its blind spot: a shift of all scores in the
    same direction is missed when the scores straddle 0.5 (the terms cancel); the
    Hosmer–Lemeshow test covers that case.
    """
    p, y = _as_arrays(p, y)
    num = float(np.sum((y - p) * (1 - 2 * p)))
    var = float(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    if var <= 0:
        return (math.nan, math.nan)
    z = num / math.sqrt(var)
    return z, _normal_p(z)


def merge_sparse_bins(p, bins: np.ndarray, min_expected: float = HL_MIN_EXPECTED) -> np.ndarray:
    """Merge adjacent bins (in score order) until each expects at least ``min_expected`` events and as
    many non-events (Σp and Σ(1 − p) under the scores), Cochran's rule for a χ² approximation; a short
    remainder joins the last group. Returns bin codes 0..k−1."""
    p = np.asarray(p, dtype=float)
    k = int(bins.max()) + 1 if len(bins) else 0
    ev = np.bincount(bins, weights=p, minlength=k)
    non = np.bincount(bins, weights=1 - p, minlength=k)
    return merged_bin_codes(ev, non, min_expected)[bins]


def merged_bin_codes(ev: np.ndarray, non: np.ndarray, min_expected: float = HL_MIN_EXPECTED) -> np.ndarray:
    """:func:`merge_sparse_bins` from each bin's expected events ``ev`` (Σp) and non-events ``non`` (Σ(1 − p)):
    the merged code of each bin."""
    k = len(ev)
    new = np.zeros(k, dtype=int)
    group, acc_e, acc_n, closed = 0, 0.0, 0.0, -1
    for b in range(k):
        new[b] = group
        acc_e, acc_n = acc_e + ev[b], acc_n + non[b]
        if acc_e >= min_expected and acc_n >= min_expected:
            closed, group, acc_e, acc_n = group, group + 1, 0.0, 0.0
    if group > closed + 0 and closed >= 0:  # an open remainder: fold it into the last closed group
        new[new > closed] = closed
    return new


def hosmer_lemeshow(p, y, n_bins: int = N_BINS) -> tuple[float, int, float]:
    """Hosmer–Lemeshow test for scores from a model *not* fitted on these rows.

    Equal-mass bins, adjacent bins merged until each expects at least 5 events and 5
    non-events (:func:`merge_sparse_bins`: with skewed, low-prevalence scores the χ²
    approximation over sparse bins rejected 10–13% of perfectly calibrated holdouts at
    the 5% level; issue 18); statistic Σ_k (O_k − E_k)² / V_k with V_k = Σ p(1−p), the exact
    variance of the observed count O_k when the scores are the true probabilities;
    χ² with one degree of freedom per bin (no parameters were fitted on the holdout).
    Returns (statistic, df, p-value).
    """
    p, y = _as_arrays(p, y)
    n_bins = max(1, min(n_bins, len(p) // 10 or 1))
    bins = merge_sparse_bins(p, equal_mass_bins(p, n_bins))
    n_bins = int(bins.max()) + 1
    _, sum_p, sum_y = _bin_sums(p, y, bins, n_bins)
    var = np.bincount(bins, weights=p * (1 - p), minlength=n_bins)
    return hosmer_lemeshow_of_sums(sum_p, sum_y, var)


def hosmer_lemeshow_of_sums(sum_p: np.ndarray, sum_y: np.ndarray, var: np.ndarray) -> tuple[float, int, float]:
    """:func:`hosmer_lemeshow` from its merged bins' sums of the score, the outcome and p(1 − p)."""
    from scipy import stats

    n_bins = len(sum_p)
    diff2 = (sum_y - sum_p) ** 2
    if np.any((var <= 0) & (diff2 > 1e-12)):
        return (math.inf, n_bins, 0.0)  # an event the scores called impossible happened
    use = var > 0
    stat = float((diff2[use] / var[use]).sum())
    df = int(use.sum())
    if df == 0:
        return (0.0, 0, 1.0)
    return stat, df, float(stats.chi2.sf(stat, df))


def calibration_in_the_large(p, y) -> dict:
    """Mean score against observed rate, with a z test (Σy − Σp) / sqrt(Σp(1−p))."""
    p, y = _as_arrays(p, y)
    var = float(np.sum(p * (1 - p)))
    z = float((y.sum() - p.sum()) / math.sqrt(var)) if var > 0 else math.nan
    return {"predicted": float(p.mean()), "observed": float(y.mean()), "z": z, "p_value": _normal_p(z)}


def fit_logistic_1d(x, y, *, max_iter: int = 50, weights=None, tol: float = 1e-10) -> tuple[float, float]:
    """Maximum-likelihood (unpenalised) logistic regression y ~ a + b·x by Newton–Raphson
    with step halving; two parameters, so this is far faster than a general solver.
    Under perfect separation the estimates grow until the iteration cap (as any MLE would).
    ``weights``: each row stands for that many rows (an engine's rows per distinct score, issue 22);
    the fit stops when the log-likelihood changes by less than ``tol`` (relative)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)
    X = np.column_stack([np.ones_like(x), x])
    ybar = y.mean() if w is None else float(np.sum(w * y) / np.sum(w))
    beta = np.array([math.log((ybar + 1e-9) / (1 - ybar + 1e-9)), 1.0])

    def nll(b):
        eta = X @ b
        terms = np.logaddexp(0, eta) - y * eta
        return float(np.sum(terms if w is None else w * terms))

    cur = nll(beta)
    for _ in range(max_iter):
        mu = 1 / (1 + np.exp(-(X @ beta)))
        resid, curv = y - mu, mu * (1 - mu)
        if w is not None:
            resid, curv = w * resid, w * curv
        grad = X.T @ resid
        H = (X * curv[:, None]).T @ X
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(2), grad)
        except np.linalg.LinAlgError:  # pragma: no cover - degenerate design
            break
        t = 1.0
        while t > 1e-6:
            new = nll(beta + t * step)
            if new <= cur + 1e-12:
                break
            t /= 2
        beta, prev = beta + t * step, cur
        cur = nll(beta)
        if abs(prev - cur) < tol * max(1.0, abs(cur)):
            break
    return float(beta[0]), float(beta[1])


def calibration_slope(p, y) -> tuple[float | None, float | None]:
    """Cox's calibration intercept and slope: logistic regression of y on logit(p).

    Slope < 1: scores too extreme (overconfident); > 1: too timid. None when it cannot
    be fitted (one class only)."""
    p, y = _as_arrays(p, y)
    if len(np.unique(y)) < 2:
        return None, None
    return fit_logistic_1d(_logit(p), y)


def combined_p(*p_values: float) -> float:
    """Bonferroni combination: reject if any of the tests rejects at level α / k."""
    vals = [v for v in p_values if v is not None and not np.isnan(v)]
    if not vals:
        return math.nan
    return float(min(1.0, len(vals) * min(vals)))


def reliability_table(p, y, n_bins: int = N_BINS) -> list[dict]:
    """Reliability-diagram data over equal-width bins: per bin the score range, the
    number of rows, the mean score, the observed rate and its 95% Clopper–Pearson
    interval (empty bins are kept with nulls)."""
    p, y = _as_arrays(p, y)
    count, sum_p, sum_y = _bin_sums(p, y, equal_width_bins(p, n_bins), n_bins)
    rows = []
    for k in range(n_bins):
        c = int(count[k])
        lo, hi = (clopper_pearson(int(round(sum_y[k])), c) if c else (None, None))
        rows.append({"bin": k, "lower": k / n_bins, "upper": (k + 1) / n_bins, "count": c,
                     "mean_score": float(sum_p[k] / c) if c else None,
                     "observed_rate": float(sum_y[k] / c) if c else None,
                     "observed_ci": [lo, hi] if c else None})
    return rows


def calibration_tests(p, y) -> dict:
    """Spiegelhalter's z and Hosmer–Lemeshow, combined by Bonferroni."""
    z, zp = spiegelhalter(p, y)
    hl, df, hlp = hosmer_lemeshow(p, y)
    return {"spiegelhalter_z": z, "spiegelhalter_p": zp,
            "hosmer_lemeshow": {"statistic": hl, "df": df, "p_value": hlp},
            "calibration_p_value": combined_p(zp, hlp)}


# --- recalibration preview -----------------------------------------------------------------


def _folds(labels: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(labels, return_counts=True)
    k = int(min(RECAL_FOLDS, counts.min())) if len(counts) > 1 else 0
    if k < 2:
        return None
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))


def _logit(p):
    q = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(q / (1 - q))


def crossfit_binary(p, y, method: str, *, seed: int = 0) -> np.ndarray | None:
    """Recalibrated scores for every holdout row, each from a map fitted on the other
    folds (stratified K-fold): ``platt`` (logistic on logit(score)) or ``isotonic``."""
    from sklearn.isotonic import IsotonicRegression

    p, y = _as_arrays(p, y)
    folds = _folds(y.astype(int), seed)
    if folds is None:
        return None
    out = np.empty_like(p)
    for fit_idx, pred_idx in folds:
        if method == "platt":
            a, b = fit_logistic_1d(_logit(p[fit_idx]), y[fit_idx])
            out[pred_idx] = 1 / (1 + np.exp(-(a + b * _logit(p[pred_idx]))))
        elif method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p[fit_idx], y[fit_idx])
            out[pred_idx] = iso.predict(p[pred_idx])
        else:
            raise ValueError(f"method must be 'platt' or 'isotonic', got {method!r}")
    return np.clip(out, RECAL_CLIP, 1 - RECAL_CLIP)


def crossfit_multiclass(P, Y, method: str, *, seed: int = 0) -> np.ndarray | None:
    """Multiclass recalibration by cross-fitting: ``platt`` is temperature scaling (one
    temperature for the log-probabilities, the multiclass form of Platt scaling);
    ``isotonic`` is one-vs-rest isotonic regression with rows renormalised."""
    from scipy.optimize import minimize_scalar
    from sklearn.isotonic import IsotonicRegression

    P = np.asarray(P, dtype=float)
    Y = np.asarray(Y, dtype=float)
    folds = _folds(Y.argmax(axis=1), seed)
    if folds is None:
        return None
    logp = np.log(np.clip(P, LOG_CLIP, 1))
    out = np.empty_like(P)

    def softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    for fit_idx, pred_idx in folds:
        if method == "platt":
            lp, yy = logp[fit_idx], Y[fit_idx]

            def nll(log_t, lp=lp, yy=yy):
                q = softmax(lp / math.exp(log_t))
                return -np.mean(np.log(np.clip((q * yy).sum(axis=1), LOG_CLIP, 1)))

            t = math.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x)
            out[pred_idx] = softmax(logp[pred_idx] / t)
        elif method == "isotonic":
            cols = []
            for c in range(P.shape[1]):
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(P[fit_idx, c], Y[fit_idx, c])
                cols.append(iso.predict(P[pred_idx, c]))
            q = np.clip(np.column_stack(cols), RECAL_CLIP, 1)
            out[pred_idx] = q / q.sum(axis=1, keepdims=True)
        else:
            raise ValueError(f"method must be 'platt' or 'isotonic', got {method!r}")
    return out


# --- the checks' metric sets -------------------------------------------------------------


def score_histogram(values, split, names: tuple[str, str]) -> dict:
    """Counts of ``values`` over HIST_BINS equal-width bins of [0, 1], for the rows in ``split`` and the rest."""
    edges = np.linspace(0, 1, HIST_BINS + 1)
    a = np.histogram(values[split], bins=edges)[0]
    b = np.histogram(values[~split], bins=edges)[0]
    return {"edges": edges.tolist(), names[0]: a.tolist(), names[1]: b.tolist()}


def family_adjusted(p_value: float | None, k: int) -> float:
    """Bonferroni: a p-value multiplied by the number of tests it is one of (capped at 1)."""
    if p_value is None or np.isnan(p_value):
        return math.nan
    return min(1.0, float(p_value) * k)


def binary_metrics(p: np.ndarray, y: np.ndarray, *, seed: int, n_boot: int) -> dict:
    tests = calibration_tests(p, y)
    intercept, slope = calibration_slope(p, y)
    brier_ci, ece_ci = _brier_and_ece_ci(p, y, seed=seed, n_boot=n_boot)
    m = {
        "task": "binary",
        "variable": "positive-class score vs outcome",
        "prevalence": float(y.mean()),
        "mean_score": float(p.mean()),
        "brier": brier(p, y),
        "brier_ci": brier_ci,
        "brier_decomposition": brier_decomposition(p, y),
        "log_loss": log_loss_binary(p, y),
        "ece": ece(p, y),
        "calibration_error_debiased": calibration_error_debiased(p, y),
        "ece_ci": ece_ci,
        "ece_noise_floor": ece_noise_floor(p),
        "adaptive_ece": adaptive_ece(p, y),
        "mce": mce(p, y),
        "n_bins": N_BINS,
        "reliability": reliability_table(p, y),
        **tests,
        "calibration_in_the_large": calibration_in_the_large(p, y),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "score_histogram": score_histogram(p, y == 1, ("positives", "negatives")),
    }
    m["recalibration"] = _recalibration_binary(p, y, seed=seed)
    return m


def _summ(p, y) -> dict:
    return {"brier": brier(p, y), "ece": ece(p, y), "adaptive_ece": adaptive_ece(p, y), "log_loss": log_loss_binary(p, y)}


def _recalibration_binary(p, y, *, seed: int) -> dict | None:
    out: dict = {"folds": None, "before": _summ(p, y), "before_reliability": None}
    for method in ("platt", "isotonic"):
        q = crossfit_binary(p, y, method, seed=seed)
        if q is None:
            return None
        out[method] = {**_summ(q, y), "reliability": reliability_table(q, y)}
    out["folds"] = len(_folds(y.astype(int), seed))
    out["best"] = min(("platt", "isotonic"), key=lambda k: out[k]["brier"])
    out["improves"] = bool(out[out["best"]]["brier"] < out["before"]["brier"])
    del out["before_reliability"]
    return out


def multiclass_metrics(P: np.ndarray, Y: np.ndarray, labels: list[str], *, seed: int, n_boot: int) -> dict:
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == Y.argmax(axis=1)).astype(float)
    tests = calibration_tests(conf, correct)
    brier_ci, ece_ci = _brier_and_ece_ci(conf, correct, seed=seed, n_boot=n_boot, row_brier=((P - Y) ** 2).sum(axis=1))
    classwise = []
    for c, label in enumerate(labels):
        pc, yc = P[:, c], Y[:, c]
        t = calibration_tests(pc, yc)
        classwise.append({"class": label, "n": int(yc.sum()), "predicted": float(pc.mean()), "observed": float(yc.mean()),
                          "ece": ece(pc, yc), "calibration_error_debiased": calibration_error_debiased(pc, yc), "ece_noise_floor": ece_noise_floor(pc),
                          "p_value": t["calibration_p_value"]})
    m = {
        "task": "multiclass",
        "variable": "top-label confidence vs correctness",
        "classes": labels,
        "accuracy": float(correct.mean()),
        "mean_confidence": float(conf.mean()),
        "brier": float(np.mean(((P - Y) ** 2).sum(axis=1))),
        "brier_ci": brier_ci,
        "top_label_brier": brier(conf, correct),
        "brier_decomposition": brier_decomposition(conf, correct),
        "log_loss": float(-np.mean(np.log(np.clip((P * Y).sum(axis=1), LOG_CLIP, 1)))),
        "ece": ece(conf, correct),
        "calibration_error_debiased": calibration_error_debiased(conf, correct),
        "top_label_ece": ece(conf, correct),
        "ece_ci": ece_ci,
        "ece_noise_floor": ece_noise_floor(conf),
        "adaptive_ece": adaptive_ece(conf, correct),
        "mce": mce(conf, correct),
        "classwise_ece": float(np.mean([c["ece"] for c in classwise])),
        "classwise": classwise,
        "n_bins": N_BINS,
        "reliability": reliability_table(conf, correct),
        **tests,
        "score_histogram": score_histogram(conf, correct == 1, ("correct", "incorrect")),
    }
    m["recalibration"] = _recalibration_multiclass(P, Y, seed=seed)
    return m


def _summ_multi(P, Y) -> dict:
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == Y.argmax(axis=1)).astype(float)
    return {"brier": float(np.mean(((P - Y) ** 2).sum(axis=1))), "ece": ece(conf, correct),
            "adaptive_ece": adaptive_ece(conf, correct),
            "classwise_ece": float(np.mean([ece(P[:, c], Y[:, c]) for c in range(P.shape[1])])),
            "log_loss": float(-np.mean(np.log(np.clip((P * Y).sum(axis=1), LOG_CLIP, 1))))}


def _recalibration_multiclass(P, Y, *, seed: int) -> dict | None:
    out: dict = {"before": _summ_multi(P, Y)}
    for method in ("platt", "isotonic"):
        Q = crossfit_multiclass(P, Y, method, seed=seed)
        if Q is None:
            return None
        conf = Q.max(axis=1)
        correct = (Q.argmax(axis=1) == Y.argmax(axis=1)).astype(float)
        out[method] = {**_summ_multi(Q, Y), "reliability": reliability_table(conf, correct)}
    out["folds"] = len(_folds(Y.argmax(axis=1), seed))
    out["platt_is"] = "temperature scaling"
    out["best"] = min(("platt", "isotonic"), key=lambda k: out[k]["brier"])
    out["improves"] = bool(out[out["best"]]["brier"] < out["before"]["brier"])
    return out


# --- selective prediction (the abstention check) --------------------------------------------


def selective_curve(conf, correct) -> dict:
    """Rows ranked from most to least confident: for each coverage k/n where the ranking
    has no tie across the cut, the accuracy of the k most confident rows.

    Returns arrays ``k``, ``accuracy`` and ``cut`` (the confidence of the k-th row: rows
    with a confidence below ``cut`` are deferred)."""
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    order = np.argsort(-conf, kind="stable")
    cs, cc = conf[order], np.cumsum(correct[order])
    n = len(conf)
    k = np.arange(1, n + 1)
    valid = np.append(cs[:-1] > cs[1:], True)  # no tie straddles the cut
    return {"k": k[valid], "accuracy": cc[valid] / k[valid], "cut": cs[valid], "n": n}


def band_for_target(curve: dict, target: float, *, min_keep: int) -> dict | None:
    """The largest coverage (fewest deferrals) whose kept accuracy reaches ``target``,
    keeping at least ``min_keep`` rows; None when no such coverage exists."""
    ks, acc = curve["k"], curve["accuracy"]
    hit = np.flatnonzero((acc >= target) & (ks >= min_keep))
    if len(hit) == 0:
        return None
    i = hit[-1]
    return {"k": int(ks[i]), "accuracy": float(acc[i]), "cut": float(curve["cut"][i])}
