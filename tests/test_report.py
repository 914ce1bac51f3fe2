"""The PDF report and the canonical record: real PDFs, text extracted with poppler."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness.antipatterns import ANTIPATTERNS
from readiness.inputs import Settings
from readiness.registry import registered_checks
from readiness.report.canonical import (
    RECORD_FILENAME,
    canonical_json,
    new_record,
    parse_record,
    record_bytes,
    sha256_hex,
)
from readiness.report.pdf import build_pdf
from readiness.results import CheckResult, Status
from readiness.review import run_review

NAMES = ["Zoë Müller", "李小龍", "Łukasz Żółć", "Ωmega Ørsted", "Ольга Петрова"]


@cache
def small_full_review():
    """Every registered check, run on a small synthetic review (fast), with a sensitive column."""
    rng = np.random.default_rng(1)
    n = 360
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + 0.6 * rng.normal(size=n) > 0.2).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "group": rng.choice(["u", "v"], n), "target": y})
    train, test = frame.iloc[:240].reset_index(drop=True), frame.iloc[240:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b", "c"]], train["target"])
    ctx = make_ctx(train, test, target="target", model=model, sensitive=["group"], settings=Settings(bootstrap=20))
    return ctx, run_review(ctx)


def _text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


@cache
def built_full():
    ctx, report = small_full_review()
    rec = new_record(report, project=f"Lending — {NAMES[1]} 支店", model_version="2.0-rc1", model_name="Default model",
                     reviewers=[{"name": NAMES[0], "email": "zoe@example.org", "role": "Data scientist"},
                                {"name": NAMES[1], "email": "li@example.cn", "role": "Model-risk reviewer"}],
                     decision={"outcome": "approve_with_conditions", "conditions": ["Monitor drift monthly"]},
                     notes={"evaluation.holdout": f"Checked by {NAMES[2]}; fine."},
                     signer_roles=["Data scientist",
                                   {"role": "Model-risk reviewer", "name": NAMES[4], "email": "olga@example.org"},
                                   {"role": "Business owner", "name": NAMES[3], "email": "omega@example.org"}],
                     review_digest=ctx.digest)
    data = record_bytes(rec)
    return rec, data, build_pdf(rec, data)


def test_pdf_text_contains_every_check_title():
    rec, _data, built = built_full()
    assert built.pdf.startswith(b"%PDF-")
    text = _flat(_text(built.pdf))
    ids = {c.id for c in rec.review.checks}
    assert ids == {s.id for s in registered_checks()}, "the review must include every registered check"
    for c in rec.review.checks:
        assert _flat(c.title) in text, c.title
    for ap in ANTIPATTERNS:
        assert ap.title in text, ap.title
    for section in ("Contents", "Executive summary", "Anti-pattern scorecard", "Decision and sign-off",
                    "Seven sources of harm", "Appendix: data lineage", "Appendix: method notes",
                    f"Page 1 of {built.pages}"):
        assert section in text, section
    for sha in (f.sha256 for f in rec.review.inputs):  # lineage: every input's SHA-256 in full
        assert sha in text.replace(" ", "")
    assert "Approve with conditions" in text and "Monitor drift monthly" in text


def test_non_ascii_names_render_with_embedded_fonts():
    _rec, _data, built = built_full()
    text = _text(built.pdf)
    for name in NAMES:
        assert name in text, name
    fonts = subprocess.run(["pdffonts", "-"], input=built.pdf, capture_output=True).stdout.decode()
    if not fonts:  # older poppler: pdffonts needs a file
        pytest.skip("pdffonts cannot read stdin")
    assert "DejaVuSans" in fonts and "DroidSansFallback" in fonts
    assert "Helvetica" not in fonts  # every font is embedded
    assert all(" yes " in line for line in fonts.splitlines()[2:] if line.strip())


def test_json_attachment_round_trips_byte_identical(tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from readiness.report.sign import embedded_files, read_record

    rec, data, built = built_full()
    files = embedded_files(PdfFileReader(BytesIO(built.pdf)).root)
    assert files[RECORD_FILENAME] == data
    got, parsed = read_record(built.pdf)
    assert got == data and parsed.record_id == rec.record_id
    if shutil.which("pdfdetach"):  # an independent extractor agrees
        pdf = tmp_path / "r.pdf"
        pdf.write_bytes(built.pdf)
        subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(pdf)], check=True, capture_output=True)
        assert (tmp_path / RECORD_FILENAME).read_bytes() == data


def test_canonical_bytes():
    rec, data, _built = built_full()
    assert data == canonical_json(json.loads(data))  # sorted keys, no whitespace
    assert b"\n" not in data and not data.startswith(b"{ ")
    assert NAMES[1].encode("utf-8") in data  # UTF-8, not \u escapes
    assert parse_record(data) == rec
    assert sha256_hex(data) == sha256_hex(record_bytes(parse_record(data)))  # deterministic
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_record_validation_messages():
    _ctx, report = small_full_review()
    with pytest.raises(ValueError, match="needs at least one condition"):
        new_record(report, project="P", model_version="1", decision={"outcome": "approve_with_conditions"})
    with pytest.raises(ValueError, match="notes refer to checks not in the review"):
        new_record(report, project="P", model_version="1", notes={"no.such.check": "x"})
    with pytest.raises(ValueError):
        new_record(report, project="", model_version="1")


def test_odd_metrics_never_break_the_pdf():
    """Chart renderers are guarded: wrong shapes for known ids give no chart, not a broken PDF."""
    from readiness.report.charts_pdf import charts_for

    _ctx, report = small_full_review()
    odd = {
        "evaluation.holdout": {"confusion_matrix": "oops", "roc_curve": {"fpr": [0, 1], "tpr": [0]}},
        "data_quality.completeness": {"columns": [1, 2, 3]},
        "calibration": {"reliability": [1, 2, {"mean_score": "x"}], "score_histogram": {"edges": [0, 1]}},
        "bias.groups": {"groups": {"sex": {"f": "n/a"}}, "attributes": ["sex", "nope"]},
        "bias.categories": {"categories": "none", "order": ["historical"]},
        "uncertainty.abstention": {"curve": [{"coverage": None}]},
        "explanations.shap": {"importance": {"a": 1.0, "b": "x", "c": None}},
    }
    checks = []
    for c in report.checks:
        m = odd.get(c.id, {"nested": {"deep": [1, {"x": None}]}, "value_ci": [None, None], "value": float("1e-9")})
        c = CheckResult(id=c.id, title=c.title, status=Status.WARN, summary="odd metrics", metrics=m)
        assert isinstance(charts_for(c), list)
        checks.append(c)
    odd_report = report.model_copy(update={"checks": checks})
    rec = new_record(odd_report, project="P", model_version="1")
    out = build_pdf(rec, record_bytes(rec))
    assert "odd metrics" in _text(out.pdf)


def test_bias_categories_stated_as_not_assessed_when_absent():
    _ctx, report = small_full_review()
    only = report.model_copy(update={"checks": [c for c in report.checks if c.id == "evaluation.holdout"]})
    rec = new_record(only, project="P", model_version="1", signer_roles=["Owner"])
    text = _flat(_text(build_pdf(rec, record_bytes(rec)).pdf))
    for cat in ("Historical", "Representation", "Measurement", "Aggregation", "Learning", "Evaluation", "Deployment"):
        assert f"{cat} bias" in text, cat
    assert text.count("Not assessed in this review") == 7


def test_charts_are_drawn_for_known_results():
    from readiness.report.charts_pdf import charts_for

    _ctx, report = small_full_review()
    for check_id in ("calibration", "bias.groups"):
        assert charts_for(report.check(check_id)), check_id
    png, caption = charts_for(report.check("evaluation.holdout"))[0]
    assert png.startswith(b"\x89PNG") and "ROC" in caption


def test_pdf_draws_the_cost_curve_and_one_error_ladder():
    """business.threshold gets its cost curve, and the two feasibility checks share one error
    ladder (in the Bayes-error section): each caption is printed only under its chart."""
    from readiness.report.charts_pdf import charts_for

    _rec, _data, built = built_full()
    text = _flat(_text(built.pdf))
    assert text.count("Business threshold: expected cost per 1,000 decisions at every threshold") == 1
    assert text.count("Error ladder: error rate of each simple baseline and of the model on the holdout") == 1
    assert text.count("Error ladder:") == 1 and "the hatched band is the estimated error of the best possible" in text
    _ctx, report = small_full_review()
    assert charts_for(report.check("baselines.comparison"), report) == []  # drawn once, with the Bayes error
    for check_id in ("business.threshold", "feasibility.bayes_error"):
        [(png, _caption)] = charts_for(report.check(check_id), report)
        assert png.startswith(b"\x89PNG"), check_id


def test_cost_curve_and_error_ladder_with_missing_or_partial_metrics():
    """Partial metrics draw what they have, missing ones draw nothing, and the PDF still builds."""
    from readiness.report.charts_pdf import charts_for

    _ctx, report = small_full_review()
    business, bayes, baselines = (report.check(i) for i in
                                  ("business.threshold", "feasibility.bayes_error", "baselines.comparison"))

    def with_metrics(c: CheckResult, metrics: dict, status: Status | None = None) -> CheckResult:
        return c.model_copy(update={"metrics": metrics, "status": status or c.status})

    curve_only = {"curve": {k: business.metrics["curve"][k] for k in ("threshold", "cost_per_1000")}}
    assert charts_for(with_metrics(business, curve_only))  # no markers, interval or policies: still a curve
    for odd in ({}, {"curve": {"threshold": [0, 1], "cost_per_1000": [5]}}, {"curve": "x", "current": None},
                {**curve_only, "current": {"threshold": "x"}, "optimal": {"threshold_ci": [None, 1]},
                 "bayes": 3, "flag_all_cost_per_1000": float("nan")}):
        assert isinstance(charts_for(with_metrics(business, odd)), list)
    assert not charts_for(with_metrics(business, {}))

    # no Bayes-error result to draw in: the ladder moves to the baselines section
    skipped = report.model_copy(update={"checks": [with_metrics(c, {}, Status.SKIPPED) if c.id == bayes.id else c
                                                   for c in report.checks]})
    [(_png, caption)] = charts_for(baselines, skipped)
    assert "each simple baseline" in caption and "hatched band" not in caption
    # baselines without intervals: the Bayes check still draws the model's rung and the range
    broken = {**baselines.metrics, "model": {"accuracy": 0.8}}
    odd_review = report.model_copy(update={"checks": [with_metrics(c, broken) if c.id == baselines.id else c
                                                      for c in report.checks]})
    [(_png, caption)] = charts_for(bayes, odd_review)
    assert "error rate of the model" in caption and "hatched band" in caption
    assert not charts_for(with_metrics(bayes, {"ber_lower": 0.1, "ber_upper": None}), None)

    partial = {business.id: {"curve": curve_only["curve"], "current": {"threshold": 0.5}},
               bayes.id: {"ber_lower": 0.1, "ber_upper": 0.2, "target_error": "x"},
               baselines.id: {"model": {"accuracy": 0.8, "accuracy_ci": [None]}, "baselines": {"m": {}}}}
    checks = [with_metrics(c, partial[c.id]) for c in report.checks if c.id in partial]
    rec = new_record(report.model_copy(update={"checks": checks}), project="P", model_version="1")
    text = _flat(_text(build_pdf(rec, record_bytes(rec)).pdf))
    assert "Business threshold: expected cost per 1,000 decisions" in text
    assert "Error ladder: the model's error rate is not in the metrics; the hatched band" in text
