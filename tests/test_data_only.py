"""A review before any model exists (issue 13, part 2): no --model and no --prediction-column.

The data checks run (quality, drift, leakage, the labels' bias, baselines, Bayes-error feasibility
with its verdict on the target accuracy); every check that judges a model is skipped with one reason.
Known answers: data with a known Bayes error (two Gaussians), a planted leak, planted copies across
the split, a planted base-rate gap, and the majority baseline's accuracy in closed form."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from test_cli import SAMPLE, cli
from test_feasibility_check import R_STAR, gaussian_frames

from readiness import Roles, Settings, prepare_review, run_review
from readiness.registry import NEEDS_MODEL, get_check
from readiness.results import NO_MODEL_KIND
from readiness.review import run_check

# checks that judge a model's predictions: skipped in a data-only review
MODEL_CHECKS = {"evaluation.holdout", "model.hyperparameters", "evaluation.holdout_reuse", "bias.groups", "calibration",
                "explanations.shap", "explanations.lime", "explanations.permutation", "uncertainty.abstention",
                "business.threshold", "segments.weak", "robustness.perturbation", "model.serving"}
# checks that need only the data: they run
DATA_CHECKS = {"data_quality.completeness", "data_quality.integrity", "drift.features", "baselines.comparison",
               "feasibility.bayes_error", "leakage.feature_target", "leakage.train_test_overlap", "leakage.temporal",
               "leakage.oversampling", "leakage.preprocessing", "bias.categories", "drift.multivariate"}


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("dataonly") / "r.json"
    proc = cli("review", "--train", SAMPLE / "credit_train.csv", "--test", SAMPLE / "credit_holdout.csv",
               "--target", "default", "--positive-label", "1", "--favorable-label", "0", "--sensitive", "sex",
               "--time-column", "application_date", "--id-column", "application_id", "--target-accuracy", "0.85",
               "--json", out)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc


def test_cli_without_a_model_reviews_the_data(cli_report):
    report, proc = cli_report
    by_id = {c["id"]: c for c in report["checks"]}
    assert report["model"]["kind"] == NO_MODEL_KIND
    assert {i["role"] for i in report["inputs"]} == {"train", "test"}
    for cid in MODEL_CHECKS:
        assert by_id[cid]["status"] == "skipped", cid
        assert by_id[cid]["summary"] == NEEDS_MODEL, cid
    for cid in DATA_CHECKS:
        assert by_id[cid]["status"] not in ("skipped", "error"), (cid, by_id[cid]["summary"])
    assert not [c for c in report["checks"] if c["status"] == "error"]
    # the sample's planted defects are found without a model: copied rows, a post-outcome column
    assert by_id["leakage.train_test_overlap"]["status"] == "fail"
    assert by_id["leakage.feature_target"]["status"] == "fail"
    assert "collections_contacts" in by_id["leakage.feature_target"]["summary"]
    assert by_id["feasibility.bayes_error"]["metrics"]["verdict"] in {"reachable", "undetermined", "infeasible",
                                                                      "probably_infeasible"}
    assert by_id["feasibility.bayes_error"]["metrics"]["model_error"] is None
    assert "SKIP  evaluation.holdout" in proc.stdout


def test_library_prepare_review_without_a_model():
    ctx = prepare_review(train=SAMPLE / "credit_train.csv", test=SAMPLE / "credit_holdout.csv",
                         roles=Roles(target="default", positive_label=1))
    assert ctx.data_only and not ctx.has_model and ctx.model_info.kind == NO_MODEL_KIND
    report = run_review(ctx, checks=["evaluation.holdout", "data_quality.integrity"])
    status = {c.id: c.status for c in report.checks}
    assert status == {"evaluation.holdout": "skipped", "data_quality.integrity": "warn"}


def _feasibility(target, **kw):
    train, test = gaussian_frames(**kw)
    ctx = make_ctx(train, test, target="y", settings=Settings(target_accuracy=target))
    return run_check(get_check("feasibility.bayes_error"), ctx)


def test_feasibility_without_a_model_on_a_known_bayes_error():
    # two Gaussians Δ = 2: R* = 15.9%. 95% accuracy is impossible, 70% is reachable, 84% cannot be settled
    impossible = _feasibility(0.95)
    assert impossible.status == "fail" and impossible.metrics["verdict"] == "infeasible"
    m = impossible.metrics
    assert m["ber_lower_low"] <= R_STAR <= m["ber_upper_high"]
    assert m["model_error"] is None and m["room_max"] is None
    assert "model" not in m["ber_upper_source"]
    reachable = _feasibility(0.70)
    assert reachable.status == "pass" and reachable.metrics["verdict"] == "reachable"
    assert "no model yet" in reachable.findings[0].message.lower()
    unsettled = _feasibility(1 - R_STAR)
    assert unsettled.metrics["verdict"] == "undetermined"
    no_target = _feasibility(None)
    assert no_target.metrics["verdict"] == "no_target" and "set a target accuracy" in no_target.summary


def test_baselines_without_a_model_set_the_bar():
    train, test = gaussian_frames(n_train=1000, n_test=600)
    ctx = make_ctx(train, test, target="y")
    res = run_check(get_check("baselines.comparison"), ctx)
    m = res.metrics
    assert res.status == "pass" and m["decision_verdict"] == "no_model" and m["model"] is None
    # closed form: the majority baseline predicts the training majority class for every holdout row
    majority = train["y"].value_counts().idxmax()
    assert m["baselines"]["majority"]["accuracy"] == pytest.approx((test["y"] == majority).mean())
    # logistic regression on a Gaussian pair reaches about 1 − R* (84%)
    assert m["best_baseline"] == "logistic_regression"
    assert m["baselines"]["logistic_regression"]["accuracy"] == pytest.approx(1 - R_STAR, abs=0.04)
    assert "bar a model must clear" in res.summary


def _frames(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b"], n)
    # planted historical bias: group b is recorded positive far more often at the same x
    y = (x + np.where(group == "b", 1.0, 0.0) + rng.normal(scale=0.8, size=n) > 0.5).astype(int)
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=n), "group": group, "y": y})
    return df.iloc[: n * 2 // 3].reset_index(drop=True), df.iloc[n * 2 // 3:].reset_index(drop=True)


def test_planted_defects_are_found_without_a_model():
    train, test = _frames()
    train["after"] = train["y"] * 3 + 1  # recorded after the outcome: a rule without exception
    test["after"] = test["y"] * 3 + 1
    test = pd.concat([test, train.iloc[:60]], ignore_index=True)  # 60 training rows copied into the holdout
    ctx = make_ctx(train, test, target="y", sensitive=["group"], favorable_label=0)
    report = run_review(ctx, checks=["leakage.feature_target", "leakage.train_test_overlap", "bias.categories"])
    by_id = {c.id: c for c in report.checks}
    assert by_id["leakage.feature_target"].status == "fail" and "after" in by_id["leakage.feature_target"].summary
    assert by_id["leakage.train_test_overlap"].status == "fail"
    assert by_id["leakage.train_test_overlap"].metrics["overlap_test_rows"] >= 60
    cats = by_id["bias.categories"].metrics["categories"]
    assert cats["historical"]["status"] in ("warn", "fail")
    for c in ("aggregation", "learning", "evaluation"):
        assert cats[c]["status"] == "skipped" and cats[c]["summary"] == NEEDS_MODEL


def test_clean_data_without_a_model_raises_no_alarm():
    train, test = gaussian_frames(n_train=1500, n_test=600, seed=3)
    ctx = make_ctx(train, test, target="y", settings=Settings(target_accuracy=0.7))
    report = run_review(ctx)
    bad = [(c.id, c.status, c.summary) for c in report.checks if c.status in ("fail", "error")]
    assert not bad
