"""Per-partition summaries that merge exactly, written once as pandas functions.

Each function takes one partition (a pandas frame in the dataset's schema) and returns a
small summary: counts, sums, fixed-bin histograms, the few smallest and largest distinct
values, value counts of low-cardinality text. :func:`merge` adds summaries up exactly
(integer counts exactly; float sums to rounding), so the result does not depend on how the
rows were partitioned or which engine ran them. The model is scored inside the partition,
loaded from its bytes with the same loader as on the driver (:func:`worker_model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from readiness.checks.data_quality import SENTINELS
from readiness.inputs.tables import MISSING_TOKENS

MAX_VALUES = 2_000  # distinct text values kept per column and partition; beyond: only missing-value tokens
EDGE_VALUES = len(SENTINELS) + 2  # smallest/largest distinct numbers kept (sentinel detection)
SCORE_BINS = 4096


@dataclass(frozen=True)
class Extremes:
    """The ``k`` smallest and largest distinct values seen (merge: union, then trim)."""

    low: tuple = ()
    high: tuple = ()
    k: int = EDGE_VALUES

    def __add__(self, other: Extremes) -> Extremes:
        both = sorted(set(self.low) | set(other.low))
        top = sorted(set(self.high) | set(other.high))
        return Extremes(tuple(both[:self.k]), tuple(top[-self.k:]), self.k)


@dataclass(frozen=True)
class Counts:
    """Value counts of text; ``overflow`` when a partition had more than MAX_VALUES distinct values
    (then only missing-value tokens are counted, which is all the completeness check needs)."""

    counts: dict = field(default_factory=dict)
    overflow: bool = False

    def __add__(self, other: Counts) -> Counts:
        out = dict(self.counts)
        for k, v in other.counts.items():
            out[k] = out.get(k, 0) + v
        overflow = self.overflow or other.overflow
        if overflow or len(out) > MAX_VALUES:
            out = {k: v for k, v in out.items() if k.strip().lower() in MISSING_TOKENS}
            overflow = True
        return Counts(out, overflow)


def merge(a: Any, b: Any) -> Any:
    """Add two summaries of the same shape: dicts key by key, numbers and arrays by addition."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out.get(k), v)
        return out
    return a + b


def merge_all(parts: list) -> Any:
    return functools.reduce(merge, parts, None)


def is_text(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def column_summary(s: pd.Series) -> dict:
    """Completeness counts of one column: rows, missing; text: value counts; numbers: the
    sentinel candidates' counts and the extreme distinct values."""
    out: dict = {"rows": len(s), "missing": int(s.isna().sum())}
    if is_text(s):
        vc = s.dropna().astype(str).value_counts()
        if len(vc) > MAX_VALUES:
            vc = vc[[k.strip().lower() in MISSING_TOKENS for k in vc.index]]
            out["values"] = Counts({str(k): int(v) for k, v in vc.items()}, True)
        else:
            out["values"] = Counts({str(k): int(v) for k, v in vc.items()}, False)
        return out
    if pd.api.types.is_bool_dtype(s):
        return out
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
    out["known"] = len(v)
    out["sentinels"] = {f"{c:g}": int((v == c).sum()) for c in SENTINELS}
    u = np.unique(v)
    out["extremes"] = Extremes(tuple(u[:EDGE_VALUES].tolist()), tuple(u[-EDGE_VALUES:].tolist()))
    return out


# --- the holdout: scores, confusion counts, histograms --------------------------------------------------


@dataclass(frozen=True)
class HoldoutSpec:
    """What the holdout summary needs; picklable, sent to every partition."""

    target: str
    task: str
    classes: tuple
    positive: Any
    threshold: float
    features: tuple
    prediction_column: str | None = None
    model: tuple | None = None  # (bytes, name, trusted sha256 or None)
    score_range: tuple[float, float] = (0.0, 1.0)
    probabilities: bool = True
    columns: tuple = ()  # completeness columns
    sensitive: tuple = ()
    bias: Any = None  # readiness.engines.exact_bias.BiasSpec: counts per sensitive group
    regression: float | None = None  # readiness.engines.exact_regression: the actual values' centring
    calibration: Any = None  # readiness.engines.exact_calibration.CalibrationSpec: calibration's sums
    champion: Any = None  # readiness.engines.exact_champion.ChampionSpec: the current model on every row
    business: Any = None  # readiness.engines.exact_business.Limit: the distinct scores a partition may send


_MODELS: dict = {}


def worker_model(spec: HoldoutSpec):
    """The model, loaded in this worker process from its bytes by :func:`readiness.inputs.load_model`
    (validated as on the driver, whose isolated child already loaded and scored these exact bytes),
    cached per process by its digest."""
    from readiness.inputs.models import ModelAdapter, load_model

    data, name, trusted = spec.model
    key = (len(data), hash(data), spec.task, spec.positive)
    if key not in _MODELS:
        loaded = load_model(data, name=name, trusted_sha256=trusted, sandbox=False)
        est = loaded.estimator
        if getattr(est, "readiness_task", None) and not hasattr(est, "classes_") and spec.task != "regression":
            est = est.with_classes(list(spec.classes))
        _MODELS[key] = ModelAdapter(est, task=spec.task, positive_label=spec.positive, features=list(spec.features))
    return _MODELS[key]


def label_codes(values: pd.Series | np.ndarray, classes: tuple) -> np.ndarray:
    """Index of each value's class (-1: not a class), matching as ``str`` does (1 == 1.0 == '1')."""
    from readiness.checks.bias_stats import label_text

    index = {label_text(c): i for i, c in enumerate(classes)}
    series = pd.Series(np.asarray(values, dtype=object))
    mapping = {v: index.get(label_text(v), -1) for v in series.drop_duplicates()}  # a few distinct labels
    return series.map(mapping).to_numpy(dtype=np.int64)


def scores_of(frame: pd.DataFrame, spec: HoldoutSpec) -> np.ndarray:
    if spec.model is None:
        return pd.to_numeric(frame[spec.prediction_column], errors="coerce").to_numpy(float)
    return np.asarray(worker_model(spec).scores(frame), dtype=float)


def holdout_summary(frame: pd.DataFrame, spec: HoldoutSpec) -> dict:
    labelled = frame[spec.target].notna().to_numpy()
    rows = frame[labelled].reset_index(drop=True)
    # the review leaves out unlabelled rows; completeness counts the rest (as the in-memory check does)
    out: dict = {"rows": len(frame), "unlabelled": int((~labelled).sum()),
                 "columns": {c: column_summary(rows[c]) for c in spec.columns if c in rows}}
    if spec.task == "regression" or (spec.model is None and spec.prediction_column is None) or rows.empty:
        if spec.task == "regression" and not rows.empty and (spec.bias is not None or spec.regression is not None
                                                             or spec.champion is not None):
            from readiness.engines import exact_bias, exact_regression

            s = scores_of(rows, spec)
            if spec.bias is not None:  # bias.groups: errors per group
                out["bias"] = exact_bias.regression_partition(rows, s, spec.bias, spec.target)
            if spec.regression is not None:  # evaluation.holdout: sums of the errors
                out["regression"] = exact_regression.partition(rows, s, spec.target, spec.regression)
            if spec.champion is not None:
                out["champion"] = champion_partition(rows, spec, s=s)
        return out
    s = scores_of(rows, spec)
    ok = ~np.isnan(s) if s.ndim == 1 else ~np.isnan(s).any(axis=1)
    out["unscored"] = int((~ok).sum())
    k = len(spec.classes)
    y = label_codes(rows[spec.target], spec.classes)[ok]
    s = s[ok]
    if spec.task == "binary":
        pos = spec.classes.index(spec.positive)
        neg = next(i for i, c in enumerate(spec.classes) if i != pos)
        pred = np.where(s >= spec.threshold, pos, neg)
        yb = (y == pos).astype(np.int64)
        u = np.unique(s)
        out["score_extremes"] = Extremes(tuple(u[:2].tolist()), tuple(u[-2:].tolist()), k=2)
        b = score_bin(s, spec)
        out["hist_pos"] = np.bincount(b[yb == 1], minlength=SCORE_BINS + 2).astype(np.int64)
        out["hist_neg"] = np.bincount(b[yb == 0], minlength=SCORE_BINS + 2).astype(np.int64)
        from readiness.engines.exact_business import partition as business_partition

        # business.threshold: rows per distinct score and class (or TooManyScores beyond the partition's share)
        out["business"] = business_partition(s, yb, spec.business, len(frame))
        if spec.business is not None:  # above the row limit: each bin's score span, some bins' scores
            from readiness.engines.exact_business import bins_partition

            out["business_bins"] = bins_partition(s, yb, b, SCORE_BINS + 2, spec.business.refine)
        if spec.probabilities:
            p = np.clip(s, 1e-15, 1 - 1e-15)
            loss = -(yb * np.log(p) + (1 - yb) * np.log(1 - p))
            out["log_loss_sum"], out["log_loss_sq"] = float(loss.sum()), float((loss ** 2).sum())
            if spec.calibration is not None:  # calibration on every row (readiness.engines.exact_calibration)
                from readiness.engines.exact_calibration import partition as calibration_partition

                out["calibration"] = calibration_partition(rows[list(spec.calibration.sensitive)][ok], s, yb,
                                                          spec.calibration)
    else:
        pred = label_codes(worker_model(spec).predict(rows[ok]), spec.classes)
    if spec.bias is not None:  # bias.groups on every row (readiness.engines.exact_bias)
        from readiness.engines.exact_bias import holdout_partition

        out["bias"] = holdout_partition(rows, ok, y, pred, s, spec.bias)
    # confusion counts over classes plus one 'not a class' row/column (code k)
    yy, pp = np.where(y < 0, k, y), np.where(pred < 0, k, pred)
    out["confusion"] = np.bincount(yy * (k + 1) + pp, minlength=(k + 1) ** 2).astype(np.int64)
    if spec.champion is not None:
        out["champion"] = champion_partition(rows, spec, ok=ok, y=y, pred=pred, s=s)
    return out


def binary_scored(frame: pd.DataFrame, spec: HoldoutSpec) -> tuple[np.ndarray, np.ndarray]:
    """A binary model's scores of the labelled, scored rows and their labels (1: the positive class), as
    :func:`holdout_summary` takes them."""
    rows = frame[frame[spec.target].notna().to_numpy()].reset_index(drop=True)
    if rows.empty:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    s = scores_of(rows, spec)
    ok = ~np.isnan(s)
    y = label_codes(rows[spec.target], spec.classes)[ok]
    return s[ok], (y == spec.classes.index(spec.positive)).astype(np.int64)


def score_position(scores: np.ndarray, spec: HoldoutSpec) -> np.ndarray:
    """Each score's place on the bin scale: bin j (1..SCORE_BINS) holds positions in [j - 1, j)."""
    lo, hi = spec.score_range
    return (np.asarray(scores, dtype=float) - lo) / (hi - lo) * SCORE_BINS


def score_bin(scores: np.ndarray, spec: HoldoutSpec) -> np.ndarray:
    idx = np.floor(score_position(scores, spec)).astype(np.int64) + 1
    return np.clip(idx, 0, SCORE_BINS + 1)  # 0 and SCORE_BINS + 1: below and above the range


def locate_scores(scores: np.ndarray, spec: HoldoutSpec) -> tuple[np.ndarray, np.ndarray]:
    """(bin, position) of each score, as the partitions compute them."""
    return score_bin(scores, spec), score_position(scores, spec)


def refine_summary(frame: pd.DataFrame, spec: HoldoutSpec, refine) -> dict:
    """``business.threshold``'s further passes (:func:`readiness.engines.exact_business.complete`): the model
    scores the partition again and the rows in the bins or sub-bins ``refine`` (an ``exact_business.Refine``)
    are counted per distinct score and class, or per sub-bin."""
    from readiness.engines.exact_business import refine_partition

    s, yb = binary_scored(frame, spec)
    b, x = locate_scores(s, spec)
    return refine_partition(s, yb, b, x, refine)


def champion_partition(rows: pd.DataFrame, spec: HoldoutSpec, *, s: np.ndarray, ok=None, y=None, pred=None) -> dict:
    """comparison.champion on every row: the current model scores the same labelled ``rows`` here and the
    paired counts are taken (:mod:`readiness.engines.exact_champion`); ``s`` the reviewed model's scores
    (regression: of every labelled row; else of the rows ``ok``, whose class codes are ``y`` and ``pred``)."""
    from readiness.engines import exact_champion

    if spec.task == "regression":
        return exact_champion.regression_rows(rows, s, spec.target, spec.champion)
    positive = spec.classes.index(spec.positive) if spec.task == "binary" else None
    return exact_champion.partition(rows, ok, y, pred, s, spec.threshold, positive, spec.champion)


def table_summary(frame: pd.DataFrame, columns: tuple, target: str, bias: Any = None) -> dict:
    """The training data's completeness counts (and its unlabelled rows); with ``bias`` (a
    ``BiasSpec``), its rows per sensitive value (``readiness.engines.exact_bias``)."""
    labelled = frame[frame[target].notna()] if target in frame else frame
    out = {"rows": len(frame), "unlabelled": len(frame) - len(labelled),
           "columns": {c: column_summary(labelled[c]) for c in columns if c in labelled}}
    if bias is not None:
        from readiness.engines.exact_bias import train_partition

        out["bias"] = train_partition(labelled, bias)
    return out
