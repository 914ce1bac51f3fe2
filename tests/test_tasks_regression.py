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
    # the overall MAE's interval is the holdout page's (one interval for one figure; it was a t interval here)
    holdout = run_check(get_check("evaluation.holdout"), ctx).metrics
    assert res.metrics["overall"]["mae_ci"] == holdout["mae_ci"]


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


# --- calibration for regression ------------------------------------------------------------


def _calib(ctx):
    res = run_check(get_check("calibration"), ctx)
    assert res.status.value not in ("error", "skipped"), res.summary
    return res


def test_calibration_line_equals_statsmodels_ols(diabetes):
    import statsmodels.api as sm

    ctx, test = diabetes
    m = _calib(ctx).metrics
    fit = sm.OLS(test["target"].to_numpy(), sm.add_constant(test["pred"].to_numpy())).fit()
    assert m["calibration_intercept"] == pytest.approx(fit.params[0]) and m["calibration_slope"] == pytest.approx(fit.params[1])
    ci = fit.conf_int(0.05)
    assert np.allclose(m["calibration_intercept_ci"], ci[0]) and np.allclose(m["calibration_slope_ci"], ci[1])
    e = (test["pred"] - test["target"]).to_numpy()
    order = np.argsort(test["pred"].to_numpy(), kind="stable")
    first = np.array_split(order, 10)[0]
    assert m["by_decile"][0]["mean_error"] == pytest.approx(e[first].mean())
    assert set(m["interval_coverage_by_group"]["sex"]) == {"one", "two"}


def _line(seed, *, slope=1.0, n=3000, noise_b=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    grp = rng.choice(["a", "b"], size=n, p=[0.75, 0.25])
    y = 2 * x + rng.normal(size=n) * np.where(grp == "b", noise_b, 1.0)
    pred = 2 * x * slope  # slope < 1 of actual on pred means predictions spread too far
    f = pd.DataFrame({"x": x, "grp": grp, "y": y, "pred": pred})
    return make_ctx(f.iloc[:100].reset_index(drop=True), f.iloc[100:].reset_index(drop=True), target="y",
                    prediction_column="pred", sensitive=["grp"])


def test_predictions_spread_twice_too_far_fail_and_the_truth_passes():
    bad = _calib(_line(1, slope=2.5))
    assert bad.status.value == "fail" and bad.metrics["calibration_slope"] == pytest.approx(0.4, abs=0.03)
    assert "too spread out" in bad.findings[0].message
    for seed in range(3):
        good = _calib(_line(10 + seed))
        assert good.status.value == "pass", good.summary


def test_conformal_interval_covers_90_percent_and_finds_the_noisy_group():
    res = _calib(_line(3, noise_b=3.0))
    ic = res.metrics["interval_coverage"]
    assert 0.88 <= ic["coverage"] <= 0.95 and ic["coverage_ci"][0] <= ic["coverage"] <= ic["coverage_ci"][1]
    # independent: the half-width is the ceil((m+1)*0.9)-th smallest absolute error of the fit half
    ctx = _line(3, noise_b=3.0)
    err = np.abs(ctx.y_test.to_numpy() - np.asarray(ctx.test_scores))
    fit = np.random.default_rng(ctx.settings.random_state).permutation(len(err))[: len(err) // 2]
    assert ic["half_width"] == pytest.approx(np.sort(err[fit])[int(np.ceil((len(fit) + 1) * 0.9)) - 1])
    by = res.metrics["interval_coverage_by_group"]["grp"]
    assert by["b"]["coverage"] < 0.8 < by["a"]["coverage"]
    assert res.status.value == "warn" and any("grp = b" in f.message for f in res.findings)


def test_split_conformal_coverage_over_replicates():
    """Marginal coverage ≥ 90% on average (Lei et al.): over 20 replicates the mean is within 1.5 points."""
    covs = [_calib(_line(100 + s, n=1000)).metrics["interval_coverage"]["coverage"] for s in range(20)]
    assert 0.885 <= np.mean(covs) <= 0.93


def test_holdout_error_by_decile_equals_scikit_learn_and_statsmodels(diabetes):
    """Issue 23: the holdout page's error by decile of the prediction, with t intervals, and the plotted points."""
    ctx, test = diabetes
    m = run_check(get_check("evaluation.holdout"), ctx).metrics
    y, p = test["target"].to_numpy(float), test["pred"].to_numpy(float)
    bins = np.array_split(np.argsort(p, kind="stable"), 10)  # tenths of the rows sorted by prediction
    assert [d["n"] for d in m["by_decile"]] == [len(b) for b in bins]
    for d, idx in zip(m["by_decile"], bins, strict=True):
        assert d["mae"] == pytest.approx(mean_absolute_error(y[idx], p[idx]))
        assert np.allclose(d["mae_ci"], DescrStatsW(np.abs(p[idx] - y[idx])).tconfint_mean(0.05), rtol=1e-10)
        assert np.allclose(d["mean_actual_ci"], DescrStatsW(y[idx]).tconfint_mean(0.05), rtol=1e-10)
        assert d["mean_error"] == pytest.approx(np.mean(p[idx] - y[idx]))
    pts = m["points"]
    assert pts["rows"] == len(y) and len(pts["prediction"]) == min(len(y), 1000)
    for a, b in zip(pts["prediction"], pts["actual"], strict=True):  # each point is a holdout row (6 digits)
        assert np.any((np.abs(p - a) <= 1e-5 * np.abs(p)) & (np.abs(y - b) <= 1e-5 * np.abs(y)))


def test_holdout_page_draws_the_regression_plots(diabetes):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, _ = diabetes
    report = run_review(ctx, checks=["evaluation.holdout"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="diabetes", is_sample=False)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 3
    text = " ".join(m.value for m in at.markdown)
    assert "Predicted vs actual" in text and "Error by decile of the prediction" in text


def test_the_largest_bias_is_said_with_the_interval_of_the_amount_said(diabetes):
    """'under-estimated by 24.4 (95% interval −42.3 to −6.5)' read as a negative under-estimate: the interval is of
    the amount in the sentence (− the mean error when under-estimated), from statsmodels' t interval."""
    ctx, test = diabetes
    res = _calib(ctx)
    worst = max(res.metrics["by_decile"], key=lambda d: abs(d["mean_error"]))
    e = (test["pred"] - test["target"]).to_numpy()
    order = np.argsort(test["pred"].to_numpy(), kind="stable")
    idx = np.array_split(order, 10)[res.metrics["by_decile"].index(worst)]
    lo, hi = DescrStatsW(e[idx]).tconfint_mean(0.05)
    amount = (lo, hi) if e[idx].mean() > 0 else (-hi, -lo)
    from readiness.fmt import interval

    msg = next(f.message for f in res.findings if f.message.startswith("Largest bias along the range"))
    assert f"(95% interval {interval(list(amount), value=abs(e[idx].mean()))})" in msg
    d = max(0, 2 - int(np.floor(np.log10(abs(e[idx].mean())))))  # the amount's 3 significant digits (issue 23)
    assert f"by {abs(e[idx].mean()):.{d}f} on average (95% interval {amount[0]:.{d}f}–{amount[1]:.{d}f})" in msg
    assert ("under-estimated" in msg) == (e[idx].mean() < 0) and min(amount) < abs(e[idx].mean()) < max(amount)


@pytest.fixture(scope="module")
def diabetes_model():
    """The diabetes data with a fitted Ridge model (sex as the data has it, 1 or 2, a model input)."""
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = Ridge(alpha=1.0).fit(train[feats], train["target"])
    return make_ctx(train, test, target="target", model=model, sensitive=["sex"]), model, test, feats


def test_robustness_of_a_regression_speaks_of_predictions_that_move_not_decisions_that_flip(diabetes_model):
    """Swapping only `sex` moves every prediction of a linear model by |its coefficient| (closed form): all rows
    when that is beyond the tolerance (a tenth of the target's standard deviation), none when it is not."""
    from readiness.fmt import number

    ctx, model, test, feats = diabetes_model
    res = run_check(get_check("robustness.perturbation"), ctx)
    tol = 0.1 * np.std(test["target"].to_numpy(float))
    coef = abs(model.coef_[feats.index("sex")])
    assert res.title == "Robustness: do small changes move predictions?"
    assert res.metrics["sensitive_flip_rate"]["sex"] == (1.0 if coef > tol else 0.0)
    assert f"of predictions move by more than {number(tol)}, a tenth of the target's standard deviation," in res.summary
    text = res.summary + " ".join(f.message for f in res.findings)
    assert ") (" not in text and "((" not in text and "))" not in text  # one parenthesis at a time (issue 23)
    assert "decision" not in text and "flip" not in text
    assert get_check("robustness.perturbation").title == "Robustness: do small changes flip decisions?"  # classifiers


def test_a_regression_review_is_titled_and_worded_for_predictions(diabetes_model):
    """Issue 23: no 'probabilities', 'Bayes error' or 'decisions' for a model that predicts a number; the
    classifier titles are unchanged (control)."""
    ctx, *_ = diabetes_model
    titles = {"calibration": "Calibration: are the predictions right on average along their range?",
              "feasibility.bayes_error": "Noise floor: how good can any model be?",
              "explanations.shap": "SHAP: what drives the model's predictions"}
    for cid, title in titles.items():
        res = run_check(get_check(cid), ctx)
        assert res.title == title and get_check(cid).title != title, cid
    shap = run_check(get_check("explanations.shap"), ctx)
    assert "The model's predictions are driven most by" in shap.summary and "decision" not in shap.summary


# --- bias.categories for regression: the sources of harm that apply ---------------------------------------


def _harm(seed, *, target_shift=0.0, noise_b=1.0, pred_shift_b=0.0, n=3000):
    """y = 2x + noise; group b's target shifted by `target_shift` (the model sees it through `x2`), its noise
    scaled by `noise_b`, its predictions shifted by `pred_shift_b`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    grp = rng.choice(["a", "b"], size=n)
    b = grp == "b"
    y = 2 * x + target_shift * b + rng.normal(size=n) * np.where(b, noise_b, 1.0)
    pred = 2 * x + target_shift * b + pred_shift_b * b
    f = pd.DataFrame({"x": x, "grp": grp, "y": y, "pred": pred})
    ctx = make_ctx(f.iloc[: n // 2].reset_index(drop=True), f.iloc[n // 2:].reset_index(drop=True), target="y",
                   prediction_column="pred", sensitive=["grp"])
    cats = run_check(get_check("bias.categories"), ctx).metrics["categories"]
    return cats, f, f.iloc[n // 2:]


def test_historical_bias_of_a_regression_target_is_welchs_difference_of_means():
    cats, f, _ = _harm(1, target_shift=1.5)
    h = cats["historical"]
    assert h["status"] == "warn" and "The target itself differs by group" in h["summary"]
    gap = h["evidence"]["attributes"]["grp"]["largest_gap"]
    hi, lo = f.loc[f.grp == "b", "y"], f.loc[f.grp == "a", "y"]  # training + holdout rows
    ref = stats.ttest_ind(hi, lo, equal_var=False)
    assert gap["highest"] == "b" and gap["difference"] == pytest.approx(hi.mean() - lo.mean())
    assert np.allclose(gap["difference_ci"], ref.confidence_interval(0.95), rtol=1e-9)
    assert gap["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert gap["standardised"] == pytest.approx((hi.mean() - lo.mean()) / f["y"].std(ddof=1))


def test_aggregation_names_the_group_the_model_serves_worse():
    cats, _, test = _harm(2, noise_b=2.5)
    agg = cats["aggregation"]
    assert agg["status"] in ("warn", "fail") and "grp = b" in agg["summary"] and "grp = a" not in agg["summary"]
    row = agg["evidence"]["attributes"]["grp"]["b"]
    sel = test.grp == "b"
    assert row["mae"] == pytest.approx(mean_absolute_error(test.y[sel], test.pred[sel]))
    assert np.allclose(row["mae_ci"], DescrStatsW(np.abs(test.pred - test.y)[sel]).tconfint_mean(0.05))


def test_learning_bias_is_the_widening_of_the_targets_gap():
    cats, _, test = _harm(3, target_shift=1.0, pred_shift_b=0.6)
    learn = cats["learning"]
    assert learn["status"] == "warn" and "widens the gap" in learn["summary"]
    row = learn["evidence"]["attributes"]["grp"]
    e = test.pred - test.y
    want = (test.pred[test.grp == "b"].mean() - test.pred[test.grp == "a"].mean()) - (
        test.y[test.grp == "b"].mean() - test.y[test.grp == "a"].mean())
    assert row["highest"] == "b" and row["widening"] == pytest.approx(want)
    cm = CompareMeans(DescrStatsW(e[test.grp == "b"]), DescrStatsW(e[test.grp == "a"]))
    assert np.allclose(row["widening_ci"], cm.tconfint_diff(alpha=0.05, usevar="unequal"), rtol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_honest_regressions_raise_no_harm(seed):
    cats, _, _ = _harm(20 + seed)
    for c in ("historical", "aggregation", "learning"):
        assert cats[c]["status"] == "pass", (c, cats[c]["summary"])


def test_baselines_say_higher_when_the_model_errs_more_and_a_ridge_model_is_itself_the_baseline(diabetes_model):
    """Issue 23: 'error lower by −1.895' hid a model worse than ridge; the difference is MAE(baseline) − MAE(model)
    (sklearn), said as 'higher' when negative; a Ridge model tying the ridge baseline is told it is one, and
    floating-point noise is no '8e-17'."""
    import re

    from readiness.fmt import number

    ctx, model, test, feats = diabetes_model
    res = run_check(get_check("baselines.comparison"), ctx)
    assert res.metrics["model_is_simple_baseline"] == "ridge" and "The model is itself a ridge regression" in res.summary
    text = res.findings[0].message
    assert not re.search(r"\d[eE][+-]?\d", text), text
    worse = test.assign(pred=model.predict(test[feats]) + 40.0)  # every prediction 40 too high
    train = ctx.train.assign(pred=model.predict(ctx.train[feats]))
    res = run_check(get_check("baselines.comparison"), make_ctx(train, worse, target="target", prediction_column="pred"))
    m = res.metrics
    d = m["baselines"][m["best_baseline"]]["mae"] - mean_absolute_error(worse["target"], worse["pred"])
    assert d < 0 and m["mae_improvement"] == pytest.approx(d)
    assert f"absolute error is higher by {number(-d)} per row" in res.findings[0].message
    assert res.status.value == "fail"


def test_the_leakage_chart_legend_sits_under_the_axis_title(diabetes_model):
    """Seen in the browser on diabetes (10 columns): the legend was drawn 40 px under the plot, on the x-axis
    title. It starts at least 60 px under the plot area (height − top and bottom margins), at any row count."""
    from readiness.charts.leakage import feature_power_bars

    ctx, *_ = diabetes_model
    res = run_check(get_check("leakage.feature_target"), ctx)
    fig = feature_power_bars(res)
    lay = fig.layout
    plot_h = lay.height - lay.margin.t - lay.margin.b
    assert len(fig.data[0].y) == 10 and lay.legend.yanchor == "top" and -lay.legend.y * plot_h >= 60


def test_bias_page_shows_the_regression_harm_evidence(diabetes):
    """The Bias page's cards read a regression's evidence (mean target, each group's error), not a classifier's."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, _ = diabetes
    report = run_review(ctx, checks=["bias.groups", "bias.categories"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="diabetes", is_sample=False)
    at.switch_page("pages/bias.py").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "mean target by group" in text and "overall MAE" in text and "apart; the model" in text


def test_a_model_that_is_the_ridge_baseline_ties_it_exactly_not_by_floating_point_noise():
    """Seen in the browser: the ridge pipeline the user brought equals the ridge baseline, and the page showed
    'How much smaller the model's errors are: < 0.001 (< 0.001 – < 0.001)' from 1e-14 noise. The difference of
    two identical models is 0 (known answer), and its interval is [0, 0]."""
    from sklearn.pipeline import make_pipeline

    from readiness.checks.baselines import _preprocessor

    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = make_pipeline(_preprocessor(train, feats), Ridge(alpha=1.0)).fit(train[feats], train["target"])
    res = run_check(get_check("baselines.comparison"), make_ctx(train, test, target="target", model=model))
    m = res.metrics
    assert m["best_baseline"] == "ridge" and m["baselines"]["ridge"]["mae"] == pytest.approx(m["model"]["mae"])
    assert m["mae_improvement"] == 0.0 and m["mae_improvement_ci"] == [0.0, 0.0]
    assert "on average the model's absolute error is the same as the baseline's (baseline − model 0, 95% interval" \
        in res.findings[0].message  # not "lower by 0 per row"


def test_where_it_fails_page_speaks_of_predictions_for_a_regression(diabetes_model):
    """Seen in the browser on diabetes: 'Small changes: do they flip decisions?', 'Decisions changed by a sensitive
    attribute alone' for a model that predicts a number."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, *_ = diabetes_model
    report = run_review(ctx, checks=["robustness.perturbation"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="diabetes", is_sample=False)
    at.switch_page("pages/where_it_fails.py").run()
    assert not at.exception, at.exception
    assert "Small changes: do they move predictions?" in [h.value for h in at.subheader]
    labels = [m.label for m in at.metric]
    assert "Predictions moved by a sensitive attribute alone" in labels and not any("Decision" in x for x in labels)


def test_no_target_is_not_shown_as_a_passed_target(diabetes):
    """Issue 23: 'is the target reachable' with no target set is not applicable, not a pass: the Feasibility
    page's card does not ask 'Is the target reachable?' beside a Pass badge when no target was set."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, _ = diabetes
    report = run_review(ctx, checks=["feasibility.bayes_error", "baselines.comparison"])
    assert report.check("feasibility.bayes_error").metrics["verdict"] == "no_target"
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="diabetes", is_sample=False)
    at.switch_page("pages/feasibility.py").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Is the target reachable?" not in text and "How good can any model be? (no target set)" in text
    assert "no target was set, so whether one is reachable is not applicable" in text


def test_explanations_page_explains_a_prediction_of_a_regression(diabetes_model):
    """Seen in the browser on diabetes: 'Explain one decision' and 'Why does the model decide what it decides'
    for a model that predicts a number."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, *_ = diabetes_model
    report = run_review(ctx, checks=["explanations.shap", "explanations.lime"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="diabetes", is_sample=False)
    at.switch_page("pages/explanations.py").run()
    assert not at.exception, at.exception
    assert "Explain one prediction: SHAP and LIME side by side" in [h.value for h in at.subheader]
    assert at.caption[0].value.startswith("Why does the model predict what it predicts")


def test_decile_labels_share_one_precision(diabetes):
    """Seen in the browser on diabetes: '44.82 – 82.39' beside '238 – 298.3'. One number of decimals for every
    bound, from the narrowest decile (three significant digits of its width)."""
    import math

    from readiness.charts.evaluation import error_by_decile, range_labels

    ctx, _ = diabetes
    res = run_check(get_check("evaluation.holdout"), ctx)
    labels = list(error_by_decile(res).data[0].x)
    d = res.metrics["by_decile"]
    dec = max(0, 2 - math.floor(math.log10(min(b["hi"] - b["lo"] for b in d))))
    assert labels == [f"{b['lo']:,.{dec}f} – {b['hi']:,.{dec}f}" for b in d]
    assert dec == 1  # diabetes: one decimal on every bound
    assert range_labels([(-1.5, 0.25), (0.25, 3.0)]) == ["−1.50 – 0.25", "0.25 – 3.00"]  # narrowest 1.75: 2 decimals


def test_the_pdf_figures_of_a_regression_bias_review_carry_the_error(diabetes):
    from readiness.report.figures import key_figures

    ctx, test = diabetes
    m = _groups(ctx).metrics
    rows = {label: value for label, value, _ in key_figures("bias.groups", m)}
    mae = mean_absolute_error(test["target"], test["pred"])
    from readiness.fmt import number

    assert rows["Mean absolute error, all holdout rows"].startswith(number(mae) + " (")
    assert "Largest accuracy gap between groups" not in rows and "Decision threshold" not in rows


def test_explanation_chart_labels_share_one_number_of_decimals():
    """Issue 23: a regression's SHAP waterfall read '−36.953' (three decimals, whatever the scale). Every label
    now has the decimals of three significant digits of the chart's largest step: 36.953 -> 1 decimal, written
    out by hand; a probability-scale chart keeps three (control)."""
    from readiness.charts.explanations import waterfall

    def labels(base, steps):
        contribs = [{"feature": f"f{i}", "value": 1.0, "shap": v} for i, v in enumerate(steps)]
        row = {"shap": {"base_value": base, "output_value": base + sum(steps), "contributions": contribs,
                        "output_space": "prediction"}}
        return list(waterfall(row).data[0].text)

    assert labels(152.13, [-36.953, 2.41, 0.04]) == ["152.1", "−37.0", "+2.4", "0.0", "117.6"]  # a step that rounds to 0 has no sign
    assert labels(0.31, [0.1234, -0.0456]) == ["0.310", "+0.123", "−0.046", "0.388"]
