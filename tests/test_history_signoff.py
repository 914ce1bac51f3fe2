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


def test_cli_questionnaire_answers_are_not_another_use_of_the_holdout(tmp_path, capsys):
    """Answers change how results are read, not what the model scored: a review re-run with
    the questionnaire answered counts once; a review with another threshold counts again."""
    import json

    from store_helpers import csvs, dump

    from readiness.cli import main

    train, test, model = csvs(tmp_path)
    url = str(tmp_path / "h.db")
    base = ["review", "--train", str(train), "--test", str(test), "--model", str(model), "--target", "target",
            "--check", "evaluation.holdout_reuse", "--quiet", "--db", url]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"intended_use": "Rank applications.", "human_oversight": "some"}))

    def prior(*extra) -> int:
        out = tmp_path / "r.json"
        assert main([*base, *extra, "--json", str(out)]) == 0
        return json.loads(out.read_text())["checks"][0]["metrics"]["prior_evaluations"]

    assert prior() == 0
    assert prior("--answers", str(answers)) == 0  # the same evaluation of the holdout, answered
    assert prior("--threshold", "0.4") == 1  # a different evaluation: one earlier use
    capsys.readouterr()
    rows = dump(f"sqlite:///{url}")
    assert len(rows["reviews"]) == 3 and len(rows["holdout_evaluations"]) == 2


def test_a_record_built_after_answering_counts_the_same_holdout_use(tmp_path):
    """The app's path: the review is recorded, the questionnaire saved (bias.categories re-run,
    a new review digest), the PDF's record stored with the review it carries."""
    from store_helpers import dump, small

    from readiness.checks.bias import with_reviewer_answers
    from readiness.report.canonical import new_record, record_bytes
    from readiness.review import run_review, update_report
    from readiness.store import holdout_key_for

    ctx, _ = small()
    report = run_review(ctx, checks=["evaluation.holdout_reuse", "bias.categories"])
    url = str(tmp_path / "h.db")
    store = ReviewStore(url)
    try:
        store.record_review(report, review_digest=ctx.digest, source="app", test_sha256=holdout_key_for(ctx),
                            evaluation_digest=ctx.evaluation_digest)
        assert ctx.evaluation_digest == ctx.digest  # nothing answered: histories written before keep counting
        answered = with_reviewer_answers(ctx, {"intended_use": "Rank applications."})
        assert answered.digest != ctx.digest and answered.evaluation_digest == ctx.evaluation_digest
        again = update_report(report, answered, ["bias.categories"])
        record = new_record(again, project="P", model_version="1", review_digest=answered.digest)
        store.save_record(record, record_bytes(record))  # not recorded for this digest: brings its review
        assert store.holdout_evaluation_count(holdout_key_for(ctx)) == 1
        assert store.holdout_evaluation_count(holdout_key_for(ctx), exclude_digest=answered.evaluation_digest) == 0
        assert len(dump(f"sqlite:///{url}")["reviews"]) == 2  # both reviews are kept; one use of the holdout
    finally:
        store.close()


def test_a_report_discarded_by_editing_the_review_is_superseded_in_the_history(small_review, db):  # noqa: F811
    """'Edit the review again' discards the built (and signed) report: the history shows it
    superseded, never as a standing decision, and the Verify page says so for that file."""
    from pages._ui import SESSION_KEY
    from readiness.store import SUPERSEDED_EDITED

    at = _page("pages/report.py", small_review)
    next(t for t in at.text_input if t.label == "Project").set_value("Lending")
    at.radio[0].set_value(at.radio[0].options[1])  # Approve
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    next(t for t in at.text_input if t.label.startswith("Your name")).set_value("Zoë Müller")
    at.run()
    _button(at, "Generate key and certificate").click().run()
    _button(at, "Sign as Data scientist").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    so = at.session_state[SESSION_KEY].extras["signoff"]
    signed, record_id = so["pdf"], so["record"].record_id
    store = ReviewStore(db)
    try:
        [row] = [r for r in store.history() if r.record_id == record_id]
        assert row.superseded_at is None and row.decision_text() == "Approve"  # standing while it is the report
    finally:
        store.close()

    _button(at, "Edit the review again").click().run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    store = ReviewStore(db)
    try:
        [row] = [r for r in store.history() if r.record_id == record_id]
        assert row.superseded_at and row.superseded_reason == SUPERSEDED_EDITED
        assert row.decision_text() == "superseded, not in force (was Approve)"
        assert [s["signer_name"] for s in row.signatures] == ["Zoë Müller"]  # what happened stays recorded
    finally:
        store.close()

    ht = _page("pages/history.py", small_review)
    assert not ht.exception, ht.exception
    assert list(ht.dataframe[0].value["Decision"]) == ["superseded, not in force (was Approve)"]
    assert any(c.value.startswith("Superseded ") and "edited again after this report was built" in c.value
               for c in ht.caption), [c.value for c in ht.caption]

    vt = _page("pages/verify.py", small_review)
    next(u for u in vt.get("file_uploader") if u.label.startswith("Signed report")).set_value(
        ("report.pdf", signed, "application/pdf"))
    vt.run()
    assert not vt.exception, vt.exception
    assert any("marks this report **superseded**" in w.value and "not in force" in w.value for w in vt.warning), \
        [w.value for w in vt.warning]
