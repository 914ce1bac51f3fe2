"""Concurrency with real processes, on SQLite and PostgreSQL: nothing lost, nothing
half-written, ids unique; a process killed mid-write leaves the database as it was.

The workers are tests/store_worker.py; the database is read back with plain SQL
(store_helpers.dump), not through the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import FIXTURE, ROOT, dump, load_fixture, project_columns, small, version_rows

from readiness.migrations import head

pytestmark = pytest.mark.slow
WORKER = str(ROOT / "tests" / "store_worker.py")


def _start(mode: str, **args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, WORKER, mode, json.dumps(args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _report_file(tmp_path: Path) -> str:
    _, report = small()
    path = tmp_path / "report.json"
    path.write_text(report.to_json(), encoding="utf-8")
    return str(path)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker ended early: {proc.communicate()[1][-3000:]}")
        assert time.monotonic() < end, f"timed out waiting for {path.name}"
        time.sleep(0.02)


def test_six_processes_record_into_a_fresh_database_at_once(history_url, tmp_path):
    """The 0.1.0 code failed here with "table reviews already exists" (create_all raced),
    and linked records to whichever concurrent review of the same inputs came last."""
    report, n, workers = _report_file(tmp_path), 4, 6
    procs = [_start("write", url=history_url, barrier=str(tmp_path), index=i, parties=workers, n=n, report=report)
             for i in range(workers)]
    done = [d for p in procs for d in _finish(p)["done"]]
    rows = dump(history_url)
    assert version_rows(history_url) == [head()]
    assert len(done) == len(rows["reviews"]) == len(rows["records"]) == len(rows["signatures"]) == workers * n
    assert sorted(d["review_id"] for d in done) == sorted(r["id"] for r in rows["reviews"])  # each id once
    reviews = {r["id"]: r for r in rows["reviews"]}
    for d in done:  # every record is linked to the review its own process recorded
        rec = next(r for r in rows["records"] if r["record_id"] == d["record_id"])
        assert rec["review_id"] == d["review_id"] and reviews[rec["review_id"]]["project"] == d["project"]
        assert hashlib.sha256(rec["record_json"]).hexdigest() == rec["record_sha256"]
    sigs = {s["record_id"]: s for s in rows["signatures"]}
    assert set(sigs) == {d["record_id"] for d in done}
    # one holdout evaluation per distinct review (the digests were shared by all six)
    assert sorted(h["review_digest"] for h in rows["holdout_evaluations"]) == [f"{k:064d}" for k in range(n)]


def _certificate_sha256(pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)).hexdigest()


def _unsigned_pdf(tmp_path: Path, roles: list[str]) -> Path:
    from readiness.report.canonical import new_record, record_bytes
    from readiness.report.pdf import build_pdf

    ctx, report = small()
    record = new_record(report, project="Two signers", model_version="1", review_digest=ctx.digest,
                        signer_roles=roles)
    path = tmp_path / "report.pdf"
    path.write_bytes(build_pdf(record, record_bytes(record)).pdf)
    return path


def _keys(tmp_path: Path, names: list[str]) -> list[tuple[Path, Path]]:
    from readiness.report.sign import generate_key, write_keypair

    return [write_keypair(generate_key(n, algorithm="p256"), tmp_path / "keys", n) for n in names]


@pytest.mark.parametrize("slots", ["two slots", "one slot"])
def test_two_signers_sign_the_same_report_at_the_same_moment(history_url, tmp_path, slots):
    """Both processes store the report's record (not yet in the history) and their signature
    at once. Two slots: both signatures recorded, the record and its review once. One slot
    signed twice: the first is kept, the other refused with a message, nothing half-written."""
    roles = ["Data scientist", "Model-risk reviewer"]
    pdf = _unsigned_pdf(tmp_path, roles)
    keys = _keys(tmp_path, ["Ann Signer", "Bo Signer"])
    sign_as = roles if slots == "two slots" else [roles[0], roles[0]]
    pdfs = [pdf, pdf]
    if slots == "two slots":  # signing follows the planned order: Sig2 signs the copy Sig1 signed
        from readiness.report.sign import sign_report

        (k0, c0) = keys[0]
        pdfs[1] = tmp_path / "signed-by-sig1.pdf"
        pdfs[1].write_bytes(sign_report(pdf.read_bytes(), key=k0.read_bytes(), cert=c0.read_bytes(),
                                        role=roles[0], decision="approve").pdf)
    procs = [_start("sign", url=history_url, barrier=str(tmp_path), index=i, parties=2, pdf=str(pdfs[i]),
                    key=str(k), cert=str(c), role=role) for i, ((k, c), role) in enumerate(zip(keys, sign_as,
                                                                                                strict=True))]
    results = [_finish(p) for p in procs]
    rows = dump(history_url)
    assert len(rows["records"]) == 1 and len(rows["reviews"]) == 1  # the loser's review rolled back with it
    assert rows["records"][0]["review_id"] == rows["reviews"][0]["id"]
    fingerprints = [_certificate_sha256(c.read_bytes()) for _, c in keys]
    assert [r["cert_sha256"] for r in results] == fingerprints
    if slots == "two slots":
        assert [r["outcome"] for r in results] == ["recorded", "recorded"]
        assert sorted((s["field"], s["cert_sha256"]) for s in rows["signatures"]) == [
            ("Sig1", fingerprints[0]), ("Sig2", fingerprints[1])]
    else:
        assert sorted(r["outcome"][:8] for r in results) == ["recorded", "refused:"]
        winner = next(r for r in results if r["outcome"] == "recorded")
        loser = next(r for r in results if r["outcome"] != "recorded")
        assert "already signed in the history by" in loser["outcome"]
        assert [(s["field"], s["cert_sha256"]) for s in rows["signatures"]] == [("Sig1", winner["cert_sha256"])]


def test_a_reader_lists_the_history_while_writers_write(history_url, tmp_path):
    report, writers = _report_file(tmp_path), 3
    stop = tmp_path / "stop"
    reader = _start("read", url=history_url, barrier=str(tmp_path), index=writers, parties=writers + 1,
                    stop=str(stop))
    procs = [_start("write", url=history_url, barrier=str(tmp_path), index=i, parties=writers + 1, n=6,
                    report=report) for i in range(writers)]
    for p in procs:
        _finish(p)
    stop.write_text("")
    seen = _finish(reader)
    assert seen["problems"] == [] and seen["snapshots"] >= 2
    assert seen["last"] == [writers * 6, writers * 6]  # the final listing has every review and signature


@pytest.mark.parametrize("what, pause_after", [("review", "INSERT INTO holdout_evaluations"),
                                               ("record", "INSERT INTO records")])
def test_a_process_killed_in_the_middle_of_recording_leaves_the_database_as_it_was(
        history_url, tmp_path, what, pause_after):
    proc = _start("crash", url=history_url, barrier=str(tmp_path), report=_report_file(tmp_path), what=what,
                  pause_after=pause_after)
    _wait_for(tmp_path / "first", proc)
    before = dump(history_url)
    assert [r["project"] for r in before["reviews"]] == ["before the crash"]
    (tmp_path / "go").write_text("")
    _wait_for(tmp_path / "mid", proc)  # the review row is written, the transaction open
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert dump(history_url) == before
    if history_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(history_url.split(":///", 1)[1]) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    from readiness.store import open_store

    _, report = small()
    with open_store(history_url) as store:  # and the next writer is not blocked by the dead one
        new_id = store.record_review(report, review_digest="d" * 64, test_sha256="holdout")
    assert new_id > before["reviews"][0]["id"]  # (PostgreSQL's sequences skip the id the dead one drew)
    assert [r["project"] for r in dump(history_url)["reviews"]] == ["before the crash", None]


def test_an_upgrade_killed_half_way_leaves_the_0_1_0_history_as_it_was(history_url, tmp_path):
    load_fixture(history_url)
    before, tables = dump(history_url), _tables(history_url)
    proc = _start("migrate", url=history_url, barrier=str(tmp_path), pause_after="CREATE INDEX ix_records_created_at")
    _wait_for(tmp_path / "mid", proc)  # revision 0001 stamped, 0002 half applied
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert version_rows(history_url) is None and _tables(history_url) == tables and dump(history_url) == before
    from readiness.cli import main

    assert main(["db", "upgrade", "--db", history_url]) == 0
    # every old row, every id, every byte (the later revisions only add nullable columns)
    assert version_rows(history_url) == [head()] and project_columns(dump(history_url), before) == before


def _tables(url: str) -> dict:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    insp = inspect(engine)
    out = {t: sorted(i["name"] for i in insp.get_indexes(t)) for t in insp.get_table_names()}
    engine.dispose()
    return out


assert FIXTURE.exists()
