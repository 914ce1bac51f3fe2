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


def _shared_decimals(v: float) -> int:
    """Three significant digits of the value, written out here (a closed form, not the formatter)."""
    import math

    return max(0, 2 - math.floor(math.log10(abs(v))))


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
    d = _shared_decimals(m["noise_rmse"])  # the value and its bounds at one number of decimals (issue 23)
    assert f"Smallest reachable RMSE (noise floor) {m['noise_rmse']:.{d}f} ({lo:.{d}f}–{hi:.{d}f})" in text
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
    assert "Cost of the model's predictions " + format_figure("cost_predictions", m["cost_per_1000"],
                                                            m["cost_per_1000_ci"]) in text
    body = text[: text.rindex("Appendix: method notes")]  # the method notes describe every task
    assert "per 1,000 predictions (" in body and "per 1,000 decisions" not in body  # a regression decides nothing
    assert "Business cost" in body and "Business threshold" not in body  # no threshold to move (the page's title)
    assert "Cost per unit too low 3" in text


def _settings_section(text: str) -> str:
    start = text.rindex("Settings and versions")  # the section, not its line in the contents
    return text[start: text.index("Appendix: method notes", start)]


def test_the_settings_table_lists_only_what_applies_to_the_task():
    """Issue 23: a regression's PDF listed 'Threshold 0.5, Cost fp 1'. Its settings are the RMSE target and the
    costs per unit, in words; a yes/no model's report keeps its threshold and costs (control)."""
    from test_report_committee import committee_pdf

    _report, text = _pdf(Settings(target_rmse=40.0, cost_over=1.0, cost_under=3.0))
    section = _settings_section(text)
    for absent in ("Threshold", "Decision threshold", "Cost fp", "Cost of a false positive", "Required accuracy",
                   "Cost matrix", "Target accuracy"):
        assert absent not in section, absent
    assert "Required RMSE 40" in section and "Cost per unit too low 3" in section and "Random seed 0" in section
    rec, _data, built = committee_pdf()
    binary = _settings_section(_text(built.pdf))
    assert rec.review.task == "binary"
    assert "Decision threshold 0.5" in binary and "Cost of a false negative" in binary
    assert "Required RMSE" not in binary and "Cost per unit" not in binary


def test_a_cost_matrix_setting_reads_one_line_per_true_class():
    """Seen in the digits PDF: the matrix was printed as '0: 0: 0; 1: 1; 2: 1; …'. It reads as the predicted
    classes once, then each true class's costs in that order."""
    from readiness.report.pdf import _setting

    m = {"a": {"a": 0.0, "b": 2.0, "c": 1.0}, "b": {"a": 5.0, "b": 0.0, "c": 1.0}, "c": {"a": 1.0, "b": 1.0, "c": 0.0}}
    assert _setting("cost_matrix", m) == "predicted a, b, c — true a: 0 2 1; true b: 5 0 1; true c: 1 1 0"


def test_a_regression_pdf_has_the_error_and_bias_by_group_table():
    """Issue 23: the regression PDF had no per-group bias table. Each group's MAE and mean error, from
    metrics["groups"], equal a pandas group-by of the predictions (an independent computation), printed with
    one number of decimals for the value and its interval; a classifier's bias section has no such table."""
    import math

    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "one", 2.0: "two"})
    feats = [c for c in frame.columns if c not in ("target", "sex")]
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    model = Ridge().fit(train[feats], train["target"])
    train, test = train.assign(pred=model.predict(train[feats])), test.assign(pred=model.predict(test[feats]))
    ctx = make_ctx(train, test, target="target", prediction_column="pred", sensitive=["sex"])
    report = run_review(ctx, checks=["evaluation.holdout", "bias.groups"])
    rec = new_record(report, project="Diabetes", model_name="ridge", model_version="1")
    text = _text(build_pdf(rec, record_bytes(rec)).pdf)
    groups = report.check("bias.groups").metrics["groups"]["sex"]
    err = test["pred"] - test["target"]
    by = test.assign(abs_err=err.abs(), err=err).groupby("sex")
    assert "Error and bias by group of 'sex'" in text and "Mean error (prediction − actual)" in text
    for g in ("one", "two"):
        v = groups[g]
        assert v["mae"] == pytest.approx(by["abs_err"].mean()[g]) and v["n"] == by.size()[g]
        assert v["mean_error"] == pytest.approx(by["err"].mean()[g])
        d = max(0, 2 - math.floor(math.log10(v["mae"])))
        lo, hi = v["mae_ci"]
        assert f"{g} {v['n']} {v['mae']:.{d}f} ({lo:.{d}f}–{hi:.{d}f})" in text
    from readiness.report.figures import regression_group_rows

    binary = {"task": "binary", "groups": {"sex": {"one": {"n": 5, "mae": 1.0}}}}
    assert regression_group_rows(binary) == [] and len(regression_group_rows(report.check("bias.groups").metrics)) == 1
