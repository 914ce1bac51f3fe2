"""``--champion`` on the engine path: the current model is loaded on the driver (isolated child, the
same loader and trust rule as in memory) and ``comparison.champion`` runs on the engine's sample,
its ``metrics.basis`` saying so. (Exact champion counts on every row are not done yet.)"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from tests.engines_world import close, make_rows, write_dataset


def _champion(train: pd.DataFrame, path):
    """A weaker current model: a logistic regression on income alone."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X = train.drop(columns=["default", "group"])
    pre = ColumnTransformer([("num", "passthrough", ["income"])])
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(X, train["default"])
    path.write_bytes(sio.dumps(model))
    return path, model


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.engines_world import fit_model

    root = tmp_path_factory.mktemp("champ")
    train = make_rows(3000, 1, holdout=False)
    test = make_rows(2500, 2, holdout=True)
    fit_model(train, root / "model.skops")
    _champion(train, root / "champion.skops")
    return {"root": root, "train": write_dataset(train, root / "train", 3), "test": write_dataset(test, root / "holdout", 4),
            "train_frame": train, "test_frame": test}


def _review(w, engine=None, sample_rows=100_000):
    from readiness.engines import review as R
    from readiness.engines.base import LocalEngine
    from readiness.inputs import Roles, Settings, prepare_review
    from readiness.review import run_review

    roles = Roles(target="default", sensitive=["group"])
    model, champion = (w["root"] / "model.skops").read_bytes(), (w["root"] / "champion.skops").read_bytes()
    if engine is None:
        ctx = prepare_review(train=w["train_frame"].pipe(_table, "train"), test=w["test_frame"].pipe(_table, "test"),
                             roles=roles, model=model, model_name="model.skops", settings=Settings(),
                             champion=champion, champion_name="champion.skops")
        return run_review(ctx, checks=["comparison.champion"]).checks[0], ctx
    er = R.open_review(engine or LocalEngine(batch_rows=300), train=w["train"], test=w["test"], roles=roles,
                       settings=Settings(), model=model, model_name="model.skops", trusted=None,
                       sample_rows=sample_rows, champion=champion, champion_name="champion.skops")
    try:
        return R.run(er, checks=["comparison.champion"]).checks[0], er.ctx
    finally:
        er.engine.close()


def _table(frame, role):
    from readiness.inputs import Table

    return Table(name=role, role=role, frame=frame, sha256=role, size_bytes=0)


def _figures(res) -> dict:
    m = {k: v for k, v in res.metrics.items() if k not in ("basis", "champion_model")}
    return {"status": res.status.value, "summary": res.summary, "metrics": m,
            "findings": [f.message for f in res.findings]}


def test_the_engine_compares_on_every_row_when_the_sample_holds_them_all(world):
    from readiness.engines.base import LocalEngine

    mem, mem_ctx = _review(world)
    eng, ctx = _review(world, LocalEngine(batch_rows=300))
    assert eng.metrics["basis"]["kind"] == "exact" and eng.metrics["basis"]["rows"] == 2500
    assert close(_figures(mem), _figures(eng)) == [], close(_figures(mem), _figures(eng))
    # independent count of the paired table with the models themselves, on all rows
    test = world["test_frame"]
    X = test.drop(columns=["default"])
    y = test["default"].to_numpy()
    new = sio.load(world["root"] / "model.skops", trusted=sio.get_untrusted_types(file=world["root"] / "model.skops"))
    old = sio.load(world["root"] / "champion.skops",
                   trusted=sio.get_untrusted_types(file=world["root"] / "champion.skops"))
    r_new = (new.predict_proba(X)[:, 1] >= 0.5) == (y == 1)
    r_old = (old.predict_proba(X)[:, 1] >= 0.5) == (y == 1)
    m = eng.metrics
    assert m["rows"] == len(test)
    assert m["both_right"] == int((r_new & r_old).sum())
    assert m["challenger_only_right"] == int((r_new & ~r_old).sum())
    assert m["champion_only_right"] == int((~r_new & r_old).sum())
    assert m["both_wrong"] == int((~r_new & ~r_old).sum())
    assert m["challenger_only_right"] > m["champion_only_right"]  # the champion is the weaker model
    assert m["verdict"] in ("better", "mixed")


def test_a_sample_smaller_than_the_holdout_says_so(world):
    from readiness.engines.base import LocalEngine

    res, ctx = _review(world, LocalEngine(batch_rows=300), sample_rows=1000)
    assert res.metrics["basis"] == {**res.metrics["basis"], "kind": "sample", "rows": 1000, "of_rows": 2500}
    assert res.metrics["rows"] == 1000
    assert ctx.champion is not None and len(ctx.champion.scores) == 1000


def test_cli_champion_with_a_streamed_dataset(world, tmp_path):
    out = tmp_path / "r.json"
    env = {**__import__("os").environ, "READINESS_LOCAL_MAX_ROWS": "1000"}
    p = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(world["train"]), "--test",
                        str(world["test"]), "--target", "default", "--model", str(world["root"] / "model.skops"),
                        "--champion", str(world["root"] / "champion.skops"), "--sensitive", "group",
                        "--engine", "local", "--sample-rows", "1000", "--check", "comparison.champion",
                        "--json", str(out), "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text())
    (c,) = [c for c in report["checks"] if c["id"] == "comparison.champion"]
    assert c["status"] != "skipped" and c["metrics"]["basis"]["kind"] == "sample"
    assert c["metrics"]["basis"]["of_rows"] == 2500 and c["metrics"]["rows"] == 1000
    assert c["metrics"]["champion_model"]["name"] == "champion.skops"
    assert np.isfinite(c["metrics"]["accuracy_difference"])


def test_cli_refuses_trust_champion_without_champion(world, tmp_path):
    p = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(world["train"]), "--test",
                        str(world["test"]), "--target", "default", "--model", str(world["root"] / "model.skops"),
                        "--trust-champion", "--engine", "local", "--quiet"], capture_output=True, text=True,
                       env={**__import__("os").environ, "READINESS_LOCAL_MAX_ROWS": "1000"}, timeout=300)
    assert p.returncode == 2 and "--trust-champion needs --champion" in p.stderr


def test_the_apps_server_dataset_review_compares_with_the_current_model(world, monkeypatch):
    """The app's server-dataset path (prepare_server_review) takes the loaded current model on the engine path."""
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
    ctx, er = prepare_server_review(config, train=train, test=test, roles=Roles(target="default", sensitive=["group"]),
                                    settings=Settings(), model=model, model_bytes=model_bytes, champion=champion)
    assert er is not None
    try:
        res = run(er, checks=["comparison.champion"]).checks[0]
    finally:
        er.engine.close()
    mem, _ = _review(world)
    assert res.metrics["basis"]["rows"] == 2500
    assert close(_figures(mem), _figures(res)) == []


def _same_on(engine, world):
    mem, _ = _review(world)
    res, _ = _review(world, engine)
    assert res.metrics["basis"]["engine"] == engine.name and res.metrics["basis"]["rows"] == 2500
    assert close(_figures(mem), _figures(res)) == []


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
