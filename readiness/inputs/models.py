"""Loading models safely, and one adapter over every way a model can score rows.

* ``.skops`` (default): loaded with a reviewed allow-list of extra types on top of the
  ones skops trusts itself. A file that asks for anything else is refused, naming the
  types. ``get_untrusted_types()`` is never fed back as ``trusted=``.
* ``.joblib`` / ``.pkl`` / ``.pickle``: refused *before any byte is unpickled* unless the
  caller passes the file's exact SHA-256 as ``trusted_sha256``.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.inputs.tables import read_source, sha256_bytes

#: Types that skops does not trust by default but that ordinary scikit-learn models
#: consist of. Reviewed: each is a data container or a fitted-state class with no
#: callable behaviour beyond its own methods (no ``functools.partial``, no builtins).
SKOPS_ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    }
)
SKOPS_SUFFIXES = {".skops"}
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    name: str
    sha256: str
    size_bytes: int
    format: str  # skops | pickle
    trusted_pickle: bool = False


def model_digest(source: str | Path | bytes) -> str:
    """SHA-256 of a model file, to show the user before they decide to trust it."""
    data, _ = read_source(source, role="model")
    return sha256_bytes(data)


def load_model(
    source: str | Path | bytes, *, name: str | None = None, trusted_sha256: str | None = None
) -> LoadedModel:
    """Load a model file. Pickles load only when ``trusted_sha256`` equals the file's digest."""
    data, name = read_source(source, role="model", name=name)
    digest = sha256_bytes(data)
    suffix = Path(name).suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        if trusted_sha256 is None or trusted_sha256.lower() != digest:
            raise E.UntrustedModelError(E.MODEL_UNTRUSTED_PICKLE.format(name=name, sha256=digest))
        estimator = _load_pickle(data, name=name, suffix=suffix)
        fmt, trusted = "pickle", True
    elif suffix in SKOPS_SUFFIXES:
        estimator = _load_skops(data, name=name)
        fmt, trusted = "skops", False
    else:
        raise E.ModelError(E.MODEL_FORMAT.format(name=name))
    if not hasattr(estimator, "predict"):
        raise E.ModelError(E.MODEL_NOT_ESTIMATOR.format(name=name, kind=type(estimator).__name__))
    return LoadedModel(estimator=estimator, name=name, sha256=digest, size_bytes=len(data), format=fmt,
                       trusted_pickle=trusted)


def _load_skops(data: bytes, *, name: str):
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=_short(exc))) from None
    refused = sorted(set(untrusted) - SKOPS_ALLOWED_TYPES)
    if refused:
        raise E.UntrustedModelError(E.MODEL_UNTRUSTED_TYPES.format(name=name, types=", ".join(refused)))
    try:
        return sio.loads(data, trusted=sorted(set(untrusted)))
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=_short(exc))) from None


def _load_pickle(data: bytes, *, name: str, suffix: str):
    try:
        if suffix == ".joblib":
            import joblib

            return joblib.load(io.BytesIO(data))
        return pickle.loads(data)  # noqa: S301 - the user trusted this exact file (sha256 checked)
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=_short(exc))) from None


def _short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]


# --- adapter ----------------------------------------------------------------------------


def final_estimator(estimator):
    """The last step of a (nested) pipeline, else the estimator itself."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def expected_columns(estimator) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(c) for c in names]


def is_classifier(estimator) -> bool:
    from sklearn.base import is_classifier as _is_clf

    try:
        if _is_clf(estimator):
            return True
    except Exception:
        pass
    return hasattr(estimator, "classes_") and hasattr(estimator, "predict_proba")


class ModelAdapter:
    """Scores rows with a fitted estimator: one interface for every kind of model.

    ``scores(X)``: binary -> score of the positive class (probability when the model
    has ``predict_proba``, else its decision function); multiclass -> an (n, C) matrix
    of probabilities in ``classes`` order; regression -> the predictions.
    """

    def __init__(self, estimator, *, task: str, positive_label=None, features: list[str]):
        self.estimator = estimator
        self.task = task
        self.features = list(features)
        self.classes = list(getattr(estimator, "classes_", [])) if task != "regression" else []
        self.has_proba = task != "regression" and hasattr(estimator, "predict_proba")
        self.positive_label = positive_label
        if task == "binary":
            self._pos_index = _index_of(self.classes, positive_label)

    @property
    def scores_are_probabilities(self) -> bool:
        return self.has_proba

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        return X[self.features]

    def scores(self, X: pd.DataFrame) -> np.ndarray:
        Xf = self._frame(X)
        if self.task == "regression":
            return np.asarray(self.estimator.predict(Xf), dtype=float)
        if self.has_proba:
            proba = np.asarray(self.estimator.predict_proba(Xf), dtype=float)
            return proba[:, self._pos_index] if self.task == "binary" else proba
        if hasattr(self.estimator, "decision_function"):
            dec = np.asarray(self.estimator.decision_function(Xf), dtype=float)
            if self.task == "binary":
                return dec if self._pos_index == 1 else -dec
            return dec
        # predict-only classifier: hard 0/1 scores
        pred = np.asarray(self.estimator.predict(Xf))
        if self.task == "binary":
            return (pred == self.positive_label).astype(float)
        return (pred[:, None] == np.asarray(self.classes)[None, :]).astype(float)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(self._frame(X)))


def _index_of(classes: list, label) -> int:
    for i, c in enumerate(classes):
        if c == label or str(c) == str(label):
            return i
    raise E.RoleError(E.POSITIVE_LABEL_UNKNOWN.format(label=label, target="(model classes)", values=classes))


def describe_estimator(estimator) -> tuple[str, dict[str, Any]]:
    """Class path of the final estimator and the hyper-parameters of the whole model."""
    final = final_estimator(estimator)
    name = f"{type(final).__module__.split('.')[0]}.{type(final).__name__}"
    try:
        params = final.get_params(deep=False)
    except Exception:
        params = {}
    clean = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)) for k, v in params.items()}
    return name, clean
