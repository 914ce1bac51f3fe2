"""The Business threshold page renders on the sample and its what-ifs work; it also renders
reviews that warn, fail, use raw scores, or skip the check."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from streamlit.testing.v1 import AppTest
from test_business import calibrated, ctx_from_scores

from readiness.checks.business import decision_at, describe_decision, fmt_cost

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/business.py"


def _text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_business_page_on_the_sample_and_the_what_if(sample_ctx):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Business threshold"
    text = _text(at)
    assert "per 1,000 decisions (in your cost units)" in text  # the verdict states the units
    assert "What to do" in text and "What if" in text
    metrics = _metrics(at)
    # cost at 0.5 counted independently: 1,000 x (1 x false positives + 5 x false negatives) / rows
    import numpy as np

    y, s = sample_ctx.y_test_binary, np.asarray(sample_ctx.test_scores)
    flagged = s >= 0.5
    cost = 1000 * (1 * np.sum(flagged & (y == 0)) + 5 * np.sum(~flagged & (y == 1))) / len(y)
    assert metrics["Cost at the current threshold 0.5"] == f"{cost:,.0f} per 1,000"
    from readiness.registry import get_check
    from readiness.review import run_check

    optimal = run_check(get_check("business.threshold"), sample_ctx).metrics["optimal"]["threshold"]
    assert metrics["Cheapest threshold"] == f"{optimal:g}" and "Without the model" in metrics
    charts = len(at.get("plotly_chart"))

    # the slider starts at the review's threshold and the words describe that decision
    slider = at.slider[0]
    assert slider.value == 0.5
    assert describe_decision(decision_at(sample_ctx, 0.5), positive="default = 1") in text

    # move it: the words and the cost follow the library's what-if at that threshold
    slider.set_value(0.2).run()
    assert not at.exception, at.exception
    expected = describe_decision(decision_at(sample_ctx, 0.2), positive="default = 1")
    assert expected in _text(at)
    cost = decision_at(sample_ctx, 0.2)["cost_per_1000"]
    assert _metrics(at)["Cost at 0.2"] == f"{cost:,.0f} per 1,000"

    # other costs: a cost curve for them appears in the what-if
    next(n for n in at.number_input if n.label == "Cost of a false negative").set_value(1.0).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == charts + 1
    assert "(1 per false positive, 1 per false negative)" in _text(at)
    cost_1_1 = decision_at(sample_ctx, 0.2, cost_fp=1, cost_fn=1)["cost_per_1000"]
    assert _metrics(at)["Cost at 0.2"] == f"{cost_1_1:,.0f} per 1,000"

    # the button moves the slider to the cheapest threshold
    at.button[0].click().run()
    assert not at.exception, at.exception
    cheapest = _metrics(at)["Cheapest with these costs"]  # for the 1 : 1 costs now entered
    assert at.slider[0].value == pytest.approx(float(cheapest))
    # the cost at the slider equals the cheapest cost written under that tile
    assert _metrics(at)[f"Cost at {cheapest}"] in [c.value for c in at.caption]


def _render(ctx):
    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    report = run_review(ctx, checks=["business.threshold"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="test review", is_sample=False)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at, report.check("business.threshold")


@pytest.mark.parametrize("case", ["warn", "fail", "raw", "skipped"])
def test_business_page_renders_other_reviews(case):
    if case == "skipped":
        rng = np.random.default_rng(0)
        x = rng.normal(size=200)
        frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=200) + 0.5, "pred": 2 * x})
        ctx = make_ctx(frame.iloc[:100], frame.iloc[100:], target="y", prediction_column="pred")
    else:
        _, p, y = calibrated(1500, seed=2)
        if case == "fail":
            p = np.random.default_rng(1).random(len(y))
        scores = np.log(p / (1 - p)) if case == "raw" else p
        ctx = ctx_from_scores(scores, y, threshold=0.0 if case == "raw" else 0.5, bootstrap=50)
    at, res = _render(ctx)
    text = _text(at)
    if case == "skipped":
        assert res.status == "skipped"
        assert any("over- and under-prediction" in i.value for i in at.info)
        return
    assert res.status == ("fail" if case == "fail" else "warn"), res.summary
    assert "What to do" in text
    if case == "fail":
        assert "Do not use the model for this decision" in text
    else:
        assert "Move the threshold from" in text
    if case == "raw":
        assert "not probabilities" in text
        slider = at.slider[0]
        assert slider.min < -3 and slider.max > 3
        slider.set_value(1.0).run()
        assert not at.exception, at.exception
        assert describe_decision(decision_at(ctx, 1.0), positive="y = yes") in _text(at)


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_business_page_prices_regression_and_multiclass_decisions(task):
    """Issue 23: the page shows the cost of over/under-prediction, or of a cost matrix, from the check's figures."""
    from readiness.inputs import Settings

    rng = np.random.default_rng(4)
    x = rng.normal(size=600)
    if task == "regression":
        frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=600), "pred": 2 * x - 0.7})
        ctx = make_ctx(frame.iloc[:300], frame.iloc[300:], target="y", prediction_column="pred",
                       settings=Settings(cost_over=1.0, cost_under=2.0))
    else:
        from sklearn.linear_model import LogisticRegression

        frame = pd.DataFrame({"x": x, "y": np.array(["lo", "mid", "hi"])[np.digitize(x + rng.normal(size=600),
                                                                                      [-0.5, 0.5])]})
        model = LogisticRegression().fit(frame[["x"]].iloc[:300], frame["y"].iloc[:300])
        labels = ["hi", "lo", "mid"]
        matrix = {t: {p: 0.0 if t == p else (10.0 if (t, p) == ("hi", "lo") else 1.0) for p in labels} for t in labels}
        ctx = make_ctx(frame.iloc[:300], frame.iloc[300:], target="y", model=model, settings=Settings(cost_matrix=matrix))
    at, res = _render(ctx)
    assert res.status in ("pass", "warn"), res.summary
    text = _text(at)
    assert at.title[0].value == "Business cost"
    assert f"{fmt_cost(res.metrics['cost_per_1000'])} per 1,000" in [m.value for m in at.metric]
    assert "What to do" in text
    if task == "regression":
        assert res.status == "warn" and "Shift the model's predictions by" in text
    else:
        assert "The cost matrix (rows: true class; columns: predicted class)" in [e.label for e in at.expander]
