"""``evaluation.holdout`` and ``evaluation.holdout_reuse`` of a regression model exact on the engines
(readiness.engines.exact_regression): sums over every holdout row give scikit-learn's MAE, RMSE and R² on
all rows; the engine's result equals the in-memory check's on the same rows (statuses, figures, messages)
but for the intervals, closed-form from sums where memory bootstraps (named in ``interval_methods``), and
the error-by-decile table and scatter points, which stay on the sample; a biased model fails, a clean
control passes; the partitioning does not change the result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines_world import close, make_rows, write_dataset

from readiness.engines.base import LocalEngine

CHECKS = ["evaluation.holdout", "evaluation.holdout_reuse"]
FEATURES = ["income", "debt", "channel"]
ON_SAMPLE = ("basis", "interval_methods", "on_sample", "by_decile", "points", "mae_ci", "rmse_ci", "r2_ci",
             "ci", "ci_method", "ci_widened", "intervals")


def rows(n, seed):
    f = make_rows(n, seed, holdout=False)[["income", "debt", "channel", "group"]]
    noise = np.random.default_rng(seed).normal(0, 3.0, n)
    f["spend"] = 0.5 * f["income"] - 0.2 * f["debt"].clip(lower=0) + 2.0 * (f["channel"] == "web") + noise
    return f


def fit(train, offset=0.0):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["channel"])], remainder="passthrough")
    return make_pipeline(pre, LinearRegression()).fit(train[FEATURES], train["spend"] + offset)


@pytest.fixture(scope="module")
def data():
    train, test = rows(5000, 31), rows(12000, 32)
    return train, test, fit(train)


def both(tmp_path, train, test, model, engine=None, parts=5, batch_rows=2_500):
    import skops.io as sio

    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings, prepare_review
    from readiness.review import run_review

    r = Roles(target="spend", exclude=["group"])
    data = sio.dumps(model)
    tr, te = write_dataset(train, tmp_path / "train", 2), write_dataset(test, tmp_path / "test", parts)
    ctx = prepare_review(train=tr, test=te, roles=r, model=data, model_name="m.skops", settings=Settings())
    local = run_review(ctx, checks=CHECKS)
    er = prepare(engine or LocalEngine(batch_rows=batch_rows), train=tr, test=te, roles=r, settings=Settings(),
                 model=data, model_name="m.skops", trusted=None, sample_rows=1_500)
    try:
        return local, run(er, checks=CHECKS)
    finally:
        er.engine.close() if hasattr(er, "engine") else None


def without(m: dict) -> dict:
    """Leave out the sample's figures and the intervals (and the reuse intervals widened from them)."""
    return {k: v for k, v in m.items() if k not in ON_SAMPLE and not k.startswith(("ci_", "interval_"))}


def test_sums_give_sklearns_metrics_and_the_intervals_cover_the_bootstraps():
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    from readiness.engines.exact_regression import figures, partition
    from readiness.engines.summaries import merge_all
    from readiness.stats import bootstrap_ci

    rng = np.random.default_rng(5)
    n = 20_000
    y = 1e4 + rng.gamma(2.0, 50.0, n)  # far from zero: the centring keeps the sums well conditioned
    s = y + rng.normal(5, 40, n)
    s[:7] = np.nan
    frame = pd.DataFrame({"y": y})
    parts = [partition(frame.iloc[i:i + 3000], s[i:i + 3000], "y", 1e4 + 90.0) for i in range(0, n, 3000)]
    merged = merge_all(parts)
    assert merged["unscored"] == 7
    m = figures(merged["sums"])
    ok = ~np.isnan(s)
    assert m["n"] == ok.sum()
    assert m["mae"] == pytest.approx(mean_absolute_error(y[ok], s[ok]), rel=1e-9)
    assert m["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y[ok], s[ok])), rel=1e-9)
    assert m["r2"] == pytest.approx(r2_score(y[ok], s[ok]), rel=1e-9)
    assert m["target_std"] == pytest.approx(np.std(y[ok]), rel=1e-9)
    # the closed forms agree with the percentile bootstrap the in-memory check uses (to its Monte Carlo error)
    for key, fn in (("mae_ci", mean_absolute_error), ("r2_ci", r2_score),
                    ("rmse_ci", lambda a, b: float(np.sqrt(np.mean((a - b) ** 2))))):
        boot = bootstrap_ci(fn, y[ok], s[ok], n_boot=400, seed=0)
        width = boot[1] - boot[0]
        assert abs(m[key][0] - boot[0]) < 0.1 * width and abs(m[key][1] - boot[1]) < 0.1 * width, key


def test_engine_equals_in_memory_and_sklearn_on_all_rows(tmp_path, data):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    train, test, model = data
    local, eng = both(tmp_path, train, test, model)
    p = model.predict(test[FEATURES])
    for cid in CHECKS:
        a, b = local.check(cid), eng.check(cid)
        assert b.metrics["basis"]["kind"] == "exact", cid
        assert a.status == b.status, cid
        assert close(without(a.metrics), without(b.metrics)) == [], cid
        if cid == "evaluation.holdout":  # holdout_reuse's messages quote the widened interval
            assert [f.message for f in a.findings] == [f.message for f in b.findings], cid
    h = eng.check("evaluation.holdout").metrics
    assert h["n"] == len(test)
    assert h["mae"] == pytest.approx(mean_absolute_error(test["spend"], p), rel=1e-9)
    assert h["rmse"] == pytest.approx(np.sqrt(mean_squared_error(test["spend"], p)), rel=1e-9)
    assert h["r2"] == pytest.approx(r2_score(test["spend"], p), rel=1e-9)
    assert set(h["interval_methods"]) == {"mae_ci", "rmse_ci", "r2_ci"}
    assert h["on_sample"]["keys"] == ["by_decile", "points"] and h["on_sample"]["rows"] == 1_500
    reuse = eng.check("evaluation.holdout_reuse").metrics
    assert reuse["value"] == h["r2"] and reuse["ci"] == h["r2_ci"]  # one figure on both pages
    assert eng.check("evaluation.holdout").status.value == "pass"  # the clean control
    assert eng.check("evaluation.holdout").summary.endswith(f"on {len(test):,} holdout rows.")


def test_a_biased_model_fails_on_the_engine_as_in_memory(tmp_path, data):
    train, test, _ = data
    biased = fit(train, offset=30.0)  # every prediction 30 too high: worse than the mean
    local, eng = both(tmp_path, train, test, biased)
    a, b = local.check("evaluation.holdout"), eng.check("evaluation.holdout")
    assert a.status.value == b.status.value == "fail"
    assert b.metrics["r2"] < 0 and b.metrics["r2_ci"][1] <= 0
    assert [f.message for f in a.findings] == [f.message for f in b.findings]
    assert any("no better than predicting the mean" in f.message for f in b.findings)


def test_repartitioning_gives_the_same_result(tmp_path, data):
    train, test, model = data
    _, one = both(tmp_path / "a", train, test, model, parts=2, batch_rows=7_000)
    _, other = both(tmp_path / "b", train, test, model, parts=7, batch_rows=900)
    for cid in CHECKS:
        files = ("basis", "holdout_sha256", "holdout_source", "evaluation_digest")  # other files, same rows
        x, y = ({k: v for k, v in r.check(cid).metrics.items() if k not in files} for r in (one, other))
        assert close(x, y) == [], cid
        assert one.check(cid).summary == other.check(cid).summary


def _small_on(engine, tmp_path, data):
    train, test, model = data
    local, eng = both(tmp_path, train, test, model, engine=engine)
    for cid in CHECKS:
        a, b = local.check(cid), eng.check(cid)
        assert a.status == b.status and close(without(a.metrics), without(b.metrics)) == [], cid
    a, b = local.check("evaluation.holdout"), eng.check("evaluation.holdout")
    assert [f.message for f in a.findings] == [f.message for f in b.findings]


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same(tmp_path, data):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _small_on(DaskEngine(n_workers=2), tmp_path, data)


@pytest.mark.slow
def test_spark_local_mode_gives_the_same(tmp_path, data):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _small_on(SparkEngine("local[2]"), tmp_path, data)


def test_holdout_page_says_the_plots_are_on_the_sample(tmp_path, data):
    from pathlib import Path

    import skops.io as sio
    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings

    train, test, model = data
    tr, te = write_dataset(train, tmp_path / "train", 2), write_dataset(test, tmp_path / "test", 3)
    er = prepare(LocalEngine(batch_rows=4_000), train=tr, test=te, roles=Roles(target="spend", exclude=["group"]),
                 settings=Settings(), model=sio.dumps(model), model_name="m.skops", trusted=None, sample_rows=1_500)
    report = run(er, checks=["evaluation.holdout"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=er.ctx, report=report, title="engine", is_sample=False)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 3
    text = " ".join(c.value for c in at.caption)
    assert "sample of 1,500 holdout rows" in text and "on all 12,000 rows" in text
