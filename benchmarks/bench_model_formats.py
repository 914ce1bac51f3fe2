"""Load and score timings of XGBoost, LightGBM, CatBoost and ONNX model files.

Each model (100 trees, or a logistic regression for ONNX) is trained here on 10,000 rows x
12 columns, saved in its format and loaded with ``load_model`` (the isolated child first),
then the holdout is scored once. Then global SHAP of each booster file on a 5,000-row
holdout: the exact tree path the review takes, and the model-agnostic explainer it would
otherwise fall back to. Run: ``python benchmarks/bench_model_formats.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from readiness.inputs.models import _VERIFIED, load_model


def data(n=10_000, k=12, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, k)), columns=[f"x{i}" for i in range(k)])
    y = (X.x0 + X.x1 * X.x2 + rng.normal(0, 0.5, n) > 0).astype(int)
    return X, y


def main() -> None:
    X, y = data()
    root = Path(tempfile.mkdtemp())
    models = {}
    import catboost
    import lightgbm
    import xgboost
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    xgboost.XGBClassifier(n_estimators=100, n_jobs=1).fit(X, y).save_model(str(root / "m.json"))
    xgboost.XGBClassifier(n_estimators=100, n_jobs=1).fit(X, y).save_model(str(root / "m.ubj"))
    lightgbm.LGBMClassifier(n_estimators=100, verbose=-1, n_jobs=1).fit(X, y).booster_.save_model(str(root / "m.txt"))
    catboost.CatBoostClassifier(iterations=100, verbose=0, thread_count=1, allow_writing_files=False).fit(X, y) \
        .save_model(str(root / "m.cbm"))
    (root / "m.onnx").write_bytes(to_onnx(LogisticRegression().fit(X, y), X.to_numpy(np.float32)).SerializeToString())
    for path in sorted(root.iterdir()):
        models[path.suffix] = path
    load_model(models[".txt"])  # starts the isolation server once, as a running app has it already
    print(f"{'file':<8}{'size KB':>9}{'load s (isolated + here)':>26}{'score 10k rows s':>18}")
    for suffix, path in models.items():
        _VERIFIED.clear()
        t0 = time.perf_counter()
        m = load_model(path)
        t1 = time.perf_counter()
        m.estimator.predict_proba(X)
        t2 = time.perf_counter()
        print(f"{suffix:<8}{path.stat().st_size / 1024:>9.0f}{t1 - t0:>26.2f}{t2 - t1:>18.3f}")
    shap_timings(X, y, models)


def shap_timings(X, y, models) -> None:
    from readiness import explain
    from readiness.inputs import Roles, prepare_review

    root = Path(tempfile.mkdtemp())
    frame = X.assign(y=y)
    frame.iloc[:5000].to_csv(root / "train.csv", index=False)
    frame.iloc[5000:].to_csv(root / "test.csv", index=False)
    print(f"\n{'file':<8}{'explainer':<14}{'rows':>6}{'global SHAP s':>15}{'s per row':>11}")
    fast = explain._native_tree_state
    for suffix in (".json", ".txt", ".cbm"):
        for kind in ("tree", "permutation"):
            explain.clear_cache()
            explain._native_tree_state = fast if kind == "tree" else (lambda *a, **k: None)
            try:
                ctx = prepare_review(train=root / "train.csv", test=root / "test.csv", roles=Roles(target="y"),
                                     model=models[suffix])
                explain.global_shap(ctx, max_rows=1) if kind == "permutation" else None  # one-time set-up (numba)
                t0 = time.perf_counter()
                g = explain.global_shap(ctx, budget_s=600)
                dt = time.perf_counter() - t0
            finally:
                explain._native_tree_state = fast
            print(f"{suffix:<8}{g['explainer']:<14}{g['rows_explained']:>6}{dt:>15.2f}{dt / g['rows_explained']:>11.4f}")


if __name__ == "__main__":
    main()
