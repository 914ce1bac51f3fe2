"""feasibility.bayes_error for regression (issue 23): the noise floor by the Gamma test, against
constructed targets with a known noise variance, scikit-learn's leave-one-out k-NN regression and
the verdicts on --target-rmse / --target-r2."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor

from readiness.inputs import Settings
from readiness.noise_floor import estimate
from readiness.registry import get_check
from readiness.review import run_check

SIGMA = 0.5


def _world(seed, n=1200, d=3, sigma=SIGMA):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    f = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.3 * X.sum(axis=1)
    return X, f + rng.normal(scale=sigma, size=n)


def test_interval_covers_the_known_noise_in_at_least_9_of_10_replicates():
    covered = 0
    for rep in range(10):
        X, y = _world(rep, n=800)
        lo, hi = estimate(X, y, seed=rep).noise_rmse_ci
        covered += lo <= SIGMA <= hi
    assert covered >= 9


def test_noiseless_target_has_a_floor_near_zero_and_pure_noise_a_floor_at_its_sd():
    X, _ = _world(0)
    smooth = np.sin(X[:, 0]) + 0.3 * X[:, 1]
    est = estimate(X, smooth)
    assert est.noise_rmse < 0.05 and est.noise_rmse_ci[0] <= 0.05
    noise = np.random.default_rng(9).normal(scale=2.0, size=len(X))  # y independent of X: nothing explained
    est = estimate(X, noise)
    assert est.noise_rmse_ci[0] <= 2.0 <= est.noise_rmse_ci[1]
    assert est.noise_rmse == pytest.approx(noise.std(), rel=0.1)


def test_knn_errors_equal_scikit_learns_leave_one_out_regression():
    X, y = _world(3, n=150)
    est = estimate(X, y, halves=2)
    for k in (1, 5, 15):
        pred = cross_val_predict(KNeighborsRegressor(n_neighbors=k), X, y, cv=LeaveOneOut())
        assert est.knn_rmse[k] == pytest.approx(math.sqrt(np.mean((pred - y) ** 2)), rel=1e-10)


@pytest.fixture(scope="module")
def world():
    X, y = _world(0, n=1500)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    train, test = frame.iloc[:1000].reset_index(drop=True), frame.iloc[1000:].reset_index(drop=True)
    return train, test, KNeighborsRegressor(n_neighbors=15).fit(train[["a", "b", "c"]], train["y"])


def _review(world, **settings):
    train, test, model = world
    ctx = make_ctx(train, test, target="y", model=model, settings=Settings(**settings))
    return run_check(get_check("feasibility.bayes_error"), ctx)


def test_unreachable_target_rmse_fails_and_reachable_one_passes(world):
    bad = _review(world, target_rmse=0.2)  # below the noise sd 0.5: no model can
    assert bad.status == "fail" and bad.metrics["verdict"] == "infeasible"
    assert bad.metrics["noise_rmse_ci"][0] <= SIGMA <= bad.metrics["noise_rmse_ci"][1]
    good = _review(world, target_rmse=1.0)  # the model or a k-NN rule reaches it
    assert good.status == "pass" and good.metrics["verdict"] in ("achieved", "reachable")


def test_target_r2_is_turned_into_an_rmse_with_the_holdout_variance(world):
    res = _review(world, target_r2=0.99)
    m = res.metrics
    assert m["target_rmse"] == pytest.approx(math.sqrt(0.01 * m["holdout_variance"]))
    assert res.status == "fail" and m["best_r2"] < 0.99
    # best R² = 1 − σ²/Var(y): the true value is 1 − 0.25/Var(y)
    assert m["best_r2_ci"][0] <= 1 - SIGMA ** 2 / m["target_variance"] <= m["best_r2_ci"][1]


def test_no_target_is_not_applicable_and_a_linear_model_is_not_too_good(world):
    res = _review(world)
    assert res.status == "pass" and res.metrics["verdict"] == "no_target"
    assert "not applicable" in res.findings[0].message
    assert res.metrics["model_rmse"] > res.metrics["noise_rmse_ci"][0]


def test_a_model_below_the_floor_is_flagged():
    """Holdout rows copied from training with a model that memorised them: RMSE below the noise."""
    X, y = _world(5, n=1200)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    train = frame.iloc[:900].reset_index(drop=True)
    test = train.iloc[:300].reset_index(drop=True)
    ctx = make_ctx(train, test.assign(pred=test["y"] + np.random.default_rng(0).normal(scale=0.05, size=300)),
                   target="y", prediction_column="pred")
    res = run_check(get_check("feasibility.bayes_error"), ctx)
    assert res.status == "warn" and any("below the noise floor" in f.message for f in res.findings)
    clean = make_ctx(train, frame.iloc[900:].reset_index(drop=True), target="y",
                     model=LinearRegression().fit(train[["a", "b", "c"]], train["y"]))
    assert run_check(get_check("feasibility.bayes_error"), clean).status == "pass"
