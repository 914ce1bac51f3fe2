"""Issue 12, "Messages and plain language": the numbers people read (check summaries, finding messages,
every page and the PDF) never show '= <' ('q = < 0.001'), 'None', 'nan', scientific notation
('7.97e-111'), a share of a few rows as '(0.0%)' or 'from X to X'.

The checker is itself tested on planted bad texts, so a test that passes is one that could fail."""

from __future__ import annotations

import re

import pytest

BAD = {
    "'=' before '<' or '>'": re.compile(r"=\s*[<>]"),
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"\b[Nn]a[Nn]\b"),
    # a number with an exponent, not a run of hex digits in a SHA-256
    "scientific notation": re.compile(r"(?<![0-9a-fA-F.])\d+(?:\.\d+)?[eE][-+]?\d+(?![0-9a-zA-Z])"),
    "a share shown as zero": re.compile(r"\(0\.0%\)"),
    "'from X to X'": re.compile(r"\bfrom (\S+) to \1(?!\w|[.,]\d)"),
    "a plural left open": re.compile(r"[a-z]\(s\)"),
}


def bad_spots(text: str) -> list[str]:
    out = []
    for what, pattern in BAD.items():
        for m in pattern.finditer(text):
            out.append(f"{what}: …{text[max(0, m.start() - 60):m.end() + 30]}…")
    return out


def review_texts(report) -> dict[str, str]:
    out = {}
    for c in report.checks:
        out[f"{c.id} summary"] = c.summary or ""
        for i, f in enumerate(c.findings):
            out[f"{c.id} finding {i}"] = f.message
    return out


@pytest.mark.parametrize("text", [
    "Segment x: 60.0% accurate, q = < 0.001", "p = None", "AUC nan", "p = 7.97e-111", "MAE 1.2e-05",
    "5 rows (0.0%)",
    "threshold from 0.5 to 0.5 would", "from 128 to 128."])
def test_the_checker_catches_planted_bad_texts(text):
    assert bad_spots(text)


@pytest.mark.parametrize("text", [
    "q < 0.001", "p = 0.032", "5 rows (< 0.1%)", "9,998 rows (> 99.9%)", "from 0.5 to 0.55", "128 (no change)",
    "Nanny", "finance", "from 12.0% to 12.05%", "SHA-256 aa130e2051db52c8"])
def test_the_checker_passes_plain_texts(text):
    assert not bad_spots(text)


def test_a_weak_segment_sentence_reads_q_below_a_thousandth():
    """The known bug: the Where-it-fails finding printed 'q = < 0.001'."""
    from readiness.checks.segments import _sentence

    e = {"definition": "age under 25", "metric": "accuracy", "value": 0.6, "expected": 0.8, "overall": 0.85,
         "n_holdout": 5, "share": 5 / 10_000, "ci": [0.5, 0.7], "q_value": 3.2e-12}
    text = _sentence(e, hard=False)
    assert "q < 0.001" in text and "5 holdout rows (< 0.1%)" in text and not bad_spots(text)
    assert _sentence({**e, "q_value": 0.0321}, hard=False).endswith("q = 0.032")


def test_the_sample_reviews_texts_read_plainly(sample_report):
    texts = review_texts(sample_report)
    assert len(texts) > 50  # every check's summary and its findings
    found = [f"{k}: {spot}" for k, t in texts.items() for spot in bad_spots(t)]
    assert not found, "\n".join(found)


def test_the_cli_summary_reads_plainly(sample_report, capsys):
    from readiness.cli import _print_summary

    _print_summary(sample_report)
    out = capsys.readouterr().out
    assert out.count("\n") == len(sample_report.checks) and not bad_spots(out), bad_spots(out)


@pytest.mark.slow
def test_every_page_and_the_pdf_read_plainly_for_the_sample(sample_ctx, sample_report):
    """Each page's visible text (Streamlit AppTest) and the PDF's text (pdftotext) for the sample."""
    import shutil

    from test_one_number import page_texts, pdf_text

    texts = page_texts(sample_ctx, sample_report)
    if shutil.which("pdftotext"):
        texts["pdf"] = pdf_text(sample_report)
    found = [f"{k}: {spot}" for k, t in texts.items() for spot in bad_spots(t)]
    assert not found, "\n".join(found)


def test_the_overview_lineage_table_reads_as_the_pdf(sample_ctx, sample_report):
    """Issue 12 (Adult walk): the Overview's 'Inputs and lineage' showed 'None' rows for the model and raw byte
    counts where the PDF says '1.1 MB'; sizes are fmt.byte_size's, a model file's rows read '–'."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import AppState
    from readiness.fmt import byte_size

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=300)
    at.session_state["readiness_review"] = AppState(ctx=sample_ctx, report=sample_report, title="t", is_sample=False)
    at.run()
    table = next(d.value for d in at.dataframe if "sha256" in d.value.columns)
    cells = " ".join(table.astype(str).to_numpy().ravel())
    assert not bad_spots(cells), bad_spots(cells)
    assert table[table["role"] == "model"].iloc[0]["rows"] == "–"
    assert list(table["size"]) == [byte_size(f.size_bytes) for f in sample_report.inputs]


@pytest.mark.parametrize("text", ["8 group gap(s) need review", "All 1 preprocessing step(s) in the model"])
def test_the_checker_catches_an_open_plural(text):
    assert bad_spots(text)


def test_a_placeholder_finding_says_how_many_rows_and_what_share(sample_report):
    """'hides missing values as -999 ×181' read as a formula: the finding names the rows and their share of
    training and holdout, counted here from the CSV files."""
    import pandas as pd

    from readiness.sample import SAMPLE_DIR, sample_config

    cfg = sample_config()
    both = pd.concat([pd.read_csv(SAMPLE_DIR / cfg["train"]), pd.read_csv(SAMPLE_DIR / cfg["test"])])
    k = int((both["employment_years"] == -999).sum())
    share = f"{100 * k / len(both):.1f}%"
    msgs = [f.message for f in sample_report.check("data_quality.completeness").findings]
    assert any(m.startswith(f"'employment_years' hides missing values as -999 in {k:,} rows ({share} of training "
                            "and holdout rows)") for m in msgs), msgs
    assert not any("×" in m or "column(s)" in m for m in msgs)


def test_without_a_target_the_report_recommends_no_review_rule():
    """Issue 12 (Adult PDF): 'No target accuracy was set, so no review band is recommended' sat above a key figure
    'Review rule: defer when 0.385 < score < 0.615' and 'Cases flagged for review'. The figures describe where the
    least confident 10% lie, as optional review, and name no rule."""
    import numpy as np
    import pandas as pd
    from helpers import make_ctx

    from readiness.registry import get_check
    from readiness.report.figures import key_figures
    from readiness.review import run_check

    rng = np.random.default_rng(3)
    p = rng.random(3000)
    df = pd.DataFrame({"x": rng.normal(size=3000), "score": p, "y": (rng.random(3000) < p).astype(int)})
    res = run_check(get_check("uncertainty.abstention"), make_ctx(df, df, target="y", prediction_column="score"))
    assert res.metrics.get("target_accuracy") is None and res.metrics["flagged_basis"] == "least_confident_10pct"
    rows = {label: (value, meaning) for label, value, meaning in key_figures(res.id, res.metrics)}
    assert "Review rule" not in rows and "Cases flagged for review" not in rows
    where = rows["Where the least confident 10% lie"]
    assert "not a recommended rule" in where[1] and "defer" not in where[0] and "< score <" in where[0], where
    assert rows["Cases listed for optional review"][0] == f"{res.metrics['flagged_count']:,}"


def test_the_gap_without_chance_says_why_it_can_exceed_the_ece(sample_report):
    """Adult: 'Expected calibration error 0.8 points' above 'Gap with chance taken out 0.9 points' read as chance
    adding to the gap; the figure says it is a root mean square over the bins, which can sit above the ECE."""
    from readiness.report.figures import key_figures

    res = sample_report.check("calibration")
    rows = {label: meaning for label, _, meaning in key_figures(res.id, res.metrics, limit=40)}
    assert "root mean square" in rows["Gap with chance taken out"] and "above the ECE" in rows["Gap with chance taken out"]
