"""Issue 9, item 7: with many columns each check works within a column budget and says how many
columns it used; the sampled checks still find their planted defects.

Cheap to assert without timing anything: the reported sample sizes. Data: 600 Gaussian columns,
the outcome driven by the first five (known coefficients), a logistic regression on all of them.
The peak-memory bound itself (5,000 columns within 2 GiB) is tests/test_wide_memory.py (slow) and
benchmarks/bench_wide.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness import explain as X
from readiness.checks.leakage import SMOTE_MAX_COLUMNS
from readiness.registry import get_check
from readiness.review import run_check

COLUMNS, ROWS = 600, 800
SIGNAL = {"f0": 1.5, "f1": -1.2, "f2": 1.0, "f3": 0.9, "f4": -0.8}


def wide_frames(columns=COLUMNS, seed=0):
    rng = np.random.default_rng(seed)
    Xm = rng.normal(size=(ROWS, columns))
    names = [f"f{i}" for i in range(columns)]
    logit = sum(w * Xm[:, int(f[1:])] for f, w in SIGNAL.items())
    frame = pd.DataFrame(Xm, columns=names).assign(y=(rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int))
    return frame.iloc[: ROWS // 2].reset_index(drop=True), frame.iloc[ROWS // 2:].reset_index(drop=True), names


@pytest.fixture(scope="module")
def wide():
    train, test, names = wide_frames()
    model = LogisticRegression(C=0.05, max_iter=500).fit(train[names], train["y"])
    X.clear_cache()
    return make_ctx(train, test, target="y", model=model), names


def test_the_screen_keeps_the_columns_that_drive_the_score(wide):
    ctx, names = wide
    screen = X.screened_features(ctx)
    assert screen["screened"] and screen["available"] == COLUMNS
    assert len(screen["features"]) == X.EXPLAIN_MAX_FEATURES and screen["rows"] == ROWS // 2
    assert set(SIGNAL) <= set(screen["features"])
    # the association of a kept signal column is |Spearman ρ| with the model's score (scipy, independently)
    from scipy.stats import spearmanr

    scores = np.asarray(ctx.test_scores, dtype=float)
    assert screen["association"]["f0"] == pytest.approx(abs(spearmanr(ctx.test["f0"], scores)[0]), abs=1e-9)


def test_permutation_importance_reports_its_column_sample_and_finds_the_signal(wide):
    ctx, _ = wide
    res = run_check(get_check("explanations.permutation"), ctx)
    m = res.metrics
    assert res.status != "error", res.summary
    assert (m["features_shuffled"], m["features_available"]) == (X.EXPLAIN_MAX_FEATURES, COLUMNS)
    assert len(m["importances"]) == X.EXPLAIN_MAX_FEATURES
    assert set(list(m["importances"])[:5]) == set(SIGNAL)  # the planted drivers, most important first
    assert any(f"{COLUMNS:,} features" in f.message for f in res.findings)
    assert f"of {COLUMNS:,} features" in res.summary


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_lime_varies_the_screened_columns_and_says_so(wide):
    ctx, _ = wide
    res = run_check(get_check("explanations.lime"), ctx)
    m = res.metrics
    assert res.status != "error", res.summary
    assert (m["features_varied"], m["features_available"]) == (X.EXPLAIN_MAX_FEATURES, COLUMNS)
    lime_feats = {c["feature"] for c in m["default_row"]["lime"]["contributions"]}
    assert lime_feats <= set(X.screened_features(ctx)["features"])
    assert lime_feats & set(SIGNAL)  # LIME's top features on the closest call include a planted driver
    assert any("LIME varies" in f.message for f in res.findings)


def test_oversampling_reports_its_column_sample(wide):
    ctx, _ = wide
    res = run_check(get_check("leakage.oversampling"), ctx)
    ev = [f.evidence for f in res.findings if "columns_used" in (f.evidence or {})]
    assert ev and ev[0]["columns_used"] == SMOTE_MAX_COLUMNS and ev[0]["columns_available"] == COLUMNS


def test_narrow_data_is_not_screened():
    train, test, names = wide_frames(columns=12)
    model = LogisticRegression().fit(train[names], train["y"])
    ctx = make_ctx(train, test, target="y", model=model)
    screen = X.screened_features(ctx)
    assert not screen["screened"] and screen["features"] == names
    res = run_check(get_check("explanations.permutation"), ctx)
    assert res.metrics["features_shuffled"] == res.metrics["features_available"] == 12
    assert not any("features most associated" in f.message for f in res.findings)


def test_robustness_perturbs_the_screened_columns_and_says_so(wide):
    """5,000 columns once built 10,000 changed copies of the sample at once (7.6 GB and climbing): now
    the screened 200 features are perturbed, and the nudge of a planted driver flips what re-scoring
    that nudge with scikit-learn flips."""
    from readiness.checks import robustness as R

    ctx, names = wide
    res = run_check(get_check("robustness.perturbation"), ctx)
    m = res.metrics
    assert res.status != "error", res.summary
    assert m["features_perturbed"] == X.EXPLAIN_MAX_FEATURES and m["features_available"] == COLUMNS
    assert set(m["flip_rate_by_feature"]) <= set(X.screened_features(ctx)["features"])
    assert any(f.evidence.get("features_perturbed") == X.EXPLAIN_MAX_FEATURES for f in res.findings)
    # f0's nudge, re-scored independently on the same rows (all holdout rows: 400 < the sample size)
    test = ctx.test[names]
    q75, q25 = np.percentile(ctx.train["f0"], [75, 25])
    step = R.NUDGE * (q75 - q25) / 1.349
    model = ctx.model.estimator
    base = model.predict_proba(test)[:, 1] >= 0.5
    up = model.predict_proba(test.assign(f0=test["f0"] + step))[:, 1] >= 0.5
    down = model.predict_proba(test.assign(f0=test["f0"] - step))[:, 1] >= 0.5
    assert m["rows"] == len(test)
    assert m["flip_rate_by_feature"]["f0"] == pytest.approx(((up != base) | (down != base)).mean(), abs=1e-12)


def test_robustness_scored_in_small_batches_gives_the_same_answer(monkeypatch):
    """The cell budget splits the scoring into batches (and the counterfactual into row chunks);
    the flips are the same as in one call."""
    from readiness.checks import robustness as R

    rng = np.random.default_rng(5)
    n = 900
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n), "sex": rng.choice(["f", "m"], n)})
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-(2 * frame["x"] + (frame["sex"] == "m"))))).astype(int)
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    model = make_pipeline(ColumnTransformer([("c", OneHotEncoder(), ["sex"])], remainder="passthrough"),
                          LogisticRegression()).fit(frame[["x", "z", "sex"]], frame["y"])
    train, test = frame.iloc[:450][["x", "z", "sex", "y"]], frame.iloc[450:][["x", "z", "sex", "y"]]

    def run():
        X.clear_cache()
        return run_check(get_check("robustness.perturbation"),
                         make_ctx(train.reset_index(drop=True), test.reset_index(drop=True), target="y", model=model,
                                  sensitive=["sex"])).metrics

    whole = run()
    monkeypatch.setattr(R, "MAX_BATCH_CELLS", 700)  # 450 rows x 3 columns: one change per batch, 233-row chunks
    small = run()
    assert whole["flip_detail"] == small["flip_detail"] and whole["sensitive_detail"] == small["sensitive_detail"]
    assert whole["sensitive_flip_rate"]["sex"] > 0 and whole["flip_rate_by_feature"]["x"] > 0
