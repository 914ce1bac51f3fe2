"""The Calibration page renders on the bundled sample, and on reviews whose calibration
fails, whose model is multiclass, or whose scores are not probabilities."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from streamlit.testing.v1 import AppTest

from readiness.inputs import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_calibration_page_renders_on_the_sample():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    at.switch_page("pages/calibration.py").run()
    assert not at.exception
    assert at.title[0].value == "Calibration and uncertainty"
    text = " ".join(m.value for m in at.markdown)
    # the calibration verdict of the sample: its boosted model is mildly overconfident (calibration slope 0.79,
    # ECE 2.1 points, combined test p 0.045); with sensitive attributes the check runs two sets of tests (overall,
    # per group), so the p-value that decides is 0.09: a pass that says why it is not an alarm
    assert "can be taken at face value" in text and "cannot tell from chance" in text and "2 sets of tests" in text
    assert "Would a recalibration fix it?" in text
    labels = [m.label for m in at.metric]
    assert "Calibration error (ECE)" in labels and "Cases for people" in labels


def _binary(score_fn, n=3000, seed=0, threshold=0.5):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    y = (rng.random(n) < p).astype(int)
    grp = np.where(rng.random(n) < 0.4, "B", "A")
    test = pd.DataFrame({"x": rng.normal(size=n), "grp": grp, "y": y, "score": score_fn(p, grp)})
    train = test.sample(300, random_state=0)
    return make_ctx(train, test, target="y", prediction_column="score", sensitive=["grp"],
                    settings=Settings(bootstrap=20, threshold=threshold, target_accuracy=0.8))


def _multiclass():
    from test_calibration import dirichlet_case, multiclass_ctx

    P, y = dirichlet_case(2000, 0)
    S = P ** 3 / (P ** 3).sum(axis=1, keepdims=True)
    return multiclass_ctx(S, y)


def _render(ctx):
    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    report = run_review(ctx, checks=["calibration", "uncertainty.abstention"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="test review", is_sample=False)
    at.switch_page("pages/calibration.py").run()
    assert not at.exception, at.exception
    return at, report


@pytest.mark.parametrize("case", ["cubed", "multiclass", "deciles"])
def test_calibration_page_renders_other_reviews(case):
    if case == "cubed":
        ctx = _binary(lambda p, g: np.where(g == "B", p ** 3, p))
    elif case == "multiclass":
        ctx = _multiclass()
    else:
        ctx = _binary(lambda p, g: np.ceil(p * 10).clip(1, 10), threshold=5.5)
    at, report = _render(ctx)
    text = " ".join(m.value for m in at.markdown)
    ab = report.check("uncertainty.abstention")
    if ab.status.value != "skipped" and ab.metrics["target_accuracy"] is None:  # no target: none invented
        assert any(m.label == "Target accuracy" and m.value == "not set" for m in at.metric)
        assert "set it in Setup and review again" in text
    cal = report.check("calibration")
    if case == "deciles":
        assert cal.status.value == "skipped"
        assert any("not probabilities" in i.value for i in at.info)
    else:
        assert cal.status.value == "fail"
        assert "cannot be taken at face value" in text and "What to do" in text
