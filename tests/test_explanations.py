"""Known-answer tests for the explanation checks (SHAP, LIME, permutation importance).

Every expected value is computed independently of ``readiness.explain``: linear SHAP from
the fitted coefficients, one-feature models whose other attributions must be exactly zero,
and a planted leaky column that must rank first.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from readiness import explain as X
from readiness.checks import explanations as E
from readiness.registry import get_check
from readiness.results import CheckResult, Finding, ReviewReport, Severity, Status
from readiness.review import run_check


@pytest.fixture(autouse=True)
def _fresh_explainer_cache():
    X.clear_cache()
    yield
    X.clear_cache()


def _run(check_id, ctx) -> CheckResult:
    res = run_check(get_check(check_id), ctx)
    assert res.status != Status.ERROR, res.summary
    json.dumps(res.metrics, allow_nan=False)
    return res


def _frame(n, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(2.0, 3.0, size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2]),
    })
    logit = 1.2 * df["x1"] - 0.4 * df["x2"] + np.where(df["colour"] == "red", 0.8, -0.3)
    df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return df


FEATS = ["x1", "x2", "colour"]


def _pre():
    return ColumnTransformer([("num", StandardScaler(), ["x1", "x2"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["colour"])])


# --- SHAP: linear models, computed independently -----------------------------------------------


def test_logistic_pipeline_shap_is_coef_times_centred_value_summed_per_original_feature():
    df = _frame(600)
    tr, te = df.iloc[:450].reset_index(drop=True), df.iloc[450:].reset_index(drop=True)
    model = Pipeline([("pre", _pre()), ("clf", LogisticRegression())]).fit(tr[FEATS], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model, positive_label="yes")
    got = X.shap_values(ctx, np.arange(len(te)))
    assert got.names == FEATS
    # independent answer: log-odds contribution coef_j * (x_j - mean_j) on the transformed columns,
    # one-hot columns summed back to 'colour'
    pre, clf = model[:-1], model[-1]
    Zt, Zte = pre.transform(tr[FEATS]), pre.transform(te[FEATS])
    phi = (Zte - Zt.mean(axis=0)) * clf.coef_[0]
    names = list(pre.get_feature_names_out())
    expected = np.column_stack([phi[:, names.index("num__x1")], phi[:, names.index("num__x2")],
                                phi[:, [i for i, n in enumerate(names) if n.startswith("cat__colour_")]].sum(axis=1)])
    np.testing.assert_allclose(got.values, expected, atol=1e-9)
    # additivity in log-odds: base + sum = decision function
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), clf.decision_function(Zte), atol=1e-9)
    info = X.explainer_info(ctx)
    assert info["explainer"] == "linear" and info["output_space"] == "log-odds"


def test_positive_label_first_class_flips_the_explanation():
    df = _frame(400, seed=1)
    tr, te = df.iloc[:300].reset_index(drop=True), df.iloc[300:].reset_index(drop=True)
    model = Pipeline([("pre", _pre()), ("clf", LogisticRegression())]).fit(tr[FEATS], tr["y"])
    ctx_yes = make_ctx(tr, te, target="y", model=model, positive_label="yes")
    ctx_no = make_ctx(tr, te, target="y", model=model, positive_label="no")
    yes, no = X.shap_values(ctx_yes, np.arange(20)), X.shap_values(ctx_no, np.arange(20))
    np.testing.assert_allclose(no.values, -yes.values, atol=1e-12)
    p_no = model.predict_proba(te[FEATS].iloc[:20])[:, list(model.classes_).index("no")]
    np.testing.assert_allclose(no.base + no.values.sum(axis=1), np.log(p_no / (1 - p_no)), atol=1e-8)


def test_bare_linear_regression_shap_is_exact():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.uniform(0, 10, size=300), "c": rng.normal(size=300)})
    df["y"] = 3 * df["a"] - 0.5 * df["b"] + rng.normal(scale=0.1, size=300)
    tr, te = df.iloc[:200].reset_index(drop=True), df.iloc[200:].reset_index(drop=True)
    model = LinearRegression().fit(tr[["a", "b", "c"]], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model)
    got = X.shap_values(ctx, np.arange(len(te)))
    expected = (te[["a", "b", "c"]].to_numpy() - tr[["a", "b", "c"]].to_numpy().mean(axis=0)) * model.coef_
    np.testing.assert_allclose(got.values, expected, atol=1e-9)
    assert X.explainer_info(ctx)["output_space"] == "prediction"
    res = _run("explanations.shap", ctx)
    # mean |SHAP| of a linear feature is |coef| * mean |x - mean|: 'a' (coef 3, sd 1) beats 'b' (0.5 * 2.5)
    assert list(res.metrics["global_importance"])[:2] == ["a", "b"]


# --- a model that uses one feature only --------------------------------------------------------


def _one_feature_data(n=800, seed=4):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n),
                       "kind": rng.choice(["a", "b", "c"], size=n)})
    df["y"] = (df["signal"] > 0.2).astype(int)
    return df.iloc[: n * 3 // 4].reset_index(drop=True), df.iloc[n * 3 // 4:].reset_index(drop=True)


def _one_feature_tree_ctx():
    tr, te = _one_feature_data()
    pre = ColumnTransformer([("num", "passthrough", ["signal", "noise"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["kind"])])
    # a depth-1 tree on separable data splits on 'signal' only
    model = make_pipeline(pre, DecisionTreeClassifier(max_depth=1, random_state=0)).fit(tr[["signal", "noise", "kind"]], tr["y"])
    assert model[-1].tree_.feature[0] == 0
    return make_ctx(tr, te, target="y", model=model)


def test_one_feature_model_all_other_attributions_are_zero_and_it_ranks_first():
    ctx = _one_feature_tree_ctx()
    got = X.shap_values(ctx, np.arange(len(ctx.test)))
    j = got.names.index("signal")
    others = np.delete(got.values, j, axis=1)
    assert np.abs(others).max() == pytest.approx(0.0, abs=1e-12)
    assert np.abs(got.values[:, j]).mean() > 0.1
    res = _run("explanations.shap", ctx)
    assert res.metrics["explainer"] == "tree"
    assert res.metrics["top_features"][0] == "signal"
    assert res.metrics["importance_share"]["signal"] == pytest.approx(1.0)
    assert res.metrics["dominant_features"] == ["signal"]
    # one honest feature carrying everything is a question, not an alarm (issue 18): info, and the check passes
    assert res.status == Status.PASS
    assert any(f.columns == ["signal"] and f.severity == Severity.INFO and "known at prediction time" in f.message
               for f in res.findings)
    assert "'signal'" in res.summary


def test_one_feature_model_lime_top_feature_agrees():
    ctx = _one_feature_tree_ctx()
    res = _run("explanations.lime", ctx)
    for row in res.metrics["per_row"]:
        assert row["lime_top"][0] == "signal", row
    default = res.metrics["default_row"]
    assert default["shap"]["contributions"][0]["feature"] == "signal"
    assert default["agreement"]["agree"] and res.status == Status.PASS


def test_one_feature_model_permutation_ignored_features_contribute_nothing():
    ctx = _one_feature_tree_ctx()
    res = _run("explanations.permutation", ctx)
    imp = res.metrics["importances"]
    assert list(imp)[0] == "signal"
    lo, hi = imp["signal"]["ci"]
    assert 0 < lo <= imp["signal"]["mean"] <= hi
    for f in ("noise", "kind"):
        assert imp[f]["mean"] == pytest.approx(0.0, abs=1e-12)
        assert imp[f]["ci"] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert set(res.metrics["contributes_nothing"]) == {"noise", "kind"}
    assert res.metrics["n_repeats"] >= 5 and res.metrics["rows"] == len(ctx.test)


def test_model_agnostic_fallback_is_additive_and_zero_for_unused_features():
    tr, te = _one_feature_data(400, seed=5)
    # k-nearest neighbours on 'signal' only (other columns dropped by the transformer): no fast path
    pre = ColumnTransformer([("num", "passthrough", ["signal"])], remainder="drop")
    model = make_pipeline(pre, KNeighborsClassifier(15)).fit(tr[["signal", "noise", "kind"]], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model)
    info = X.explainer_info(ctx)
    assert info["explainer"] == "permutation" and info["output_space"] == "probability"
    rows = np.arange(6)
    got = X.shap_values(ctx, rows)
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), ctx.test_scores[rows], atol=1e-9)
    j = got.names.index("signal")
    assert np.abs(np.delete(got.values, j, axis=1)).max() == pytest.approx(0.0, abs=1e-12)
    # per-row seeding: the same row gets the same values alone or in a batch
    alone = X.shap_values(ctx, np.array([3]))
    np.testing.assert_allclose(alone.values[0], got.values[3], atol=1e-12)


def test_model_agnostic_handles_string_categories():
    """SHAP's masker fails on strings: categories are encoded to codes and decoded for the model."""
    df = _frame(300, seed=6)
    tr, te = df.iloc[:220].reset_index(drop=True), df.iloc[220:].reset_index(drop=True)
    model = make_pipeline(_pre(), KNeighborsClassifier(10)).fit(tr[FEATS], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model, positive_label="yes")
    got = X.shap_values(ctx, np.arange(4))
    assert got.names == FEATS
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), ctx.test_scores[:4], atol=1e-9)
    row = X.explain_row(ctx, 2)
    assert {c["feature"] for c in row["lime"]["contributions"]} <= set(FEATS)
    assert row["shap"]["contributions"][0]["value"] is not None


# --- a planted leaky column --------------------------------------------------------------------


def _leaky_ctx():
    rng = np.random.default_rng(7)
    n = 1500
    df = pd.DataFrame({
        "age": rng.integers(18, 80, size=n),
        "income": rng.lognormal(10, 0.4, size=n),
        "region": rng.choice(["N", "S", "E", "W"], size=n),
    })
    logit = 0.02 * (df["age"] - 45) - 0.5 * np.log(df["income"] / 22000)
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    # the leak: recorded after the outcome, nearly equal to it
    df["after_outcome"] = df["y"] * 2.0 + rng.normal(scale=0.35, size=n)
    df.loc[rng.random(n) < 0.03, "income"] = np.nan
    feats = ["age", "income", "region", "after_outcome"]
    pre = ColumnTransformer([("num", SimpleImputer(strategy="median"), ["age", "income", "after_outcome"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["region"])])
    tr, te = df.iloc[:1100].reset_index(drop=True), df.iloc[1100:].reset_index(drop=True)
    model = Pipeline([("prepare", pre), ("clf", HistGradientBoostingClassifier(max_iter=60, random_state=0))])
    model.fit(tr[feats], tr["y"])
    return make_ctx(tr, te, target="y", model=model, sensitive=["region"])


def test_planted_leaky_column_ranks_first_everywhere():
    ctx = _leaky_ctx()
    shap_res = _run("explanations.shap", ctx)
    m = shap_res.metrics
    assert m["explainer"] == "tree" and m["output_space"] == "log-odds"
    assert m["additivity_error"] < 1e-6
    assert set(m["global_importance"]) == {"age", "income", "region", "after_outcome"}
    assert list(m["global_importance"])[0] == "after_outcome"
    assert "after_outcome" in m["dominant_features"]
    assert m["points"]["after_outcome"]["trend"] > 0.5  # a higher value raises the score
    perm = _run("explanations.permutation", ctx)
    assert list(perm.metrics["importances"])[0] == "after_outcome"
    assert perm.metrics["importances"]["after_outcome"]["ci"][0] > 0.1
    lime = _run("explanations.lime", ctx)
    assert lime.metrics["default_row"]["lime"]["contributions"][0]["feature"] == "after_outcome"


def test_dominant_feature_flagged_by_leakage_is_pointed_out():
    ctx = _leaky_ctx()
    shap_res, perm = _run("explanations.shap", ctx), _run("explanations.permutation", ctx)
    leak = CheckResult(id="leakage.feature_target", title="t", status=Status.FAIL, summary="s", findings=[
        Finding(severity=Severity.FAIL, message="leaks", columns=["after_outcome"]),
        Finding(severity=Severity.INFO, message="fine", columns=["age"])])
    report = ReviewReport(created_at="2026-01-01T00:00:00", task="binary", inputs=ctx.input_files,
                          roles=ctx.roles_info(), model=ctx.model_info, checks=[leak, shap_res, perm])
    items = E.dominant_and_leaky(report)
    assert [i["feature"] for i in items] == ["after_outcome"]
    assert items[0]["leakage_checks"] == ["leakage.feature_target"] and items[0]["shap_share"] > 0.25
    # absent leakage check (or explanations): nothing to point out, no error
    assert E.dominant_and_leaky(report.model_copy(update={"checks": [shap_res, perm]})) == []
    assert E.dominant_and_leaky(report.model_copy(update={"checks": [leak]})) == []


# --- agreement, groups, rows, skips ---------------------------------------------------------------


def test_agreement_rules():
    shap = [{"feature": "a", "shap": 1.0}, {"feature": "b", "shap": -0.5}, {"feature": "c", "shap": 0.3},
            {"feature": "d", "shap": 0.01}]
    same = [{"feature": "b", "weight": -0.2}, {"feature": "a", "weight": 0.4}, {"feature": "d", "weight": 0.1}]
    assert X.agreement(shap, same)["agree"]
    flipped = [{"feature": "a", "weight": -0.4}, {"feature": "b", "weight": -0.2}, {"feature": "c", "weight": 0.1}]
    res = X.agreement(shap, flipped)
    assert not res["agree"] and res["direction_conflicts"] == ["a"]
    other = [{"feature": "x", "weight": 0.4}, {"feature": "y", "weight": 0.3}, {"feature": "a", "weight": 0.2}]
    assert not X.agreement(shap, other)["agree"]
    # features below 10% of the largest weight do not count: one material feature each
    assert X.agreement([{"feature": "a", "shap": 1.0}, {"feature": "b", "shap": 0.05}],
                       [{"feature": "a", "weight": 0.5}, {"feature": "z", "weight": 0.01}])["agree"]


def test_feature_groups_prefix_correlated_and_sensitive():
    rng = np.random.default_rng(8)
    n = 1200
    base = rng.normal(size=n)
    df = pd.DataFrame({"addr_city": rng.choice(["p", "q"], size=n), "addr_zip": rng.choice(["1", "2"], size=n),
                       "height": base, "height_in": base * 39.37 + rng.normal(scale=0.01, size=n),
                       "other": rng.normal(size=n), "sex": rng.choice(["f", "m"], size=n)})
    df["y"] = (base + rng.normal(size=n) > 0).astype(int)
    feats = ["addr_city", "addr_zip", "height", "height_in", "other", "sex"]
    pre = ColumnTransformer([("num", StandardScaler(), ["height", "height_in", "other"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                              ["addr_city", "addr_zip", "sex"])])
    tr, te = df.iloc[:700].reset_index(drop=True), df.iloc[700:].reset_index(drop=True)
    # strong regularisation spreads the weight over the two copies of 'height'
    model = make_pipeline(pre, LogisticRegression(C=0.005)).fit(tr[feats], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model, sensitive=["sex", "addr_city"])
    groups = X.feature_groups(ctx)
    assert groups["addr_* (shared prefix)"] == ["addr_city", "addr_zip"]
    assert groups["height + height_in (correlated)"] == ["height", "height_in"]
    assert groups["sensitive attributes (sex, addr_city)"] == ["sex", "addr_city"]
    res = _run("explanations.permutation", ctx)
    g = res.metrics["groups"]["height + height_in (correlated)"]
    imp = res.metrics["importances"]
    # copies stand in for each other: shuffled together they matter more than either alone
    assert g["mean"] > max(imp["height"]["mean"], imp["height_in"]["mean"])

    # a machine so busy that every clock reading is a minute later still measures every group, the same
    # figures: the work is bounded by the plan, never by a clock (a 20 s clock once skipped groups under load)
    import itertools

    ticks = itertools.count()
    X.clear_cache()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(X.time, "perf_counter", lambda: 60.0 * next(ticks))
        busy = _run("explanations.permutation", ctx).metrics
    assert busy["groups_skipped"] == [] and busy["groups"] == res.metrics["groups"]


def test_suggested_rows_and_default_row():
    ctx = _leaky_ctx()
    s = np.asarray(ctx.test_scores)
    rows = X.suggested_rows(ctx)
    assert rows[0]["row"] == int(np.argmin(np.abs(s - 0.5)))
    assert rows[0]["reason"].startswith("closest call")

    def row_for(reason):
        return next(r["row"] for r in rows if reason in r["reason"].split("; "))

    assert row_for("highest score") == int(np.argmax(s))
    assert row_for("lowest score") == int(np.argmin(s))
    neg, pos = np.flatnonzero(ctx.y_test_binary == 0), np.flatnonzero(ctx.y_test_binary == 1)
    assert row_for("most confident false alarm (highest score, actually negative)") == int(neg[np.argmax(s[neg])])
    assert row_for("most confident miss (lowest score, actually positive)") == int(pos[np.argmin(s[pos])])
    assert len({r["row"] for r in rows}) == len(rows)


def test_explain_row_is_deterministic_and_checks_its_row():
    ctx = _leaky_ctx()
    a, b = X.explain_row(ctx, 5), X.explain_row(ctx, 5)
    X.explain_row(ctx, 9)
    c = X.explain_row(ctx, 5)
    assert a == b == c
    with pytest.raises(IndexError):
        X.explain_row(ctx, len(ctx.test))


def test_multiclass_tree_explains_the_predicted_class():
    rng = np.random.default_rng(9)
    n = 600
    df = pd.DataFrame({"u": rng.normal(size=n), "v": rng.normal(size=n)})
    df["y"] = np.array(["lo", "mid", "hi"])[np.digitize(df["u"], [-0.5, 0.5])]
    tr, te = df.iloc[:450].reset_index(drop=True), df.iloc[450:].reset_index(drop=True)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(tr[["u", "v"]], tr["y"])
    ctx = make_ctx(tr, te, target="y", model=model)
    got = X.shap_values(ctx, np.arange(len(te)))
    raw = model.decision_function(te[["u", "v"]])
    cls = [list(model.classes_).index(p) for p in model.predict(te[["u", "v"]])]
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), raw[np.arange(len(te)), cls], atol=1e-6)
    res = _run("explanations.shap", ctx)
    assert res.metrics["top_features"][0] == "u"


def test_random_forest_is_explained_in_probability_and_bools_take_the_fast_path():
    rng = np.random.default_rng(11)
    n = 400
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "flag": rng.random(n) < 0.5})
    df["y"] = np.where(df["a"] + 0.3 * rng.normal(size=n) > 0, "pos", "neg")
    df["amount"] = 3 * df["a"] + 2 * df["flag"] + rng.normal(scale=0.1, size=n)
    tr, te = df.iloc[:300].reset_index(drop=True), df.iloc[300:].reset_index(drop=True)
    rf = RandomForestClassifier(20, random_state=0).fit(tr[["a", "b", "flag"]], tr["y"])
    ctx = make_ctx(tr.drop(columns="amount"), te.drop(columns="amount"), target="y", model=rf, positive_label="pos")
    info = X.explainer_info(ctx)
    assert info["explainer"] == "tree" and info["output_space"] == "probability"
    got = X.shap_values(ctx, np.arange(len(te)))
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), ctx.test_scores, atol=1e-9)
    gbr = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(tr[["a", "b", "flag"]], tr["amount"])
    ctx = make_ctx(tr.drop(columns="y"), te.drop(columns="y"), target="amount", model=gbr)
    info = X.explainer_info(ctx)
    assert info["explainer"] == "tree" and info["output_space"] == "prediction"
    got = X.shap_values(ctx, np.arange(len(te)))
    np.testing.assert_allclose(got.base + got.values.sum(axis=1), ctx.test_scores, atol=1e-6)
    assert got.names[int(np.argmax(np.abs(got.values).mean(axis=0)))] == "a"


@pytest.mark.parametrize("check_id", ["explanations.shap", "explanations.lime", "explanations.permutation"])
def test_skipped_without_a_model(check_id):
    df = _frame(200, seed=10)
    df["score"] = 1 / (1 + np.exp(-df["x1"]))
    ctx = make_ctx(df.iloc[:150], df.iloc[150:], target="y", prediction_column="score")
    res = run_check(get_check(check_id), ctx)
    assert res.status == Status.SKIPPED and "model" in res.summary


def test_sample_review_explanations(sample_ctx):
    """The bundled sample: the planted post-outcome column dominates SHAP and permutation."""
    shap_res = _run("explanations.shap", sample_ctx)
    assert shap_res.metrics["top_features"][0] == "collections_contacts"
    assert shap_res.metrics["rows_explained"] == len(sample_ctx.test)
    assert "collections_contacts" in shap_res.metrics["dominant_features"]
    # a dominant column the leakage check fails as post-outcome still warns, in both methods
    if shap_res.metrics["importance_share"]["collections_contacts"] > 0.5:
        assert shap_res.status == Status.WARN
    perm = _run("explanations.permutation", sample_ctx)
    assert list(perm.metrics["importances"])[0] == "collections_contacts"
    assert perm.status == Status.WARN
