"""``bias.groups`` exact on the engines (readiness.engines.exact_bias): per-group counts over every
holdout row, merged from partition summaries, equal to scikit-learn on all rows and to the in-memory
check on the same rows; the planted disparity (group 'b') is found, a clean control passes, and the
result does not depend on the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines_world import BOOTSTRAPPED, build, close, make_rows, unbootstrapped, write_dataset
from sklearn.metrics import confusion_matrix

from readiness.engines.base import LocalEngine

N_TRAIN, N_TEST, SAMPLE = 10_000, 20_000, 2_000


def without(metrics: dict, keys=("basis", "interval_methods")) -> dict:
    return {k: v for k, v in metrics.items() if k not in keys}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bias_world"), n_train=N_TRAIN, n_test=N_TEST, parts=6)


def in_memory(world, roles, holdout=None):
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    ctx = prepare_review(train=world["train"], test=holdout or world["holdout"], roles=roles,
                         model=world["model"].read_bytes(), model_name="model.skops", settings=Settings())
    return run_review(ctx, checks=["bias.groups"]).check("bias.groups")


def on_engine(world, roles, holdout=None, batch_rows=3_000):
    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings

    er = prepare(LocalEngine(batch_rows=batch_rows), train=world["train"], test=holdout or world["holdout"],
                 roles=roles, settings=Settings(), model=world["model"].read_bytes(), model_name="model.skops",
                 trusted=None, sample_rows=SAMPLE)
    return run(er, checks=["bias.groups"]).check("bias.groups")


def roles(*sensitive, favorable=0):
    from readiness.inputs import Roles

    return Roles(target="default", sensitive=list(sensitive), favorable_label=favorable)


def test_quantiles_from_counts_are_numpys_quantiles():
    from readiness.engines.exact_bias import quantiles_from_counts

    rng = np.random.default_rng(0)
    q = np.linspace(0, 1, 6)
    for n, distinct in ((11, 11), (1000, 17), (12345, 80), (7, 3), (100_003, 2000)):
        values = rng.choice(rng.normal(40, 12, distinct).round(3), n)
        u, c = np.unique(values, return_counts=True)
        order = rng.permutation(len(u))  # any order of the values
        assert np.array_equal(quantiles_from_counts(u[order], c[order], q), np.quantile(values, q))


def test_partition_counts_are_sklearns_confusion_matrix_per_group_and_merge_exactly():
    from readiness.engines.exact_bias import BiasSpec, holdout_partition
    from readiness.engines.summaries import merge_all

    rng = np.random.default_rng(1)
    n = 5000
    frame = pd.DataFrame({"sex": rng.choice(["F", "M", "?"], n, p=[0.45, 0.5, 0.05]),
                          "age": rng.integers(18, 80, n).astype(float)})
    frame.loc[rng.random(n) < 0.02, "age"] = np.nan
    y = rng.integers(0, 2, n)
    s = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    ok = rng.random(n) > 0.01  # a few rows without a score
    pred = (s >= 0.5).astype(int)
    spec = BiasSpec(("sex", "age"), (False, True), "binary", 2, 1, True, ("0", "1"))
    whole = holdout_partition(frame, ok, y[ok], pred[ok], s[ok], spec)
    sex = whole["columns"]["sex"].rows
    for g in ("F", "M"):
        m = ok & (frame["sex"] == g).to_numpy()
        tn, fp, fn, tp = confusion_matrix(y[m], pred[m], labels=[0, 1]).ravel()
        assert sex[g][:5].tolist() == [int((frame["sex"] == g).sum()), tp, fp, fn, tn]
        assert sex[g][5] == pytest.approx(s[m].sum(), rel=1e-12)
    assert sex["(missing)"][0] == int((frame["sex"] == "?").sum())  # a missing-value token is '(missing)'
    assert whole["columns"]["age"].rows["(missing)"][0] == int(frame["age"].isna().sum())
    pair = whole["pairs"][("sex", "age")].rows
    assert sum(v[0] for v in pair.values()) == n
    assert pair[("M", 30.0)][0] == int(((frame["sex"] == "M") & (frame["age"] == 30)).sum())
    for cuts in ([2500], [1, 2, 3, 4999], list(range(100, 5000, 700))):
        bounds = [0, *cuts, n]
        parts = [holdout_partition(frame.iloc[a:b].reset_index(drop=True), ok[a:b], y[a:b][ok[a:b]],
                                   pred[a:b][ok[a:b]], s[a:b][ok[a:b]], spec)
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        merged = merge_all(parts)
        for kind in ("columns", "pairs"):
            for name, kd in whole[kind].items():
                got = merged[kind][name].rows
                assert set(got) == set(kd.rows)
                for key, vec in kd.rows.items():
                    assert np.array_equal(got[key][:5], vec[:5])  # counts: identical
                    assert np.allclose(got[key][5:], vec[5:], rtol=1e-12, atol=1e-9)


@pytest.fixture(scope="module")
def planted(world):
    r = roles("group", "region", "tenure")
    return in_memory(world, r), on_engine(world, r)


def test_engine_equals_the_in_memory_check_on_the_same_rows(planted):
    local, engine = planted
    assert engine.metrics["basis"] == {"kind": "exact", "engine": "local", "rows": N_TEST, "train_rows": N_TRAIN}
    assert local.status == engine.status
    assert close(unbootstrapped(local.metrics), unbootstrapped(without(engine.metrics))) == []
    assert [f.message for f in local.findings] == [f.message for f in engine.findings]
    assert local.summary == engine.summary
    # the intervals the in-memory check bootstraps: normal intervals from sums, close to the bootstrap's
    for attr, groups in local.metrics["groups"].items():
        for g, m in groups.items():
            for key in BOOTSTRAPPED:
                a, b = m[key], engine.metrics["groups"][attr][g][key]
                assert (a is None) == (b is None)
                if a is not None and m["n"] >= 200:
                    assert abs(a[0] - b[0]) < 0.01 and abs(a[1] - b[1]) < 0.01, (attr, g, key)
    assert "mean_score_ci, brier_ci, calibration_gap_ci" in engine.metrics["interval_methods"]
    # the groups formed on every row: tenure's quantile bands and its missing cells, region's '?' tokens
    assert engine.metrics["attribute_notes"]["tenure"]["binned"] == [0.0, 5.0, 12.0, 18.0, 24.0, 29.0]
    assert "(missing)" in engine.metrics["groups"]["region"] and "(missing)" in engine.metrics["groups"]["tenure"]
    assert engine.metrics["intersections"] == ["group × region", "group × tenure", "region × tenure"]


def test_engine_counts_are_sklearns_on_every_row_and_the_planted_disparity_is_found(world, planted):
    from readiness.inputs import load_model

    _, engine = planted
    holdout = pd.read_parquet(world["holdout"])
    model = load_model(world["model"].read_bytes(), name="model.skops", sandbox=False).estimator
    pred = (model.predict_proba(holdout.drop(columns=["default", "group"]))[:, 1] >= 0.5).astype(int)
    for g in ("a", "b"):
        m = (holdout["group"] == g).to_numpy()
        tn, fp, fn, tp = confusion_matrix(holdout["default"][m], pred[m], labels=[0, 1]).ravel()
        got = engine.metrics["groups"]["group"][g]
        assert (got["tp"], got["fp"], got["fn"], got["tn"], got["n"]) == (tp, fp, fn, tn, int(m.sum()))
        assert got["fpr"] == pytest.approx(fp / (fp + tn), rel=1e-12)
        assert got["tpr"] == pytest.approx(tp / (tp + fn), rel=1e-12)
    assert engine.metrics["n"] == N_TEST
    assert engine.status.value in ("warn", "fail")
    flagged = [f for f in engine.findings if f.evidence.get("attribute") == "group"]
    assert flagged and any("b" in f.evidence["disadvantaged"] for f in flagged)
    assert any("group = b" in f.message for f in flagged)


def test_a_clean_control_passes(world, tmp_path):
    """The same world with the group drawn independently of everything: no disparity, no flag."""
    rows = make_rows(N_TEST, 2, holdout=True)
    rows["group"] = np.random.default_rng(9).choice(["a", "b"], len(rows), p=[0.7, 0.3])
    clean = write_dataset(rows, tmp_path / "clean", 5)
    local, engine = in_memory(world, roles("group"), clean), on_engine(world, roles("group"), clean)
    assert local.status.value == engine.status.value == "pass"
    assert close(unbootstrapped(local.metrics), unbootstrapped(without(engine.metrics))) == []


def test_repartitioning_gives_identical_results(world, tmp_path, planted):
    holdout = pd.read_parquet(world["holdout"])
    other = write_dataset(holdout, tmp_path / "seven", 7)
    again = on_engine(world, roles("group", "region", "tenure"), other, batch_rows=1_111)
    _, engine = planted
    assert again.status == engine.status
    assert close(without(again.metrics), without(engine.metrics)) == []
    assert [f.message for f in again.findings] == [f.message for f in engine.findings]


def test_a_continuous_sensitive_column_stays_on_the_sample(world):
    """More than MAX_KEYS distinct values (income): not summarised, so the check runs on the sample."""
    engine = on_engine(world, roles("income"))
    assert engine.metrics["basis"]["kind"] == "sample" and engine.metrics["basis"]["rows"] == SAMPLE


def both_ways(tmp_path, train: pd.DataFrame, test: pd.DataFrame, model, r):
    """bias.groups in memory and on the local engine (streaming a partitioned dataset) for a fitted model."""
    import skops.io as sio

    from readiness.engines.review import prepare, run
    from readiness.inputs import Settings, prepare_review
    from readiness.review import run_review

    data = sio.dumps(model)
    tr, te = write_dataset(train, tmp_path / "train", 2), write_dataset(test, tmp_path / "test", 5)
    ctx = prepare_review(train=tr, test=te, roles=r, model=data, model_name="m.skops", settings=Settings())
    local = run_review(ctx, checks=["bias.groups"]).check("bias.groups")
    er = prepare(LocalEngine(batch_rows=2_500), train=tr, test=te, roles=r, settings=Settings(), model=data,
                 model_name="m.skops", trusted=None, sample_rows=1_500)
    return local, run(er, checks=["bias.groups"]).check("bias.groups")


def test_multiclass_engine_equals_the_in_memory_check(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from readiness.inputs import Roles

    def rows(n, seed):
        f = make_rows(n, seed, holdout=False)[["income", "debt", "group", "region"]]
        noise = np.random.default_rng(seed).normal(0, np.where(f["group"] == "b", 12, 3), n)
        f["tier"] = np.digitize(f["income"] - 0.5 * f["debt"] + noise, [35, 45])
        f["tier"] = np.array(["low", "mid", "high"])[f["tier"]]
        return f

    train, test = rows(6000, 11), rows(12000, 12)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(train[["income", "debt"]],
                                                                                   train["tier"])
    r = Roles(target="tier", sensitive=["group", "region"], exclude=["group", "region"], favorable_label="high")
    local, engine = both_ways(tmp_path, train, test, model, r)
    assert local.metrics["task"] == "multiclass" and engine.metrics["basis"]["kind"] == "exact"
    assert local.status == engine.status
    assert close(local.metrics, without(engine.metrics)) == []
    assert [f.message for f in local.findings] == [f.message for f in engine.findings]
    pred = model.predict(test[["income", "debt"]])
    m = (test["group"] == "b").to_numpy()
    cm = confusion_matrix(test["tier"][m], pred[m], labels=["high", "low", "mid"])
    per = engine.metrics["groups"]["group"]["b"]["per_class"]
    for i, c in enumerate(["high", "low", "mid"]):
        assert per[c]["tp"] == cm[i, i] and per[c]["fn"] == cm[i].sum() - cm[i, i]
        assert per[c]["fp"] == cm[:, i].sum() - cm[i, i]
    assert engine.metrics["groups"]["group"]["b"]["correct"] == int(np.trace(cm))


def test_regression_engine_equals_the_in_memory_check_and_sklearns_mae(tmp_path):
    """Regression: per group the sums of errors, predictions and actuals give the MAE, mean error and their
    t intervals and the Welch disparities exactly; group 'b' (planted: a noisier target) bears the larger error."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from readiness.inputs import Roles

    def rows(n, seed):
        f = make_rows(n, seed, holdout=False)[["income", "debt", "channel", "group", "region"]]
        noise = np.random.default_rng(seed).normal(0, np.where(f["group"] == "b", 6.0, 2.0), n)
        f["spend"] = 0.5 * f["income"] - 0.2 * f["debt"].clip(lower=0) + noise
        return f

    train, test = rows(6000, 21), rows(12000, 22)
    features = ["income", "debt", "channel"]
    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["channel"])], remainder="passthrough")
    model = make_pipeline(pre, LinearRegression()).fit(train[features], train["spend"])
    r = Roles(target="spend", sensitive=["group", "region"], exclude=["group", "region"])
    local, engine = both_ways(tmp_path, train, test, model, r)
    assert local.metrics["task"] == "regression" and engine.metrics["basis"]["kind"] == "exact"
    assert local.status == engine.status and engine.status.value in ("warn", "fail")
    a, b = dict(local.metrics), without(engine.metrics)
    a["overall"] = {k: v for k, v in a["overall"].items() if k != "mae_ci"}  # in memory: the bootstrap's
    b["overall"] = {k: v for k, v in b["overall"].items() if k != "mae_ci"}
    assert close(a, b) == []
    assert [f.message for f in local.findings] == [f.message for f in engine.findings]
    pred = model.predict(test[features])
    for g in ("a", "b"):
        m = (test["group"] == g).to_numpy()
        got = engine.metrics["groups"]["group"][g]
        assert got["n"] == int(m.sum())
        assert got["mae"] == pytest.approx(mean_absolute_error(test["spend"][m], pred[m]), rel=1e-9)
        assert got["mean_error"] == pytest.approx(float(np.mean(pred[m] - test["spend"][m])), rel=1e-9)
    assert engine.metrics["disparities"]["group"]["reference"] == "a"
    assert engine.metrics["disparities"]["group"]["groups"]["b"]["flags"][0]["disadvantaged"] == "b"
