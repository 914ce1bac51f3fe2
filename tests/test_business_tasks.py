"""business.threshold for regression (--cost-over/--cost-under) and multiclass (--cost-matrix), issue 23:
known answers against scikit-learn's pinball loss and a brute-force search, planted defects and clean controls."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, mean_pinball_loss

from readiness.checks.business_tasks import (
    asymmetric_cost,
    best_shift,
    matrix_cost,
    regression_cost,
)
from readiness.fmt import number
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check


def _resid(seed=0, n=600, bias=0.0):
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return y, y + rng.normal(bias, 1.0, n)


@pytest.mark.parametrize("co,cu", [(1.0, 1.0), (1.0, 4.0), (5.0, 0.5)])
def test_cost_is_scaled_pinball_loss_and_the_shift_is_its_minimiser(co, cu):
    y, p = _resid()
    tau = cu / (co + cu)
    m = regression_cost(y, p, co, cu, n_boot=50)
    assert m["cost_per_1000"] == pytest.approx(1000 * (co + cu) * mean_pinball_loss(y, p, alpha=tau), rel=1e-12)
    # brute force over every candidate shift (the minimum of a piecewise-linear cost lies on a residual)
    cands = np.sort(y - p)
    costs = [asymmetric_cost(y - p - s, co, cu).mean() for s in cands]
    assert 1000 * min(costs) == pytest.approx(m["cost_per_1000_shifted"], rel=1e-12)
    assert asymmetric_cost(y - p - best_shift(y - p, co, cu), co, cu).mean() == pytest.approx(min(costs), rel=1e-12)


def _regression_review(bias, **costs):
    rng = np.random.default_rng(1)
    x = rng.normal(size=1600)
    frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=1600)})
    frame["pred"] = 2 * frame["x"] + bias
    train, test = frame.iloc[:800].reset_index(drop=True), frame.iloc[800:].reset_index(drop=True)
    ctx = make_ctx(train, test, target="y", prediction_column="pred", settings=Settings(**costs))
    return run_check(get_check("business.threshold"), ctx)


def test_a_model_biased_low_is_found_and_an_unbiased_one_passes():
    bad = _regression_review(-0.8, cost_over=1.0, cost_under=1.0)
    assert bad.status == "warn"
    lo, hi = bad.metrics["best_shift_ci"]
    assert lo <= 0.8 <= hi and bad.metrics["saving_per_1000_ci"][0] > 0
    clean = _regression_review(0.0, cost_over=1.0, cost_under=1.0)
    assert clean.status == "pass" and clean.metrics["best_shift_ci"][0] <= 0 <= clean.metrics["best_shift_ci"][1]


def test_asymmetric_costs_want_a_quantile_and_no_costs_skip():
    # under-prediction 9× as costly: the cheapest shift is the 90% quantile of N(0, 1) residuals, 1.28
    res = _regression_review(0.0, cost_over=1.0, cost_under=9.0)
    assert res.metrics["best_quantile"] == pytest.approx(0.9)
    lo, hi = res.metrics["best_shift_ci"]
    assert lo <= 1.2816 <= hi and res.status == "warn"
    skipped = _regression_review(0.0)
    assert skipped.status == "skipped" and "--cost-over" in skipped.summary


# --- multiclass ---------------------------------------------------------------------------------


def _wine_like(seed=0, n=3000):
    """Three classes with known probabilities: the model is the true posterior (calibrated)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logits = np.column_stack([X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    return X, y, p


def test_matrix_cost_equals_the_confusion_matrix_weighted_and_the_rule_is_the_expected_cost_argmin():
    X, y, p = _wine_like()
    cost = np.array([[0, 1, 10], [1, 0, 1], [2, 1, 0]], dtype=float)
    pred = p.argmax(axis=1)
    r = matrix_cost(y, p, pred, cost, n_boot=50)
    cm = confusion_matrix(y, pred, labels=[0, 1, 2])
    assert r["cost_per_1000"] == pytest.approx(1000 * (cm * cost).sum() / len(y), rel=1e-12)
    rule = np.array([min(range(3), key=lambda j: sum(row[k] * cost[k, j] for k in range(3))) for row in p])
    cm_rule = confusion_matrix(y, rule, labels=[0, 1, 2])
    assert r["cost_per_1000_best_rule"] == pytest.approx(1000 * (cm_rule * cost).sum() / len(y), rel=1e-12)
    assert r["cost_per_1000_best_rule"] < r["cost_per_1000"]  # with true probabilities, the rule is cheaper
    zero_one = 1 - np.eye(3)
    r0 = matrix_cost(y, p, pred, zero_one, n_boot=50)
    assert r0["saving_per_1000"] == 0 and r0["decisions_changed"] == 0


def _mc_review(matrix):
    X, y, _ = _wine_like(1)
    names = np.array(["red", "white", "rose"])
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=names[y])
    train, test = frame.iloc[:1500].reset_index(drop=True), frame.iloc[1500:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["y"])
    ctx = make_ctx(train, test, target="y", model=model, settings=Settings(cost_matrix=matrix))
    return run_check(get_check("business.threshold"), ctx), test, model


def test_a_costly_confusion_is_priced_and_a_zero_one_matrix_passes():
    labels = ["red", "rose", "white"]
    costly = {t: {p: (0.0 if t == p else 1.0) for p in labels} for t in labels}
    costly["red"]["white"] = 20.0  # calling a red white is very costly
    res, _, _ = _mc_review(costly)
    assert res.status == "warn" and res.metrics["cost_per_1000_best_rule"] < res.metrics["cost_per_1000"]
    assert res.metrics["saving_per_1000_ci"][0] > 0
    assert any(c["to"] != "white" for c in res.metrics["largest_changes"])
    plain = {t: {p: (0.0 if t == p else 1.0) for p in labels} for t in labels}
    res, test, model = _mc_review(plain)
    assert res.status == "pass" and res.metrics["saving_per_1000"] == 0
    # 0-1 costs: cost per 1,000 is 1,000 × the error rate of the model's own predictions
    assert res.metrics["cost_per_1000"] == pytest.approx(1000 * (1 - accuracy_score(test["y"], model.predict(
        test[["a", "b"]]))), rel=1e-12)


# --- the CLI: flags and bad input ---------------------------------------------------------------


@pytest.fixture(scope="module")
def wine_files(tmp_path_factory):
    import skops.io as sio
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    d = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame["target"])
    feats = [c for c in frame.columns if c != "target"]
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(train[feats], train["target"])
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    sio.dump(model, d / "model.skops")
    cost = pd.DataFrame([[0, 1, 5], [1, 0, 1], [5, 1, 0]], index=["0", "1", "2"], columns=["0", "1", "2"])
    cost.to_csv(d / "cost.csv", index_label="true \\ predicted")
    cost.drop(index="2", columns="2").to_csv(d / "short.csv")
    (d / "text.csv").write_text("t,0,1,2\n0,0,one,5\n1,1,0,1\n2,5,1,0\n")
    return d, test, model, feats


def _base(d):
    return ["review", "--train", str(d / "train.csv"), "--test", str(d / "test.csv"), "--target", "target",
            "--model", str(d / "model.skops"), "--quiet", "--no-history", "--check", "business.threshold"]


@pytest.mark.slow
def test_cli_cost_matrix_known_answer(wine_files):
    import json

    from test_cli import cli

    d, test, model, feats = wine_files
    ok = cli(*_base(d), "--cost-matrix", d / "cost.csv", "--json", d / "out.json")
    assert ok.returncode == 0, ok.stderr
    m = json.loads((d / "out.json").read_text())["checks"][0]["metrics"]
    cost = np.array([[0, 1, 5], [1, 0, 1], [5, 1, 0]])
    cm = confusion_matrix(test["target"], model.predict(test[feats]), labels=[0, 1, 2])
    assert m["cost_per_1000"] == pytest.approx(1000 * (cm * cost).sum() / len(test), rel=1e-9)


@pytest.mark.parametrize("extra,needles", [
    (["--cost-matrix", "short.csv"], ["--cost-matrix", "no row for true class '2'"]),
    (["--cost-matrix", "text.csv"], ["--cost-matrix", "'one'"]),
    (["--cost-matrix", "nope.csv"], ["--cost-matrix", "no such file"]),
    (["--target-rmse", "1", "--target-r2", "0.5"], ["--target-rmse", "--target-r2"]),
    (["--cost-over", "-1"], ["--cost-over"]),
])
def test_cli_bad_costs_and_targets_exit_2_with_one_line(wine_files, extra, needles, capsys):
    from readiness.cli import main

    d = wine_files[0]
    extra = [str(d / x) if x.endswith(".csv") else x for x in extra]
    try:
        code = main(_base(d) + extra)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("readiness: error: "), err
    for n in needles:
        assert n in err[0], err[0]


def test_a_cost_matrix_on_a_regression_review_is_bad_input():
    from readiness.checks.business_tasks import validate_cost_matrix
    from readiness.errors import ReadinessError

    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40.0) * 2.5 + 0.1, "pred": np.arange(40.0) * 2})
    ctx = make_ctx(frame, frame, target="y", prediction_column="pred",
                   settings=Settings(cost_matrix={"a": {"a": 0.0}}))
    with pytest.raises(ReadinessError, match="--cost-matrix prices the decisions of a multiclass model; this is a "
                                             "regression review"):
        validate_cost_matrix(ctx)


def test_titles_and_report_figures_name_decisions_only_where_there_are_decisions():
    """Issue 23: a regression has predictions priced per unit, not a threshold or decisions; a multiclass model
    decides (its most probable class) but has no threshold either. A yes/no model keeps its title (control)."""
    from readiness.report.figures import key_figures

    labels = ["red", "rose", "white"]
    res, _, _ = _mc_review({t: {p: (0.0 if t == p else 1.0) for p in labels} for t in labels})
    assert res.title == "Cost of decisions: the cost matrix in money"
    rows = {label: value for label, value, _ in key_figures("business.threshold", res.metrics)}
    assert rows["Cost of the model's decisions"].startswith(f"{number(res.metrics['cost_per_1000'])} per 1,000 decisions")
    assert "Cost of the model's predictions" not in rows
    reg = _regression_review(0.0, cost_over=1.0, cost_under=2.0)
    assert reg.title == "Cost of errors: over- and under-prediction in money"
    rows = {label: value for label, value, _ in key_figures("business.threshold", reg.metrics)}
    assert rows["Cost of the model's predictions"].startswith(
        f"{number(reg.metrics['cost_per_1000'])} per 1,000 predictions (")
    assert "decisions" not in " ".join(rows.values()) and "per 1,000 predictions" in reg.summary
    assert get_check("business.threshold").title == "Business threshold: the decision in money"


def test_the_cost_chart_labels_are_not_cut_by_the_plot_edge():
    """Seen in the browser on digits: the top row's cost label was drawn above the plot area and clipped."""
    from readiness.charts.business import task_cost_bars

    labels = ["red", "rose", "white"]
    res, _, _ = _mc_review({t: {p: (0.0 if t == p else 1.0) for p in labels} for t in labels})
    fig = task_cost_bars(res)
    assert [d.text[0] for d in fig.data] == [number(res.metrics["cost_per_1000"]),
                                            number(res.metrics["cost_per_1000_best_rule"])]
    assert all(d.cliponaxis is False for d in fig.data)


def test_a_shift_down_is_said_with_the_interval_of_the_amount_said():
    """'is lowering every prediction by 0.8 (−0.9 to −0.7)' read a negative amount: a model biased 0.8 too high
    is told to lower its predictions by about 0.8, with the interval of that amount (− the shift's interval)."""
    from readiness.fmt import interval

    res = _regression_review(0.8, cost_over=1.0, cost_under=1.0)
    lo, hi = res.metrics["best_shift_ci"]
    assert res.metrics["best_shift"] < 0 and hi < 0
    msg = res.findings[0].message
    want = f"is to lower every prediction by {number(-res.metrics['best_shift'])} ({interval([-hi, -lo])})"
    assert want in msg, msg
