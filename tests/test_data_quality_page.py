"""AppTest: the Data quality page shows the label check's judged figure with the report's value."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from readiness.fmt import points

ROOT = Path(__file__).resolve().parent.parent


def test_the_label_section_shows_the_training_against_holdout_gap():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception, at.exception
    m = at.session_state["readiness_review"].report.check("data_quality.labels").metrics
    shown = next(x for x in at.metric if x.label == "Training vs holdout labels")
    assert shown.value == points(m["shortfall_gap"])
    assert any(f"{m['holdout_rows_examined']:,} holdout rows" in c.value for c in at.caption)
