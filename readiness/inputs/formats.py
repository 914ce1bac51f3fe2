"""Model file formats: how each is recognised, checked before loading, and loaded.

A format is a :class:`ModelFormat`; :func:`register_format` adds one (the built-ins are
registered exactly like that). :func:`readiness.inputs.models.load_model` then runs every
format the same way:

1. ``precheck(data, name)`` in the calling process: cheap structural checks that read
   no untrusted object (for ``.skops``: the zip bomb caps and the type allow-list). It
   returns keyword arguments for ``load``.
2. ``load(data, name=..., **options)`` first in an isolated child process with memory
   and time limits (:mod:`readiness.inputs.sandbox`), then — if the child survived and
   the model passed :func:`readiness.inputs.validation.validate_estimator` there — in
   the calling process, where the same validation runs again on the very object that
   will be scored.

``executes_code`` marks formats whose loading runs code from the file (pickles): they
load only when the caller trusts the file's exact SHA-256.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readiness import errors as E

#: Types that skops does not trust by default but that ordinary scikit-learn models
#: consist of. Reviewed: each is a data container or a fitted-state class with no
#: callable behaviour beyond its own methods (no ``functools.partial``, no builtins). The
#: array-backed ones (trees, tree predictors, KD/ball trees) are why skops leaves them
#: untrusted: their arrays are validated before use (readiness.inputs.validation).
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
        # a dict with attribute access (stacking and voting ensembles keep their members in one)
        "sklearn.utils._bunch.Bunch",
        # one-hot encoded data inside SVMs, sparsified linear models; indices fully checked before use
        "scipy.sparse._csr.csr_matrix",
        # the boosting libraries' scikit-learn models inside a pipeline (docs/models.md, "skops pipelines").
        # Reviewed: each rebuilds its booster from the model bytes in its state with the library's own
        # parser (XGBoost: XGBoosterUnserializeFromBuffer; LightGBM: LGBM_BoosterLoadModelFromString;
        # CatBoost: _deserialize_model of its FlatBuffers model), and keeps the rest as plain attributes.
        # A custom objective or metric (a Python function) would be a further type, which stays refused.
        "xgboost.core.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.sklearn.XGBRegressor",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "collections.OrderedDict",  # LightGBM's parameters
        "catboost.core.CatBoostClassifier",
        "catboost.core.CatBoostRegressor",
    }
)
#: the library each allow-listed boosting type needs, and its extra
_SKOPS_LIBRARIES = {"xgboost.": "XGBoost", "lightgbm.": "LightGBM", "catboost.": "CatBoost"}


@dataclass(frozen=True)
class ModelFormat:
    name: str
    suffixes: frozenset[str]
    executes_code: bool
    load: Callable[..., Any]
    precheck: Callable[[bytes, str], dict] = lambda data, name: {}
    description: str = ""


FORMATS: dict[str, ModelFormat] = {}


def register_format(fmt: ModelFormat) -> ModelFormat:
    FORMATS[fmt.name] = fmt
    return fmt


def format_for(name: str) -> ModelFormat:
    """The format of a file, by its suffix; ``ModelError`` for an unknown one."""
    suffix = Path(name).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt
    raise E.ModelError(E.MODEL_FORMAT.format(name=name))


def model_file_types() -> list[str]:
    """Every model file suffix a format reads, without the dot (for an upload widget)."""
    return sorted({suffix.lstrip(".") for fmt in FORMATS.values() for suffix in fmt.suffixes})


def short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]


# --- skops -------------------------------------------------------------------------------------


def _skops_precheck(data: bytes, name: str) -> dict:
    import skops.io as sio

    from readiness.inputs.archive import check_skops_archive

    check_skops_archive(data, name=name)  # bounded: nothing is unpacked beyond the caps
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=short(exc))) from None
    refused = sorted(set(untrusted) - SKOPS_ALLOWED_TYPES)
    if refused:
        raise E.UntrustedModelError(E.MODEL_UNTRUSTED_TYPES.format(name=name, types=", ".join(refused)))
    for prefix, library in _SKOPS_LIBRARIES.items():
        if any(t.startswith(prefix) for t in untrusted):
            from readiness.inputs.native import require

            require(library, name)  # a one-line message naming the extra when it is not installed
    return {"trusted": sorted(set(untrusted))}


def _skops_load(data: bytes, *, name: str, trusted: list[str]):
    import skops.io as sio

    try:
        return sio.loads(data, trusted=trusted)
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=short(exc))) from None


register_format(ModelFormat(
    name="skops", suffixes=frozenset({".skops"}), executes_code=False, load=_skops_load, precheck=_skops_precheck,
    description="skops zip archive: builds only allow-listed types, runs no code from the file"))


# --- pickle / joblib -------------------------------------------------------------------------


def _pickle_load(data: bytes, *, name: str):
    try:
        if name.lower().endswith(".joblib"):
            import joblib

            return joblib.load(io.BytesIO(data))
        return pickle.loads(data)  # noqa: S301 - only after the caller trusted this exact file (sha256)
    except MemoryError:
        raise
    except Exception as exc:
        raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=short(exc))) from None


register_format(ModelFormat(
    name="pickle", suffixes=frozenset({".pkl", ".pickle", ".joblib"}), executes_code=True, load=_pickle_load,
    description="Python pickle (joblib): loading runs any code the file contains"))


# --- XGBoost, LightGBM, CatBoost, ONNX (readiness.inputs.native) -------------------------------


def _native_loader(kind: str) -> Callable[..., Any]:
    def load(data: bytes, *, name: str):
        from readiness.inputs.native import load_native

        return load_native(data, name=name, kind=kind)

    return load


for _name, _suffixes, _description in (
    ("xgboost", {".json", ".ubj"}, "XGBoost JSON / UBJSON model: tree arrays and parameters, read by XGBoost's parser"),
    ("lightgbm", {".txt", ".lgb"}, "LightGBM text model: trees as text, read by LightGBM's parser"),
    ("catboost", {".cbm"}, "CatBoost model: a FlatBuffers table of trees, verified by CatBoost before use"),
    ("onnx", {".onnx"}, "ONNX graph of standard operators run by onnxruntime; no custom operators or external files"),
):
    register_format(ModelFormat(name=_name, suffixes=frozenset(_suffixes), executes_code=False,
                                load=_native_loader(_name), description=_description))
