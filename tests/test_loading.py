"""Loading tables and models, and every refusal path, with the user-facing messages."""

import io
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from helpers import csv_bytes, make_ctx, table
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from readiness import errors as E
from readiness.inputs import (
    Roles,
    build_context,
    load_model,
    load_table,
    model_digest,
    prepare_review,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def small_frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "c": rng.choice(["a", "b"], n), "y": (x > 0).astype(int)})


# --- tables ---------------------------------------------------------------------------------

def test_csv_tsv_semicolon_and_parquet_load_the_same_frame(tmp_path):
    df = small_frame()
    (tmp_path / "a.csv").write_bytes(csv_bytes(df))
    (tmp_path / "a.tsv").write_text(df.to_csv(index=False, sep="\t"))
    (tmp_path / "b.csv").write_text(df.to_csv(index=False, sep=";"))
    df.to_parquet(tmp_path / "a.parquet")
    for name in ["a.csv", "a.tsv", "b.csv", "a.parquet"]:
        t = load_table(tmp_path / name)
        assert list(t.frame.columns) == ["x", "c", "y"], name
        assert np.allclose(t.frame["x"], df["x"]), name
        assert len(t.sha256) == 64


def test_sha256_is_of_the_file_bytes():
    import hashlib

    data = (SAMPLE / "credit_train.csv").read_bytes()
    assert load_table(data, name="t.csv").sha256 == hashlib.sha256(data).hexdigest()


def test_question_marks_in_numeric_column_become_missing_and_are_recorded():
    rows = ["1,x", "?,y", "3,z", "4,w", "N/A,v", "6,u", "7,t", "?,s", "9,r", "10,q"]
    t = load_table(("a,b\n" + "\n".join(rows) + "\n").encode(), name="t.csv")
    assert pd.api.types.is_numeric_dtype(t.frame["a"])
    assert t.frame["a"].isna().sum() == 3  # pandas reads N/A as missing itself; '?' is repaired
    assert t.na_tokens == {"a": {"?": 2}}
    assert t.frame["b"].tolist()[:3] == ["x", "y", "z"]


def test_text_column_with_words_is_not_coerced():
    t = load_table(b"a\n1\n2\nthree\n", name="t.csv")
    assert not pd.api.types.is_numeric_dtype(t.frame["a"])
    assert t.na_tokens == {}


def test_latin1_text_is_read():
    t = load_table("name,y\nMüller,1\nZoë,0\n".encode("latin-1"), name="t.csv")
    assert t.frame["name"].tolist() == ["Müller", "Zoë"]
    assert t.encoding == "latin-1"


@pytest.mark.parametrize("data,template", [
    (b"", E.FILE_EMPTY),
    (b"   \n", E.FILE_EMPTY),
    (b"a,b,y\n", E.FILE_EMPTY),
    (bytes(range(256)) * 10, E.FILE_ENCODING),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", E.FILE_ENCODING),
])
def test_bad_tables_are_refused_with_a_clear_message(data, template):
    with pytest.raises(E.InputFileError) as err:
        load_table(data, role="train", name="t.csv")
    expected = template.format(role="Train", name="t.csv")
    assert str(err.value) == expected
    assert "\n" not in str(err.value)


def test_unsupported_suffix_and_missing_file():
    with pytest.raises(E.InputFileError, match="not a supported table"):
        load_table(b"a,b\n1,2\n", name="t.xlsx")
    with pytest.raises(E.InputFileError, match="file not found"):
        load_table("/nonexistent/x.csv")


def test_corrupt_parquet():
    with pytest.raises(E.InputFileError, match="could not be parsed"):
        load_table(b"PAR1garbage", name="t.parquet")


# --- models ---------------------------------------------------------------------------------

def test_sample_skops_pipeline_loads():
    m = load_model(SAMPLE / "credit_model.skops")
    assert m.format == "skops" and not m.trusted_pickle
    assert hasattr(m.estimator, "predict_proba")


@pytest.mark.parametrize("est", [HistGradientBoostingClassifier(max_iter=5), LogisticRegression()])
def test_common_models_round_trip_through_skops(est):
    df = small_frame()
    est.fit(df[["x"]], df["y"])
    m = load_model(sio.dumps(est), name="m.skops")
    assert np.array_equal(m.estimator.predict(df[["x"]]), est.predict(df[["x"]]))


class _Evil:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "executed"))


def test_untrusted_pickle_is_refused_before_any_byte_is_unpickled(tmp_path, monkeypatch):
    marker = tmp_path / "marker.txt"
    data = pickle.dumps(_Evil(str(marker)))
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(1))
    for name in ["m.pkl", "m.joblib", "m.pickle"]:
        with pytest.raises(E.UntrustedModelError) as err:
            load_model(data, name=name)
        assert model_digest(data) in str(err.value)
        assert "--trust-model" in str(err.value)
    with pytest.raises(E.UntrustedModelError):  # a digest of another file is not trust in this one
        load_model(data, name="m.pkl", trusted_sha256="0" * 64)
    assert not marker.exists()
    assert calls == []


def test_trusted_pickle_loads_only_with_the_exact_digest():
    df = small_frame()
    est = LogisticRegression().fit(df[["x"]], df["y"])
    data = pickle.dumps(est)
    m = load_model(data, name="m.pkl", trusted_sha256=model_digest(data))
    assert m.trusted_pickle and m.format == "pickle"
    buf = io.BytesIO()
    import joblib

    joblib.dump(est, buf)
    jb = buf.getvalue()
    assert load_model(jb, name="m.joblib", trusted_sha256=model_digest(jb)).trusted_pickle


def test_skops_file_with_types_outside_the_allow_list_is_refused_naming_them():
    import functools

    data = sio.dumps({"f": functools.partial(print, "x")})
    with pytest.raises(E.UntrustedModelError) as err:
        load_model(data, name="m.skops")
    assert "functools.partial" in str(err.value)


def test_corrupt_skops_and_unknown_format():
    with pytest.raises(E.ModelError) as err:
        load_model(b"not a zip", name="m.skops")
    assert str(err.value) == "m.skops is not a skops file (it is not a zip archive); save the model with skops.io.dump."
    good = sio.dumps(LogisticRegression().fit(small_frame()[["x"]], small_frame()["y"]))
    broken = good.replace(b"schema.json", b"schema.jsox")  # a zip, but not one skops wrote
    with pytest.raises(E.ModelError, match="no schema.json"):
        load_model(broken, name="m.skops")
    with pytest.raises(E.ModelError, match="unsupported format"):
        load_model(b"x", name="m.h5")


def test_skops_holding_no_estimator_is_refused():
    with pytest.raises(E.ModelError, match="not a fitted model"):
        load_model(sio.dumps({"a": 1}), name="m.skops")


# --- roles and context ------------------------------------------------------------------------

def test_model_columns_mismatch_lists_missing_and_extra():
    df = small_frame()
    est = LogisticRegression().fit(df[["x"]].rename(columns={"x": "income"}), df["y"])
    with pytest.raises(E.ModelError) as err:
        make_ctx(df, df, target="y", model=est)
    assert "missing ['income']" in str(err.value)
    assert "'x'" in str(err.value) and "'c'" in str(err.value)


def test_one_class_target_is_refused():
    df = small_frame().assign(y=1)
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, df, target="y", prediction_column="x")
    assert "only one value" in str(err.value)


def test_missing_target_column_names_columns():
    df = small_frame()
    with pytest.raises(E.RoleError, match="Target column 'label' is not in the training data. Columns are: x, c, y"):
        make_ctx(df, df, target="label", prediction_column="x")


def test_prediction_column_must_be_numeric():
    df = small_frame()
    with pytest.raises(E.RoleError, match="must hold numeric scores"):
        make_ctx(df, df, target="y", prediction_column="c")


def test_positive_label_must_exist():
    df = small_frame()
    with pytest.raises(E.RoleError, match="Positive label 'yes' is not a value"):
        make_ctx(df, df, target="y", prediction_column="x", positive_label="yes")


def test_positive_label_given_as_text_matches_numeric_labels():
    df = small_frame()
    ctx = make_ctx(df, df, target="y", prediction_column="x", positive_label="0")
    assert ctx.positive_label == 0
    assert ctx.y_test_binary.sum() == (df["y"] == 0).sum()


def test_no_model_and_no_predictions_is_a_data_review():
    df = small_frame()
    ctx = make_ctx(df, df, target="y")
    assert ctx.data_only and ctx.model is None and ctx.model_info.kind == "none"


def test_unknown_sensitive_column():
    df = small_frame()
    with pytest.raises(E.RoleError, match="Sensitive column 'sex' is not in the training data"):
        make_ctx(df, df, target="y", prediction_column="x", sensitive=["sex"])


def test_rows_without_target_are_dropped_and_counted():
    df = small_frame()
    test = df.copy()
    test.loc[:4, "y"] = np.nan
    ctx = make_ctx(df, test, target="y", prediction_column="x")
    assert len(ctx.test) == len(df) - 5
    assert ctx.unlabelled == {"train": 0, "test": 5}


def test_split_column_makes_train_and_test():
    df = small_frame().assign(split=["train"] * 45 + ["test"] * 15)
    ctx = build_context(train=table(df), test=None, roles=Roles(target="y", prediction_column="x", split_column="split"))
    assert (len(ctx.train), len(ctx.test)) == (45, 15)
    assert "split" not in ctx.train.columns


def test_split_column_with_unknown_values():
    df = small_frame().assign(split="both")
    with pytest.raises(E.RoleError, match="must mark rows as train or test"):
        build_context(train=table(df), test=None, roles=Roles(target="y", prediction_column="x", split_column="split"))


def test_task_detection():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=80)})
    df["y"] = df["x"] * 2.5 + rng.normal(size=80)
    reg = LinearRegression().fit(df[["x"]], df["y"])
    assert make_ctx(df, df, target="y", model=reg).task == "regression"
    df3 = df.assign(y=rng.choice(["a", "b", "c"], 80))
    clf = LogisticRegression().fit(df3[["x"]], df3["y"])
    ctx = make_ctx(df3, df3, target="y", model=clf)
    assert ctx.task == "multiclass" and ctx.classes == ["a", "b", "c"]
    assert ctx.test_scores.shape == (80, 3)


def test_binary_scores_follow_the_positive_label():
    df = small_frame()
    clf = LogisticRegression().fit(df[["x"]], df["y"])
    p1 = make_ctx(df, df, target="y", model=clf, positive_label=1).test_scores
    p0 = make_ctx(df, df, target="y", model=clf, positive_label=0).test_scores
    assert np.allclose(p1, clf.predict_proba(df[["x"]])[:, 1])
    assert np.allclose(p0, 1 - p1)


def test_prepare_review_from_paths_records_every_input_hash():
    import hashlib
    import json

    cfg = json.loads((SAMPLE / "sample_review.json").read_text())
    ctx = prepare_review(train=SAMPLE / cfg["train"], test=SAMPLE / cfg["test"], model=SAMPLE / cfg["model"],
                         roles=Roles(**cfg["roles"]))
    hashes = {f.role: f.sha256 for f in ctx.input_files}
    for role, key in [("train", "train"), ("test", "test"), ("model", "model")]:
        assert hashes[role] == hashlib.sha256((SAMPLE / cfg[key]).read_bytes()).hexdigest()


# --- duplicate column names (issue 9) ---------------------------------------------------------

@pytest.mark.parametrize("data,name,column", [
    (b"a,b,a\n1,2,3\n", "t.csv", "a"),
    (b"\n\nx\ty\tx\n1\t2\t3\n", "t.tsv", "x"),
    (b'"a,b";c;"a,b"\n1;2;3\n', "t.csv", "a,b"),
])
def test_duplicate_column_names_are_refused_from_the_header_itself(data, name, column):
    """pandas would silently rename the second one 'a.1'."""
    with pytest.raises(E.InputFileError) as err:
        load_table(data, role="train", name=name)
    assert str(err.value) == E.FILE_DUPLICATE_COLUMN.format(role="Train", name=name, column=column)


def test_names_that_only_look_like_pandas_renames_are_fine():
    assert list(load_table(b"a,a.1,b\n1,2,3\n", name="t.csv").frame.columns) == ["a", "a.1", "b"]


def test_duplicate_column_names_in_parquet_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"]), tmp_path / "d.parquet")
    with pytest.raises(E.InputFileError) as err:
        load_table(tmp_path / "d.parquet", role="test")
    assert str(err.value) == E.FILE_DUPLICATE_COLUMN.format(role="Test", name="d.parquet", column="a")


# --- holdout columns (issue 9 and 12) -------------------------------------------------------

def test_a_holdout_missing_a_training_column_is_refused_naming_the_holdouts_columns():
    df = small_frame().assign(score=lambda d: 1 / (1 + np.exp(-d["x"])))
    test = df.drop(columns=["c"]).assign(colour=1)
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, test, target="y", prediction_column="score")
    assert str(err.value) == E.HOLDOUT_COLUMNS.format(missing=["c"], extra=["colour"])
    ctx = make_ctx(df, df.assign(colour=1), target="y", prediction_column="score")  # extra columns alone are fine
    assert "colour" not in ctx.features


def test_a_holdout_missing_a_model_column_names_the_holdouts_columns_not_the_models():
    df = small_frame()
    est = LogisticRegression().fit(df[["x"]], df["y"])
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, df.rename(columns={"x": "x_new"}), target="y", model=est)
    assert str(err.value) == E.HOLDOUT_COLUMNS.format(missing=["x"], extra=["x_new"])


# --- the task: classes or a quantity (issue 9) ------------------------------------------------

def whole_numbers(n_values: int, n=600, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_values, n)
    return pd.DataFrame({"x": rng.normal(size=n), "y": y, "pred": y + rng.normal(size=n)})


def test_51_whole_numbers_with_a_prediction_column_are_a_regression_and_the_review_says_so():
    df = whole_numbers(51)
    assert df["y"].nunique() == 51
    ctx = make_ctx(df, df, target="y", prediction_column="pred")
    assert ctx.task == "regression"
    assert ctx.notes == [E.TASK_GUESSED_REGRESSION.format(target="y", n=51)]
    chosen = make_ctx(df, df, target="y", prediction_column="pred", task="regression")
    assert chosen.task == "regression" and chosen.notes == []
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, df, target="y", prediction_column="pred", task="multiclass")
    assert str(err.value) == E.PREDICTION_MULTICLASS.format(target="y", n=51)


def test_a_few_whole_numbers_with_a_prediction_column_can_be_reviewed_as_a_quantity():
    df = whole_numbers(5)
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, df, target="y", prediction_column="pred")
    assert str(err.value) == E.PREDICTION_MULTICLASS.format(target="y", n=5)
    ctx = make_ctx(df, df, target="y", prediction_column="pred", task="regression")
    assert ctx.task == "regression" and ctx.classes == []
    assert np.allclose(ctx.test_scores, df["pred"])
    with pytest.raises(E.RoleError, match="cannot be reviewed as binary"):
        make_ctx(df, df, target="y", prediction_column="pred", task="binary")


def test_a_chosen_task_must_fit_the_model_and_the_target():
    df = small_frame()
    clf = LogisticRegression().fit(df[["x"]], df["y"])
    assert make_ctx(df, df, target="y", model=clf, task="binary").task == "binary"
    with pytest.raises(E.RoleError) as err:
        make_ctx(df, df, target="y", model=clf, task="regression")
    assert str(err.value) == E.TASK_MODEL_MISMATCH.format(kind="a binary classification", task="regression")
    text = small_frame().assign(y=lambda d: np.where(d["y"] == 1, "yes", "no"), s=0.5)
    with pytest.raises(E.RoleError, match="is not numeric"):
        make_ctx(text, text, target="y", prediction_column="s", task="regression")


def test_the_cli_takes_the_task_and_prints_the_guess(tmp_path, capsys):
    from readiness.cli import main

    df = whole_numbers(51)
    df.to_csv(tmp_path / "d.csv", index=False)
    base = ["review", "--train", str(tmp_path / "d.csv"), "--test", str(tmp_path / "d.csv"), "--target", "y",
            "--prediction-column", "pred", "--json", str(tmp_path / "r.json"), "--no-history", "--check",
            "evaluation.holdout"]
    assert main(base) == 0
    assert f"readiness: note: {E.TASK_GUESSED_REGRESSION.format(target='y', n=51)}" in capsys.readouterr().err
    assert main([*base, "--task", "regression"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert main([*base, "--task", "multiclass"]) == 2
    assert capsys.readouterr().err.strip() == f"readiness: error: {E.PREDICTION_MULTICLASS.format(target='y', n=51)}"


def _repair_row_by_row(frame):
    """``_repair_numeric`` as it was before issue 15: every row converted and tested."""
    from readiness.inputs.tables import _is_missing_token

    repaired = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        values = s.dropna()
        if values.empty:
            continue
        as_text = values.astype(str)
        numeric = pd.to_numeric(as_text, errors="coerce")
        bad = as_text[numeric.isna()]
        if bad.empty or len(bad) > 0.5 * len(values) or not all(_is_missing_token(v) for v in bad.unique()):
            continue
        repaired[str(col)] = {str(k): int(v) for k, v in bad.value_counts().items()}
        frame[col] = pd.to_numeric(s.astype(object).where(~s.isin(bad.unique()), None), errors="coerce")
    return repaired


def test_numeric_repair_decided_on_distinct_values_equals_the_row_by_row_rule():
    """Issue 15: columns that plainly stay text are recognised from their distinct values; every
    decision and repair equals the row-by-row rule's."""
    from readiness.inputs.tables import _repair_numeric

    rng = np.random.default_rng(0)
    n = 3_000
    nums = rng.normal(size=n).round(3).astype(str)
    cols = {
        "amount_q": np.where(rng.random(n) < 0.05, "?", nums),  # repaired: '?' becomes missing
        "amount_tokens": np.where(rng.random(n) < 0.03, " NA ", np.where(rng.random(n) < 0.02, "n/a", nums)),
        "mostly_missing": np.where(rng.random(n) < 0.7, "?", nums),  # more than half: left alone
        "names": rng.choice(["alice", "bob", "carol"], n),
        "dates": pd.date_range("2020-01-01", periods=n, freq="h").astype(str),
        # a rare non-token word beyond the 64 most frequent values: no repair
        "rare_word": np.where(np.arange(n) == 7, "abc", np.where(rng.random(n) < 0.05, "?", nums)),
        "numbers_as_text": nums,  # no value fails: left as text, as before
        "with_none": pd.Series(np.where(rng.random(n) < 0.1, None, np.where(rng.random(n) < 0.05, "?", nums)),
                               dtype=object),
        "mixed_objects": pd.Series([1, "?", 2.5, True] * (n // 4), dtype=object),
    }
    for dtype in ("object", "string[pyarrow]"):
        frame = pd.DataFrame({k: pd.Series(v, dtype=dtype if k != "mixed_objects" else object)
                              for k, v in cols.items()})
        expected_frame = frame.copy()
        expected = _repair_row_by_row(expected_frame)
        assert _repair_numeric(frame) == expected
        pd.testing.assert_frame_equal(frame, expected_frame)
        assert set(expected) >= {"amount_q", "amount_tokens"}
        assert not set(expected) & {"mostly_missing", "names", "dates", "rare_word", "numbers_as_text"}


def test_a_wide_table_is_one_block_per_type_with_the_same_values(tmp_path):
    """Issue 15 / 9: the CSV reader keeps one block per column; the loaded table is consolidated
    (copies and scoring of a wide table stay cheap), its values exactly pandas' own reading."""
    from readiness.inputs import load_table

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(50, 300)), columns=[f"f{i}" for i in range(300)])
    frame["kind"] = rng.choice(["a", "b"], 50)
    frame["count"] = rng.integers(0, 9, 50)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    loaded = load_table(path).frame
    assert loaded._mgr.nblocks <= 3
    pd.testing.assert_frame_equal(loaded, pd.read_csv(path, low_memory=False))


def test_a_wide_plain_model_scores_as_an_array_with_the_same_answers():
    """Issue 9 / 15: at 200 columns or more a plain scikit-learn model gets the frame's values as
    one array (its per-column type checks cost 8 μs a column on every call); the answers are the
    model's own on the frame, to the bit, with no feature-name warning. Pipelines, narrow tables
    and frames of mixed types keep the frame."""
    import warnings

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from readiness.inputs.models import ModelAdapter

    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(400, 250)), columns=[f"f{i}" for i in range(250)])
    y = (X["f0"] - X["f1"] + rng.normal(size=400) > 0).astype(int)
    lr = LogisticRegression(max_iter=500).fit(X, y)
    hgb = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    for est, plain in ((lr, True), (hgb, True), (pipe, False)):
        adapter = ModelAdapter(est, task="binary", positive_label=1, features=list(X.columns))
        assert (adapter._plain_estimator is not None) == plain
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got, pred = adapter.scores(X), adapter.predict(X)
        assert np.array_equal(got, est.predict_proba(X)[:, 1]) and np.array_equal(pred, est.predict(X))
    narrow = ModelAdapter(LogisticRegression().fit(X.iloc[:, :5], y), task="binary", positive_label=1,
                          features=list(X.columns[:5]))
    assert narrow._plain_estimator is None
    mixed = X.assign(f3=(X["f3"] > 0).astype(int))
    adapter = ModelAdapter(LogisticRegression(max_iter=500).fit(mixed, y), task="binary", positive_label=1,
                           features=list(X.columns))
    est, given = adapter._inputs(mixed)
    assert est is adapter.estimator and isinstance(given, pd.DataFrame)
    assert adapter.estimator.feature_names_in_.tolist() == list(X.columns)  # the model itself is untouched
