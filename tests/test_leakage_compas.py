"""Known answer on real data: COMPAS's ``is_recid`` is recorded after the outcome
(``is_recid = 0`` implies ``two_year_recid = 0`` without exception), so
``leakage.feature_target`` fails it, while COMPAS's honest columns are at most asked about.
Fixture: tests/fixtures/compas.csv (ProPublica's two-year record; see compas_build.py)."""

from pathlib import Path

import pandas as pd
from helpers import make_ctx
from sklearn.metrics import roc_auc_score

from readiness.registry import get_check
from readiness.review import run_check

FIXTURE = Path(__file__).parent / "fixtures" / "compas.csv"


def test_is_recid_fails_on_its_rule_and_nothing_else_fails():
    df = pd.read_csv(FIXTURE).drop(columns=["id"])
    train = df[df["split"] == "train"].drop(columns="split").reset_index(drop=True)
    test = df[df["split"] == "test"].drop(columns="split").reset_index(drop=True)
    test = test.assign(score=test["decile_score"] / 10)  # COMPAS's own score as the "model"
    res = run_check(get_check("leakage.feature_target"),
                    make_ctx(train, test, target="two_year_recid", prediction_column="score"))
    assert res.status.value == "fail"
    assert res.metrics["leaking_columns"] == ["is_recid"]
    row = next(r for r in res.metrics["features"] if r["column"] == "is_recid")
    rule = row["rules"][0]
    # independent count with pandas: training rows with is_recid = 0, all with two_year_recid = 0
    zero = train[train["is_recid"] == 0]
    assert rule["values"] == ["0"] and rule["class"] == "0" and rule["exceptions"] == 0
    assert rule["rows"] == len(zero) and (zero["two_year_recid"] == 0).all() and len(zero) > 2000
    assert row["score"] < 0.99  # strength alone would not have caught it (sklearn: same AUC below)
    assert abs(row["score"] - roc_auc_score(train["two_year_recid"], train["is_recid"])) < 0.01
    msg = next(f.message for f in res.findings if f.columns == ["is_recid"])
    assert "without a single exception" in msg and f"{len(zero):,} of {len(zero):,}" in msg
    assert "fed the answer" not in res.summary
