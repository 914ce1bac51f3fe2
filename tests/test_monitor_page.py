"""The Monitoring page: an empty history says how to start; monitored batches are shown
over time with the last batch's alerts and the signed conditions they concern; a batch
name that is Markdown stays text. The chart builders draw the stored numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import skops.io as sio
from helpers import table
from monitor_world import FEATURES, model_pipeline, world
from streamlit.testing.v1 import AppTest

from pages._ui import esc
from readiness.charts.monitoring import accuracy_over_time, drift_heatmap
from readiness.inputs import Roles, Settings, build_context, load_model
from readiness.monitor.history import store_batch
from readiness.monitor.run import load_review, monitor_batch
from readiness.review import run_review
from readiness.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def _page(url: str, monkeypatch) -> AppTest:
    from readiness.store import core

    monkeypatch.setenv("READINESS_DB", url)
    monkeypatch.setattr(core, "_STORES", {})
    monkeypatch.setattr(core, "_LAST_ERROR", {})
    return AppTest.from_file(str(ROOT / "pages" / "monitoring.py"), default_timeout=120).run()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monpage")
    tr, te = world(2000, 1), world(1000, 2)
    model = load_model(sio.dumps(model_pipeline().fit(tr[FEATURES], tr.y)), name="model.skops", sandbox=False)
    ctx = build_context(train=table(tr), test=table(te, "test"), roles=Roles(target="y", exclude=["g"]),
                        model=model, settings=Settings())
    review = load_review(run_review(ctx, checks=["monitoring.reference"]).to_json().encode(), name="review.json")
    review.conditions, review.record_id, review.project = ["Monitor drift monthly"], "r" * 32, "Credit"
    url = f"sqlite:///{tmp / 'h.db'}"
    for i, (frame, name, target) in enumerate([(world(600, 10), "june.csv", "y"), (world(600, 11), "july.csv", None),
                                               (world(600, 12, shift={"x3": 0.7}), "![x](http://evil.example)",
                                                None)]):
        r = monitor_batch(review, table(frame, "batch", name=name), model=model, target=target, seed=i)
        store_batch(r, url=url)
    return url


def test_an_empty_history_says_how_to_start(tmp_path, monkeypatch):
    at = _page(f"sqlite:///{tmp_path / 'empty.db'}", monkeypatch)
    assert not at.exception
    assert "No production batch has been monitored yet" in at.info[0].value
    assert "readiness monitor --review" in at.code[0].value


def test_batches_over_time_with_the_last_alerts_and_their_conditions(history, monkeypatch):
    at = _page(history, monkeypatch)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Batches monitored"] == "3" and metrics["Batches with alerts"] == "1"
    assert metrics["Realised accuracy, last labelled batch"].endswith("%")
    warn = at.warning[0].value
    assert f"**{esc('![x](http://evil.example)')}**" in warn  # the Markdown batch name stays text
    text = " ".join(m.value for m in at.markdown)
    assert "'x3' drifted" in text and "“Monitor drift monthly”" in text


def test_charts_draw_the_stored_numbers(history):
    with open_store(history) as store:
        batches = store.batches(record_id="r" * 32)
    fig = accuracy_over_time(batches)
    est = next(t for t in fig.data if t.name.startswith("estimated"))
    assert list(est.y) == pytest.approx([100 * b["estimated_accuracy"] for b in batches])
    real = next(t for t in fig.data if t.name.startswith("realised"))
    assert real.y[0] == pytest.approx(100 * batches[0]["realised_accuracy"]) and real.y[1] is None
    heat = drift_heatmap(batches).data[0]
    row = list(heat.y).index("x3")
    x3 = batches[2]["result"]["features"]["x3"]
    assert heat.z[row][2] == pytest.approx(min(x3["psi"] / x3["threshold"], 3.0)) and heat.z[row][2] > 1
