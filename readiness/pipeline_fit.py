"""Which rows a fitted scikit-learn pipeline's preprocessing was fit on (leakage.preprocessing).

Every StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, SimpleImputer, OneHotEncoder
and OrdinalEncoder inside Pipelines, ColumnTransformers and FeatureUnions (column selections
resolved) is refitted on the training rows and on training + holdout rows; its stored
statistics tell which it was fit on. The wording lives in :mod:`readiness.checks.leakage`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

STAT_RTOL = 1e-7
PREPROCESSORS = {
    "StandardScaler": ("mean_", "scale_"),
    "MinMaxScaler": ("data_min_", "data_max_"),
    "MaxAbsScaler": ("max_abs_",),
    "RobustScaler": ("center_", "scale_"),
    "SimpleImputer": ("statistics_",),
    "OneHotEncoder": ("categories_",),
    "OrdinalEncoder": ("categories_",),
}


def plain(v):
    """A JSON-friendly scalar: NumPy scalars unwrapped, non-finite floats as None, timestamps as ISO text."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _select_columns(X, cols, ct, name):
    """Resolve a ColumnTransformer selection against its input X (DataFrame or array)."""
    idx = None
    mapping = getattr(ct, "_transformer_to_input_indices", None)
    if isinstance(mapping, dict) and name in mapping:
        idx = list(mapping[name])
    if idx is None:
        if callable(cols):
            cols = cols(X)
        if isinstance(cols, slice) or np.isscalar(cols):
            cols = [cols] if np.isscalar(cols) else cols
        arr = np.asarray(cols) if not isinstance(cols, slice) else None
        if arr is not None and arr.dtype == bool:
            idx = list(np.flatnonzero(arr))
        elif isinstance(cols, slice):
            idx = list(range(X.shape[1]))[cols]
        elif arr is not None and arr.dtype.kind in "iu":
            idx = [int(i) for i in arr]
        else:
            names = list(X.columns)
            idx = [names.index(c) for c in cols]
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, idx], [str(X.columns[i]) for i in idx]
    return np.asarray(X)[:, idx], [f"column {i}" for i in idx]


def column_names(X) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    return [f"column {i}" for i in range(np.asarray(X).shape[1])]


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
        return bool(np.allclose(a.astype(float), b.astype(float), rtol=STAT_RTOL, atol=1e-12, equal_nan=True))
    return bool(np.array_equal(a.astype(str), b.astype(str)))


def _inspect_leaf(est, Xtr, Xall, path: str, records: list[dict]) -> None:
    from sklearn.base import clone

    cls = type(est).__name__
    attrs = PREPROCESSORS.get(cls)
    if attrs is None or not type(est).__module__.startswith("sklearn"):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_tr = clone(est).fit(Xtr)
            fit_all = clone(est).fit(Xall)
    except Exception as exc:  # a transformer we cannot refit is reported, not fatal
        records.append({"step": path, "transformer": cls, "columns": {}, "error": str(exc)[:200]})
        return
    names = column_names(Xtr)
    per_col = {}
    for j, name in enumerate(names):
        m_tr = m_all = True
        values = {}
        for attr in attrs:
            got = getattr(est, attr, None)
            if got is None:
                continue
            g, t, a = got[j], getattr(fit_tr, attr)[j], getattr(fit_all, attr)[j]
            m_tr &= _same(g, t)
            m_all &= _same(g, a)
            if attr == "categories_":
                seen_tr = {str(x) for x in np.asarray(t).tolist()}
                holdout_only = [x for x in np.asarray(g).tolist() if str(x) not in seen_tr]
                values[attr] = {"model": len(g), "train": len(t), "train_and_holdout": len(a),
                                "holdout_only_categories": [plain(x) for x in holdout_only[:20]]}
            else:
                values[attr] = {"model": plain(np.asarray(g).item() if np.ndim(g) == 0 else str(g)),
                                "train": plain(np.asarray(t).item() if np.ndim(t) == 0 else str(t)),
                                "train_and_holdout": plain(np.asarray(a).item() if np.ndim(a) == 0 else str(a))}
        if m_tr and m_all:
            verdict = "indistinguishable"
        elif m_tr:
            verdict = "training"
        elif m_all:
            verdict = "training_and_holdout"
        else:
            verdict = "neither"
        per_col[name] = {"fit_on": verdict, **values}
    rec = {"step": path, "transformer": cls, "columns": per_col,
           "n_samples_seen": plain(np.max(est.n_samples_seen_)) if hasattr(est, "n_samples_seen_") else None}
    records.append(rec)


def _named(step, X_in, X_out):
    """A step's output as a DataFrame named by ``get_feature_names_out`` (None if too big to densify)."""
    import scipy.sparse as sp

    if sp.issparse(X_out):
        if X_out.shape[0] * X_out.shape[1] > 50_000_000:
            return None
        X_out = X_out.toarray()
    if isinstance(X_out, pd.DataFrame):
        return X_out
    try:
        names = [str(c) for c in step.get_feature_names_out(column_names(X_in) if isinstance(X_in, pd.DataFrame) else None)]
    except Exception:
        return X_out
    X_out = np.asarray(X_out)
    if X_out.ndim == 2 and len(names) == X_out.shape[1]:
        return pd.DataFrame(X_out, columns=names)
    return X_out


def _inspected(est) -> bool:
    """Whether :func:`walk` finds a preprocessor to refit in ``est`` (it follows the same nesting)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(est, Pipeline):
        return any(_inspected(s) for _, s in est.steps if s is not None and not isinstance(s, str))
    if isinstance(est, ColumnTransformer):
        return any(_inspected(t) for _, t, _ in est.transformers_ if not isinstance(t, str))
    if isinstance(est, FeatureUnion):
        return any(_inspected(t) for _, t in est.transformer_list if not isinstance(t, str))
    return type(est).__name__ in PREPROCESSORS and type(est).__module__.startswith("sklearn")


def walk(est, Xtr, Xall, path: str, records: list[dict]) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(est, Pipeline):
        steps = [(name, step) for name, step in est.steps if step is not None and step != "passthrough"]
        for i, (name, step) in enumerate(steps):
            walk(step, Xtr, Xall, f"{path}/{name}" if path else name, records)
            if not hasattr(step, "transform"):
                break
            # the data is carried to the later steps only for a preprocessor there to refit: a final model
            # (or a later step without one) needs no transformed copy of a million rows
            if not any(_inspected(later) for _, later in steps[i + 1:]):
                break
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    Xtr, Xall = _named(step, Xtr, step.transform(Xtr)), _named(step, Xall, step.transform(Xall))
            except Exception:
                break
            if Xtr is None or Xall is None:
                break
        return
    if isinstance(est, ColumnTransformer):
        for name, trans, cols in est.transformers_:
            if isinstance(trans, str):
                continue
            try:
                sub_tr, _ = _select_columns(Xtr, cols, est, name)
                sub_all, _ = _select_columns(Xall, cols, est, name)
            except Exception:
                continue
            walk(trans, sub_tr, sub_all, f"{path}/{name}" if path else name, records)
        return
    if isinstance(est, FeatureUnion):
        for name, trans in est.transformer_list:
            if not isinstance(trans, str):
                walk(trans, Xtr, Xall, f"{path}/{name}" if path else name, records)
        return
    _inspect_leaf(est, Xtr, Xall, path or type(est).__name__, records)
