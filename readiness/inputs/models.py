"""Loading models safely, and one adapter over every way a model can score rows.

Every model file goes the same way (formats in :mod:`readiness.inputs.formats`):

1. the format is told by the suffix; a format whose loading runs code (pickles) is
   refused *before any byte is unpickled* unless the caller trusts the file's exact
   SHA-256 (``trusted_sha256``; in a served app only the operator's allow-list,
   :func:`load_uploaded_model`);
2. cheap structural checks in this process (``.skops``: zip bomb caps, the reviewed
   type allow-list; never ``get_untrusted_types()`` fed back as ``trusted=``);
3. the first load and validation in an isolated child process with memory and time
   limits (:mod:`readiness.inputs.sandbox`), so a crash there is a one-line
   :class:`readiness.errors.ModelError`, never a dead process;
4. the load here, and the same validation (:mod:`readiness.inputs.validation`) on the
   very object that is then scored. The first scoring of the holdout also runs in the
   child (:func:`check_first_score`, called by ``build_context``).

Details and limits: docs/models.md.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.inputs.formats import FORMATS, SKOPS_ALLOWED_TYPES, ModelFormat, format_for
from readiness.inputs.tables import read_source, sha256_bytes

__all__ = ["SKOPS_ALLOWED_TYPES", "LoadedModel", "ModelAdapter", "check_first_score", "load_model",
           "load_uploaded_model", "model_digest", "operator_trusted_pickles"]

PICKLE_SUFFIXES = FORMATS["pickle"].suffixes
SKOPS_SUFFIXES = FORMATS["skops"].suffixes
#: Holdout rows scored in the isolated child before the model scores anything here.
FIRST_SCORE_ROWS = 2000
TRUSTED_PICKLES_ENV = "READINESS_TRUSTED_PICKLES"


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    name: str
    sha256: str
    size_bytes: int
    format: str  # skops | pickle
    trusted_pickle: bool = False
    #: loaded through the isolated child; its first scoring runs there too
    sandboxed: bool = False


def model_digest(source: str | Path | bytes) -> str:
    """SHA-256 of a model file, to show the user before they decide to trust it."""
    data, _ = read_source(source, role="model")
    return sha256_bytes(data)


def load_model(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    trusted_sha256: str | None = None,
    sandbox: bool = True,
) -> LoadedModel:
    """Load and validate a model file. Pickles load only when ``trusted_sha256`` equals the file's digest.

    ``sandbox=False`` skips the isolated child (validation still runs): only for files
    you made yourself, such as the bundled sample.
    """
    data, name = read_source(source, role="model", name=name)
    digest = sha256_bytes(data)
    fmt = format_for(name)
    if fmt.executes_code and (trusted_sha256 is None or trusted_sha256.strip().lower() != digest):
        raise E.UntrustedModelError(E.MODEL_UNTRUSTED_PICKLE.format(name=name, sha256=digest))
    options = fmt.precheck(data, name)
    if sandbox:
        _isolated_load(fmt, data, name=name, digest=digest, options=options)
    estimator = fmt.load(data, name=name, **options)
    check_estimator(estimator, name=name)
    return LoadedModel(estimator=estimator, name=name, sha256=digest, size_bytes=len(data), format=fmt.name,
                       trusted_pickle=fmt.executes_code, sandboxed=sandbox)


def load_uploaded_model(data: bytes, *, name: str) -> LoadedModel:
    """Load a model a visitor uploaded to a served app.

    A visitor's own trust never suffices: a pickle loads only when this server's operator
    has put its exact SHA-256 on the allow-list (:func:`operator_trusted_pickles`).
    """
    fmt = format_for(name)
    if fmt.executes_code:
        digest = sha256_bytes(data)
        if digest not in operator_trusted_pickles():
            raise E.UntrustedModelError(E.MODEL_PICKLE_NOT_ALLOWED.format(name=name, sha256=digest))
        return load_model(data, name=name, trusted_sha256=digest)
    return load_model(data, name=name)


def operator_trusted_pickles() -> frozenset[str]:
    """SHA-256 digests the operator allows as pickles, from the file ``$READINESS_TRUSTED_PICKLES``.

    One digest per line, as ``sha256sum`` writes them (``<digest>  <file name>``); ``#``
    starts a comment. Unset, missing or unreadable: empty (no pickle loads in the app).
    """
    path = os.environ.get(TRUSTED_PICKLES_ENV, "").strip()
    if not path:
        return frozenset()
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    digests = set()
    for line in text.splitlines():
        token = line.split("#", 1)[0].strip().split(maxsplit=1)
        if token and len(token[0]) == 64 and all(c in "0123456789abcdef" for c in token[0].lower()):
            digests.add(token[0].lower())
    return frozenset(digests)


def check_estimator(estimator, *, name: str) -> None:
    """A fitted model with ``predict()`` whose arrays are sound (``ModelError`` otherwise)."""
    from readiness.inputs.validation import validate_estimator

    if not hasattr(estimator, "predict"):
        raise E.ModelError(E.MODEL_NOT_ESTIMATOR.format(name=name, kind=type(estimator).__name__))
    validate_estimator(estimator, name=name)


# --- the isolated child -----------------------------------------------------------------------

_VERIFIED: set[str] = set()  # what the child already accepted in this process (same bytes, same answer)
_VERIFIED_LOCK = threading.Lock()


def _isolated_load(fmt: ModelFormat, data: bytes, *, name: str, digest: str, options: dict) -> None:
    key = f"load:{fmt.name}:{digest}"
    if key in _VERIFIED:
        return
    _run_isolated("readiness.inputs.models:_child_load", {"format": fmt.name, "data": data, "name": name,
                                                          "options": options}, name=name, stage="while loading it")
    with _VERIFIED_LOCK:
        _VERIFIED.add(key)


def _child_load(*, format: str, data: bytes, name: str, options: dict) -> dict:
    """In the child: load, validate, describe."""
    estimator = FORMATS[format].load(data, name=name, **options)
    check_estimator(estimator, name=name)
    return {"estimator": type(estimator).__name__}


def check_first_score(model: LoadedModel, adapter: ModelAdapter, frame: pd.DataFrame) -> None:
    """Score up to ``FIRST_SCORE_ROWS`` holdout rows in the isolated child before scoring here."""
    if not model.sandboxed:
        return
    rows = frame[adapter.features]
    if len(rows) > FIRST_SCORE_ROWS:
        rows = rows.iloc[np.linspace(0, len(rows) - 1, FIRST_SCORE_ROWS).astype(int)]
    h = hashlib.sha256(f"{model.sha256}|{adapter.task}|{adapter.positive_label!r}|{adapter.features}".encode())
    h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    key = f"score:{h.hexdigest()}"
    if key in _VERIFIED:
        return
    _run_isolated("readiness.inputs.models:_child_score", {"adapter": adapter, "rows": rows.reset_index(drop=True)},
                  name=model.name, stage="while scoring the holdout")
    with _VERIFIED_LOCK:
        _VERIFIED.add(key)


def _child_score(*, adapter: ModelAdapter, rows: pd.DataFrame) -> dict:
    """In the child: the same scoring the review does first, on a sample of the holdout."""
    try:
        scores = adapter.scores(rows)
        adapter.predict(rows)
    except E.ReadinessError:
        raise
    except Exception as exc:
        raise E.ModelError(E.MODEL_PREDICT_FAILED.format(detail=" ".join(str(exc).split())[:300])) from None
    return {"rows": len(rows), "shape": list(np.shape(scores))}


def _run_isolated(func: str, payload: dict, *, name: str, stage: str) -> dict:
    from readiness.inputs import sandbox

    limits = sandbox.Limits.from_env()
    try:
        answer = sandbox.run_isolated(func, payload, limits=limits)
    except sandbox.SandboxFailure as failure:
        if failure.kind == "memory":
            raise E.ModelError(E.MODEL_SANDBOX_MEMORY.format(name=name, limit=limits.memory_mb, stage=stage)) from None
        if failure.kind == "timeout":
            raise E.ModelError(E.MODEL_SANDBOX_TIMEOUT.format(name=name, limit=limits.timeout_s, stage=stage)) from None
        if failure.kind == "crash":
            raise E.ModelError(E.MODEL_SANDBOX_CRASH.format(name=name, stage=stage, detail=failure.detail)) from None
        raise E.ModelError(E.MODEL_SANDBOX_UNAVAILABLE.format(name=name, detail=failure.detail)) from None
    if answer.get("ok"):
        return answer.get("result") or {}
    error, message = str(answer.get("error")), " ".join(str(answer.get("message", "")).split())[:600]
    if error == "MemoryError":
        raise E.ModelError(E.MODEL_SANDBOX_MEMORY.format(name=name, limit=limits.memory_mb, stage=stage))
    cls = getattr(E, error, None)
    if isinstance(cls, type) and issubclass(cls, E.ReadinessError):
        raise cls(message)
    raise E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=f"{error}: {message}"))


# --- adapter ----------------------------------------------------------------------------


def final_estimator(estimator):
    """The last step of a (nested) pipeline, else the estimator itself."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def expected_columns(estimator) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and type(estimator).__module__.startswith("catboost."):
        # a bare CatBoost model (e.g. from skops) keeps its names in feature_names_ (its n_features_in_ reads 0)
        stored = [str(c) for c in (getattr(estimator, "feature_names_", None) or [])]
        names = stored if stored and stored != [str(i) for i in range(len(stored))] else None
    return None if names is None else [str(c) for c in names]


def is_classifier(estimator) -> bool:
    from sklearn.base import is_classifier as _is_clf

    declared = getattr(estimator, "readiness_task", None)  # XGBoost / LightGBM / CatBoost / ONNX files
    if declared is not None:
        return declared != "regression"
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

    def _inputs(self, X: pd.DataFrame):
        """The estimator to call and what to give it: the frame's columns the model was fitted on,
        or, for a wide table of one float type, the same values as a plain array and
        :attr:`_plain_estimator` (the same fitted model, answering without column names)."""
        Xf = self._frame(X)
        plain = self._plain_estimator
        if plain is not None and Xf.shape[1] and (Xf.dtypes == Xf.dtypes.iloc[0]).all() \
                and Xf.dtypes.iloc[0] in (np.float64, np.float32):
            return plain, Xf.to_numpy()
        return self.estimator, Xf

    @functools.cached_property
    def _plain_estimator(self):
        """For 200 columns or more, a shallow copy of a plain scikit-learn model (no pipeline, column
        transformer or ensemble of fitted models) without its column names: scikit-learn converts a
        one-type float frame to the same array (``np.asarray``) after checking each column's type,
        about 8 μs a column per call — 40 of the 51 ms of scoring 500 rows x 5,000 columns. The
        copy shares the fitted arrays, so its answers are the model's; None when not applicable."""
        import copy

        est = self.estimator
        module, name = type(est).__module__, type(est).__name__
        if len(self.features) < 200 or not module.startswith(_PLAIN_MODULES) \
                or any(word in name for word in ("Voting", "Stacking", "Bagging", "Calibrated", "OneVs", "OutputCode",
                                                 "MultiOutput", "Chain", "TransformedTarget", "SelfTraining")) \
                or list(getattr(est, "feature_names_in_", [])) != self.features:
            return None
        plain = copy.copy(est)
        del plain.feature_names_in_
        return plain

    def scores(self, X: pd.DataFrame) -> np.ndarray:
        est, Xf = self._inputs(X)
        if self.task == "regression":
            return np.asarray(est.predict(Xf), dtype=float)
        if self.has_proba:
            proba = np.asarray(est.predict_proba(Xf), dtype=float)
            return proba[:, self._pos_index] if self.task == "binary" else proba
        if hasattr(est, "decision_function"):
            dec = np.asarray(est.decision_function(Xf), dtype=float)
            if self.task == "binary":
                return dec if self._pos_index == 1 else -dec
            return dec
        # predict-only classifier: hard 0/1 scores
        pred = np.asarray(est.predict(Xf))
        if self.task == "binary":
            return (pred == self.positive_label).astype(float)
        return (pred[:, None] == np.asarray(self.classes)[None, :]).astype(float)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        est, Xf = self._inputs(X)
        return np.asarray(est.predict(Xf))


# scikit-learn's model families whose estimators take a plain array the way they take a frame
_PLAIN_MODULES = tuple(f"sklearn.{m}" for m in ("linear_model", "ensemble", "tree", "svm", "neighbors", "naive_bayes",
                                                "discriminant_analysis", "neural_network", "kernel_ridge"))


def _index_of(classes: list, label) -> int:
    for i, c in enumerate(classes):
        if c == label or str(c) == str(label):
            return i
    raise E.RoleError(E.POSITIVE_LABEL_UNKNOWN.format(label=label, target="(model classes)", values=classes))


def describe_estimator(estimator) -> tuple[str, dict[str, Any]]:
    """Class path of the final estimator and the hyper-parameters of the whole model."""
    final = final_estimator(estimator)
    name = getattr(final, "readiness_name", None) or f"{type(final).__module__.split('.')[0]}.{type(final).__name__}"
    try:
        params = final.get_params(deep=False)
    except Exception:
        params = {}
    clean = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)) for k, v in params.items()}
    return name, clean
