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
  more than about ``cap + 1,000 × partitions`` entries (24 bytes each). Continuous scores on tens of
  millions of rows land here, and the score bins take over (:func:`complete`):

  every partition also sends its rows per class in each of the holdout summary's fixed score bins
  (``hist_pos``/``hist_neg``, 4,096 over the score range) with each bin's lowest and highest score
  (:class:`Span`). A bin is one cell, so every count and cost at every cut *between* bins is exact. Within a
  bin the cost can fall by at most ``cost_fp`` × its negatives (the rows that stop being false positives), so
  the bins whose cost at their lower edge, less that, is not above the cheapest edge's are the only ones that
  can hold a cheaper cut; so too the bins holding the review threshold or the Bayes threshold, where the
  recall target is crossed, and those that can hold the best accuracy or cross the accuracy target. Those
  bins' rows are counted per distinct score in a second pass (the model scores every partition again;
  :func:`refine_partition`), at most :func:`refine_cap` scores (4,000,000). Then every figure of the check is
  the in-memory check's on all the rows, except: the bootstrap intervals resample the cells (other bins whole),
  the ROC AUC interval counts the rows in one bin as tied, and the curve is drawn at the cells' cuts. When
  those bins hold more rows than the cap, a pass cuts them into ``SUB_CELLS`` sub-bins first and only the
  sub-bins that can hold a figure are split by score (a third pass); only when even those hold more rows than
  the cap does the check run on the engine's sample (``metrics.basis.why``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_METHOD = ("bootstrap over every holdout row in score order (as in memory); rows sharing a score "
                    "with a row of the other class stand in a canonical order (negatives first)")
ROWS_ENV, ROWS = "READINESS_BUSINESS_ROWS", 5_000_000  # above: the figures from counts, never rows
DISTINCT_ENV, DISTINCT = "READINESS_BUSINESS_DISTINCT", 1_000_000  # above (and above ROWS): score bins
REFINE_ENV, REFINE = "READINESS_BUSINESS_REFINE", 4_000_000  # rows counted again per score; above: on the sample
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


def refine_cap() -> int:
    """The most rows the bins that can hold a figure may hold, to be counted per distinct score."""
    return _env_int(REFINE_ENV, REFINE)


@dataclass(frozen=True)
class Limit:
    """What a partition may send: ``distinct`` scores over a holdout of ``rows`` rows, each partition its
    share in proportion to its rows (at least :data:`PARTITION_FLOOR`), so that all the partitions'
    counts together stay near ``distinct`` entries whichever way the rows are partitioned."""

    distinct: int
    rows: int
    refine: tuple = ()  # score bins whose rows are counted per distinct score in the first pass (from the sample)

    def share(self, partition_rows: int) -> int:
        return max(PARTITION_FLOOR, math.ceil(self.distinct * partition_rows / max(self.rows, 1)))


def limit(holdout_rows: int) -> Limit | None:
    """The partitions' bound for a holdout of ``holdout_rows`` rows: none up to :func:`row_limit` rows
    (every distinct score is counted, as in memory)."""
    return None if holdout_rows <= row_limit() else Limit(distinct_cap(), int(holdout_rows))


@dataclass(frozen=True)
class TooManyScores:
    """Sent instead of counts when the distinct scores exceed the bound; absorbs whatever it is merged with.
    ``refine``: set by :func:`complete` when the bins to count again held more rows than :func:`refine_cap`."""

    distinct: int  # the bound exceeded
    refine: int | None = None  # rows in the bins that had to be counted again (above the refine cap)

    def __add__(self, other) -> TooManyScores:
        return self


@dataclass(frozen=True)
class ScoreCounts:
    """Distinct scores (ascending) with the positive and negative rows at each; ``cap``: the most distinct
    scores a merge may hold (None: no bound). From :func:`complete`: ``hi`` set, entry k is a cell holding the
    rows scored ``u[k]`` to ``hi[k]`` (a whole score bin, or one score); such counts are not merged further."""

    u: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    cap: int | None = None
    hi: np.ndarray | None = None

    @property
    def bins(self) -> int:
        """Cells that are whole score bins (holding more than one score)."""
        return 0 if self.hi is None else int((self.hi > self.u).sum())

    def __add__(self, other: ScoreCounts | TooManyScores) -> ScoreCounts | TooManyScores:
        if isinstance(other, TooManyScores):
            return other
        assert self.hi is None and other.hi is None, "cells of score bins are not merged"
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


def empty() -> ScoreCounts:
    return ScoreCounts(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class Span:
    """Each score bin's lowest and highest score (inf and -inf: no row); merged by the smaller and the larger."""

    lo: np.ndarray
    hi: np.ndarray

    def __add__(self, other: Span) -> Span:
        return Span(np.fmin(self.lo, other.lo), np.fmax(self.hi, other.hi))


def span(scores: np.ndarray, bins: np.ndarray, n_bins: int) -> Span:
    """:class:`Span` of one partition: ``bins`` each score's bin (a non-decreasing function of the score)."""
    lo, hi = np.full(n_bins, np.inf), np.full(n_bins, -np.inf)
    order = np.argsort(scores, kind="stable")
    s, b = np.asarray(scores, dtype=float)[order], np.asarray(bins)[order]
    if len(s):
        first = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
        last = np.r_[first[1:], len(s)] - 1
        lo[b[first]], hi[b[first]] = s[first], s[last]
    return Span(lo, hi)


def bins_partition(scores: np.ndarray, yb: np.ndarray, bins: np.ndarray, n_bins: int, refine: tuple) -> dict:
    """Above the row limit, besides the bounded counts: each bin's :class:`Span` and the rows per distinct score
    in the bins ``refine`` (those the sample says can hold the check's figures)."""
    return {"span": span(scores, bins, n_bins),
            "refined": refine_partition(scores, yb, bins, None, Refine(bins=tuple(refine)))["refined"]}


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
    if c.refine is not None:
        return (f"the scores take too many distinct values to count them all on the driver, and the score bins "
                f"(cut finer where needed) that can hold the cheapest threshold or a target hold {c.refine:,} "
                f"rows, more than the {refine_cap():,} counted score by score, so the threshold is chosen on the "
                f"sample")
    return (f"the scores take too many distinct values to count them all on the driver (more than {c.distinct:,}, "
            f"or more than a partition's share of them), so the threshold is chosen on the sample")


# --- above the distinct cap: score bins, then the bins that matter score by score ----------------------


def _edges(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False negatives and false positives at every cut k = 0..K (cells before k not flagged)."""
    fn = np.concatenate([[0.0], np.cumsum(pos)])
    tn = np.concatenate([[0.0], np.cumsum(neg)])
    return fn, tn[-1] - tn


def required(lo, hi, pos, neg, whole, *, threshold: float, cost_fp: float, cost_fn: float,
             target_accuracy: float | None = None, target_recall: float | None = None,
             probabilities: bool = False) -> np.ndarray:
    """The cells (those with ``whole`` True: score bins not yet split into scores) inside which a figure of
    the check can lie, so that it differs from the one at the cells' cuts: a cheaper cut than any between the
    cells (the cost within a cell falls by at most ``cost_fp`` × its negatives), the review and Bayes
    thresholds, the recall target's crossing, the best accuracy and the accuracy target's crossing, and the
    cheapest cut meeting the accuracy target. Boolean per cell; tolerances are those of the check's ties, doubled."""
    from readiness.checks.business import _TIE

    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    n, P = float(pos.sum() + neg.sum()), float(pos.sum())
    fn, fp = _edges(pos, neg)
    cost = cost_fp * fp + cost_fn * fn

    def may_beat(edge_cost, fall, among=None):
        best = float(edge_cost.min() if among is None else edge_cost[among].min())
        return edge_cost[:-1] - fall <= best + 2 * _TIE * max(1.0, abs(best))

    need = may_beat(cost, cost_fp * neg)
    for t in [threshold] + ([cost_fp / (cost_fp + cost_fn)] if probabilities else []):
        need |= (lo < t) & (t <= hi)
    if target_accuracy is not None:
        err = fp + fn
        need |= may_beat(err, neg)  # the best accuracy
        allowed = n * (1.0 - target_accuracy + 2e-12)
        can, surely = err[:-1] - neg <= allowed, err[:-1] + pos <= allowed
        need |= can & ~surely  # the target crossed inside the cell
        ok = err <= allowed
        if ok.any():
            need |= can & may_beat(cost, cost_fp * neg, among=ok)
    if target_recall is not None and P > 0:
        rec_ok = (P - fn) / P >= target_recall - 2e-12
        need |= rec_ok[:-1] & ~rec_ok[1:]
    return need & np.asarray(whole, dtype=bool)


SUB_CELLS = 65_536  # sub-bins the bins to split are cut into when they hold too many rows to split by score


@dataclass(frozen=True)
class Refine:
    """What a further pass over the holdout counts (:func:`refine_partition`): the rows of the score bins
    ``bins`` per distinct score; the bins ``sub_bins`` each cut into ``parts`` equal sub-bins (a sub-bin's key:
    the bin's rank in ``sub_bins`` × ``parts`` + its part), with ``histogram`` their rows per class and span,
    and the rows of the sub-bins ``keys`` per distinct score."""

    bins: tuple = ()
    sub_bins: tuple = ()
    parts: int = 0
    keys: tuple = ()
    histogram: bool = False


def sub_key(bins: np.ndarray, position: np.ndarray, r: Refine) -> np.ndarray:
    """Each score's sub-bin key (-1: not in ``r.sub_bins``); ``position`` its place on the bin scale (bin j
    holds positions in [j - 1, j)), a non-decreasing function of the score, so keys follow the scores."""
    sb = np.asarray(r.sub_bins, dtype=np.int64)
    out = np.full(len(bins), -1, dtype=np.int64)
    if not len(sb):
        return out
    rank = np.searchsorted(sb, bins)
    inside = (rank < len(sb)) & (sb[np.minimum(rank, len(sb) - 1)] == bins)
    part = np.clip(np.floor((position[inside] - (bins[inside] - 1)) * r.parts).astype(np.int64), 0, r.parts - 1)
    out[inside] = rank[inside] * r.parts + part
    return out


def refine_partition(scores: np.ndarray, yb: np.ndarray, bins: np.ndarray, position: np.ndarray,
                     r: Refine) -> dict:
    """One partition's part of a further pass (:class:`Refine`): ``{"refined": ScoreCounts}`` and, with
    ``r.histogram``, ``{"sub": {"pos", "neg", "span"}}`` over the sub-bins."""
    keep = np.isin(bins, r.bins) if len(r.bins) else np.zeros(len(bins), dtype=bool)
    out = {}
    if r.parts:
        key = sub_key(bins, position, r)
        inside = key >= 0
        if r.histogram:
            m = len(r.sub_bins) * r.parts
            k, y = key[inside], yb[inside]
            out["sub"] = {"pos": np.bincount(k[y == 1], minlength=m).astype(np.int64),
                          "neg": np.bincount(k[y == 0], minlength=m).astype(np.int64),
                          "span": span(scores[inside], k, m)}
        if len(r.keys):
            keep |= inside & np.isin(key, r.keys)
    out["refined"] = partition(scores[keep], yb[keep])
    return out


def _assemble(groups: list) -> tuple[ScoreCounts, np.ndarray]:
    """Cells from groups of (lo, hi, pos, neg, tag) arrays, in score order; the tags alongside (a whole score
    bin: its number; a sub-bin: the number of bins + its key; a single score: -1)."""
    lo, hi, pos, neg, tag = (np.concatenate([np.asarray(g[i], dtype=d) for g in groups])
                             for i, d in enumerate((float, float, np.int64, np.int64, np.int64)))
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    return ScoreCounts(lo, pos[order], neg[order], None, hi), tag[order]


def _split_rows(refined: ScoreCounts, group_of, groups, counts) -> tuple:
    """The distinct-score cells of ``refined`` lying in ``groups`` (``group_of`` maps scores to groups), checked
    to hold exactly the rows ``counts[group]`` counted before."""
    groups = np.asarray(sorted(groups), dtype=np.int64)
    g = group_of(refined.u) if len(refined.u) else np.zeros(0, dtype=np.int64)
    inside = np.isin(g, groups)
    got = np.bincount(np.searchsorted(groups, g[inside]), weights=(refined.pos + refined.neg)[inside],
                      minlength=len(groups))
    if not np.array_equal(got.astype(np.int64), np.asarray(counts)[groups].astype(np.int64)):
        raise RuntimeError("the bins counted again do not hold the rows counted in the first pass")
    u = refined.u[inside]
    return u, u, refined.pos[inside], refined.neg[inside], np.full(len(u), -1)


def cells(hist_pos, hist_neg, sp: Span, refined: ScoreCounts, refined_bins, bin_of) -> ScoreCounts:
    """The cells: every bin not in ``refined_bins`` whole, the rows of those bins per distinct score
    (``refined``; ``bin_of`` maps scores to bins). Returned as :class:`ScoreCounts` with ``hi`` and ``bins``."""
    return _cells_with_tags(hist_pos, hist_neg, sp, refined, set(refined_bins), bin_of)[0]


def _cells_with_tags(hp, hn, sp: Span, refined: ScoreCounts, split: set, bin_of, sub=None, sub_split=(),
                     locate=None) -> tuple[ScoreCounts, np.ndarray]:
    """:func:`cells`, with ``sub`` (a :class:`Refine` and its merged ``{"pos", "neg", "span"}``) the bins
    ``sub[0].sub_bins`` as sub-bins, those in ``sub_split`` per distinct score (``locate``: score -> (bin,
    position))."""
    hp, hn = np.asarray(hp, dtype=np.int64), np.asarray(hn, dtype=np.int64)
    n_bins = len(hp)
    subbed = set(sub[0].sub_bins) if sub is not None else set()
    whole = np.array([j for j in np.flatnonzero(hp + hn) if j not in split and j not in subbed], dtype=np.int64)
    groups = [(sp.lo[whole], sp.hi[whole], hp[whole], hn[whole], whole)]
    bin_split = sorted(split)
    if bin_split:
        groups.append(_split_rows(refined, bin_of, bin_split, hp + hn))
    if sub is not None:
        r, h = sub
        sp_pos, sp_neg = h["pos"], h["neg"]
        kept = np.flatnonzero(sp_pos + sp_neg)
        keys = kept[~np.isin(kept, np.asarray(list(sub_split), dtype=np.int64))]
        groups.append((h["span"].lo[keys], h["span"].hi[keys], sp_pos[keys], sp_neg[keys], n_bins + keys))
        if len(sub_split):
            def key_of(u):
                b, x = locate(u)
                return sub_key(b, x, r)
            groups.append(_split_rows(refined, key_of, sorted(sub_split), sp_pos + sp_neg))
    return _assemble(groups)


def _required_of(ctx, c: ScoreCounts) -> np.ndarray:
    s = ctx.settings
    return required(c.u, c.hi, c.pos, c.neg, c.hi > c.u, threshold=s.threshold, cost_fp=s.cost_fp,
                    cost_fn=s.cost_fn, target_accuracy=s.target_accuracy,
                    target_recall=getattr(s, "target_recall", None), probabilities=ctx.scores_are_probabilities)


def complete(ctx, summary: dict, first_refined: tuple, bin_of, count_again, progress=None, locate=None) -> None:
    """After the holdout pass, when its scores were too many to count: the :func:`cells` from the score bins,
    then the bins that can hold a figure (:func:`required`), unless the first pass split them
    (``first_refined``), counted per distinct score by ``count_again(Refine)`` (a further pass; the merged
    :func:`refine_partition`). When those bins hold more rows than :func:`refine_cap`, and ``locate`` (score ->
    (bin, position)) is given, they are first cut into about ``SUB_CELLS`` sub-bins (a pass), and only the
    sub-bins that can hold a figure are split by score (a third pass). ``summary["business"]`` becomes the cells,
    or :class:`TooManyScores` with ``refine`` when even those hold more than the cap."""
    c, extra = summary.get("business"), summary.pop("business_bins", None)
    if not isinstance(c, TooManyScores) or extra is None or ctx.task != "binary" or ctx.data_only:
        return
    say = progress or (lambda text: None)
    hp, hn = np.asarray(summary["hist_pos"]), np.asarray(summary["hist_neg"])
    rows = hp + hn
    done = set(first_refined)
    refined = extra["refined"]
    cur, tags = _cells_with_tags(hp, hn, extra["span"], refined, done, bin_of)
    more = sorted(set(tags[_required_of(ctx, cur)].tolist()) - done - {-1})
    split = summary["business_split"] = {"first_pass_bins": len(done), "second_pass_bins": len(more),
                                         "second_pass_rows": int(rows[more].sum())}
    if not more:
        summary["business"] = cur
        return
    held = int(rows[more].sum() + rows[sorted(done)].sum())
    if held <= refine_cap():
        say(f"counting the holdout's scores again in the {len(more):,} score bins that can hold the cheapest "
            f"threshold or a target ({int(rows[more].sum()):,} rows)")
        refined = refined + count_again(Refine(bins=tuple(more)))["refined"]
        summary["business"] = _cells_with_tags(hp, hn, extra["span"], refined, done | set(more), bin_of)[0]
        return
    outer = {0, len(hp) - 1}
    inner = tuple(b for b in more if b not in outer)
    if locate is None or not inner:
        summary["business"] = TooManyScores(c.distinct, refine=held)
        return
    r = Refine(sub_bins=inner, parts=max(2, SUB_CELLS // len(inner)), histogram=True)
    say(f"cutting the {len(inner):,} score bins that can hold the cheapest threshold or a target "
        f"({int(rows[list(inner)].sum()):,} rows) into {r.parts:,} parts each")
    sub = count_again(r)["sub"]
    cur, tags = _cells_with_tags(hp, hn, extra["span"], refined, done, bin_of, sub=(r, sub), locate=locate)
    need = set(tags[_required_of(ctx, cur)].tolist()) - {-1}
    n_bins = len(hp)
    bins2 = sorted(j for j in need if j < n_bins)  # whole bins still needed (the outer ones)
    keys2 = sorted(j - n_bins for j in need if j >= n_bins)
    sub_rows = sub["pos"] + sub["neg"]
    held = int(rows[bins2].sum() + sub_rows[keys2].sum() + rows[sorted(done)].sum())
    split.update(sub_bins=len(inner), sub_parts=r.parts, third_pass_sub_bins=len(keys2), third_pass_bins=len(bins2),
                 third_pass_rows=int(rows[bins2].sum() + sub_rows[keys2].sum()))
    if held > refine_cap():
        summary["business"] = TooManyScores(c.distinct, refine=held)
        return
    if not keys2 and not bins2:  # no sub-bin that can hold a figure holds more than one score
        summary["business"] = cur
        return
    say(f"counting the holdout's scores again in the {len(keys2):,} sub-bins and {len(bins2):,} bins that can hold "
        f"the cheapest threshold or a target ({split['third_pass_rows']:,} rows)")
    r3 = Refine(bins=tuple(bins2), sub_bins=inner, parts=r.parts, keys=tuple(keys2))
    refined = refined + count_again(r3)["refined"]
    summary["business"] = _cells_with_tags(hp, hn, extra["span"], refined, done | set(bins2), bin_of,
                                           sub=(r, sub), sub_split=keys2, locate=locate)[0]


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
    by_rows = c.hi is None and int(c.pos.sum() + c.neg.sum()) <= row_limit()
    try:
        m = analyse_scores(*rows_of(c), **args) if by_rows else analyse_counts(c.u, c.pos, c.neg, hi=c.hi, **args)
    except ValueError as exc:
        raise SkipCheck(f"The business costs cannot be used: {exc}") from None
    m["rows_without_score"] = int(summary.get("unscored", 0))
    m["positive_label"] = ctx.positive_label
    m["mixed_ties"] = mixed_ties(c) if c.hi is None else None
    method = BOOTSTRAP_METHOD if by_rows else CELL_BOOTSTRAP
    m["interval_methods"] = {"threshold_ci": method, "savings_ci": method, "model_advantage_ci": method}
    if c.hi is not None:
        m["score_bins"] = {"whole": c.bins, "cells": len(c.u), "split_scores": int((c.hi == c.u).sum()),
                           **summary.get("business_split", {})}
        binned = (f"; {c.bins:,} score bins stay whole (each one cell), the bins that can hold the cheapest "
                  "threshold or a target are split score by score")
        m["interval_methods"] = {k: v + binned for k, v in m["interval_methods"].items()}
        m["interval_methods"]["roc_auc_ci"] = ("DeLong from the cells: the rows in a whole score bin count as "
                                               "tied")
    return threshold_outcome(ctx, m)


PLAN_Z = 4.0  # the sample's band around each estimate, in standard errors


def plan(ctx, bin_of, n_bins: int, holdout_rows: int) -> tuple:
    """The bins the first pass splits score by score, a guess from the engine's sample that saves the second
    pass when it holds every bin the full counts need (:func:`complete` counts the rest again): the bins of the
    review and Bayes thresholds; those :func:`required` marks on the sample's cells; and, for the sample's error,
    every bin next to a cut whose cost is within ``PLAN_Z`` standard errors of the sample's cheapest (the rows
    between two cuts decide their cost difference: its variance is Σ cost² over them), and likewise for the
    best accuracy and the accuracy and recall targets. Each run of bins is widened on both sides by its own
    width (at least 2). The widest band (``PLAN_Z``, then 3, 2, 1, 0 standard errors; widened, then not)
    whose bins are expected to hold at most half of :func:`refine_cap` rows is taken."""
    if ctx.task != "binary" or ctx.data_only:
        return ()
    st = ctx.settings
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = ~np.isnan(scores)
    s, yb = scores[ok], np.asarray(ctx.y_test_binary)[ok].astype(np.int64)
    try:
        cost_fp, cost_fn = float(st.cost_fp), float(st.cost_fn)
        points = [float(st.threshold)] + ([cost_fp / (cost_fp + cost_fn)] if ctx.scores_are_probabilities else [])
    except (TypeError, ValueError, ZeroDivisionError):
        return ()  # unusable costs: the check says so
    sure = set(int(j) for j in bin_of(np.array(points)))
    if not len(s):
        return tuple(sorted(sure))
    b = bin_of(s)
    hp, hn = np.bincount(b[yb == 1], minlength=n_bins), np.bincount(b[yb == 0], minlength=n_bins)
    cur = cells(hp, hn, span(s, b, n_bins), empty(), (), bin_of)
    target_recall = getattr(st, "target_recall", None)
    need = required(cur.u, cur.hi, cur.pos, cur.neg, np.ones(len(cur.u), dtype=bool), threshold=st.threshold,
                    cost_fp=cost_fp, cost_fn=cost_fn, target_accuracy=st.target_accuracy,
                    target_recall=target_recall, probabilities=ctx.scores_are_probabilities)
    pos, neg = cur.pos.astype(float), cur.neg.astype(float)
    fn, fp = _edges(pos, neg)
    n, P = float(len(s)), float(pos.sum())

    def near_best(wp: float, wn: float, z: float) -> np.ndarray:  # cuts within z standard errors of the cheapest
        cost = wn * fp + wp * fn
        k = int(np.argmin(cost))
        cum = np.concatenate([[0.0], np.cumsum(wp ** 2 * pos + wn ** 2 * neg)])
        return cost - cost[k] <= z * np.sqrt(np.abs(cum - cum[k])) + max(wp, wn)

    def bins_near(z: float) -> np.ndarray:
        edge = near_best(cost_fn, cost_fp, z)
        if st.target_accuracy is not None:
            acc = 1.0 - (fp + fn) / n
            edge |= near_best(1.0, 1.0, z)
            edge |= np.abs(acc - st.target_accuracy) <= z * 0.5 / np.sqrt(n) + 1.0 / n  # sd at most 1/2√n
        if target_recall is not None and P > 0:
            rec = (P - fn) / P
            edge |= np.abs(rec - target_recall) <= z * np.sqrt(target_recall * (1 - target_recall) / P) + 1.0 / P
        near = need | edge[:-1] | edge[1:]  # cut k lies between cells k-1 and k: both neighbouring bins
        return np.unique(np.concatenate([bin_of(cur.u[near]), np.array(sorted(sure), dtype=np.int64)]))

    per_row, budget = holdout_rows / len(s), refine_cap() / 2
    for z in (PLAN_Z, 3.0, 2.0, 1.0, 0.0):  # the widest band whose bins fit the budget
        ids = bins_near(z)
        runs = np.split(ids, np.flatnonzero(np.diff(ids) > 1) + 1)
        for scale in (1.0, 0.0):
            chosen = set(sure)
            for r in runs:
                w = int(max(2, len(r)) * scale)
                chosen.update(range(max(0, int(r[0]) - w), min(n_bins, int(r[-1]) + w + 1)))
            picked = np.array(sorted(chosen), dtype=np.int64)
            if (hp + hn)[picked].sum() * per_row <= budget:
                return tuple(int(j) for j in picked)
    return tuple(sorted(sure))
