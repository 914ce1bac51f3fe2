"""Review history: a real SQLite file; a restart is a new engine on the same file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness.inputs import Settings
from readiness.report.canonical import Outcome, Statement, new_record, record_bytes
from readiness.review import run_review
from readiness.store import ReviewStore, StoreError, holdout_key_for, normalize_url, open_store

ROOT = Path(__file__).resolve().parent.parent


@cache
def small():
    rng = np.random.default_rng(3)
    n = 240
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] > 0).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "target": y})
    train, test = frame.iloc[:160].reset_index(drop=True), frame.iloc[160:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["target"])
    ctx = make_ctx(train, test, target="target", model=model, settings=Settings(bootstrap=20))
    return ctx, run_review(ctx, checks=["data_quality.completeness"])


def _statement(record, data, field="Sig1", role="Data scientist", name="Zoë Müller") -> Statement:
    from readiness.report.canonical import sha256_hex

    return Statement(field=field, role=role, signer_name=name, signer_email="z@example.org",
                     decision=Outcome.APPROVE, note="ok", signed_at="2026-01-02T03:04:05+00:00",
                     record_id=record.record_id, record_sha256=sha256_hex(data), cert_sha256="ab" * 32,
                     record_cms="")


def test_history_survives_a_restart(tmp_path):
    ctx, report = small()
    path = tmp_path / "reviews.db"
    store = ReviewStore(str(path))
    review_id = store.record_review(report, review_digest=ctx.digest, source="cli", project="Lending",
                                    model_name="m", model_version="1", test_sha256=holdout_key_for(ctx))
    record = new_record(report, project="Lending 支店", model_version="1", review_digest=ctx.digest)
    data = record_bytes(record)
    store.save_record(record, data)
    store.add_signature(_statement(record, data), certified=True)
    store.close()

    again = ReviewStore(f"sqlite:///{path}")  # restart: a new engine on the same file
    rows = again.history()
    assert len(rows) == 1  # the review is shown through its record
    row = rows[0]
    assert row.review_id == review_id and row.record_id == record.record_id
    assert row.project == "Lending 支店" and row.status == report.status.value
    assert [s["signer_name"] for s in row.signatures] == ["Zoë Müller"] and row.signatures[0]["certified"]
    assert again.record_data(record.record_id) == data  # the exact signed bytes
    assert again.holdout_evaluation_count(holdout_key_for(ctx)) == 1
    assert again.projects() == ["Lending", "Lending 支店"]
    again.close()


def test_holdout_evaluations_count_distinct_reviews(tmp_path):
    ctx, report = small()
    store = ReviewStore(str(tmp_path / "h.db"))
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


def test_writes_are_idempotent_and_signatures_need_their_record(tmp_path):
    ctx, report = small()
    store = ReviewStore(str(tmp_path / "h.db"))
    record = new_record(report, project="P", model_version="1")
    data = record_bytes(record)
    with pytest.raises(StoreError, match="not in the history"):
        store.add_signature(_statement(record, data), certified=True)
    store.add_signature(_statement(record, data), certified=True, record=record, data=data)
    store.add_signature(_statement(record, data), certified=True, record=record, data=data)
    store.save_record(record, data)
    assert store.count("records") == 1 and store.count("signatures") == 1
    store.close()


def test_a_failed_write_rolls_back_entirely(tmp_path, monkeypatch):
    ctx, report = small()
    store = ReviewStore(str(tmp_path / "h.db"))
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


def test_a_crash_mid_write_loses_nothing_already_saved(tmp_path):
    """A process killed inside a transaction: what was committed before survives, the
    unfinished write leaves no trace, and the file is intact."""
    ctx, report = small()
    path = tmp_path / "h.db"
    report_json = tmp_path / "report.json"
    report_json.write_text(report.to_json())
    script = textwrap.dedent(f"""
        import os
        from sqlalchemy import insert
        from readiness.results import ReviewReport
        from readiness.store import ReviewStore
        report = ReviewReport.model_validate_json(open({str(report_json)!r}).read())
        store = ReviewStore({str(path)!r})
        store.record_review(report, review_digest="saved", test_sha256="t")
        with store.engine.begin() as conn:
            conn.execute(insert(store.reviews).values(
                created_at=__import__("datetime").datetime.now(), source="x", review_digest="lost", status="pass",
                n_checks=0, status_counts="{{}}", report_json="{{}}"))
            os._exit(9)  # killed before the commit
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        digests = [d for (d,) in conn.execute("SELECT review_digest FROM reviews")]
    assert digests == ["saved"]
    store = ReviewStore(str(path))
    assert store.holdout_evaluation_count("t") == 1
    store.close()


def test_urls_and_bad_databases(tmp_path):
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    store = open_store(str(tmp_path / "new" / "folder" / "h.db"))  # folders are created
    store.close()
    with pytest.raises(StoreError):
        open_store("nosuchdialect://user@host/db")
    (tmp_path / "not-a-db").write_text("hello, this is not sqlite " * 100)
    with pytest.raises(StoreError, match="Cannot open the review history"):
        open_store(str(tmp_path / "not-a-db"))


def _csvs(tmp_path):
    ctx, _ = small()
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    ctx.train.to_csv(train, index=False)
    ctx.test.to_csv(test, index=False)
    from skops.io import dump

    model = tmp_path / "model.skops"
    dump(ctx.model.estimator, model)
    return train, test, model


def test_cli_review_records_history_and_prior_evaluations(tmp_path, capsys):
    from readiness.cli import main

    train, test, model = _csvs(tmp_path)
    db = str(tmp_path / "h.db")
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
    capsys.readouterr()
    assert main(["history", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Lending · model.skops 7" in out and "Zoë" not in out  # reviewers present, no signature yet
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
