"""feasibility.bayes_error as a check: verdicts on targets above, inside and below the Bayes
limit of data whose Bayes error is known (two Gaussians, R* = Φ(−Δ/2)), the high-dimension
caveat, a model that beats the floor, and the cases where the study does not apply."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness import ber
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check

R_STAR = ber.two_gaussians_ber(2.0)  # 0.1587


def gaussian_frames(d: int = 2, n_train: int = 3000, n_test: int = 1000, seed: int = 0, delta: float = 2.0):
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d))
    X[:, 0] += np.where(y == 1, delta / 2, -delta / 2)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    frame["y"] = y
    return frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)


@pytest.fixture(scope="module")
def low_dim():
    train, test = gaussian_frames()
    model = LogisticRegression().fit(train.drop(columns="y"), train["y"])
    return train, test, model


def run(train, test, model=None, target=None, **roles):
    ctx = make_ctx(train, test, target="y", model=model, settings=Settings(target_accuracy=target), **roles)
    return run_check(get_check("feasibility.bayes_error"), ctx)


def test_target_above_the_bayes_limit_is_infeasible(low_dim):
    res = run(*low_dim, target=0.95)  # needs ≤ 5% error; the best possible is 15.9%
    m = res.metrics
    assert res.status == "fail" and m["verdict"] == "infeasible"
    assert m["lower_bound_trusted"]
    assert "95.0% is not reachable" in res.summary and "errs on at least" in res.summary
    assert "(95% confidence" in res.summary
    # the range brackets the analytic Bayes error
    assert m["ber_lower_low"] <= R_STAR <= m["ber_upper_high"]
    # point ends within 3 points (the upper end is the model's 1,000-row holdout error here: sd ≈ 1.2 points)
    assert m["ber_lower"] <= R_STAR + 0.03 and m["ber_upper"] >= R_STAR - 0.03


def test_target_comfortably_below_passes(low_dim):
    res = run(*low_dim, target=0.70)
    assert res.status == "pass" and res.metrics["verdict"] == "achieved"
    assert "is reachable" in res.summary


def test_target_inside_the_uncertainty_warns(low_dim):
    res = run(*low_dim, target=0.845)  # 15.5% error: inside the range around R* = 15.9%
    assert res.status == "warn" and res.metrics["verdict"] == "undetermined"
    assert "cannot be settled" in res.summary


def test_without_a_target_reports_the_room_left(low_dim):
    res = run(*low_dim)
    m = res.metrics
    assert res.status == "pass" and m["verdict"] == "no_target"
    assert m["room_max"] == pytest.approx(max(0.0, m["model_error"] - m["ber_lower_low"]))
    assert m["room_min"] == pytest.approx(max(0.0, m["model_error"] - m["ber_upper_high"]))
    assert "left to gain" in res.summary
    # the logistic model is near-optimal here: its holdout error sits near R*
    assert abs(m["model_error"] - R_STAR) < 0.04
    assert m["sample_rows"] == 4000 and m["pooled_rows"] == 4000


def test_high_dimension_caveat_blocks_an_infeasible_call():
    """50 dimensions (1 informative): the 1-NN floor overshoots R* (science doc, assertion 7); the
    check must say the floor is not reliable and must not fail the target on it."""
    train, test = gaussian_frames(d=50, n_train=3000, n_test=1000, seed=1)
    model = LogisticRegression().fit(train.drop(columns="y"), train["y"])
    res = run(train, test, model, target=0.90)
    m = res.metrics
    assert not m["lower_bound_trusted"]
    assert m["intrinsic_dimension"] > 12
    assert any("not reliable" in f.message and "effective dimensions" in f.message for f in res.findings)
    assert m["lower_1nn"] > R_STAR + 0.04  # the known failure, documented
    assert res.status == "warn" and m["verdict"] == "probably_infeasible"


def test_model_beating_the_floor_is_suspicious(low_dim):
    """A 'vendor' prediction column that equals the outcome: no honest model beats the Bayes floor."""
    train, test, _ = low_dim
    test = test.assign(vendor_score=test["y"].astype(float))
    res = run(train, test, None, target=0.80, prediction_column="vendor_score")
    assert res.metrics["model_error"] == 0
    warn = [f for f in res.findings if f.severity == "warn"]
    assert warn and "below the estimated floor" in warn[0].message and "Leakage" in warn[0].message
    assert res.status == "warn"


def test_label_conflicts_are_a_hard_floor():
    """Duplicated feature rows with different labels: 30% of rows must be wrong whatever the model does,
    so a 90% target fails even though the floor comes from the conflict rate alone."""
    rng = np.random.default_rng(4)
    n = 2000
    x = rng.integers(0, 5, n)
    y = np.where(rng.random(n) < 0.3, 1 - (x % 2), x % 2)  # 30% label noise on a 5-valued feature
    frame = pd.DataFrame({"x": x.astype(str), "y": y})
    train, test = frame.iloc[:1500].reset_index(drop=True), frame.iloc[1500:].reset_index(drop=True)
    test = test.assign(p=(test["x"].astype(int) % 2).astype(float))
    res = run(train, test, None, target=0.90, prediction_column="p")
    m = res.metrics
    counts = frame.groupby(["x", "y"]).size().unstack(fill_value=0)
    expected = float((counts.sum(axis=1) - counts.max(axis=1)).sum() / n)
    assert m["label_conflict_rate"] == pytest.approx(expected)
    assert res.status == "fail" and m["verdict"] == "infeasible"


def test_multiclass_runs():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 3000)
    X = rng.standard_normal((3000, 4))
    X[np.arange(3000), y] += 2.0  # simplex, Δ = 2√2: R* = 1 − ∫φ(t)Φ(2 − t)² dt = 0.1342
    frame = pd.DataFrame(X, columns=list("abcd")).assign(y=np.array(["red", "green", "blue"])[y])
    train, test = frame.iloc[:2200].reset_index(drop=True), frame.iloc[2200:].reset_index(drop=True)
    model = LogisticRegression().fit(train[list("abcd")], train["y"])
    res = run(train, test, model, target=0.99)
    assert res.status == "fail" and res.metrics["n_classes"] == 3
    assert set(res.metrics["priors"]) == {"red", "green", "blue"}
    assert res.metrics["ber_lower_low"] <= 0.1342 <= res.metrics["ber_upper_high"]


def test_sample_cap_is_reported(low_dim, monkeypatch):
    from readiness.checks import feasibility

    monkeypatch.setattr(feasibility, "BER_SAMPLE_CAP", 1000)
    res = run(*low_dim)
    assert res.metrics["sample_rows"] == 1000 and res.metrics["pooled_rows"] == 4000
    assert res.metrics["sample_cap"] == 1000
