"""Explanation machinery: SHAP, LIME and permutation importance in the *original* feature space.

Used by ``readiness.checks.explanations`` and by pages (``explain_row``). Pure library
code: no streamlit; ``shap`` and ``lime`` are imported lazily inside functions.

SHAP explainer choice (the fastest the model allows; see docs/checks.md):

* ``tree``: ``shap.TreeExplainer`` on the final estimator of a pipeline over
  ``pipeline[:-1].transform(X)`` (or on the bare estimator over numeric ``X``).
* ``linear``: exact interventional linear SHAP, ``coef * (x - mean of training x)`` on the
  transformed columns — what ``shap.LinearExplainer`` computes with an independent masker.
* ``permutation``: model-agnostic ``shap.PermutationExplainer`` over the original columns,
  with categorical columns encoded to integer codes and decoded inside the prediction
  function, on a small training background, under a time budget.

Transformed columns are mapped back to the original features by perturbation (change one
original column, see which transformed columns move), with ``get_feature_names_out``
prefixes as the fallback for columns the sample cannot move (e.g. an absent one-hot
category). A transformed column owned by several features is split equally among them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from readiness.inputs.context import ReviewContext
from readiness.inputs.models import final_estimator
from readiness.stats import max_abs_correlation, standardised

# --- knobs (documented in docs/checks.md) -----------------------------------------------
SHAP_BUDGET_S = 15.0  # wall-clock budget for global SHAP on the holdout sample
SHAP_MAX_ROWS = 2000  # holdout rows explained at most by the fast (tree / linear) explainers
AGNOSTIC_MAX_ROWS = 200  # ... by the model-agnostic explainer
BACKGROUND_ROWS = 50  # training rows in the model-agnostic background
AGNOSTIC_PERMUTATIONS = 10  # antithetic permutations per row (max_evals = 10 * (2p + 1))
AGNOSTIC_EVALS = 12000  # model-agnostic plan: rows = this / max_evals, between the two bounds below
AGNOSTIC_MIN_ROWS = 10
POINTS_PER_FEATURE = 400  # beeswarm / dependence points stored per top feature
TOP_FEATURES = 10  # features with stored points
MAX_CLASSES_EXPLAINED = 30  # multiclass: per-class SHAP importances kept up to this many classes
LIME_SAMPLES = 3000  # perturbed samples per LIME explanation
LIME_TRAIN_ROWS = 5000  # training rows LIME takes its statistics from
AGREEMENT_TOP_K = 3  # SHAP and LIME are compared on their top-k features ...
MATERIAL_SHARE = 0.1  # ... among those with at least 10% of the method's largest weight on that row
PERM_REPEATS = 10
PERM_MIN_REPEATS = 5
PERM_MAX_ROWS = 2000
PERM_MIN_ROWS = 500
PERM_SCORED_ROWS = 600_000  # permutation plan: rows scored in total at most (see permutation_plan)
CORRELATED_GROUP_RHO = 0.7  # |Spearman rho| that puts numeric features in one group
MAX_DENSE_COLUMNS = 5000  # more transformed columns than this: use the model-agnostic path
#: column budget (issue 9, item 7): with more features than this, permutation importance shuffles and LIME
#: varies only the ones most associated with the model's score (:func:`screened_features`), so their time
#: and memory do not grow with the column count; the numbers screened and available are reported
EXPLAIN_MAX_FEATURES = 200
SCREEN_ROWS = 2000  # holdout rows the screen ranks features on
SCREEN_CHUNK = 256  # columns ranked at a time
LIME_SCORE_CHUNK = 500  # LIME's perturbed rows scored at a time (full-width frames stay small)

Progress = Callable[[int, int], None]


@contextmanager
def _single_thread():
    """Many small predict calls: OpenMP / BLAS threads spinning on a shared machine cost more
    than they give (measured: 0.6 s instead of 8 ms per call under load)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1):
        yield


# --- numeric encoding of the original features -------------------------------------------


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


@dataclass
class Encoding:
    """Original features <-> a float matrix: numbers as they are, categories as codes.

    Category codes index ``categories[j]``; a missing value is its own category (``None``).
    """

    features: list[str]
    categories: dict[int, np.ndarray]  # feature index -> object array of values

    @classmethod
    def fit(cls, frames: list[pd.DataFrame], features: list[str]) -> Encoding:
        both = pd.concat([f[features] for f in frames], ignore_index=True)
        cats: dict[int, np.ndarray] = {}
        for j, col in enumerate(features):
            s = both[col]
            if _is_numeric(s):
                continue
            values = s.dropna().unique().tolist()
            try:
                values = sorted(values)
            except TypeError:
                values = sorted(values, key=str)
            if s.isna().any():
                values.append(None)
            cats[j] = np.array(values, dtype=object)
        return cls(list(features), cats)

    @property
    def categorical(self) -> list[int]:
        return sorted(self.categories)

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        Z = np.empty((len(X), len(self.features)), dtype=float)
        for j, col in enumerate(self.features):
            if j in self.categories:
                cats = self.categories[j]
                lookup = {v: i for i, v in enumerate(cats) if v is not None}
                missing_code = len(cats) - 1 if cats.size and cats[-1] is None else -1
                Z[:, j] = [missing_code if _isna(v) else lookup.get(v, -1) for v in X[col].tolist()]
            else:
                Z[:, j] = pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=float)
        return Z

    def decode(self, Z: np.ndarray) -> pd.DataFrame:
        out = {}
        for j, col in enumerate(self.features):
            if j in self.categories:
                cats = self.categories[j]
                codes = np.round(np.nan_to_num(Z[:, j], nan=-1)).astype(int)
                vals = cats[np.clip(codes, 0, max(len(cats) - 1, 0))] if len(cats) else np.full(len(Z), None)
                vals = np.where((codes < 0) | (codes >= len(cats)), None, vals)
                out[col] = vals
            else:
                out[col] = Z[:, j]
        return pd.DataFrame(out)

    def names(self, j: int) -> list[str]:
        return ["missing" if v is None else str(v) for v in self.categories[j]]


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# --- the explained output ---------------------------------------------------------------


def _class_index(ctx: ReviewContext, label) -> int:
    for i, c in enumerate(ctx.model.classes):
        if c == label or str(c) == str(label):
            return i
    raise KeyError(label)


def explained_output(ctx: ReviewContext) -> str:
    """What is explained, in words."""
    if ctx.task == "binary":
        return f"the score for '{ctx.positive_label}'"
    if ctx.task == "multiclass":
        return "the score of each row's predicted class"
    return "the predicted value"


def _predicted_class_index(ctx: ReviewContext, X: pd.DataFrame) -> np.ndarray:
    pred = ctx.model.predict(X)
    idx = {str(c): i for i, c in enumerate(ctx.model.classes)}
    return np.array([idx.get(str(p), 0) for p in pred], dtype=int)


# --- explainer state (built once per review context) -------------------------------------


@dataclass
class _State:
    kind: str  # tree | linear | permutation
    label: str
    output_space: str
    encoding: Encoding
    names: list[str]  # original features (+ "(unmapped model inputs)" if any)
    pre: Any = None  # transformer of the original frame (pipeline[:-1]) or None
    weights: np.ndarray | None = None  # (transformed columns, len(names)) ownership matrix
    tree: Any = None
    native: Any = None  # the XGBoost / LightGBM / CatBoost file model whose booster ``tree`` explains
    linear: tuple | None = None  # (coef (C or 1, k), mean (k,))
    agnostic: Any = None
    additivity_error: float | None = None
    notes: list[str] = field(default_factory=list)
    lime: Any = None
    lime_medians: np.ndarray | None = None
    lime_encoding: Any = None  # over the screened features (all of them up to EXPLAIN_MAX_FEATURES)
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATES: OrderedDict[str, _State] = OrderedDict()
_STATES_LOCK = threading.Lock()
_MAX_STATES = 4


def _state(ctx: ReviewContext) -> _State:
    with _STATES_LOCK:
        st = _STATES.get(ctx.digest)
        if st is not None:
            _STATES.move_to_end(ctx.digest)
            return st
    st = _build_state(ctx)
    with _STATES_LOCK:
        _STATES[ctx.digest] = st
        while len(_STATES) > _MAX_STATES:
            _STATES.popitem(last=False)
    return st


def clear_cache() -> None:
    with _STATES_LOCK:
        _STATES.clear()


def _dense(M) -> np.ndarray:
    if hasattr(M, "toarray"):
        M = M.toarray()
    if hasattr(M, "to_numpy"):
        M = M.to_numpy()
    return np.asarray(M, dtype=float)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    return frame.sample(n, random_state=seed)


def _split(estimator):
    """(preprocessing, final estimator) of a pipeline; (None, estimator) otherwise."""
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        return estimator[:-1], final_estimator(estimator)
    return None, final_estimator(estimator)


def _build_state(ctx: ReviewContext) -> _State:
    feats = list(ctx.model.features)
    enc = Encoding.fit([ctx.train, ctx.test], feats)
    pre, final = _split(ctx.model.estimator)
    seed = ctx.settings.random_state
    probe = pd.concat([_sample(ctx.train[feats], 400, seed), _sample(ctx.test[feats], 400, seed)], ignore_index=True)
    notes: list[str] = []
    if pre is None and getattr(final, "shap_model", None) is not None:  # an XGBoost / LightGBM / CatBoost file
        try:
            native = _native_tree_state(ctx, final, probe)
        except Exception as exc:  # pragma: no cover - a surprise in the library: the model-agnostic path
            native = None
            notes.append(f"Tree SHAP on the {final.library} model did not apply ({type(exc).__name__}: "
                         f"{str(exc)[:120]}); used the model-agnostic explainer.")
        if native is not None:
            native.encoding, native.names, native.weights = enc, list(feats), None
            return native
        if not notes:
            notes.append(f"Tree SHAP values of the {final.library} model did not add up to its output; "
                         "used the model-agnostic explainer.")
        return _agnostic_state(ctx, enc, notes)
    try:
        if pre is not None:
            weights, names = _ownership(pre, probe, feats)
            Xt_probe = _dense(pre.transform(probe))
        else:
            if not all(pd.api.types.is_numeric_dtype(probe[c]) for c in feats):  # bools are fine here
                raise TypeError("the model takes non-numeric columns directly")
            weights, names = np.eye(len(feats)), list(feats)
            Xt_probe = _dense(probe)
        if Xt_probe.shape[1] > MAX_DENSE_COLUMNS:
            raise TypeError(f"{Xt_probe.shape[1]} transformed columns")
        fast = _tree_state(ctx, final, Xt_probe, probe) or _linear_state(ctx, pre, final, Xt_probe, probe)
        if fast is not None:
            fast.encoding, fast.names, fast.pre, fast.weights = enc, names, pre, weights
            if "(unmapped model inputs)" in names:
                fast.notes.append("Some transformed model inputs could not be traced to an original column; "
                                  "their share is shown as '(unmapped model inputs)'.")
            return fast
        notes.append(f"{type(final).__name__} has no fast SHAP explainer; used the model-agnostic one.")
    except Exception as exc:  # any surprise on the fast path: fall back to the model-agnostic explainer
        notes.append(f"The fast SHAP path did not apply ({type(exc).__name__}: {str(exc)[:120]}); "
                     "used the model-agnostic explainer.")
    return _agnostic_state(ctx, enc, notes)


def _ownership(pre, probe: pd.DataFrame, feats: list[str]) -> tuple[np.ndarray, list[str]]:
    """Which original feature(s) each transformed column comes from, as a weight matrix."""
    base = _dense(pre.transform(probe))
    k = base.shape[1]
    owners = np.zeros((k, len(feats)), dtype=bool)
    n = len(probe)
    for j, col in enumerate(feats):
        moved = probe.copy()
        values = probe[col].to_numpy()
        moved[col] = np.roll(values, max(1, n // 2))
        changed = ~_same(_dense(pre.transform(moved)), base)
        owners[changed.any(axis=0), j] = True
    # columns the probe could not move: match by output name (``prefix__feature_category``)
    lost = np.flatnonzero(~owners.any(axis=1))
    if lost.size:
        try:
            out_names = [str(s) for s in pre.get_feature_names_out()]
        except Exception:
            out_names = []
        for i in lost:
            if i < len(out_names):
                j = _owner_by_name(out_names[i], feats)
                if j is not None:
                    owners[i, j] = True
    weights = owners / np.maximum(owners.sum(axis=1, keepdims=True), 1)
    names = list(feats)
    if (~owners.any(axis=1)).any():
        extra = (~owners.any(axis=1)).astype(float)[:, None]
        weights = np.hstack([weights, extra])
        names.append("(unmapped model inputs)")
    return weights, names


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isclose(a, b, equal_nan=True)


def _owner_by_name(name: str, feats: list[str]) -> int | None:
    candidates = [name]
    if "__" in name:
        candidates.append(name.split("__", 1)[1])
    best = None
    for cand in candidates:
        for j, f in enumerate(feats):
            if (cand == f or cand.startswith(f + "_")) and (best is None or len(f) > len(feats[best])):
                best = j
    return best


def _candidate_outputs(ctx: ReviewContext, final, Xt: np.ndarray, frame: pd.DataFrame, cls: int) -> dict[str, np.ndarray]:
    """The model's outputs for class index ``cls`` in each space an explainer might use."""
    out: dict[str, np.ndarray] = {}
    if ctx.task == "regression":
        out["prediction"] = np.asarray(ctx.model.estimator.predict(frame[ctx.model.features]), dtype=float)
        if hasattr(ctx.model.estimator, "decision_function"):  # a boosting file's link scale (e.g. Poisson: log)
            out["decision function"] = np.asarray(ctx.model.estimator.decision_function(frame[ctx.model.features]),
                                                  dtype=float).reshape(-1)
        return out
    est = ctx.model.estimator
    X = frame[ctx.model.features]
    p = None
    if hasattr(est, "predict_proba"):
        p = np.asarray(est.predict_proba(X), dtype=float)[:, cls]
        out["probability"] = p
    if hasattr(est, "decision_function"):
        d = np.asarray(est.decision_function(X), dtype=float)
        d = (d if cls == 1 else -d) if d.ndim == 1 else d[:, cls]
        # a decision function whose sigmoid is the probability is the log-odds
        is_logit = ctx.task == "binary" and p is not None and np.allclose(1 / (1 + np.exp(-d)), p, atol=1e-6)
        out["log-odds" if is_logit else "decision function"] = d
    if ctx.task == "binary" and p is not None and "log-odds" not in out:
        pc = np.clip(p, 1e-12, 1 - 1e-12)
        out["log-odds"] = np.log(pc / (1 - pc))
    return out


def _identify_space(totals: np.ndarray, candidates: dict[str, np.ndarray]) -> tuple[str, float]:
    best, err = "raw model output", math.inf
    for name, values in candidates.items():
        e = float(np.nanmax(np.abs(totals - values))) if len(values) else math.inf
        if e < err - 1e-9:  # near-ties keep the first (log-odds before decision function)
            best, err = name, e
    scale = max(1.0, float(np.nanmax(np.abs(totals))) if totals.size else 1.0)
    if err > 1e-3 * scale:
        return "raw model output", err
    return best, err


def _tree_state(ctx, final, Xt_probe, probe) -> _State | None:
    try:
        import shap

        explainer = shap.TreeExplainer(final)
    except Exception:
        return None
    st = _State(kind="tree", label="Tree SHAP (exact, on the model's trees)", output_space="", encoding=None,
                names=[], tree=explainer)
    rows = slice(0, min(100, len(probe)))
    values, base = _tree_raw(st, Xt_probe[rows])
    if not _settle_space(ctx, st, final, values, base, Xt_probe[rows], probe.iloc[rows]):
        return None
    return st


def _tree_raw(st: _State, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values (n, k[, C]), base (n[, C])) from the tree explainer, shapes normalised."""
    exp = st.tree(Xt, check_additivity=False)
    values = np.asarray(exp.values, dtype=float)
    base = np.asarray(exp.base_values, dtype=float)
    if base.ndim == 0:
        base = np.full(len(Xt), float(base))
    if values.ndim == 3 and base.ndim == 1:
        base = np.tile(base, (len(Xt), 1))
    return values, base


def _native_tree_state(ctx, model, probe: pd.DataFrame) -> _State | None:
    """Tree SHAP on the booster of an XGBoost / LightGBM / CatBoost file, over the original columns.

    ``shap.TreeExplainer`` (path-dependent, exact) on the library's own model object; the
    rows go in as the library reads them (stored categories, CatBoost cat features), so
    every original column gets its own contribution and nothing is encoded or refit."""
    import shap

    explainer = shap.TreeExplainer(model.shap_model)
    st = _State(kind="tree", label=f"Tree SHAP (exact, on the {model.library} model's trees)", output_space="",
                encoding=None, names=[], tree=explainer)
    st.native = model
    rows = probe.iloc[: min(100, len(probe))]
    values, base = _native_raw(st, rows)
    if not _settle_space(ctx, st, model, values, base, None, rows):
        return None
    return st


def _native_raw(st: _State, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(values (n, k[, C]), base (n[, C])) of a booster, shapes normalised like :func:`_tree_raw`."""
    import warnings

    model = st.native
    with _single_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # shap's note on LightGBM's binary output shape
        values = np.asarray(st.tree.shap_values(model.shap_input(X), check_additivity=False), dtype=float)
    base = np.asarray(st.tree.expected_value, dtype=float)
    n = len(X)
    if values.ndim == 3 and values.shape[2] == 1:  # one output in a 3-d array
        values = values[:, :, 0]
    if values.ndim == 3:
        base = np.tile(base.reshape(-1), (n, 1))
    else:
        base = np.full(n, float(base.reshape(-1)[0]))
    return values, base


def _linear_state(ctx, pre, final, Xt_probe, probe) -> _State | None:
    coef = getattr(final, "coef_", None)
    intercept = getattr(final, "intercept_", None)
    if coef is None or intercept is None:
        return None
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    if coef.shape[1] != Xt_probe.shape[1]:
        return None
    feats = list(ctx.model.features)
    bg = _sample(ctx.train[feats], 20000, ctx.settings.random_state)
    mean = _dense(pre.transform(bg) if pre is not None else bg).mean(axis=0)
    st = _State(kind="linear", label="Linear SHAP (exact: coefficient × (value − training mean))", output_space="",
                encoding=None, names=[], linear=(coef, mean))
    rows = slice(0, min(100, len(probe)))
    values, base = _linear_raw(st, Xt_probe[rows], intercept=np.atleast_1d(intercept))
    if not _settle_space(ctx, st, final, values, base, Xt_probe[rows], probe.iloc[rows]):
        return None
    st.linear = (coef, mean, np.atleast_1d(np.asarray(intercept, dtype=float)))
    return st


def _linear_raw(st: _State, Xt: np.ndarray, intercept=None) -> tuple[np.ndarray, np.ndarray]:
    coef, mean = st.linear[0], st.linear[1]
    if intercept is None:
        intercept = st.linear[2]
    centred = Xt - mean
    if coef.shape[0] == 1:
        values = centred * coef[0]
        base = np.full(len(Xt), float(intercept[0] + coef[0] @ mean))
        return values, base
    values = centred[:, :, None] * coef.T[None, :, :]  # (n, k, C)
    base = np.tile(intercept + coef @ mean, (len(Xt), 1))
    return values, base


def _settle_space(ctx, st: _State, final, values, base, Xt, frame) -> bool:
    """Find which output space the raw explainer values add up to; set orientation.

    Binary explanations are turned towards the positive label. False when the values
    add up to nothing the model outputs (then the fast path is not trusted)."""
    pos = _class_index(ctx, ctx.positive_label) if ctx.task == "binary" else None
    if ctx.task == "binary":
        if values.ndim == 3:
            totals, cls = values[:, :, pos].sum(axis=1) + base[:, pos], pos
            st.notes.append("class-output")
        else:
            totals, cls = values.sum(axis=1) + base, 1
    elif ctx.task == "multiclass":
        if values.ndim != 3:
            return False
        totals, cls = values[:, :, 0].sum(axis=1) + base[:, 0], 0
    else:
        totals, cls = values.sum(axis=1) + base, None
    cands = _candidate_outputs(ctx, final, Xt, frame, cls)
    space, err = _identify_space(totals, cands)
    if space == "raw model output":
        return False
    st.output_space = space
    st.additivity_error = err
    st.notes = [n for n in st.notes if n != "class-output"]
    st._class_output = values.ndim == 3  # type: ignore[attr-defined]
    st._flip = ctx.task == "binary" and values.ndim == 2 and pos == 0  # type: ignore[attr-defined]
    return True


def _agnostic_state(ctx: ReviewContext, enc: Encoding, notes: list[str]) -> _State:
    import shap

    feats = enc.features
    bg = enc.encode(_sample(ctx.train[feats], BACKGROUND_ROWS, ctx.settings.random_state))
    f = _score_function(ctx, enc)
    explainer = shap.PermutationExplainer(f, shap.maskers.Independent(bg, max_samples=BACKGROUND_ROWS),
                                          seed=ctx.settings.random_state)
    space = "prediction" if ctx.task == "regression" else (
        "probability" if ctx.model.scores_are_probabilities else "decision function")
    st = _State(kind="permutation", label=f"Permutation SHAP (model-agnostic, {len(bg)} background rows)",
                output_space=space, encoding=enc, names=list(feats), agnostic=explainer, notes=notes)
    st._class_output = ctx.task == "multiclass"  # type: ignore[attr-defined]
    st._flip = False  # type: ignore[attr-defined]
    return st


def _score_function(ctx: ReviewContext, enc: Encoding) -> Callable[[np.ndarray], np.ndarray]:
    def f(Z: np.ndarray) -> np.ndarray:
        return np.asarray(ctx.model.scores(enc.decode(np.atleast_2d(Z))), dtype=float)

    return f


# --- SHAP values in the original feature space -------------------------------------------


@dataclass
class ShapValues:
    values: np.ndarray  # (n, len(names)) contributions of the explained output
    base: np.ndarray  # (n,) expected output
    names: list[str]
    rows: np.ndarray  # holdout row positions
    by_class: np.ndarray | None = None  # multiclass: (n, len(names), classes) contributions to each class's score


def shap_values(ctx: ReviewContext, rows: np.ndarray) -> ShapValues:
    """SHAP values of the explained output for holdout rows (positions), original features."""
    st = _state(ctx)
    rows = np.asarray(rows, dtype=int)
    X = ctx.test.iloc[rows][ctx.model.features]
    if st.kind == "permutation":
        values, base = _agnostic_raw(ctx, st, X, rows)
    elif st.native is not None:
        values, base = _native_raw(st, X)
    else:
        Xt = _dense(st.pre.transform(X)) if st.pre is not None else _dense(X)
        values, base = _tree_raw(st, Xt) if st.kind == "tree" else _linear_raw(st, Xt)
    raw = values
    values, base = _select_output(ctx, st, values, base, X)
    if st.weights is not None:
        values = values @ st.weights
    out = ShapValues(values=values, base=base, names=list(st.names), rows=rows)
    if ctx.task == "multiclass" and raw.ndim == 3:  # every class's contributions, for a class the reader picks
        out.by_class = np.stack([raw[:, :, c] @ st.weights if st.weights is not None else raw[:, :, c]
                                 for c in range(raw.shape[2])], axis=2)
    return out


def _agnostic_raw(ctx, st: _State, X: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model-agnostic SHAP, one row at a time with a per-row seed: the same row gets the same
    values whichever batch it is explained in (shap's permutation explainer draws its
    permutations from NumPy's global generator; its state is restored afterwards)."""
    p = len(st.names)
    Z = st.encoding.encode(X)
    with st.lock:  # the global NumPy generator is shared: one explanation at a time
        return _agnostic_locked(ctx, st, Z, rows, p)


def _agnostic_locked(ctx, st: _State, Z: np.ndarray, rows: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    vals, bases = [], []
    saved = np.random.get_state()
    try:
        with _single_thread():
            for i, row in enumerate(rows):
                np.random.seed((ctx.settings.random_state * 1_000_003 + int(row)) % (2**32))
                exp = st.agnostic(Z[i: i + 1], max_evals=AGNOSTIC_PERMUTATIONS * (2 * p + 1), silent=True)
                vals.append(np.asarray(exp.values, dtype=float)[0])
                bases.append(np.asarray(exp.base_values, dtype=float)[0])
    finally:
        np.random.set_state(saved)
    return np.stack(vals), np.stack(bases)


def agnostic_row_plan(n_features: int) -> int:
    """Holdout rows the model-agnostic explainer takes: a fixed rule (not a clock), so a
    re-run gives the same numbers; the time budget only guards against a slow machine."""
    per_row = AGNOSTIC_PERMUTATIONS * (2 * n_features + 1)
    return int(min(AGNOSTIC_MAX_ROWS, max(AGNOSTIC_MIN_ROWS, AGNOSTIC_EVALS // per_row)))


def _select_output(ctx, st: _State, values: np.ndarray, base: np.ndarray, X: pd.DataFrame):
    if ctx.task == "binary":
        if values.ndim == 3:
            pos = _class_index(ctx, ctx.positive_label)
            return values[:, :, pos], base[:, pos]
        if getattr(st, "_flip", False):
            base = 1 - base if st.output_space == "probability" else -base
            return -values, base
        return values, np.broadcast_to(base, (len(values),)).astype(float)
    if ctx.task == "multiclass":
        cls = _predicted_class_index(ctx, X)
        if values.ndim == 3:
            idx = np.arange(len(values))
            return values[idx, :, cls], base[idx, cls]
        return values, base
    return values, np.broadcast_to(base, (len(values),)).astype(float)


def explainer_info(ctx: ReviewContext) -> dict:
    st = _state(ctx)
    return {"explainer": st.kind, "explainer_label": st.label, "output_space": st.output_space,
            "explained_output": explained_output(ctx), "notes": list(st.notes),
            "additivity_error": st.additivity_error}


def global_shap(ctx: ReviewContext, *, budget_s: float = SHAP_BUDGET_S, max_rows: int | None = None,
                progress: Progress | None = None) -> dict:
    """Mean |SHAP| per original feature on a seeded holdout sample.

    The sample size is a fixed rule (tree / linear: up to 2,000 rows; model-agnostic: see
    :func:`agnostic_row_plan`), so a re-run reproduces the numbers. Rows are explained in
    chunks; if the budget is spent first (a slow machine), explaining stops there and
    ``stopped_by_budget`` says so; the first chunk, which pays one-time set-up, is not
    counted. Returns plain data (docs/checks.md, ``explanations.shap``).
    """
    start = time.perf_counter()
    st = _state(ctx)
    agnostic = st.kind == "permutation"
    cap = max_rows or (agnostic_row_plan(len(st.names)) if agnostic else SHAP_MAX_ROWS)
    rng = np.random.default_rng(ctx.settings.random_state)
    n_test = len(ctx.test)
    order = rng.permutation(n_test)[: min(cap, n_test)]
    chunk = 4 if agnostic else 500
    parts: list[ShapValues] = []
    done, stopped = 0, False
    while done < len(order):
        parts.append(shap_values(ctx, order[done: done + chunk]))
        done += len(parts[-1].rows)
        if len(parts) == 1:
            # the first chunk pays one-time set-up (shap's numba compilation: ~10 s per process
            # for the model-agnostic explainer); the budget is for the rest
            start = time.perf_counter()
        if progress is not None:
            progress(done, len(order))
        if done < len(order) and time.perf_counter() - start > budget_s:
            stopped = True
            break
    values = np.vstack([p.values for p in parts])
    base = np.concatenate([p.base for p in parts])
    rows = np.concatenate([p.rows for p in parts])
    names = parts[0].names
    mean_abs = np.abs(values).mean(axis=0)
    total = float(mean_abs.sum())
    rank = np.argsort(-mean_abs, kind="stable")
    importance = {names[j]: float(mean_abs[j]) for j in rank}
    share = {names[j]: (float(mean_abs[j]) / total if total > 0 else 0.0) for j in rank}
    mean_signed = {names[j]: float(values[:, j].mean()) for j in rank}
    top = [names[j] for j in rank[:TOP_FEATURES] if mean_abs[j] > 0 or total == 0]
    points = _points(ctx, values, rows, names, top)
    from readiness.explain_stats import ranking_stability

    by_class = None
    if ctx.task == "multiclass" and all(p.by_class is not None for p in parts) \
            and len(ctx.model.classes) <= MAX_CLASSES_EXPLAINED:
        allc = np.concatenate([p.by_class for p in parts], axis=0)  # rows × features × classes
        by_class = {}
        for c, label in enumerate(ctx.model.classes):
            ma = np.abs(allc[:, :, c]).mean(axis=0)
            order_c = np.argsort(-ma, kind="stable")
            tot = float(ma.sum())
            by_class[str(label)] = {"global_importance": {names[j]: float(ma[j]) for j in order_c},
                                    "importance_share": {names[j]: float(ma[j]) / tot if tot > 0 else 0.0
                                                         for j in order_c},
                                    "mean_shap": {names[j]: float(allc[:, j, c].mean()) for j in order_c}}
    return {
        "by_class": by_class,
        "ranking_stability": ranking_stability(values, names, seed=ctx.settings.random_state),
        **explainer_info(ctx),
        "rows_explained": int(len(rows)),
        "rows_available": int(n_test),
        "row_cap": int(cap),
        "background_rows": BACKGROUND_ROWS if agnostic else None,
        "budget_s": budget_s,
        "stopped_by_budget": stopped,
        "base_value": float(np.mean(base)),
        "global_importance": importance,
        "importance_share": share,
        "mean_shap": mean_signed,
        "top_features": top,
        "points": points,
    }


def _points(ctx, values: np.ndarray, rows: np.ndarray, names: list[str], top: list[str]) -> dict:
    """Per top feature: the (value, SHAP) pairs behind the beeswarm and dependence plots."""
    rng = np.random.default_rng(ctx.settings.random_state + 1)
    keep = np.sort(rng.permutation(len(rows))[:POINTS_PER_FEATURE])
    out = {}
    for name in top:
        j = names.index(name)
        shap_col = values[keep, j]
        if name not in ctx.test.columns:
            out[name] = {"value": [None] * len(keep), "shap": _round(shap_col), "pct": None, "numeric": False,
                         "trend": None}
            continue
        col = ctx.test[name].iloc[rows[keep]]
        numeric = _is_numeric(col)
        entry: dict[str, Any] = {"shap": _round(shap_col), "numeric": numeric}
        if numeric:
            v = col.to_numpy(dtype=float)
            entry["value"] = _round(v, 6)
            entry["pct"] = _round(_colour_scale(v), 3)
            ok = ~np.isnan(v)
            entry["trend"] = (_spearman(v[ok], shap_col[ok]) if ok.sum() > 2 else None)
        else:
            entry["value"] = ["missing" if _isna(x) else str(x) for x in col.tolist()]
            entry["pct"] = None
            entry["trend"] = None
        out[name] = entry
    return out


def _colour_scale(v: np.ndarray) -> np.ndarray:
    """Value -> [0, 1] for the beeswarm colour: linear between the 5th and 95th percentile,
    clipped (as SHAP's own beeswarm does); ties stay ties, so a zero-inflated column's zeros
    are all 'low'. Min-max when those percentiles coincide; 0.5 for a constant column."""
    ok = v[~np.isnan(v)]
    if ok.size == 0:
        return np.full(len(v), np.nan)
    lo, hi = np.nanpercentile(ok, [5, 95])
    if hi <= lo:
        lo, hi = float(ok.min()), float(ok.max())
    if hi <= lo:
        return np.where(np.isnan(v), np.nan, 0.5)
    return np.clip((v - lo) / (hi - lo), 0, 1)


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if np.std(a) == 0 or np.std(b) == 0:
        return None
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def _round(a, digits: int = 5) -> list:
    a = np.asarray(a, dtype=float)
    return [None if not np.isfinite(x) else float(f"{x:.{digits}g}") for x in a]


# --- rows worth explaining ---------------------------------------------------------------


def _row_scores(ctx: ReviewContext) -> np.ndarray:
    return np.asarray(ctx.test_scores, dtype=float)


def default_row(ctx: ReviewContext) -> int:
    """The holdout row the LIME check explains: the hardest call.

    Binary: the score closest to the decision threshold; multiclass: the smallest margin
    between the two most likely classes; regression: the prediction closest to the median.
    """
    s = _row_scores(ctx)
    if ctx.task == "binary":
        return int(np.nanargmin(np.abs(s - ctx.settings.threshold)))
    if ctx.task == "multiclass":
        top2 = np.sort(s, axis=1)[:, -2:]
        return int(np.nanargmin(top2[:, 1] - top2[:, 0]))
    return int(np.nanargmin(np.abs(s - np.nanmedian(s))))


def suggested_rows(ctx: ReviewContext) -> list[dict]:
    """A few holdout rows a reviewer should look at, each with the reason (row = position)."""
    s = _row_scores(ctx)
    out: list[dict] = []

    def add(i, reason):
        same = next((r for r in out if r["row"] == int(i)), None)
        if same is None:
            out.append({"row": int(i), "reason": reason})
        else:  # one row, several reasons
            same["reason"] += f"; {reason}"

    add(default_row(ctx), "prediction nearest the median (default)" if ctx.task == "regression"
        else "closest call (default)")
    if ctx.task == "binary":
        y = ctx.y_test_binary
        add(np.nanargmax(s), "highest score")
        add(np.nanargmin(s), "lowest score")
        neg, pos = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
        if neg.size:
            add(neg[np.nanargmax(s[neg])], "most confident false alarm (highest score, actually negative)")
        if pos.size:
            add(pos[np.nanargmin(s[pos])], "most confident miss (lowest score, actually positive)")
    elif ctx.task == "multiclass":
        conf = np.nanmax(s, axis=1)
        add(np.nanargmax(conf), "most confident prediction")
        wrong = np.flatnonzero(np.asarray(ctx.test_pred).astype(str) != ctx.y_test.astype(str).to_numpy())
        if wrong.size:
            add(wrong[np.nanargmax(conf[wrong])], "most confident wrong prediction")
    else:
        add(np.nanargmax(s), "highest prediction")
        add(np.nanargmin(s), "lowest prediction")
        err = np.abs(s - ctx.y_test.to_numpy(dtype=float))
        add(np.nanargmax(err), "largest error")
    return out


# --- LIME ----------------------------------------------------------------------------------


def _lime(ctx: ReviewContext, st: _State):
    with st.lock:
        if st.lime is None:
            from lime.lime_tabular import LimeTabularExplainer

            screen = screened_features(ctx)
            if screen["screened"]:
                enc = Encoding.fit([ctx.train, ctx.test], screen["features"])
            else:
                enc = st.encoding if st.encoding is not None else Encoding.fit([ctx.train, ctx.test],
                                                                               ctx.model.features)
                st.encoding = enc
            st.lime_encoding = enc
            Z = enc.encode(_sample(ctx.train[enc.features], LIME_TRAIN_ROWS, ctx.settings.random_state))
            med = np.nanmedian(np.where(np.isnan(Z), np.nan, Z), axis=0)
            med = np.where(np.isnan(med), 0.0, med)
            Z = np.where(np.isnan(Z), med, Z)
            st.lime_medians = med
            st.lime = LimeTabularExplainer(
                Z, mode="regression", feature_names=enc.features, categorical_features=enc.categorical,
                categorical_names={j: enc.names(j) for j in enc.categorical}, discretize_continuous=True,
                random_state=ctx.settings.random_state)
    return st.lime


def lime_row(ctx: ReviewContext, row: int, *, num_features: int | None = None, num_samples: int = LIME_SAMPLES,
             rerun: int = 0) -> dict:
    """LIME explanation of the explained output for one holdout row (position).

    LIME fits a weighted linear model on perturbed copies of the row (regression mode on
    the model's score, so binary and multiclass are treated alike); missing numbers are
    replaced by the training median for LIME only.
    """
    st = _state(ctx)
    explainer = _lime(ctx, st)
    enc = st.lime_encoding
    full_row = ctx.test.iloc[[row]][list(ctx.model.features)]
    X = full_row[enc.features]
    z = enc.encode(X)[0]
    z = np.where(np.isnan(z), st.lime_medians, z)
    others = [c for c in ctx.model.features if c not in set(enc.features)]

    def frame(Z):
        """Perturbed values of the varied features; any others held at the row's values (column budget)."""
        D = enc.decode(Z)
        if not others:
            return D
        F = full_row.loc[full_row.index.repeat(len(D))].reset_index(drop=True)
        for c in enc.features:
            F[c] = D[c].to_numpy()
        return F

    def scored(Z):
        return np.concatenate([np.asarray(ctx.model.scores(frame(Z[i: i + LIME_SCORE_CHUNK])), dtype=float)
                               for i in range(0, len(Z), LIME_SCORE_CHUNK)])

    if ctx.task == "multiclass":
        cls = int(_predicted_class_index(ctx, full_row)[0])

        def f(Z):
            return scored(Z)[:, cls]
    else:
        def f(Z):
            return scored(Z)
    k = num_features or min(len(enc.features), TOP_FEATURES)
    with st.lock, _single_thread():
        # one RandomState is shared by LIME's sampler and discretizer: reseed it per row so a
        # row's explanation does not depend on which rows were explained before
        # (``rerun`` > 0: another seed for the same row, to see whether the story depends on it)
        explainer.random_state.seed((ctx.settings.random_state * 1_000_003 + row + 7_919 * rerun) % (2**32))
        exp = explainer.explain_instance(z, f, num_features=k, num_samples=num_samples)
    contribs = [{"feature": enc.features[int(j)], "condition": cond, "weight": float(w)}
                for (j, w), (cond, _) in zip(exp.local_exp[1], exp.as_list(label=1), strict=True)]
    return {
        "contributions": contribs,
        "intercept": float(np.ravel([exp.intercept[1]])[0]),
        "local_prediction": float(np.ravel(exp.local_pred)[0]) if exp.local_pred is not None else None,
        "model_output": float(np.ravel([exp.predicted_value])[0]) if exp.predicted_value is not None else None,
        "fit_r2": float(exp.score),
        "num_samples": num_samples,
        "output_space": "prediction" if ctx.task == "regression" else (
            "probability" if ctx.model.scores_are_probabilities else "decision function"),
    }


def _material_top(items: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    """Top-k (feature, weight) by |weight| among features with at least MATERIAL_SHARE of the
    largest |weight| (a feature listed twice keeps its strongest entry)."""
    best: dict[str, float] = {}
    for f, w in items:
        if f not in best or abs(w) > abs(best[f]):
            best[f] = w
    ranked = sorted(best.items(), key=lambda fw: -abs(fw[1]))
    if not ranked or ranked[0][1] == 0:
        return []
    floor = MATERIAL_SHARE * abs(ranked[0][1])
    return [fw for fw in ranked if abs(fw[1]) >= floor and fw[1] != 0][:k]


def agreement(shap_contribs: list[dict], lime_contribs: list[dict], *, k: int = AGREEMENT_TOP_K) -> dict:
    """Compare the top features of SHAP and LIME for one row by rank and direction.

    Each method's top list holds its k largest features by |weight| among those with at
    least 10% of its largest weight (a one-feature model has a one-feature list).
    Magnitudes are not compared (SHAP may be in log-odds, LIME explains the score). They
    *agree* when they share at least m - 1 features (at least 1), m being the shorter list's
    length, and no shared feature pushes in opposite directions.
    """
    s = _material_top([(c["feature"], c["shap"]) for c in shap_contribs], k)
    lt = _material_top([(c["feature"], c["weight"]) for c in lime_contribs], k)
    shap_top, lime_top = [f for f, _ in s], [f for f, _ in lt]
    shared = [f for f in shap_top if f in lime_top]
    shap_sign, lime_sign = {f: np.sign(w) for f, w in s}, {f: np.sign(w) for f, w in lt}
    conflicts = [f for f in shared if shap_sign[f] != lime_sign[f]]
    m = min(len(shap_top), len(lime_top))
    need = max(1, m - 1)
    return {"top_k": k, "shap_top": shap_top, "lime_top": lime_top, "shared": shared,
            "direction_conflicts": conflicts, "agree": bool(m) and len(shared) >= need and not conflicts,
            "same_top_feature": bool(shap_top and lime_top and shap_top[0] == lime_top[0])}


def _display(v) -> Any:
    if _isna(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return float(f"{v:.6g}")
    return v if isinstance(v, (int, bool)) else str(v)


def _as_probability(space: str, base: float, output: float) -> dict:
    """Log-odds start and end points of a waterfall, translated to probabilities for readers."""
    if space != "log-odds":
        return {"base_probability": None, "output_probability": None}

    def sigmoid(z):
        return float(1 / (1 + math.exp(-z))) if z > -700 else 0.0

    return {"base_probability": sigmoid(base), "output_probability": sigmoid(output)}


def explain_row(ctx: ReviewContext, row: int, *, with_lime: bool = True, lime_seeds: int | None = None) -> dict:
    """SHAP (waterfall data) and LIME for one holdout row (position 0..n-1), plus agreement.

    Plain data only (cacheable, JSON-able). Raises ``IndexError`` for a row outside the holdout.
    """
    if ctx.model is None:
        raise ValueError("explanations need a model; this review has only a prediction column")
    n = len(ctx.test)
    row = int(row)
    if not 0 <= row < n:
        raise IndexError(f"row must be between 0 and {n - 1}, got {row}")
    sv = shap_values(ctx, np.array([row]))
    st = _state(ctx)
    record = ctx.test.iloc[row]
    contribs = [{"feature": name, "value": _display(record[name]) if name in record.index else None,
                 "shap": float(sv.values[0, j])} for j, name in enumerate(sv.names)]
    contribs.sort(key=lambda c: -abs(c["shap"]))
    scores = _row_scores(ctx)[row]
    out: dict[str, Any] = {
        "row": row,
        "row_id": _display(record[ctx.roles.id_column]) if ctx.roles.id_column else None,
        "actual": _display(record[ctx.target]),
        "score": None if np.ndim(scores) else _display(float(scores)),
        "predicted": _display(np.asarray(ctx.test_pred)[row]),
        "explained_output": explained_output(ctx),
        "shap": {"explainer": st.kind, "output_space": st.output_space, "base_value": float(sv.base[0]),
                 "output_value": float(sv.base[0] + sv.values[0].sum()), "contributions": contribs,
                 **_as_probability(st.output_space, float(sv.base[0]), float(sv.base[0] + sv.values[0].sum()))},
    }
    if with_lime:
        from readiness.explain_stats import LIME_SEEDS, lime_stability

        lime = lime_row(ctx, row)
        out["lime"] = lime
        out["agreement"] = agreement(contribs, lime["contributions"])
        runs = [lime] + [lime_row(ctx, row, rerun=i) for i in range(1, lime_seeds or LIME_SEEDS)]
        out["lime_stability"] = lime_stability(runs, k=AGREEMENT_TOP_K)
    return out


# --- permutation importance ----------------------------------------------------------------


def _scorer(ctx: ReviewContext):
    """(metric name, higher is better, f(y, scores) -> float) used for permutation importance."""
    from sklearn import metrics as skm

    if ctx.task == "regression":
        return "R²", lambda y, s: float(skm.r2_score(y, s))
    if ctx.task == "binary":
        return "ROC AUC", lambda y, s: float(skm.roc_auc_score(y, s))
    if ctx.model.scores_are_probabilities:
        # the log loss (as scikit-learn's "neg_log_loss", higher is better): one-vs-rest ROC AUC saturates near 1
        # on a good multiclass model (0.999, largest drop 0.003 on digits), the log loss keeps measuring (issue 23)
        return "negative log loss", _neg_log_loss
    return "accuracy", lambda y, s: float(np.mean(np.argmax(s, axis=1) == y))


def _neg_log_loss(y: np.ndarray, s: np.ndarray) -> float:
    """−mean log p(true class), rows renormalised and clipped as scikit-learn's log_loss does."""
    p = np.asarray(s, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    eps = np.finfo(p.dtype).eps
    return float(np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, 1 - eps))))


def _targets(ctx: ReviewContext, rows: np.ndarray) -> np.ndarray:
    if ctx.task == "binary":
        return ctx.y_test_binary[rows]
    if ctx.task == "multiclass":
        idx = {str(c): i for i, c in enumerate(ctx.model.classes)}
        return np.array([idx.get(str(v), -1) for v in ctx.y_test.iloc[rows]], dtype=int)
    return ctx.y_test.to_numpy(dtype=float)[rows]


def feature_groups(ctx: ReviewContext, *, extra: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Groups permuted together: given ones, features sharing a prefix, correlated numbers,
    and the sensitive attributes.

    * prefix: features whose names share the part before the first ``_`` / ``.`` / ``:``
      (e.g. ``addr_city``, ``addr_zip`` -> ``addr_*``), two or more members;
    * correlated: numeric features linked by |Spearman rho| >= 0.7 on training (connected
      components), two or more members;
    * sensitive: the sensitive-attribute columns that are model features, two or more.
    One-hot columns need no group: importance is measured on original features already.
    """
    feats = screened_features(ctx)["features"]  # the column budget: groups of shuffled features only
    groups: dict[str, list[str]] = {}
    for name, cols in (extra or {}).items():
        cols = [c for c in cols if c in feats]
        if cols:
            groups[name] = cols
    import re

    by_prefix: dict[str, list[str]] = {}
    for f in feats:
        parts = re.split(r"[_.:]", f, maxsplit=1)
        if len(parts) == 2 and parts[0]:
            by_prefix.setdefault(parts[0], []).append(f)
    for prefix, cols in by_prefix.items():
        if len(cols) >= 2:
            groups[f"{prefix}_* (shared prefix)"] = cols
    numeric = [f for f in feats if _is_numeric(ctx.train[f])]
    if len(numeric) >= 2:
        sample = _sample(ctx.train[numeric], 5000, ctx.settings.random_state)
        rho = sample.rank().corr().abs().to_numpy()
        rho = np.nan_to_num(rho)
        seen: set[int] = set()
        for i in range(len(numeric)):
            if i in seen:
                continue
            comp, stack = [], [i]
            while stack:
                a = stack.pop()
                if a in seen:
                    continue
                seen.add(a)
                comp.append(a)
                stack.extend(b for b in range(len(numeric)) if b not in seen and rho[a, b] >= CORRELATED_GROUP_RHO)
            if len(comp) >= 2:
                cols = [numeric[a] for a in sorted(comp)]
                groups[" + ".join(cols) + " (correlated)"] = cols
    sens = [c for c in ctx.roles.sensitive if c in feats]
    if len(sens) >= 2:
        groups["sensitive attributes (" + ", ".join(sens) + ")"] = sens
    return groups


def _interval(drops: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    r = len(drops)
    m = float(np.mean(drops))
    if r < 2:
        return m, m
    half = float(stats.t.ppf(0.975, r - 1) * np.std(drops, ddof=1) / math.sqrt(r))
    return m - half, m + half


def screened_features(ctx: ReviewContext) -> dict:
    """The features permutation importance shuffles and LIME varies: all of them up to
    EXPLAIN_MAX_FEATURES, else those most associated with the model's score on a seeded sample
    of up to SCREEN_ROWS holdout rows — |Spearman ρ| for numbers, the correlation ratio of the
    score's ranks for text (per class score, the largest, for multiclass). Columns are ranked
    SCREEN_CHUNK at a time, so memory stays within rows × chunk. Once per review (``ctx.memo``).

    Returns {"features", "available", "screened" (bool), "rows", "association" (kept features)}."""
    key = ("explain.screen", ctx.settings.random_state)
    if key in ctx.memo:
        return ctx.memo[key]
    feats = list(ctx.model.features)
    if len(feats) <= EXPLAIN_MAX_FEATURES:
        out = {"features": feats, "available": len(feats), "screened": False, "rows": None, "association": None}
        ctx.memo[key] = out
        return out
    scores = np.asarray(_row_scores(ctx), dtype=float).reshape(len(ctx.test), -1)
    ok = np.flatnonzero(np.isfinite(scores).all(axis=1))
    rng = np.random.default_rng(ctx.settings.random_state)
    rows = np.sort(rng.permutation(ok)[:SCREEN_ROWS])
    S = scores[rows]
    R = np.column_stack([pd.Series(S[:, j]).rank().to_numpy() for j in range(S.shape[1])])
    R, _ = standardised(R)
    assoc = np.zeros(len(feats))
    sub = ctx.test.iloc[rows]
    for start in range(0, len(feats), SCREEN_CHUNK):
        cols = feats[start: start + SCREEN_CHUNK]
        block = np.empty((len(rows), len(cols)))
        for j, c in enumerate(cols):
            col = sub[c]
            if _is_numeric(col):
                v = pd.to_numeric(col, errors="coerce").rank()
                block[:, j] = v.fillna(v.mean() if v.notna().any() else 0.0).to_numpy()
            else:  # correlation ratio: each row's category replaced by its mean score rank (per score column below)
                block[:, j] = np.nan
        num = ~np.isnan(block[0]) if len(rows) else np.zeros(len(cols), bool)
        if num.any():
            assoc[start + np.flatnonzero(num)] = max_abs_correlation(block[:, num], R)
        for j in np.flatnonzero(~num):
            codes = pd.factorize(sub[cols[j]].astype("object").where(sub[cols[j]].notna(), "(missing)"))[0]
            best = 0.0
            for k in range(R.shape[1]):
                means = np.bincount(codes, weights=R[:, k]) / np.maximum(np.bincount(codes), 1)
                best = max(best, float(np.sqrt(np.mean(means[codes] ** 2))))  # R[:, k] has mean 0, sd 1
            assoc[start + j] = best
    order = np.argsort(-assoc, kind="stable")[:EXPLAIN_MAX_FEATURES]
    kept = [feats[j] for j in sorted(order)]
    out = {"features": kept, "available": len(feats), "screened": True, "rows": int(len(rows)),
           "association": {feats[j]: float(assoc[j]) for j in order}}
    ctx.memo[key] = out
    return out


def screen_note(screen: dict, what: str) -> str | None:
    """One sentence on the column budget, or None when every feature was used."""
    if not screen["screened"]:
        return None
    return (f"The model has {screen['available']:,} features; {what} the {len(screen['features']):,} most associated "
            f"with its score (|Spearman ρ| or the correlation ratio, on {screen['rows']:,} holdout rows), so time "
            "and memory do not grow with the column count. The others are held at their values and get no number "
            "here.")


def permutation_plan(n_rows: int, units: int, *, n_repeats: int = PERM_REPEATS, max_rows: int = PERM_MAX_ROWS) -> tuple[int, int]:
    """(holdout rows, repeats) for permutation importance: a fixed rule, not a clock.

    Up to ``max_rows`` rows and ``n_repeats`` repeats while the rows scored in total
    (rows x repeats x (features + groups)) stay within PERM_SCORED_ROWS; beyond that, fewer
    rows (not below 500), then fewer repeats (not below 5)."""
    rows = min(n_rows, max_rows)
    repeats = n_repeats
    if rows * repeats * units > PERM_SCORED_ROWS:
        rows = min(rows, max(PERM_MIN_ROWS, PERM_SCORED_ROWS // (repeats * units)))
    if rows * repeats * units > PERM_SCORED_ROWS:
        repeats = max(PERM_MIN_REPEATS, PERM_SCORED_ROWS // (rows * units))
    return rows, repeats


def permutation_importance(ctx: ReviewContext, *, n_repeats: int = PERM_REPEATS, max_rows: int = PERM_MAX_ROWS,
                           groups: dict[str, list[str]] | None = None, progress: Progress | None = None) -> dict:
    """Drop in the holdout metric when a feature (or a group) is shuffled, with intervals.

    Single features use ``sklearn.inspection.permutation_importance``; groups are shuffled
    together with one row permutation per repeat. Intervals: mean ± t(0.975, R-1)·sd/√R over
    the R repeats (the permutation noise on this holdout sample, not the holdout's own
    sampling error). Sample size and repeats follow :func:`permutation_plan`, which counts the
    groups among its units, so every group is measured and a re-run on a busy machine gives the
    same figures (``groups_skipped`` stays empty; once a 20 s clock left groups out under load).
    """
    from sklearn.inspection import permutation_importance as sk_perm

    seed = ctx.settings.random_state
    screen = screened_features(ctx)
    feats = screen["features"]
    metric_name, metric = _scorer(ctx)
    groups = feature_groups(ctx, extra=groups)
    scores = np.asarray(_row_scores(ctx), dtype=float).reshape(len(ctx.test), -1)
    ok = np.flatnonzero(~np.isnan(scores).any(axis=1))
    if ctx.task == "multiclass":
        ok = ok[_targets(ctx, ok) >= 0]
    units = len(feats) + len(groups)
    n_rows, repeats = permutation_plan(len(ok), units, n_repeats=n_repeats, max_rows=max_rows)
    rows = ok
    if len(ok) > n_rows:
        rng = np.random.default_rng(seed)
        try:
            if ctx.task == "regression":
                raise ValueError
            from sklearn.model_selection import train_test_split

            rows, _ = train_test_split(ok, train_size=n_rows, random_state=seed, stratify=_targets(ctx, ok))
        except ValueError:  # regression, or a class too small to stratify
            rows = rng.choice(ok, size=n_rows, replace=False)
        rows = np.sort(rows)
    X = ctx.test.iloc[rows][list(ctx.model.features) if screen["screened"] else feats].reset_index(drop=True)
    y = _targets(ctx, rows)

    def scorer(_est, Xp, yp):
        return metric(yp, ctx.model.scores(Xp))

    def shuffled_drops(cols: list[str], rng_) -> np.ndarray:
        drops = []
        Xp = X.copy()  # one copy per feature: each repeat overwrites the same columns from the untouched X
        for _ in range(repeats):
            perm = rng_.permutation(len(X))
            for c in cols:
                Xp[c] = X[c].to_numpy()[perm]
            drops.append(baseline - scorer(None, Xp, y))
        return np.asarray(drops, dtype=float)

    with _single_thread():
        baseline = scorer(None, X, y)
        single = {}
        if screen["screened"]:  # only the screened columns are shuffled (sklearn's function shuffles every one)
            for j, f in enumerate(feats):
                single[f] = shuffled_drops([f], np.random.default_rng([seed, 1_000_003, j]))
        else:
            res = sk_perm(ctx.model.estimator, X, y, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1)
            single = {f: np.asarray(res.importances[j], dtype=float) for j, f in enumerate(feats)}
        if progress is not None:
            progress(len(feats), units)
        for f, drops in single.items():
            lo, hi = _interval(drops)
            single[f] = {"mean": float(drops.mean()), "ci": [lo, hi],
                         "std": float(drops.std(ddof=1)) if len(drops) > 1 else 0.0}
        grouped, skipped = {}, []  # every group: the plan bounds the work (rows x repeats x units), not a clock,
        for gi, (name, cols) in enumerate(groups.items()):  # so the figures never depend on the machine's load
            drops = shuffled_drops(cols, np.random.default_rng([seed, gi]))
            lo, hi = _interval(drops)
            grouped[name] = {"features": cols, "mean": float(drops.mean()), "ci": [lo, hi]}
            if progress is not None:
                progress(len(feats) + gi + 1, units)
    order = sorted(single, key=lambda f: -single[f]["mean"])
    return {
        "metric": metric_name,
        "baseline_score": float(baseline),
        "rows": int(len(rows)),
        "rows_available": int(len(ctx.test)),
        "n_repeats": int(repeats),
        "importances": {f: single[f] for f in order},
        "groups": dict(sorted(grouped.items(), key=lambda kv: -kv[1]["mean"])),
        "groups_skipped": skipped,
        "features_shuffled": len(feats),
        "features_available": screen["available"],
    }
