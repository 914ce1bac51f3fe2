"""The "Where it fails" page renders on the sample and on the coin-flip case; its charts draw
what the results say; the sensitive counterfactual reaches the Bias page."""

from __future__ import annotations

from pathlib import Path

import where_data as W
from helpers import make_ctx

from readiness.review import run_review

ROOT = Path(__file__).resolve().parent.parent
IDS = ["segments.weak", "drift.multivariate", "robustness.perturbation", "model.serving"]


def _page(ctx=None, report=None, page="pages/where_it_fails.py"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    assert not at.exception
    if ctx is not None:
        s = at.session_state["readiness_review"]
        s.ctx, s.report, s.title, s.is_sample = ctx, report, "Coin flip", False
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_page_renders_on_the_sample():
    at = _page()
    assert at.title[0].value == "Where it fails"
    heads = " ".join(h.value for h in at.subheader)
    for words in ("Weak segments", "Joint drift", "Small changes", "Serving cost"):
        assert words in heads
    labels = {m.label for m in at.metric}
    assert {"Domain classifier ROC AUC", "One row, median", "Throughput", "Memory while scoring",
            "Decisions that flip under one small change", "Segments below their promise"} <= labels


def test_page_names_the_coin_flip_segment():
    train, test = W.coin_flip(9000, 0)
    ctx = make_ctx(train, test, target="y", prediction_column="score")
    report = run_review(ctx, checks=IDS)
    at = _page(ctx, report)
    text = " ".join(m.value for m in at.markdown)
    assert "region east and age under 35" in text
    assert any(m.label == "Segments below their promise" and m.value == "1" for m in at.metric)
    assert len(at.get("plotly_chart")) >= 1
    assert any("needs a model file" in i.value or "Skipped" in i.value for i in at.info)  # robustness, serving


def test_segments_chart_rows_are_the_metrics():
    from readiness.charts.where_it_fails import segment_rows, segments_chart

    train, test = W.coin_flip(9000, 1)
    report = run_review(make_ctx(train, test, target="y", prediction_column="score"), checks=["segments.weak"])
    res = report.check("segments.weak")
    rows = segment_rows(res)
    assert len(rows) == len(res.metrics["segments"]) + len(res.metrics["hard_segments"])
    assert rows[0]["label"] == res.metrics["segments"][0]["definition"]
    assert rows[0]["value"] == res.metrics["segments"][0]["value"]
    fig = segments_chart(res)
    assert fig is not None and len(fig.data) >= 2


def test_the_bias_page_shows_the_sensitive_counterfactual():
    at = _page(page="pages/bias.py")
    assert any("sensitive attribute alone" in h.value for h in at.subheader)
    labels = [m.label for m in at.metric]
    assert "'sex' alone changes" in labels and "'region' alone changes" in labels
