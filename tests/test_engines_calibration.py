"""Prototype: the calibration check's equal-width figures from per-partition sums equal the
in-memory statistics on all rows (and sklearn's calibration_curve), whatever the partitioning."""

import numpy as np
import pytest
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from readiness.checks import calibration_stats as cs
from readiness.checks.calibration import severity_for
from readiness.engines.exact_calibration import figures, group_row, partition_sums
from readiness.engines.summaries import merge_all
from readiness.results import Severity


def _rows(n=20_000, shift=0.0, seed=3):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, n)
    y = (rng.random(n) < np.clip(p + shift, 0, 1)).astype(float)
    return p, y


def _merged(p, y, parts):
    cuts = np.sort(np.random.default_rng(parts).choice(np.arange(1, len(p)), parts - 1, replace=False))
    return figures(merge_all([partition_sums(a, b) for a, b in zip(np.split(p, cuts), np.split(y, cuts), strict=True)]))


@pytest.mark.parametrize("parts", [1, 7, 40])
def test_sums_give_the_in_memory_figures(parts):
    p, y = _rows()
    f = _merged(p, y, parts)
    close = dict(rel=1e-9, abs=1e-12)
    assert f["ece"] == pytest.approx(cs.ece(p, y), **close)
    assert f["calibration_error_debiased"] == pytest.approx(cs.calibration_error_debiased(p, y), **close)
    assert f["ece_noise_floor"] == pytest.approx(cs.ece_noise_floor(p), **close)
    assert f["mce"] == pytest.approx(cs.mce(p, y), **close)
    assert f["brier"] == pytest.approx(brier_score_loss(y, p), **close)
    assert f["spiegelhalter_z"] == pytest.approx(cs.spiegelhalter(p, y)[0], **close)
    for k, v in cs.brier_decomposition(p, y).items():
        assert f["brier_decomposition"][k] == pytest.approx(v, rel=1e-9, abs=1e-9), k
    want = cs.reliability_table(p, y)
    assert [r["count"] for r in f["reliability"]] == [r["count"] for r in want]
    assert [r["observed_ci"] for r in f["reliability"]] == [r["observed_ci"] for r in want]
    # independent: sklearn's reliability curve (uniform strategy, same bin convention; empty bins dropped)
    obs, pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    got = [r for r in f["reliability"] if r["count"]]
    np.testing.assert_allclose([r["observed_rate"] for r in got], obs, rtol=1e-9)
    np.testing.assert_allclose([r["mean_score"] for r in got], pred, rtol=1e-9)


def _severity(f):
    """The check's status rule on the figures, with Spiegelhalter's p alone (HL is not from sums yet)."""
    return severity_for(f["calibration_error_debiased"], float(2 * stats.norm.sf(abs(f["spiegelhalter_z"]))))


def test_planted_miscalibration_and_control():
    bad = _merged(*_rows(shift=0.08), 9)
    good = _merged(*_rows(shift=0.0), 9)
    assert _severity(bad) == Severity.FAIL and bad["calibration_error_debiased"] > 0.05
    assert _severity(good) is None and good["calibration_error_debiased"] < 0.02


def test_group_rows_from_sums_equal_the_in_memory_statistics():
    p, y = _rows(n=6_000, shift=0.03, seed=5)
    cuts = [1_000, 2_500, 4_000]
    s = merge_all([partition_sums(a, b) for a, b in zip(np.split(p, cuts), np.split(y, cuts), strict=True)])
    row = group_row("a", s, min_rows=30)
    zp = cs.spiegelhalter(p, y)[1]
    citl = cs.calibration_in_the_large(p, y)
    assert row["n"] == len(p) and row["observed"] == pytest.approx(y.mean(), rel=1e-12)
    assert row["predicted"] == pytest.approx(p.mean(), rel=1e-12)
    assert row["ece"] == pytest.approx(cs.ece(p, y), rel=1e-9)
    assert row["calibration_error_debiased"] == pytest.approx(cs.calibration_error_debiased(p, y), rel=1e-9)
    assert row["ece_noise_floor"] == pytest.approx(cs.ece_noise_floor(p), rel=1e-9)
    assert row["p_value"] == pytest.approx(cs.combined_p(zp, citl["p_value"]), rel=1e-9, abs=1e-300)
    small = group_row("b", partition_sums(p[:20], y[:20]), min_rows=30)
    assert small["too_few_rows"] and small["ece"] is None and small["n"] == 20
