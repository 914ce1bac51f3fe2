"""baselines.comparison: the paired statistics against reference values, then planted cases —
a model no better than a baseline (warn), one worse (fail), one clearly better (pass), a
threshold trade-off, a prediction column, regression and multiclass."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from scipy import stats
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from readiness import ber
from readiness.checks.baselines import bootstrap_aucs, paired_accuracy, weighted_auc
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check
from readiness.stats import rank_auc

# --- reference values --------------------------------------------------------------------------

# science doc, part B6: (b, c) -> exact two-sided p, χ²_cc, p_cc, exact one-sided p
MCNEMAR_TABLE = [
    ((10, 25), 0.01667, 5.60, 0.01796, 0.00834),
    ((40, 60), 0.05689, 3.61, 0.05743, 0.02844),
    ((5, 15), 0.04139, 4.05, 0.04417, 0.02069),
    ((100, 130), 0.05561, 3.657, 0.05585, 0.02781),
]


@pytest.mark.parametrize("bc,exact,chi2,p_cc,one_sided", MCNEMAR_TABLE)
def test_mcnemar_reproduces_the_reference_table(bc, exact, chi2, p_cc, one_sided):
    b, c = bc
    assert ber.mcnemar_exact(b, c) == pytest.approx(exact, abs=1e-4)
    got_chi2, got_p = ber.mcnemar_cc(b, c)
    decimals = len(str(chi2).split(".")[1])
    assert got_chi2 == pytest.approx(chi2, abs=0.5 * 10 ** -decimals)
    assert got_p == pytest.approx(p_cc, abs=1e-4)
    assert ber.mcnemar_exact_one_sided(b, c) == pytest.approx(one_sided, abs=1e-4)


def test_mcnemar_switches_to_exact_below_25_discordant_rows():
    assert ber.mcnemar(5, 15) == {"test": "exact", "p_value": pytest.approx(0.04139, abs=1e-4), "statistic": None}
    assert ber.mcnemar(10, 25)["test"] == "continuity-corrected chi-squared"
    assert ber.mcnemar(0, 0)["p_value"] == 1.0


def test_newcombe_paired_interval_reference():
    """Fagerland, Lydersen & Laake, 'Statistical Analysis of Contingency Tables', ch. 8 (R package
    contingencytables, test-ch8.R): table [[59, 6], [16, 80]] -> −0.0621 (95% CI −0.1186 to −0.0046)."""
    d, lo, hi = ber.newcombe_paired(59, 6, 16, 80)
    assert d == pytest.approx(-0.0621, abs=5e-5)
    assert lo == pytest.approx(-0.1186, abs=5e-5)
    assert hi == pytest.approx(-0.0046, abs=5e-5)


def test_wald_paired_by_hand():
    d, lo, hi = ber.wald_paired(10, 25, 200)
    half = 1.959964 * math.sqrt((35 / 200 - (15 / 200) ** 2) / 200)
    assert (d, lo, hi) == (pytest.approx(0.075), pytest.approx(0.075 - half, abs=1e-6), pytest.approx(0.075 + half, abs=1e-6))


def test_paired_accuracy_counts_discordant_rows():
    model = np.array([1, 1, 1, 0, 0, 1, 0, 1], bool)
    base = np.array([1, 0, 0, 1, 0, 1, 0, 0], bool)
    out = paired_accuracy(model, base, alpha=0.05)
    assert (out["both_right"], out["c_model_only_right"], out["b_baseline_only_right"], out["both_wrong"]) == (2, 3, 1, 2)
    assert out["difference"] == pytest.approx(2 / 8)
    assert out["mcnemar_test"] == "exact" and out["p_value"] == pytest.approx(ber.mcnemar_exact(1, 3))


def test_rank_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + 0.3 * y, 1)  # many ties
    assert rank_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_weighted_auc_equals_the_auc_of_the_explicit_resample():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) + 0.5 * y, 1)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    draw_pos, draw_neg = rng.integers(0, len(pos), len(pos)), rng.integers(0, len(neg), len(neg))
    idx = np.concatenate([pos[draw_pos], neg[draw_neg]])
    uniq, inv = np.unique(s, return_inverse=True)
    got = weighted_auc(inv, len(uniq), pos, neg, np.bincount(draw_pos, minlength=len(pos)).astype(float),
                       np.bincount(draw_neg, minlength=len(neg)).astype(float))
    assert got == pytest.approx(rank_auc(y[idx], s[idx]), abs=1e-12)
    boots = bootstrap_aucs(y, {"a": s, "b": s.copy()}, n_boot=50, seed=0)
    assert np.array_equal(boots["a"], boots["b"])  # the same resamples for every score: a paired bootstrap
    assert abs(np.mean(boots["a"]) - rank_auc(y, s)) < 0.02


def test_the_bootstrap_aucs_are_the_aucs_of_the_explicit_resamples():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400)
    scores = {"ties": np.round(rng.random(400) + 0.5 * y, 1), "fine": rng.random(400) + 0.3 * y}
    boots = bootstrap_aucs(y, scores, n_boot=30, seed=4)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    draws = np.random.default_rng(4)  # the resamples bootstrap_aucs draws: positives, then negatives
    for b in range(30):
        idx = np.concatenate([pos[draws.integers(0, len(pos), len(pos))], neg[draws.integers(0, len(neg), len(neg))]])
        for k, s in scores.items():
            assert boots[k][b] == pytest.approx(roc_auc_score(y[idx], s[idx]), abs=1e-12)


def test_baselines_sharing_one_preprocessor_predict_as_their_own_pipelines():
    from sklearn.base import clone

    from readiness.checks import baselines as BL

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
                          "c": pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str"),
                          "o": rng.choice(["p", "q", "r"], n).astype(object)})
    frame.loc[:5, "c"] = [f"rare{i}" for i in range(6)]
    y = (frame["x"] + (frame["c"] == "a") + rng.normal(size=n) > 0.5).astype(int).to_numpy()
    features = ["x", "z", "c", "o"]
    X = BL._as_text(frame.iloc[:400], features)
    Xte = BL._as_text(frame.iloc[400:].assign(c=lambda d: d["c"].where(d.index % 7 != 0, "unseen")), features)
    # a text column keeps its own storage until here: the encoder sees the same object strings either way
    slow = frame["c"].astype("object").where(frame["c"].notna(), "(missing)").astype(str).astype(object)
    assert BL._as_text(frame, features)["c"].tolist() == slow.tolist()
    shared: dict = {}
    for key, est in BL._baseline_models("binary", 0, X, features).items():
        alone = clone(est).fit(X, y[:400])
        fitted = BL._fit_baseline(est, X, y[:400], shared)
        assert list(fitted.classes_) == list(alone.classes_)
        assert np.array_equal(fitted.predict_proba(Xte), alone.predict_proba(Xte)), key
        assert np.array_equal(fitted.predict(Xte), alone.predict(Xte)), key
    assert shared["error"] is None and shared["train"].shape == (400, shared["pre"].transform(X).shape[1])
    broken: dict = {}  # a preprocessor that cannot be fitted fails every pipeline, as each own fit would
    bad = X.assign(x=np.inf)
    errors = []
    for est in BL._baseline_models("binary", 0, bad, features).values():
        try:
            BL._fit_baseline(est, bad, y[:400], broken)
        except ValueError as exc:
            errors.append(str(exc))
    with pytest.raises(ValueError) as own:
        clone(BL._baseline_models("binary", 0, bad, features)["logistic_regression"]).fit(bad, y[:400])
    assert errors == [str(own.value)] * 2


def test_unique_inverse_is_numpys_unique():
    from readiness.stats import unique_inverse

    cases = [np.array(["b", "a", "b", "10", "9", "é", "B"], dtype=object), np.array(["y", "x", "y"]),
             np.array([3, 1, 3, -2]), np.array([0.5, np.nan, 0.5, -1.0]), np.array([True, False, True])]
    for values in cases:
        got_values, got_inverse = unique_inverse(values)
        want_values, want_inverse = np.unique(values, return_inverse=True)
        assert got_values.tolist() == want_values.tolist() or np.array_equal(got_values, want_values, equal_nan=True)
        assert got_inverse.tolist() == want_inverse.tolist()


# --- planted cases -----------------------------------------------------------------------------


def run(train, test, model=None, threshold=0.5, **roles):
    ctx = make_ctx(train, test, target="y", model=model, settings=Settings(threshold=threshold), **roles)
    return ctx, run_check(get_check("baselines.comparison"), ctx)


def linear_frames(n_train=3000, n_test=1500, seed=0):
    """Logistic-linear truth: logistic regression is already (nearly) Bayes-optimal."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    X = rng.standard_normal((n, 3))
    p = 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 1])))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(region=rng.choice(["n", "s", "e"], n))
    frame["y"] = (rng.random(n) < p).astype(int)
    return frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)


def checkerboard_frames(n_train=4000, n_test=1500, seed=0, noise=0.0):
    """A 4×4 checkerboard: neither a linear model nor a depth-4 tree can draw it; nearest neighbours can.
    (k-NN models keep the tests fast: OpenMP boosting crawls on a shared, busy machine.)"""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    X = rng.uniform(0, 4, (n, 2))
    y = ((np.floor(X[:, 0]) + np.floor(X[:, 1])) % 2).astype(int)
    if noise:
        flip = rng.random(n) < noise
        y = np.where(flip, 1 - y, y)
    frame = pd.DataFrame(X, columns=["u", "v"]).assign(y=y)
    return frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)


@pytest.fixture(scope="module")
def checkerboard():
    train, test = checkerboard_frames()
    model = KNeighborsClassifier(n_neighbors=25).fit(train[["u", "v"]], train["y"])
    return train, test, model


def test_a_model_no_better_than_a_baseline_is_said_plainly_without_a_warning():
    """The 'model' is a logistic regression on the same data: nothing to show over the baseline —
    within the margin of practical relevance that is said plainly, in a pass (issue 18)."""
    train, test = linear_frames()
    model = LogisticRegression(C=0.5).fit(train[["a", "b", "c"]], train["y"])
    train, test = train.drop(columns="region"), test.drop(columns="region")
    _, res = run(train, test, model)
    m = res.metrics
    assert res.status == "pass", res.summary
    assert m["accuracy_verdict"] == "tie" and m["auc_verdict"] == "tie"
    assert m["best_baseline"] in ("logistic_regression", "decision_tree")
    assert m["decision_measure"] == "accuracy" and m["margin"] == 0.01 and m["margin_unit"] == "accuracy points"
    lo, hi = m["decision_difference_ci"]
    assert m["decision_verdict"] == ("within_margin" if -0.01 <= lo and hi <= 0.01 else "undetermined")
    # it is itself the simple model (issue 12): a tie is expected, no complexity to question
    assert m["model_is_simple_baseline"] == "logistic_regression"
    assert "The model is itself a logistic regression" in res.summary
    assert res.findings[0].severity.value == "info"


def test_a_tiny_significant_ranking_difference_is_not_a_failure():
    """Issue 18: a model with ROC AUC 0.997 against a logistic regression with 0.998 must not fail."""
    rng = np.random.default_rng(3)
    n = 6000
    X = rng.standard_normal((n, 2))
    logit = 20 * X[:, 0] - 10 * X[:, 1]
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=(rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    train, test = frame.iloc[:4000].reset_index(drop=True), frame.iloc[4000:].reset_index(drop=True)
    # the "model": the true logit with a little noise added — slightly worse ranking than the baseline
    noisy = 20 * test["a"] - 10 * test["b"] + rng.normal(scale=1.5, size=len(test))
    test = test.assign(score=1 / (1 + np.exp(-noisy)))
    _, res = run(train, test, prediction_column="score")
    m = res.metrics
    from sklearn.metrics import roc_auc_score

    assert m["model"]["roc_auc"] == pytest.approx(roc_auc_score(test["y"], test["score"]), abs=1e-12)
    assert m["model"]["roc_auc"] > 0.99 and -0.01 < m["auc_difference"] < 0
    assert res.status == "pass", res.summary


def test_planted_model_worse_than_a_baseline_fails():
    """Vendor scores that are pure noise: logistic regression is better by far more than the margin."""
    train, test = linear_frames()
    test = test.assign(vendor=np.random.default_rng(1).random(len(test)))
    _, res = run(train, test, prediction_column="vendor")
    m = res.metrics
    assert res.status == "fail"
    assert m["accuracy_verdict"] == "worse" and m["accuracy_difference_ci"][1] < -m["margin"]
    assert m["decision_verdict"] == "worse" and m["p_value"] < 1e-6
    assert "by more than 1.0 accuracy point" in res.summary


def test_with_costs_the_margin_is_in_cost_per_1000_decisions():
    """Costs set: the deciding measure is the cost per 1,000 decisions, counted here independently."""
    train, test = linear_frames()
    test = test.assign(vendor=np.random.default_rng(1).random(len(test)))
    ctx = make_ctx(train, test, target="y", prediction_column="vendor", settings=Settings(cost_fp=1, cost_fn=5))
    res = run_check(get_check("baselines.comparison"), ctx)
    m = res.metrics
    assert m["decision_measure"] == "cost_per_1000" and m["margin"] == pytest.approx(1000 * 0.01 * 3)
    pred = (test["vendor"] >= 0.5).astype(int)
    cost = 1000 * (((pred == 1) & (test["y"] == 0)) * 1 + ((pred == 0) & (test["y"] == 1)) * 5).mean()
    assert m["model"]["cost_per_1000"] == pytest.approx(cost)
    assert res.status == "fail" and "1,000 decisions" in res.findings[0].message


def test_clean_control_clearly_better_passes(checkerboard):
    _, res = run(*checkerboard)
    m = res.metrics
    assert res.status == "pass", res.summary
    assert m["accuracy_verdict"] == "better" and m["accuracy_difference_ci"][0] > 0.2
    assert m["model"]["accuracy"] > 0.95
    # every baseline was scored on the same holdout rows as the model
    assert m["holdout_rows"] == 1500 and all(
        sum(b["paired"][k] for k in ("both_right", "both_wrong", "b_baseline_only_right", "c_model_only_right")) == 1500
        for b in m["baselines"].values())


def test_baseline_numbers_are_independent_recomputations(checkerboard):
    """The logistic baseline's accuracy and the paired counts, recomputed here from scratch."""
    train, test, model = checkerboard
    ctx, res = run(train, test, model)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[["u", "v"]], train["y"])
    base_right = (lr.predict_proba(test[["u", "v"]])[:, 1] >= 0.5).astype(int) == test["y"].to_numpy()
    model_right = (model.predict_proba(test[["u", "v"]])[:, 1] >= 0.5).astype(int) == test["y"].to_numpy()
    got = res.metrics["baselines"]["logistic_regression"]
    assert got["accuracy"] == pytest.approx(base_right.mean(), abs=2 / len(test))
    assert got["paired"]["c_model_only_right"] == pytest.approx(int((model_right & ~base_right).sum()), abs=3)
    majority = res.metrics["baselines"]["majority"]
    assert majority["accuracy"] == pytest.approx(max(test["y"].mean(), 1 - test["y"].mean()))
    assert majority["roc_auc"] == 0.5


def test_threshold_trade_off_warns_instead_of_failing():
    """A good ranker judged at a threshold of 0.02 calls nearly everything positive: less accurate
    than the tree, but it ranks cases far better — a reviewer's call, not a fail."""
    train, test = checkerboard_frames(noise=0.2, seed=3)
    model = KNeighborsClassifier(n_neighbors=25).fit(train[["u", "v"]], train["y"])
    _, res = run(train, test, model, threshold=0.02)
    m = res.metrics
    assert m["accuracy_verdict"] == "worse" and m["auc_verdict"] == "better"
    assert res.status == "warn"
    assert "threshold 0.02" in res.findings[0].message


def test_prediction_column_is_compared_like_a_model(checkerboard):
    train, test, model = checkerboard
    test = test.assign(score=model.predict_proba(test[["u", "v"]])[:, 1])
    _, res = run(train, test, prediction_column="score")
    assert res.status == "pass" and res.metrics["features"] == 2  # the score column is not a feature


def test_bonferroni_over_recorded_holdout_uses(checkerboard):
    ctx, _ = run(*checkerboard)
    ctx.prior_holdout_evaluations = 4
    res = run_check(get_check("baselines.comparison"), ctx)
    assert res.metrics["alpha"] == pytest.approx(0.01) and res.metrics["holdout_uses"] == 5
    assert any("α = 0.05/5" in f.message for f in res.findings)


def test_training_cap_is_reported(checkerboard, monkeypatch):
    from readiness.checks import baselines

    monkeypatch.setattr(baselines, "BASELINE_TRAIN_CAP", 600)
    _, res = run(*checkerboard)
    assert res.metrics["train_rows_used"] == 600 and res.metrics["train_rows"] == 4000
    assert any("600" in f.message and "sample" in f.message for f in res.findings)


def test_multiclass():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 2400)
    X = rng.uniform(0, 3, (2400, 2))
    cls = ((np.floor(X[:, 0]) + 2 * np.floor(X[:, 1])) % 3).astype(int)
    frame = pd.DataFrame(X, columns=["u", "v"]).assign(y=np.array(["a", "b", "c"])[cls])
    train, test = frame.iloc[:1800].reset_index(drop=True), frame.iloc[1800:].reset_index(drop=True)
    model = KNeighborsClassifier(n_neighbors=25).fit(train[["u", "v"]], train["y"])
    _, res = run(train, test, model)
    assert res.status == "pass" and "roc_auc" not in res.metrics["model"]
    assert set(res.metrics["baselines"]) == {"majority", "stratified", "logistic_regression", "decision_tree"}
    del y


def regression_frames(nonlinear: bool, seed=0):
    rng = np.random.default_rng(seed)
    n = 3000
    X = rng.uniform(-3, 3, (n, 2))
    y = np.sin(2 * X[:, 0]) * 3 + np.cos(3 * X[:, 1]) * 2 if nonlinear else 2 * X[:, 0] - X[:, 1]
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=y + 0.3 * rng.standard_normal(n))
    return frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)


def test_regression_planted_and_clean():
    train, test = regression_frames(nonlinear=False)
    _, res = run(train, test, Ridge(alpha=0.5).fit(train[["a", "b"]], train["y"]))
    assert res.status == "pass" and res.metrics["mae_verdict"] in ("within_margin", "undetermined")
    # a Ridge model is itself the ridge baseline: no extra complexity to question (as for a logistic regression)
    assert "The model is itself a ridge regression: no extra complexity to question." in res.summary
    assert res.metrics["best_baseline"] == "ridge" and res.metrics["model_is_simple_baseline"] == "ridge"
    train, test = regression_frames(nonlinear=True)
    _, res = run(train, test, KNeighborsRegressor(n_neighbors=15).fit(train[["a", "b"]], train["y"]))
    m = res.metrics
    assert res.status == "pass" and m["mae_verdict"] == "better"
    # the paired interval is the textbook t-interval of the per-row differences
    d = m["mae_improvement"]
    assert m["mae_improvement_ci"][0] < d < m["mae_improvement_ci"][1]
    assert m["p_value"] < 1e-6
    assert m["baselines"]["mean"]["r2"] == pytest.approx(
        1 - np.sum((test["y"] - train["y"].mean()) ** 2) / np.sum((test["y"] - test["y"].mean()) ** 2))
    assert stats  # scipy imported for the reference above
