"""``business.threshold`` exact on the engines (issue 22: the threshold cost curve from counts).

Each partition counts its scored holdout rows per distinct score and class (:class:`ScoreCounts`,
merged exactly by adding counts). The in-memory check cuts between distinct scores, so these value
counts give every figure it computes: the confusion counts and cost at every cut, the cheapest
threshold, the review threshold's point, the flag-all/flag-none policies, the Bayes threshold's cost,
the accuracy/recall targets and the ROC AUC interval. Then the check's own :func:`threshold_outcome`.

Three regimes, by the holdout's size (the driver's memory stays bounded in each):

- up to :func:`row_limit` scored rows (5,000,000): the driver lays the counted rows out in score order
  (within a score, negatives first) and runs the check's own :func:`analyse_scores`: the in-memory check.
  Its bootstrap resamples rows in that order: bit for bit the in-memory figures when no score is shared
  by a positive and a negative row; otherwise, within such a tie, rows stand in a canonical order instead
  of the file's (the same resampling distribution, other draws; ``interval_methods`` says so). About 60
  bytes a row on the driver while the check runs.
- more rows: :func:`analyse_counts` computes every figure from the counts without laying out rows (the
  same values as on the rows; the ROC AUC interval from DeLong's placement values per score); the
  bootstrap resamples the (score, class) cells (``CELL_BOOTSTRAP`` in ``interval_methods``).
- above that row limit, the partitions count their distinct scores only while they stay within their
  share of :func:`distinct_cap` (1,000,000, in proportion to their rows; at least 1,000 each): else they
  send :class:`TooManyScores`, and so does a merge of more than the cap. The driver then never holds
  more than about ``cap + 1,000 × partitions`` entries (24 bytes each), and the check runs on the
  engine's sample (``metrics.basis.why`` says so). Continuous scores on tens of millions of rows land here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_METHOD = ("bootstrap over every holdout row in score order (as in memory); rows sharing a score "
                    "with a row of the other class stand in a canonical order (negatives first)")
ROWS_ENV, ROWS = "READINESS_BUSINESS_ROWS", 5_000_000  # above: the figures from counts, never rows
DISTINCT_ENV, DISTINCT = "READINESS_BUSINESS_DISTINCT", 1_000_000  # above (and above ROWS): on the sample
PARTITION_FLOOR = 1_000  # distinct scores a partition may always send, whatever its share


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def row_limit() -> int:
    """Scored holdout rows up to which the driver lays out the rows and runs the in-memory analysis."""
    return _env_int(ROWS_ENV, ROWS)


def distinct_cap() -> int:
    """The most distinct scores counted over every row, above :func:`row_limit` rows."""
    return _env_int(DISTINCT_ENV, DISTINCT)


@dataclass(frozen=True)
class Limit:
    """What a partition may send: ``distinct`` scores over a holdout of ``rows`` rows, each partition its
    share in proportion to its rows (at least :data:`PARTITION_FLOOR`), so that all the partitions'
    counts together stay near ``distinct`` entries whichever way the rows are partitioned."""

    distinct: int
    rows: int

    def share(self, partition_rows: int) -> int:
        return max(PARTITION_FLOOR, math.ceil(self.distinct * partition_rows / max(self.rows, 1)))


def limit(holdout_rows: int) -> Limit | None:
    """The partitions' bound for a holdout of ``holdout_rows`` rows: none up to :func:`row_limit` rows
    (every distinct score is counted, as in memory)."""
    return None if holdout_rows <= row_limit() else Limit(distinct_cap(), int(holdout_rows))


@dataclass(frozen=True)
class TooManyScores:
    """Sent instead of counts when the distinct scores exceed the bound; absorbs whatever it is merged with."""

    distinct: int  # the bound exceeded

    def __add__(self, other) -> TooManyScores:
        return self


@dataclass(frozen=True)
class ScoreCounts:
    """Distinct scores (ascending) with the positive and negative rows at each; ``cap``: the most distinct
    scores a merge may hold (None: no bound)."""

    u: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    cap: int | None = None

    def __add__(self, other: ScoreCounts | TooManyScores) -> ScoreCounts | TooManyScores:
        if isinstance(other, TooManyScores):
            return other
        u, inv = np.unique(np.concatenate([self.u, other.u]), return_inverse=True)
        cap = self.cap if other.cap is None else other.cap if self.cap is None else min(self.cap, other.cap)
        if cap is not None and len(u) > cap:
            return TooManyScores(cap)
        pos = np.bincount(inv, weights=np.concatenate([self.pos, other.pos]), minlength=len(u))
        neg = np.bincount(inv, weights=np.concatenate([self.neg, other.neg]), minlength=len(u))
        return ScoreCounts(u, pos.astype(np.int64), neg.astype(np.int64), cap)


def partition(scores: np.ndarray, yb: np.ndarray, bound: Limit | None = None,
              rows: int | None = None) -> ScoreCounts | TooManyScores:
    """One partition's scored rows: ``scores`` NaN-free, ``yb`` 1 for the positive label; with ``bound``,
    :class:`TooManyScores` when they hold more distinct scores than the partition's share (``rows``: the
    partition's rows, scored or not; default the scored ones)."""
    u, inv = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    if bound is not None and len(u) > bound.share(len(inv) if rows is None else rows):
        return TooManyScores(bound.distinct)
    yb = np.asarray(yb).astype(np.int64)
    pos = np.bincount(inv, weights=yb, minlength=len(u)).astype(np.int64)
    neg = np.bincount(inv, minlength=len(u)).astype(np.int64) - pos
    return ScoreCounts(u, pos, neg, None if bound is None else bound.distinct)


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


def sample_reason(summary: dict | None) -> str | None:
    """Why the check runs on the engine's sample, when the holdout's scores were too many to count."""
    c = (summary or {}).get("business")
    if not isinstance(c, TooManyScores):
        return None
    return (f"the scores take too many distinct values to count them all on the driver (more than {c.distinct:,}, "
            f"or more than a partition's share of them), so the threshold is chosen on the sample")


def threshold(ctx, summary: dict):
    """The check on every scored holdout row, from the merged :class:`ScoreCounts`."""
    from readiness.checks.business import (
        CELL_BOOTSTRAP,
        analyse_counts,
        analyse_scores,
        threshold_outcome,
    )
    from readiness.registry import SkipCheck

    c: ScoreCounts = summary["business"]
    if not len(c.u):
        raise SkipCheck("No holdout row has a score, so no threshold can be evaluated.")
    s = ctx.settings
    args = dict(threshold=s.threshold, cost_fp=s.cost_fp, cost_fn=s.cost_fn, target_accuracy=s.target_accuracy,
                target_recall=getattr(s, "target_recall", None), probabilities=ctx.scores_are_probabilities,
                n_boot=s.bootstrap, seed=s.random_state)
    by_rows = int(c.pos.sum() + c.neg.sum()) <= row_limit()
    try:
        m = analyse_scores(*rows_of(c), **args) if by_rows else analyse_counts(c.u, c.pos, c.neg, **args)
    except ValueError as exc:
        raise SkipCheck(f"The business costs cannot be used: {exc}") from None
    m["rows_without_score"] = int(summary.get("unscored", 0))
    m["positive_label"] = ctx.positive_label
    m["mixed_ties"] = mixed_ties(c)
    method = BOOTSTRAP_METHOD if by_rows else CELL_BOOTSTRAP
    m["interval_methods"] = {"threshold_ci": method, "savings_ci": method, "model_advantage_ci": method}
    return threshold_outcome(ctx, m)
