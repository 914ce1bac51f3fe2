"""Profiles: fixed bins learned on the review's holdout, applied to every production batch.

A profile is small and plain JSON (it lives in the signed review record): per feature the
bin edges or categories and the holdout's counts per bin; for the model's scores a
histogram whose edges include the decision threshold and the human-review band, with the
labelled outcomes per bin; the calibration map (isotonic regression of the outcome on the
score); per sensitive attribute how rows fall into groups and each group's confusion
counts. A batch is binned with the same edges, so everything monitoring compares rests
on counts (mergeable across partitions, and no holdout row ever leaves the review).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from readiness.checks.bias_stats import (
    MISSING_GROUP,
    OTHER_GROUP,
    label_texts,
    map_distinct,
    missing_text,
)

FEATURE_BINS = 10  # quantile bins of a numeric feature (fewer when values repeat)
SCORE_BINS = 20  # quantile bins of the score (plus the threshold and band edges)
MAX_CATEGORIES = 30  # categories with their own bin; the rest share "(other)"
MAX_KNOWN = 500  # categories remembered to tell "unseen" values; beyond, unseen is not assessed
MAX_KNOTS = 200  # points kept of the isotonic calibration map
MISSING_BIN = "(missing)"
OTHER_BIN = "(other)"
UNSEEN_BIN = "(unseen)"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _edges(values: np.ndarray, bins: int) -> list[float]:
    """Inner edges at quantiles of the values (unique, finite)."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return []
    qs = np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(x) for x in np.unique(qs)]


def feature_profile(train: pd.Series, test: pd.Series, *, bins: int = FEATURE_BINS) -> dict:
    """The profile of one feature on the holdout (``test``); ``train`` adds to the known categories."""
    if _is_numeric(test) or (_is_numeric(train) and test.isna().all()):
        v = pd.to_numeric(test, errors="coerce").to_numpy(float)
        edges = _edges(v, bins)
        prof = {"kind": "numeric", "edges": edges}
        fin = v[np.isfinite(v)]
        prof["mean"] = float(fin.mean()) if len(fin) else None
        prof["sd"] = float(fin.std(ddof=1)) if len(fin) > 1 else None
        prof["labels"] = numeric_labels(edges)
    else:
        both = pd.concat([train, test], ignore_index=True)
        miss = missing_text(both)
        text = pd.Series(label_texts(both), dtype=object)[~miss]
        counts = text.value_counts()
        test_text = pd.Series(label_texts(test), dtype=object)[~missing_text(test)]
        top = test_text.value_counts().index[:MAX_CATEGORIES].tolist()
        prof = {"kind": "categorical", "categories": [str(c) for c in top],
                "known": sorted(str(c) for c in counts.index[:MAX_KNOWN]), "complete": len(counts) <= MAX_KNOWN}
        prof["labels"] = prof["categories"] + [OTHER_BIN, UNSEEN_BIN]
    prof["labels"] = prof["labels"] + [MISSING_BIN]
    prof["counts"] = bin_counts(prof, test).tolist()
    return prof


def _num(x: float) -> str:
    """A bin edge as people read it: 19,220 rather than 1.922e+04; 0.577 stays."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def numeric_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all values"]
    labels = [f"< {_num(edges[0])}"]
    labels += [f"{_num(lo)} – {_num(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f"≥ {_num(edges[-1])}"]


def bin_index(prof: dict, series: pd.Series) -> np.ndarray:
    """The bin of every value under a profile (the last bin is "missing")."""
    k = len(prof["labels"])
    if prof["kind"] == "numeric":
        v = pd.to_numeric(series, errors="coerce").to_numpy(float)
        idx = np.searchsorted(np.asarray(prof["edges"], dtype=float), v, side="right")
        return np.where(np.isfinite(v), idx, k - 1)
    miss = missing_text(series)
    pos = {c: i for i, c in enumerate(prof["categories"])}
    known = set(prof["known"])
    other, unseen = len(prof["categories"]), len(prof["categories"]) + 1
    out = map_distinct(label_texts(series),
                        lambda t: pos.get(t, other if (t in known or not prof["complete"]) else unseen), int)
    return np.where(miss, k - 1, out)


def bin_counts(prof: dict, series: pd.Series) -> np.ndarray:
    return np.bincount(bin_index(prof, series), minlength=len(prof["labels"]))


# --- scores ------------------------------------------------------------------------------------------


def score_edges(scores: np.ndarray, *, threshold: float | None, band: tuple[float, float] | None,
                bins: int = SCORE_BINS) -> list[float]:
    """Quantile edges of the scores plus the decision threshold and the band's ends."""
    edges = set(_edges(np.asarray(scores, dtype=float), bins))
    for x in [threshold, *(band or ())]:
        if x is not None and math.isfinite(x):
            edges.add(float(x))
    return sorted(edges)


def score_bins(edges: list[float], scores: np.ndarray) -> np.ndarray:
    """Bin of each score; a score equal to an edge goes right (so ``score >= threshold`` bins are flagged)."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(scores, dtype=float), side="right")


# --- calibration map -------------------------------------------------------------------------------------


def calibration_map(scores: np.ndarray, y: np.ndarray) -> dict:
    """Isotonic regression of the outcome (0/1) on the score, as knots of a piecewise-linear
    increasing map (scikit-learn's ``IsotonicRegression``, ``out_of_bounds='clip'``)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(np.asarray(scores, float),
                                                                             np.asarray(y, float))
    x, v = np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)
    if len(x) > MAX_KNOTS:  # keep the ends and evenly spaced knots in between
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_KNOTS).round().astype(int))
        x, v = x[keep], v[keep]
    return {"method": "isotonic", "x": x.tolist(), "y": v.tolist()}


def apply_map(cmap: dict, scores: np.ndarray) -> np.ndarray:
    x, y = np.asarray(cmap["x"], float), np.asarray(cmap["y"], float)
    if len(x) == 0:
        return np.full(len(scores), np.nan)
    return np.interp(np.asarray(scores, float), x, y)


# --- groups ------------------------------------------------------------------------------------------------


def group_spec(attr) -> dict:
    """How a batch's rows fall into the groups of one sensitive attribute (from ``bias_stats.Attribute``)."""
    spec: dict[str, Any] = {"name": attr.name, "column": attr.columns[0], "order": list(attr.order)}
    if "binned" in attr.notes:
        spec["edges"] = list(attr.notes["binned"])
    return spec


def group_labels(spec: dict, series: pd.Series) -> np.ndarray:
    """Group label of each row under a group spec: bands for binned numbers, the value as text
    otherwise; missing values "(missing)", values of no known group "(other)"."""
    miss = missing_text(series)
    if "edges" in spec:
        edges = np.asarray(spec["edges"], dtype=float)
        v = pd.to_numeric(series, errors="coerce").to_numpy(float)
        idx = np.clip(np.searchsorted(edges[1:-1], v, side="right"), 0, len(edges) - 2)
        band = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        labels = np.array(band, dtype=object)[idx]
    else:
        known = set(spec["order"])
        labels = map_distinct(label_texts(series), lambda t: t if t in known else OTHER_GROUP, object)
    labels[miss] = MISSING_GROUP
    return labels
