"""The model in production today (``--champion``) as an XGBoost, LightGBM, CatBoost or ONNX file.

Known answers: the champion's scores in the review equal its library's own prediction on
the holdout (1e-6), and ``comparison.champion`` reports the champion's accuracy computed
here from that prediction. XGBoost and LightGBM boosters store no class labels: their
classes 0..K-1 are bound to the target's sorted values, as for the new model, with a note.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import fitted
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from test_model_formats import (
    FEATURES,
    fit_catboost,
    fit_lightgbm,
    fit_onnx,
    fit_xgboost,
    library_scores,
    save,
    split,
)

from readiness.inputs import Roles, prepare_review
from readiness.registry import get_check
from readiness.review import run_check

FIT = {"xgboost": (fit_xgboost, ".json"), "lightgbm": (fit_lightgbm, ".txt"), "catboost": (fit_catboost, ".cbm"),
       "onnx": (fit_onnx, ".onnx")}


def new_model(train):
    pre = ColumnTransformer([("num", StandardScaler(), ["income", "debt", "age"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])])
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(train[FEATURES], train["y"])


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("library", list(FIT))
def test_a_champion_file_of_each_format_is_compared(library, task, tmp_path):
    pytest.importorskip({"onnx": "onnxruntime"}.get(library, library))
    train, test = split(task)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    fit, suffix = FIT[library]
    model, prepare = fit(task, train)
    save(library, model, tmp_path / f"old{suffix}")
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                         model=fitted(new_model(train)), champion=tmp_path / f"old{suffix}")
    expected = library_scores(library, model, prepare, task, test)
    np.testing.assert_allclose(ctx.champion.scores, expected, atol=1e-6)
    if library in ("xgboost", "lightgbm"):  # no labels in the file: bound to the target's values, and said so
        assert any(f"old{suffix} stores no class labels" in n for n in ctx.notes), ctx.notes
    result = run_check(get_check("comparison.champion"), ctx)
    assert result.status in ("pass", "warn", "fail"), result.summary
    y = test["y"].to_numpy()
    theirs = (expected >= 0.5).astype(int) if task == "binary" else expected.argmax(axis=1)
    assert result.metrics["champion"]["accuracy"] == pytest.approx(float((theirs == y).mean()), abs=1e-12)


def test_a_champion_file_with_the_wrong_number_of_classes_is_one_line(tmp_path):
    """A binary booster as the champion of a three-class review: refused, naming both counts."""
    pytest.importorskip("xgboost")
    from readiness import errors as E

    train, test = split("multiclass")
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    binary_train, _ = split("binary")
    model, _ = fit_xgboost("binary", binary_train)
    save("xgboost", model, tmp_path / "old.json")
    with pytest.raises(E.ModelError) as err:
        prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y"),
                       model=fitted(new_model(train)), champion=tmp_path / "old.json")
    assert "\n" not in str(err.value) and "old.json" in str(err.value)


def test_cli_reviews_a_model_file_against_a_champion_file(tmp_path):
    """End to end: a LightGBM file reviewed against an XGBoost file in production (exit 0, the comparison ran)."""
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    train, test = split("binary")
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    new, prepare_new = fit_lightgbm("binary", train)
    save("lightgbm", new, tmp_path / "new.txt")
    old, prepare_old = fit_xgboost("binary", train)
    save("xgboost", old, tmp_path / "old.json")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(tmp_path / "train.csv"),
                           "--test", str(tmp_path / "test.csv"), "--target", "y", "--model", str(tmp_path / "new.txt"),
                           "--champion", str(tmp_path / "old.json"), "--check", "comparison.champion",
                           "--no-history", "--json", str(out), "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    check = report["checks"][0]
    assert check["id"] == "comparison.champion" and check["metrics"]["verdict"] in (
        "better", "no_difference", "worse", "mixed")
    y = test["y"].to_numpy()
    for key, model, prepare, library in (("challenger", new, prepare_new, "lightgbm"),
                                         ("champion", old, prepare_old, "xgboost")):
        s = library_scores(library, model, prepare, "binary", test)
        assert check["metrics"][key]["accuracy"] == pytest.approx(float(((s >= 0.5) == y).mean()), abs=1e-12)
    assert [i["role"] for i in report["inputs"]].count("champion") == 1
