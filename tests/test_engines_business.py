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
    try:
        return run(er, checks=[CID]).check(CID)
    finally:
        er.engine.close()  # a Dask cluster or Spark session left open outlives the test in the process


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


# --- above the row limit: the figures from counts; above the distinct cap: the sample ----------------------

BOOT = ("threshold_ci", "savings_ci", "model_advantage_ci", "within_ci", "used")  # the bootstrap's figures


def unboot(x):
    """A JSON value without the bootstrap's figures (those differ between a row and a cell bootstrap)."""
    if isinstance(x, dict):
        return {k: unboot(v) for k, v in x.items() if k not in BOOT}
    return x


def _data(kind: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    s = {"continuous": rng.random(n), "ties": rng.integers(0, 300, n) / 300, "few": rng.integers(0, 6, n) / 5,
         "rare": rng.random(n) ** 3}[kind]
    y = (rng.random(n) < (s if kind != "rare" else s / 10)).astype(int)
    return s, y


@pytest.mark.parametrize("kind", ["continuous", "ties", "few", "rare"])
@pytest.mark.parametrize("kw", [dict(threshold=0.5, cost_fp=1.0, cost_fn=4.0, probabilities=True, target_accuracy=0.7,
                                     target_recall=0.9),
                                dict(threshold=0.93, cost_fp=2.0, cost_fn=1.0, target_accuracy=0.99, target_recall=0.5)])
def test_counts_path_equals_the_rows_path(kind, kw):
    """analyse_counts on the per-score counts == analyse_scores on the rows (every figure but the bootstrap's),
    with ties of both classes and without; the ROC AUC interval == stats.auc_ci on the rows."""
    from readiness.checks.business import analyse_counts, analyse_scores
    from readiness.engines.exact_business import partition
    from readiness.stats import auc_ci

    s, y = _data(kind, 9_000, 4)
    c = partition(s, y)
    rows = analyse_scores(s, y, n_boot=40, **kw)
    cells = analyse_counts(c.u, c.pos, c.neg, n_boot=40, **kw)
    assert set(rows) == set(cells)
    assert close(unboot(rows), unboot(cells)) == []
    assert close(list(auc_ci(y, s)), cells["roc_auc_ci"]) == []
    assert all(v is not None for v in cells["savings_ci"] + cells["model_advantage_ci"] + cells["optimal"]["threshold_ci"])


@pytest.mark.parametrize("m_pos, m_neg", [(1, 40), (40, 1), (2, 2), (300, 5_000)])
def test_auc_interval_from_counts_equals_stats_auc_ci(m_pos, m_neg):
    from readiness.checks.business import auc_ci_counts
    from readiness.engines.exact_business import partition
    from readiness.stats import auc_ci

    rng = np.random.default_rng(m_pos + m_neg)
    for rounding in (None, 1, 2):
        s = np.concatenate([rng.normal(1, 1, m_pos), rng.normal(0, 1.5, m_neg)])
        s = s if rounding is None else s.round(rounding)
        y = np.r_[np.ones(m_pos, int), np.zeros(m_neg, int)]
        c = partition(s, y)
        assert close(list(auc_ci(y, s)), list(auc_ci_counts(c.pos, c.neg))) == []


def test_cell_bootstrap_matches_the_row_bootstrap_in_distribution():
    """In-bag draws per cell are the row bootstrap's (multinomial); single-row cells are out of bag exactly when
    not drawn; the intervals are those of the row bootstrap up to resampling noise."""
    from readiness.checks.business import _cell_draws, analyse_counts, analyse_scores
    from readiness.engines.exact_business import partition

    w = np.array([1, 1, 5, 2, 1, 30])
    draws = list(_cell_draws(w, int(w.sum()), 2_000, 1))
    inbag = np.array([d for d, _ in draws])
    oob = np.array([o for _, o in draws])
    assert (inbag.sum(axis=1) == w.sum()).all() and (oob <= w).all()
    assert np.allclose(inbag.mean(axis=0), w, rtol=0.1)
    assert (oob[:, [0, 1, 4]] == (inbag[:, [0, 1, 4]] == 0)).all()
    # E[out of bag] = m(1 - 1/n)^n ≈ m/e per cell
    assert np.allclose(oob.mean(axis=0), w * (1 - 1 / w.sum()) ** w.sum(), rtol=0.15)
    s, y = _data("ties", 20_000, 9)
    c = partition(s, y)
    kw = dict(threshold=0.5, cost_fp=1.0, cost_fn=4.0, n_boot=200)
    rows, cells = analyse_scores(s, y, **kw), analyse_counts(c.u, c.pos, c.neg, **kw)
    for key in ("savings_ci", "model_advantage_ci"):
        width = rows[key][1] - rows[key][0]
        assert abs(cells[key][0] - rows[key][0]) < 0.35 * width and abs(cells[key][1] - rows[key][1]) < 0.35 * width


def test_partition_bound_and_merge_cap():
    from readiness.engines.exact_business import Limit, ScoreCounts, TooManyScores, partition
    from readiness.engines.summaries import merge_all

    s, y = _data("continuous", 3_000, 2)
    bound = Limit(distinct=5_000, rows=30_000)  # a share of 500 per 3,000 rows; at least 1,000
    assert isinstance(partition(s, y, bound), TooManyScores)
    assert isinstance(partition(s[:900], y[:900], bound), ScoreCounts)
    few = (s * 50).round() / 50
    parts = [partition(few[i::3], y[i::3], Limit(distinct=40, rows=3_000)) for i in range(3)]
    assert all(isinstance(p, ScoreCounts) for p in parts)  # 51 distinct each, within the floor
    assert isinstance(merge_all([{"b": p} for p in parts])["b"], TooManyScores)  # the merge holds 51 > 40
    ok = merge_all([{"b": p} for p in [partition(few[i::3], y[i::3], Limit(distinct=60, rows=3_000))
                                       for i in range(3)]])["b"]
    assert isinstance(ok, ScoreCounts) and int(ok.pos.sum() + ok.neg.sum()) == 3_000
    assert isinstance(merge_all([{"b": parts[0]}, {"b": TooManyScores(40)}, {"b": parts[1]}])["b"], TooManyScores)


def test_above_the_row_limit_the_figures_come_from_counts(world, monkeypatch):
    """READINESS_BUSINESS_ROWS below the holdout: no rows laid out; every figure but the bootstrap's is the
    in-memory check's; the planted threshold is still found and its optimum passes."""
    import readiness.engines.exact_business as xb

    monkeypatch.setenv(xb.ROWS_ENV, "5000")
    monkeypatch.setattr(xb, "rows_of", lambda c: pytest.fail("rows laid out above the row limit"))
    bad = settings(threshold=0.95, cost_fn=2.0)
    mem, eng = in_memory(world, bad), on_engine(world, bad)
    assert eng.metrics["basis"]["kind"] == "exact" and eng.metrics["basis"]["rows"] == N_TEST
    assert "cells" in eng.metrics["interval_methods"]["savings_ci"]
    assert close(unboot(without(mem.metrics)), unboot(without(eng.metrics))) == []
    assert eng.status == mem.status == "warn" and eng.metrics["savings_ci"][0] > 0
    good = settings(threshold=eng.metrics["optimal"]["threshold"], cost_fn=2.0)
    eng_good = on_engine(world, good)
    assert eng_good.status == "pass" and eng_good.metrics["savings_per_1000"] == 0


BY_DESIGN = ("curve", "roc_auc_ci", "ranks_cases", "distinct_scores", "score_cells", "score_bins", "bootstrap")


def by_design(x):
    """Without the figures score bins change by design (exact_business.complete): the bootstrap's, the drawn
    curve (at the cells' cuts), the ROC AUC interval (a bin's rows tied), the count of distinct scores."""
    x = unboot(x)
    return {k: v for k, v in x.items() if k not in BY_DESIGN} if isinstance(x, dict) else x


def test_too_many_distinct_scores_use_score_bins(world, monkeypatch):
    """Above the row limit, partitions holding more than their share of the distinct cap send score bins: the
    bins that can hold a figure are counted again score by score; the figures are the in-memory check's on
    every row, the planted threshold is found, and its optimum passes."""
    import readiness.engines.exact_business as xb

    monkeypatch.setenv(xb.ROWS_ENV, "5000")
    monkeypatch.setenv(xb.DISTINCT_ENV, "2000")
    bad = settings(threshold=0.95, cost_fn=2.0, target_accuracy=0.7)
    mem, eng = in_memory(world, bad), on_engine(world, bad)
    b = eng.metrics["basis"]
    assert b["kind"] == "exact" and b["rows"] == N_TEST and "why" not in b
    bins = eng.metrics["score_bins"]
    assert bins["whole"] > 0 and bins["split_scores"] > 0 and eng.metrics["distinct_scores"] is None
    assert "score bins stay whole" in eng.metrics["interval_methods"]["savings_ci"]
    assert by_design(mem.metrics) == by_design(without(eng.metrics))
    assert eng.status == mem.status == "warn" and eng.metrics["savings_ci"][0] > 0
    passes = []
    monkeypatch.setattr(xb, "plan", lambda *a: ())  # the first pass splits no bin: the second finds them all
    real = xb.complete
    monkeypatch.setattr(xb, "complete", lambda ctx, summary, first, bin_of, count_again, **k: real(
        ctx, summary, first, bin_of, lambda bins: (passes.append(bins), count_again(bins))[1], **k))
    again = on_engine(world, bad)
    assert len(passes) == 1 and by_design(without(again.metrics)) == by_design(without(eng.metrics))
    good = settings(threshold=eng.metrics["optimal"]["threshold"], cost_fn=2.0)
    eng_good = on_engine(world, good)
    assert eng_good.status == "pass" and eng_good.metrics["savings_per_1000"] == 0


def test_sub_bins_when_the_bins_to_split_hold_too_many_rows(world, monkeypatch):
    """The bins to split hold more rows than READINESS_BUSINESS_REFINE: a pass cuts them into sub-bins, a third
    splits the sub-bins that can hold a figure by score; the figures are still the in-memory check's."""
    import readiness.engines.exact_business as xb

    monkeypatch.setenv(xb.ROWS_ENV, "5000")
    monkeypatch.setenv(xb.DISTINCT_ENV, "2000")
    monkeypatch.setenv(xb.REFINE_ENV, "40")
    monkeypatch.setattr(xb, "SUB_CELLS", 64)
    monkeypatch.setattr(xb, "plan", lambda *a: ())
    st = settings(threshold=0.9, cost_fn=3.0, target_accuracy=0.75)
    eng = on_engine(world, st)
    split = eng.metrics["score_bins"]
    assert eng.metrics["basis"]["kind"] == "exact" and split["sub_bins"] > 0 and split["sub_parts"] >= 2
    assert by_design(in_memory(world, st).metrics) == by_design(without(eng.metrics))


def test_score_bins_too_full_run_on_the_sample(world, monkeypatch):
    """The bins that can hold a figure hold more rows than READINESS_BUSINESS_REFINE: the check runs on the
    engine's sample, as the in-memory check of that sample, and says why."""
    import readiness.engines.exact_business as xb

    monkeypatch.setenv(xb.ROWS_ENV, "5000")
    monkeypatch.setenv(xb.DISTINCT_ENV, "2000")
    monkeypatch.setenv(xb.REFINE_ENV, "3")
    st = settings(cost_fn=3.0)
    eng = on_engine(world, st)
    b = eng.metrics["basis"]
    assert b["kind"] == "sample" and b["rows"] == SAMPLE and b["of_rows"] == N_TEST
    assert "counted score by score" in b["why"] and "sample" in b["why"]
    # what the CLI, the pages and the PDF print under the check's title
    from readiness.fmt import basis_text

    assert basis_text(eng.metrics) == f"sample of {SAMPLE:,} of {N_TEST:,} holdout rows (local): {b['why']}"
    assert eng.metrics["n"] == SAMPLE  # the check's own figures, on the sample's rows
    assert "interval_methods" not in eng.metrics  # the in-memory check's own bootstrap, on the sample


def _small_on(engine, world):
    st = settings(cost_fn=3.0)
    same(in_memory(world, st), on_engine(world, st, engine=engine))


def _bins_on(engine_factory, world, monkeypatch):
    """Score bins on a real engine (the second pass scores every partition on the workers again): the same
    figures as the local engine's bins and, but for what bins change by design, as the in-memory check."""
    import readiness.engines.exact_business as xb

    monkeypatch.setenv(xb.ROWS_ENV, "5000")
    monkeypatch.setenv(xb.DISTINCT_ENV, "2000")
    st = settings(threshold=0.9, cost_fn=3.0, target_accuracy=0.75)
    monkeypatch.setattr(xb, "plan", lambda *a: ())  # the first pass splits no bin: the workers score again
    local = on_engine(world, st)
    eng = on_engine(world, st, engine=engine_factory())
    monkeypatch.setenv(xb.REFINE_ENV, "40")  # and again with sub-bins: three passes on the workers
    monkeypatch.setattr(xb, "SUB_CELLS", 64)
    sub = on_engine(world, st, engine=engine_factory())
    assert sub.metrics["score_bins"]["sub_bins"] > 0 and by_design(without(sub.metrics)) == by_design(
        without(eng.metrics))
    assert eng.status == local.status and eng.summary == local.summary
    assert close(without(local.metrics), without(eng.metrics)) == []
    assert eng.metrics["score_bins"]["whole"] > 0
    assert by_design(in_memory(world, st).metrics) == by_design(without(eng.metrics))


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


@pytest.mark.slow
def test_dask_score_bins_same(world, monkeypatch):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _bins_on(lambda: DaskEngine(n_workers=2), world, monkeypatch)


@pytest.mark.slow
def test_spark_score_bins_same(world, monkeypatch):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _bins_on(lambda: SparkEngine("local[2]"), world, monkeypatch)
