"""``comparison.champion`` exact on the engines (readiness.engines.exact_champion): the current model is
loaded on the driver (isolated child, the same loader and trust rule as in memory), then scored on every
holdout partition from its bytes, and the paired counts and sums merged. The check equals the in-memory
check on the same rows (status, summary, every metric at rel 1e-9, findings) for binary (with and without
costs, a favourable label, a champion given as a prediction column with missing scores), multiclass and
regression; the McNemar table equals a pandas crosstab of the models' own decisions and its p-value
statsmodels'; the cost and MAE t-tests equal scipy's on all rows; a planted worse challenger is found and
an equal one passes. DeLong's AUC comparison stays on the sample (``metrics.on_sample``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy import stats

from tests.engines_world import close, make_rows, write_dataset

CID = "comparison.champion"


def _save(model, path):
    path.write_bytes(sio.dumps(model))
    return path


def _champion(train: pd.DataFrame, path):
    """A weaker current model: a logistic regression on income alone."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X = train.drop(columns=["default", "group"])
    pre = ColumnTransformer([("num", "passthrough", ["income"])])
    return _save(Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(X, train["default"]), path)


def _load(path):
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.engines_world import fit_model

    root = tmp_path_factory.mktemp("champ")
    train = make_rows(3000, 1, holdout=False)
    test = make_rows(2500, 2, holdout=True)
    train["age"] = np.random.default_rng(5).integers(18, 80, len(train))  # a numeric sensitive column: bands
    test["age"] = np.random.default_rng(6).integers(18, 80, len(test))
    fit_model(train.drop(columns=["age"]), root / "model.skops")
    _champion(train, root / "champion.skops")
    # the champion as a column of its scores, some missing
    old = _load(root / "champion.skops").predict_proba(test.drop(columns=["default"]))[:, 1]
    old[np.random.default_rng(7).random(len(old)) < 0.04] = np.nan
    test_col = test.assign(old_score=old)
    return {"root": root, "train": write_dataset(train, root / "train", 3), "test": write_dataset(test, root / "holdout", 4),
            "test_col": write_dataset(test_col, root / "holdout_col", 4), "train_frame": train, "test_frame": test,
            "test_col_frame": test_col}


def _table(frame, role):
    from readiness.inputs import Table

    return Table(name=role, role=role, frame=frame, sha256=role, size_bytes=0)


def _run(train, test, train_frame, test_frame, model: bytes, champion: bytes | None, roles, settings=None,
         engine=None, sample_rows=100_000):
    """The check in memory (``engine`` None) or on an engine (the datasets ``train``/``test``)."""
    from readiness.engines import review as R
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    settings = settings or Settings()
    names = {"champion_name": "champion.skops"} if champion is not None else {}
    if engine is None:
        ctx = prepare_review(train=_table(train_frame, "train"), test=_table(test_frame, "test"), roles=roles,
                             model=model, model_name="model.skops", settings=settings, champion=champion, **names)
        return run_review(ctx, checks=[CID]).checks[0], ctx
    er = R.open_review(engine, train=train, test=test, roles=roles, settings=settings, model=model,
                       model_name="model.skops", trusted=None, sample_rows=sample_rows, champion=champion, **names)
    try:
        return R.run(er, checks=[CID]).checks[0], er
    finally:
        er.engine.close()


def _review(w, engine=None, sample_rows=100_000, settings=None, column=False, roles=None, swap=False):
    from readiness.inputs import Roles

    model, champion = (w["root"] / "model.skops").read_bytes(), (w["root"] / "champion.skops").read_bytes()
    if swap:
        model, champion = champion, model
    roles = roles or Roles(target="default", sensitive=["group", "age"],
                           champion_prediction_column="old_score" if column else None)
    test, frame = (w["test_col"], w["test_col_frame"]) if column else (w["test"], w["test_frame"])
    return _run(w["train"], test, w["train_frame"], frame, model, None if column else champion, roles, settings,
                engine, sample_rows)


def _figures(res) -> dict:
    m = {k: v for k, v in res.metrics.items() if k not in ("basis", "on_sample")}
    return {"status": res.status.value, "summary": res.summary, "metrics": m,
            "findings": [f.message for f in res.findings]}


def _same(mem, eng):
    assert eng.metrics["basis"]["kind"] == "exact"
    assert close(_figures(mem), _figures(eng)) == [], close(_figures(mem), _figures(eng))


def _engine(batch_rows=300):
    from readiness.engines.base import LocalEngine

    return LocalEngine(batch_rows=batch_rows)


def test_binary_equals_in_memory_and_an_independent_count(world):
    from statsmodels.stats.contingency_tables import mcnemar

    mem, _ = _review(world)
    eng, _ = _review(world, _engine())
    _same(mem, eng)
    assert eng.metrics["basis"]["rows"] == 2500 and eng.metrics["rows"] == 2500
    # the paired table from the models themselves on all rows, with pandas
    test = world["test_frame"]
    X, y = test.drop(columns=["default"]), test["default"].to_numpy()
    r_new = (_load(world["root"] / "model.skops").predict_proba(X)[:, 1] >= 0.5) == (y == 1)
    r_old = (_load(world["root"] / "champion.skops").predict_proba(X)[:, 1] >= 0.5) == (y == 1)
    tab = pd.crosstab(pd.Series(r_new, name="new"), pd.Series(r_old, name="old"))
    m = eng.metrics
    assert (m["both_right"], m["challenger_only_right"], m["champion_only_right"], m["both_wrong"]) == (
        tab.loc[True, True], tab.loc[True, False], tab.loc[False, True], tab.loc[False, False])
    b, c = int(tab.loc[True, False]), int(tab.loc[False, True])
    ref = mcnemar(np.array([[tab.loc[True, True], b], [c, tab.loc[False, False]]]), exact=b + c < 25,
                  correction=True)
    assert m["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert m["challenger_only_right"] > m["champion_only_right"] and m["verdict"] in ("better", "mixed")
    # per group: the churn of group b counted with pandas
    f_new = _load(world["root"] / "model.skops").predict_proba(X)[:, 1] >= 0.5
    f_old = _load(world["root"] / "champion.skops").predict_proba(X)[:, 1] >= 0.5
    gb = (test["group"] == "b").to_numpy()
    churn_b = m["decision_changes_by_group"]["group"]["b"]
    assert churn_b["decision_changes"] == int((f_new != f_old)[gb].sum())
    assert churn_b["newly_flagged_positive"] == int((f_new & ~f_old & (y == 1))[gb].sum())
    assert len(m["groups"]["age"]) > 2 and all("–" in g for g in m["groups"]["age"])  # quantile bands


def test_costs_and_a_favourable_label_equal_in_memory_and_scipy(world):
    from readiness.inputs import Roles, Settings

    settings = Settings(cost_fp=1.0, cost_fn=5.0)
    roles = Roles(target="default", sensitive=["group", "age"], favorable_label=0)
    mem, _ = _review(world, settings=settings, roles=roles)
    eng, _ = _review(world, _engine(), settings=settings, roles=roles)
    _same(mem, eng)
    assert eng.metrics["decision_measure"] == "cost_per_1000"
    assert "false_adverse_rate" in eng.metrics["groups"]["group"]["a"]
    test = world["test_frame"]
    X, y = test.drop(columns=["default"]), test["default"].to_numpy()

    def cost(path):
        f = _load(world["root"] / path).predict_proba(X)[:, 1] >= 0.5
        return np.where(f & (y == 0), 1.0, 0.0) + np.where(~f & (y == 1), 5.0, 0.0)

    d = 1000 * (cost("model.skops") - cost("champion.skops"))
    t = stats.ttest_1samp(d, 0.0)
    ci = t.confidence_interval(1 - eng.metrics["alpha"])
    assert eng.metrics["cost_difference_per_1000"] == pytest.approx(d.mean(), rel=1e-9)
    assert eng.metrics["cost_difference_per_1000_ci"] == pytest.approx([ci.low, ci.high], rel=1e-9)
    assert eng.metrics["cost_p_value"] == pytest.approx(t.pvalue, rel=1e-9)


def test_a_champion_column_with_missing_scores_equals_in_memory(world):
    mem, _ = _review(world, column=True)
    eng, _ = _review(world, _engine(), column=True)
    _same(mem, eng)
    n_known = int(world["test_col_frame"]["old_score"].notna().sum())
    assert eng.metrics["rows"] == n_known < 2500
    assert any("lack a score from one of the models" in f.message for f in eng.findings)


def test_a_planted_worse_challenger_is_found_and_an_equal_one_passes(world):
    worse, _ = _review(world, _engine(), swap=True)  # the income-only model reviewed against the full one
    assert worse.metrics["verdict"] == "worse" and worse.status.value in ("warn", "fail")
    _same(_review(world, swap=True)[0], worse)
    from readiness.inputs import Roles

    roles = Roles(target="default", sensitive=["group"])
    model = (world["root"] / "model.skops").read_bytes()
    equal, _ = _run(world["train"], world["test"], None, None, model, model, roles, engine=_engine())
    assert equal.metrics["verdict"] == "no_difference" and equal.status.value == "pass"
    assert equal.metrics["decision_changes"] == 0 and equal.metrics["p_value"] == 1.0


def test_a_small_sample_keeps_the_counts_exact_and_names_the_auc_on_the_sample(world):
    mem, _ = _review(world)
    eng, er = _review(world, _engine(), sample_rows=1000)
    assert eng.metrics["basis"]["kind"] == "exact" and eng.metrics["basis"]["rows"] == 2500
    assert eng.metrics["rows"] == 2500
    for k in ("both_right", "challenger_only_right", "champion_only_right", "both_wrong", "decision_changes",
              "p_value", "accuracy_difference_ci", "groups", "decision_changes_by_group"):
        assert close(mem.metrics[k], eng.metrics[k]) == [], k
    assert eng.metrics["on_sample"]["rows"] == 1000 and eng.metrics["on_sample"]["of_rows"] == 2500
    assert "auc_difference" in eng.metrics["on_sample"]["keys"]
    assert any("on a sample of 1,000 of the 2,500 rows" in f.message for f in eng.findings)
    assert len(er.ctx.champion.scores) == 1000  # the driver scored only the sample


def test_repartitioning_gives_the_same_figures(world):
    a, _ = _review(world, _engine(300))
    b, _ = _review(world, _engine(1100))
    assert close(_figures(a), _figures(b)) == []


def _other_world(root, task: str) -> dict:
    """Multiclass or regression rows with a good and a weaker model (scikit-learn, in .skops files)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(11)
    n = 4000
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n),
                          "age": rng.integers(20, 70, n)})
    if task == "multiclass":
        frame["y"] = np.where(frame.x + 0.3 * rng.normal(size=n) > 0.5, "hi",
                              np.where(frame.x < -0.5, "lo", "mid"))
        model = LogisticRegression(max_iter=500)
    else:
        frame["y"] = 2 * frame.x + 0.5 * frame.z + rng.normal(size=n) * np.where(frame.g == "c", 2.0, 1.0)
        model = LinearRegression()
    train, test = frame.iloc[:1500].reset_index(drop=True), frame.iloc[1500:].reset_index(drop=True)
    good = _save(model.fit(train[["x", "z"]], train.y), root / f"{task}_good.skops")
    weak = _save(type(model)(**model.get_params()).fit(train[["z"]], train.y), root / f"{task}_weak.skops")
    return {"train": write_dataset(train, root / f"{task}_train", 2), "test": write_dataset(test, root / f"{task}_test", 5),
            "train_frame": train, "test_frame": test, "good": good.read_bytes(), "weak": weak.read_bytes()}


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_multiclass_and_regression_equal_in_memory(task, tmp_path):
    from readiness.inputs import Roles

    w = _other_world(tmp_path, task)
    roles = Roles(target="y", sensitive=["g", "age"])
    for model, champion in ((w["good"], w["weak"]), (w["weak"], w["good"])):
        args = (w["train"], w["test"], w["train_frame"], w["test_frame"], model, champion, roles)
        mem, _ = _run(*args)
        eng, _ = _run(*args, engine=_engine(400))
        _same(mem, eng)
        assert eng.metrics["rows"] == 2500
    assert eng.metrics["verdict"] == "worse"  # the weak model reviewed against the good one
    if task == "regression":  # the MAE difference's t-test on all rows, by scipy
        test = w["test_frame"]
        e = [np.abs(_load_bytes(b).predict(test[cols]) - test.y) for b, cols in ((w["weak"], ["z"]), (w["good"], ["x", "z"]))]
        t = stats.ttest_1samp(e[0] - e[1], 0.0)
        assert eng.metrics["mae_improvement"] == pytest.approx(-(e[0] - e[1]).mean(), rel=1e-9)
        assert eng.metrics["p_value"] == pytest.approx(t.pvalue, rel=1e-9)


def _load_bytes(data: bytes):
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_cli_champion_with_a_streamed_dataset_is_exact(world, tmp_path):
    out = tmp_path / "r.json"
    env = {**os.environ, "READINESS_LOCAL_MAX_ROWS": "1000"}
    p = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(world["train"]), "--test",
                        str(world["test"]), "--target", "default", "--model", str(world["root"] / "model.skops"),
                        "--champion", str(world["root"] / "champion.skops"), "--sensitive", "group",
                        "--engine", "local", "--sample-rows", "1000", "--check", CID,
                        "--json", str(out), "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text())
    (c,) = [c for c in report["checks"] if c["id"] == CID]
    assert c["status"] != "skipped" and c["metrics"]["basis"]["kind"] == "exact"
    assert c["metrics"]["basis"]["rows"] == 2500 and c["metrics"]["rows"] == 2500
    assert c["metrics"]["on_sample"]["rows"] == 1000
    assert c["metrics"]["champion_model"]["name"] == "champion.skops"


def test_cli_refuses_trust_champion_without_champion(world, tmp_path):
    p = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(world["train"]), "--test",
                        str(world["test"]), "--target", "default", "--model", str(world["root"] / "model.skops"),
                        "--trust-champion", "--engine", "local", "--quiet"], capture_output=True, text=True,
                       env={**os.environ, "READINESS_LOCAL_MAX_ROWS": "1000"}, timeout=300)
    assert p.returncode == 2 and "--trust-champion needs --champion" in p.stderr


def test_the_apps_server_dataset_review_compares_with_the_current_model(world, monkeypatch):
    """The app's server-dataset path (prepare_server_review) takes the loaded current model; without its bytes
    the comparison runs on the sample (here the sample holds every row)."""
    from readiness.engines.review import run
    from readiness.engines.server_data import prepare_server_review, server_table
    from readiness.inputs import Roles, Settings, load_model
    from tests.test_server_data import config_for

    config = config_for(world["root"])
    train = server_table(config, "root:train", role="train")
    test = server_table(config, "root:holdout", role="test", preview_rows=500)
    model_bytes = (world["root"] / "model.skops").read_bytes()
    model = load_model(model_bytes, name="model.skops")
    champion = load_model((world["root"] / "champion.skops").read_bytes(), name="champion.skops")
    monkeypatch.setenv("READINESS_LOCAL_MAX_ROWS", "1000")
    ctx, er = prepare_server_review(config, train=train, test=test,
                                    roles=Roles(target="default", sensitive=["group", "age"]),
                                    settings=Settings(), model=model, model_bytes=model_bytes, champion=champion)
    assert er is not None
    try:
        res = run(er, checks=[CID]).checks[0]
    finally:
        er.engine.close()
    mem, _ = _review(world)
    assert res.metrics["basis"]["rows"] == 2500
    assert close(_figures(mem), _figures(res)) == []


def _same_on(engine, world):
    mem, _ = _review(world)
    res, _ = _review(world, engine)
    assert res.metrics["basis"]["engine"] == engine.name and res.metrics["basis"]["rows"] == 2500
    _same(mem, res)


@pytest.mark.slow
def test_dask_local_cluster_compares_the_same(world):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _same_on(DaskEngine(n_workers=2), world)


@pytest.mark.slow
def test_spark_local_mode_compares_the_same(world):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _same_on(SparkEngine("local[2]"), world)
