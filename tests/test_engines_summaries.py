"""The engine-neutral summaries, on the local engine (fast; the cluster engines are in
test_engines_agreement.py): merges are exact whatever the partitioning, the sample is the
same rows, and the exact checks equal the in-memory checks on planted data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from readiness.engines.base import LocalEngine
from readiness.engines.dataset import open_dataset
from readiness.engines.summaries import column_summary, merge_all


def planted(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    debt = rng.gamma(2.0, 5.0, n)
    debt[rng.random(n) < 0.01] = -999.0  # a sentinel
    guarantor = rng.choice(["none", "co-applicant", "guarantor"], n, p=[0.8, 0.1, 0.1])  # a placeholder category
    region = rng.choice(["north", "south", "?", "N/A"], n, p=[0.5, 0.4, 0.07, 0.03])  # disguised missing values
    tenure = rng.integers(0, 30, n).astype(float)
    tenure[rng.random(n) < 0.08] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    score = np.round(1 / (1 + np.exp(-2 * x + rng.normal(0, 0.5, n))), 6)
    return pd.DataFrame({"x": x, "debt": debt, "guarantor": guarantor, "region": region, "tenure": tenure,
                         "score": score, "y": y})


def write(frame: pd.DataFrame, folder, parts: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[idx].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def test_column_summaries_merge_exactly_whatever_the_split():
    df = planted(5000, 1)
    whole = {c: column_summary(df[c]) for c in df.columns}
    for cuts in ([2500], [1, 2, 3, 4999], list(range(100, 5000, 700))):
        bounds = [0, *cuts, len(df)]
        parts = [{c: column_summary(df.iloc[a:b][c]) for c in df.columns} for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        merged = merge_all(parts)
        for c in df.columns:
            assert merged[c]["rows"] == whole[c]["rows"] and merged[c]["missing"] == whole[c]["missing"]
            if "values" in whole[c]:
                assert merged[c]["values"].counts == whole[c]["values"].counts
            if "extremes" in whole[c]:
                assert merged[c]["extremes"] == whole[c]["extremes"]
                assert merged[c]["sentinels"] == whole[c]["sentinels"]


def test_the_sample_is_the_same_rows_whatever_the_partitioning(tmp_path):
    df = planted(4000, 2)
    one = open_dataset(write(df, tmp_path / "one", 1), role="test")
    seven = open_dataset(write(df, tmp_path / "seven", 7), role="test")
    a = LocalEngine(batch_rows=4000).sample(one, 500)
    b = LocalEngine(batch_rows=333).sample(seven, 500)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 500 and not a.duplicated().any()
    # rows of the sample are rows of the data
    assert len(a.merge(df, how="inner")) == 500
    assert len(LocalEngine().sample(one, 10_000)) == 4000  # all rows when the dataset is smaller


def test_exact_checks_equal_the_in_memory_checks(tmp_path):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings, prepare_review
    from readiness.review import run_review

    train, test = planted(6000, 3), planted(9000, 4)
    for frame in (train, test):  # unlabelled rows (in both: a float target in one split only is another story)
        frame.loc[frame.sample(frac=0.02, random_state=0).index, "y"] = np.nan
    tr, te = write(train, tmp_path / "train", 3), write(test, tmp_path / "test", 5)
    roles = Roles(target="y", prediction_column="score")
    checks = ["data_quality.completeness", "evaluation.holdout"]
    local = run_review(prepare_review(train=tr, test=te, roles=roles, settings=Settings()), checks=checks)
    er = prepare(LocalEngine(batch_rows=1000), train=tr, test=te, roles=roles, settings=Settings(), model=None,
                 model_name=None, trusted=None, sample_rows=2000)
    eng = run(er, checks=checks)
    a, b = local.check("data_quality.completeness"), eng.check("data_quality.completeness")
    assert a.status == b.status == "warn"
    assert a.metrics == {k: v for k, v in b.metrics.items() if k != "basis"}
    assert [f.message for f in a.findings] == [f.message for f in b.findings]
    assert b.metrics["columns"]["debt"]["sentinels"] == {"-999": int((train.dropna(subset=["y"])["debt"] == -999).sum()
                                                                     + (test.dropna(subset=["y"])["debt"] == -999).sum())}
    assert b.metrics["columns"]["guarantor"]["placeholder_categories"]
    assert b.metrics["unlabelled_test"] == int(test["y"].isna().sum())
    assert b.metrics["basis"] == {"kind": "exact", "engine": "local", "rows": 9000, "train_rows": 6000}
    ev = eng.check("evaluation.holdout").metrics
    lab = test.dropna(subset=["y"])
    assert ev["confusion_matrix"]["matrix"] == confusion_matrix(lab["y"], (lab["score"] >= 0.5).astype(int)).tolist()
    for key in ("n", "accuracy", "accuracy_ci", "precision", "precision_ci", "recall", "recall_ci", "prevalence"):
        assert ev[key] == pytest.approx(local.check("evaluation.holdout").metrics[key], rel=1e-12)
    assert ev["log_loss"] == pytest.approx(local.check("evaluation.holdout").metrics["log_loss"], rel=1e-9)
    exact_auc = roc_auc_score(lab["y"], lab["score"])
    assert abs(ev["roc_auc"] - exact_auc) <= ev["roc_auc_max_error"] < 1e-3


def test_mean_interval_from_counts_equals_the_row_interval():
    from readiness.checks.comparison_stats import mean_ci
    from readiness.engines.monitor import mean_ci_from_counts

    for cells in ([(1000.0, 37), (1000.0, 55), (0.0, 908)], [(1000.0, 37), (5000.0, 55), (0.0, 908)],
                  [(0.0, 10)], [(3.0, 1)]):
        rows = np.concatenate([np.full(c, v) for v, c in cells])
        mean, ci = mean_ci_from_counts(cells)
        assert mean == pytest.approx(rows.mean(), rel=1e-12)
        want = mean_ci(rows)
        assert (ci is None) == (want is None)
        if ci is not None:
            assert ci == pytest.approx(want, rel=1e-9)


def test_the_reuse_budget_on_an_engine_uses_the_holdout_pages_exact_accuracy(tmp_path):
    """On an engine the holdout page's accuracy is exact on every row; the reuse budget once took its
    accuracy from the sample (77.5% against the page's 77.7%) while saying the interval was the page's."""
    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings, prepare_review
    from readiness.review import run_review

    train, test = planted(6000, 3), planted(9000, 4)
    tr, te = write(train, tmp_path / "train", 3), write(test, tmp_path / "test", 5)
    roles = Roles(target="y", prediction_column="score")
    checks = ["evaluation.holdout", "evaluation.holdout_reuse"]
    settings = Settings()
    local = run_review(prepare_review(train=tr, test=te, roles=roles, settings=settings), checks=checks)
    er = prepare(LocalEngine(batch_rows=1000), train=tr, test=te, roles=roles, settings=settings, model=None,
                 model_name=None, trusted=None, sample_rows=2000)
    eng = run(er, checks=checks)
    reuse, page = eng.check("evaluation.holdout_reuse").metrics, eng.check("evaluation.holdout").metrics
    correct = int(((test["score"] >= 0.5).astype(int) == test["y"]).sum())  # every row, independently
    assert reuse["n"] == page["n"] == 9000 and reuse["value"] == page["accuracy"] == correct / 9000
    assert reuse["ci"] == page["accuracy_ci"]
    assert reuse["basis"]["kind"] == "exact"
    mem = local.check("evaluation.holdout_reuse").metrics
    for key in ("n", "value", "ci", "ci_reuse_adjusted", "budget_fixed", "budget_steered"):
        assert reuse[key] == mem[key]
