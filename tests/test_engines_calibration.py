"""Prototype: the calibration check's equal-width figures from per-partition sums equal the
in-memory statistics on all rows (and sklearn's calibration_curve), whatever the partitioning."""

import numpy as np
import pandas as pd
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


# --- the registered check: equal-mass bins from brackets, the engine against memory --------------------------

from engines_world import close, write_dataset  # noqa: E402

from readiness.engines.base import LocalEngine  # noqa: E402

CID = "calibration"
ON_SAMPLE_OR_METHOD = ("basis", "interval_methods", "on_sample", "mixed_ties_at_cuts", "recalibration", "brier_ci",
                       "ece_ci")


def _spec_like(p_all, sample, n_rows):
    """The brackets spec_for draws from a sample of ``sample`` scores out of ``n_rows`` rows."""
    from types import SimpleNamespace

    from readiness.engines.exact_calibration import spec_for

    ctx = SimpleNamespace(task="binary", data_only=False, scores_are_probabilities=True, test_scores=sample,
                          roles=SimpleNamespace(sensitive=[]), test={})
    return spec_for(ctx, n_rows, len(sample))


def _merged_partitions(p, y, spec, parts):
    from readiness.engines.exact_calibration import partition

    frame = pd.DataFrame({"x": np.zeros(len(p))})
    cuts = np.linspace(0, len(p), parts + 1).astype(int)[1:-1]
    return merge_all([partition(f, a, b, spec) for f, a, b in zip(np.split(frame, cuts), np.split(p, cuts),
                                                                   np.split(y, cuts), strict=True)])


@pytest.mark.parametrize("ties", [False, True])
def test_equal_mass_bins_from_brackets_equal_memory(ties):
    from readiness.engines.exact_calibration import equal_mass_sums

    p, y = _rows(n=60_000, shift=0.02, seed=11)
    if ties:
        p = np.round(p, 2)  # ties at every cut
    rng = np.random.default_rng(1)
    sample = p[rng.choice(len(p), 10_000, replace=False)]
    spec = _spec_like(p, sample, len(p))
    # the brackets hold about 10 x 3.8 / sqrt(10,000) = 38% of the rows (more with ties: whole runs of a score)
    assert spec.brackets and sum(((p >= a) & (p <= b)).sum() for a, b in spec.brackets) < (0.6 if ties else 0.45) * len(p)
    s = _merged_partitions(p, y, spec, 7)
    sums, mixed = equal_mass_sums(s, spec.brackets, 10)
    bins = cs.equal_mass_bins(p, 10)
    want_p = np.bincount(bins, weights=p)
    np.testing.assert_allclose(sums[0], np.bincount(bins), rtol=0)
    np.testing.assert_allclose(sums[1], want_p, rtol=1e-9)
    if not ties:
        assert mixed == 0
        np.testing.assert_allclose(sums[2], np.bincount(bins, weights=y), rtol=0)
    else:  # ties of both classes at the cuts: split in canonical order (negatives first), not by position
        assert mixed > 0
        order = np.lexsort((y, p))
        canon = np.empty(len(p), int)
        canon[order] = np.repeat(np.arange(10), np.diff(np.r_[0, np.cumsum([len(c) for c in np.array_split(order, 10)])]))
        np.testing.assert_allclose(sums[2], np.bincount(canon, weights=y), rtol=0)


def test_a_cut_outside_its_bracket_is_refused():
    from readiness.engines.exact_calibration import CalibrationSpec, equal_mass_sums

    p, y = _rows(n=5_000, seed=2)
    spec = CalibrationSpec(((0.9, 0.95),))  # no bracket near the cuts
    assert equal_mass_sums(_merged_partitions(p, y, spec, 3), spec.brackets, 10) is None


def test_weighted_logistic_equals_the_row_fit():
    from readiness.engines.exact_business import partition as counts
    from readiness.engines.exact_calibration import _slope_from_counts

    p, y = _rows(n=20_000, shift=0.0, seed=4)
    p = np.round(p ** 0.7, 3)
    a, b = _slope_from_counts(counts(p, y.astype(int)))
    # independent: scikit-learn's unpenalised logistic regression on every row
    from sklearn.linear_model import LogisticRegression

    x = cs._logit(p)[:, None]
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    assert b == pytest.approx(lr.coef_[0, 0], rel=1e-6) and a == pytest.approx(lr.intercept_[0], rel=1e-6)
    a0, b0 = cs.calibration_slope(p, y)
    assert (a, b) == pytest.approx((a0, b0), rel=1e-9)


def _score_world(root, *, n=24_000, power=1.0, seed=7, parts=5):
    """Rows with a known probability ``q``, outcomes drawn from it and the score column ``q ** power``
    (power 0.5: pushed up, a planted miscalibration), a sensitive column (text) and an integer one with gaps."""
    rng = np.random.default_rng(seed)
    out = {}
    for role, m in (("train", n // 2), ("holdout", n)):
        q = rng.beta(2, 4, m)
        frame = pd.DataFrame({"x": rng.normal(size=m), "region": rng.choice(["n", "s", "e", "w"], m, p=[.4, .3, .2, .1]),
                              "band": pd.array(rng.integers(1, 4, m), dtype="Int64"),
                              "score": q ** power, "y": (rng.random(m) < q).astype(int)})
        frame.loc[rng.random(m) < 0.01, "band"] = pd.NA
        out[role] = write_dataset(frame, root / f"{role}-{power}-{seed}", parts)
    return out


def _roles():
    from readiness.inputs import Roles

    return Roles(target="y", prediction_column="score", sensitive=["region", "band"])


def _in_memory(world):
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    ctx = prepare_review(train=world["train"], test=world["holdout"], roles=_roles(), model=None, model_name=None,
                         settings=Settings())
    return run_review(ctx, checks=[CID]).check(CID)


def _on_engine(world, engine=None, holdout=None, sample=3_000):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings

    er = prepare(engine or LocalEngine(batch_rows=1_700), train=world["train"], test=holdout or world["holdout"],
                 roles=_roles(), settings=Settings(), model=None, model_name=None, trusted=None, sample_rows=sample)
    try:
        return run(er, checks=[CID]).check(CID)
    finally:
        er.engine.close()


def _same(a, b):
    """The engine's check equals memory's: status, every figure not on the sample, the messages (the
    recalibration preview's, on the sample, aside)."""
    assert a.status == b.status
    keep = {k: v for k, v in a.metrics.items() if k not in ON_SAMPLE_OR_METHOD}
    assert close(keep, {k: v for k, v in b.metrics.items() if k not in ON_SAMPLE_OR_METHOD}) == []

    def msgs(r):
        return [f.message for f in r.findings if not f.message.startswith("A cheap fix is likely")]

    assert msgs(a) == msgs(b)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibration_world")
    return {"good": _score_world(root), "bad": _score_world(root, power=0.5)}


def test_engine_equals_memory_and_sklearn_on_every_row(worlds):
    mem, eng = _in_memory(worlds["good"]), _on_engine(worlds["good"])
    _same(mem, eng)
    m = eng.metrics
    assert m["basis"] == {**m["basis"], "kind": "exact", "rows": 24_000}
    assert m["mixed_ties_at_cuts"] == 0 and set(m["on_sample"]["keys"]) == {"recalibration"}
    assert m["on_sample"]["rows"] == 3_000
    assert eng.status == "pass" and eng.summary == mem.summary
    # independent: scikit-learn on every row
    hold = pd.read_parquet(worlds["good"]["holdout"])
    p, y = hold["score"].to_numpy(), hold["y"].to_numpy()
    obs, pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    got = [r for r in m["reliability"] if r["count"]]
    np.testing.assert_allclose([r["observed_rate"] for r in got], obs, rtol=1e-9)
    np.testing.assert_allclose([r["mean_score"] for r in got], pred, rtol=1e-9)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-9)
    from sklearn.metrics import log_loss

    assert m["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-9)
    # Hosmer–Lemeshow by hand: ten equal-mass bins (no bin expects fewer than 5 events here), χ² with 10 df
    order = np.argsort(p, kind="stable")
    stat = sum((y[c].sum() - p[c].sum()) ** 2 / (p[c] * (1 - p[c])).sum() for c in np.array_split(order, 10))
    assert m["hosmer_lemeshow"]["statistic"] == pytest.approx(stat, rel=1e-9) and m["hosmer_lemeshow"]["df"] == 10
    assert m["hosmer_lemeshow"]["p_value"] == pytest.approx(stats.chi2.sf(stat, 10), rel=1e-9)
    # the intervals from sums cover the figure and are close to memory's bootstrap
    for key in ("brier_ci", "ece_ci"):
        lo, hi = m[key]
        assert lo <= m[key.removesuffix("_ci")] <= hi
        assert hi - lo == pytest.approx(mem.metrics[key][1] - mem.metrics[key][0], rel=0.35)
    # groups: an integer column with gaps is written as floats, as memory reads it
    assert {g["group"] for g in m["groups"]["band"]["groups"]} == {"1.0", "2.0", "3.0", "(missing)"}


def test_planted_miscalibration_found_on_every_row(worlds):
    mem, eng = _in_memory(worlds["bad"]), _on_engine(worlds["bad"])
    _same(mem, eng)
    assert eng.status == "fail" and eng.metrics["calibration_error_debiased"] > 0.05
    assert eng.metrics["calibration_p_value_adjusted"] < 1e-3
    assert "too high on average" in eng.findings[0].message
    flagged = [f for f in eng.findings if f.columns]
    assert flagged and {f.columns[0] for f in flagged} <= {"region", "band"}


def test_repartitioning_gives_the_same_figures(worlds, tmp_path):
    a = _on_engine(worlds["bad"])
    hold = pd.read_parquet(worlds["bad"]["holdout"])
    other = write_dataset(hold.sample(frac=1.0, random_state=3), tmp_path / "holdout", 3)
    b = _on_engine(worlds["bad"], engine=LocalEngine(batch_rows=4_100), holdout=other)
    assert a.status == b.status
    keep = ("basis", "recalibration", "on_sample")  # the sample is the same rows; their order in it is not
    assert close({k: v for k, v in a.metrics.items() if k not in keep},
                 {k: v for k, v in b.metrics.items() if k not in keep}) == []


def test_small_sample_of_a_large_holdout_keeps_equal_mass_figures_on_the_sample(worlds, monkeypatch):
    from readiness.engines import exact_calibration

    monkeypatch.setattr(exact_calibration, "MAX_BRACKET_ROWS", 100)
    eng = _on_engine(worlds["good"])
    assert {"hosmer_lemeshow", "adaptive_ece"} <= set(eng.metrics["on_sample"]["keys"])
    assert eng.metrics["mixed_ties_at_cuts"] is None


def _small_on(engine, worlds):
    _same(_in_memory(worlds["bad"]), _on_engine(worlds["bad"], engine=engine))


@pytest.mark.slow
def test_dask_local_cluster_same(worlds):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _small_on(DaskEngine(n_workers=2), worlds)


@pytest.mark.slow
def test_spark_local_mode_same(worlds):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _small_on(SparkEngine("local[2]"), worlds)


def test_the_page_says_which_figures_are_on_the_sample(worlds):
    """The Calibration page of an engine review: the basis line, and captions naming what is on the sample."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings

    er = prepare(LocalEngine(batch_rows=1_700), train=worlds["bad"]["train"], test=worlds["bad"]["holdout"],
                 roles=_roles(), settings=Settings(), model=None, model_name=None, trusted=None, sample_rows=3_000)
    report = run(er, checks=[CID, "uncertainty.abstention"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=er.ctx, report=report, title="engine review", is_sample=False)
    at.switch_page("pages/calibration.py").run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "exact on 24,000 holdout rows" in " ".join(m.value for m in at.markdown) + captions
    assert "Computed on all 24,000 holdout rows except the recalibration preview, on the engine's sample of 3,000 rows" in captions
    assert "Fitted and graded on the engine's sample of 3,000 holdout rows" in captions
