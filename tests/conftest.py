import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
# a fresh review history per test process (a file kept between runs would carry an old schema)
os.environ.setdefault("READINESS_DB", str(Path(tempfile.mkdtemp(prefix="readiness-test-")) / "reviews.db"))
# ... and a fresh store of the sample's precomputed review (readiness.sample.cache_dir)
os.environ.setdefault("READINESS_CACHE_DIR", tempfile.mkdtemp(prefix="readiness-test-cache-"))


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """Streamlit caches live in the process: clear them so tests do not leak state.

    ``cache_resource`` holds only digest-keyed, immutable reviews (and the sample's
    context); keeping it across tests saves re-running the sample review in every AppTest.
    """
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()


@pytest.fixture(scope="session")
def sample_ctx():
    from readiness.sample import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def sample_report(sample_ctx):
    from readiness import run_review

    return run_review(sample_ctx)


# --- review history on both engines (tests/pg.py) --------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_url(request, tmp_path):
    """A fresh, empty review-history database: a SQLite file, and a PostgreSQL database on
    the server in READINESS_TEST_PG_URL (skipped without one, unless READINESS_REQUIRE_PG=1)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    import pg

    with pg.fresh_database() as url:
        yield url


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database (skipped without a server, see tests/pg.py)."""
    import pg

    with pg.fresh_database() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _no_catboost_info():
    """CatBoost writes ``catboost_info/`` into the working directory when it is trained without
    ``allow_writing_files=False``: a test that leaves one behind fails the run here."""
    roots = {Path.cwd(), ROOT}
    before = {r for r in roots if (r / "catboost_info").exists()}
    yield
    made = [str(r / "catboost_info") for r in roots if (r / "catboost_info").exists() and r not in before]
    assert not made, f"a test trained CatBoost without allow_writing_files=False and left {made}"
