"""Shared by the review-history tests: a small real review, statements, raw table dumps.

``dump`` reads the tables with plain SQL (not through :mod:`readiness.store`), so tests
compare what is in the database with an independent reading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness.inputs import Settings
from readiness.report.canonical import Outcome, Statement, sha256_hex
from readiness.review import run_review

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "history_0_1_0"
TABLES = ("reviews", "holdout_evaluations", "records", "signatures")
KEYS = {"reviews": "id", "holdout_evaluations": "id", "records": "record_id", "signatures": "id"}


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


def statement(record, data, field="Sig1", role="Data scientist", name="Zoë Müller", cert="ab" * 32,
              signed_at="2026-01-02T03:04:05+00:00") -> Statement:
    return Statement(field=field, role=role, signer_name=name, signer_email="z@example.org",
                     decision=Outcome.APPROVE, note="ok", signed_at=signed_at,
                     record_id=record.record_id, record_sha256=sha256_hex(data), cert_sha256=cert, record_cms="")


def csvs(tmp_path):
    """The small review's data and model as files (train.csv, test.csv, model.skops)."""
    from skops.io import dump as skops_dump

    ctx, _ = small()
    train, test, model = tmp_path / "train.csv", tmp_path / "test.csv", tmp_path / "model.skops"
    ctx.train.to_csv(train, index=False)
    ctx.test.to_csv(test, index=False)
    skops_dump(ctx.model.estimator, model)
    return train, test, model


def load_fixture(url: str) -> str:
    """Put the 0.1.0 history into the empty database ``url``; returns the manifest key."""
    import shutil

    if url.startswith("sqlite"):
        shutil.copyfile(FIXTURE / "history.db", url.split(":///", 1)[1])
        return "sqlite"
    from pg import run_sql_file

    run_sql_file(url, FIXTURE / "postgres.sql")
    return "postgres"


def _plain(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime):  # SQLite: naive UTC; PostgreSQL: aware
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":  # SQLite text timestamps
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    return value


def project_columns(rows: dict, like: dict) -> dict:
    """``rows`` (a :func:`dump`) restricted to the columns ``like`` has (later revisions add columns)."""
    return {t: [{k: r[k] for k in like[t][0]} for r in rows[t]] if like[t] else rows[t] for t in like}


def dump(url: str, tables=TABLES) -> dict[str, list[dict]]:
    """Every row of the history tables, by primary key, read with plain SQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: [{k: _plain(v) for k, v in r._mapping.items()}
                        for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY {KEYS[t]}"))] for t in tables}
    finally:
        engine.dispose()


def version_rows(url: str) -> list[str] | None:
    """The schema version rows, or None when there is no version table."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("readiness_schema_version"):
                return None
            return [r for (r,) in conn.execute(text("SELECT version_num FROM readiness_schema_version"))]
    finally:
        engine.dispose()
