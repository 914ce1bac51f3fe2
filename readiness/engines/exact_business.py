"""``business.threshold`` exact on the engines (issue 22: the threshold cost curve from counts).

Each partition counts its scored holdout rows per distinct score and class (:class:`ScoreCounts`,
merged exactly by adding counts). The in-memory check cuts between distinct scores, so these value
counts give every figure it computes: the confusion counts and cost at every cut, the cheapest
threshold, the review threshold's point, the flag-all/flag-none policies, the Bayes threshold's cost,
the accuracy/recall targets and the ROC AUC interval. The driver lays the counted rows out in score
order (within a score, negatives first) and runs the check's own :func:`analyse_scores` and
:func:`threshold_outcome` on them, so the verdict and wording are the in-memory check's.

The bootstrap (the cheapest threshold's interval, the saving's and the model's advantage's out-of-bag
intervals) resamples rows in that score order as in memory: bit for bit the in-memory figures when no
score is shared by a positive and a negative row; otherwise, within such a tie, rows stand in a
canonical order instead of the file's, the same resampling distribution but not the same draws
(``interval_methods`` says so). Memory on the driver: one (score, positives, negatives) entry per
distinct score, and about 60 bytes a row while the check runs (scores, labels, sort order, bootstrap weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP_METHOD = ("bootstrap over every holdout row in score order (as in memory); rows sharing a score "
                    "with a row of the other class stand in a canonical order (negatives first)")


@dataclass(frozen=True)
class ScoreCounts:
    """Distinct scores (ascending) with the positive and negative rows at each."""

    u: np.ndarray
    pos: np.ndarray
    neg: np.ndarray

    def __add__(self, other: ScoreCounts) -> ScoreCounts:
        u, inv = np.unique(np.concatenate([self.u, other.u]), return_inverse=True)
        pos = np.bincount(inv, weights=np.concatenate([self.pos, other.pos]), minlength=len(u))
        neg = np.bincount(inv, weights=np.concatenate([self.neg, other.neg]), minlength=len(u))
        return ScoreCounts(u, pos.astype(np.int64), neg.astype(np.int64))


def partition(scores: np.ndarray, yb: np.ndarray) -> ScoreCounts:
    """One partition's scored rows: ``scores`` NaN-free, ``yb`` 1 for the positive label."""
    u, inv = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    yb = np.asarray(yb).astype(np.int64)
    pos = np.bincount(inv, weights=yb, minlength=len(u)).astype(np.int64)
    neg = np.bincount(inv, minlength=len(u)).astype(np.int64) - pos
    return ScoreCounts(u, pos, neg)


def rows_of(c: ScoreCounts) -> tuple[np.ndarray, np.ndarray]:
    """The counted rows in score order (negatives first within a score): (scores, labels)."""
    per = np.column_stack([c.neg, c.pos]).ravel()
    scores = np.repeat(np.repeat(c.u, 2), per)
    y = np.repeat(np.tile(np.array([0, 1], dtype=np.int8), len(c.u)), per)
    return scores, y


def mixed_ties(c: ScoreCounts) -> int:
    """Distinct scores held by rows of both classes (where the bootstrap's draws may differ)."""
    return int(((c.pos > 0) & (c.neg > 0)).sum())


def ready(ctx, summary: dict) -> bool:
    return ctx.task == "binary" and not ctx.data_only and isinstance(summary.get("business"), ScoreCounts)


def threshold(ctx, summary: dict):
    """The check on every scored holdout row, from the merged :class:`ScoreCounts`."""
    from readiness.checks.business import analyse_scores, threshold_outcome
    from readiness.registry import SkipCheck

    c: ScoreCounts = summary["business"]
    if not len(c.u):
        raise SkipCheck("No holdout row has a score, so no threshold can be evaluated.")
    scores, y = rows_of(c)
    s = ctx.settings
    try:
        m = analyse_scores(scores, y, threshold=s.threshold, cost_fp=s.cost_fp, cost_fn=s.cost_fn,
                           target_accuracy=s.target_accuracy, target_recall=getattr(s, "target_recall", None),
                           probabilities=ctx.scores_are_probabilities, n_boot=s.bootstrap, seed=s.random_state)
    except ValueError as exc:
        raise SkipCheck(f"The business costs cannot be used: {exc}") from None
    m["rows_without_score"] = int(summary.get("unscored", 0))
    m["positive_label"] = ctx.positive_label
    m["mixed_ties"] = mixed_ties(c)
    m["interval_methods"] = {"threshold_ci": BOOTSTRAP_METHOD, "savings_ci": BOOTSTRAP_METHOD,
                             "model_advantage_ci": BOOTSTRAP_METHOD}
    return threshold_outcome(ctx, m)
