"""XGBoost, LightGBM, CatBoost and ONNX model files: known answers against each library's own predict.

Every model is trained here, on data made here (nothing is downloaded), saved in its
library's file format, and loaded through ``load_model`` (the isolated child first). The
review's scores must equal the library's own prediction on the same rows (1e-6).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from readiness import errors as E
from readiness.inputs import Roles, load_model, prepare_review

N = 600


def make_frame(task: str, n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"income": rng.normal(50, 10, n).round(2), "debt": rng.normal(size=n).round(3),
                       "age": rng.integers(18, 80, n), "region": rng.choice(["north", "south", "east"], n)})
    z = (df.income - 50) / 10 - df.debt + (df.region == "north") * 0.8 + rng.normal(0, 0.5, n)
    if task == "binary":
        df["y"] = (z > 0).astype(int)
    elif task == "multiclass":
        df["y"] = np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))
    else:
        df["y"] = (z * 10 + 100).round(3)
    return df


def split(task: str):
    df = make_frame(task)
    return df.iloc[: N // 2].reset_index(drop=True), df.iloc[N // 2:].reset_index(drop=True)


def with_categories(X: pd.DataFrame) -> pd.DataFrame:
    X = X.copy()
    X["region"] = X["region"].astype("category")
    return X


FEATURES = ["income", "debt", "age", "region"]


def fit_xgboost(task, train):
    xgb = pytest.importorskip("xgboost")
    kind = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    model = kind(n_estimators=20, max_depth=3, enable_categorical=True, tree_method="hist", n_jobs=1)
    model.fit(with_categories(train[FEATURES]), train["y"])
    return model, with_categories


def fit_lightgbm(task, train):
    lgb = pytest.importorskip("lightgbm")
    kind = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    model = kind(n_estimators=20, num_leaves=7, min_child_samples=5, verbose=-1, n_jobs=1)
    model.fit(with_categories(train[FEATURES]), train["y"])
    return model, with_categories


def fit_catboost(task, train):
    cb = pytest.importorskip("catboost")
    kind = cb.CatBoostRegressor if task == "regression" else cb.CatBoostClassifier
    model = kind(iterations=20, depth=3, verbose=0, thread_count=1, cat_features=["region"], allow_writing_files=False)
    model.fit(train[FEATURES], train["y"])
    return model, lambda X: X


def fit_onnx(task, train):
    """A scikit-learn pipeline exported with one ONNX input per column (the region as a string input)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([("num", StandardScaler(), ["income", "debt", "age"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])])
    final = GradientBoostingRegressor(n_estimators=20, max_depth=3) if task == "regression" else LogisticRegression()
    model = make_pipeline(pre, final).fit(train[FEATURES], train["y"])
    types = [("income", FloatTensorType([None, 1])), ("debt", FloatTensorType([None, 1])),
             ("age", Int64TensorType([None, 1])), ("region", StringTensorType([None, 1]))]
    options = None if task == "regression" else {id(model): {"zipmap": task == "binary"}}
    onx = to_onnx(model, initial_types=types, options=options, target_opset=17)
    return (model, onx.SerializeToString()), lambda X: X


def save(library: str, model, path) -> bytes:
    if library == "onnx":
        path.write_bytes(model[1])
    elif library == "xgboost":
        model.save_model(str(path))
    elif library == "lightgbm":
        model.booster_.save_model(str(path))
    else:
        model.save_model(str(path))
    return path.read_bytes()


FITTERS = {"xgboost": (fit_xgboost, ".json"), "xgboost-ubj": (fit_xgboost, ".ubj"),
           "lightgbm": (fit_lightgbm, ".txt"), "catboost": (fit_catboost, ".cbm"), "onnx": (fit_onnx, ".onnx")}


def library_scores(library, model, prepare, task, frame):
    """The library's own prediction (its in-memory model), in the review's score convention."""
    estimator = model[0] if library == "onnx" else model
    X = prepare(frame[FEATURES])
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=float)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    return proba[:, 1] if task == "binary" else proba


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    files = {}
    for task in ("binary", "multiclass", "regression"):
        train, test = split(task)
        train.to_csv(root / f"{task}_train.csv", index=False)
        test.to_csv(root / f"{task}_test.csv", index=False)
        files[task] = (root / f"{task}_train.csv", root / f"{task}_test.csv", train, test)
    return root, files


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("fmt", list(FITTERS))
def test_review_scores_equal_the_library_predict(fmt, task, data_files):
    root, files = data_files
    train_path, test_path, train, test = files[task]
    fit, suffix = FITTERS[fmt]
    library = fmt.split("-")[0]
    model, prepare = fit(task, train)
    path = root / f"{fmt}_{task}{suffix}"
    save(library, model, path)
    ctx = prepare_review(train=train_path, test=test_path, roles=Roles(target="y"), model=path)
    assert ctx.task == task
    assert ctx.model_info.format == library
    assert set(ctx.features) == set(FEATURES)
    expected = library_scores(library, model, prepare, task, test)
    got = np.asarray(ctx.test_scores, dtype=float)
    assert got.shape == expected.shape
    # ONNX graphs compute in float32: a relative 1e-6 on values near 100
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=1e-6 if library == "onnx" else 0)
    if task != "regression":
        assert [str(c) for c in ctx.classes] == [str(c) for c in sorted(train["y"].unique())]
        np.testing.assert_array_equal(ctx.model.predict(test).astype(str),
                                      np.asarray((model[0] if library == "onnx" else model).predict(
                                          prepare(test[FEATURES]))).reshape(-1).astype(str))


def test_lightgbm_categories_follow_the_stored_ones_not_the_data_order(data_files):
    """The holdout's region values in another category order still get the model's own codes."""
    root, files = data_files
    _, _, train, test = files["binary"]
    model, prepare = fit_lightgbm("binary", train)
    path = root / "order.txt"
    save("lightgbm", model, path)
    loaded = load_model(path)
    assert loaded.estimator.categorical == {"region": ["east", "north", "south"]}
    shuffled = test[FEATURES].iloc[::-1].reset_index(drop=True)  # first rows' regions change which value comes first
    shuffled["region"] = pd.Categorical(shuffled["region"], categories=["south", "north", "east"])
    ours = loaded.estimator.predict_proba(shuffled)[:, 1]
    np.testing.assert_allclose(ours, model.predict_proba(prepare(shuffled.astype({"region": str})))[:, 1], atol=1e-12)


def test_string_labels_are_the_targets_sorted_values_with_a_note(data_files, tmp_path):
    """A booster trained on 0/1 codes of 'bad'/'good' (LabelEncoder order): the classes are named, and said so."""
    xgb = pytest.importorskip("xgboost")
    _, _, train, test = data_files[1]["binary"]
    train, test = train.copy(), test.copy()
    for frame in (train, test):
        frame["y"] = np.where(frame["y"] == 1, "good", "bad")
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    model = xgb.XGBClassifier(n_estimators=10, enable_categorical=True, n_jobs=1)
    model.fit(with_categories(train[FEATURES]), (train["y"] == "good").astype(int))
    model.save_model(str(tmp_path / "m.json"))
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                         model=tmp_path / "m.json")
    assert ctx.classes == ["bad", "good"] and ctx.positive_label == "good"
    assert any("stores no class labels" in n for n in ctx.notes)
    np.testing.assert_allclose(ctx.test_scores, model.predict_proba(with_categories(test[FEATURES]))[:, 1], atol=1e-6)


def test_missing_and_extra_columns_are_named(data_files, tmp_path):
    pytest.importorskip("lightgbm")
    _, _, train, test = data_files[1]["binary"]
    model, _ = fit_lightgbm("binary", train)
    save("lightgbm", model, tmp_path / "m.txt")
    for name, frame in (("train.csv", train), ("test.csv", test)):
        frame.rename(columns={"debt": "liabilities"}).to_csv(tmp_path / name, index=False)
    with pytest.raises(E.ModelError) as err:
        prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                       model=tmp_path / "m.txt")
    assert "missing ['debt']" in str(err.value) and "['liabilities']" in str(err.value)


def test_xgboost_categorical_without_stored_categories_names_the_column(tmp_path):
    """A model whose file marks a feature categorical but carries no categories: refused naming it."""
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, 200)
    dm = xgb.DMatrix(np.column_stack([rng.normal(size=200), codes]), label=codes == 1,
                     feature_names=["x", "kind"], feature_types=["q", "c"], enable_categorical=True)
    booster = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "nthread": 1}, dm, 5)
    booster.save_model(str(tmp_path / "m.json"))
    with pytest.raises(E.ModelError) as err:
        load_model(tmp_path / "m.json")
    assert str(err.value) == E.MODEL_CATEGORIES_NOT_STORED.format(column="kind", name="m.json")


CORRUPT_LIBRARIES = {"json": "xgboost", "ubj": "xgboost", "txt": "lightgbm", "lgb": "lightgbm", "cbm": "catboost",
                     "onnx": "onnxruntime"}


def _valid_file(suffix: str, tmp_path) -> bytes:
    train, _ = split("binary")
    library = CORRUPT_LIBRARIES[suffix]
    fit = {"xgboost": fit_xgboost, "lightgbm": fit_lightgbm, "catboost": fit_catboost, "onnxruntime": fit_onnx}[library]
    model, _ = fit("binary", train)
    return save({"onnxruntime": "onnx"}.get(library, library), model, tmp_path / f"valid.{suffix}")


@pytest.mark.parametrize("suffix", list(CORRUPT_LIBRARIES))
def test_garbage_and_truncated_files_are_one_line_model_errors(suffix, tmp_path):
    pytest.importorskip(CORRUPT_LIBRARIES[suffix])
    good = _valid_file(suffix, tmp_path)
    rng = np.random.default_rng(3)
    cases = {"garbage": rng.bytes(4000), "truncated": good[: len(good) // 2], "empty-ish": good[:16],
             "flipped": bytes(b ^ 0x5A if i % 7 == 3 else b for i, b in enumerate(good))}
    for case, data in cases.items():
        with pytest.raises(E.ModelError) as err:
            load_model(data, name=f"{case}.{suffix}")
        message = str(err.value)
        assert "\n" not in message and f"{case}.{suffix}" in message, (case, message)


def test_missing_library_names_the_extra(monkeypatch, tmp_path):
    pytest.importorskip("lightgbm")
    train, _ = split("binary")
    model, _ = fit_lightgbm("binary", train)
    data = save("lightgbm", model, tmp_path / "m.txt")
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # as if not installed
    with pytest.raises(E.ModelError) as err:
        load_model(data, name="m.txt", sandbox=False)
    assert str(err.value) == E.MODEL_LIBRARY_MISSING.format(name="m.txt", library="LightGBM", extra="lightgbm",
                                                            package="lightgbm")


def test_onnx_custom_operators_and_external_data_are_refused(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
    custom = helper.make_model(helper.make_graph([helper.make_node("Evil", ["x"], ["y"], domain="my.ops")], "g", [x], [y]),
                               opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("my.ops", 1)])
    with pytest.raises(E.ModelError) as err:
        load_model(custom.SerializeToString(), name="custom.onnx")
    assert str(err.value) == E.ONNX_DOMAIN.format(name="custom.onnx", domain="my.ops")
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 1], [2.0])
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("float_data")
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    external = helper.make_model(helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y],
                                                   initializer=[weight]), opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(E.ModelError) as err:
        load_model(external.SerializeToString(),
                   name="external.onnx")
    assert str(err.value) == E.ONNX_EXTERNAL_DATA.format(name="external.onnx", location="../../etc/passwd")


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_skops_pipeline_wrapping_a_booster_loads(library, tmp_path, data_files):
    """A scikit-learn pipeline around XGBClassifier / LGBMClassifier / CatBoostClassifier saved with skops."""
    pytest.importorskip(library)
    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, _, train, test = data_files[1]["binary"]
    num = ["income", "debt", "age"]
    estimator = {"xgboost": lambda: __import__("xgboost").XGBClassifier(n_estimators=10, n_jobs=1),
                 "lightgbm": lambda: __import__("lightgbm").LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1),
                 "catboost": lambda: __import__("catboost").CatBoostClassifier(iterations=10, verbose=0,
                                                                             thread_count=1,
                                                                             allow_writing_files=False)}[library]()
    pipe = make_pipeline(StandardScaler(), estimator).fit(train[num], train["y"])
    loaded = load_model(sio.dumps(pipe), name="pipe.skops")
    np.testing.assert_allclose(loaded.estimator.predict_proba(test[num]), pipe.predict_proba(test[num]), atol=1e-12)


def _cli(*args):
    import subprocess

    return subprocess.run([sys.executable, "-m", "readiness.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=900)


CLI_CASES = [pytest.param("xgboost", ".json", id="xgboost")] + [
    pytest.param(fmt, suffix, id=fmt, marks=pytest.mark.slow)
    for fmt, suffix in (("lightgbm", ".txt"), ("catboost", ".cbm"), ("onnx", ".onnx"), ("xgboost", ".ubj"))]


@pytest.mark.parametrize(("library", "suffix"), CLI_CASES)
def test_cli_reviews_a_model_of_each_format(library, suffix, data_files, tmp_path):
    import json

    _, files = data_files
    train_path, test_path, train, test = files["binary"]
    fit = {"xgboost": fit_xgboost, "lightgbm": fit_lightgbm, "catboost": fit_catboost, "onnx": fit_onnx}[library]
    model, prepare = fit("binary", train)
    save(library, model, tmp_path / f"m{suffix}")
    out = tmp_path / "review.json"
    proc = _cli("review", "--train", train_path, "--test", test_path, "--target", "y", "--model", tmp_path / f"m{suffix}",
                "--positive-label", "1", "--json", out, "--quiet")
    assert proc.returncode in (0, 1), proc.stderr  # 1: the review found a failing check; the review itself ran
    report = json.loads(out.read_text())
    assert report["model"]["format"] == library and report["model"]["kind"] == "model"
    assert report["model"]["hyperparameters"]
    holdout = next(c for c in report["checks"] if c["id"] == "evaluation.holdout")
    assert holdout["status"] in ("pass", "warn", "fail")
    from sklearn.metrics import roc_auc_score

    expected = roc_auc_score(test["y"], library_scores(library, model, prepare, "binary", test))
    assert holdout["metrics"]["roc_auc"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
@pytest.mark.parametrize("suffix", [".json", ".ubj", ".txt", ".lgb", ".cbm", ".onnx"])
def test_cli_refuses_a_garbage_file_of_each_format_with_one_line(suffix, data_files, tmp_path):
    _, files = data_files
    train_path, test_path, _, _ = files["binary"]
    (tmp_path / f"bad{suffix}").write_bytes(np.random.default_rng(5).bytes(3000))
    proc = _cli("review", "--train", train_path, "--test", test_path, "--target", "y", "--model",
                tmp_path / f"bad{suffix}", "--quiet")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and f"bad{suffix}" in lines[0], proc.stderr


def test_hyperparameters_and_permutation_checks_run_on_a_model_file(data_files, tmp_path):
    """A model file's stored parameters are recorded without a 'defaults' false alarm; permutation importance runs."""
    pytest.importorskip("lightgbm")
    from readiness.review import run_review

    _, files = data_files
    train_path, test_path, train, _ = files["binary"]
    model, _ = fit_lightgbm("binary", train)
    save("lightgbm", model, tmp_path / "m.txt")
    ctx = prepare_review(train=train_path, test=test_path, roles=Roles(target="y"), model=tmp_path / "m.txt")
    report = run_review(ctx, checks=["model.hyperparameters", "explanations.permutation"])
    by_id = {c.id: c for c in report.checks}
    hyper = by_id["model.hyperparameters"]
    assert hyper.status == "pass" and hyper.metrics["all_defaults"] is False, hyper.summary
    assert "LightGBM model (binary)" in hyper.summary
    assert by_id["explanations.permutation"].status in ("pass", "warn"), by_id["explanations.permutation"].summary


DISTRIBUTIONS = {"xgboost": ["xgboost"], "lightgbm": ["lightgbm"], "catboost": ["catboost"],
                 "onnx": ["onnxruntime", "onnx"]}


@pytest.mark.parametrize("library", list(DISTRIBUTIONS))
def test_the_model_librarys_version_is_in_the_report_and_the_pdf(library, data_files, tmp_path):
    """A score can change with the library that computes it: its version is recorded (JSON) and printed (PDF)."""
    pytest.importorskip({"onnx": "onnxruntime"}.get(library, library))
    from importlib import metadata

    from test_report import _flat, _text

    from readiness.report.canonical import new_record, record_bytes
    from readiness.report.pdf import build_pdf
    from readiness.review import run_review

    _, files = data_files
    train_path, test_path, train, _ = files["binary"]
    fit, suffix = {"xgboost": (fit_xgboost, ".json"), "lightgbm": (fit_lightgbm, ".txt"),
                   "catboost": (fit_catboost, ".cbm"), "onnx": (fit_onnx, ".onnx")}[library]
    model, _ = fit("binary", train)
    save(library, model, tmp_path / f"m{suffix}")
    ctx = prepare_review(train=train_path, test=test_path, roles=Roles(target="y"), model=tmp_path / f"m{suffix}")
    report = run_review(ctx, checks=["model.hyperparameters"])
    for dist in DISTRIBUTIONS[library]:
        assert report.versions[dist] == metadata.version(dist)
    others = {d for ds in DISTRIBUTIONS.values() for d in ds} - set(DISTRIBUTIONS[library])
    assert not others & set(report.versions), report.versions  # only the libraries this review used
    rec = new_record(report, project="p", model_version="1", model_name="m", reviewers=[], review_digest=ctx.digest)
    data = record_bytes(rec)
    built = build_pdf(rec, data)
    text = _flat(_text(built.pdf))
    for dist in DISTRIBUTIONS[library]:
        assert f"{dist} {metadata.version(dist)}" in text


def test_a_skops_pipeline_around_a_booster_records_the_boosters_version(data_files):
    pytest.importorskip("catboost")
    from importlib import metadata

    from helpers import fitted
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from readiness.review import run_review

    _, files = data_files
    train_path, test_path, train, _ = files["binary"]
    num = ["income", "debt", "age"]
    pipe = make_pipeline(StandardScaler(), __import__("catboost").CatBoostClassifier(
        iterations=10, verbose=0, thread_count=1, allow_writing_files=False)).fit(train[num], train["y"])
    ctx = prepare_review(train=train_path, test=test_path, roles=Roles(target="y", exclude=["region"]),
                         model=fitted(pipe))
    assert run_review(ctx, checks=[]).versions["catboost"] == metadata.version("catboost")


def test_an_onnx_logistic_regression_says_it_is_one_and_a_tree_does_not():
    """The baselines call a tie with a simple baseline expected when the model is itself a logistic regression;
    an ONNX file of one says so through its graph (one LinearClassifier, logistic link) as the .skops object does
    through its class. A decision tree's graph (TreeEnsembleClassifier) names no kind."""
    pytest.importorskip("skl2onnx")
    pytest.importorskip("onnxruntime")
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    kinds = {}
    for name, model in [("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]:
        model.fit(X, y)
        onx = to_onnx(model, initial_types=[("X", FloatTensorType([None, 3]))],
                      options={id(model): {"zipmap": False}}, target_opset=17)
        kinds[name] = load_model(onx.SerializeToString(), name=f"{name}.onnx", sandbox=False).estimator.readiness_kind
    assert kinds == {"lr": "logistic_regression", "tree": None}
