"""Stability of explanations (issues 12 and 16): the SHAP ranking's bootstrap stability against a
closed form, LIME's seed stability, and the SHAP/LIME diagnosis — a linear model where both must
agree and LIME is stable, and a model where LIME is known to be unstable (many equally strong
features: which three LIME ranks first is decided by its random perturbations)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from scipy import stats
from sklearn.linear_model import LinearRegression

from readiness import explain as X
from readiness import explain_stats as ES
from readiness.registry import get_check
from readiness.review import run_check


@pytest.fixture(autouse=True)
def _fresh_explainer_cache():
    X.clear_cache()
    yield
    X.clear_cache()


def test_ranking_stability_matches_the_normal_approximation():
    """Two features whose |SHAP| differ in mean by δ with sd σ on n rows: the bootstrap share of
    resamples keeping their order ≈ Φ(δ / (σ·√(2/n))) (independent columns); a clear third stays first."""
    rng = np.random.default_rng(0)
    n, sigma, delta = 2000, 1.0, 0.04
    a = np.column_stack([10 + rng.standard_normal(n), 5 + delta + sigma * rng.standard_normal(n),
                         5 + sigma * rng.standard_normal(n)])
    rs = ES.ranking_stability(a, ["big", "b", "c"], n_boot=400, seed=1)
    observed_delta = a[:, 1].mean() - a[:, 2].mean()  # the sample's own difference is what resamples vary around
    expected = stats.norm.cdf(observed_delta / (sigma * math.sqrt(2 / n)))
    assert rs["top_feature_share"] == 1.0
    assert rs["same_order_share"] == pytest.approx(max(expected, 1 - expected), abs=0.06)
    assert rs["settled"] is False and rs["unsettled"][0]["features"] == sorted(["b", "c"], key=lambda f: f != rs["top"][1])
    clear = ES.ranking_stability(np.column_stack([a[:, 0], a[:, 1] + 2, a[:, 2]]), ["big", "b", "c"], seed=1)
    assert clear["same_order_share"] == 1.0 and clear["settled"] and clear["unsettled"] == []


def _linear_frame(coefs, n=1500, seed=0):
    rng = np.random.default_rng(seed)
    Xf = pd.DataFrame(rng.standard_normal((n, len(coefs))), columns=[f"f{i}" for i in range(len(coefs))])
    y = Xf.to_numpy() @ np.asarray(coefs) + 0.1 * rng.standard_normal(n)
    return Xf.assign(y=y)


def _lime_result(frame):
    train, test = frame.iloc[:1000].reset_index(drop=True), frame.iloc[1000:].reset_index(drop=True)
    feats = [c for c in frame.columns if c != "y"]
    model = LinearRegression().fit(train[feats], train["y"])
    res = run_check(get_check("explanations.lime"), make_ctx(train, test, target="y", model=model))
    assert res.status != "error", res.summary
    json.dumps(res.metrics, allow_nan=False)
    return res


def test_linear_model_lime_is_stable_and_agrees_with_shap():
    """Known answer: y = 4·f0 + 2·f1 + 1·f2 + 0.2·f3: exact linear SHAP and LIME must tell the same
    story, LIME is stable across seeds, and SHAP (exact) is the method to believe where they differ."""
    res = _lime_result(_linear_frame([4.0, 2.0, 1.0, 0.2]))
    m = res.metrics
    assert m["rows_lime_stable"] == m["rows_checked"]
    assert m["agreement_rate_stable"] >= 0.8 and res.status == "pass"
    assert m["diagnosis"]["believe"] == "shap" and "exact" in m["diagnosis"]["why"]


def test_lime_unstable_on_many_equal_features_gives_no_disagreement_verdict():
    """Known failure of LIME: 12 features with equal coefficients. Which of them LIME ranks in its top 3
    is decided by its random perturbations, so its seeds disagree; the check must say so and must not
    warn about SHAP/LIME disagreement on rows where LIME is unstable."""
    res = _lime_result(_linear_frame([1.0] * 12))
    m = res.metrics
    assert m["rows_lime_stable"] < m["rows_checked"]
    assert any("change with its random seed" in f.message for f in res.findings)
    assert not any(f.severity == "warn" and "agree on the top features" in f.message for f in res.findings)
    if not m["per_row"][0]["lime_stable"]:
        assert "not compared with SHAP" in res.summary


def test_lime_stability_rule():
    def run(*tops, r2=0.8):
        return {"contributions": [{"feature": f, "weight": w} for f, w in zip(tops, (3, 2, 1), strict=False)],
                "fit_r2": r2}

    same = ES.lime_stability([run("a", "b", "c"), run("a", "c", "b"), run("a", "b", "d")])
    assert same["stable"] and same["top_feature_votes"] == 3 and same["mean_jaccard"] == pytest.approx((1 + .5 + .5) / 3)
    moved = ES.lime_stability([run("a", "b", "c"), run("b", "a", "c"), run("a", "b", "c")])
    assert not moved["stable"] and moved["top_feature"] == "a" and moved["top_feature_votes"] == 2
    poor = ES.which_to_believe(shap_kind="permutation", lime_runs=[same], correlated=[], n_features=16)
    assert poor["believe"] == "either" and poor["kernel_width"] == pytest.approx(3.0)
    bad = ES.which_to_believe(shap_kind="permutation", lime_runs=[moved], correlated=[["x", "z"]], n_features=4)
    assert bad["believe"] == "shap" and any("x, z" in r for r in bad["reasons"])


def test_exact_shap_turns_a_lime_disagreement_into_information():
    """Known answer on real data: a ridge regression on scikit-learn's diabetes data (random split 3), whose
    serum columns s1 and s2 correlate at 0.90. SHAP's linear explainer is exact (coefficient x deviation, checked
    here against the coefficients independently); LIME's surrogate disagrees with it on most stable rows. That
    is LIME's approximation, not an unstable model: information that says to read SHAP, never a warning."""
    import zoo_real

    from readiness.review import run_review

    ctx = zoo_real.context(zoo_real.SETS["diabetes"], 3)
    report = run_review(ctx, checks=["explanations.shap", "explanations.lime"])
    shap_r, lime_r = (next(c for c in report.checks if c.id == i) for i in ("explanations.shap", "explanations.lime"))
    m = lime_r.metrics
    assert m["diagnosis"]["believe"] == "shap" and "exact" in m["diagnosis"]["why"]
    assert m["rows_lime_stable"] >= 3 and m["agreement_rate_stable"] < 0.5, m["agreement_rate_stable"]  # the case
    assert lime_r.status == "pass", lime_r.summary
    note = [f for f in lime_r.findings if "SHAP is exact for this model" in f.message]
    assert len(note) == 1 and note[0].severity == "info" and note[0].evidence["shap_exact"] is True
    # independent check that SHAP is exact here: linear SHAP on standardised inputs = coef * (x - mean) / scale
    row = m["default_row"]
    pipe = ctx.model.estimator
    prep, ridge = pipe.named_steps["prep"], pipe.named_steps["model"]
    x = ctx.test[ctx.model.features].iloc[[row["row"]]]
    z = prep.transform(x)[0]
    mean_z = prep.transform(ctx.train[ctx.model.features]).mean(axis=0)
    expected = dict(zip(ctx.model.features, ridge.coef_ * (z - mean_z), strict=True))
    for c in row["shap"]["contributions"]:
        assert abs(c["shap"] - expected[c["feature"]]) < 1e-6 * max(1.0, abs(expected[c["feature"]]))
