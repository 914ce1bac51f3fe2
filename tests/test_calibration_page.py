"""The Calibration page renders on the bundled sample without an exception."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def test_calibration_page_renders_on_the_sample():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    at.switch_page("pages/calibration.py").run()
    assert not at.exception
    assert at.title[0].value == "Calibration and uncertainty"
    text = " ".join(m.value for m in at.markdown)
    assert "can be taken at face value" in text  # the calibration verdict of the sample
    assert "Would a recalibration fix it?" in text
    labels = [m.label for m in at.metric]
    assert "Calibration error (ECE)" in labels and "Cases for people" in labels
