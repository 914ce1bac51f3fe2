"""Schema versions and migrations of the review history, on SQLite and PostgreSQL.

The 0.1.0 fixture (tests/fixtures/history_0_1_0, built by the 0.1.0 code itself) is
upgraded in place and checked against its manifest, which was read from the signed PDFs
and the keygen output, not from the database.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from store_helpers import (
    FIXTURE,
    csvs,
    dump,
    load_fixture,
    project_columns,
    small,
    statement,
    version_rows,
)

from readiness import errors as E
from readiness.cli import main
from readiness.migrations import BASELINE, head, revisions
from readiness.report.canonical import new_record, record_bytes
from readiness.store import ReviewStore, SchemaError, display_url, open_store
from readiness.store.engine import create
from readiness.store.migrate import upgrade
from readiness.store.schema import VERSION_TABLE, metadata

MANIFEST = json.loads((FIXTURE / "manifest.json").read_text(encoding="utf-8"))


def _schema(url: str) -> dict:
    """Tables, columns, keys and indexes as the database reports them."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        insp = inspect(engine)
        out = {}
        for t in sorted(set(insp.get_table_names()) - {VERSION_TABLE}):
            out[t] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)],
                "pk": insp.get_pk_constraint(t)["constrained_columns"],
                "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                              for f in insp.get_foreign_keys(t)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in insp.get_indexes(t)),
                "uniques": sorted((u["name"] or "", tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
            }
        return out
    finally:
        engine.dispose()


def test_the_chain_is_linear_numbered_and_ends_at_the_code_schema():
    """Alembic's own reading of the versions folder agrees with the file-name numbering the
    store uses on every open (no Alembic import there)."""
    from alembic.script import ScriptDirectory

    from readiness.migrations import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    walked = [s for s in scripts.walk_revisions()][::-1]  # base first
    assert [s.revision for s in walked] == list(revisions())
    assert scripts.get_heads() == [head()] and BASELINE == revisions()[0]
    for prev, s in zip([None, *walked], walked, strict=False):
        assert s.down_revision == (prev.revision if prev else None)
        assert s.path.rsplit("/", 1)[1].startswith(f"{s.revision}_")


def test_the_migrations_build_exactly_the_tables_the_code_uses(history_url):
    """A new database gets its schema from the migrations; Alembic's autogenerate finds no
    difference from readiness.store.schema (columns, types, nullability, indexes, keys)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    ReviewStore(history_url).close()
    assert version_rows(history_url) == [head()]
    engine = create(history_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(ctx, metadata) == []
    engine.dispose()


def test_the_baseline_is_release_0_1_0s_schema(history_url, tmp_path):
    """Revision 0001 on an empty database makes the very tables 0.1.0's create_all made."""
    from readiness.store.engine import create as make

    engine = make(history_url)
    upgrade(engine, to=BASELINE)
    engine.dispose()
    assert version_rows(history_url) == [BASELINE]
    ours = _schema(history_url)
    if history_url.startswith("sqlite"):
        theirs = _schema(f"sqlite:///{FIXTURE / 'history.db'}")
    else:
        import pg

        with pg.fresh_database("readiness_fixture") as url:
            load_fixture(url)
            theirs = _schema(url)
    assert ours == theirs and set(ours) == {"reviews", "holdout_evaluations", "records", "signatures"}


def test_upgrading_a_0_1_0_history_keeps_every_review_record_and_signature(history_url, capsys):
    tag = load_fixture(history_url)
    before = dump(history_url)
    assert version_rows(history_url) is None  # 0.1.0 kept no version
    assert main(["db", "current", "--db", history_url]) == 0
    assert "0.1.0 (no version recorded), older than" in capsys.readouterr().out

    assert main(["db", "upgrade", "--db", history_url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema 0.1.0 (no version recorded) to {head()}" in out
    assert version_rows(history_url) == [head()]
    after = dump(history_url)
    assert project_columns(after, before) == before  # every row, every id, every byte
    assert [len(before[t]) for t in ("reviews", "records", "signatures", "holdout_evaluations")] == [3, 3, 5, 1]

    # what the signed PDFs said (manifest), independently of the database
    expected = MANIFEST["fixtures"][tag]["records"]
    records = {r["record_id"]: r for r in after["records"]}
    assert set(records) == {m["record_id"] for m in expected}
    for m in expected:
        row = records[m["record_id"]]
        assert row["record_sha256"] == m["record_sha256"] == hashlib.sha256(row["record_json"]).hexdigest()
        assert row["review_digest"] == m["review_digest"] and row["project"] == m["project"]
        sigs = sorted((s for s in after["signatures"] if s["record_id"] == m["record_id"]), key=lambda s: s["field"])
        assert [(s["field"], s["role"], s["signer_name"], s["cert_sha256"], s["decision"]) for s in sigs] == [
            (s["field"], s["role"], s["signer_name"], s["cert_sha256"], s["decision"]) for s in m["signatures"]]
    assert {s["cert_sha256"] for s in after["signatures"]} == set(MANIFEST["certificates"].values())

    # upgrading again changes nothing
    assert main(["db", "upgrade", "--db", history_url]) == 0
    assert "already at schema" in capsys.readouterr().out and dump(history_url) == after

    # and the history takes new reviews, records and signatures, with fresh ids
    ctx, report = small()
    store = open_store(history_url)
    review_id = store.record_review(report, review_digest=ctx.digest, project="After the upgrade", test_sha256="t")
    assert review_id == max(r["id"] for r in before["reviews"]) + 1
    record = new_record(report, project="After the upgrade", model_version="2", review_digest=ctx.digest)
    data = record_bytes(record)
    store.save_record(record, data, review_id=review_id)
    store.add_signature(statement(record, data), certified=True)
    rows = store.history()
    store.close()
    assert len(rows) == 4 and rows[0].project == "After the upgrade" and rows[0].signatures
    now = dump(history_url)
    assert max(s["id"] for s in now["signatures"]) == 6
    old_ids = {r["record_id"] for r in before["records"]}
    assert [r for r in project_columns(now, before)["records"] if r["record_id"] in old_ids] == before["records"]


def test_the_cli_and_the_app_refuse_to_write_into_an_older_schema(history_url, tmp_path, capsys, monkeypatch):
    load_fixture(history_url)
    before = dump(history_url)
    message = E.DB_SCHEMA_OLDER.format(url=display_url(history_url), found="0.1.0 (no version recorded)", head=head())
    train, test, model = csvs(tmp_path)
    review = ["review", "--train", str(train), "--test", str(test), "--model", str(model), "--target", "target",
              "--check", "data_quality.completeness", "--quiet", "--json", str(tmp_path / "r.json")]
    assert main([*review, "--db", history_url]) == 2
    assert capsys.readouterr().err == f"readiness: error: {message}\n"
    monkeypatch.setenv("READINESS_DB", history_url)  # the default history too: no review around it
    assert main(review) == 2
    assert "readiness db upgrade" in capsys.readouterr().err and not (tmp_path / "r.json").exists()
    assert main(["history"]) == 2 and capsys.readouterr().err == f"readiness: error: {message}\n"
    # signing: refused before the signed PDF is written
    assert main([*review[:-2], "--no-history", "--pdf", str(tmp_path / "r.pdf")]) == 0
    assert main(["keygen", "--name", "Ann", "--out", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    assert main(["sign", str(tmp_path / "r.pdf"), "--key", str(tmp_path / "keys" / "ann.key.pem"), "--cert",
                 str(tmp_path / "keys" / "ann.cert.pem"), "--role", "Data scientist", "--decision", "approve",
                 "-o", str(tmp_path / "signed.pdf")]) == 2
    assert capsys.readouterr().err == f"readiness: error: {message}\n" and not (tmp_path / "signed.pdf").exists()
    # the library and the app: no store, the reason kept for the history page
    from readiness.store import core

    ctx, report = small()
    monkeypatch.setattr(core, "_STORES", {})
    monkeypatch.setattr(core, "_LAST_ERROR", {})
    assert core.record_completed_review(ctx, report) is None
    assert core.last_error() == message
    assert dump(history_url) == before and version_rows(history_url) is None


def test_an_older_versioned_schema_is_refused_too(history_url):
    engine = create(history_url)
    upgrade(engine, to=BASELINE)
    engine.dispose()
    with pytest.raises(SchemaError) as err:
        open_store(history_url)
    assert str(err.value) == E.DB_SCHEMA_OLDER.format(url=display_url(history_url), found=BASELINE, head=head())


def _run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def _sql(url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for s in statements:
            conn.execute(text(s))
    engine.dispose()


@pytest.mark.parametrize("case", ["newer", "damaged", "foreign-reviews", "foreign-other"])
def test_schemas_this_code_must_not_write_into(history_url, case, capsys, tmp_path):
    shown = display_url(history_url)
    if case in ("newer", "damaged"):
        ReviewStore(history_url).close()
        _sql(history_url, f"UPDATE {VERSION_TABLE} SET version_num = '9999'") if case == "newer" else \
            _sql(history_url, f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('0001')")
        message = (E.DB_SCHEMA_NEWER.format(url=shown, found="9999", head=head()) if case == "newer" else
                   E.DB_SCHEMA_DAMAGED.format(url=shown, detail="2 version rows instead of one"))
    elif case == "foreign-reviews":  # another application's table called reviews
        _sql(history_url, "CREATE TABLE reviews (id INTEGER PRIMARY KEY, stars INTEGER, text VARCHAR(100))",
             "INSERT INTO reviews VALUES (1, 5, 'Great product')")
        message = E.DB_FOREIGN.format(url=shown, detail="it has a table 'reviews' but not the rest of a review history")
    else:
        _sql(history_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
             "INSERT INTO alembic_version VALUES ('ae1027a6acf')", "CREATE TABLE users (id INTEGER PRIMARY KEY)")
        message = E.DB_FOREIGN.format(url=shown, detail="2 table(s) of its own: alembic_version, users")
    schema_before, rows_before = _schema(history_url), _all_rows(history_url)
    train, test, model = csvs(tmp_path)
    for argv in (["db", "upgrade"], ["db", "current"], ["history"], ["db", "export", "-o", str(tmp_path / "x.jsonl")],
                 ["review", "--train", str(train), "--test", str(test), "--model", str(model), "--target", "target",
                  "--check", "data_quality.completeness", "--quiet"]):
        code, err = _run([*argv, "--db", history_url], capsys)
        assert (code, err) == (2, f"readiness: error: {message}\n"), argv
    assert _schema(history_url) == schema_before and _all_rows(history_url) == rows_before  # nothing written
    assert not (tmp_path / "x.jsonl").exists()


def _all_rows(url: str) -> dict:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.connect() as conn:
        out = {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))]
               for t in sorted(inspect(conn).get_table_names())}
    engine.dispose()
    return out


@pytest.mark.postgres
def test_unreachable_server_wrong_password_and_missing_database(pg_url, capsys):
    from sqlalchemy.engine import make_url

    u = make_url(pg_url)
    wrong = u.set(password="not-the-password").render_as_string(hide_password=False)
    closed = u.set(port=1).render_as_string(hide_password=False)
    missing = u.set(database="no_such_history").render_as_string(hide_password=False)
    cases = {
        wrong: E.DB_AUTH_FAILED.split("{detail}")[0].format(url=display_url(wrong)),
        closed: E.DB_UNREACHABLE.split("{detail}")[0].format(url=display_url(closed)),
        missing: E.DB_MISSING.format(url=display_url(missing)),
    }
    for url, start in cases.items():
        for argv in (["history"], ["db", "current"], ["db", "upgrade"]):
            code, err = _run([*argv, "--db", url], capsys)
            assert code == 2 and err.startswith(f"readiness: error: {start}") and err.count("\n") == 1, (argv, err)
            assert "not-the-password" not in err and (u.password or "") not in err.replace("***", "")
    assert _all_rows(pg_url) == {}  # the real database was never touched


@pytest.mark.postgres
def test_a_schema_of_its_own_in_a_shared_postgresql_database(pg_url, capsys):
    """Another application's tables in the database: refused; the history in a PostgreSQL
    schema of its own (search_path in the URL, as docs/history.md says): fine."""
    _sql(pg_url, "CREATE TABLE users (id INTEGER PRIMARY KEY)", "CREATE SCHEMA review_history")
    assert main(["history", "--db", pg_url]) == 2
    assert "belongs to another application (1 table(s) of its own: users)" in capsys.readouterr().err
    own = f"{pg_url}?options=-csearch_path%3Dreview_history"
    _, report = small()
    with open_store(own) as store:
        store.record_review(report, review_digest="d", test_sha256="t")
    assert dump(own)["reviews"][0]["review_digest"] == "d" and _all_rows(pg_url) == {"users": []}


def test_db_current_and_upgrade_on_a_new_database(tmp_path, capsys):
    db = tmp_path / "new.db"
    assert main(["db", "current", "--db", str(db)]) == 0
    assert "no review history yet" in capsys.readouterr().out and not db.exists()  # reading creates nothing
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert f"created the review history at schema {head()}" in capsys.readouterr().out
    assert main(["db", "current", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"schema {head()} (current)")


def test_the_migration_helper_writes_the_next_revision_from_a_schema_change(tmp_path, monkeypatch):
    """`python -m readiness.migrations new` (docs/history.md): a column added in schema.py
    becomes the next numbered revision adding it (written into a copy of the folder)."""
    import shutil

    from sqlalchemy import Boolean, Column, MetaData, false

    from readiness.migrations import HERE
    from readiness.migrations.__main__ import new_revision
    from readiness.store import schema

    copy = tmp_path / "migrations"
    shutil.copytree(HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    md = MetaData()
    for t in schema.metadata.sorted_tables:
        t.to_metadata(md)
    md.tables["records"].append_column(Column("superseded", Boolean, nullable=False, server_default=false()))
    monkeypatch.setattr(schema, "metadata", md)
    path = new_revision("records: superseded flag", directory=copy)
    nxt = f"{int(head()) + 1:04d}"
    assert path == copy / "versions" / f"{nxt}_records_superseded_flag.py"
    text = path.read_text()
    assert f"revision = '{nxt}'" in text and f"down_revision = '{head()}'" in text
    assert "add_column(sa.Column('superseded', sa.Boolean()" in text and "drop_column('superseded')" in text
    compile(text, str(path), "exec")


def test_0003_an_upgraded_0_1_0_history_takes_monitored_batches(history_url):
    """Revision 0003 adds monitor_batches: empty after the upgrade, old rows unchanged, and a
    batch stored and read back (with its whole result) on both engines."""
    from readiness.monitor.result import MonitorResult, MonitorTest

    load_fixture(history_url)
    before = dump(history_url)
    assert main(["db", "upgrade", "--db", history_url]) == 0
    assert project_columns(dump(history_url), before) == before
    rec = MANIFEST["fixtures"][next(iter(MANIFEST["fixtures"]))]["records"][0]
    test = MonitorTest(id="feature_drift:a", kind="feature_drift", subject="a", statistic="psi", value=0.4,
                       threshold=0.1, p_value=0.001, fired=True, message="'a' drifted")
    result = MonitorResult(created_at="2026-12-01T08:00:00+00:00", status="alert", summary="1 alert",
                           review={"record_id": rec["record_id"], "review_digest": rec["review_digest"],
                                   "project": rec["project"], "model_name": "m", "model_version": "1"},
                           model={"sha256": "ab" * 32}, batch={"name": "b.csv", "sha256": "cd" * 32, "rows": 10,
                                                               "labelled_rows": 0},
                           alpha=0.05, alpha_each=0.05, simulations=2000, tests=[test],
                           estimated={"accuracy": 0.91})
    with open_store(history_url) as store:
        assert store.count("monitor_batches") == 0
        batch_id = store.record_batch(result)
        [row] = store.batches(record_id=rec["record_id"])
        [mon] = store.monitored_reviews()
    assert row["id"] == batch_id and row["alerts"] == ["feature_drift:a"] and row["estimated_accuracy"] == 0.91
    assert row["created_at"] == "2026-12-01T08:00:00+00:00" and row["result"] == json.loads(result.to_json())
    assert (mon["record_id"], mon["batches"], mon["alert_batches"]) == (rec["record_id"], 1, 1)
def test_0004_keeps_old_reports_standing_and_marks_a_discarded_one_superseded(history_url, capsys):
    """Revision 0004 on the 0.1.0 fixture: every old record stands (no superseded mark);
    a report marked superseded shows so in the history and `readiness history`, once."""
    load_fixture(history_url)
    assert main(["db", "upgrade", "--db", history_url]) == 0
    after = dump(history_url)
    assert after["records"] and all(r["superseded_at"] is None and r["superseded_reason"] is None
                                    for r in after["records"])
    target = after["records"][0]["record_id"]
    store = open_store(history_url)
    try:
        store.mark_superseded(target, "edited")
        store.mark_superseded(target, "edited again")  # the first mark stays
        with pytest.raises(E.ReadinessError, match="not in the history"):
            store.mark_superseded("no-such-record", "x")
        row = next(r for r in store.history() if r.record_id == target)
        assert row.superseded_reason == "edited" and row.superseded_at
        assert row.decision_text().startswith("superseded, not in force (was ")
        assert store.superseded(target)[1] == "edited"
        assert all(store.superseded(r["record_id"]) is None for r in after["records"][1:])
    finally:
        store.close()
    capsys.readouterr()
    assert main(["history", "--db", history_url]) == 0
    out = capsys.readouterr().out
    assert out.count("superseded, not in force") == 1 and "(edited)" in out
