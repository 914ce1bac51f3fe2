"""Checks computed exactly on every row from merged partition summaries.

Each function here gives the same metric keys and the same findings as the check it stands
in for (it calls that check's own verdict code), from counts instead of rows:

* ``data_quality.completeness``: missing cells, disguised tokens, placeholder categories and
  sentinel numbers per column, over all training and holdout rows.
* ``evaluation.holdout_reuse`` (binary and multiclass): the same check from the confusion
  counts' correct and scored rows, so its accuracy and interval are the holdout page's.
* ``evaluation.holdout`` (binary and multiclass): the confusion counts, accuracy, precision,
  recall and balanced accuracy with their intervals; for a binary model ROC AUC from
  per-class score histograms on fixed bins (``roc_auc_max_error`` bounds the difference to
  the exact rank AUC), its interval by Newcombe's method from the AUC and the class counts,
  and log loss from sums. Intervals that the in-memory check bootstraps are computed here
  from counts (normal approximations, named in ``interval_methods``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness.checks.data_quality import (
    ColumnMissing,
    completeness_outcome,
    placeholders_in_counts,
    sentinels_from,
    tokens_in_counts,
    top_codes,
)
from readiness.checks.evaluation import classification_verdict, largest_confusions
from readiness.engines.summaries import SCORE_BINS
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome
from readiness.results import Finding, Severity
from readiness.stats import _newcombe_auc, clopper_pearson

Z = 1.959963984540054


def completeness(ctx: ReviewContext, train: dict, test: dict) -> Outcome:
    counts = {}
    for col in [c for c in ctx.train.columns if c in ctx.test.columns]:
        a, b = train["columns"].get(col), test["columns"].get(col)
        if a is None or b is None:
            continue
        tokens, as_category, sentinels, distinct = {}, {}, {}, 0
        in_a = in_b = 0  # the placeholders in each split
        if "values" in a and "values" in b:
            values = a["values"] + b["values"]
            vc = pd.Series(values.counts, dtype="int64").sort_values(ascending=False, kind="stable")
            tokens = tokens_in_counts(vc)
            as_category = {} if values.overflow else placeholders_in_counts(vc, tokens)
            distinct = len(vc) if as_category else 0
            hidden = [t for t in tokens if t not in as_category]
            in_a = sum(a["values"].counts.get(t, 0) for t in hidden)
            in_b = sum(b["values"].counts.get(t, 0) for t in hidden)
        elif "known" in a and "known" in b:
            ext = a["extremes"] + b["extremes"]
            sent = {k: a["sentinels"][k] + b["sentinels"][k] for k in a["sentinels"]}
            sentinels = {v: k for v, k in sentinels_from(a["known"] + b["known"], sent, ext.low, ext.high).items()
                         if v not in top_codes(ctx).get(col, {})}  # judged on the sample's rows
            in_a = sum(a["sentinels"][k] for k in sentinels)
            in_b = sum(b["sentinels"][k] for k in sentinels)
        counts[col] = ColumnMissing(a["missing"], b["missing"], {t: k for t, k in tokens.items() if t not in as_category},
                                    as_category, sentinels, distinct, in_a, in_b)
    return completeness_outcome(ctx, _labelled(train), _labelled(test), counts)


def _labelled(summary: dict) -> int:
    return int(summary["rows"] - summary["unlabelled"])


def _prop_ci(x: int, n: int) -> list | None:
    return list(clopper_pearson(int(x), int(n))) if n else None


def _confusion(ctx: ReviewContext, test: dict) -> tuple[int, np.ndarray]:
    """(classes, the merged confusion counts: true class by predicted class, one more row and column for a
    label or prediction outside the classes)."""
    k = len(ctx.classes)
    return k, np.asarray(test["confusion"], dtype=np.int64).reshape(k + 1, k + 1)


def holdout_reuse(ctx: ReviewContext, test: dict) -> Outcome:
    from readiness.checks.holdout_reuse import reuse_outcome

    k, conf = _confusion(ctx, test)
    return reuse_outcome(ctx, (int(np.trace(conf[:k, :k])), int(conf.sum())))


def holdout(ctx: ReviewContext, test: dict) -> Outcome:
    k, conf = _confusion(ctx, test)
    findings = []
    unscored = int(test.get("unscored", 0))
    if unscored:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{unscored} holdout rows have no score and were left out of the metrics."),
            evidence={"rows_without_score": unscored}))
    n = int(conf.sum())
    correct = int(np.trace(conf[:k, :k]))
    acc = correct / n
    labels = [str(c) for c in ctx.classes]
    cm = conf[:k, :k]
    rows = conf.sum(axis=1)
    present = rows > 0
    recalls = np.where(present, np.diag(conf) / np.maximum(rows, 1), 0.0)
    recalls[k] = 0.0  # rows whose label is not a class are never predicted right
    bal = float(np.mean(recalls[present]))
    var = float(np.sum((recalls * (1 - recalls) / np.maximum(rows, 1))[present])) / present.sum() ** 2
    m: dict = {"n": n, "accuracy": acc, "accuracy_ci": list(clopper_pearson(correct, n)), "balanced_accuracy": bal,
               "balanced_accuracy_ci": [max(0.0, bal - Z * math.sqrt(var)), min(1.0, bal + Z * math.sqrt(var))],
               "majority_class_rate": float(np.max(cm.sum(axis=1)) / n),
               "confusion_matrix": {"labels": labels, "matrix": cm.tolist()},
               "threshold": ctx.settings.threshold if ctx.task == "binary" else None,
               "class_counts": dict(zip(labels, cm.sum(axis=1).tolist(), strict=True)),
               "interval_methods": {"accuracy_ci": "Clopper-Pearson",
                                    "balanced_accuracy_ci": "normal approximation from per-class counts"}}
    if ctx.task == "binary":
        pos = ctx.classes.index(ctx.positive_label)
        tp = int(conf[pos, pos])
        fn = int(conf[pos, :].sum()) - tp
        fp = int(conf[:, pos].sum()) - tp
        m["positive_label"] = ctx.positive_label
        m["prevalence"] = (tp + fn) / n
        _auc(m, np.asarray(test["hist_pos"], float), np.asarray(test["hist_neg"], float))
        if "log_loss_sum" in test:
            mean = test["log_loss_sum"] / n
            sd = math.sqrt(max(test["log_loss_sq"] / n - mean * mean, 0.0) * n / max(n - 1, 1))
            m["log_loss"] = mean
            m["log_loss_ci"] = [mean - Z * sd / math.sqrt(n), mean + Z * sd / math.sqrt(n)]
            m["interval_methods"]["log_loss_ci"] = "normal approximation (mean and standard deviation of the row losses)"
        m["recall"] = tp / (tp + fn) if tp + fn else None
        m["recall_ci"] = _prop_ci(tp, tp + fn)
        m["precision"] = tp / (tp + fp) if tp + fp else None
        m["precision_ci"] = _prop_ci(tp, tp + fp)
    else:
        per = {}
        for j, label in enumerate(labels):
            tp, fp, fn = int(cm[j, j]), int(conf[:, j].sum() - cm[j, j]), int(conf[j, :].sum() - cm[j, j])
            den = 2 * tp + fp + fn
            per[label] = {"precision": tp / (tp + fp) if tp + fp else None, "precision_ci": _prop_ci(tp, tp + fp),
                          "recall": tp / (tp + fn) if tp + fn else None, "recall_ci": _prop_ci(tp, tp + fn),
                          "f1": 2 * tp / den if den else None, "f1_ci": None, "support": tp + fn}
        m["per_class"] = per
        m["largest_confusions"] = largest_confusions(cm, labels)
    ext = test.get("score_extremes")
    distinct = set(ext.low) | set(ext.high) if ext is not None else set()
    score_range = (min(distinct), max(distinct)) if ctx.task == "binary" and len(distinct) > 1 else None
    return classification_verdict(ctx, m, findings, score_range=score_range)


def _auc(m: dict, pos: np.ndarray, neg: np.ndarray) -> None:
    """ROC AUC from score histograms: pairs in different bins are ordered exactly, pairs in one bin
    count one half; ``roc_auc_max_error`` is half the share of pairs that share a bin."""
    P, N = pos.sum(), neg.sum()
    if P == 0 or N == 0 or np.count_nonzero(pos + neg) <= 2:
        return
    below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    auc = float(np.sum(pos * (below + 0.5 * neg)) / (P * N))
    m["roc_auc"] = auc
    m["roc_auc_ci"] = list(_newcombe_auc(auc, int(P), int(N), Z))
    m["roc_auc_max_error"] = float(0.5 * np.sum(pos * neg) / (P * N))
    m["roc_auc_bins"] = SCORE_BINS
    m["interval_methods"]["roc_auc_ci"] = "Newcombe (score-type, from the AUC and the class counts)"
    tpr = np.concatenate([[0.0], np.cumsum(pos[::-1]) / P])
    fpr = np.concatenate([[0.0], np.cumsum(neg[::-1]) / N])
    keep = np.concatenate([[True], (pos + neg)[::-1] > 0])
    fpr, tpr = fpr[keep], tpr[keep]
    pick = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 200)).astype(int))
    m["roc_curve"] = {"fpr": fpr[pick].tolist(), "tpr": tpr[pick].tolist()}


EXACT = {"data_quality.completeness": "completeness", "evaluation.holdout": "holdout"}
