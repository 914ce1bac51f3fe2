"""The ROC AUC interval (readiness.stats.auc_ci): DeLong's variance against an independent
O(m·n) computation, Newcombe's interval against the Hanley–McNeil formula it rests on, and
coverage of the true AUC of binormal scores (AUC = Φ(μ/√(1 + σ²)), closed form) on small
holdouts with few positives, where the percentile bootstrap the review used before
under-covered (issue 16: 91.7% at 300 rows, 10% positives)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from readiness.stats import auc_ci, bootstrap_ci, delong


def delong_by_kernel(y, s):
    """DeLong et al. (1988) written from the kernel matrix ψ(x, y) = 1[x > y] + ½·1[x = y]."""
    x, w = s[y == 1], s[y == 0]
    psi = (x[:, None] > w[None, :]) + 0.5 * (x[:, None] == w[None, :])
    m, n = psi.shape
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc = psi.mean()
    s10 = np.sum((v10 - auc) ** 2) / (m - 1)
    s01 = np.sum((v01 - auc) ** 2) / (n - 1)
    return auc, s10 / m + s01 / n


def binormal(n, prevalence, auc, sd_pos, rng):
    mu = stats.norm.ppf(auc) * math.sqrt(1 + sd_pos ** 2)
    y = (rng.random(n) < prevalence).astype(int)
    s = np.where(y == 1, mu + sd_pos * rng.standard_normal(n), rng.standard_normal(n))
    return y, s


def test_delong_matches_the_kernel_form_and_sklearn():
    rng = np.random.default_rng(1)
    for n, ties in ((60, False), (250, True)):
        y, s = binormal(n, 0.3, 0.8, 1.0, rng)
        if ties:
            s = np.round(s)  # heavy ties: the midrank form must count them one half
        auc, var = delong(y, s)
        auc_k, var_k = delong_by_kernel(y, s)
        assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert auc == pytest.approx(auc_k, abs=1e-12)
        assert var == pytest.approx(var_k, rel=1e-9)


def test_newcombe_ends_solve_the_hanley_mcneil_equation():
    """Where the union takes Newcombe's end, (θ̂ − θ)² = z²·V_HM(θ) with Q1 = θ/(2 − θ),
    Q2 = 2θ²/(1 + θ) and m − 1, n − 1 replaced by N − 1, N = (m + n)/2 (Newcombe 2006, method 5)."""
    rng = np.random.default_rng(2)
    y, s = binormal(300, 0.1, 0.95, 1.0, rng)  # equal variances at high AUC: Newcombe is the wider side
    m, n = int(y.sum()), int((1 - y).sum())
    big_n = (m + n) / 2
    auc = roc_auc_score(y, s)
    z = stats.norm.ppf(0.975)

    def v_hm(t):
        q1, q2 = t / (2 - t), 2 * t * t / (1 + t)
        return (t * (1 - t) + (big_n - 1) * (q1 - t * t) + (big_n - 1) * (q2 - t * t)) / (m * n)

    lo, hi = auc_ci(y, s)
    for end in (lo, hi):
        assert (auc - end) ** 2 == pytest.approx(z * z * v_hm(end), rel=1e-6)
    # perfect separation still gets an interval that is not a point, inside [0, 1]
    lo, hi = auc_ci(np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.8, 0.9]))
    assert hi == 1.0 and 0 < lo < 0.9


def _coverage(n, prevalence, auc, sd_pos, reps, seed, method=auc_ci):
    rng = np.random.default_rng(seed)
    hits = done = 0
    while done < reps:
        y, s = binormal(n, prevalence, auc, sd_pos, rng)
        if y.sum() < 3 or (1 - y).sum() < 3:
            continue
        lo, hi = method(y, s)
        hits += lo <= auc <= hi
        done += 1
    return hits / done


@pytest.mark.parametrize("auc,sd_pos", [(0.9, 1.0), (0.8, 2.0)])
def test_coverage_small_holdout_low_prevalence(auc, sd_pos):
    """300 rows, 10% positives, 1,000 seeded replicates: the interval covers the true AUC in at
    least 94% (Monte Carlo sd 0.7 points around a nominal 95%). Before (percentile bootstrap):
    91.7% at AUC 0.9 and equal variances."""
    assert _coverage(300, 0.10, auc, sd_pos, reps=1000, seed=int(100 * auc)) >= 0.94


@pytest.mark.slow
@pytest.mark.parametrize("n,prevalence", [(300, 0.10), (1000, 0.05), (300, 0.30)])
@pytest.mark.parametrize("auc", [0.7, 0.85, 0.95])
@pytest.mark.parametrize("sd_pos", [0.5, 1.0, 2.0])
def test_coverage_grid(n, prevalence, auc, sd_pos):
    assert _coverage(n, prevalence, auc, sd_pos, reps=1000, seed=7) >= 0.935


@pytest.mark.slow
def test_the_percentile_bootstrap_it_replaces_under_covers():
    """The known failure, documented: 300 rows, 10% positives, AUC 0.9, the stratified percentile
    bootstrap covers clearly less than 95%."""
    def pct_boot(y, s):
        return bootstrap_ci(roc_auc_score, y, s, n_boot=200, seed=0, stratify=y)

    assert _coverage(300, 0.10, 0.9, 1.0, reps=400, seed=3, method=pct_boot) < 0.93
