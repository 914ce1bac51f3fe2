"""The PDF of a regression review (issue 23): the noise floor's key figures, the costs of over- and
under-prediction, and an area whose checks were all skipped printed as one line."""

import subprocess

import pytest
from helpers import make_ctx
from sklearn import datasets
from sklearn.linear_model import Ridge

from readiness.inputs import Settings
from readiness.report.canonical import new_record, record_bytes
from readiness.report.pdf import build_pdf
from readiness.review import run_review


def _text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def _pdf(settings: Settings):
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    feats = [c for c in frame.columns if c != "target"]
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    model = Ridge().fit(train[feats], train["target"])
    test = test.assign(pred=model.predict(test[feats]))
    ctx = make_ctx(train.assign(pred=model.predict(train[feats])), test, target="target", prediction_column="pred",
                   settings=settings)
    report = run_review(ctx, checks=["evaluation.holdout", "feasibility.bayes_error", "business.threshold"])
    rec = new_record(report, project="Diabetes", model_name="ridge", model_version="1")
    data = record_bytes(rec)
    return report, _text(build_pdf(rec, data).pdf)


def test_an_all_skipped_area_is_one_line_and_the_noise_floor_has_its_figures():
    report, text = _pdf(Settings(target_rmse=40.0))
    biz = report.check("business.threshold")
    assert biz.status == "skipped"
    assert f"Not assessed in this review — {biz.title}: {' '.join(biz.summary.split())}" in text
    assert "Check business.threshold" not in text and "Check evaluation.holdout" in text  # no section of its own
    m = report.check("feasibility.bayes_error").metrics
    lo, hi = m["noise_rmse_ci"]
    assert f"Smallest reachable RMSE (noise floor) {m['noise_rmse']:.3g} ({lo:.3g}–{hi:.3g})" in text
    assert "Target RMSE 40" in text


def test_regression_costs_are_in_the_pdf():
    from sklearn.metrics import mean_pinball_loss

    from readiness.report.figures import format_figure

    report, text = _pdf(Settings(cost_over=1.0, cost_under=3.0))
    m = report.check("business.threshold").metrics
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    feats = [c for c in frame.columns if c != "target"]
    train, test = frame.iloc[:300], frame.iloc[300:]
    pred = Ridge().fit(train[feats], train["target"]).predict(test[feats])
    assert m["cost_per_1000"] == pytest.approx(1000 * 4.0 * mean_pinball_loss(test["target"], pred, alpha=0.75))
    assert "Cost of the model's predictions, per 1,000 " + format_figure("cost", m["cost_per_1000"],
                                                                           m["cost_per_1000_ci"]) in text
    assert "Cost per unit too low 3" in text
