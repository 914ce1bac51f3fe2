"""The Bias page: renders on the sample, switches the reference group, and the
questionnaire feeds the reviewer answers back into the report."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx, setup_vendor_scores
from streamlit.testing.v1 import AppTest

from readiness.inputs import Settings
from readiness.review import run_review

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _text(at) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def _injected(ctx):
    """The app with a review of ``ctx`` already in the session (only the bias checks run, to stay fast)."""
    from pages._ui import AppState

    report = run_review(ctx, checks=["bias.groups", "bias.categories"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["readiness_review"] = AppState(ctx=ctx, report=report, title="test", is_sample=False)
    at.run()
    assert not at.exception
    at.switch_page("pages/bias.py").run()
    return at


@pytest.fixture(scope="module")
def sample_app():
    """The bundled sample review (the full review of every check is exercised by tests/test_app.py)."""
    from readiness.sample import load_sample

    return _injected(load_sample())


def test_bias_page_renders_on_the_sample(sample_app):
    at = sample_app
    assert not at.exception
    assert at.title[0].value == "Bias"
    text = _text(at)
    for title in ("Historical bias", "Representation bias", "Measurement bias", "Aggregation bias", "Learning bias",
                  "Evaluation bias", "Deployment bias"):
        assert title in text
    labels = [m.label for m in at.metric]
    assert "Largest wrongly-adverse gap" in labels and "Lowest favourable-outcome ratio" in labels
    assert at.selectbox(key="bias_attribute").value == "sex"
    assert at.selectbox(key="bias_reference_sex").value == "male"  # the most advantaged group of the sample
    assert len(at.get("plotly_chart")) >= 2


def test_reference_group_and_attribute_can_be_switched(sample_app):
    at = sample_app
    at.selectbox(key="bias_reference_sex").select("female").run()
    assert not at.exception
    assert "Who is worse off than female" in _text(at)
    at.selectbox(key="bias_attribute").select("sex × region").run()
    assert not at.exception
    assert at.selectbox(key="bias_reference_sex × region").value == "male × South"


def test_questionnaire_updates_the_report(sample_app):
    at = sample_app
    state = at.session_state["readiness_review"]
    before = state.report.check("bias.categories").metrics["categories"]["deployment"]["status"]
    assert before == "warn"
    at.text_area(key="bias_q_intended_use").input("Rank applications for manual underwriting")
    at.text_area(key="bias_q_affected_population").input("Loan applicants")
    at.selectbox(key="bias_q_human_oversight").select("all")
    at.selectbox(key="bias_q_population_match").select("yes")
    at.selectbox(key="bias_q_recourse").select("yes")
    at.text_input(key="bias_q_reference_population").input("North=15%")
    at.button[0].click().run()
    assert not at.exception
    state = at.session_state["readiness_review"]
    answers = state.ctx.settings.reviewer_answers
    assert answers["human_oversight"] == "all" and answers["reference_population"] == "North=15%"
    cats = state.report.check("bias.categories").metrics["categories"]
    assert cats["deployment"]["status"] == "pass"
    assert cats["representation"]["status"] == "warn"  # North: 6% of training against 15% entered
    assert state.report.settings["reviewer_answers"] == answers
    assert any("Answers saved" in s.value for s in at.success)
    # the form shows the saved answers on the next visit
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/bias.py").run()
    assert at.selectbox(key="bias_q_human_oversight").value == "all"


def _frame(n=400, seed=0, classes=("no", "yes")):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "group": rng.choice(["g1", "g2"], n)})
    df["y"] = np.array(classes)[np.digitize(df["x"] + rng.normal(scale=0.5, size=n),
                                             [-0.4, 0.4][: len(classes) - 1])]
    return df


def test_page_without_sensitive_attributes_explains_the_skip():
    df = _frame()
    df["score"] = 1 / (1 + np.exp(-2 * df["x"]))
    at = _injected(make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    assert not at.exception
    assert any("No sensitive attribute" in i.value for i in at.info)


def test_page_renders_a_multiclass_model_one_class_at_a_time():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = _frame(seed=1, classes=("lo", "mid", "hi"))
    pre = make_column_transformer((OneHotEncoder(), ["group"]), remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression()).fit(df[["x", "group"]], df["y"])
    ctx = make_ctx(df.iloc[:300], df.iloc[300:], target="y", model=model, sensitive=["group"],
                   settings=Settings(bootstrap=50))
    at = _injected(ctx)
    assert not at.exception
    at.selectbox(key="bias_class").select("mid").run()
    assert not at.exception
    assert "'mid' vs the rest" in _text(at)


def test_setup_asks_which_outcome_is_good_for_the_person():
    """Setup's favourable-label choice reaches the roles, and the Bias page then names who bears the harm."""
    rng = np.random.default_rng(8)
    n = 600
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "sex": rng.choice(["f", "m"], n), "y": (x + rng.normal(size=n) > 0).astype(int),
                       "vendor_score": 1 / (1 + np.exp(-1.5 * x)), "split": ["train"] * 450 + ["test"] * 150})
    at = setup_vendor_scores(df, {"Target": "y", "Split column": "split", "Prediction column": "vendor_score"})
    fav = at.selectbox(key="role_favorable")
    assert fav.label.startswith("Which outcome is good for the person") and fav.value == "— choose —"
    assert any("will not say who is disadvantaged" in c.value for c in at.caption)
    fav.set_value("0").run()
    at.button[-1].click().run()
    assert not at.exception
    state = at.session_state["readiness_review"]
    assert state.ctx.roles.favorable_label == 0
    assert state.report.check("bias.groups").metrics["direction"]["positive_favorable"] is False
    at.switch_page("pages/bias.py").run()
    assert not at.exception
    assert "Favourable outcome: y = 0" in _text(at)
