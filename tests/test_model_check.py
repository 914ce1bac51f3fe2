"""Known answers for model.hyperparameters (tuning under the carpet)."""

import numpy as np
import pandas as pd
from helpers import make_ctx
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from readiness.registry import get_check
from readiness.review import run_check


def frame(n=300):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": (x > 0).astype(int),
                         "p": 1 / (1 + np.exp(-x))})


def run(ctx):
    return run_check(get_check("model.hyperparameters"), ctx)


def test_defaults_everywhere_are_flagged():
    df = frame()
    m = make_pipeline(StandardScaler(), LogisticRegression()).fit(df[["x", "z"]], df["y"])
    r = run(make_ctx(df, df, target="y", model=m))
    assert r.status == "warn"
    assert r.metrics["all_defaults"] is True and r.metrics["changed_from_default"] == {}
    assert r.metrics["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert r.metrics["steps"]["logisticregression"]["params"]["C"] == 1.0


def test_tuned_parameters_are_recorded_with_their_defaults():
    df = frame()
    m = HistGradientBoostingClassifier(max_iter=40, learning_rate=0.05, random_state=3).fit(df[["x", "z"]], df["y"])
    r = run(make_ctx(df, df, target="y", model=m))
    assert r.status == "pass"
    assert r.metrics["changed_from_default"] == {"max_iter": {"value": 40, "default": 100},
                                                 "learning_rate": {"value": 0.05, "default": 0.1}}


def test_prediction_column_is_skipped_with_a_reason():
    df = frame()
    r = run(make_ctx(df, df, target="y", prediction_column="p"))
    assert r.status == "skipped" and "hyper-parameters are unknown" in r.summary


def test_sample_model_records_its_tuning(sample_ctx):
    r = run(sample_ctx)
    assert set(r.metrics["changed_from_default"]) == {"max_iter", "learning_rate", "max_leaf_nodes"}
