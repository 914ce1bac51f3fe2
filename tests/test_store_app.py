"""The app's Review history page on SQLite and PostgreSQL: an upgraded 0.1.0 history is
listed; an outdated one is refused with the command that fixes it, never a traceback."""

from __future__ import annotations

from pathlib import Path

from store_helpers import load_fixture
from streamlit.testing.v1 import AppTest

from pages._ui import esc
from readiness import errors as E
from readiness.cli import main
from readiness.migrations import head
from readiness.store import display_url

ROOT = Path(__file__).resolve().parent.parent


def _history_page(url: str, monkeypatch) -> AppTest:
    from readiness.store import core

    monkeypatch.setenv("READINESS_DB", url)
    monkeypatch.setattr(core, "_STORES", {})
    monkeypatch.setattr(core, "_LAST_ERROR", {})
    return AppTest.from_file(str(ROOT / "pages" / "history.py"), default_timeout=120).run()


def test_the_history_page_lists_an_upgraded_0_1_0_history(history_url, monkeypatch):
    load_fixture(history_url)
    at = _history_page(history_url, monkeypatch)
    assert not at.exception, at.exception
    # not upgraded yet: refused, saying how to fix it (no restart needed: the next visit retries)
    assert [e.value for e in at.error] == [esc(E.DB_SCHEMA_OLDER.format(
        url=display_url(history_url), found="0.1.0 (no version recorded)", head=head()))]
    assert main(["db", "upgrade", "--db", history_url]) == 0
    at = _history_page(history_url, monkeypatch)
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    table = at.dataframe[0].value
    assert list(table["Project"]) == ["Fraud", "Lending — Zürich 支店", "Lending — Zürich 支店"]
    assert "Li Wei 李伟 (Business owner: Approve)" in table["Signed by"].iloc[2]
    assert [m.value for m in at.metric] == ["3", "3", "5"]
