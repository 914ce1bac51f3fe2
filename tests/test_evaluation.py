"""Known-answer tests for evaluation.holdout and the interval functions."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from scipy import stats as sst
from sklearn.linear_model import LinearRegression, LogisticRegression

from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check
from readiness.stats import bootstrap_ci, clopper_pearson, wilson


# reference values from shared/science (part B2), computed there with scipy
@pytest.mark.parametrize("x,n,w,cp", [
    (90, 100, (0.8256, 0.9448), (0.8238, 0.9510)),
    (950, 1000, (0.9347, 0.9619), (0.9346, 0.9627)),
    (9500, 10000, (0.9456, 0.9541), (0.9455, 0.9542)),
    (990, 1000, (0.9817, 0.9946), (0.9817, 0.9952)),
    (1000, 1000, (0.9962, 1.0), (0.9963, 1.0)),
])
def test_intervals_match_reference_values(x, n, w, cp):
    assert np.allclose(wilson(x, n), w, atol=1e-4)
    assert np.allclose(clopper_pearson(x, n), cp, atol=1e-4)


@pytest.mark.parametrize("n,p,expected_w,expected_cp", [
    (100, 0.5, 0.9431, 0.9648), (100, 0.9, 0.9364, 0.9557), (1000, 0.99, 0.9635, 0.9761)])
def test_exact_coverage_of_intervals(n, p, expected_w, expected_cp):
    xs = np.arange(n + 1)
    pmf = sst.binom.pmf(xs, n, p)
    cov_w = sum(pmf[x] for x in xs if wilson(int(x), n)[0] <= p <= wilson(int(x), n)[1])
    cov_cp = sum(pmf[x] for x in xs if clopper_pearson(int(x), n)[0] <= p <= clopper_pearson(int(x), n)[1])
    assert cov_w == pytest.approx(expected_w, abs=1e-3)
    assert cov_cp == pytest.approx(expected_cp, abs=1e-3) and cov_cp >= 0.95


def test_bootstrap_interval_covers_the_mean_of_a_normal_sample():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 2, 2000)
    lo, hi = bootstrap_ci(np.mean, x, n_boot=300)
    half = 1.96 * 2 / np.sqrt(2000)
    assert lo == pytest.approx(x.mean() - half, abs=0.03) and hi == pytest.approx(x.mean() + half, abs=0.03)


def data(n=2000, seed=0, signal=1.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-signal * x))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "y": y, "p": p})


def holdout(ctx):
    return run_check(get_check("evaluation.holdout"), ctx)


def test_binary_metrics_equal_an_independent_computation():
    from sklearn import metrics as skm

    df = data()
    train, test = df.iloc[:1000], df.iloc[1000:]
    clf = LogisticRegression().fit(train[["x", "noise"]], train["y"])
    r = holdout(make_ctx(train.drop(columns="p"), test.drop(columns="p"), target="y", model=clf))
    p = clf.predict_proba(test[["x", "noise"]])[:, 1]
    pred = (p >= 0.5).astype(int)
    m = r.metrics
    k = int((pred == test["y"]).sum())
    assert m["n"] == 1000
    assert m["accuracy"] == pytest.approx(k / 1000)
    lo = sst.beta.ppf(0.025, k, 1000 - k + 1)
    hi = sst.beta.ppf(0.975, k + 1, 1000 - k)
    assert m["accuracy_ci"] == pytest.approx([lo, hi])
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(test["y"], p))
    assert m["roc_auc_ci"][0] < m["roc_auc"] < m["roc_auc_ci"][1]
    assert m["log_loss"] == pytest.approx(skm.log_loss(test["y"], p))
    tn, fp, fn, tp = skm.confusion_matrix(test["y"], pred).ravel()
    assert m["confusion_matrix"]["matrix"] == [[tn, fp], [fn, tp]]
    assert m["recall"] == pytest.approx(tp / (tp + fn)) and m["precision"] == pytest.approx(tp / (tp + fp))
    assert m["majority_class_rate"] == pytest.approx(max(test["y"].mean(), 1 - test["y"].mean()))
    assert r.status == "pass"


def test_threshold_changes_predictions_from_a_prediction_column():
    df = data()
    ctx = make_ctx(df.iloc[:1000], df.iloc[1000:], target="y", prediction_column="p", settings=Settings(threshold=0.8))
    m = holdout(ctx).metrics
    test = df.iloc[1000:]
    pred = (test["p"] >= 0.8).astype(int)
    assert m["accuracy"] == pytest.approx((pred == test["y"]).mean())
    assert m["threshold"] == 0.8


def test_useless_model_fails():
    df = data(signal=0.0)  # labels independent of x
    df["y"] = (np.random.default_rng(5).random(len(df)) < 0.2).astype(int)
    df["p"] = np.random.default_rng(6).random(len(df))
    r = holdout(make_ctx(df.iloc[:1000], df.iloc[1000:], target="y", prediction_column="p"))
    assert r.status == "fail"
    assert any("no better than always predicting" in f.message for f in r.findings)


def test_target_accuracy_rules():
    df = data(signal=3.0)
    train, test = df.iloc[:1000], df.iloc[1000:]
    ctx_args = dict(target="y", prediction_column="p")
    acc = holdout(make_ctx(train, test, **ctx_args)).metrics["accuracy"]
    hi = holdout(make_ctx(train, test, settings=Settings(target_accuracy=min(0.999, acc + 0.1)), **ctx_args))
    assert hi.status == "fail"
    inside = holdout(make_ctx(train, test, settings=Settings(target_accuracy=acc), **ctx_args))
    assert inside.status == "warn"
    low = holdout(make_ctx(train, test, settings=Settings(target_accuracy=acc - 0.1), **ctx_args))
    assert low.status == "pass"


def test_small_holdout_is_information_not_an_alarm():
    """Issue 18: a small holdout is stated with its ± (info); the status rests on the intervals."""
    df = data(n=1150)
    r = holdout(make_ctx(df.iloc[:1000], df.iloc[1000:], target="y", prediction_column="p"))
    assert r.metrics["n"] == 150 and r.status == "pass"
    note = [f for f in r.findings if f.evidence.get("n") == 150]
    assert len(note) == 1 and note[0].severity == "info"
    lo, hi = sst.beta.ppf([0.025, 0.975], [r.metrics["accuracy"] * 150, r.metrics["accuracy"] * 150 + 1],
                          [150 - r.metrics["accuracy"] * 150 + 1, 150 - r.metrics["accuracy"] * 150])
    assert f"±{100 * (hi - lo) / 2:.1f}%" in note[0].message  # the exact interval's half-width, from scipy


def test_an_auc_interval_that_reaches_chance_warns_and_a_clear_one_passes():
    """Weak signal on a small holdout: the model may rank no better than chance -> warn (the minimal claim
    is not shown); the same signal on a large holdout shows it -> pass. The AUC interval is checked against
    sklearn's AUC and a Hanley-McNeil normal interval (independent, rougher)."""
    from sklearn.metrics import roc_auc_score

    def case(n, seed):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=n)
        y = (rng.random(n) < 1 / (1 + np.exp(-(0.25 * x)))).astype(int)
        return pd.DataFrame({"x": x, "y": y, "p": 1 / (1 + np.exp(-(0.25 * x)))})

    small = case(1200, 3)
    r = holdout(make_ctx(small.iloc[:1000], small.iloc[1000:], target="y", prediction_column="p"))
    te = small.iloc[1000:]
    auc = roc_auc_score(te["y"], te["p"])
    n1, n0 = int(te["y"].sum()), int((1 - te["y"]).sum())
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n0 - 1) * (q2 - auc ** 2)) / (n1 * n0))
    assert auc - 1.96 * se < 0.5 < auc  # the independent interval reaches chance too
    assert r.metrics["roc_auc"] == pytest.approx(auc) and r.metrics["roc_auc_ci"][0] <= 0.5
    assert r.status == "warn" and any("better than chance" in f.message for f in r.findings)
    large = case(21000, 3)
    r2 = holdout(make_ctx(large.iloc[:1000], large.iloc[1000:], target="y", prediction_column="p"))
    assert r2.metrics["roc_auc_ci"][0] > 0.5 and r2.status == "pass", [f.message for f in r2.findings]


def test_rows_without_scores_are_excluded_and_reported():
    df = data()
    test = df.iloc[1000:].copy()
    test.loc[test.index[:10], "p"] = np.nan
    r = holdout(make_ctx(df.iloc[:1000], test, target="y", prediction_column="p"))
    assert r.metrics["n"] == 990
    assert any(f.evidence.get("rows_without_score") == 10 for f in r.findings)


def test_regression_metrics():
    from sklearn import metrics as skm

    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=1000)})
    df["y"] = 3 * df["x"] + rng.normal(size=1000)
    reg = LinearRegression().fit(df.iloc[:500][["x"]], df.iloc[:500]["y"])
    r = holdout(make_ctx(df.iloc[:500], df.iloc[500:], target="y", model=reg))
    p = reg.predict(df.iloc[500:][["x"]])
    y = df.iloc[500:]["y"]
    assert r.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert r.metrics["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert r.metrics["r2"] == pytest.approx(skm.r2_score(y, p))
    assert r.status == "pass"


def test_multiclass_metrics():
    from sklearn import metrics as skm

    rng = np.random.default_rng(4)
    x = rng.normal(size=(1500, 2))
    y = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["a", "b"], "c")
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": y})
    clf = LogisticRegression().fit(df.iloc[:1000][["x0", "x1"]], df.iloc[:1000]["y"])
    r = holdout(make_ctx(df.iloc[:1000], df.iloc[1000:], target="y", model=clf))
    test = df.iloc[1000:]
    proba = clf.predict_proba(test[["x0", "x1"]])
    assert r.metrics["accuracy"] == pytest.approx((clf.predict(test[["x0", "x1"]]) == test["y"]).mean())
    assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(test["y"], proba, multi_class="ovr"))
    assert r.metrics["confusion_matrix"]["labels"] == ["a", "b", "c"]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_fast_balanced_accuracy_equals_sklearn(k):
    from sklearn.metrics import balanced_accuracy_score

    from readiness.checks.evaluation import balanced_accuracy

    rng = np.random.default_rng(k)
    y, p = rng.integers(0, k, 700), rng.integers(0, k, 700)
    assert balanced_accuracy(y, p, k) == pytest.approx(balanced_accuracy_score(y, p))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_the_balanced_accuracy_of_confusion_cells_is_sklearns_and_the_fast_ones_bit_for_bit(k):
    from sklearn.metrics import balanced_accuracy_score

    from readiness.checks.evaluation import _balanced_accuracy_of_cells, balanced_accuracy

    rng = np.random.default_rng(k)
    y, p = rng.integers(0, k, 700), rng.integers(0, k, 700)
    y[y == k - 1] = 0  # a class never seen in the truth counts in no recall
    for idx in [np.arange(700)] + [rng.integers(0, 700, 700) for _ in range(10)]:
        got = _balanced_accuracy_of_cells(y[idx] * k + p[idx], k)
        assert got == balanced_accuracy(y[idx], p[idx], k)
        assert got == pytest.approx(balanced_accuracy_score(y[idx], p[idx]), abs=1e-12)


def test_the_log_loss_bootstrap_resamples_rows_and_equals_sklearn_bit_for_bit():
    """Issue 15: the interval resamples per-row losses instead of calling log_loss 200 times; each
    resample's value, hence the interval, is sklearn's exactly (clipped extremes included)."""
    from sklearn import metrics as skm

    from readiness.stats import log_loss_rows

    rng = np.random.default_rng(15)
    n = 3000
    y = rng.integers(0, 2, n)
    p = np.clip(rng.beta(0.5, 0.5, n), 1e-15, 1 - 1e-15)
    p[:4] = [1e-15, 1 - 1e-15, 0.5, 1e-15]
    rows = log_loss_rows(y, p)
    for _ in range(20):
        idx = rng.integers(0, n, n)
        assert float(np.mean(rows[idx])) == skm.log_loss(y[idx], p[idx], labels=[0, 1])
    slow = bootstrap_ci(lambda a, b: skm.log_loss(a, b, labels=[0, 1]), y, p, n_boot=60, seed=3)
    assert bootstrap_ci(np.mean, rows, n_boot=60, seed=3) == slow


def test_holdout_labels_read_as_floats_because_some_are_missing_are_the_training_labels(tmp_path):
    """A CSV holdout whose target has a missing value is read as floats (0.0, 1.0) while training's is
    integer (0, 1): the rows without a label are left out and the rest are the same labels (the check
    raised 'At least one label specified must be in y_true')."""
    from sklearn.metrics import accuracy_score

    from readiness import Roles, prepare_review

    rng = np.random.default_rng(4)

    def frame(n):
        x = rng.normal(size=n)
        p = 1 / (1 + np.exp(-2 * x))
        return pd.DataFrame({"x": x, "y": (rng.random(n) < p).astype(int), "score": p})

    train, test = frame(600), frame(300)
    test["y"] = test["y"].astype(object)
    test.loc[:9, "y"] = None
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    assert pd.read_csv(tmp_path / "test.csv")["y"].dtype == float  # the reader's doing
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv",
                         roles=Roles(target="y", prediction_column="score"), settings=Settings(bootstrap=20))
    res = run_check(get_check("evaluation.holdout"), ctx)
    labelled = test.iloc[10:]
    expected = accuracy_score(labelled["y"].astype(int), (labelled["score"] >= 0.5).astype(int))
    assert res.status.value != "error", res.summary
    assert res.metrics["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert res.metrics["n"] == 290
