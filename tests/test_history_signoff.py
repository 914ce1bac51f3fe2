"""Issue 10: what the sign-off leaves in the review history. The bundled sample is never
recorded and never counts as a use of a holdout (CLI and app)."""

from __future__ import annotations

from test_report_app import _button, _page, db, small_review  # noqa: F401  (pytest fixtures)

from readiness.store import ReviewStore


def test_cli_sample_review_is_never_recorded(tmp_path, capsys):
    from readiness.cli import main

    url = str(tmp_path / "h.db")
    pdf = tmp_path / "r.pdf"
    assert main(["review", "--sample", "--check", "evaluation.holdout", "--db", url, "--pdf", str(pdf)]) == 0
    assert "the bundled sample is not recorded in the review history" in capsys.readouterr().err
    assert pdf.exists()
    store = ReviewStore(url)
    try:
        assert store.history() == [] and store.holdout_counts() == []
    finally:
        store.close()


def test_app_sample_report_and_signature_are_never_recorded(small_review, db):  # noqa: F811
    from pages._ui import SESSION_KEY, AppState

    ctx, report = small_review
    at = _page("pages/report.py", small_review, AppState(ctx=ctx, report=report, title="Sample", is_sample=True))
    next(t for t in at.text_input if t.label == "Project").set_value("Sample")
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("not recorded in the review history" in i.value for i in at.info)
    next(t for t in at.text_input if t.label.startswith("Your name")).set_value("Zoë Müller")
    at.run()
    _button(at, "Generate key and certificate").click().run()
    _button(at, "Sign as Data scientist").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.session_state[SESSION_KEY].extras["signoff"]["statements"]) == 1
    store = ReviewStore(db)
    try:
        assert store.history() == [] and store.holdout_counts() == []
    finally:
        store.close()
