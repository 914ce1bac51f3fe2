"""evaluation.holdout (issue 12): risk deciles (1-10) judged at the default threshold 0.5 predict every row
positive; the review says its accuracy judges the threshold, not the model. At a threshold on the scores'
own scale the warning is gone."""

import numpy as np
import pandas as pd
from helpers import make_ctx

from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check


def frames():
    rng = np.random.default_rng(3)
    n = 1200
    x = rng.normal(size=n)
    y = (x + rng.normal(size=n) > 0).astype(int)
    decile = np.clip(np.ceil((x + 2.5) * 2), 1, 10).astype(int)  # a 1-10 risk score rising with x
    frame = pd.DataFrame({"x": x, "y": y, "decile": decile})
    return frame.iloc[:600].reset_index(drop=True), frame.iloc[600:].reset_index(drop=True)


def test_deciles_at_half_are_flagged_as_a_threshold_off_the_scale():
    train, test = frames()
    res = run_check(get_check("evaluation.holdout"), make_ctx(train, test, target="y", prediction_column="decile"))
    m = res.metrics
    assert m["accuracy"] == test["y"].mean()  # every row predicted positive: accuracy = the positives' share
    assert m.get("threshold_outside_scores") is True
    f = next(f for f in res.findings if "decision threshold 0.5" in f.message)
    assert f.severity.value == "warn" and "every row is predicted positive" in f.message


def test_a_threshold_on_the_scores_scale_is_not_flagged():
    train, test = frames()
    ctx = make_ctx(train, test, target="y", prediction_column="decile", settings=Settings(threshold=5))
    res = run_check(get_check("evaluation.holdout"), ctx)
    assert "threshold_outside_scores" not in res.metrics
    assert res.metrics["accuracy"] == ((test["decile"] >= 5).astype(int) == test["y"]).mean()


def test_calibrated_probabilities_of_a_rare_outcome_all_under_half_are_information_not_a_warning():
    """Issue 18: the true probabilities of a 4%-positive outcome never reach 0.5; every row is predicted negative,
    honestly. Accuracy is then the negatives' share (closed form), and the finding is info, not a warning."""
    rng = np.random.default_rng(11)
    n = 2000
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-3.6 + 0.6 * x)))  # at most ~0.2 over this range of x
    y = (rng.random(n) < p).astype(int)
    frame = pd.DataFrame({"x": x, "y": y, "p": p})
    train, test = frame.iloc[:1000].reset_index(drop=True), frame.iloc[1000:].reset_index(drop=True)
    assert test["p"].max() < 0.5
    res = run_check(get_check("evaluation.holdout"), make_ctx(train, test, target="y", prediction_column="p"))
    assert res.metrics["threshold_outside_scores"] is True
    assert res.metrics["accuracy"] == 1 - test["y"].mean()
    f = next(f for f in res.findings if "decision threshold 0.5" in f.message)
    assert f.severity.value == "info" and "every row is predicted negative" in f.message
    assert res.status.value != "warn" or all("decision threshold" not in g.message
                                              for g in res.findings if g.severity.value == "warn")


def test_probabilities_judged_at_a_threshold_off_their_scale_are_still_flagged():
    train, test = frames()
    prob = pd.Series(np.linspace(0.01, 0.99, len(test)))
    test = test.assign(p=prob)
    train = train.assign(p=np.linspace(0.01, 0.99, len(train)))
    res = run_check(get_check("evaluation.holdout"),
                    make_ctx(train, test, target="y", prediction_column="p", settings=Settings(threshold=5)))
    f = next(f for f in res.findings if "decision threshold 5" in f.message)
    assert f.severity.value == "warn" and "every row is predicted negative" in f.message
