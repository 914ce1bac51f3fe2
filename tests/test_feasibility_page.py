"""The Feasibility page renders on the sample; the sample's feasibility metrics are documented;
the chart builders draw what the results say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from readiness.registry import get_check
from readiness.review import run_check

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "checks.md").read_text()
IDS = ("baselines.comparison", "feasibility.bayes_error")


@pytest.fixture(scope="module")
def sample_results(sample_ctx):
    return {cid: run_check(get_check(cid), sample_ctx) for cid in IDS}


def test_page_renders_on_the_sample():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    at.switch_page("pages/feasibility.py").run()
    assert not at.exception
    assert at.title[0].value == "Feasibility"
    text = " ".join(m.value for m in at.markdown)
    assert "The error ladder" in text and "Every baseline against the model" in text
    labels = {m.label for m in at.metric}
    assert {"The model's error", "Best possible error (95% range)", "Target error", "McNemar p-value",
            "Accuracy gain", "Accuracy left to gain, at most", "Floor reliable?"} <= labels
    assert any("Holdout reuse budget" in h.value for h in at.subheader)
    assert [h.value for h in at.subheader].count("Bayes error: how good can any model be?") == 1  # drawn once
    assert len(at.get("plotly_chart")) >= 2  # the ladder and the learning curve


def test_sample_results_and_documentation(sample_results):
    for cid, res in sample_results.items():
        assert res.status in ("pass", "warn", "fail"), res.summary
        assert f"### `{cid}`" in DOC
        start = DOC.find(f"### `{cid}`")
        end = DOC.find("\n### ", start + 1)
        section = DOC[start:end if end > 0 else None]
        missing = [k for k in res.metrics if not re.search(rf"`{re.escape(k)}[`.]", section)]
        assert not missing, f"document in docs/checks.md ({cid}): {missing}"
    bayes = sample_results["feasibility.bayes_error"].metrics
    # the sample's target (85%) is met by the model (≈90%): reachable
    assert bayes["target_accuracy"] == 0.85 and bayes["verdict"] == "achieved"
    assert bayes["ber_lower"] <= bayes["ber_upper"] <= bayes["prior_cap"]
    assert bayes["sample_rows"] == 5000


def test_ladder_and_charts(sample_results):
    from readiness.charts.feasibility import (
        error_ladder,
        ladder_rows,
        learning_curve,
        regression_ladder,
    )

    base, bayes = sample_results["baselines.comparison"], sample_results["feasibility.bayes_error"]
    rows = ladder_rows(bayes, base)
    assert [r["error"] for r in rows] == sorted((r["error"] for r in rows), reverse=True)
    model = next(r for r in rows if r["key"] == "model")
    assert model["error"] == pytest.approx(1 - base.metrics["model"]["accuracy"])
    assert model["low"] <= model["error"] <= model["high"]
    fig = error_ladder(bayes, base)
    assert fig is not None and any(a.text.startswith("target") for a in fig.layout.annotations)
    assert fig.layout.yaxis.categoryarray[0] == "Best possible model (Bayes error, 95%)"
    assert learning_curve(bayes) is not None
    assert regression_ladder(base) is None  # a classification result
    assert error_ladder(None, None) is None
