"""Review history on SQLite and on a real PostgreSQL server (``history_url`` runs each test
on both; see tests/pg.py): a restart is a new engine on the same database."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from store_helpers import ROOT, csvs, dump, small, statement

from readiness import errors as E
from readiness.report.canonical import new_record, record_bytes
from readiness.store import ReviewStore, StoreError, holdout_key_for, normalize_url, open_store


def test_history_survives_a_restart(history_url):
    ctx, report = small()
    store = ReviewStore(history_url)
    review_id = store.record_review(report, review_digest=ctx.digest, source="cli", project="Lending",
                                    model_name="m", model_version="1", test_sha256=holdout_key_for(ctx))
    record = new_record(report, project="Lending 支店", model_version="1", review_digest=ctx.digest)
    data = record_bytes(record)
    store.save_record(record, data, review_id=review_id)
    store.add_signature(statement(record, data), certified=True)
    store.close()

    again = ReviewStore(history_url)  # restart: a new engine on the same database
    rows = again.history()
    assert len(rows) == 1  # the review is shown through its record
    row = rows[0]
    assert row.review_id == review_id and row.record_id == record.record_id
    assert row.project == "Lending 支店" and row.status == report.status.value
    assert [s["signer_name"] for s in row.signatures] == ["Zoë Müller"] and row.signatures[0]["certified"]
    assert row.signatures[0]["signed_at"] == "2026-01-02T03:04:05+00:00"
    assert again.record_data(record.record_id) == data  # the exact signed bytes
    assert again.holdout_evaluation_count(holdout_key_for(ctx)) == 1
    assert again.projects() == ["Lending", "Lending 支店"]
    again.close()


def _one_record(url):
    """An open store and a record (with its bytes) not stored yet."""
    _, report = small()
    record = new_record(report, project="P", model_version="1")
    return ReviewStore(url), record, record_bytes(record)


def test_times_are_stored_as_utc(history_url):
    """A signature made at 05:04 in UTC+02:00 is 03:04 UTC on both engines (SQLite drops
    offsets: storing wall-clock time would shift it by two hours)."""
    store, record, data = _one_record(history_url)
    store.add_signature(statement(record, data, signed_at="2026-01-02T05:04:05+02:00"), certified=True,
                        record=record, data=data)
    assert store.signatures_of(record.record_id)[0]["signed_at"] == "2026-01-02T03:04:05+00:00"
    store.close()


def test_holdout_evaluations_count_distinct_reviews(history_url):
    ctx, report = small()
    store = ReviewStore(history_url)
    key = holdout_key_for(ctx)
    assert store.holdout_evaluation_count(key) == 0
    store.record_review(report, review_digest="d1", test_sha256=key)
    store.record_review(report, review_digest="d1", test_sha256=key)  # the identical review re-run
    store.record_review(report, review_digest="d2", test_sha256=key)
    assert store.count("reviews") == 3
    assert store.holdout_evaluation_count(key) == 2
    assert store.holdout_evaluation_count(key, exclude_digest="d2") == 1
    assert store.holdout_evaluation_count("other") == 0
    assert store.holdout_counts()[0]["evaluations"] == 2
    store.close()


def test_writes_are_idempotent_and_signatures_need_their_record(history_url):
    store, record, data = _one_record(history_url)
    with pytest.raises(StoreError, match="not in the history"):
        store.add_signature(statement(record, data), certified=True)
    store.add_signature(statement(record, data), certified=True, record=record, data=data)
    store.add_signature(statement(record, data), certified=True, record=record, data=data)
    store.save_record(record, data)
    assert store.count("records") == 1 and store.count("signatures") == 1 and store.count("reviews") == 1
    store.close()


def test_a_record_is_linked_to_its_own_review_not_the_latest_with_its_digest(history_url):
    """Two reviews of the same inputs recorded at the same time (two stores: two processes).
    Linking by the review digest gave the first review's record to the second review."""
    ctx, report = small()
    first, second = ReviewStore(history_url), ReviewStore(history_url)
    id1 = first.record_review(report, review_digest=ctx.digest, project="first", test_sha256="t")
    id2 = second.record_review(report, review_digest=ctx.digest, project="second", test_sha256="t")
    assert id1 != id2
    record = new_record(report, project="first", model_version="1", review_digest=ctx.digest)
    first.save_record(record, record_bytes(record))  # the id this store recorded, not the newest
    explicit = new_record(report, project="second", model_version="1", review_digest=ctx.digest)
    first.save_record(explicit, record_bytes(explicit), review_id=id2)
    rows = dump(first.url)
    linked = {r["record_id"]: r["review_id"] for r in rows["records"]}
    assert linked == {record.record_id: id1, explicit.record_id: id2}
    assert len(rows["reviews"]) == 2  # no review invented for either record
    # a record whose review this store never recorded brings its own (no guessing by digest)
    third = ReviewStore(history_url)
    other = new_record(report, project="third", model_version="1", review_digest=ctx.digest)
    third.save_record(other, record_bytes(other))
    rows = dump(first.url)
    own = next(r for r in rows["records"] if r["record_id"] == other.record_id)["review_id"]
    assert own not in (id1, id2)
    assert next(r for r in rows["reviews"] if r["id"] == own)["source"] == "record"
    # a review id of other inputs is refused, with nothing written
    wrong = new_record(report, project="x", model_version="1", review_digest="0" * 64)
    with pytest.raises(StoreError) as err:
        first.save_record(wrong, record_bytes(wrong), review_id=id1)
    assert str(err.value) == E.DB_REVIEW_MISMATCH.format(review_id=id1, found=ctx.digest[:12],
                                                          record_id=wrong.record_id, expected="0" * 12)
    with pytest.raises(StoreError, match="is not in the review history"):
        first.save_record(wrong, record_bytes(wrong), review_id=999)
    assert len(dump(first.url)["records"]) == 3
    for s in (first, second, third):
        s.close()


def test_conflicting_writes_are_refused_not_overwritten(history_url):
    store, record, data = _one_record(history_url)
    store.add_signature(statement(record, data), certified=True, record=record, data=data)
    # the same slot signed by someone else: refused, the first signature stays
    with pytest.raises(StoreError, match="already signed in the history by Zoë Müller"):
        store.add_signature(statement(record, data, name="Mallory", cert="cd" * 32), certified=False)
    # a statement over other bytes than the stored record
    with pytest.raises(StoreError, match="is over record bytes"):
        store.add_signature(statement(record, data + b" ", field="Sig2", role="Owner"), certified=False)
    # the same record id with other bytes
    with pytest.raises(StoreError, match="a record id never changes content"):
        store.save_record(record, data + b" ")
    rows = dump(store.url)
    assert [s["signer_name"] for s in rows["signatures"]] == ["Zoë Müller"]
    assert [bytes(r["record_json"]) for r in rows["records"]] == [data]
    store.close()


def test_a_failed_write_rolls_back_entirely(history_url, monkeypatch):
    _, report = small()
    store = ReviewStore(history_url)
    store.record_review(report, review_digest="d1", test_sha256="t")
    real = store.holdout

    class Boom:
        c = real.c

        def __getattr__(self, name):
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "holdout", Boom())
    with pytest.raises(RuntimeError):
        store.record_review(report, review_digest="d2", test_sha256="t")  # fails after inserting the review
    monkeypatch.setattr(store, "holdout", real)
    assert store.count("reviews") == 1  # the half-written review was rolled back
    assert store.holdout_evaluation_count("t") == 1
    store.close()


def test_a_crash_mid_write_loses_nothing_already_saved(history_url):
    """A process that dies inside a transaction: what was committed before survives, the
    unfinished write leaves no trace. (SIGKILL from outside: tests/test_store_concurrency.py.)"""
    _, report = small()
    store = ReviewStore(history_url)
    store.record_review(report, review_digest="saved", test_sha256="t")
    before = dump(history_url)
    store.close()
    script = textwrap.dedent(f"""
        import datetime, os
        from sqlalchemy import insert
        from readiness.store import ReviewStore
        store = ReviewStore({history_url!r})
        with store._write() as conn:
            conn.execute(insert(store.reviews).values(
                created_at=datetime.datetime.now(datetime.UTC), source="x", review_digest="lost", status="pass",
                n_checks=0, status_counts="{{}}", report_json="{{}}"))
            os._exit(9)  # dies before the commit
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert dump(history_url) == before
    if history_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(history_url.split(":///", 1)[1]) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = ReviewStore(history_url)
    assert store.holdout_evaluation_count("t") == 1
    store.close()


def test_urls_and_bad_databases(tmp_path):
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    assert normalize_url("postgresql://u@h/db") == normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(StoreError, match="URL is empty"):
        normalize_url("  ")
    store = open_store(str(tmp_path / "new" / "folder" / "h.db"))  # folders are created
    store.close()
    with pytest.raises(StoreError, match="Not a usable database URL"):
        open_store("nosuchdialect://user@host/db")
    (tmp_path / "not-a-db").write_text("hello, this is not sqlite " * 100)
    with pytest.raises(StoreError) as err:
        open_store(str(tmp_path / "not-a-db"))
    assert str(err.value) == E.DB_NOT_A_DATABASE.format(url=f"sqlite:///{tmp_path / 'not-a-db'}")
    assert (tmp_path / "not-a-db").read_text() == "hello, this is not sqlite " * 100


def test_cli_review_records_history_and_prior_evaluations(tmp_path, capsys, history_url):
    from readiness.cli import main

    train, test, model = csvs(tmp_path)
    db = history_url
    base = ["review", "--train", str(train), "--test", str(test), "--model", str(model), "--target", "target",
            "--check", "evaluation.holdout_reuse", "--quiet", "--db", db]
    out1, out2 = tmp_path / "r1.json", tmp_path / "r2.json"
    assert main([*base, "--json", str(out1)]) == 0
    assert main([*base, "--threshold", "0.4", "--json", str(out2), "--pdf", str(tmp_path / "r.pdf"),
                 "--project", "Lending", "--model-version", "7", "--reviewer", "Zoë Müller <z@example.org>"]) == 0
    first = json.loads(out1.read_text())["checks"][0]["metrics"]
    second = json.loads(out2.read_text())["checks"][0]["metrics"]
    assert first["prior_evaluations"] == 0 and second["prior_evaluations"] == 1
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    rows = dump(db)
    record = rows["records"][0]
    linked = next(r for r in rows["reviews"] if r["id"] == record["review_id"])
    assert (linked["model_version"], linked["source"]) == ("7", "cli")  # the PDF's own review
    capsys.readouterr()
    assert main(["history", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Lending · model 7" in out and "Zoë" not in out  # the model's name, not its file; no signature yet
    assert "2 evaluation(s)" in out
    assert main(["history", "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reviews"][0]["model_version"] == "7" and data["reviews"][0]["record_id"]
    # a bad explicit --db is bad input: exit 2, one line, nothing run
    assert main([*base[:-2], "--db", "nosuchdialect://x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    # report options that cannot make a record fail before the review runs
    out3 = tmp_path / "r3.json"
    assert main([*base, "--json", str(out3), "--pdf", str(tmp_path / "x.pdf"), "--decision",
                 "approve_with_conditions"]) == 2
    assert "needs at least one condition" in capsys.readouterr().err and not out3.exists()
    # --no-history: prior evaluations unknown, nothing recorded
    assert main([*base[:-2], "--no-history", "--json", str(out1)]) == 0
    assert json.loads(out1.read_text())["checks"][0]["metrics"]["prior_evaluations"] is None
    assert len(dump(db)["reviews"]) == 2


def test_postgresql_without_its_driver_says_which_extra_to_install():
    script = ("import sys; sys.modules['psycopg'] = None\n"
              "from readiness.cli import main\n"
              "sys.exit(main(['history', '--db', 'postgresql://u:secret@localhost/reviews']))")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    message = E.DB_DRIVER_MISSING.format(url="postgresql+psycopg://u:***@localhost/reviews", driver="psycopg",
                                         hint=E.DB_DRIVER_HINT_PG)
    assert (proc.returncode, proc.stderr) == (2, f"readiness: error: {message}\n")


def test_a_remembered_review_that_is_gone_is_not_linked(tmp_path):
    """The history was replaced under a long-running app (e.g. restored from a backup): the
    record brings its own review instead of pointing at an id that is no longer there."""
    from sqlalchemy import create_engine, text

    ctx, report = small()
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = ReviewStore(url)
    store.record_review(report, review_digest=ctx.digest, test_sha256="t")
    other = create_engine(url)
    with other.begin() as conn:
        conn.execute(text("DELETE FROM holdout_evaluations"))
        conn.execute(text("DELETE FROM reviews"))
    other.dispose()
    record = new_record(report, project="P", model_version="1", review_digest=ctx.digest)
    store.save_record(record, record_bytes(record))
    rows = dump(url)
    assert [(r["id"], r["source"]) for r in rows["reviews"]] == [(1, "record")]
    assert rows["records"][0]["review_id"] == 1
    store.close()
