"""Issue 23: leaving a page while the review runs never silently cancels it and shows the sample instead.

The review runs in a thread the session remembers; whichever page the user opens next waits for it and
shows it, or says it stopped. (The browser journey in test_e2e_tasks.py leaves Setup mid-review.)"""

import threading
import time
from pathlib import Path

import pytest
from helpers import make_ctx
from sklearn import datasets
from sklearn.linear_model import Ridge
from streamlit.testing.v1 import AppTest

from pages._ui import PENDING_KEY, SESSION_KEY, PendingReview
from readiness.review import run_review

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def review():
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = Ridge().fit(train[feats], train["target"])
    ctx = make_ctx(train.assign(pred=model.predict(train[feats])), test.assign(pred=model.predict(test[feats])),
                   target="target", prediction_column="pred")
    return ctx, run_review(ctx, checks=["evaluation.holdout"])


def _running(ctx, *, report=None, error=None, seconds=1.5) -> PendingReview:
    """A review still running when the page opens, ending after ``seconds`` with ``report`` or ``error``."""
    p = PendingReview(ctx=ctx, title="Diabetes ridge", record=False, used=["abc"])

    def work():
        time.sleep(seconds)
        p.report, p.error = report, error

    p.thread = threading.Thread(target=work, daemon=True)
    p.thread.start()
    return p


def test_a_page_opened_while_the_review_runs_waits_for_it_and_shows_it(review):
    ctx, report = review
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[PENDING_KEY] = _running(ctx, report=report)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    state = at.session_state[SESSION_KEY]
    assert state.report is report and not state.is_sample and state.title == "Diabetes ridge"
    assert state.extras["setup"]["used"] == ["abc"] and PENDING_KEY not in at.session_state
    text = " ".join(m.value for m in at.markdown)
    assert "Predicted vs actual" in text  # this review's page, not the sample's
    assert not any("viewing the sample review" in i.value for i in at.info)


def test_a_review_that_stops_says_so(review):
    ctx, _ = review
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[PENDING_KEY] = _running(ctx, error="MemoryError: out of memory", seconds=0.5)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    assert any("The review stopped before it finished (MemoryError: out of memory)" in e.value for e in at.error)
    assert PENDING_KEY not in at.session_state
