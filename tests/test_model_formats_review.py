"""A whole review of a model file gives the same statuses and figures as the same model saved with skops.

The same fitted model is saved twice — in its library's format (XGBoost .json, LightGBM
.txt, CatBoost .cbm, ONNX .onnx) and as a .skops file of the scikit-learn object — and
both are reviewed through ``load_model`` (isolated child first) on the same data. Every
check must agree: status, summary, findings and metrics, floats to 1e-6 relative (ONNX
computes in float32: 1e-4, and 1e-6 absolute). What may differ is listed in ``ALLOWED`` with the reason.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from readiness.inputs import Roles, prepare_review
from readiness.review import run_review

FEATURES = ["income", "debt", "age"]

#: what legitimately differs between the two files of one model: check id -> metric paths (None: all but status)
ALLOWED = {
    "model.hyperparameters": None,  # a file stores its library's parameters, a scikit-learn object its get_params()
    "model.serving": None,  # measured latency and file size, not computed from the model
    "evaluation.holdout_reuse": {".metrics.evaluation_digest"},  # digests of different files
    "monitoring.reference": {".metrics.model_sha256"},
    "explanations.shap": {".metrics.explainer_label", ".metrics.additivity_error"},  # the label names the library
}
ALLOWED_ONNX = {
    "model.hyperparameters": None,  # status too: untuned defaults are visible on the object, not in the graph
    "leakage.preprocessing": None,  # an ONNX graph has no scikit-learn steps to inspect
    "explanations.shap": None,  # model-agnostic on the graph, exact linear SHAP on the pipeline
    "explanations.lime": None,  # LIME's local fit on float32 scores
}


def _data(root):
    rng = np.random.default_rng(0)
    n = 800
    df = pd.DataFrame({"income": rng.normal(50, 10, n).round(2), "debt": rng.normal(size=n).round(3),
                       "age": rng.integers(18, 80, n), "sex": rng.choice(["f", "m"], n)})
    df["y"] = ((df.income - 50) / 10 - df.debt + rng.normal(0, 0.7, n) > 0).astype(int)
    train, test = df.iloc[:500].reset_index(drop=True), df.iloc[500:].reset_index(drop=True)
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    return train


def _save(library: str, train: pd.DataFrame, root) -> tuple:
    X, y = train[FEATURES], train["y"]
    if library == "xgboost":
        import xgboost as xgb

        model = xgb.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1).fit(X, y)
        model.save_model(str(root / "m.json"))
        return model, root / "m.json"
    if library == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMClassifier(n_estimators=30, num_leaves=7, verbose=-1, n_jobs=1).fit(X, y)
        model.booster_.save_model(str(root / "m.txt"))
        return model, root / "m.txt"
    if library == "catboost":
        import catboost as cb

        model = cb.CatBoostClassifier(iterations=30, depth=3, verbose=0, thread_count=1,
                                      allow_writing_files=False).fit(X, y)
        model.save_model(str(root / "m.cbm"))
        return model, root / "m.cbm"
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    types = [("income", FloatTensorType([None, 1])), ("debt", FloatTensorType([None, 1])),
             ("age", Int64TensorType([None, 1]))]
    onx = to_onnx(model, initial_types=types, options={id(model): {"zipmap": False}}, target_opset=17)
    (root / "m.onnx").write_bytes(onx.SerializeToString())
    return model, root / "m.onnx"


def differences(a, b, rtol: float, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: on one side only" for k in set(a) ^ set(b)]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], rtol, f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (u, v) in enumerate(zip(a, b, strict=True)) for d in differences(u, v, rtol, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = math.isclose(a, b, rel_tol=rtol, abs_tol=rtol / 100) or (math.isnan(a) and math.isnan(b))
        return [] if same else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {str(a)[:80]!r} vs {str(b)[:80]!r}"]


def compare_reviews(library: str, root, checks=None) -> list[str]:
    train = _data(root)
    model, path = _save(library, train, root)
    (root / "m.skops").write_bytes(sio.dumps(model))
    roles = Roles(target="y", sensitive=["sex"])
    ours = run_review(prepare_review(train=root / "train.csv", test=root / "test.csv", roles=roles, model=path),
                      checks=checks)
    skops = run_review(prepare_review(train=root / "train.csv", test=root / "test.csv", roles=roles,
                                      model=root / "m.skops"), checks=checks)
    assert [c.id for c in ours.checks] == [c.id for c in skops.checks]
    allowed = {**ALLOWED, **(ALLOWED_ONNX if library == "onnx" else {})}
    found = []
    for a, b in zip(ours.checks, skops.checks, strict=True):
        if a.status != b.status and not (library == "onnx" and a.id == "model.hyperparameters"):
            # (an ONNX graph cannot say whether its parameters were tuned; a scikit-learn object's defaults can)
            found.append(f"{a.id}: status {a.status} vs {b.status} ({a.summary[:100]} | {b.summary[:100]})")
            continue
        skip = allowed.get(a.id, set())
        if skip is None:
            continue
        ja, jb = (json.loads(c.model_dump_json(exclude={"duration_s"})) for c in (a, b))
        found += [f"{a.id}{d}" for d in differences(ja, jb, 1e-4 if library == "onnx" else 1e-6)
                  if d.split(":")[0] not in skip]
    assert ours.checks and all(c.status != "error" for c in ours.checks), [
        (c.id, c.summary) for c in ours.checks if c.status == "error"]
    return found


FAST_CHECKS = ["evaluation.holdout", "calibration", "bias.groups", "explanations.shap", "explanations.permutation",
               "business.threshold", "segments.weak"]


def test_a_lightgbm_file_and_its_skops_twin_agree_on_the_main_checks(tmp_path):
    pytest.importorskip("lightgbm")
    from readiness.registry import registered_checks

    checks = [c for c in FAST_CHECKS if c in {s.id for s in registered_checks()}]
    assert compare_reviews("lightgbm", tmp_path, checks=checks) == []


@pytest.mark.slow
@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost", "onnx"])
def test_a_whole_review_of_a_model_file_equals_the_review_of_its_skops_twin(library, tmp_path):
    pytest.importorskip({"onnx": "skl2onnx"}.get(library, library))
    assert compare_reviews(library, tmp_path) == []
