"""Structural validation of a loaded model, before anything scores with it.

scikit-learn's compiled prediction code follows the indices stored in a fitted model
without bounds checks: a tree whose child index points past its nodes reads (or, for
gradient boosting, writes) outside its arrays, which crashes the process or corrupts its
memory. skops can only say *which types* a file builds, not whether their arrays are
sound, so every array such code indexes is checked here, on the very objects that will
then be scored (the checks read the arrays the compiled code reads):

* ``sklearn.tree._tree.Tree`` (decision trees, forests, gradient boosting, AdaBoost,
  bagging, isolation forests): node count, children in range and pointing forward with
  one parent each (so the nodes form a tree, no cycle), split features below the number
  of features, split thresholds not NaN, ``value`` shaped (nodes, outputs, classes),
  depth as recorded; the tree's width equals its estimator's, and an ensemble's trees
  the ensemble's (forests and gradient boosting call trees without input checks);
* gradient boosting: the trees per stage equal the width of the initial predictions
  the stages are added to;
* HistGradientBoosting ``TreePredictor``: the same tree rules on its node records,
  categorical splits only on categorical features with their bitset in range, the
  bitset arrays shaped (splits, 8), no fit-time state, and its internal preprocessing
  exactly the shape scikit-learn builds;
* ``KDTree`` / ``BallTree``: node count ``2**levels - 1``, node ranges inside the data,
  the index array a permutation, bounds shaped like the data;
* nearest neighbours, k-means: stored points as wide as the input;
* libsvm models (SVC, SVR, ...): support-vector counts, coefficient and intercept
  shapes consistent;
* SciPy sparse matrices: full index checks.

Validators are registered by class path (:func:`validator`), matched against a
class's MRO, so other model formats add theirs without touching this walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from readiness import errors as E

Validator = Callable[[Any, str], None]
_VALIDATORS: dict[str, list[Validator]] = {}
MAX_OBJECTS = 5_000_000


class Invalid(Exception):
    """A structural problem: ``kind`` names the object, ``detail`` what is wrong."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def validator(*class_paths: str) -> Callable[[Validator], Validator]:
    """Register ``func(obj, path)`` for objects whose class (or a base) has one of these paths."""

    def add(func: Validator) -> Validator:
        for path in class_paths:
            _VALIDATORS.setdefault(path, []).append(func)
        return func

    return add


def validate_estimator(estimator: Any, *, name: str) -> None:
    """Check every registered structure inside ``estimator``; ``ModelError`` naming the first problem."""
    try:
        for obj, path in _walk(estimator):
            for check in _validators_for(type(obj)):
                check(obj, path)
    except Invalid as exc:
        raise E.ModelError(E.MODEL_INVALID.format(name=name, kind=exc.kind, detail=exc.detail)) from None
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise E.ModelError(E.MODEL_INVALID.format(
            name=name, kind="model", detail=f"its structure cannot be checked ({type(exc).__name__}: "
                                            f"{' '.join(str(exc).split())[:200]})")) from None


_CACHE: dict[type, list[Validator]] = {}


def _validators_for(cls: type) -> list[Validator]:
    found = _CACHE.get(cls)
    if found is None:
        found = []
        for base in cls.__mro__:
            found += _VALIDATORS.get(f"{base.__module__}.{base.__qualname__}", [])
        _CACHE[cls] = found
    return found


def _walk(root: Any) -> Iterator[tuple[Any, str]]:
    """Every object reachable through attributes, containers and object arrays (each once)."""
    seen: set[int] = set()
    stack = [(root, type(root).__name__)]
    while stack:
        obj, path = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), type)):
            continue
        seen.add(id(obj))
        if len(seen) > MAX_OBJECTS:
            raise Invalid("model", f"it holds more than {MAX_OBJECTS:,} objects")
        yield obj, path
        if isinstance(obj, dict):
            stack.extend((v, f"{path}[{k!r}]") for k, v in obj.items())
        elif isinstance(obj, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(obj))
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend((v, f"{path}[{i}]") for i, v in enumerate(obj.ravel()))
        elif hasattr(obj, "__dict__") and not isinstance(obj, ModuleType):
            stack.extend((v, f"{path}.{k}") for k, v in vars(obj).items())


def _fail(kind: str, path: str, detail: str):
    raise Invalid(kind, f"{path}: {detail}")


def _int_array(values, kind: str, path: str, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        _fail(kind, path, f"{what} are not integers")
    return arr.astype(np.int64, copy=False)


# --- trees (shared rules) -------------------------------------------------------------------


def check_tree_links(left: np.ndarray, right: np.ndarray, is_split: np.ndarray, *, kind: str, path: str) -> None:
    """Split nodes' children lie in range, after their parent, with one parent each (so: a tree)."""
    n = len(left)
    idx = np.arange(n)
    for side, child in (("left", left), ("right", right)):
        c = child[is_split]
        bad = (c <= idx[is_split]) | (c >= n)
        if bad.any():
            node = int(idx[is_split][bad][0])
            _fail(kind, path, f"node {node}'s {side} child {int(c[bad][0])} is outside its {n} nodes "
                              "or does not come after it")
    children = np.concatenate([left[is_split], right[is_split]])
    parents = np.bincount(children, minlength=n) if n else np.zeros(0, dtype=int)
    if n and (parents[0] != 0 or (parents[1:] != 1).any()):
        node = int(np.flatnonzero(np.r_[parents[0] != 0, parents[1:] != 1])[0])
        _fail(kind, path, f"node {node} has {int(parents[node])} parents (a tree gives each node but the root one)")


def tree_depth(left: np.ndarray, right: np.ndarray, is_split: np.ndarray) -> int:
    """Depth of a tree whose links :func:`check_tree_links` accepted (one numpy step per level)."""
    level, depth = np.array([0]), 0
    while True:
        level = level[is_split[level]]
        if not len(level):
            return depth
        level = np.concatenate([left[level], right[level]])
        depth += 1


@validator("sklearn.tree._tree.Tree")
def _sklearn_tree(tree, path: str) -> None:
    kind = "decision tree"
    state = tree.__getstate__()
    nodes, values = state["nodes"], state["values"]
    n = int(state["node_count"])
    if nodes.ndim != 1 or len(nodes) != n or n < 1:
        _fail(kind, path, f"it declares {n} nodes but holds {len(nodes)}")
    n_outputs, max_classes = int(tree.n_outputs), int(tree.max_n_classes)
    n_classes = np.asarray(tree.n_classes)
    if n_outputs < 1 or n_classes.shape != (n_outputs,) or n_classes.min() < 1 or n_classes.max() != max_classes:
        _fail(kind, path, f"its class counts {n_classes.tolist()} do not fit {n_outputs} outputs")
    if values.shape != (n, n_outputs, max_classes):
        _fail(kind, path, f"its values have shape {values.shape}, not {(n, n_outputs, max_classes)}")
    left = _int_array(nodes["left_child"], kind, path, "child indices")
    right = _int_array(nodes["right_child"], kind, path, "child indices")
    is_split = left != -1
    if ((right == -1) != ~is_split).any():
        node = int(np.flatnonzero((right == -1) != ~is_split)[0])
        _fail(kind, path, f"node {node} has one child only")
    feature = _int_array(nodes["feature"], kind, path, "feature indices")[is_split]
    n_features = int(tree.n_features)
    if ((feature < 0) | (feature >= n_features)).any():
        _fail(kind, path, f"a split uses feature {int(feature[(feature < 0) | (feature >= n_features)][0])}, "
                          f"but the tree has {n_features} features")
    if np.isnan(nodes["threshold"][is_split]).any():
        _fail(kind, path, "a split threshold is NaN")
    check_tree_links(left, right, is_split, kind=kind, path=path)
    depth = tree_depth(left, right, is_split)
    if int(state["max_depth"]) != depth:
        _fail(kind, path, f"its recorded depth {int(state['max_depth'])} is not its real depth {depth}")


@validator("sklearn.tree._classes.BaseDecisionTree")
def _decision_tree(est, path: str) -> None:
    tree = getattr(est, "tree_", None)
    if tree is None:
        return
    n_in = getattr(est, "n_features_in_", None)
    if n_in is not None and int(tree.n_features) != int(n_in):
        _fail("decision tree", path, f"its tree has {int(tree.n_features)} features but the estimator {n_in}")
    if int(tree.n_outputs) != int(getattr(est, "n_outputs_", tree.n_outputs)):
        _fail("decision tree", path, "its tree's outputs differ from the estimator's")


def _same_width(kind: str, path: str, subs, width) -> None:
    for i, sub in enumerate(subs):
        n = getattr(sub, "n_features_in_", None)
        if n is not None and int(n) != int(width):
            _fail(kind, f"{path}.estimators_[{i}]", f"it takes {n} features but the ensemble {width}")


@validator("sklearn.ensemble._forest.BaseForest")
def _forest(est, path: str) -> None:
    if hasattr(est, "estimators_") and hasattr(est, "n_features_in_"):
        _same_width("forest", path, est.estimators_, est.n_features_in_)


@validator("sklearn.ensemble._bagging.BaseBagging")
def _bagging(est, path: str) -> None:
    subs, feats = getattr(est, "estimators_", None), getattr(est, "estimators_features_", None)
    if subs is None or feats is None:
        return
    n_in = int(est.n_features_in_)
    if len(feats) != len(subs):
        _fail("bagging ensemble", path, "feature subsets and estimators differ in number")
    for i, (sub, f) in enumerate(zip(subs, feats, strict=True)):
        f = _int_array(f, "bagging ensemble", path, "feature subsets")
        if ((f < 0) | (f >= n_in)).any():
            _fail("bagging ensemble", path, f"estimator {i} uses a feature outside the {n_in} features")
        n = getattr(sub, "n_features_in_", None)
        if n is not None and int(n) != len(f):
            _fail("bagging ensemble", path, f"estimator {i} takes {n} features but is given {len(f)}")


@validator("sklearn.ensemble._gb.BaseGradientBoosting")
def _gradient_boosting(est, path: str) -> None:
    kind = "gradient boosting model"
    stages = getattr(est, "estimators_", None)
    if stages is None:
        return
    if not isinstance(stages, np.ndarray) or stages.ndim != 2 or stages.size == 0:
        _fail(kind, path, "its trees are not a stages × outputs table")
    _same_width(kind, path, stages.ravel(), est.n_features_in_)
    width = stages.shape[1]
    init = est.init_
    if isinstance(init, str):
        expected = int(est.n_trees_per_iteration_)
    else:
        cls = type(init).__name__
        if cls == "DummyClassifier":
            expected = len(init.class_prior_) if getattr(est._loss, "is_multiclass", False) else 1
            if init.strategy in ("uniform", "constant") and getattr(est._loss, "is_multiclass", False):
                expected = int(init.n_classes_)
        elif cls == "DummyRegressor":
            expected = int(init.n_outputs_)
        else:
            _fail(kind, path, f"its initial estimator {cls} cannot be checked (only the default ones can)")
    if width != expected:
        _fail(kind, path, f"each stage has {width} trees but its initial predictions have {expected} columns")


# --- HistGradientBoosting ---------------------------------------------------------------


@validator("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor")
def _tree_predictor(pred, path: str) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    kind = "HistGradientBoosting tree"
    nodes = pred.nodes
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1 or not len(nodes):
        _fail(kind, path, "its nodes are not a non-empty array of tree records")
    for attr in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        bits = getattr(pred, attr)
        if not (isinstance(bits, np.ndarray) and bits.dtype == np.uint32 and bits.ndim == 2 and bits.shape[1] == 8):
            _fail(kind, path, f"its {attr} is not a (splits, 8) array of uint32")
    is_split = nodes["is_leaf"] == 0
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    check_tree_links(left, right, is_split, kind=kind, path=path)
    if (nodes["feature_idx"][is_split] < 0).any():
        _fail(kind, path, "a split uses a negative feature index")
    cat = is_split & (nodes["is_categorical"] != 0)
    n_bitsets = min(len(pred.raw_left_cat_bitsets), len(pred.binned_left_cat_bitsets))
    if (nodes["bitset_idx"][cat] >= n_bitsets).any():
        _fail(kind, path, f"a categorical split's bitset is outside its {n_bitsets} bitsets")


@validator("sklearn.ensemble._hist_gradient_boosting.gradient_boosting.BaseHistGradientBoosting")
def _hist_gradient_boosting(est, path: str) -> None:
    kind = "HistGradientBoosting model"
    predictors = getattr(est, "_predictors", None)
    if predictors is None:
        return
    if getattr(est, "_in_fit", False):
        _fail(kind, path, "it is marked as being fitted")
    n_in = int(est.n_features_in_)
    mask = np.asarray(est._bin_mapper.is_categorical_, dtype=bool)
    if mask.shape != (n_in,):
        _fail(kind, path, f"its categorical mask has {mask.size} entries for {n_in} features")
    for f in np.flatnonzero(mask):
        cats = np.asarray(est._bin_mapper.bin_thresholds_[f], dtype=float)
        if (~np.isfinite(cats) | (cats < 0) | (cats > 255) | (cats != np.round(cats))).any():
            _fail(kind, path, f"feature {f}'s categories are not whole numbers from 0 to 255")
    for i, stage in enumerate(predictors):
        for k, pred in enumerate(stage):
            nodes = pred.nodes
            split = nodes["is_leaf"] == 0
            feats = nodes["feature_idx"][split]
            if (feats >= n_in).any():
                _fail(kind, f"{path}._predictors[{i}][{k}]",
                      f"a split uses feature {int(feats.max())}, but the model has {n_in} features")
            cat_feats = nodes["feature_idx"][split & (nodes["is_categorical"] != 0)]
            if len(cat_feats) and not mask[cat_feats].all():
                _fail(kind, f"{path}._predictors[{i}][{k}]", "a categorical split uses a feature that is not categorical")
    pre = getattr(est, "_preprocessor", None)
    if pre is not None:
        _hgb_preprocessor(pre, n_in, kind, path)


def _hgb_preprocessor(pre, n_in: int, kind: str, path: str) -> None:
    """The ColumnTransformer scikit-learn builds for categorical columns: its output is n_in wide."""
    if type(pre).__name__ != "ColumnTransformer" or int(getattr(pre, "n_features_in_", -1)) != n_in:
        _fail(kind, path, "its preprocessing is not the one scikit-learn builds")
    width = 0
    for name, trans, cols in pre.transformers_:
        if isinstance(trans, str):
            if trans == "drop":
                continue
            if trans != "passthrough":
                _fail(kind, path, f"unexpected preprocessing step {name!r}")
        elif type(trans).__name__ not in ("OrdinalEncoder", "FunctionTransformer"):
            _fail(kind, path, f"unexpected preprocessing step {type(trans).__name__}")
        cols = np.asarray(cols)
        width += int(cols.sum()) if cols.dtype == bool else len(cols)
    if width != n_in:
        _fail(kind, path, f"its preprocessing gives {width} columns, not {n_in}")


# --- neighbours, clustering, SVMs -------------------------------------------------------------


@validator("sklearn.neighbors._kd_tree.KDTree64", "sklearn.neighbors._kd_tree.KDTree32",
           "sklearn.neighbors._ball_tree.BallTree64", "sklearn.neighbors._ball_tree.BallTree32")
def _binary_tree(tree, path: str) -> None:
    kind = "nearest-neighbour tree"
    (data, idx, node_data, bounds, leaf_size, n_levels, n_nodes, *_rest) = tree.__getstate__()
    sample_weight = _rest[-1]
    data, idx, node_data, bounds = (np.asarray(a) for a in (data, idx, node_data, bounds))
    if data.ndim != 2:
        _fail(kind, path, "its data is not a table")
    n, d = data.shape
    if n_nodes != len(node_data) or n_nodes != 2 ** n_levels - 1 or n_levels < 1 or leaf_size < 1:
        _fail(kind, path, f"it declares {n_nodes} nodes on {n_levels} levels but holds {len(node_data)}")
    expected_rows = 2 if "KDTree" in type(tree).__name__ else 1
    if bounds.shape != (expected_rows, n_nodes, d):
        _fail(kind, path, f"its node bounds have shape {bounds.shape}, not {(expected_rows, n_nodes, d)}")
    if idx.shape != (n,) or not np.array_equal(np.sort(idx), np.arange(n)):
        _fail(kind, path, f"its index array is not a permutation of its {n} points")
    start, end = node_data["idx_start"].astype(np.int64), node_data["idx_end"].astype(np.int64)
    if ((start < 0) | (start > end) | (end > n)).any():
        _fail(kind, path, f"a node's point range lies outside its {n} points")
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if len(inner) and (2 * inner + 2 >= n_nodes).any():
        _fail(kind, path, "an inner node's children lie past the last node")
    if sample_weight is not None and np.asarray(sample_weight).shape != (n,):
        _fail(kind, path, "its sample weights do not match its points")


@validator("sklearn.neighbors._base.NeighborsBase")
def _neighbors(est, path: str) -> None:
    fit_x, n_in = getattr(est, "_fit_X", None), getattr(est, "n_features_in_", None)
    if isinstance(fit_x, np.ndarray) and n_in is not None and getattr(est, "metric", None) != "precomputed":
        if fit_x.ndim != 2 or fit_x.shape[1] != int(n_in):
            _fail("nearest-neighbour model", path, f"its stored points are not {n_in} columns wide")


@validator("sklearn.cluster._kmeans._BaseKMeans")
def _kmeans(est, path: str) -> None:
    centers, n_in = getattr(est, "cluster_centers_", None), getattr(est, "n_features_in_", None)
    if centers is not None and n_in is not None and (np.ndim(centers) != 2 or np.shape(centers)[1] != int(n_in)):
        _fail("k-means model", path, f"its cluster centres are not {n_in} columns wide")


@validator("sklearn.svm._base.BaseLibSVM")
def _libsvm(est, path: str) -> None:
    kind = "support vector model"
    if not hasattr(est, "support_"):
        return
    support = _int_array(est.support_, kind, path, "support indices")
    n_sv = _int_array(est._n_support, kind, path, "support-vector counts")
    n_class = len(n_sv)
    sv, coef = est.support_vectors_, est._dual_coef_
    l_sv = len(support)
    classify = est._impl in ("c_svc", "nu_svc")
    if n_class < 2 or (n_sv < 0).any() or (classify and int(n_sv.sum()) != l_sv):
        _fail(kind, path, f"its support-vector counts {n_sv.tolist()} do not add up to {l_sv}")
    if est.kernel != "precomputed" and (sv.shape[0] != l_sv or sv.shape[1] != int(est.shape_fit_[1])):
        _fail(kind, path, f"its support vectors have shape {sv.shape}")
    if coef.shape != (n_class - 1, l_sv):
        _fail(kind, path, f"its dual coefficients have shape {coef.shape}, not {(n_class - 1, l_sv)}")
    if hasattr(coef, "nnz") and coef.nnz != (n_class - 1) * l_sv:
        _fail(kind, path, "its sparse dual coefficients are incomplete")
    m = n_class * (n_class - 1) // 2
    if len(est._intercept_) < m:
        _fail(kind, path, f"it has {len(est._intercept_)} intercepts for {n_class} classes")
    for attr in ("_probA", "_probB"):
        size = len(getattr(est, attr, ()))
        if size and size < m:
            _fail(kind, path, f"its {attr} has {size} entries, not {m}")
    if ((support < 0) | (support >= int(est.shape_fit_[0]))).any():
        _fail(kind, path, "a support index lies outside the training rows")


# --- SciPy sparse matrices --------------------------------------------------------------------


@validator("scipy.sparse._base._spbase")
def _sparse(mat, path: str) -> None:
    fmt = getattr(mat, "format", "")
    try:
        if fmt in ("csr", "csc", "bsr"):
            mat.check_format(full_check=True)
        elif fmt == "coo":
            rows, cols = np.asarray(mat.row), np.asarray(mat.col)
            if len(rows) and (rows.min() < 0 or cols.min() < 0 or rows.max() >= mat.shape[0]
                              or cols.max() >= mat.shape[1]):
                raise ValueError("an index lies outside the matrix")
    except ValueError as exc:
        _fail("sparse matrix", path, " ".join(str(exc).split())[:200])
