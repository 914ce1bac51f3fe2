"""SHAP of XGBoost, LightGBM and CatBoost model files: the exact tree path, checked two ways.

1. Against each library's own contributions computed on the in-memory model the file was
   saved from (XGBoost ``pred_contribs``, LightGBM ``pred_contrib``, CatBoost
   ``get_feature_importance(type='ShapValues')``): same rows, same class, to 1e-6.
2. Against the definition: path-dependent Shapley values by enumerating every coalition
   of features over the trees read from the library's own tree dump
   (``trees_to_dataframe``), value of a coalition = the cover-weighted expectation over
   the branches of the features outside it. Written here from the definition; it shares
   no code with shap or the libraries' SHAP.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from test_model_formats import (
    FEATURES,
    fit_catboost,
    fit_lightgbm,
    fit_xgboost,
    save,
    split,
    with_categories,
)

from readiness import explain as X
from readiness.inputs import Roles, prepare_review

SUFFIX = {"xgboost": ".json", "lightgbm": ".txt", "catboost": ".cbm"}
FIT = {"xgboost": fit_xgboost, "lightgbm": fit_lightgbm, "catboost": fit_catboost}


@pytest.fixture(autouse=True)
def _fresh_explainers():
    X.clear_cache()
    yield
    X.clear_cache()


def _library_contributions(library: str, model, frame: pd.DataFrame) -> np.ndarray:
    """(n, C or 1, k + 1): contributions then the bias, as the library itself computes them."""
    if library == "xgboost":
        import xgboost as xgb

        dm = xgb.DMatrix(with_categories(frame[FEATURES]), enable_categorical=True)
        out = model.get_booster().predict(dm, pred_contribs=True)
    elif library == "lightgbm":
        out = model.predict(with_categories(frame[FEATURES]), pred_contrib=True)
        k = len(FEATURES) + 1
        out = out.reshape(len(frame), -1, k)
    else:
        import catboost as cb

        out = model.get_feature_importance(cb.Pool(frame[FEATURES], cat_features=["region"]), type="ShapValues")
    out = np.asarray(out, dtype=float)
    return out if out.ndim == 3 else out[:, None, :]


def _review(library, task, tmp_path):
    train, test = split(task)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    model, _ = FIT[library](task, train)
    save(library, model, tmp_path / f"m{SUFFIX[library]}")
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                         model=tmp_path / f"m{SUFFIX[library]}", sandbox=False)
    return ctx, model, test


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("library", list(SUFFIX))
def test_tree_shap_of_a_model_file_equals_the_librarys_own_contributions(library, task, tmp_path):
    pytest.importorskip(library)
    ctx, model, test = _review(library, task, tmp_path)
    info = X.explainer_info(ctx)
    assert info["explainer"] == "tree", info
    assert info["output_space"] == {"binary": "log-odds", "multiclass": "decision function",
                                     "regression": "prediction"}[task]
    rows = np.arange(0, len(test), 3)
    ours = X.shap_values(ctx, rows)
    assert ours.names == FEATURES
    theirs = _library_contributions(library, model, test.iloc[rows])
    if task == "multiclass":  # the predicted class of each row
        cls = np.asarray(model.predict(with_categories(test[FEATURES]) if library != "catboost" else test[FEATURES]))
        cls = cls.reshape(-1).astype(int)[rows]
        theirs = theirs[np.arange(len(rows)), cls]
    else:
        theirs = theirs[:, 0]
    np.testing.assert_allclose(ours.values, theirs[:, :-1], atol=1e-6)
    np.testing.assert_allclose(ours.base, theirs[:, -1], atol=1e-6)


def test_global_shap_of_a_model_file_explains_the_full_sample_quickly(tmp_path):
    """The fast path explains every holdout row (up to 2,000), not the model-agnostic handful."""
    pytest.importorskip("lightgbm")
    ctx, _, test = _review("lightgbm", "binary", tmp_path)
    g = X.global_shap(ctx)
    assert g["rows_explained"] == len(test) and not g["stopped_by_budget"]
    assert g["background_rows"] is None


# --- the definition, enumerated ----------------------------------------------------------------


def _xgb_trees(booster) -> list[dict]:
    df = booster.trees_to_dataframe()
    trees = []
    for _, t in df.groupby("Tree"):
        nodes = {}
        for r in t.itertuples():
            leaf = r.Feature == "Leaf"
            nodes[r.ID] = {"leaf": leaf, "value": r.Gain, "cover": r.Cover, "feature": None if leaf else r.Feature,
                           "threshold": r.Split, "left": r.Yes, "right": r.No, "missing": r.Missing,
                           "goes_left": lambda x, thr: np.float32(x) < np.float32(thr)}
        trees.append({"root": f"{int(t.Tree.iloc[0])}-0", "nodes": nodes})
    return trees


def _lgb_trees(booster) -> list[dict]:
    df = booster.trees_to_dataframe()
    trees = []
    for _, t in df.groupby("tree_index"):
        nodes = {}
        for r in t.itertuples():
            leaf = pd.isna(r.split_feature)
            nodes[r.node_index] = {"leaf": leaf, "value": r.value, "cover": r.count,
                                   "feature": None if leaf else r.split_feature, "threshold": r.threshold,
                                   "left": r.left_child, "right": r.right_child, "missing": r.left_child,
                                   "goes_left": lambda x, thr: x <= thr}
        root = t.loc[t.node_depth == 1, "node_index"].iloc[0]
        trees.append({"root": root, "nodes": nodes})
    return trees


def _expected(tree: dict, node_id, x: dict, known: set) -> float:
    """E[f(x) | the features in ``known``]: follow x on known features, average by cover elsewhere."""
    node = tree["nodes"][node_id]
    if node["leaf"]:
        return float(node["value"])
    if node["feature"] in known:
        left = node["goes_left"](x[node["feature"]], node["threshold"])
        return _expected(tree, node["left"] if left else node["right"], x, known)
    a, b = tree["nodes"][node["left"]], tree["nodes"][node["right"]]
    return (a["cover"] * _expected(tree, node["left"], x, known)
            + b["cover"] * _expected(tree, node["right"], x, known)) / (a["cover"] + b["cover"])


def _shapley_by_enumeration(trees: list[dict], x: dict, features: list[str]) -> np.ndarray:
    p = len(features)

    def v(known):
        return sum(_expected(t, t["root"], x, set(known)) for t in trees)

    phi = np.zeros(p)
    for j, f in enumerate(features):
        others = [g for g in features if g != f]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                phi[j] += weight * (v(subset + (f,)) - v(subset))
    return phi


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_tree_shap_of_a_model_file_equals_shapley_values_enumerated_from_its_trees(library, tmp_path):
    """Numeric features (the enumeration follows numeric splits): four features, 16 coalitions per row."""
    lib = pytest.importorskip(library)
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"a": rng.normal(size=n).round(3), "b": rng.normal(size=n).round(3),
                       "c": rng.uniform(0, 10, n).round(2), "d": rng.integers(0, 5, n).astype(float)})
    z = df.a * 1.5 - df.b + (df.c > 5) * df.a + 0.3 * df.d + rng.normal(0, 0.7, n)
    df["y"] = (z > 0).astype(int)
    train, test = df.iloc[:300].reset_index(drop=True), df.iloc[300:].reset_index(drop=True)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    features = ["a", "b", "c", "d"]
    if library == "xgboost":
        model = lib.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1).fit(train[features], train["y"])
        model.save_model(str(tmp_path / "m.json"))
        trees, path = _xgb_trees(model.get_booster()), tmp_path / "m.json"
    else:
        model = lib.LGBMClassifier(n_estimators=15, num_leaves=6, min_child_samples=10, verbose=-1, n_jobs=1)
        model.fit(train[features], train["y"])
        model.booster_.save_model(str(tmp_path / "m.txt"))
        trees, path = _lgb_trees(model.booster_), tmp_path / "m.txt"
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                         model=path, sandbox=False)
    assert X.explainer_info(ctx)["explainer"] == "tree"
    rows = np.arange(0, len(test), 5)
    ours = X.shap_values(ctx, rows)
    expected = np.stack([_shapley_by_enumeration(trees, test.iloc[i][features].to_dict(), features) for i in rows])
    tol = 1e-5 if library == "xgboost" else 1e-9  # XGBoost's trees are float32
    np.testing.assert_allclose(ours.values, expected, atol=tol)
