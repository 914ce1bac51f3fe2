"""Bayes-error estimators against data whose Bayes error is known analytically.

Reference values and tolerances: shared/science/bayes_error_and_holdout_reuse.md, part A
(A1 formulas, A6 validation recipe V1–V6, "Recommended test assertions" 1–8, A7 dataeval
reference numbers). Means are over 5 seeds unless a single fixed-seed run is stated.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from readiness import ber

SEEDS = range(5)


# --- independent ground truth (numerical integration, not the code under test) -------------


def r_inf_two_gaussians(delta: float) -> float:
    """Asymptotic 1-NN risk ∫ 2σ(ℓ)(1−σ(ℓ)) φ((ℓ − Δ²/2)/Δ)/Δ dℓ (science doc V1)."""
    def f(lo):
        s = 1 / (1 + math.exp(-lo))
        return 2 * s * (1 - s) * stats.norm.pdf((lo - delta ** 2 / 2) / delta) / delta
    return integrate.quad(f, -60, 60, limit=200)[0]


def simplex_ber(n_classes: int, delta: float) -> float:
    """V2: R* = 1 − ∫ φ(t)·Φ(Δ/√2 − t)^{C−1} dt."""
    return 1 - integrate.quad(lambda t: stats.norm.pdf(t) * stats.norm.cdf(delta / math.sqrt(2) - t) ** (n_classes - 1),
                              -12, 12)[0]


def mixed_ber() -> float:
    """V4: Σ_k ∫ min(½a_k φ(x+0.75), ½b_k φ(x−0.75)) dx."""
    a, b = (0.5, 0.3, 0.2), (0.2, 0.3, 0.5)
    return sum(integrate.quad(lambda x, ak=ak, bk=bk: min(0.5 * ak * stats.norm.pdf(x + 0.75),
                                                        0.5 * bk * stats.norm.pdf(x - 0.75)), -12, 12, points=[0])[0]
               for ak, bk in zip(a, b, strict=True))


def gaussians(d: int, delta: float, n_per_class: int, seed: int, rho: float = 0.0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    X = rng.standard_normal((2 * n_per_class, d))
    X[:, 0] += np.where(y == 1, delta / 2, -delta / 2)
    if rho:  # FeeBee random_flip: exactly ⌊ρn⌋ rows get a label drawn uniformly from all classes
        idx = rng.choice(len(y), int(rho * len(y)), replace=False)
        y = y.copy()
        y[idx] = rng.integers(0, 2, len(idx))
    return X, y


def simplex(n_classes: int, d: int, delta: float, n_per_class: int, seed: int):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.standard_normal((len(y), d))
    X[np.arange(len(y)), y] += delta / math.sqrt(2)
    return X, y


def mixed(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    cat = np.where(y == 0, rng.choice(3, n, p=[0.5, 0.3, 0.2]), rng.choice(3, n, p=[0.2, 0.3, 0.5]))
    num = rng.standard_normal(n) + np.where(y == 0, -0.75, 0.75)
    return pd.DataFrame({"num": num, "cat": np.array(["a", "b", "c"])[cat]}), y


def mean_estimates(make, **kw) -> dict:
    runs = [ber.estimate(*make(seed), curve=False, **kw) for seed in SEEDS]
    out = {"r1": np.mean([e.r1 for e in runs]), "lb": np.mean([e.lb_1nn for e in runs]),
           "upper": np.mean([e.upper_knn for e in runs])}
    if kw.get("ghp", True):
        out["ghp_lower"] = np.mean([e.ghp_lower for e in runs])
        out["ghp_upper"] = np.mean([e.ghp_upper for e in runs])
    return out


# --- 1. formula unit tests ---------------------------------------------------------------------


def test_cover_hart_formula():
    assert ber.cover_hart_lower(0.224800, 2) == pytest.approx(0.129055, abs=1e-6)
    for c in (2, 3, 10):
        assert ber.cover_hart_lower(0.0, c) == 0.0
        assert ber.cover_hart_lower((c - 1) / c, c) == pytest.approx((c - 1) / c, abs=1e-12)
        values = [ber.cover_hart_lower(r, c) for r in np.linspace(0, (c - 1) / c, 50)]
        assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    # V1 table: LB_CH(R∞) per Δ
    for r_inf, lb in ((0.397973, 0.274138), (0.224800, 0.129055), (0.098621, 0.052016)):
        assert ber.cover_hart_lower(r_inf, 2) == pytest.approx(lb, abs=1e-6)


def test_ghp_lower_is_cover_hart_of_twice_s_and_knn_lower_rules():
    lo, hi = ber.ghp_bounds(cross_edges=300, n=2000, n_classes=3)
    assert hi == pytest.approx(0.15)
    assert lo == pytest.approx(ber.cover_hart_lower(0.15, 3), abs=1e-12)
    assert ber.knn_lower(0.2, 1, 2) == ber.cover_hart_lower(0.2, 2)
    assert ber.knn_lower(0.2, 2, 2) == pytest.approx(0.1)
    assert ber.knn_lower(0.2, 3, 2) == pytest.approx(0.2 / (1 + 1 / math.sqrt(3)))
    assert ber.knn_lower(0.2, 5, 2) == pytest.approx(0.2 / (1 + 1 / math.sqrt(5)))
    # k > 5: Devroye (1981) as dataeval's _knn_lowerbound: a_k = 0.3399·√k/(k − 3.25)·(1 + 0.9749/√(k − 3));
    # by hand for k = 9: a_9 = 1.0197/5.75 · (1 + 0.9749/2.449490) = 0.247920 -> 0.2/1.247920 = 0.160267
    assert ber.knn_lower(0.2, 9, 2) == pytest.approx(0.160267, abs=1e-6)
    for k in (9, 15, 25):  # tighter (higher) than the 1/(1 + 1/√k) rule it replaces
        assert ber.knn_lower(0.2, k, 2) > 0.2 / (1 + 1 / math.sqrt(k))
    assert ber.knn_lower(0.2, 9, 4) == ber.cover_hart_lower(0.2, 4)


def test_ground_truth_formulas_match_the_reference_tables():
    for delta, r_star, r_inf in ((1, 0.308538, 0.397973), (2, 0.158655, 0.224800), (3, 0.066807, 0.098621)):
        assert ber.two_gaussians_ber(delta) == pytest.approx(r_star, abs=1e-6)
        assert r_inf_two_gaussians(delta) == pytest.approx(r_inf, abs=1e-6)
    # unequal priors: reduces to π₁ as π₀ → 1, and equals the equal-prior value at ½
    assert ber.two_gaussians_ber(2, prior0=0.999999) == pytest.approx(1e-6, abs=1e-7)
    for c, delta, r_star in ((2, 2, 0.158655), (4, 2, 0.322220), (4, 3, 0.153438), (10, 3, 0.289988)):
        assert simplex_ber(c, delta) == pytest.approx(r_star, abs=1e-6)
    assert mixed_ber() == pytest.approx(0.200312, abs=1e-6)
    # V3 noise law
    assert ber.noisy_ber(0.158655, 0.2, 2) == pytest.approx(0.2269, abs=1e-4)
    assert ber.noisy_ber(0.158655, 0.4, 2) == pytest.approx(0.2952, abs=1e-4)


def test_dataeval_reference_values():
    """A7: make_blobs(50, 2 centres, 2 features, seed 0): 1-NN {upper 0.04, lower 0.0204168};
    MST {upper 0.02, lower 0.0101021} (dataeval subtracts the C − 1 edges that must connect the classes)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=50, centers=2, n_features=2, random_state=0)
    est = ber.estimate(X, y, ghp=True, curve=False)
    assert est.r1 == pytest.approx(0.04)
    assert est.lb_1nn == pytest.approx(0.020416847668728033, abs=1e-12)
    cross = ber.mst_cross_edges(X, y)
    lo, hi = ber.ghp_bounds(cross - 1, 50, 2)
    assert (hi, lo) == (pytest.approx(0.02), pytest.approx(0.010102051443364402, abs=1e-12))


def test_mst_matches_scipy():
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    X, y = gaussians(3, 1.5, 150, seed=3)
    tree = minimum_spanning_tree(squareform(pdist(X))).tocoo()
    expected = int(sum(y[i] != y[j] for i, j in zip(tree.row, tree.col, strict=True)))
    assert ber.mst_cross_edges(X, y) == expected


def test_loo_neighbours_match_sklearn():
    from sklearn.neighbors import NearestNeighbors

    X, _ = gaussians(4, 1.0, 300, seed=5)
    idx, dist = ber.loo_neighbours(X, 5, block=97)
    nn = NearestNeighbors(n_neighbors=6).fit(X)
    d_ref, i_ref = nn.kneighbors(X)
    assert np.allclose(dist, d_ref[:, 1:], atol=1e-9)
    assert (idx == i_ref[:, 1:]).mean() > 0.999  # only exact distance ties may order differently


# --- 2–4. validity and tightness on V1 / V2 ------------------------------------------------------


@pytest.mark.parametrize("d,delta", [(2, 1), (2, 3), (5, 2), (10, 2)])
def test_lower_bounds_valid_and_upper_estimates_valid(d, delta):
    """Assertions 2 and 4 (n = 500/class): mean LB ≤ R* + 0.01 (1-NN and GHP); mean min_k R̂_k and
    GHP upper ≥ R* − 0.01."""
    r_star = ber.two_gaussians_ber(delta)
    m = mean_estimates(lambda s: gaussians(d, delta, 500, s))
    assert m["lb"] <= r_star + 0.01
    assert m["ghp_lower"] <= r_star + 0.01
    assert m["upper"] >= r_star - 0.01
    assert m["ghp_upper"] >= r_star - 0.01


def test_tightness_two_dimensions():
    """Assertion 3 (d = 2, Δ = 2, 2000/class): |mean LB − LB_CH(R∞)| ≤ 0.01, |mean R̂₁ − R∞| ≤ 0.015;
    and the best k-NN error lies within 0.015 of R* (Table S1: R̂₁₅ = 0.161 vs 0.159)."""
    r_inf = r_inf_two_gaussians(2)
    m = mean_estimates(lambda s: gaussians(2, 2, 2000, s), ghp=False)
    assert abs(m["lb"] - ber.cover_hart_lower(r_inf, 2)) <= 0.01
    assert abs(m["r1"] - r_inf) <= 0.015
    assert abs(m["upper"] - ber.two_gaussians_ber(2)) <= 0.015


def test_single_fixed_seed_run():
    """Assertion 6: one run, n = 2000/class, d = 2: |R̂₁ − R∞| ≤ 0.03 and LB_CH(R̂₁) ≤ R* + 0.03."""
    est = ber.estimate(*gaussians(2, 2, 2000, seed=11), ghp=False, curve=False)
    assert abs(est.r1 - r_inf_two_gaussians(2)) <= 0.03
    assert est.lb_1nn <= ber.two_gaussians_ber(2) + 0.03


@pytest.mark.parametrize("c", [4])
def test_multiclass_simplex(c):
    """V2, C = 4, d = 10, Δ = 3, 500/class: LB ≤ R* + 0.01 (Table: .144 vs .1534), upper ≥ R* − 0.01."""
    r_star = simplex_ber(c, 3)
    m = mean_estimates(lambda s: simplex(c, 10, 3, 500, s))
    assert m["lb"] <= r_star + 0.01
    assert m["ghp_lower"] <= r_star + 0.01
    assert m["upper"] >= r_star - 0.01


# --- 5. label noise ----------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.2, 0.4])
def test_noise_law(rho):
    """Assertion 5 (d = 2, Δ = 2, 1000/class): mean LB ∈ [R*_ρ − 0.04, R*_ρ + 0.01]."""
    target = ber.noisy_ber(ber.two_gaussians_ber(2), rho, 2)
    m = mean_estimates(lambda s: gaussians(2, 2, 1000, s, rho=rho), ghp=False)
    assert target - 0.04 <= m["lb"] <= target + 0.01


# --- 7. the known failure: high dimension -----------------------------------------------------


def test_high_dimension_overshoots_and_is_detected():
    """Assertion 7: d = 50 noise dimensions make LB > R* + 0.04 — the intrinsic dimension flags it."""
    est = ber.estimate(*gaussians(50, 2, 2000, seed=2), ghp=False, curve=False)
    assert est.lb_1nn > ber.two_gaussians_ber(2) + 0.04
    assert est.intrinsic_dimension > 12
    low = ber.estimate(*gaussians(2, 2, 2000, seed=2), ghp=False, curve=False)
    assert low.intrinsic_dimension == pytest.approx(2, abs=0.5)


# --- 8. mixed numeric + categorical ------------------------------------------------------------


def test_mixed_numeric_and_categorical():
    """Assertion 8 (V4, 3000 rows): with one-hot text mean LB ∈ [0.15, 0.20], mean R̂₁ ∈ [0.26, 0.29];
    dropping the categorical raises the estimate towards the numeric-only BER 0.2266: LB ∈ [0.17, 0.227]."""
    def both(seed):
        frame, y = mixed(3000, seed)
        X, info = ber.encode(frame, ["num", "cat"])
        assert info["dimensions"] == 4 and info["categorical"] == 1
        return X, y

    def num_only(seed):
        frame, y = mixed(3000, seed)
        return ber.encode(frame, ["num"])[0], y

    m = mean_estimates(both, ghp=False)
    assert 0.15 <= m["lb"] <= 0.20
    assert 0.26 <= m["r1"] <= 0.29
    m = mean_estimates(num_only, ghp=False)
    assert 0.17 <= m["lb"] <= 0.227


# --- V5/V6: duplicates, separable data, no signal ------------------------------------------------


def test_label_conflicts_exact_count():
    frame = pd.DataFrame({"a": [1, 1, 1, 1, 2, 2, 3, 4, 4], "b": ["x"] * 4 + ["y", "y", "z", "w", "w"]})
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0, 0])
    # groups: (1,x) 4 rows labels 0,0,1,1 -> 2 must be wrong; (2,y) 0,1 -> 1; (3,z) -> 0; (4,w) 0,0 -> 0
    out = ber.label_conflicts(frame, ["a", "b"], y)
    assert out == {"rate": pytest.approx(3 / 9), "rows": 3, "groups": 2, "duplicate_rows": 5}


def test_separable_and_no_signal():
    rng = np.random.default_rng(0)
    # checkerboard: 2×2 tiles, σ = 0.125, boundaries 4σ from the centres -> R* ≈ 0
    centres = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    tile = np.repeat(np.arange(4), 500)
    X = centres[tile] + 0.125 * rng.standard_normal((2000, 2))
    y = np.array([0, 1, 1, 0])[tile]
    est = ber.estimate(X, y, curve=False)
    assert est.lb_1nn < 0.01 and est.ghp_lower < 0.01
    # labels independent of X: nothing beats the prior; the cap is 1 − max prior
    X = rng.standard_normal((2000, 3))
    y = (rng.random(2000) < 0.3).astype(int)
    est = ber.estimate(X, y, curve=False)
    assert est.prior_cap == pytest.approx(1 - np.mean(y == 0))
    assert est.upper_knn >= est.prior_cap - 0.03


def test_encode_handles_missing_constant_and_text():
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "const": [5, 5, 5, 5], "t": ["a", None, "b", "a"],
                          "flag": [True, False, True, True]})
    X, info = ber.encode(frame, ["x", "const", "t", "flag"])
    assert info["dropped_constant"] == ["const"]
    assert "x (missing)" in info["names"] and "t=(missing)" in info["names"]
    assert X.shape == (4, 2 + 3 + 2)
    assert np.allclose(X[:, 0].mean(), 0) and np.allclose(X[:, 0].std(), 1)


def test_a_text_column_encodes_the_same_in_its_own_storage_as_in_python_objects():
    # one-hot columns written from the definition: the top categories by count, the rest '(other)', missing
    # values '(missing)', levels sorted; the same whether the text is pyarrow-backed or object strings
    rng = np.random.default_rng(0)
    values = rng.choice(["b", "a", "c", "d", None, "(other)"], 500, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    text = pd.Series(values, dtype="str")
    X_arrow, info_arrow = ber.encode(pd.DataFrame({"t": text}), ["t"], max_categories=3)
    X_object, info_object = ber.encode(pd.DataFrame({"t": pd.Series(values, dtype=object)}), ["t"], max_categories=3)
    filled = np.array(["(missing)" if v is None else v for v in values], dtype=object)
    top = pd.Series(filled).value_counts().index[:3]
    kept = np.where(np.isin(filled, top), filled, "(other)")
    levels = sorted(set(kept))
    want = (kept[:, None] == np.array(levels)[None, :]).astype(float)
    assert info_arrow["names"] == [f"t={lv}" for lv in levels] == info_object["names"]
    assert np.array_equal(X_arrow, want) and np.array_equal(X_object, want)
