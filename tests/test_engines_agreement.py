"""Agreement: the review and the monitor on Dask (a real LocalCluster of worker processes) and on
Spark (local mode) give the same statuses as the local review, identical counts and the same
figures (relative 1e-9; ROC AUC within its stated histogram error), on 300,000 holdout rows
with a planted drift and a planted group disparity. Counts are also checked against an
independent computation (pandas / scikit-learn on the whole data).

The engines need the [dask] and [spark] extras: without them these tests skip, unless
READINESS_REQUIRE_ENGINES=1 (CI), where a missing engine fails.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from engines_world import build, close, make_rows, unbootstrapped, write_dataset

REQUIRE = os.environ.get("READINESS_REQUIRE_ENGINES") == "1"
N_TRAIN, N_TEST, N_BATCH, SAMPLE = 100_000, 300_000, 100_000, 50_000
CHECKS = ["data_quality.completeness", "data_quality.integrity", "leakage.train_test_overlap", "evaluation.holdout",
          "drift.features", "bias.groups", "monitoring.reference", "business.threshold", "calibration"]
EXACT = {"data_quality.completeness", "data_quality.integrity", "leakage.train_test_overlap", "evaluation.holdout",
         "bias.groups", "drift.features", "business.threshold", "calibration"}
# calibration: what rests on the engine's sample (the recalibration preview) or is formed otherwise (intervals)
CALIBRATION_APART = ("basis", "interval_methods", "on_sample", "mixed_ties_at_cuts", "recalibration", "brier_ci",
                     "ece_ci")


def need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        if REQUIRE:
            pytest.fail(f"READINESS_REQUIRE_ENGINES=1 but {module} is not installed (pip install -e '.[{extra}]')")
        pytest.skip(f"{module} is not installed: the {extra} engine is tested with the [{extra}] extra")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    paths = build(root, n_train=N_TRAIN, n_test=N_TEST, parts=6)
    batch = make_rows(N_BATCH, 7, holdout=True)
    batch["income"] += 5  # planted: the batch drifts further from the review's holdout
    paths["batch"] = write_dataset(batch, root / "batch", 4)
    return paths


def _roles():
    from readiness.inputs import Roles

    return Roles(target="default", sensitive=["group"])


def _report_in_memory(world):
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    ctx = prepare_review(train=world["train"], test=world["holdout"], roles=_roles(),
                         model=world["model"].read_bytes(), model_name="model.skops", settings=Settings())
    return run_review(ctx, checks=CHECKS)


def _report_on(engine, world):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings

    try:
        er = prepare(engine, train=world["train"], test=world["holdout"], roles=_roles(), settings=Settings(),
                     model=world["model"].read_bytes(), model_name="model.skops", trusted=None, sample_rows=SAMPLE)
        return run(er, checks=CHECKS)
    finally:
        engine.close()


def _monitor(world, review_json: Path, engine=None):
    from readiness.inputs import load_model, load_table
    from readiness.monitor.run import load_review, monitor_batch

    review = load_review(review_json)
    data = world["model"].read_bytes()
    model = load_model(data, name="model.skops")
    if engine is None:
        return monitor_batch(review, load_table(world["batch"], role="batch"), model=model, target="default")
    from readiness.engines.monitor import monitor_on_engine

    try:
        return monitor_on_engine(engine, review, world["batch"], model=model, model_bytes=data, target="default")
    finally:
        engine.close()


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    """The in-memory review (today's path), its JSON for the monitor, and the in-memory monitor result."""
    report = _report_in_memory(world)
    path = tmp_path_factory.mktemp("ref") / "review.json"
    path.write_text(report.to_json())
    return report, path, _monitor(world, path)


@pytest.fixture(scope="module")
def streamed(world, reference):
    """The local engine streaming the dataset in Arrow record batches (the engine path without a cluster)."""
    from readiness.engines.base import LocalEngine

    return _report_on(LocalEngine(batch_rows=40_000), world), _monitor(world, reference[1], LocalEngine(batch_rows=30_000))


def _assert_exact_agrees(local, engine):
    """Exact checks on an engine against the in-memory review: statuses, counts and figures."""
    for cid in EXACT:
        a, b = local.check(cid), engine.check(cid)
        assert a.status == b.status, cid
        assert b.metrics["basis"]["kind"] == "exact" and b.metrics["basis"]["rows"] == N_TEST
    comp_a, comp_b = local.check("data_quality.completeness"), engine.check("data_quality.completeness")
    assert close({k: v for k, v in comp_a.metrics.items()}, {k: v for k, v in comp_b.metrics.items() if k != "basis"}) == []
    assert [f.message for f in comp_a.findings] == [f.message for f in comp_b.findings]
    for cid in ("data_quality.integrity", "leakage.train_test_overlap"):  # row hashes grouped on the engine
        a, b = local.check(cid), engine.check(cid)
        assert close({k: v for k, v in a.metrics.items() if k != "examples"},
                     {k: v for k, v in b.metrics.items() if k not in ("basis", "examples")}) == [], cid
        assert [f.message for f in a.findings] == [f.message for f in b.findings], cid
    ev_a, ev_b = local.check("evaluation.holdout").metrics, engine.check("evaluation.holdout").metrics
    for key in ("n", "accuracy", "accuracy_ci", "majority_class_rate", "confusion_matrix", "class_counts", "prevalence",
                "recall", "recall_ci", "precision", "precision_ci", "balanced_accuracy", "log_loss"):
        assert close(ev_a[key], ev_b[key], key) == []
    assert abs(ev_a["roc_auc"] - ev_b["roc_auc"]) <= ev_b["roc_auc_max_error"] < 1e-3
    bias_a, bias_b = local.check("bias.groups"), engine.check("bias.groups")  # per-group counts on every row
    assert close(unbootstrapped(bias_a.metrics),
                 unbootstrapped({k: v for k, v in bias_b.metrics.items() if k not in ("basis", "interval_methods")})) == []
    assert [f.message for f in bias_a.findings] == [f.message for f in bias_b.findings]
    drift_a, drift_b = local.check("drift.features"), engine.check("drift.features")  # bins counted on every row
    assert close(drift_a.metrics, {k: v for k, v in drift_b.metrics.items() if k != "basis"}) == []
    assert [f.message for f in drift_a.findings] == [f.message for f in drift_b.findings]
    biz_a, biz_b = local.check("business.threshold"), engine.check("business.threshold")  # rows per distinct score
    boot = () if biz_b.metrics["mixed_ties"] == 0 else ("optimal", "savings_ci", "model_advantage_ci", "bayes", "bootstrap")
    assert close({k: v for k, v in biz_a.metrics.items() if k not in boot},
                 {k: v for k, v in biz_b.metrics.items() if k not in ("basis", "interval_methods", "mixed_ties", *boot)}) == []
    if not boot:  # no score shared by both classes: the bootstrap's draws are the in-memory ones
        assert [f.message for f in biz_a.findings] == [f.message for f in biz_b.findings]
    cal_a, cal_b = local.check("calibration"), engine.check("calibration")  # bin sums over every row
    assert cal_b.metrics["on_sample"]["keys"] == ["recalibration"] and cal_b.metrics["mixed_ties_at_cuts"] == 0
    assert close({k: v for k, v in cal_a.metrics.items() if k not in CALIBRATION_APART},
                 {k: v for k, v in cal_b.metrics.items() if k not in CALIBRATION_APART}) == []

    def calibration_messages(r):  # the recalibration preview's finding quotes the sample's figures
        return [f.message for f in r.findings if not f.message.startswith("A cheap fix is likely")]

    assert calibration_messages(cal_a) == calibration_messages(cal_b)



def _assert_monitor_agrees(a, b):
    assert [(t.id, t.fired) for t in a.tests] == [(t.id, t.fired) for t in b.tests]
    assert b.batch["basis"] == {"kind": "exact", "engine": b.batch["basis"]["engine"], "rows": N_BATCH}
    assert close(a.features, b.features) == []
    assert close(a.predictions, b.predictions) == []
    assert close(a.estimated, b.estimated) == []
    ra, rb = dict(a.realised), dict(b.realised)
    err = rb.pop("roc_auc_max_error")
    rb.pop("roc_auc_bins")
    assert abs(ra.pop("roc_auc") - rb.pop("roc_auc")) <= err < 1e-3
    ra.pop("roc_auc_ci"), rb.pop("roc_auc_ci")
    assert close(ra, rb) == []
    assert close([t.value for t in a.tests if t.id != "accuracy"], [t.value for t in b.tests if t.id != "accuracy"]) == []


@pytest.mark.slow
def test_known_answers_and_planted_defects(world, reference):
    """The in-memory review finds what was planted, and its counts match pandas / scikit-learn on all rows."""
    from sklearn.metrics import confusion_matrix, roc_auc_score

    from readiness.inputs import load_model

    report, _, monitored = reference
    holdout = pd.read_parquet(world["holdout"])
    model = load_model(world["model"].read_bytes(), name="model.skops", sandbox=False).estimator
    p = model.predict_proba(holdout.drop(columns=["default", "group"]))[:, 1]
    ev = report.check("evaluation.holdout").metrics
    assert ev["confusion_matrix"]["matrix"] == confusion_matrix(holdout["default"], (p >= 0.5).astype(int)).tolist()
    assert ev["roc_auc"] == pytest.approx(roc_auc_score(holdout["default"], p), rel=1e-9)
    comp = report.check("data_quality.completeness").metrics["columns"]
    assert comp["tenure"]["missing_test"] == int(holdout["tenure"].isna().sum())
    assert comp["debt"]["sentinels"] == {"-999": int((holdout["debt"] == -999).sum()
                                                     + (pd.read_parquet(world["train"])["debt"] == -999).sum())}
    train = pd.read_parquet(world["train"])
    integrity, overlap = report.check("data_quality.integrity").metrics, report.check("leakage.train_test_overlap").metrics
    assert integrity["duplicate_rows_train"] == int(train.duplicated().sum())
    assert integrity["duplicate_rows_test"] == int(holdout.duplicated().sum())
    assert overlap["overlap_test_rows"] == len(holdout.merge(train.drop_duplicates(), how="inner"))
    drift = report.check("drift.features")
    assert drift.status.value in ("warn", "fail") and drift.metrics["ranked"][0] == "income"
    bias = report.check("bias.groups")
    assert bias.status.value in ("warn", "fail") and any("group" in f.message for f in bias.findings)
    for g in ("a", "b"):
        m = (holdout["group"] == g).to_numpy()
        tn, fp, fn, tp = confusion_matrix(holdout["default"][m], (p[m] >= 0.5).astype(int), labels=[0, 1]).ravel()
        got = bias.metrics["groups"]["group"][g]
        assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)
    assert any(t.fired and t.id == "feature_drift:income" for t in monitored.tests)


@pytest.mark.slow
def test_local_streaming_agrees(reference, streamed):
    _assert_exact_agrees(reference[0], streamed[0])
    _assert_monitor_agrees(reference[2], streamed[1])


@pytest.mark.slow
def test_dask_local_cluster_agrees(world, reference, streamed):
    need("distributed", "dask")
    from readiness.engines.base import DaskEngine

    engine = DaskEngine(n_workers=2)
    assert len(engine.client.scheduler_info()["workers"]) == 2  # worker processes, not threads of this one
    report = _report_on(engine, world)
    _assert_exact_agrees(reference[0], report)
    for a, b in zip(streamed[0].checks, report.checks, strict=True):  # every check, sampled too: the same rows
        assert a.status == b.status and close({k: v for k, v in a.metrics.items() if k != "basis"},
                                              {k: v for k, v in b.metrics.items() if k != "basis"}) == [], a.id
    _assert_monitor_agrees(reference[2], _monitor(world, reference[1], DaskEngine(n_workers=2)))


@pytest.mark.slow
def test_spark_local_mode_agrees(world, reference, streamed):
    need("pyspark", "spark")
    from readiness.engines.base import SparkEngine

    report = _report_on(SparkEngine("local[2]"), world)
    _assert_exact_agrees(reference[0], report)
    for a, b in zip(streamed[0].checks, report.checks, strict=True):
        assert a.status == b.status and close({k: v for k, v in a.metrics.items() if k != "basis"},
                                              {k: v for k, v in b.metrics.items() if k != "basis"}) == [], a.id
    _assert_monitor_agrees(reference[2], _monitor(world, reference[1], SparkEngine("local[2]")))


@pytest.mark.slow
def test_a_local_dask_cluster_starts_when_the_main_module_is_a_script_that_cannot_run_twice(tmp_path, monkeypatch):
    """Inside Streamlit (and after its AppTest) ``__main__`` is the app's page script; spawned workers used to
    re-run it and die ('Nanny failed to start worker process' in CI after the app tests)."""
    need("distributed", "dask")
    import types

    from readiness.engines.base import DaskEngine

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('this page script must not run in a worker')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    engine = DaskEngine(n_workers=1)
    try:
        assert len(engine.client.scheduler_info()["workers"]) == 1
        assert sys.modules["__main__"] is fake  # restored for the caller
    finally:
        engine.close()
