import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("READINESS_DB", str(ROOT / "test-artifacts" / "test-reviews.db"))


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
