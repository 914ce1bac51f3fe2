"""``business.threshold`` exact on the engines (readiness.engines.exact_business): rows per distinct score
and class over every holdout row, merged from partition summaries; the confusion counts at every threshold
equal scikit-learn's on all rows, and the check equals the in-memory check on the same rows (statuses,
metrics, bootstrap intervals, messages); a review threshold far from the cost-optimal one is found, a clean
control passes, and the result does not depend on the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines_world import build, close
from sklearn.metrics import confusion_matrix

from readiness.engines.base import LocalEngine

N_TRAIN, N_TEST, SAMPLE = 6_000, 12_000, 2_000
CID = "business.threshold"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build(tmp_path_factory.mktemp("business_world"), n_train=N_TRAIN, n_test=N_TEST, parts=5)


def roles():
    from readiness.inputs import Roles

    return Roles(target="default")


def in_memory(world, settings):
    from readiness.inputs import prepare_review
    from readiness.review import run_review

    ctx = prepare_review(train=world["train"], test=world["holdout"], roles=roles(),
                         model=world["model"].read_bytes(), model_name="model.skops", settings=settings)
    return run_review(ctx, checks=[CID]).check(CID)


def on_engine(world, settings, engine=None, holdout=None):
    from readiness.engines.review import prepare, run

    er = prepare(engine or LocalEngine(batch_rows=1_700), train=world["train"], test=holdout or world["holdout"],
                 roles=roles(), settings=settings, model=world["model"].read_bytes(), model_name="model.skops",
                 trusted=None, sample_rows=SAMPLE)
    return run(er, checks=[CID]).check(CID)


def settings(**kw):
    from readiness.inputs import Settings

    return Settings(**kw)


def without(m: dict) -> dict:
    return {k: v for k, v in m.items() if k not in ("basis", "interval_methods", "mixed_ties")}


def same(a, b):
    assert a.status == b.status
    assert a.summary == b.summary
    assert [f.message for f in a.findings] == [f.message for f in b.findings]
    assert close(without(a.metrics), without(b.metrics)) == []


def test_score_counts_merge_exactly_and_lay_out_the_rows():
    from readiness.engines.exact_business import mixed_ties, partition, rows_of
    from readiness.engines.summaries import merge_all

    rng = np.random.default_rng(3)
    s = rng.integers(0, 50, 5_000) / 50.0  # many ties, of both classes
    y = (rng.random(5_000) < s).astype(int)
    parts = [partition(s[i::4], y[i::4]) for i in range(4)]
    merged = merge_all([{"business": p} for p in parts])["business"]
    u, cnt = np.unique(s, return_counts=True)
    assert np.array_equal(merged.u, u) and np.array_equal(merged.pos + merged.neg, cnt)
    assert np.array_equal(merged.pos, np.array([y[s == v].sum() for v in u]))
    ss, yy = rows_of(merged)
    assert np.array_equal(ss, np.sort(s)) and yy.sum() == y.sum()
    assert mixed_ties(merged) == int(sum(0 < y[s == v].sum() < (s == v).sum() for v in u))
    # the confusion counts at every cut are scikit-learn's on all rows
    from readiness.checks.business import _cuts

    cuts = _cuts(ss, yy)
    tp, fp, tn, fn = cuts.counts()
    for k in (0, 7, 25, len(u)):
        t = cuts.thresholds[k]
        (tn_, fp_), (fn_, tp_) = confusion_matrix(y, (s >= t).astype(int), labels=[0, 1])
        assert (tp[k], fp[k], tn[k], fn[k]) == (tp_, fp_, tn_, fn_)


def test_engine_equals_in_memory_and_sklearn(world):
    st = settings()
    mem, eng = in_memory(world, st), on_engine(world, st)
    same(mem, eng)
    assert eng.metrics["basis"]["kind"] == "exact" and eng.metrics["basis"]["rows"] == N_TEST
    assert eng.metrics["mixed_ties"] == 0  # logistic scores: the bootstrap is the in-memory one bit for bit
    # independent: the counts at the review threshold on all rows
    import skops.io as sio

    hold = pd.read_parquet(world["holdout"])
    model = sio.loads(world["model"].read_bytes(), trusted=sio.get_untrusted_types(data=world["model"].read_bytes()))
    p = model.predict_proba(hold.drop(columns=["default", "group"]))[:, 1]
    y = hold["default"].to_numpy()
    (tn, fp), (fn, tp) = confusion_matrix(y, (p >= 0.5).astype(int), labels=[0, 1])
    cur = eng.metrics["current"]
    assert (cur["tp"], cur["fp"], cur["tn"], cur["fn"]) == (tp, fp, tn, fn)
    # the cheapest threshold's cost: every distinct score as threshold, and flagging no one (equal costs)
    pos, neg = np.sort(p[y == 1]), np.sort(p[y == 0])
    u = np.unique(p)
    cost = (len(neg) - np.searchsorted(neg, u, side="left")) + np.searchsorted(pos, u, side="left")
    best = min(int(cost.min()), len(pos))
    assert eng.metrics["optimal"]["cost_per_1000"] == pytest.approx(1000 * best / len(p), rel=1e-12)
    assert eng.metrics["flag_all_cost_per_1000"] == pytest.approx(1000 * len(neg) / len(p), rel=1e-12)


def test_planted_defect_found_and_clean_control_passes(world):
    bad = settings(threshold=0.95, cost_fn=2.0)  # misses are dear, yet the threshold flags almost no one
    eng_bad = on_engine(world, bad)
    same(in_memory(world, bad), eng_bad)
    assert eng_bad.status == "warn" and eng_bad.metrics["savings_ci"][0] > 0
    good_thr = eng_bad.metrics["optimal"]["threshold"]
    good = settings(threshold=good_thr, cost_fn=2.0)
    eng_good = on_engine(world, good)
    assert eng_good.status == "pass" and eng_good.metrics["savings_per_1000"] == 0


def test_repartitioning_gives_identical_results(world, tmp_path):
    from engines_world import write_dataset

    st = settings(cost_fn=3.0)
    a = on_engine(world, st)
    hold = pd.read_parquet(world["holdout"])
    other = write_dataset(hold.sample(frac=1.0, random_state=5), tmp_path / "holdout", 3)
    b = on_engine(world, st, engine=LocalEngine(batch_rows=4_100), holdout=other)
    assert a.status == b.status and a.metrics["curve"] == b.metrics["curve"]
    assert a.metrics["optimal"] == b.metrics["optimal"] and a.metrics["savings_ci"] == b.metrics["savings_ci"]


def _small_on(engine, world):
    st = settings(cost_fn=3.0)
    same(in_memory(world, st), on_engine(world, st, engine=engine))


@pytest.mark.slow
def test_dask_local_cluster_same(world):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _small_on(DaskEngine(n_workers=2), world)


@pytest.mark.slow
def test_spark_local_mode_same(world):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _small_on(SparkEngine("local[2]"), world)
