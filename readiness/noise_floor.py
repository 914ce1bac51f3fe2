"""The noise floor of a regression target: the smallest error any model could reach on these features.

The Gamma test (Stefánsson, Končar & Jones 1997; Evans & Jones 2002): for the p nearest
neighbours of every row, δ(k) is the mean squared distance to the k-th neighbour and γ(k)
half the mean squared difference of their targets. For a smooth regression function
γ(k) ≈ σ² + A·δ(k), so the intercept of the least-squares line of γ on δ estimates the
noise variance σ², the part of the target no function of the features explains. The
first-neighbour term γ(1) alone is the difference-based estimator of Devroye et al. (2018),
biased upward by the function's change over the neighbour distance; the Gamma test
extrapolates that bias away.

Its 95% interval comes from half-samples (McCarthy 1969): the spread of the estimate over
random halves, drawn without replacement, matches the full-sample estimate's standard
error (the half's doubled variance and the finite-population factor ½ cancel), and needs
no assumption about how neighbour pairs share rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from readiness.ber import loo_neighbours, two_nn_dimension

NEIGHBOURS = 10  # the Gamma test's p (Evans & Jones use 10)
HALVES = 20  # half-samples for the interval
Z95 = 1.959963984540054
KNN_KS = (1, 3, 5, 9, 15, 25)


@dataclass(frozen=True)
class NoiseFloor:
    noise_var: float  # Gamma-test intercept (may be below 0 on a noiseless target; clamped when reported)
    noise_var_ci: tuple[float, float]
    slope: float  # A: how fast the target changes with the squared distance
    first_neighbour_var: float  # γ(1), the Devroye et al. difference estimator (biased upward)
    delta: list[float]
    gamma: list[float]
    intrinsic_dimension: float | None
    knn_rmse: dict[int, float]  # leave-one-out k-NN regression RMSE
    knn_sq_errors: dict[int, np.ndarray]
    n: int

    @property
    def noise_rmse(self) -> float:
        return math.sqrt(max(self.noise_var, 0.0))

    @property
    def noise_rmse_ci(self) -> tuple[float, float]:
        lo, hi = self.noise_var_ci
        return math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))


def gamma_test(idx: np.ndarray, dist: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(intercept Γ, slope A, δ(k), γ(k)) from the neighbour indices and distances."""
    delta = (dist ** 2).mean(axis=0)
    gam = 0.5 * ((y[idx] - y[:, None]) ** 2).mean(axis=0)
    if np.ptp(delta) <= 0:  # all neighbours at one distance (duplicates): no line, γ(1) is the estimate
        return float(gam[0]), 0.0, delta, gam
    slope, intercept = np.polyfit(delta, gam, 1)
    return float(intercept), float(slope), delta, gam


def estimate(X: np.ndarray, y: np.ndarray, *, seed: int = 0, p: int = NEIGHBOURS, halves: int = HALVES,
             ks=KNN_KS) -> NoiseFloor:
    """The Gamma-test noise variance of ``y`` given ``X`` (standardised), its half-sample 95%
    interval, and the leave-one-out k-NN regression errors (a real rule: an upper end)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    p = max(2, min(p, n // 4))
    kmax = max(p, max(k for k in ks if k < n))
    idx, dist = loo_neighbours(X, kmax)
    g, a, delta, gam = gamma_test(idx[:, :p], dist[:, :p], y)
    rng = np.random.default_rng(seed)
    half = []
    for _ in range(halves):
        r = np.sort(rng.choice(n, n // 2, replace=False))
        hi_, hd_ = loo_neighbours(X[r], p)
        half.append(gamma_test(hi_, hd_, y[r])[0])
    sd = float(np.std(half, ddof=1))
    csum = np.cumsum(y[idx], axis=1)
    knn_sq = {}
    for k in ks:
        if k <= idx.shape[1]:
            knn_sq[int(k)] = (csum[:, k - 1] / k - y) ** 2
    return NoiseFloor(noise_var=g, noise_var_ci=(g - Z95 * sd, g + Z95 * sd), slope=a,
                      first_neighbour_var=float(gam[0]), delta=delta.tolist(), gamma=gam.tolist(),
                      intrinsic_dimension=two_nn_dimension(dist), knn_rmse={k: float(np.sqrt(v.mean()))
                                                                           for k, v in knn_sq.items()},
                      knn_sq_errors=knn_sq, n=n)


def mse_upper(sq_errors: np.ndarray, *, alpha: float) -> float:
    """One-sided (1 − α) upper bound of a mean squared error from its per-row terms (normal approximation)."""
    n = len(sq_errors)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha)
    return float(sq_errors.mean() + z * sq_errors.std(ddof=1) / math.sqrt(n))
