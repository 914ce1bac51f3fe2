"""The monitoring reference: what the review's holdout looked like, recorded in the signed review.

:func:`build_reference` profiles the holdout rows the model scored (the population the
review judged): every model feature's distribution (``readiness.monitor.profile``), the
score distribution with the labelled outcome per bin, the calibration map, the
human-review band, the holdout's accuracy, ROC AUC and cost, and per sensitive attribute
each group's confusion counts. The check ``monitoring.reference`` puts it in the review's
JSON, so the signed record carries it; ``readiness monitor`` reads it back.
"""

from __future__ import annotations

import numpy as np

from readiness.checks.bias import sensitive_attributes
from readiness.checks.bias_stats import label_text, label_texts, rate_stats
from readiness.monitor.profile import (
    apply_map,
    calibration_map,
    feature_profile,
    group_labels,
    group_spec,
    score_bins,
    score_edges,
)
from readiness.stats import rank_auc

REFERENCE_VERSION = 1


def _band(ctx) -> tuple[float, float] | None:
    """The human-review band of ``uncertainty.abstention`` (binary), when the review recommends one."""
    if ctx.task != "binary":
        return None
    from readiness.checks.calibration import abstention
    from readiness.registry import SkipCheck

    try:
        band = abstention(ctx).metrics.get("band") or {}
    except SkipCheck:
        return None
    if band.get("lower") is None or band.get("upper") is None:
        return None
    return float(band["lower"]), float(band["upper"])


def correct_probability(task: str, scores: np.ndarray, cmap: dict, threshold: float | None) -> np.ndarray:
    """P(the prediction is right) per row from the calibration map: binary maps the score to
    P(positive) and reads it on the side of the decision; otherwise the map is of confidence."""
    p = apply_map(cmap, scores)
    if task == "binary":
        return np.where(np.asarray(scores, float) >= threshold, p, 1 - p)
    return p


def confidence(task: str, scores: np.ndarray) -> np.ndarray:
    """The score monitoring bins: the positive-class score (binary), the top-class probability
    (multiclass), the prediction (regression)."""
    s = np.asarray(scores, dtype=float)
    return s.max(axis=1) if task == "multiclass" and s.ndim == 2 else s


def build_reference(ctx) -> dict:
    """The reference profile of a review context (plain JSON)."""
    ok = np.asarray(ctx.scored)
    test, train = ctx.test[ok].reset_index(drop=True), ctx.train
    n = int(ok.sum())
    threshold = float(ctx.settings.threshold) if ctx.task == "binary" else None
    model_file = next((f for f in ctx.input_files if f.role == "model"), None)
    ref: dict = {"version": REFERENCE_VERSION, "rows": n, "task": ctx.task, "target": ctx.target,
                 "positive_label": None if ctx.positive_label is None else label_text(ctx.positive_label),
                 "classes": [label_text(c) for c in ctx.classes],
                 "model_sha256": model_file.sha256 if model_file else None,
                 "prediction_column": ctx.roles.prediction_column, "model_features": list(ctx.features),
                 "threshold": threshold, "cost_fp": float(ctx.settings.cost_fp), "cost_fn": float(ctx.settings.cost_fn)}
    ref["features"] = {f: feature_profile(train[f] if f in train else test[f].iloc[:0], test[f])
                       for f in ctx.features if f in test.columns}
    scores = np.asarray(ctx.test_scores, dtype=float)[ok]
    conf = confidence(ctx.task, scores)
    band = _band(ctx)
    edges = score_edges(conf, threshold=threshold, band=band)
    bins = score_bins(edges, conf)
    k = len(edges) + 1
    sc: dict = {"edges": edges, "counts": np.bincount(bins, minlength=k).tolist(),
                "kind": {"binary": "score of the positive class", "multiclass": "top-class probability",
                         "regression": "prediction"}[ctx.task]}
    if ctx.task == "regression":
        y = ctx.y_test.to_numpy(float)[ok]
        err = np.abs(scores - y)
        sc["abs_error_sum"] = np.bincount(bins, weights=err, minlength=k).tolist()
        ref["performance"] = {"mae": float(err.mean())}
    else:
        y_text = label_texts(ctx.y_test.to_numpy()[ok])
        pred_text = label_texts(np.asarray(ctx.test_pred)[ok])
        correct = (y_text == pred_text).astype(int)
        sc["correct"] = np.bincount(bins, weights=correct, minlength=k).astype(int).tolist()
        perf: dict = {"accuracy": float(correct.mean())}
        if ctx.task == "binary":
            yb = np.asarray(ctx.y_test_binary)[ok].astype(int)
            sc["positives"] = np.bincount(bins, weights=yb, minlength=k).astype(int).tolist()
            cmap = calibration_map(scores, yb)
            flagged = scores >= threshold
            perf["roc_auc"] = rank_auc(yb, scores)
            fp, fn = int((flagged & (yb == 0)).sum()), int((~flagged & (yb == 1)).sum())
            perf.update({"tp": int((flagged & (yb == 1)).sum()), "fp": fp, "fn": fn,
                         "tn": int((~flagged & (yb == 0)).sum()),
                         "cost_per_1000": 1000 * (fp * ctx.settings.cost_fp + fn * ctx.settings.cost_fn) / n})
        else:
            cmap = calibration_map(conf, correct)
        q = correct_probability(ctx.task, conf, cmap, threshold)
        sc["expected_correct"] = np.bincount(bins, weights=q, minlength=k).tolist()
        perf["estimated_accuracy"] = float(q.mean())
        ref["calibration_map"] = cmap
        ref["performance"] = perf
    ref["scores"] = sc
    if band is not None:
        in_band = (conf > band[0]) & (conf < band[1])
        ref["band"] = {"lower": band[0], "upper": band[1], "rows": int(in_band.sum()), "share": float(in_band.mean())}
    else:
        ref["band"] = None
    ref["groups"] = _groups(ctx, ok, scores)
    return ref


def _groups(ctx, ok: np.ndarray, scores: np.ndarray) -> dict:
    """Per sensitive attribute (each alone): how rows fall into groups, and each group's counts."""
    if not ctx.roles.sensitive:
        return {}
    attrs, _ = sensitive_attributes(ctx, intersections=False)
    out = {}
    for a in attrs:
        spec = group_spec(a)
        labels = group_labels(spec, ctx.test[spec["column"]][ok])
        groups = {}
        for g in spec["order"]:
            m = labels == g
            if not m.any():
                continue
            if ctx.task == "binary":
                st = rate_stats(np.asarray(ctx.y_test_binary)[ok][m], (scores[m] >= ctx.settings.threshold),
                                bootstrap=False)
                groups[g] = {k: st[k] for k in ("n", "tp", "fp", "fn", "tn")}
            elif ctx.task == "multiclass":
                y = label_texts(ctx.y_test.to_numpy()[ok][m])
                p = label_texts(np.asarray(ctx.test_pred)[ok][m])
                groups[g] = {"n": int(m.sum()), "correct": int((y == p).sum())}
            else:
                err = np.abs(scores[m] - ctx.y_test.to_numpy(float)[ok][m])
                groups[g] = {"n": int(m.sum()), "abs_error_sum": float(err.sum())}
        out[a.name] = {"spec": spec, "groups": groups}
    return out
