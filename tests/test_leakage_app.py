"""AppTest: the Leakage page renders on the sample review and shows its evidence."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def test_leakage_page_renders_on_the_sample():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/leakage.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Leakage and test independence"
    headers = [h.value for h in at.subheader]
    assert any("Column-wise leakage" in h for h in headers) and any("Holdout reuse" in h for h in headers)
    text = " ".join(m.value for m in at.markdown)
    assert "collections_contacts" in text  # the planted post-outcome column is named
    labels = {m.label: m.value for m in at.metric}
    assert labels["Identical rows (target included)"].startswith("40 ")
    assert labels["Holdout rows dated before training ends"].startswith("52 ")
    assert not at.error
    # cross-check with the explanations: the planted leak also dominates them
    assert any("'collections_contacts' also dominates the model's explanations" in w.value for w in at.warning)
