"""``readiness db export`` / ``import``: a history moved from SQLite to PostgreSQL (and
back) keeps every row, id, time and signed byte; damaged files import nothing."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from store_helpers import (
    FIXTURE,
    dump,
    load_fixture,
    project_columns,
    small,
    statement,
    version_rows,
)

from readiness import errors as E
from readiness.cli import main
from readiness.migrations import BASELINE, head
from readiness.report.canonical import new_record, record_bytes
from readiness.store import ReviewStore, display_url, open_store


def _history(url: str) -> None:
    """The 0.1.0 fixture upgraded, plus a review, a record and two signatures written now."""
    load_fixture(url)
    assert main(["db", "upgrade", "--db", url]) == 0
    ctx, report = small()
    with open_store(url) as store:
        review_id = store.record_review(report, review_digest=ctx.digest, project="Zürich 支店", test_sha256="t")
        record = new_record(report, project="Zürich 支店", model_version="3", review_digest=ctx.digest)
        data = record_bytes(record)
        store.save_record(record, data, review_id=review_id)
        store.add_signature(statement(record, data), certified=True)
        store.add_signature(statement(record, data, field="Sig2", role="Model-risk reviewer", name="Kwame",
                                      cert="cd" * 32, signed_at="2026-01-02T03:04:05.123456+00:00"), certified=False)


def _rows(path) -> list[bytes]:
    """The row lines of an export (header and closing line left out)."""
    return path.read_bytes().splitlines()[1:-1]


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back_changes_nothing(tmp_path, pg_url, capsys):
    sqlite_url = f"sqlite:///{tmp_path / 'team.db'}"
    _history(sqlite_url)
    first, second, third = tmp_path / "1.jsonl", tmp_path / "2.jsonl", tmp_path / "3.jsonl"
    assert main(["db", "export", "--db", sqlite_url, "-o", str(first)]) == 0
    assert "reviews: 4, holdout evaluations: 2, records: 4, signatures: 7" in capsys.readouterr().err
    assert main(["db", "import", str(first), "--db", pg_url]) == 0
    assert main(["db", "export", "--db", pg_url, "-o", str(second)]) == 0
    back = f"sqlite:///{tmp_path / 'back.db'}"
    assert main(["db", "import", str(second), "--db", back]) == 0
    assert main(["db", "export", "--db", back, "-o", str(third)]) == 0
    assert _rows(first) == _rows(second) == _rows(third) and len(_rows(first)) == 17
    # read independently of the export code: the same rows in all three databases
    assert dump(sqlite_url) == dump(pg_url) == dump(back)
    assert version_rows(pg_url) == version_rows(back) == [head()]
    signed = {r["record_id"]: r for r in dump(pg_url)["records"]}
    assert all(hashlib.sha256(r["record_json"]).hexdigest() == r["record_sha256"] for r in signed.values())
    # the moved history goes on: the next ids follow the imported ones on PostgreSQL too
    ctx, report = small()
    with ReviewStore(pg_url) as store:
        assert store.record_review(report, review_digest=ctx.digest, test_sha256="t") == 5
        record = new_record(report, project="After the move", model_version="4", review_digest=ctx.digest)
        data = record_bytes(record)
        store.save_record(record, data)
        store.add_signature(statement(record, data), certified=True)
    assert max(s["id"] for s in dump(pg_url)["signatures"]) == 8


def test_export_backs_up_a_0_1_0_history_before_its_upgrade(history_url, tmp_path):
    """The export works on the old schema (as the upgrade message advises); importing it
    gives the same rows as upgrading in place."""
    load_fixture(history_url)
    before = dump(history_url)
    backup = tmp_path / "backup.jsonl"
    assert main(["db", "export", "--db", history_url, "-o", str(backup)]) == 0
    header = json.loads(backup.read_bytes().splitlines()[0])
    assert header["schema"] == BASELINE and header["format"] == "readiness-history"
    assert dump(history_url) == before and version_rows(history_url) is None  # export writes nothing
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert main(["db", "import", str(backup), "--db", restored]) == 0
    assert version_rows(restored) == [head()]
    assert main(["db", "upgrade", "--db", history_url]) == 0
    assert dump(restored) == dump(history_url)
    assert project_columns(dump(restored), before) == before  # the old rows as they were; new columns empty


def _damaged(tmp_path, how: str):
    load_fixture(f"sqlite:///{tmp_path / 'src.db'}")
    path = tmp_path / f"{how}.jsonl"
    assert main(["db", "export", "--db", str(tmp_path / "src.db"), "-o", str(path)]) == 0
    lines = path.read_bytes().splitlines(keepends=True)
    if how == "cut":
        path.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])
    elif how == "no-end":
        path.write_bytes(b"".join(lines[:-1]))
    elif how in ("record", "record-resealed"):
        i = next(i for i, x in enumerate(lines) if b'"table":"records"' in x)
        obj = json.loads(lines[i])
        data = base64.b64decode(obj["row"]["record_json"])
        data = data.replace(b'"decision":{', b'"decision": {', 1)  # one byte more, same meaning
        assert hashlib.sha256(data).hexdigest() != obj["row"]["record_sha256"]
        obj["row"]["record_json"] = base64.b64encode(data).decode()
        lines[i] = (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
        if how == "record-resealed":  # the closing line recomputed: only the record's own digest tells
            end = json.loads(lines[-1])
            end["sha256"] = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
            lines[-1] = (json.dumps(end, sort_keys=True, separators=(",", ":")) + "\n").encode()
        path.write_bytes(b"".join(lines))
    elif how == "row":
        path.write_bytes(b"".join(lines).replace(b"Fraud", b"Frauds", 1))
    elif how == "not-an-export":
        path.write_text('{"hello": "world"}\n')
    elif how == "newer":
        head_line = json.loads(lines[0])
        head_line["schema"] = "9999"
        lines[0] = (json.dumps(head_line, sort_keys=True, separators=(",", ":")) + "\n").encode()
        path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("how, message", [
    ("cut", "is an incomplete readiness history export (line 14 is cut off)"),
    ("no-end", "is an incomplete readiness history export (the closing line is missing)"),
    ("row", "is an incomplete readiness history export (its closing line does not match"),
    ("record", "does not match its SHA-256"),
    ("record-resealed", "does not match its SHA-256"),
    ("not-an-export", "is not a readiness history export: its first line is not an export header"),
    ("newer", "has schema version 9999, newer than this version of readiness knows"),
])
def test_a_damaged_export_imports_nothing(tmp_path, capsys, how, message):
    path = _damaged(tmp_path, how)
    target = tmp_path / "target.db"
    capsys.readouterr()
    assert main(["db", "import", str(path), "--db", str(target)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not target.exists()  # checked before anything is opened


def test_import_only_into_an_empty_history(history_url, tmp_path, capsys):
    load_fixture(f"sqlite:///{tmp_path / 'src.db'}")
    export = tmp_path / "x.jsonl"
    assert main(["db", "export", "--db", str(tmp_path / "src.db"), "-o", str(export)]) == 0
    ReviewStore(history_url).close()  # a history opened once (empty tables at the current schema): fine
    assert main(["db", "import", str(export), "--db", history_url]) == 0
    before = dump(history_url)
    capsys.readouterr()
    assert main(["db", "import", str(export), "--db", history_url]) == 2
    assert capsys.readouterr().err == "readiness: error: " + E.DB_IMPORT_NOT_EMPTY.format(
        url=display_url(history_url), n=3) + "\n"
    assert dump(history_url) == before


def test_export_to_stdout_and_bad_sources(tmp_path, capsys):
    assert main(["db", "export", "--db", str(FIXTURE / "history.db")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["schema"] == BASELINE and json.loads(out[-1])["counts"]["signatures"] == 5
    assert main(["db", "export", "--db", str(tmp_path / "none.db")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "none.db").exists()
    assert main(["db", "import", str(tmp_path / "none.jsonl"), "--db", str(tmp_path / "t.db")]) == 2
    assert "is not a readiness history export: No such file" in capsys.readouterr().err


def test_a_history_with_an_empty_table_moves(tmp_path, capsys):
    """A current history whose monitor_batches (or signatures) table is empty: the export's
    closing line counts it as 0, and the import accepts that (it once read as 'changed or cut')."""
    src, dst = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _history(src)
    assert main(["db", "export", "--db", src, "-o", str(tmp_path / "h.jsonl")]) == 0
    footer = json.loads((tmp_path / "h.jsonl").read_text().splitlines()[-1])
    assert footer["counts"]["monitor_batches"] == 0
    assert main(["db", "import", str(tmp_path / "h.jsonl"), "--db", dst]) == 0, capsys.readouterr().err
    assert dump(dst) == dump(src)
