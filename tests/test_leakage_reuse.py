"""evaluation.holdout_reuse: the formulas reproduce the spec's tables (shared/science,
part B) and the ease.ml/ci reference numbers; the check counts earlier uses."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from scipy.stats import norm
from sklearn.metrics import r2_score
from statsmodels.stats.proportion import proportion_confint

from readiness.checks.holdout_reuse import (
    alpha_steered,
    bennett_sample_size,
    budget_fixed,
    budget_steered,
    easeml_sample_size,
    epsilon_adaptive,
    epsilon_nonadaptive,
    kmax_adaptive,
    kmax_nonadaptive,
    log10_kmax_nonadaptive,
    rows_needed_adaptive,
    rows_needed_nonadaptive,
)
from readiness.registry import get_check
from readiness.review import run_check

# Table A — n needed (ε, δ; k = 1, 10, 100, 1000; non-adaptive | adaptive with b = 1)
TABLE_A = [
    (0.01, 0.05, [(18445, 21911), (29958, 53102), (41471, 365018), (52984, 3484181)]),
    (0.01, 0.01, [(26492, 29958), (38005, 61149), (49518, 373066), (61031, 3492228)]),
    (0.02, 0.05, [(4612, 5478), (7490, 13276), (10368, 91255), (13246, 871046)]),
    (0.05, 0.05, [(738, 877), (1199, 2125), (1659, 14601), (2120, 139368)]),
]


@pytest.mark.parametrize("eps,delta,row", TABLE_A)
def test_table_a_rows_needed(eps, delta, row):
    for k, (na, ad) in zip((1, 10, 100, 1000), row, strict=True):
        assert rows_needed_nonadaptive(eps, k, delta) == na
        assert rows_needed_adaptive(eps, k, delta) == ad


# Table B — k_max (δ = 0.05; non-adaptive | adaptive); an int, or "~10^x" given as ("exp", x)
TABLE_B = {
    1000: [(0, 0), (0, 0), (3, 1)],
    2000: [(0, 0), (0, 0), (550, 9)],
    10000: [(0, 0), (74, 6), (("exp", 20), 66)],
    20000: [(1, 0), (222152, 17), (("exp", 41), 138)],
    50000: [(550, 9), (("exp", 15), 52), (("exp", 106), 355)],
    100000: [(("exp", 7), 23), (("exp", 33), 110), (("exp", 215), 716)],
}


@pytest.mark.parametrize("n", sorted(TABLE_B))
def test_table_b_budgets(n):
    for eps, (na, ad) in zip((0.01, 0.02, 0.05), TABLE_B[n], strict=True):
        assert kmax_adaptive(n, eps, 0.05) == ad
        if isinstance(na, tuple):
            assert math.floor(log10_kmax_nonadaptive(n, eps, 0.05)) == na[1]
        else:
            assert kmax_nonadaptive(n, eps, 0.05) == na


# Table C — guaranteed ε (δ = 0.05; non-adaptive | adaptive), as printed in the spec
TABLE_C = {
    1000: [(0.043, 0.047), (0.055, 0.073), (0.064, 0.191)],
    10000: [(0.014, 0.015), (0.017, 0.023), (0.020, 0.060)],
    100000: [(0.0043, 0.0047), (0.0055, 0.0073), (0.0064, 0.019)],
}


@pytest.mark.parametrize("n", sorted(TABLE_C))
def test_table_c_guaranteed_epsilon(n):
    def printed(value, like):  # round to as many decimals as the table prints
        return round(value, len(repr(like).split(".")[1]))

    for k, (na, ad) in zip((1, 10, 100), TABLE_C[n], strict=True):
        assert printed(epsilon_nonadaptive(n, k, 0.05), na) == na
        assert printed(epsilon_adaptive(n, k, 0.05), ad) == ad


def test_budget_and_guaranteed_epsilon_are_consistent():
    # the budget is the largest k whose guaranteed ε still meets the tolerance
    for n in (1500, 5000, 30000):
        k = kmax_adaptive(n, 0.03)
        assert (k == 0 or epsilon_adaptive(n, k) <= 0.03) and 0.03 < epsilon_adaptive(n, k + 1)
        k = int(kmax_nonadaptive(n, 0.03))
        if 1 <= k < 10**12:  # beyond that, float precision cannot tell k from k + 1
            assert epsilon_nonadaptive(n, k) <= 0.03 < epsilon_nonadaptive(n, k + 1)


def test_easeml_reference_numbers():
    # the repository's own example: n - o > 0.1 +/- 0.1, reliability 0.99, fully adaptive, 32 steps
    assert easeml_sample_size(variables=2, reliability=0.99, steps=32, eps=0.1, adaptivity="full") == 5496
    common = dict(reliability=0.9999, steps=32, eps=0.01)
    assert easeml_sample_size(variables=1, adaptivity="none", **common) == 63381
    assert easeml_sample_size(variables=1, adaptivity="full", **common) == 156956
    assert easeml_sample_size(variables=2, adaptivity="none", **common) == 267385
    assert easeml_sample_size(variables=2, adaptivity="full", **common) == 641684
    # the spec rounds the Bennett sizes to the nearest row (29,047.3 and 67,705.03); a sample size
    # must be at least the bound, so we round up
    assert bennett_sample_size(p=0.1, eps=0.01, delta=1e-4, steps=32, adaptive=False) == 29047 + 1
    assert bennett_sample_size(p=0.1, eps=0.01, delta=1e-4, steps=32, adaptive=True) == 67705 + 1


# --- the check -------------------------------------------------------------------------


def holdout_ctx(n_test, correct, *, prior=None, n_train=200):
    """Binary holdout of n_test rows with exactly ``correct`` right predictions at threshold 0.5."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n_test)
    right = np.zeros(n_test, bool)
    right[rng.choice(n_test, correct, replace=False)] = True
    score = np.where(right == (y == 1), 0.8, 0.2)
    test = pd.DataFrame({"x": rng.normal(size=n_test), "y": y, "score": score})
    train = pd.DataFrame({"x": rng.normal(size=n_train), "y": rng.integers(0, 2, n_train), "score": 0.5})
    ctx = make_ctx(train, test, target="y", prediction_column="score")
    ctx.prior_holdout_evaluations = prior
    return ctx


def reuse(ctx):
    res = run_check(get_check("evaluation.holdout_reuse"), ctx)
    assert res.status.value != "error", res.summary
    return res


@pytest.mark.parametrize("x,n,w,cp", [
    (90, 100, (0.8256, 0.9448), (0.8238, 0.9510)),
    (950, 1000, (0.9347, 0.9619), (0.9346, 0.9627)),
])
def test_accuracy_intervals_match_the_reference_values(x, n, w, cp):
    m = reuse(holdout_ctx(n, x)).metrics
    assert m["value"] == x / n and m["n"] == n
    assert np.allclose(m["ci"], cp, atol=1e-4) and np.allclose(m["ci_wilson"], w, atol=1e-4)
    assert np.allclose(m["ci"], proportion_confint(x, n, alpha=0.05, method="beta"), atol=1e-9)


def test_the_first_use_interval_is_the_holdout_pages():
    ctx = holdout_ctx(700, 679, prior=0)
    ev = run_check(get_check("evaluation.holdout"), ctx).metrics
    m = reuse(ctx).metrics
    assert m["ci"] == ev["accuracy_ci"] and m["value"] == ev["accuracy"]
    assert m["ci_reuse_adjusted"] == m["ci"] and m["ci_reuse_fixed"] == m["ci"]


@pytest.mark.parametrize("prior", [None, 0])
@pytest.mark.parametrize("n", [60, 300, 700])
def test_a_first_use_is_never_a_failure_however_small(n, prior):
    res = reuse(holdout_ctx(n, int(0.9 * n), prior=prior))
    assert res.status.value == "pass", res.summary
    assert "points" not in res.summary
    assert not [f for f in res.findings if f.severity != "info"]


def test_budgets_count_uses_until_the_interval_doubles():
    # closed form: m outcomes share δ = 0.05 while z(δ/2m) ≤ 2·z(δ/2) = 3.92 → m ≤ 0.05 / (2·Φ(−3.92)) = 564.49
    m_star = 0.05 / (2 * norm.cdf(-2 * norm.ppf(0.975)))
    assert budget_fixed() == math.floor(m_star) == 564
    assert budget_steered() == 1 + math.floor(math.log2(m_star)) == 10  # the first use + 9 steered by pass/fail
    assert budget_steered(math.log2(1001)) == 1  # exact scores shared: the first use only
    # at a large holdout the exact intervals scale like the normal ones: ~2× at the budget, more past it
    x, n = 90_000, 100_000
    w1 = np.diff(proportion_confint(x, n, alpha=0.05, method="beta"))[0]
    w10 = np.diff(proportion_confint(x, n, alpha=alpha_steered(10), method="beta"))[0]
    w11 = np.diff(proportion_confint(x, n, alpha=alpha_steered(11), method="beta"))[0]
    assert w10 / w1 <= 2.0 < w11 / w1


def test_without_history_the_budget_alone_is_reported():
    res = reuse(holdout_ctx(2000, 1800))
    m = res.metrics
    assert res.status.value == "pass"
    assert (m["budget_fixed"], m["budget_steered"]) == (564, 10)
    assert m["budget_table"]["0.05"]["nonadaptive"] == 550 and m["budget_table"]["0.05"]["adaptive"] == 9  # Table B
    assert m["budget_table"]["0.02"]["nonadaptive"] == 0 and m["budget_table"]["0.01"]["adaptive"] == 0
    assert m["rows_needed"]["0.01"]["10"] == {"nonadaptive": 29958, "adaptive": 53102}
    assert m["prior_evaluations"] is None and m["remaining_steered"] is None
    assert "564" in res.summary and "10" in res.summary
    assert m["holdout_sha256"] == next(f.sha256 for f in holdout_ctx(2000, 1800).input_files if f.role == "test")


def test_the_reuse_attack_is_flagged():
    # B1/B7: n = 2000 evaluated 500 times; within the fixed-model budget (564), far past the steered one (10)
    res = reuse(holdout_ctx(2000, 1100, prior=499))
    m = res.metrics
    assert res.status.value == "warn"
    assert m["evaluations_including_this"] == 500
    assert m["remaining_fixed"] == 64 and m["remaining_steered"] == 10 - 500
    assert np.allclose(m["ci_reuse_adjusted"], proportion_confint(1100, 2000, alpha=0.05 / 2 ** 499, method="beta"))
    assert np.allclose(m["ci_reuse_fixed"], proportion_confint(1100, 2000, alpha=0.05 / 500, method="beta"))


def test_exhausting_even_the_fixed_model_budget_fails_and_a_fresh_history_passes():
    assert reuse(holdout_ctx(2000, 1800, prior=600)).status.value == "fail"
    res = reuse(holdout_ctx(2000, 1800, prior=3))
    assert res.status.value == "pass" and res.metrics["remaining_steered"] == 10 - 4


def test_regression_uses_the_holdout_pages_r2_interval_and_no_points():
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(size=n)
    y = 2 * x + rng.normal(size=n)
    test = pd.DataFrame({"x": x, "y": y, "pred": 2 * x})
    train = pd.DataFrame({"x": x[:100], "y": y[:100], "pred": 2 * x[:100]})
    ctx = make_ctx(train, test, target="y", prediction_column="pred")
    ctx.prior_holdout_evaluations = 0
    res = reuse(ctx)
    ev = run_check(get_check("evaluation.holdout"), ctx).metrics
    m = res.metrics
    assert res.status.value == "pass" and m["metric"] == "r2"
    assert m["value"] == pytest.approx(r2_score(y, 2 * x)) and m["ci"] == ev["r2_ci"]
    assert "rows_needed" not in m
    text = res.summary + " ".join(f.message for f in res.findings)
    assert "points" not in text and "R²" in text
    ctx.prior_holdout_evaluations = 20
    res = reuse(ctx)
    lo, hi = res.metrics["ci_reuse_adjusted"]
    assert res.status.value == "warn" and lo < m["ci"][0] and hi > m["ci"][1]
