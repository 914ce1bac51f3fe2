"""AppTest: the app and every page render on the sample, and after a simulated upload."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
APP = str(ROOT / "app.py")
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("[!_]*.py"))


def fresh():
    return AppTest.from_file(APP, default_timeout=240).run()


def errors(at):
    return [e.value for e in at.error]


def test_app_opens_on_the_sample_review():
    at = fresh()
    assert not at.exception, at.exception
    assert any("sample review" in i.value for i in at.info)
    assert at.title[0].value == "Overview"
    assert not errors(at)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_sample(page):
    at = fresh()
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    assert at.title, page


def _upload(at, label_start, name, data, mime="text/csv"):
    up = next(u for u in at.get("file_uploader") if u.label.startswith(label_start))
    up.set_value((name, data, mime))
    return at.run()


def _select(at, label_start, value):
    box = next(s for s in at.selectbox if s.label.startswith(label_start))
    box.set_value(value)
    return at.run()


def test_upload_roles_and_run_review():
    at = fresh()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Training data", "train.csv", (SAMPLE / "credit_train.csv").read_bytes())
    _upload(at, "Holdout data", "holdout.csv", (SAMPLE / "credit_holdout.csv").read_bytes())
    _upload(at, "Model", "model.skops", (SAMPLE / "credit_model.skops").read_bytes(), "application/octet-stream")
    assert not at.exception and not errors(at), errors(at)
    # roles were guessed
    assert next(s for s in at.selectbox if s.label.startswith("Target")).value == "default"
    assert next(s for s in at.selectbox if s.label.startswith("Time column")).value == "application_date"
    at.number_input(key="biz_threshold").set_value(0.3).run()
    at.number_input(key="biz_latency").set_value(25.0).run()  # model.serving's budget
    at.button[-1].click().run()  # Run review
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert at.title[0].value == "Overview"
    assert not any("sample review" in i.value for i in at.info)
    state = at.session_state["readiness_review"]
    assert not state.is_sample and state.report.settings["threshold"] == 0.3
    assert state.report.settings["latency_budget_ms"] == 25.0
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)


def test_bad_upload_shows_a_clear_error_and_keeps_going():
    at = fresh()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Training data", "train.csv", b"")
    assert any("is empty" in e for e in errors(at))
    assert not at.exception


def test_wrong_roles_show_the_error_on_run(tmp_path):
    at = fresh()
    at.switch_page("pages/setup.py").run()
    df = pd.read_csv(SAMPLE / "credit_train.csv").rename(columns={"income": "salary"})
    _upload(at, "Training data", "train.csv", df.to_csv(index=False).encode())
    _upload(at, "Holdout data", "holdout.csv", df.to_csv(index=False).encode())
    _upload(at, "Model", "model.skops", (SAMPLE / "credit_model.skops").read_bytes(), "application/octet-stream")
    at.button[-1].click().run()
    assert any("missing ['income']" in e for e in errors(at)), errors(at)
    assert at.title[0].value == "Setup"


def test_one_file_with_a_split_column_and_a_prediction_column():
    """The other two set-ups: one file plus a split column, and scores instead of a model."""
    rng = np.random.default_rng(7)
    n = 600
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "grp": rng.choice(["a", "b"], n), "y": (x + rng.normal(size=n) > 0).astype(int),
                       "vendor_score": 1 / (1 + np.exp(-1.5 * x)), "split": ["train"] * 450 + ["test"] * 150})
    at = fresh()
    at.switch_page("pages/setup.py").run()
    at.radio(key="setup_layout").set_value("One file with a split column").run()
    _upload(at, "Data (training and holdout rows)", "all.csv", df.to_csv(index=False).encode())
    at.radio(key="setup_model_mode").set_value("Scores in a holdout column (vendor, R or remote model)").run()
    _select(at, "Target", "y")
    _select(at, "Split column", "split")
    _select(at, "Prediction column", "vendor_score")
    assert not errors(at), errors(at)
    at.button[-1].click().run()
    assert not at.exception and not errors(at), errors(at)
    state = at.session_state["readiness_review"]
    assert not state.is_sample
    assert (len(state.ctx.train), len(state.ctx.test)) == (450, 150)
    assert state.report.model.kind == "predictions"
    ev = state.report.check("evaluation.holdout")
    test = df[df.split == "test"]
    assert ev.metrics["accuracy"] == pytest.approx(((test.vendor_score >= 0.5).astype(int) == test.y).mean())
    assert state.report.check("explanations.shap").status == "skipped"


@pytest.mark.slow
def test_a_regression_review_asks_only_what_applies_and_every_page_renders(tmp_path):
    """Issue 23: scikit-learn's diabetes data, a regression model, `sex` sensitive: Setup asks no threshold or
    costs, the title follows the model, and every page renders the review."""
    import io

    import skops.io as sio
    from sklearn import datasets
    from sklearn.linear_model import Ridge

    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "one", 2.0: "two"})
    train, test = frame.iloc[:300], frame.iloc[300:]
    model = Ridge().fit(train.drop(columns=["target", "sex"]), train["target"])
    at = fresh()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Training data", "train.csv", train.to_csv(index=False).encode())
    _upload(at, "Holdout data", "holdout.csv", test.to_csv(index=False).encode())
    buf = io.BytesIO()
    sio.dump(model, buf)
    _upload(at, "Model", "ridge.skops", buf.getvalue(), "application/octet-stream")
    assert not at.exception and not errors(at), errors(at)
    _select(at, "Target", "target")
    keys = {n.key for n in at.number_input}
    assert "biz_threshold" not in keys and "biz_fp" not in keys and "biz_acc" not in keys
    assert any("regression" in c.value for c in at.caption)
    assert at.text_input(key="review_title").value == "Review of ridge"  # the model's name (issue 23), no ".skops"
    at.multiselect(key="role_sensitive").set_value(["sex"]).run()
    at.button[-1].click().run()
    assert not at.exception and not errors(at), errors(at)
    state = at.session_state["readiness_review"]
    assert state.report.task == "regression"
    assert state.report.check("bias.groups").metrics["groups"]["sex"]["one"]["n"] > 0
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
