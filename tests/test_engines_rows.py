"""Integrity counts, exact duplicates and train-holdout overlap over every row (row hashes grouped on the
engine): planted copies counted exactly against pandas on the whole data, the engine result equal to the
in-memory checks on the same rows, a clean control, and the same counts however the rows are partitioned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readiness.engines.base import LocalEngine

CHECKS = ["data_quality.integrity", "leakage.train_test_overlap"]


def rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "x": x, "amount": np.round(rng.gamma(2.0, 50.0, n), 2),
        "tenure": rng.integers(0, 40, n).astype(float),
        "channel": rng.choice(["web", "branch", "phone"], n), "code": [f"c{i}" for i in rng.integers(0, 60, n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)})
    frame.loc[rng.random(n) < 0.03, "tenure"] = np.nan  # missing values hash as missing
    return frame


def planted(n_train=50_000, n_test=6_000, dup=700, overlap=300, seed=0):
    """Training with ``dup`` rows repeated, holdout with ``overlap`` rows copied from training, shuffled so the
    copies land in other partitions than their originals."""
    rng = np.random.default_rng(seed)
    train, test = rows(n_train, seed + 1), rows(n_test, seed + 2)
    if dup:
        train = pd.concat([train, train.iloc[rng.choice(n_train, dup, replace=False)]], ignore_index=True)
    if overlap:
        test = pd.concat([test.iloc[overlap:], train.iloc[rng.choice(n_train, overlap, replace=False)]],
                         ignore_index=True)
    return (train.sample(frac=1, random_state=seed).reset_index(drop=True),
            test.sample(frac=1, random_state=seed + 1).reset_index(drop=True))


def write(frame: pd.DataFrame, folder, parts: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[idx].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def in_pandas(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The counts, independently: pandas' duplicated() and a merge on every column."""
    feats = [c for c in train.columns if c != "y"]
    both = pd.concat([train, test], ignore_index=True)
    labels = both.groupby(feats, dropna=False)["y"].nunique()
    bad = labels[labels > 1]
    conflict_rows = int(both.merge(bad.reset_index()[feats], on=feats, how="inner").shape[0])
    whole = test.merge(train.drop_duplicates(), on=list(train.columns), how="left", indicator=True)
    same_feats = test.merge(train[feats].drop_duplicates(), on=feats, how="left", indicator=True)
    return {"duplicate_rows_train": int(train.duplicated().sum()), "duplicate_rows_test": int(test.duplicated().sum()),
            "overlap_test_rows": int((whole["_merge"] == "both").sum()),
            "feature_overlap_test_rows": int((same_feats["_merge"] == "both").sum()),
            "conflicting_label_groups": len(bad), "conflicting_label_rows": conflict_rows}


def reviews(tmp_path, train, test, engine, *, parts=(4, 3), sample_rows=100_000, checks=CHECKS, roles=None):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings, prepare_review
    from readiness.review import run_review

    tr, te = write(train, tmp_path / "train", parts[0]), write(test, tmp_path / "test", parts[1])
    roles = roles or Roles(target="y")
    local = run_review(prepare_review(train=tr, test=te, roles=roles, settings=Settings()), checks=checks)
    try:
        er = prepare(engine, train=tr, test=te, roles=roles, settings=Settings(), model=None, model_name=None,
                     trusted=None, sample_rows=sample_rows)
        return local, run(er, checks=checks)
    finally:
        engine.close()


def figures(report) -> dict:
    i, o = report.check("data_quality.integrity").metrics, report.check("leakage.train_test_overlap").metrics
    return {**{k: i[k] for k in ("duplicate_rows_train", "duplicate_rows_test", "conflicting_label_groups",
                                 "conflicting_label_rows")},
            **{k: o[k] for k in ("overlap_test_rows", "feature_overlap_test_rows")}}


def same_result(a, b, cid):
    """The engine's check equals the in-memory one: status, metrics (examples aside: row numbers are unknown on
    an engine), findings' messages and severities."""
    x, y = a.check(cid), b.check(cid)
    assert x.status == y.status, cid
    skip = {"basis", "examples"}
    assert {k: v for k, v in x.metrics.items() if k not in skip} == {k: v for k, v in y.metrics.items() if k not in skip}
    assert [(f.severity, f.message) for f in x.findings] == [(f.severity, f.message) for f in y.findings]
    assert y.metrics["basis"]["kind"] == "exact"


def test_planted_copies_are_counted_exactly_and_equal_the_in_memory_checks(tmp_path):
    train, test = planted()
    want = in_pandas(train, test)
    assert want["duplicate_rows_train"] >= 700 and want["overlap_test_rows"] >= 300  # planted (plus chance)
    local, eng = reviews(tmp_path, train, test, LocalEngine(batch_rows=2_500))
    assert figures(eng) == figures(local) == want
    for cid in CHECKS:
        same_result(local, eng, cid)
    assert eng.check("leakage.train_test_overlap").status == "fail"
    assert eng.check("data_quality.integrity").status == "warn"
    ex = eng.check("leakage.train_test_overlap").metrics["examples"]
    assert len(ex) == 20 and {e["match"] for e in ex} == {"identical"}
    # every example is a holdout row that is in training
    keys = set(map(tuple, train.astype(str).to_numpy()))
    assert all(tuple(str(e[c]) for c in train.columns) in keys for e in ex)


def test_a_clean_control_passes_with_the_same_counts(tmp_path):
    train, test = planted(dup=0, overlap=0, seed=5)
    want = in_pandas(train, test)
    assert want["duplicate_rows_train"] == want["overlap_test_rows"] == 0
    local, eng = reviews(tmp_path, train, test, LocalEngine(batch_rows=3_000))
    assert figures(eng) == want
    for cid in CHECKS:
        same_result(local, eng, cid)
        assert eng.check(cid).status == "pass", cid


def test_counts_do_not_depend_on_partitions_or_buckets(tmp_path, monkeypatch):
    """Spilled to bucket files (a tiny bucket size forces 8 buckets) and split into other partitions: the same
    counts; the duplicates' copies lie in other partitions than their originals."""
    from readiness.engines import exact_rows as R
    from readiness.engines.dataset import open_dataset

    train, test = planted(n_train=8_000, n_test=3_000, dup=200, overlap=150, seed=9)
    want = in_pandas(train, test)
    spec = R.RowSpec(target="y", feats=tuple(c for c in train.columns if c != "y"),
                     numeric=frozenset({"x", "amount", "tenure", "y"}), near_numeric=frozenset({"x", "amount", "tenure"}))
    results = []
    for parts, bucket in ((1, 10**9), (7, 1_500), (3, 10**9)):
        srcs = {"train": open_dataset(write(train, tmp_path / f"tr{parts}{bucket}", parts), role="train"),
                "test": open_dataset(write(test, tmp_path / f"te{parts}{bucket}", parts), role="test")}
        engine = LocalEngine(batch_rows=997)
        monkeypatch.setattr(engine, "bucket_rows", bucket)
        c = R.row_counts(engine, srcs, spec)
        results.append({k: v for k, v in c.items() if "example" not in k and "keys" not in k})
        assert c["duplicates_train"] == want["duplicate_rows_train"]
        assert c["hits_full"] == want["overlap_test_rows"] and c["hits_feat"] == want["feature_overlap_test_rows"]
        assert c["rows_train"] == len(train) and c["rows_test"] == len(test)
    assert results[0] == results[1] == results[2]


def test_a_sample_smaller_than_the_data_keeps_exact_counts_and_says_where_chance_was_judged(tmp_path):
    train, test = planted(n_train=12_000, n_test=4_000, dup=400, overlap=200, seed=3)
    want = in_pandas(train, test)
    local, eng = reviews(tmp_path, train, test, LocalEngine(batch_rows=2_000), sample_rows=3_000)
    assert figures(eng) == figures(local) == want
    assert eng.check("leakage.train_test_overlap").status == local.check("leakage.train_test_overlap").status
    same_result(local, eng, "leakage.train_test_overlap")  # wholly from counts: identical to the in-memory check
    integrity = eng.check("data_quality.integrity")
    assert integrity.status == local.check("data_quality.integrity").status == "warn"
    assert "in a sample of 3,000 of the 12,400 rows" in integrity.findings[0].message


def test_shared_ids_constant_columns_and_new_labels(tmp_path):
    from readiness.inputs import Roles

    train, test = planted(n_train=5_000, n_test=2_000, dup=0, overlap=0, seed=11)
    train["id"] = [f"u{i}" for i in range(len(train))]
    test["id"] = [f"u{i}" for i in range(len(train) - 60, len(train) - 60 + len(test))]  # 60 ids on both sides
    train["const"] = 7.0
    test["const"] = 7.0
    test.loc[test.index[:30], "channel"] = "kiosk"  # a category training never saw
    test.loc[test.index[:5], "y"] = 2  # a label training never saw
    roles = Roles(target="y", id_column="id")
    local, eng = reviews(tmp_path, train, test, LocalEngine(batch_rows=700), roles=roles)
    for cid in CHECKS:
        same_result(local, eng, cid)
    o = eng.check("leakage.train_test_overlap").metrics
    assert (o["shared_ids"], o["shared_id_test_rows"], o["shared_id_kind"]) == (60, 60, "id")
    i = eng.check("data_quality.integrity").metrics
    assert i["constant_columns"] == ["const"]
    assert i["unseen_categories"]["channel"] == {"rows": 30, "values": {"kiosk": 30}}
    assert any("target values training never saw: ['2']" in f.message for f in eng.check("data_quality.integrity").findings)


def _small_on(engine, tmp_path):
    train, test = planted(n_train=6_000, n_test=2_000, dup=150, overlap=90, seed=21)
    local, eng = reviews(tmp_path, train, test, engine)
    assert figures(eng) == figures(local) == in_pandas(train, test)
    for cid in CHECKS:
        same_result(local, eng, cid)


@pytest.mark.slow
def test_dask_local_cluster_counts_the_same(tmp_path):
    pytest.importorskip("distributed")
    from readiness.engines.base import DaskEngine

    _small_on(DaskEngine(n_workers=2), tmp_path)


@pytest.mark.slow
def test_spark_local_mode_counts_the_same(tmp_path):
    pytest.importorskip("pyspark")
    from readiness.engines.base import SparkEngine

    _small_on(SparkEngine("local[2]"), tmp_path)
