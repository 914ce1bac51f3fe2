"""AppTest (issue 12): loading new training data starts a new review — nothing of the previous one
(title, roles, model mode, model, holdout, per-page extras, results) carries over.

The bug this pins: after reviewing one data set, a second one ran as "Review of <the first file>",
with the first review's hand-picked sensitive column and its model."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def _frames(seed, names):
    rng = np.random.default_rng(seed)
    n = 500
    x = rng.normal(size=(n, 2))
    df = pd.DataFrame({names[0]: x[:, 0], names[1]: x[:, 1], "grp": rng.integers(0, 2, n),
                       names[2]: (x[:, 0] + rng.normal(size=n) > 0).astype(int)})
    return df.iloc[:350].reset_index(drop=True), df.iloc[350:].reset_index(drop=True)


def _upload(at, label_start, name, data, mime="text/csv"):
    up = next(u for u in at.get("file_uploader") if u.label.startswith(label_start))
    up.set_value((name, data, mime))
    return at.run()


def _csv(frame):
    return frame.to_csv(index=False).encode()


@pytest.mark.slow  # a whole review in the app: 20-100 s on a busy machine
def test_new_training_data_starts_a_new_review(tmp_path):
    train_a, test_a = _frames(0, ["a1", "a2", "y"])
    model = LogisticRegression().fit(train_a[["a1", "a2", "grp"]], train_a["y"])
    sio.dump(model, tmp_path / "model_a.skops")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Training data", "first_train.csv", _csv(train_a))
    _upload(at, "Holdout data", "first_holdout.csv", _csv(test_a))
    _upload(at, "Model", "model_a.skops", (tmp_path / "model_a.skops").read_bytes(), "application/octet-stream")
    next(s for s in at.selectbox if s.label.startswith("Target")).set_value("y").run()
    at.multiselect(key="role_sensitive").set_value(["grp"]).run()  # chosen by hand: not a guessed name
    at.text_input(key="review_title").set_value("First review, typed by hand").run()
    at.button[-1].click().run()  # Run review
    assert not at.exception and not [e.value for e in at.error]
    first = at.session_state["readiness_review"]
    assert not first.is_sample and first.title == "First review, typed by hand"
    first.extras["signoff"] = {"planned": "something of the first review"}  # a page's extras

    # a second data set, which has a 'grp' column too, and prediction scores instead of a model
    train_b, test_b = _frames(1, ["b1", "b2", "outcome"])
    at.switch_page("pages/setup.py").run()
    at.radio(key="setup_model_mode").set_value("Scores in a holdout column (vendor, R or remote model)").run()
    _upload(at, "Training data", "second_train.csv", _csv(train_b))
    assert not at.exception, at.exception
    now = at.session_state["readiness_review"]
    setup = now.extras["setup"]
    # the previous review's results, extras, model and holdout are gone; the sample shows until the new run
    assert now.is_sample and now.report is not first.report and "signoff" not in now.extras
    assert "model" not in setup and "test_table" not in setup
    assert setup["train_table"].name == "second_train.csv"
    # widgets start afresh: the model mode's default, the new data's guessed roles, a title of the new data
    assert at.radio(key="setup_model_mode").value == "A model file"
    assert "grp" not in at.multiselect(key="role_sensitive").value
    assert at.text_input(key="review_title").value == "Review of second_train.csv"
    assert next(s for s in at.selectbox if s.label.startswith("Target")).value == "outcome"
    # the uploaders of the holdout and model are empty (new widgets), not the first review's files
    assert all(u.value is None for u in at.get("file_uploader") if not u.label.startswith("Training"))


def test_a_holdout_chosen_before_the_training_file_stays(tmp_path):
    """Files given for the new review before its training file belong to it and are kept."""
    train_a, test_a = _frames(0, ["a1", "a2", "y"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Holdout data", "holdout.csv", _csv(test_a))
    _upload(at, "Training data", "train.csv", _csv(train_a))
    setup = at.session_state["readiness_review"].extras["setup"]
    assert setup["test_table"].name == "holdout.csv" and setup["train_table"].name == "train.csv"
