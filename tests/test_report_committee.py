"""Issue 10: the PDF reads as a decision document. The pages are rendered to PNG (poppler's
pdftoppm) and the text extracted (pdftotext): no internal metric key, no "null", no scientific
notation, every finding in full, a one-page executive summary with the rationale beside each
failing check, the questionnaire as a table, the real creation time in the metadata."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime
from functools import cache

import pytest
from test_report import small_full_review

from readiness.report.canonical import new_record, record_bytes
from readiness.report.pdf import build_pdf, first_finding
from readiness.results import Finding, Severity, Status

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                reason="poppler's pdftotext / pdftoppm are not installed")

RATIONALE = "Accepted: the copies are re-applications; the holdout is re-split by applicant before the Q3 retrain."
LONG = ("The holdout scores depend on a column filled in after the outcome: its values are recorded by the "
        "collections team once a loan defaults, so at prediction time the column is empty. With it the model "
        "reaches an AUC of 0.99 that it will never reach in production; without it 0.81. Drop the column and "
        "retrain, then review again. This sentence is here so that the finding runs well past any cut-off a "
        "summary might apply, and its last words must still be printed: end of the long finding.")


@cache
def committee_review():
    """The small review with one check failed (a long, multi-sentence finding and a tiny
    p-value in its metrics), one warning, and the deployment questionnaire answered."""
    _ctx, report = small_full_review()
    checks = []
    for c in report.checks:
        if c.id == "leakage.train_test_overlap":
            c = c.model_copy(update={
                "status": Status.FAIL,
                "metrics": {**c.metrics, "overlap_p_value": 7.97e-111, "overlap_expected_rows": 1.2e-14},
                "findings": [Finding(severity=Severity.FAIL, message=LONG, columns=["a"]), *c.findings]})
        checks.append(c)
    settings = {**report.settings, "reviewer_answers": {"intended_use": "Rank loan applications for underwriting.",
                                                        "human_oversight": "some", "recourse": "yes"}}
    return report.model_copy(update={"checks": checks, "settings": settings})


@cache
def committee_pdf():
    report = committee_review()
    rec = new_record(report, project="Consumer lending", model_name="credit_model.skops", model_version="3.1",
                     reviewers=[{"name": "Ana Müller", "email": "ana@bank.example", "role": "Data scientist"}],
                     decision={"outcome": "approve_with_conditions", "conditions": ["Re-split by applicant"],
                               "rationale": "Benefits outweigh the understood leak."},
                     notes={"leakage.train_test_overlap": RATIONALE},
                     signer_roles=[{"role": "Data scientist", "name": "Ana Müller", "email": "ana@bank.example"},
                                   {"role": "Business owner"}])
    data = record_bytes(rec)
    return rec, data, build_pdf(rec, data)


def _text(pdf: bytes, first: int | None = None, last: int | None = None) -> str:
    """The text in content order (-raw): a table cell's sentences stay together."""
    args = ["pdftotext", "-enc", "UTF-8", "-raw"]
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode("utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pages_render_to_png(tmp_path):
    _rec, _data, built = committee_pdf()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(built.pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == built.pages
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 1500 for p in pngs)


def test_no_internal_keys_null_or_scientific_notation_in_the_text():
    _rec, _data, built = committee_pdf()
    text = _text(built.pdf)
    keys = {k for c in committee_review().checks for k in c.metrics if "_" in k}
    assert len(keys) > 100
    shown = sorted(k for k in keys if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", text))
    assert not shown, shown
    assert not re.search(r"(?<!')\b(null|None|NaN|nan)\b(?!')", text), re.findall(r".{30}\b(?:null|None)\b.{30}", text)
    sci = r"\d(\.\d+)?[eE][-+]\d"  # Python's scientific notation always carries the exponent's sign
    assert not re.search(sci, text), re.findall(r".{20}" + sci + r".{10}", text)
    assert "10^" not in text and "~10" not in text
    assert "7.97" not in text and "p-value of that many copies by chance < 0.001" in _flat(text)


def test_every_finding_in_full():
    _rec, _data, built = committee_pdf()
    text = _flat(_text(built.pdf))
    for c in committee_review().checks:
        if c.id == "bias.categories":  # tabulated in the seven-sources section
            continue
        for f in c.findings:
            assert _flat(f.message) in text, (c.id, f.message[:80])
    assert "more findings in the attached" not in text
    assert text.count("end of the long finding.") == 2  # in the summary and in its section


def test_executive_summary_is_one_page_with_full_first_findings_and_rationale():
    _rec, _data, built = committee_pdf()
    report = committee_review()
    pages = [_flat(_text(built.pdf, n)) for n in range(1, built.pages + 1)]
    [start] = [i for i, t in enumerate(pages) if "1 Executive summary" in t and "Contents" not in t]
    page = pages[start]
    assert "Decision: Approve with conditions" in page and "Re-split by applicant" in page
    attention = [c for c in report.checks if c.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    assert [c.id for c in attention if c.status == Status.FAIL] == ["leakage.train_test_overlap"]
    assert page.index("Row-wise leakage") < min(page.index(_flat(c.title)) for c in attention
                                                if c.status != Status.FAIL)  # failures first
    for c in attention:
        assert _flat(c.title) in page, c.title
        assert _flat(first_finding(c)) in page, (c.id, "first finding not in full on the summary page")
    assert first_finding(report.check("leakage.train_test_overlap")) == LONG
    assert RATIONALE in page  # the rationale beside the failing check
    assert "2 Anti-pattern scorecard" in pages[start + 1]  # the summary did not spill over


def test_failing_check_section_prints_its_rationale():
    _rec, _data, built = committee_pdf()
    text = _flat(_text(built.pdf))
    assert f"✎ Rationale: why the reviewers accept this failure {RATIONALE}" in text


def test_questionnaire_is_a_table_of_questions_and_answers():
    from readiness.checks.bias_questions import QUESTIONS

    _rec, _data, built = committee_pdf()
    text = _flat(_text(built.pdf))
    assert "The reviewers' answers on deployment" in text
    for q in QUESTIONS:
        assert _flat(q["question"]) in text, q["key"]
    assert "A person reviews some decisions (sampled, borderline or on appeal)" in text  # the choice in words
    assert "Rank loan applications for underwriting." in text
    assert "intended_use" not in text and '{"' not in text


def test_cover_names_project_model_version_decision_date_and_people_not_files():
    rec, _data, built = committee_pdf()
    cover = _flat(_text(built.pdf, 1))
    assert "Consumer lending" in cover and "Model credit_model · version 3.1" in cover
    assert ".skops" not in _flat(_text(built.pdf, 3))  # nor in the page headers
    assert ".skops" not in cover and ".csv" not in cover
    assert "Decision: Approve with conditions" in cover and "Ana Müller (Data scientist)" in cover
    created = datetime.fromisoformat(rec.created_at)
    assert f"{created.day} {created:%B %Y}" in cover
    assert "Data scientist: Ana Müller; Business owner: anyone in the role" in cover


def test_pdf_metadata_dates_are_the_real_creation_time(tmp_path):
    rec, _data, built = committee_pdf()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(built.pdf)
    info = subprocess.run(["pdfinfo", "-isodates", str(pdf)], capture_output=True, text=True, check=True).stdout
    created = re.search(r"CreationDate:\s+(\S+)", info).group(1)
    assert datetime.fromisoformat(created.replace("Z", "+00:00")) == datetime.fromisoformat(rec.created_at)
    assert "2000-01-01" not in info


def test_one_signature_box_per_planned_signer():
    _rec, _data, built = committee_pdf()
    text = _flat(_text(built.pdf))
    assert "1. Data scientist Planned: Ana Müller <ana@bank.example>" in text
    assert "2. Business owner Planned: anyone in this role" in text
    assert text.count("Signature field Sig") == 2


def test_record_attached_is_the_signed_bytes():
    from readiness.report.sign import read_record

    _rec, data, built = committee_pdf()
    assert read_record(built.pdf)[0] == data
    assert json.loads(data)["notes"]["leakage.train_test_overlap"] == RATIONALE


def test_holdout_reuse_evidence_reads_the_checks_own_metrics():
    """The key figures follow the check's metric names: accuracy with its Clopper–Pearson interval
    (statsmodels, independently of readiness.stats), the budgets in uses, and no history known."""
    from sklearn.metrics import accuracy_score
    from statsmodels.stats.proportion import proportion_confint

    from readiness import fmt

    ctx, _report = small_full_review()
    _rec, _data, built = committee_pdf()
    text = _flat(_text(built.pdf))
    y, pred = ctx.y_test.astype(str).to_numpy(), [str(p) for p in ctx.test_pred]
    acc = accuracy_score(y, pred)
    lo, hi = proportion_confint(round(acc * len(y)), len(y), alpha=0.05, method="beta")
    assert f"Accuracy on this holdout {fmt.percent(acc)} ({fmt.percent(lo)}–{fmt.percent(hi)})" in text
    assert re.search(r"Uses the holdout supports \d[\d,]* models fixed in advance", text)
    assert re.search(r"Uses when each result steers the next \d[\d,]* only pass/fail shared", text)
    assert "Recorded uses, this one included unknown: no review history" in text


def _summary_and_next(pdf: bytes, pages: int) -> tuple[str, str]:
    texts = [_flat(_text(pdf, n)) for n in range(1, pages + 1)]
    [start] = [i for i, t in enumerate(texts) if "1 Executive summary" in t and "Contents" not in t]
    return texts[start], texts[start + 1]


def test_executive_summary_cannot_spill_with_many_long_findings_and_notes():
    """Every passing check turned into a warning with a long finding, and long notes: the type
    shrinks, then rows from the bottom point to their section instead of printing the finding;
    the summary stays on one page, the failure keeps its finding and rationale in full, no
    sentence is cut, and every finding is still printed in full in its section."""
    report = committee_review()
    checks = [c.model_copy(update={"status": Status.WARN, "findings": [
                  Finding(severity=Severity.WARN, message=f"{LONG} Check {c.id}.", columns=[])]})
              if c.status == Status.PASS else c for c in report.checks]
    report = report.model_copy(update={"checks": checks})
    warned = [c for c in checks if c.status == Status.WARN]
    assert len(warned) >= 20
    notes = {"leakage.train_test_overlap": RATIONALE, **{c.id: "A long reviewer note. " * 12 for c in warned[:6]}}
    rec = new_record(report, project="Consumer lending", model_name="credit_model", model_version="3.1",
                     reviewers=[{"name": "Ana Müller", "email": "ana@bank.example", "role": "Data scientist"}],
                     decision={"outcome": "approve_with_conditions", "conditions": ["Re-split by applicant"]},
                     notes=notes, signer_roles=[{"role": "Data scientist"}])
    built = build_pdf(rec, record_bytes(rec))
    page, after = _summary_and_next(built.pdf, built.pages)
    assert _flat(after).startswith("2 Anti-pattern scorecard")  # the next page: the summary did not spill
    for c in checks:
        if c.status in (Status.FAIL, Status.WARN):
            assert _flat(c.title) in page, c.id
    assert _flat(LONG) in page and RATIONALE in page  # the failure: finding and rationale in full
    assert "Finding in full in the check's own section." in page
    shown = [c for c in warned if f"Check {c.id}." in page]
    for c in shown:  # a finding on the page is complete, never cut
        assert _flat(c.findings[0].message) in page, c.id
    text = _flat(_text(built.pdf))
    for c in warned:
        if c.id != "bias.categories":  # tabulated in the seven-sources section
            assert _flat(c.findings[0].message) in text, c.id


def test_contents_stay_on_one_page():
    _rec, _data, built = committee_pdf()
    contents = _flat(_text(built.pdf, 2))
    assert contents.count("Contents") == 1 and "C Appendix: how to verify this report" in contents
    assert "1 Executive summary" in _flat(_text(built.pdf, 3))


def test_every_registered_check_has_key_figures_with_labels():
    """No registered check falls back to labels made from its metric keys."""
    from readiness.registry import registered_checks
    from readiness.report.figures import FIGURES

    assert [s.id for s in registered_checks() if s.id not in FIGURES] == []
