"""UCI Adult (tests/fixtures/adult.csv.gz, built by tests/fixtures/adult_build.py from the UCI files): the fixture is
the UCI record, and the data-quality checks read its unknown values as a user meets them. Expected figures come
from adult.names and from pandas, never from the checks' own output."""

import pandas as pd
import pytest
from adult import NUMERIC, SENSITIVE, TARGET, TEXT, adult_frame
from helpers import make_ctx

from readiness.registry import get_check
from readiness.review import run_check


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return adult_frame()


def test_fixture_is_the_uci_record(adult):
    # adult.names: "48842 instances (train=32561, test=16281); 45222 if instances with unknown values are removed
    # (train=30162, test=15060)"; ">50K" 23.93% over both files
    assert adult["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}
    known = ~(adult == "?").any(axis=1)
    assert known[adult["split"] == "train"].sum() == 30_162 and known[adult["split"] == "test"].sum() == 15_060
    assert (adult[TARGET] == ">50K").mean() == pytest.approx(0.2393, abs=5e-5)
    assert set(adult[TARGET]) == {"<=50K", ">50K"}  # adult.test's trailing full stop is gone
    assert list(adult.columns) == ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
                                   "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
                                   "hours-per-week", "native-country", TARGET, "split"]
    assert sorted(NUMERIC + TEXT) == sorted(c for c in adult.columns if c not in (TARGET, "split"))
    assert set(SENSITIVE) <= set(TEXT)
    assert (adult == "?").sum().to_dict() == {**{c: 0 for c in adult.columns}, "workclass": 2_799,
                                              "occupation": 2_809, "native-country": 857}
    assert not adult.map(lambda v: isinstance(v, str) and v != v.strip()).any().any()  # spaces stripped


def test_completeness_reads_the_question_marks_per_split(adult):
    """Issue 12: "'workclass' is 5.7% missing (training 0.0%, holdout 0.0%)" — every per-split figure counts the '?'."""
    tr = adult[adult["split"] == "train"].drop(columns="split").reset_index(drop=True)
    te = adult[adult["split"] == "test"].drop(columns="split").reset_index(drop=True)
    tr["score"], te["score"] = 0.5, 0.5
    res = run_check(get_check("data_quality.completeness"), make_ctx(tr, te, target=TARGET, prediction_column="score"))
    for col in ("workclass", "occupation", "native-country"):
        m = res.metrics["columns"][col]
        assert m["total_missing_rate_train"] == (tr[col] == "?").mean()
        assert m["total_missing_rate_test"] == (te[col] == "?").mean()
        assert m["disguised"] == {"?": int((adult[col] == "?").sum())}
    said = next(f.message for f in res.findings if f.columns == ["workclass"] and "% missing" in f.message)
    assert said == ("'workclass' is 5.7% missing, placeholders included (training 5.6%, holdout 5.9%)."), said
