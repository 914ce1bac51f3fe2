"""``drift.features`` exact on the engines (readiness.engines.exact_drift): every feature's bins (exact
training deciles, a spike's own bin, missing values; text value counts) counted over every training and
holdout row, equal to numpy/pandas on all rows and to the in-memory check on the same rows; the planted
drift is found, a clean control passes, and the result does not depend on the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines_world import build, close, make_rows, write_dataset

from readiness.engines import exact_drift as XD
from readiness.engines.base import LocalEngine
from readiness.engines.dataset import open_dataset

N_TRAIN, N_TEST, SAMPLE = 8_000, 12_000, 1_500


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build(tmp_path_factory.mktemp("drift_world"), n_train=N_TRAIN, n_test=N_TEST, parts=6)


def roles():
    from readiness.inputs import Roles

    return Roles(target="default")


def in_memory(train, test, model):
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    ctx = prepare_review(train=train, test=test, roles=roles(), model=model.read_bytes(), model_name="model.skops",
                         settings=Settings())
    return run_review(ctx, checks=["drift.features"]).check("drift.features")


def on_engine(train, test, model, engine=None, sample=SAMPLE):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings

    er = prepare(engine or LocalEngine(batch_rows=1_700), train=train, test=test, roles=roles(), settings=Settings(),
                 model=model.read_bytes(), model_name="model.skops", trusted=None, sample_rows=sample)
    return run(er, checks=["drift.features"]).check("drift.features")


def same(a, b):
    assert a.status == b.status
    assert a.summary == b.summary
    assert [f.message for f in a.findings] == [f.message for f in b.findings]
    ma = {k: v for k, v in a.metrics.items() if k != "basis"}
    mb = {k: v for k, v in b.metrics.items() if k != "basis"}
    assert close(ma, mb) == []


def psi_closed_form(ce, ca):
    e = np.clip(np.asarray(ce) / np.sum(ce), 1e-4, None)
    a = np.clip(np.asarray(ca) / np.sum(ca), 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def columns(n, seed):
    """Numbers of every kind the binning meets: continuous, zero-inflated continuous (a spike among many
    distinct values), few distinct values with ties, a spike among few values, missing values, constant."""
    rng = np.random.default_rng(seed)
    cont = rng.normal(3, 2, n)
    cont[rng.random(n) < 0.05] = np.nan
    zi = np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(2, 1, n))
    few = rng.integers(0, 7, n).astype(float)
    spiky = np.where(rng.random(n) < 0.5, 5.0, rng.integers(0, 30, n)).astype(float)
    ties = np.round(rng.normal(0, 1, n), 1)  # ~60 distinct values
    return pd.DataFrame({"cont": cont, "zi": zi, "few": few, "spiky": spiky, "ties": ties,
                         "const": np.full(n, 2.5), "default": rng.integers(0, 2, n)})


@pytest.mark.parametrize("collect", [200_000, 40])
def test_exact_bins_are_numpys_deciles_over_all_rows(tmp_path, monkeypatch, collect):
    # collect=40 forces several refining passes (histograms of histograms) before values are collected
    monkeypatch.setattr(XD, "COLLECT", collect)
    monkeypatch.setattr(XD, "MAX_VALUES", 50)  # 'ties' and the continuous ones take the refining path
    frame = columns(9_001, 3)
    src = open_dataset(write_dataset(frame, tmp_path / "t", 5), role="train", digest=False)
    spec = XD.DriftSpec(target="default", columns=tuple(c for c in frame if c != "default"),
                        numeric=frozenset(c for c in frame if c != "default"), target_text=True)
    bins = XD.exact_bins(LocalEngine(batch_rows=1_000), src, spec)
    for col in spec.columns:
        known = frame[col].dropna()
        top = known.value_counts()
        spike = float(top.index[0]) if top.iloc[0] / len(known) >= 0.10 else None
        rest = known[known != spike].to_numpy() if spike is not None else known.to_numpy()
        want = np.unique(np.quantile(rest, np.linspace(0, 1, 11)))[1:-1] if len(rest) else np.array([])
        got_spike, got = bins[col]
        assert got_spike == spike, col
        assert np.array_equal(got, want), (col, got, want)
    assert bins["zi"][0] == 0.0 and bins["spiky"][0] == 5.0 and bins["cont"][0] is None


def test_counts_are_numpy_histograms_and_pandas_value_counts_on_all_rows(world):
    from readiness.engines.review import prepare
    from readiness.inputs import Settings

    er = prepare(LocalEngine(batch_rows=1_700), train=world["train"], test=world["holdout"], roles=roles(),
                 settings=Settings(), model=world["model"].read_bytes(), model_name="model.skops", trusted=None,
                 sample_rows=SAMPLE)
    out = XD.features(er.ctx, er).metrics
    train = pd.read_parquet(world["train"])
    test = pd.read_parquet(world["holdout"])
    for col in ("income", "debt", "tenure"):
        known = train[col].dropna()
        edges = np.unique(np.quantile(known, np.linspace(0, 1, 11)))
        inner = edges[1:-1]
        # numpy.histogram on the inner edges with open ends (outer bins to ±inf), plus a missing bin
        full = np.concatenate([[-np.inf], inner, [np.inf]])
        ce = np.append(np.histogram(train[col].dropna(), full)[0], train[col].isna().sum())
        ca = np.append(np.histogram(test[col].dropna(), full)[0], test[col].isna().sum())
        f = out["features"][col]
        assert np.allclose(f["train_share"], ce / len(train), rtol=1e-12, atol=0)
        assert np.allclose(f["test_share"], ca / len(test), rtol=1e-12, atol=0)
        assert f["psi"] == pytest.approx(psi_closed_form(ce, ca), rel=1e-9)
    for col in ("channel", "region"):
        ve, va = train[col].value_counts(), test[col].value_counts()
        labels = sorted(set(ve.index) | set(va.index))
        f = out["features"][col]
        assert f["bins"] == labels
        ce, ca = ve.reindex(labels, fill_value=0).to_numpy(), va.reindex(labels, fill_value=0).to_numpy()
        assert f["psi"] == pytest.approx(psi_closed_form(ce, ca), rel=1e-9)
    assert out["features"]["income"]["psi"] > 0.25 and out["features"]["channel"]["psi"] > 0.1


def test_engine_equals_the_in_memory_check_and_finds_the_planted_drift(world):
    whole = in_memory(world["train"], world["holdout"], world["model"])
    eng = on_engine(world["train"], world["holdout"], world["model"])
    same(eng, whole)
    assert eng.metrics["basis"]["kind"] == "exact" and eng.metrics["basis"]["rows"] == N_TEST
    assert {"income", "channel"} <= set(eng.metrics["major_drift"] + eng.metrics["moderate_drift"])
    assert eng.status.value in ("warn", "fail")


def test_a_clean_control_passes(world, tmp_path):
    same_dist = write_dataset(make_rows(N_TEST, 7, holdout=False), tmp_path / "same", 4)
    whole = in_memory(world["train"], same_dist, world["model"])
    eng = on_engine(world["train"], same_dist, world["model"])
    same(eng, whole)
    assert eng.metrics["major_drift"] == [] and eng.metrics["moderate_drift"] == []
    assert not [f for f in eng.findings if f.severity.value == "warn"]


def test_repartitioning_gives_identical_results(world, tmp_path):
    train, test = pd.read_parquet(world["train"]), pd.read_parquet(world["holdout"])
    a = on_engine(world["train"], world["holdout"], world["model"], LocalEngine(batch_rows=997))
    b = on_engine(write_dataset(train, tmp_path / "tr", 7), write_dataset(test, tmp_path / "te", 2), world["model"],
                  LocalEngine(batch_rows=5_000))
    same(a, b)


def _small_on(engine, world):
    whole = in_memory(world["train"], world["holdout"], world["model"])
    try:
        eng = on_engine(world["train"], world["holdout"], world["model"], engine)
    finally:
        engine.close()
    same(eng, whole)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same(world):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _small_on(DaskEngine(n_workers=2), world)


@pytest.mark.slow
def test_spark_local_mode_gives_the_same(world):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _small_on(SparkEngine("local[2]"), world)
