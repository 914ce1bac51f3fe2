"""Known-answer tests for the calibration statistics (``readiness.checks.calibration_stats``):
pure functions of arrays, each compared with an independent computation (scikit-learn, scipy,
pandas, a closed form or a simulation of the known truth), never with its own output pasted back.
The checks built on them are tested in tests/test_calibration.py.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sst
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from readiness.checks import calibration
from readiness.checks import calibration_stats as C


def uniform_case(n, seed, lo=0.0, hi=1.0):
    """Scores uniform on [lo, hi] that are the true probabilities of the outcomes drawn with them."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(lo, hi, n)
    y = (rng.random(n) < p).astype(int)
    return p, y


# --- independent reference computations ------------------------------------------------------


def ref_ece(p, y, n_bins=10):
    """Loop over bins written from the definition (pandas cut, right-closed like sklearn)."""
    edges = np.linspace(0, 1, n_bins + 1)
    b = pd.cut(p, edges, include_lowest=True, labels=False, right=True)
    df = pd.DataFrame({"p": p, "y": y, "b": b})
    total = 0.0
    for _, g in df.groupby("b"):
        total += len(g) / len(df) * abs(g["y"].mean() - g["p"].mean())
    return total


def ref_adaptive_ece(p, y, n_bins=10):
    rank = pd.Series(p).rank(method="first").to_numpy()
    b = pd.qcut(rank, n_bins, labels=False)
    df = pd.DataFrame({"p": p, "y": y, "b": b})
    return sum(len(g) / len(df) * abs(g["y"].mean() - g["p"].mean()) for _, g in df.groupby("b"))


def ref_spiegelhalter(p, y):
    # expanded form of sum((y-p)(1-2p)) and sum((1-2p)^2 p (1-p))
    num = np.sum(y - p - 2 * p * y + 2 * p * p)
    var = np.sum(p * (1 - p) * (1 - 4 * p + 4 * p * p))
    z = num / math.sqrt(var)
    return z, 2 * (1 - sst.norm.cdf(abs(z)))


def ref_hosmer_lemeshow(p, y, n_bins=10):
    rank = pd.Series(p).rank(method="first").to_numpy()
    b = pd.qcut(rank, n_bins, labels=False)
    df = pd.DataFrame({"p": p, "y": y, "v": p * (1 - p), "b": b}).groupby("b").sum()
    stat = float((((df["y"] - df["p"]) ** 2) / df["v"]).sum())
    return stat, sst.chi2.sf(stat, n_bins)


# --- metric functions ------------------------------------------------------------------------


def test_metric_functions_equal_independent_computations():
    p, y = uniform_case(3000, 7, 0.05, 0.99)
    q = p ** 1.5  # mildly miscalibrated so the numbers are not all ~0; every HL bin expects >= 5 events (no merge)
    assert C.brier(q, y) == pytest.approx(brier_score_loss(y, q), abs=1e-12)
    assert C.log_loss_binary(q, y) == pytest.approx(log_loss(y, q), abs=1e-10)
    assert C.ece(q, y) == pytest.approx(ref_ece(q, y), abs=1e-12)
    assert C.adaptive_ece(q, y) == pytest.approx(ref_adaptive_ece(q, y), abs=1e-12)
    prob_true, prob_pred = calibration_curve(y, q, n_bins=10, strategy="uniform")
    table = [r for r in C.reliability_table(q, y) if r["count"]]
    assert np.allclose([r["observed_rate"] for r in table], prob_true)
    assert np.allclose([r["mean_score"] for r in table], prob_pred)
    assert sum(r["count"] for r in C.reliability_table(q, y)) == len(q)
    assert C.mce(q, y) == pytest.approx(np.max(np.abs(prob_true - prob_pred)), abs=1e-12)
    for r in table:  # Clopper–Pearson from scipy's beta quantiles
        k = round(r["observed_rate"] * r["count"])
        lo = sst.beta.ppf(0.025, k, r["count"] - k + 1) if k else 0.0
        assert r["observed_ci"][0] == pytest.approx(lo, abs=1e-9)
    z, zp = C.spiegelhalter(q, y)
    rz, rzp = ref_spiegelhalter(q, y)
    assert z == pytest.approx(rz, rel=1e-9) and zp == pytest.approx(rzp, rel=1e-6, abs=1e-12)
    stat, df, hp = C.hosmer_lemeshow(q, y)
    rs, rp = ref_hosmer_lemeshow(q, y)
    assert df == 10 and stat == pytest.approx(rs, rel=1e-9) and hp == pytest.approx(rp, rel=1e-6, abs=1e-15)


def test_brier_decomposition_is_exact_and_matches_murphys_terms():
    p, y = uniform_case(2000, 3)
    q = np.clip(p + 0.07, 0, 1)
    d = C.brier_decomposition(q, y)
    total = d["reliability"] - d["resolution"] + d["uncertainty"] + d["within_bin_variance"] - d["within_bin_covariance"]
    assert total == pytest.approx(brier_score_loss(y, q), abs=1e-12)
    bins = pd.cut(q, np.linspace(0, 1, 11), include_lowest=True, labels=False)
    g = pd.DataFrame({"q": q, "y": y, "b": bins}).groupby("b").agg(n=("y", "size"), pbar=("q", "mean"), obar=("y", "mean"))
    w = g["n"] / len(q)
    assert d["reliability"] == pytest.approx(float((w * (g["pbar"] - g["obar"]) ** 2).sum()), abs=1e-12)
    assert d["resolution"] == pytest.approx(float((w * (g["obar"] - y.mean()) ** 2).sum()), abs=1e-12)
    assert d["uncertainty"] == pytest.approx(y.mean() * (1 - y.mean()), abs=1e-12)
    # with scores constant within bins, Murphy's three terms are the whole story
    qc = (np.minimum(np.floor(q * 10), 9) + 0.5) / 10
    dc = C.brier_decomposition(qc, y)
    assert dc["within_bin_variance"] == pytest.approx(0, abs=1e-12)
    assert dc["reliability"] - dc["resolution"] + dc["uncertainty"] == pytest.approx(brier_score_loss(y, qc), abs=1e-12)


def test_noise_floor_matches_simulated_ece_of_a_calibrated_model():
    p, _ = uniform_case(2000, 11)
    rng = np.random.default_rng(5)
    sims = [C.ece(p, (rng.random(len(p)) < p).astype(float)) for _ in range(300)]
    assert C.ece_noise_floor(p) == pytest.approx(np.mean(sims), rel=0.1)


def test_debiased_calibration_error_closed_form():
    # one bin (every score 0.55, 100 rows): O - E = 60 - 55 = 5, V = 100 * 0.55 * 0.45 = 24.75
    # -> sqrt(((5^2 - 24.75) / 100) / 100)
    p = np.full(100, 0.55)
    y = np.r_[np.ones(60), np.zeros(40)]
    assert C.ece(p, y) == pytest.approx(0.05)
    assert C.calibration_error_debiased(p, y) == pytest.approx(math.sqrt((25 - 24.75) / 100 / 100), rel=1e-12)
    # two bins: 0.15 (200 rows, 40 events: O-E = 10, V = 25.5) and 0.85 (100 rows, 80 events: O-E = -5, V = 12.75)
    p = np.r_[np.full(200, 0.15), np.full(100, 0.85)]
    y = np.r_[np.ones(40), np.zeros(160), np.ones(80), np.zeros(20)]
    want = math.sqrt(((100 - 25.5) / 200 + (25 - 12.75) / 100) / 300)
    assert C.calibration_error_debiased(p, y) == pytest.approx(want, rel=1e-12)
    y = np.r_[np.ones(30), np.zeros(170), np.ones(85), np.zeros(15)]  # exactly as expected: nothing is left
    assert C.calibration_error_debiased(p, y) == 0.0


@pytest.mark.parametrize("n, tol", [(1500, 0.006), (5000, 0.003)])
def test_debiased_calibration_error_takes_the_noise_out_and_keeps_a_real_gap(n, tol):
    """Monte Carlo against the known truth: on calibrated scores the plain ECE sits at its noise floor (2.5 points
    on 1,500 rows) and the debiased error well under it; on scores shifted 3 points it recovers the shift."""
    rng = np.random.default_rng(3)
    p = rng.uniform(0.1, 0.9, n)
    plain, honest, shifted = [], [], []
    for _ in range(150):
        y = (rng.random(len(p)) < p).astype(float)
        plain.append(C.ece(p, y))
        honest.append(C.calibration_error_debiased(p, y))
        shifted.append(C.calibration_error_debiased(p - 0.03, y))
    assert np.mean(plain) == pytest.approx(C.ece_noise_floor(p), rel=0.15)
    assert np.mean(honest) < 0.35 * np.mean(plain)
    assert np.mean(shifted) == pytest.approx(0.03, abs=tol)


def test_sparse_hosmer_lemeshow_bins_are_merged_and_the_null_is_calibrated():
    """Issue 18: with low-prevalence scores the lowest equal-mass bins expect under one event, and the χ²
    approximation rejected 10-13% of perfectly calibrated holdouts at the 5% level. Bins are merged until each
    expects >= 5 events and non-events. Known answer: the merged statistic equals a direct computation over the
    merged groups (pandas), and on 400 calibrated holdouts the 5%-level rejection rate is within binomial noise
    of 5% (at most 8%; before the merge: 10-13%)."""
    rng = np.random.default_rng(21)
    from scipy.optimize import brentq

    def case(n):
        z = 1.5 * rng.normal(size=n)
        b = brentq(lambda b: np.mean(1 / (1 + np.exp(-(z + b)))) - 0.05, -30, 30)
        p = 1 / (1 + np.exp(-(z + b)))
        return p, (rng.random(n) < p).astype(float)

    p, y = case(300)
    stat, df, hp = C.hosmer_lemeshow(p, y)
    rank = pd.Series(p).rank(method="first").to_numpy()
    frame = pd.DataFrame({"p": p, "y": y, "v": p * (1 - p), "b": pd.qcut(rank, 10, labels=False)})
    g = frame.groupby("b").agg(p=("p", "sum"), y=("y", "sum"), v=("v", "sum"), n=("p", "size"))
    # merge by the rule, written independently: walk the bins, close a group once both sums reach 5
    groups, cur, e, ne = [], [], 0.0, 0.0
    for b, row in g.iterrows():
        cur.append(b)
        e, ne = e + row["p"], ne + row["n"] - row["p"]
        if e >= 5 and ne >= 5:
            groups.append(cur)
            cur, e, ne = [], 0.0, 0.0
    if cur:
        groups[-1] += cur
    merged = [g.loc[c].sum() for c in groups]
    ref = sum((m["y"] - m["p"]) ** 2 / m["v"] for m in merged)
    assert df == len(groups) < 10 and stat == pytest.approx(ref, rel=1e-9)
    assert hp == pytest.approx(sst.chi2.sf(ref, len(groups)), rel=1e-9)
    rejections = sum(C.hosmer_lemeshow(*case(300))[2] < 0.05 for _ in range(400))
    assert rejections / 400 <= 0.08  # binomial(400, 0.05): P(> 32) < 0.3%


def test_the_statistics_stay_importable_from_the_check_module():
    """Other modules, pages, benchmarks and tests import these from readiness.checks.calibration."""
    for name in ("N_BINS", "equal_width_bins", "ece", "adaptive_ece", "mce", "ece_noise_floor",
                 "calibration_error_debiased", "brier", "brier_decomposition", "log_loss_binary", "spiegelhalter",
                 "hosmer_lemeshow", "merge_sparse_bins", "reliability_table", "calibration_tests",
                 "crossfit_binary", "crossfit_multiclass", "selective_curve", "band_for_target"):
        assert getattr(calibration, name) is getattr(C, name), name


# --- the bootstrap intervals, drawn once for several statistics ------------------------------


def test_one_draw_of_resamples_gives_each_interval_its_own_bootstrap_would():
    from sklearn.metrics import roc_auc_score

    from readiness.stats import bootstrap_ci, bootstrap_cis

    rng = np.random.default_rng(5)
    for n, stratify in ((14, None), (400, None), (400, "y")):  # 14 rows: some resamples have one class (skipped)
        p = rng.uniform(0, 1, n)
        p[:11] = np.linspace(0, 1, 11)[: min(n, 11)]  # scores on the bin edges
        y = (rng.random(n) < p).astype(int)
        strata = y if stratify else None
        stats_ = [(np.mean, ((p - y) ** 2,)), (C.ece, (p, y)), (roc_auc_score, (y, p))]
        joint = bootstrap_cis(stats_, n_boot=80, seed=7, stratify=strata)
        for (fn, arrays), ci in zip(stats_, joint, strict=True):
            alone = bootstrap_ci(fn, *arrays, n_boot=80, seed=7, stratify=strata)
            assert ci == alone or (np.isnan(ci).all() and np.isnan(alone).all()), (n, fn, ci, alone)
    assert np.isnan(bootstrap_cis([(np.mean, (np.ones(1),))])[0]).all()


def test_the_ece_of_known_bins_is_the_ece_bit_for_bit():
    for seed in range(3):
        p, y = uniform_case(3000, seed)
        p[:11] = np.linspace(0, 1, 11)  # right-closed bins: a score on an edge belongs to the lower bin
        got = C._ece_of_bins(p, y.astype(float), C.equal_width_bins(p))
        assert got == C.ece(p, y) and got == pytest.approx(ref_ece(p, y), abs=1e-12)


def test_the_calibration_intervals_are_those_of_bootstrapping_each_metric():
    from readiness.stats import bootstrap_ci

    p, y = uniform_case(2000, 4)
    m = C.binary_metrics(p, y, seed=3, n_boot=40)
    assert m["brier_ci"] == list(bootstrap_ci(C.brier, p, y, n_boot=40, seed=3))
    assert m["ece_ci"] == list(bootstrap_ci(C.ece, p, y, n_boot=40, seed=3))
    rng = np.random.default_rng(4)
    P = rng.dirichlet([1, 1, 1], 1500)
    Y = np.eye(3)[[rng.choice(3, p=r) for r in P]]
    mm = C.multiclass_metrics(P, Y, ["a", "b", "c"], seed=3, n_boot=40)
    conf, correct = P.max(axis=1), (P.argmax(axis=1) == Y.argmax(axis=1)).astype(float)
    assert mm["brier_ci"] == list(bootstrap_ci(lambda a, b: float(np.mean(((a - b) ** 2).sum(axis=1))), P, Y,
                                               n_boot=40, seed=3))
    assert mm["ece_ci"] == list(bootstrap_ci(C.ece, conf, correct, n_boot=40, seed=3))


def test_group_names_counts_and_rows_are_those_of_numpy_unique():
    g = np.array(["b", "a", "(missing)", "b", "B", "a", "b", "é", "a b"], dtype=object)
    codes, names, counts = calibration._groups(g)
    want_names, want_counts = np.unique(g, return_counts=True)
    assert names == list(want_names) and counts.tolist() == want_counts.tolist()
    assert all(((codes == i) == (g == name)).all() for i, name in enumerate(names))


def test_the_cells_give_the_brier_score_and_the_ece_bit_for_bit():
    for seed in range(3):
        p, y = uniform_case(2000, seed)
        p[:11] = np.linspace(0, 1, 11)
        cells = (2 * C.equal_width_bins(p) + y).astype(np.int8)
        for idx in [np.arange(2000), np.random.default_rng(seed).integers(0, 2000, 2000)]:
            assert C._ece_of_cells(p[idx], cells[idx]) == C.ece(p[idx], y[idx])
            assert C._brier_of_cells(p[idx], cells[idx]) == C.brier(p[idx], y[idx])
        assert C._ece_of_cells(p, cells) == pytest.approx(ref_ece(p, y), abs=1e-12)
        assert C._brier_of_cells(p, cells) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
