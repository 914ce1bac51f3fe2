"""The page "Compared with the current model" on the sample (whose current model is v2, a
logistic regression) and without a champion; the chart builders draw what the metrics say."""

from __future__ import annotations

from pathlib import Path

from readiness.charts.comparison import (
    change_rows,
    churn_rows,
    decision_changes,
    who_gains_who_loses,
)
from readiness.registry import get_check
from readiness.review import run_check

ROOT = Path(__file__).resolve().parent.parent


def test_page_renders_on_the_sample():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    at.switch_page("pages/comparison.py").run()
    assert not at.exception
    assert at.title[0].value == "Compared with the current model"
    text = " ".join(m.value for m in at.markdown)
    assert "Better than the current model" in text and "newly flagged" in text
    assert {"Accuracy", "ROC AUC", "Cost per 1,000 decisions", "Decisions that change"} <= {m.label for m in at.metric}
    assert len(at.get("plotly_chart")) == 2  # who gains / loses, which decisions change


def test_chart_rows_follow_the_metrics(sample_ctx):
    r = run_check(get_check("comparison.champion"), sample_ctx)
    m = r.metrics
    rows = change_rows(r)
    assert rows[0]["label"] == "All rows" and rows[0]["change"] == -m["decision_difference"]
    female = next(x for x in rows if x["label"] == "sex = female")
    assert female["change"] == m["groups"]["sex"]["female"]["cost_per_1000"]["mean"]
    assert female["verdict"] == m["groups"]["sex"]["female"]["verdict"]
    churn = churn_rows(r)
    assert churn[0]["newly"] == m["newly_flagged"] and churn[0]["no_longer"] == m["no_longer_flagged"]
    assert sum(c["newly"] for c in churn if c["label"].startswith("sex = ")) == m["newly_flagged"]
    fig = decision_changes(r)
    newly = sum(t.x[-1] for t in fig.data if t.name.startswith("newly"))  # "All rows" is drawn last
    assert abs(newly - 100 * m["newly_flagged"] / m["rows"]) < 1e-9
    assert who_gains_who_loses(r) is not None
