"""Statistics of monitoring: drift, confidence-based performance estimation, alert thresholds.

Everything rests on counts in the reference's fixed bins. Alert thresholds come from
*same-size batches drawn from the reference*: a parametric two-sample bootstrap draws a
reference of the holdout's size and a batch of this batch's size from the holdout's
(smoothed) distribution, and computes the statistic between them, many times; the
threshold is the (1 − α/k) quantile of those values, with k the number of tests the
batch runs (Bonferroni), so that a batch from an unchanged population raises any alert
with probability at most α = 5% (docs/monitoring.md; measured in
``benchmarks/monitor_false_alarms.py``).

Confidence-based performance estimation (CBPE, as NannyML's): with calibrated
probabilities the expected accuracy of a batch is the mean probability that each
prediction is right, Σ qᵢ / n, without any label. Its interval combines the batch's own
sampling (Σ qᵢ(1 − qᵢ) / n², the Poisson–binomial variance of the realised accuracy) and
the calibration map's uncertainty (per score bin, the holdout's rate p_b(1 − p_b)/N_b,
weighted by the batch's share in the bin).
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.05  # chance that a batch from an unchanged population raises any alert
MIN_SIMULATIONS = 2000
MAX_SIMULATIONS = 40_000
TAIL_DRAWS = 20  # simulations beyond the threshold we want at least, on average


def simulations_for(alpha_each: float) -> int:
    """Enough simulated batches to put ~``TAIL_DRAWS`` beyond a threshold at level ``alpha_each``."""
    return int(min(MAX_SIMULATIONS, max(MIN_SIMULATIONS, math.ceil(TAIL_DRAWS / alpha_each))))


def smoothed_shares(counts) -> np.ndarray:
    """Shares with half a count added to every bin (Jeffreys), so no bin has probability 0."""
    c = np.asarray(counts, dtype=float) + 0.5
    return c / c.sum(axis=-1, keepdims=True)


def psi(ref_counts, batch_counts) -> np.ndarray | float:
    """Population stability index Σ (b − r)·ln(b / r) of two count vectors over the same bins
    (shares smoothed by half a count per bin); works row-wise on 2-D arrays."""
    r, b = smoothed_shares(ref_counts), smoothed_shares(batch_counts)
    out = np.sum((b - r) * np.log(b / r), axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def upper_threshold(null: np.ndarray, alpha_each: float) -> float:
    """The value a statistic must exceed to alert: the ⌈(B + 1)(1 − α)⌉-th smallest simulated value."""
    v = np.sort(np.asarray(null, dtype=float))
    k = int(math.ceil((len(v) + 1) * (1 - alpha_each))) - 1
    return float(v[min(max(k, 0), len(v) - 1)])


def p_value(null: np.ndarray, value: float) -> float:
    """Share of simulated values at least as large as the observed one, (1 + #) / (B + 1)."""
    null = np.asarray(null, dtype=float)
    return float((1 + np.sum(null >= value - 1e-12)) / (len(null) + 1))


def draw_pairs(ref_counts, n_batch: int, sims: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``sims`` (reference, batch) count pairs drawn from the reference's smoothed distribution:
    the reference at its own size, the batch at ``n_batch`` rows."""
    p = smoothed_shares(ref_counts)
    n_ref = int(np.sum(ref_counts))
    return rng.multinomial(n_ref, p, size=sims), rng.multinomial(n_batch, p, size=sims)


def psi_null(ref_counts, n_batch: int, sims: int, rng) -> np.ndarray:
    r, b = draw_pairs(ref_counts, n_batch, sims, rng)
    return psi(r, b)


def share_rise_null(x_ref: int, n_ref: int, n_batch: int, sims: int, rng) -> np.ndarray:
    """Batch share − reference share of rows with a property, both drawn at the reference's share."""
    p = (x_ref + 0.5) / (n_ref + 1.0)
    return rng.binomial(n_batch, p, size=sims) / n_batch - rng.binomial(n_ref, p, size=sims) / n_ref


def mean_drop_null(ref_counts, per_bin_value, n_batch: int, sims: int, rng) -> np.ndarray:
    """Reference mean − batch mean of a per-bin quantity (e.g. the probability of being right)
    when both are drawn from the reference's score distribution."""
    v = np.asarray(per_bin_value, dtype=float)
    r, b = draw_pairs(ref_counts, n_batch, sims, rng)
    return r @ v / r.sum(axis=1) - b @ v / n_batch


def cells_rise_null(cells, weights, n_batch: int, sims: int, rng) -> np.ndarray:
    """Batch mean − reference mean of a per-row quantity that takes one value per cell
    (e.g. cost per decision over the tp/fp/fn/tn cells), both drawn at the reference's shares."""
    w = np.asarray(weights, dtype=float)
    r, b = draw_pairs(cells, n_batch, sims, rng)
    return b @ w / n_batch - r @ w / r.sum(axis=1)


def cbpe_interval(q: np.ndarray, bins: np.ndarray, ref_counts, ref_rate, *, z: float = 1.959964) -> tuple[float, list]:
    """Estimated accuracy Σqᵢ/n of a batch and its interval.

    ``q``: per row, the calibrated probability that the prediction is right; ``bins``: each
    row's score bin; ``ref_counts`` / ``ref_rate``: the holdout's rows and outcome rate per bin
    (the calibration map's support)."""
    q = np.asarray(q, dtype=float)
    n = len(q)
    nb = np.asarray(ref_counts, dtype=float)
    return cbpe_from(float(q.mean()), float(np.sum(q * (1 - q))), np.bincount(bins, minlength=len(nb)), n,
                     ref_counts, ref_rate, z=z)


def cbpe_from(q_mean: float, q_var_sum: float, bin_counts, n: int, ref_counts, ref_rate, *, z: float = 1.959964
              ) -> tuple[float, list]:
    """:func:`cbpe_interval` from the batch's mean of q, its sum of q(1-q) and its rows per score bin."""
    est = q_mean
    var_sampling = q_var_sum / n ** 2
    nb = np.asarray(ref_counts, dtype=float)
    rate = np.asarray(ref_rate, dtype=float)
    w = np.asarray(bin_counts) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var_bin = np.where(nb > 0, rate * (1 - rate) / np.maximum(nb, 1), 0.25)
    var_map = float(np.sum(w ** 2 * var_bin))
    half = z * math.sqrt(var_sampling + var_map)
    return est, [max(0.0, est - half), min(1.0, est + half)]
