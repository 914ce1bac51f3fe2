"""Model files of XGBoost, LightGBM, CatBoost and ONNX behind the estimator interface the review uses.

Each file is data read by the library's own parser (why none runs code: docs/models.md);
:class:`NativeModel` wraps what the library loaded:

* ``readiness_task`` — binary, multiclass or regression, from the stored objective
  (XGBoost ``learner.objective``, LightGBM ``objective=``, CatBoost ``loss_function``,
  ONNX: a probability output makes a classifier);
* ``feature_names_in_`` — the input names stored in the model (absent when the file
  stores none: the data's feature columns are then taken in file order, and their
  number must equal ``n_features_in_``);
* ``classes_`` — the class labels when the file stores them (CatBoost, ONNX), else
  bound to the target's sorted values by :meth:`NativeModel.with_classes`;
* ``categorical`` — the columns the model reads as categories, with their stored
  categories (LightGBM ``pandas_categorical``, XGBoost 3.1+ stored categories,
  CatBoost cat features);
* ``predict_proba`` / ``predict`` — the library's own prediction on the rows.

A :class:`NativeModel` pickles as its file bytes (to reach the isolated child), and is
loaded again from them there.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from readiness import errors as E

#: library -> (module to import, extra, pip package)
LIBRARIES = {
    "XGBoost": ("xgboost", "xgboost", "xgboost"),
    "LightGBM": ("lightgbm", "lightgbm", "lightgbm"),
    "CatBoost": ("catboost", "catboost", "catboost"),
    "ONNX": ("onnxruntime", "onnx", "onnxruntime onnx"),
}
#: ONNX operator sets whose operators onnxruntime implements itself (no custom code)
ONNX_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})


def _short(exc: BaseException) -> str:
    """One line of a library's error: without XGBoost's stack trace, time stamp and source path."""
    text = str(exc).split("Stack trace:")[0]
    text = re.sub(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", text.strip())
    return (" ".join(text.split()) or type(exc).__name__)[:300]


def require(library: str, name: str):
    """Import a format's library, or a one-line ``ModelError`` naming the extra to install."""
    import importlib

    module, extra, package = LIBRARIES[library]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise E.ModelError(E.MODEL_LIBRARY_MISSING.format(name=name, library=library, extra=extra,
                                                          package=package)) from None


def _corrupt(name: str, exc: BaseException) -> E.ModelError:
    return E.ModelError(E.MODEL_CORRUPT.format(name=name, detail=_short(exc)))


def _unnamed(names: list[str] | None, n: int) -> bool:
    """Names a library makes up when it was given none (XGBoost: none; LightGBM: Column_i; CatBoost: i)."""
    if not names:
        return True
    return names == [f"Column_{i}" for i in range(n)] or names == [str(i) for i in range(n)]


class NativeModel:
    """A loaded XGBoost / LightGBM / CatBoost / ONNX model with ``predict`` and ``predict_proba``."""

    library = ""
    readiness_task = "regression"
    n_classes_ = 0
    #: the simple-baseline kind the file's model is ('logistic_regression'), when the file can tell
    readiness_kind: str | None = None

    def __init__(self, data: bytes, name: str):
        self._data = data
        self.name = name
        self.categorical: dict[str, list | None] = {}
        self.objective = ""
        self.params: dict[str, Any] = {}
        self._load()
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = None

    # --- pickling: as the file's bytes -------------------------------------------------
    def __getstate__(self):
        return {"data": self._data, "name": self.name, "classes": getattr(self, "classes_", None),
                "binary": self.readiness_task == "binary" and getattr(self, "single_output", None) is not None}

    def __setstate__(self, state):
        self.__init__(state["data"], state["name"])
        if state.get("binary"):
            self.__dict__.update(self.as_binary().__dict__)
        if state["classes"] is not None:
            self.classes_ = np.asarray(state["classes"], dtype=object)

    def with_classes(self, classes: list) -> NativeModel:
        """A copy whose classes 0..K-1 are ``classes`` (a file that stores no labels)."""
        bound = copy.copy(self)
        bound.classes_ = np.asarray(classes, dtype=object)
        return bound

    @property
    def readiness_name(self) -> str:
        """What the review calls this model (the Setup page, model.hyperparameters)."""
        return f"{self.library} model ({self.objective})" if self.objective else f"{self.library} model"

    def fit(self, *args, **kwargs):
        """A model file is scored as it is, never refit (``fit`` exists for scikit-learn's tools)."""
        raise TypeError(f"{self.name} is a saved {self.library} model: it is scored as it is, never refit.")

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return dict(self.params)

    def _set_names(self, names: list[str] | None, n: int | None) -> None:
        self.n_features_in_ = n
        if names is not None and not _unnamed(names, len(names)):
            self.feature_names_in_ = np.asarray(names, dtype=object)

    # --- prediction --------------------------------------------------------------------
    def _numeric(self, X: pd.DataFrame, column: str) -> pd.Series:
        col = X[column]
        if pd.api.types.is_bool_dtype(col):
            return col.astype(float)
        if pd.api.types.is_numeric_dtype(col):
            return col
        converted = pd.to_numeric(col, errors="coerce")
        bad = col.notna() & converted.isna()
        if bad.any():
            raise E.ModelError(E.MODEL_COLUMN_NOT_NUMERIC.format(column=column, example=str(col[bad].iloc[0])[:40],
                                                                 name=self.name))
        return converted

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Numbers for numeric inputs; the stored categories for categorical ones."""
        out = {}
        for c in X.columns:
            if c in self.categorical:
                cats = self.categorical[c]
                values = X[c].astype(object).where(X[c].notna(), None)
                out[c] = pd.Categorical(values, categories=cats) if cats is not None else pd.Categorical(values)
            else:
                out[c] = self._numeric(X, c)
        return pd.DataFrame(out, index=X.index)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        raw = np.asarray(self._predict_raw(X), dtype=float)
        if raw.ndim == 1 or raw.shape[1] == 1:
            p = raw.reshape(-1)
            return np.column_stack([1 - p, p])
        return raw

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.readiness_task == "regression":
            return np.asarray(self._predict_raw(X), dtype=float).reshape(-1)
        index = self.predict_proba(X).argmax(axis=1)
        classes = getattr(self, "classes_", None)
        return index if classes is None else np.asarray(classes, dtype=object)[index]

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:  # pragma: no cover - per library
        raise NotImplementedError

    # --- tree SHAP (readiness.explain): the booster and its input, for shap.TreeExplainer ------
    #: the library's model object ``shap.TreeExplainer`` reads (XGBoost, LightGBM, CatBoost); None for ONNX
    shap_model: Any = None

    def shap_input(self, X: pd.DataFrame) -> Any:
        """The rows as the library takes them (DMatrix, DataFrame with the stored categories, Pool)."""
        return self._prepare(X)

    def _load(self) -> None:  # pragma: no cover - per library
        raise NotImplementedError


def _task_of(objective: str, *, binary: tuple, multiclass: tuple, regression: tuple, name: str) -> str:
    for task, prefixes in (("binary", binary), ("multiclass", multiclass), ("regression", regression)):
        if any(objective == p or objective.startswith(p) for p in prefixes):
            return task
    raise E.ModelError(E.MODEL_OBJECTIVE.format(name=name, objective=objective))


# --- XGBoost ------------------------------------------------------------------------------------


class XGBoostModel(NativeModel):
    """XGBoost JSON or UBJSON (``Booster.save_model('m.json' | 'm.ubj')``)."""

    library = "XGBoost"

    def _load(self) -> None:
        xgb = require("XGBoost", self.name)
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(self._data))
            config = json.loads(booster.save_config())
        except Exception as exc:
            raise _corrupt(self.name, exc) from None
        _xgb_validate(booster, self.name)
        learner = config.get("learner", {})
        self.objective = str(learner.get("objective", {}).get("name", ""))
        self.readiness_task = _task_of(
            self.objective, binary=("binary:logistic", "binary:logitraw"), multiclass=("multi:",),
            regression=("reg:", "count:poisson", "survival:aft", "survival:cox"), name=self.name)
        num_class = int(float(learner.get("learner_model_param", {}).get("num_class", "0") or 0))
        if self.readiness_task == "multiclass":
            self.n_classes_ = num_class
        elif self.readiness_task == "binary":
            self.n_classes_ = 2
        self._set_names(booster.feature_names, booster.num_features())
        types = booster.feature_types or []
        stored = _xgb_categories(booster)
        for i, t in enumerate(types):
            if t == "c":
                column = (booster.feature_names or [f"f{i}"])[i]
                if stored is None or column not in stored:
                    raise E.ModelError(E.MODEL_CATEGORIES_NOT_STORED.format(column=column, name=self.name))
                self.categorical[column] = stored[column]
        best = booster.attributes().get("best_iteration")
        self._range = (0, int(best) + 1) if best is not None else (0, 0)
        self.params = {"objective": self.objective, "num_boosted_rounds": booster.num_boosted_rounds(),
                       **_flat(learner.get("gradient_booster", {}).get("tree_train_param", {}))}
        self._booster = booster
        self.shap_model = booster

    def shap_input(self, X: pd.DataFrame):
        import xgboost as xgb

        return xgb.DMatrix(self._prepare(X), enable_categorical=bool(self.categorical))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The raw margin (log-odds, per-class scores before softmax, or the link-scale prediction)."""
        return np.asarray(self._booster.predict(self.shap_input(X), iteration_range=self._range, output_margin=True),
                          dtype=float)

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        margin = self.objective in ("binary:logitraw", "multi:softmax")
        out = self._booster.predict(self.shap_input(X), iteration_range=self._range, output_margin=margin)
        if self.objective == "binary:logitraw":
            return 1.0 / (1.0 + np.exp(-out))
        if self.objective == "multi:softmax":
            z = out - out.max(axis=1, keepdims=True)
            return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return out


def _xgb_validate(booster, name: str) -> None:
    """Every tree is a tree: XGBoost's prediction follows child and feature indices unchecked.

    Checked on the model XGBoost parsed (its own JSON of it): node arrays as long as the
    node count, children inside the tree and each node but the root reached exactly once
    from it (no cycle), split features below the model's feature count, categorical split
    segments inside the category list."""
    try:
        model = json.loads(booster.save_raw(raw_format="json"))
        n_features = int(model["learner"]["learner_model_param"]["num_feature"])
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
    except Exception as exc:  # a booster that is not a tree ensemble (gblinear: no trees; dart: same layout)
        if isinstance(exc, KeyError) and "trees" in str(exc):
            return
        raise _corrupt(name, exc) from None
    for t, tree in enumerate(trees):
        problem = _xgb_tree_problem(tree, n_features)
        if problem:
            raise E.ModelError(E.MODEL_INVALID_TREE.format(name=name, where=f"tree {t}", problem=problem))


def _xgb_tree_problem(tree: dict, n_features: int) -> str | None:
    try:
        n = int(tree["tree_param"]["num_nodes"])
        left, right = tree["left_children"], tree["right_children"]
        split = tree["split_indices"]
    except (KeyError, TypeError, ValueError):
        return "its node arrays are missing"
    for key in ("left_children", "right_children", "split_indices", "split_conditions", "default_left"):
        if len(tree.get(key, [])) != n:
            return f"'{key}' has {len(tree.get(key, []))} entries for {n} nodes"
    seen = np.zeros(n, dtype=bool)
    stack = [0] if n else []
    while stack:
        i = stack.pop()
        if seen[i]:
            return f"node {i} is reached twice (the nodes do not form a tree)"
        seen[i] = True
        a, b = int(left[i]), int(right[i])
        if a == -1 and b == -1:
            continue
        for child in (a, b):
            if not 0 < child < n:
                return f"node {i}'s child {child} is outside its {n} nodes"
        if not 0 <= int(split[i]) < n_features:
            return f"node {i} splits on feature {int(split[i])}, outside the model's {n_features} features"
        stack += [a, b]
    cats, segments, sizes = tree.get("categories", []), tree.get("categories_segments", []), \
        tree.get("categories_sizes", [])
    if len(segments) != len(sizes) or any(int(s) < 0 or int(k) < 0 or int(s) + int(k) > len(cats)
                                          for s, k in zip(segments, sizes, strict=False)):
        return "a categorical split points outside its category list"
    return None


def _xgb_categories(booster) -> dict[str, list] | None:
    """Categories stored in the model (XGBoost 3.1+), by feature name; None when it stores none."""
    getter = getattr(booster, "get_categories", None)
    if getter is None:
        return None
    try:
        table = getter(export_to_arrow=True)
    except Exception:
        return None
    if table is None:
        return None
    found = {}
    for feature, values in table.to_arrow():
        if values is not None:
            found[str(feature)] = values.to_pylist()
    return found or None


def _flat(params: dict) -> dict[str, Any]:
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool))}


# --- LightGBM -----------------------------------------------------------------------------------


class LightGBMModel(NativeModel):
    """LightGBM text model (``Booster.save_model('m.txt')``)."""

    library = "LightGBM"

    def _load(self) -> None:
        lgb = require("LightGBM", self.name)
        try:
            text = self._data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _corrupt(self.name, ValueError(f"not a LightGBM text model ({exc.reason})")) from None
        header = _lgb_header(text)
        if "tree" not in header or "feature_names" not in header:
            raise _corrupt(self.name, ValueError("not a LightGBM text model (no 'tree' header)"))
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                booster = lgb.Booster(model_str=text)
        except Exception as exc:
            raise _corrupt(self.name, exc) from None
        self.objective = header.get("objective", "").split(" ")[0]
        self.readiness_task = _task_of(
            self.objective, binary=("binary", "cross_entropy", "xentropy"), multiclass=("multiclass", "softmax",
                                                                                          "multiclassova", "ova"),
            regression=("regression", "l1", "l2", "mae", "mse", "rmse", "huber", "fair", "poisson", "quantile",
                        "mape", "gamma", "tweedie"), name=self.name)
        per_iteration = int(header.get("num_tree_per_iteration", "1") or 1)
        num_class = int(header.get("num_class", "1") or 1)
        expected = per_iteration if self.readiness_task == "multiclass" else 1
        if num_class != expected or per_iteration != expected or booster.num_trees() % max(expected, 1):
            raise E.ModelError(E.MODEL_INVALID_TREE.format(
                name=self.name, where="the header", problem=f"num_class={num_class} and num_tree_per_iteration="
                f"{per_iteration} do not fit a {self.readiness_task} model of {booster.num_trees()} trees"))
        if self.readiness_task == "multiclass":
            self.n_classes_ = num_class
        elif self.readiness_task == "binary":
            self.n_classes_ = 2
        names = booster.feature_name()
        self._set_names(names, len(names))
        infos = header.get("feature_infos", "").split(" ")
        cat_columns = [n for n, info in zip(names, infos, strict=False) if info and info != "none"
                       and not info.startswith("[")]
        stored = booster.pandas_categorical
        if stored is not None and len(stored) == len(cat_columns):
            self.categorical = {c: list(v) for c, v in zip(cat_columns, stored, strict=True)}
        self._int_categorical = [c for c in cat_columns if c not in self.categorical]
        self.params = {k: v for k, v in booster.params.items() if isinstance(v, (str, int, float, bool))}
        self.params.setdefault("objective", self.objective)
        self._booster = booster
        self.shap_model = booster

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        return super()._prepare(X)  # integer-coded categorical features are numbers like any other

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The raw score (log-odds, per-class scores before softmax, or the link-scale prediction)."""
        with contextlib.redirect_stdout(io.StringIO()):
            return np.asarray(self._booster.predict(self._prepare(X), raw_score=True), dtype=float)

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        frame = self._prepare(X)
        with contextlib.redirect_stdout(io.StringIO()):
            return self._booster.predict(frame)


def _lgb_header(text: str) -> dict[str, str]:
    """``key=value`` lines before the first tree."""
    header = {}
    for line in text[:1 << 20].splitlines():
        if line.startswith("Tree="):
            break
        key, sep, value = line.partition("=")
        if sep:
            header[key.strip()] = value.strip()
        elif line.strip() and "tree" not in header:
            header["tree"] = line.strip()
    return header


# --- CatBoost -----------------------------------------------------------------------------------


class CatBoostModel(NativeModel):
    """CatBoost binary model (``model.save_model('m.cbm')``)."""

    library = "CatBoost"

    def _load(self) -> None:
        cb = require("CatBoost", self.name)
        try:
            probe = cb.CatBoost()
            probe.load_model(blob=self._data)
            params = probe.get_all_params() or {}
        except Exception as exc:
            raise _corrupt(self.name, exc) from None
        self.objective = str(params.get("loss_function", "")).split(":")[0]
        self.readiness_task = _task_of(
            self.objective, binary=("Logloss", "CrossEntropy"), multiclass=("MultiClass",),
            regression=("RMSE", "MAE", "Quantile", "MAPE", "Poisson", "Tweedie", "Huber", "Expectile", "LogLinQuantile",
                        "Lq", "Cox", "SurvivalAft", "LogCosh", "RMSEWithUncertainty", "Log"), name=self.name)
        kind = cb.CatBoostRegressor if self.readiness_task == "regression" else cb.CatBoostClassifier
        model = kind()
        try:
            model.load_model(blob=self._data)
        except Exception as exc:
            raise _corrupt(self.name, exc) from None
        names = [str(n) for n in (model.feature_names_ or [])]
        self._set_names(names, len(names))
        self._columns = names
        if self.readiness_task != "regression":
            stored = getattr(model, "classes_", None)
            classes = [] if stored is None else list(stored)
            if classes:
                self.classes_ = np.asarray([_plain(c) for c in classes], dtype=object)
            self.n_classes_ = len(classes) or (2 if self.readiness_task == "binary" else 0)
            if self.readiness_task == "multiclass" and len(classes) == 2:
                self.readiness_task = "binary"
        self._cat = [names[i] for i in model.get_cat_feature_indices()]
        self.params = _flat(params)
        self._model = model
        self.shap_model = model

    def shap_input(self, X: pd.DataFrame):
        import catboost as cb

        return cb.Pool(self._prepare(X), cat_features=self._cat or None)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The raw formula value (log-odds, per-class scores before softmax, or the prediction)."""
        return np.asarray(self._model.predict(self._prepare(X), prediction_type="RawFormulaVal"), dtype=float)

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for c in X.columns:
            if c in self._cat:
                col = X[c]
                out[c] = col if pd.api.types.is_integer_dtype(col) else col.astype(object).where(col.notna(), "nan").astype(str)
            else:
                out[c] = self._numeric(X, c)
        return pd.DataFrame(out, index=X.index)

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        frame = self._prepare(X)
        if self.readiness_task == "regression":
            return self._model.predict(frame)
        return self._model.predict_proba(frame)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


# --- ONNX ---------------------------------------------------------------------------------------

_ONNX_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                "tensor(int32)": np.int32, "tensor(string)": object, "tensor(bool)": np.bool_}


class OnnxModel(NativeModel):
    """ONNX graph run by onnxruntime: one input per column (by name), or one input of all columns."""

    library = "ONNX"

    def _load(self) -> None:
        ort = require("ONNX", self.name)
        labels, proto = _onnx_check(self._data, self.name)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 4
        try:
            session = ort.InferenceSession(self._data, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise _corrupt(self.name, exc) from None
        inputs = session.get_inputs()
        self._inputs = [(i.name, i.type, i.shape) for i in inputs]
        per_column = len(inputs) > 1 or (len(inputs) == 1 and _width(inputs[0].shape) == 1)
        if per_column:
            self._set_names([i.name for i in inputs], len(inputs))
            self._matrix = False
        else:
            self._set_names(None, _width(inputs[0].shape) if inputs else 0)
            self._matrix = True
            if inputs and inputs[0].type not in _ONNX_DTYPES:
                raise E.ModelError(E.ONNX_INPUTS.format(name=self.name, inputs=self._describe_inputs(), n="all"))
        outputs = session.get_outputs()
        self._prob = next((o.name for o in outputs if o.type.startswith("seq(map(")), None)
        if self._prob is None:
            self._prob = next((o.name for o in outputs if o.type in ("tensor(float)", "tensor(double)")
                               and len(o.shape) == 2 and isinstance(o.shape[1], int) and o.shape[1] >= 2), None)
        if self._prob is not None:
            width = next((o.shape[1] for o in outputs if o.name == self._prob and len(o.shape) == 2), None)
            n = len(labels) if labels else (width if isinstance(width, int) else 0)
            self.readiness_task = "binary" if n == 2 else "multiclass"
            self.n_classes_ = n
            if labels:
                self.classes_ = np.asarray(labels, dtype=object)
            self.objective = "classification"
        else:
            self._value = next((o.name for o in outputs if o.type in ("tensor(float)", "tensor(double)")
                                and (len(o.shape) == 1 or (len(o.shape) == 2 and o.shape[1] in (1, None)))), None)
            if self._value is None:
                raise E.ModelError(E.ONNX_OUTPUTS.format(name=self.name, outputs=[(o.name, o.type) for o in outputs]))
            evidence = _onnx_probability_evidence(proto, self._value)
            if evidence:  # one column, and the graph says it is a probability: a binary classifier
                self._prob, self.readiness_task, self.n_classes_ = self._value, "binary", 2
                self.objective = f"binary classification: one probability output '{self._value}', {evidence}"
            else:  # one value per row: a regression, or the probability of a two-valued target's second value
                self.single_output = self._value
                self.readiness_task = "regression"
                self.objective = (f"one output '{self._value}': a regression, or a probability when the target "
                                  "has two values")
        self.readiness_kind = _onnx_simple_kind(proto) if self.readiness_task != "regression" else None
        meta = session.get_modelmeta()
        self.params = {"producer": meta.producer_name, "graph": meta.graph_name, **dict(meta.custom_metadata_map)}
        self._session = session

    #: the name of a single output that may be a regression or one class's probability (the target decides)
    single_output: str | None = None

    def as_binary(self) -> OnnxModel:
        """A copy that reads the single output as the probability of the second class (classes 0, 1)."""
        bound = copy.copy(self)
        bound._prob, bound.readiness_task, bound.n_classes_ = self.single_output, "binary", 2
        bound.objective = (f"binary classification: one output '{self.single_output}', read as the probability of "
                           "the target's second value")
        return bound

    def _describe_inputs(self) -> list[str]:
        return [f"{n} {t} {s}" for n, t, s in self._inputs]

    def _feeds(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        if self._matrix:
            name, kind, _ = self._inputs[0]
            frame = pd.DataFrame({c: self._numeric(X, c) for c in X.columns}, index=X.index)
            return {name: frame.to_numpy(dtype=_ONNX_DTYPES[kind])}
        feeds = {}
        for name, kind, _ in self._inputs:
            dtype = _ONNX_DTYPES.get(kind)
            if dtype is None:
                raise E.ModelError(E.ONNX_INPUTS.format(name=self.name, inputs=self._describe_inputs(),
                                                        n=X.shape[1]))
            col = X[name].astype(str) if dtype is object else self._numeric(X, name)
            feeds[name] = col.to_numpy(dtype=dtype).reshape(-1, 1)
        return feeds

    def _run(self, X: pd.DataFrame, output: str):
        try:
            return self._session.run([output], self._feeds(X))[0]
        except E.ReadinessError:
            raise
        except Exception as exc:
            raise E.ModelError(E.MODEL_PREDICT_FAILED.format(detail=_short(exc))) from None

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self.readiness_task == "regression":
            return np.asarray(self._run(X, self._value), dtype=float).reshape(-1)
        out = self._run(X, self._prob)
        if isinstance(out, list):  # ZipMap: one {label: probability} per row
            keys = list(self.classes_) if hasattr(self, "classes_") else list(out[0]) if out else []
            return np.asarray([[row[k] for k in keys] for row in out], dtype=float).reshape(len(out), len(keys))
        return np.asarray(out, dtype=float)


def _width(shape) -> int | None:
    if len(shape) == 2 and isinstance(shape[1], int):
        return shape[1]
    if len(shape) == 1:
        return 1
    return None


#: operators that pass a value through unchanged in meaning (shape and type only)
_ONNX_PASS_THROUGH = frozenset({"Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Cast"})


def _onnx_probability_evidence(proto, output: str) -> str | None:
    """Why a single output is a probability: a Sigmoid makes it (through reshapes), or its name says so."""
    producers = {o: n for n in proto.graph.node for o in n.output}
    name, seen = output, set()
    while name in producers and name not in seen:
        seen.add(name)
        node = producers[name]
        if node.op_type == "Sigmoid":
            return "the output of a Sigmoid"
        if node.op_type not in _ONNX_PASS_THROUGH or not node.input:
            break
        name = node.input[0]
    if "prob" in output.lower():
        return "named as a probability"
    return None


def _onnx_check(data: bytes, name: str) -> tuple[list | None, Any]:
    """Refuse external tensors and custom operator sets; the class labels the graph stores, if any, and the graph."""
    try:
        import onnx
    except ImportError:
        raise E.ModelError(E.MODEL_LIBRARY_MISSING.format(name=name, library="ONNX", extra="onnx",
                                                          package="onnxruntime onnx")) from None
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as exc:
        raise _corrupt(name, exc) from None
    graphs = [proto.graph, *(f for f in proto.functions)]
    labels = None
    for opset in proto.opset_import:
        if opset.domain not in ONNX_DOMAINS:
            raise E.ModelError(E.ONNX_DOMAIN.format(name=name, domain=opset.domain))
    while graphs:
        graph = graphs.pop()
        for tensor in getattr(graph, "initializer", []):
            if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
                where = next((e.value for e in tensor.external_data if e.key == "location"), "?")
                raise E.ModelError(E.ONNX_EXTERNAL_DATA.format(name=name, location=where[:80]))
        for node in graph.node:
            if node.domain not in ONNX_DOMAINS:
                raise E.ModelError(E.ONNX_DOMAIN.format(name=name, domain=node.domain))
            for attr in node.attribute:
                if attr.name in ("classlabels_strings", "classlabels_int64s") and labels is None:
                    values = list(attr.strings) if attr.strings else list(attr.ints)
                    if values:
                        labels = [v.decode() if isinstance(v, bytes) else int(v) for v in values]
                if attr.HasField("t") and (attr.t.data_location == onnx.TensorProto.EXTERNAL or attr.t.external_data):
                    raise E.ModelError(E.ONNX_EXTERNAL_DATA.format(name=name, location="an attribute tensor"))
                if attr.HasField("g"):
                    graphs.append(attr.g)
                graphs.extend(attr.graphs)
    return labels, proto


#: operators that only reshape, cast, scale or encode the inputs (no model of their own)
_ONNX_PLUMBING = frozenset({"FeatureVectorizer", "Scaler", "Normalizer", "Cast", "CastMap", "Concat", "ZipMap",
                            "Identity", "Imputer", "OneHotEncoder", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                            "ArrayFeatureExtractor", "LabelEncoder"})


def _onnx_simple_kind(proto) -> str | None:
    """'logistic_regression' when the graph's only model is one LinearClassifier with a logistic or softmax link
    (what skl2onnx makes of a LogisticRegression, scaled or not), so that the baselines see the model is itself
    a simple baseline, as they do for the scikit-learn object; None for anything else."""
    nodes = list(proto.graph.node)
    linear = [n for n in nodes if n.op_type == "LinearClassifier"]
    if len(linear) != 1 or any(n.op_type not in _ONNX_PLUMBING | {"LinearClassifier"} for n in nodes):
        return None
    link = next((a.s for a in linear[0].attribute if a.name == "post_transform"), b"NONE")
    return "logistic_regression" if link in (b"LOGISTIC", b"SOFTMAX") else None


KINDS = {"xgboost": XGBoostModel, "lightgbm": LightGBMModel, "catboost": CatBoostModel, "onnx": OnnxModel}


def load_native(data: bytes, *, name: str, kind: str) -> NativeModel:
    return KINDS[kind](data, name)
