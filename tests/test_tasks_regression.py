"""Regression reviews (issue 23): bias.groups per group and between groups, on scikit-learn's diabetes
data with `sex` as the sensitive attribute, against fairlearn's MetricFrame, statsmodels and scipy."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from helpers import make_ctx
from scipy import stats
from sklearn import datasets
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from readiness.registry import get_check
from readiness.review import run_check


def _groups(ctx):
    res = run_check(get_check("bias.groups"), ctx)
    assert res.status.value != "error", res.summary
    return res


@pytest.fixture(scope="module")
def diabetes():
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "one", 2.0: "two"})
    train, test = train_test_split(frame, test_size=0.4, random_state=0)
    feats = [c for c in frame.columns if c not in ("target", "sex")]
    model = Ridge(alpha=1.0).fit(train[feats], train["target"])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    train = train.assign(pred=model.predict(train[feats]))
    test = test.assign(pred=model.predict(test[feats]))
    ctx = make_ctx(train, test, target="target", prediction_column="pred", sensitive=["sex"])
    return ctx, test


def test_per_group_figures_equal_fairlearns_metricframe(diabetes):
    ctx, test = diabetes
    res = _groups(ctx)
    g = res.metrics["groups"]["sex"]
    y, p, s = test["target"], test["pred"], test["sex"]
    mf = MetricFrame(metrics={"mae": mean_absolute_error,
                              "mean_error": lambda a, b: float(np.mean(np.asarray(b) - np.asarray(a))),
                              "mean_prediction": lambda a, b: float(np.mean(b)),
                              "mean_actual": lambda a, b: float(np.mean(a)),
                              "n": lambda a, b: len(a)}, y_true=y, y_pred=p, sensitive_features=s)
    for grp in ("one", "two"):
        for k in ("mae", "mean_error", "mean_prediction", "mean_actual", "n"):
            assert g[grp][k] == pytest.approx(mf.by_group.loc[grp, k], rel=1e-12), (grp, k)
        e = (p - y)[s == grp].to_numpy()
        assert np.allclose(g[grp]["mean_error_ci"], DescrStatsW(e).tconfint_mean(0.05), rtol=1e-10)
        assert np.allclose(g[grp]["mae_ci"], DescrStatsW(np.abs(e)).tconfint_mean(0.05), rtol=1e-10)
    assert res.metrics["overall"]["mae"] == pytest.approx(mean_absolute_error(y, p))


def test_disparities_are_welch_differences(diabetes):
    ctx, test = diabetes
    m = _groups(ctx).metrics
    ref = m["reference"]["sex"]
    other = "two" if ref == "one" else "one"
    row = m["disparities"]["sex"]["groups"][other]
    e = (test["pred"] - test["target"]).to_numpy()
    a, b = np.abs(e[test["sex"] == other]), np.abs(e[test["sex"] == ref])
    cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    assert row["mae_difference"] == pytest.approx(a.mean() - b.mean())
    assert np.allclose(row["mae_difference_ci"], cm.tconfint_diff(alpha=0.05, usevar="unequal"), rtol=1e-10)
    assert row["p_mae"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-10)
    assert m["multiple_testing"]["comparisons_total"] == 2  # one pair, two metrics


def _planted(seed, *, noisy_group_scale=1.0, shift=0.0, n=4000):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    grp = rng.choice(["a", "b"], size=n)
    noise = rng.normal(size=n) * np.where(grp == "b", noisy_group_scale, 1.0)
    y = 3 * x + noise
    pred = 3 * x + np.where(grp == "b", shift, 0.0)
    f = pd.DataFrame({"x": x, "grp": grp, "y": y, "pred": pred})
    return make_ctx(f.iloc[: n // 2].reset_index(drop=True), f.iloc[n // 2:].reset_index(drop=True), target="y",
                    prediction_column="pred", sensitive=["grp"])


def test_a_group_with_twice_the_noise_is_named_and_fails():
    res = _groups(_planted(1, noisy_group_scale=2.0))
    assert res.status.value == "fail"
    assert "grp = b bears the larger error" in res.summary
    flags = res.metrics["disparities"]["grp"]["groups"]["b"]["flags"]
    assert flags[0]["disadvantaged"] == "b" and res.metrics["reference"]["grp"] == "a"


def test_a_group_the_model_over_estimates_is_named():
    res = _groups(_planted(2, shift=0.8))
    text = " ".join(f.message for f in res.findings)
    assert res.status.value == "fail" and "grp = b is over-estimated by" in text


@pytest.mark.parametrize("seed", range(5))
def test_clean_controls_pass(seed):
    res = _groups(_planted(10 + seed))
    assert res.status.value == "pass", res.summary
    assert "No group's error or bias differs beyond chance" in res.summary
