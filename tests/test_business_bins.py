"""``business.threshold`` above the distinct-score cap (readiness.engines.exact_business.complete): the holdout's
rows per class in fixed score bins with each bin's lowest and highest score, the bins that can hold a figure
counted again score by score. Known answer: the in-memory check on the rows themselves (analyse_scores), every
figure but those the cells change by design (bootstrap intervals, the ROC AUC interval, the drawn curve, the
count of distinct scores); and the cost at the reported threshold recomputed directly from the rows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import readiness.engines.exact_business as xb
from readiness.checks.business import analyse_counts, analyse_scores

N_BINS = 64
BY_DESIGN = ("threshold_ci", "savings_ci", "model_advantage_ci", "within_ci", "used", "curve", "roc_auc_ci",
             "ranks_cases", "distinct_scores", "score_cells", "bootstrap")


def _strip(x):
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in BY_DESIGN}
    return x


def _bin_of(lo, hi):
    def f(s):
        idx = np.floor((np.asarray(s, float) - lo) / (hi - lo) * N_BINS).astype(np.int64) + 1
        return np.clip(idx, 0, N_BINS + 1)
    return f


def _data(kind: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    s = {"continuous": rng.random(n), "ties": rng.integers(0, 300, n) / 300, "rare": rng.random(n) ** 3,
         "narrow": 0.4 + 0.05 * rng.random(n)}[kind]
    y = (rng.random(n) < (s / 10 if kind == "rare" else s)).astype(int)
    return s, y


def binned(s, y, kw, *, first=(), score_range=(0.0, 1.0), cap=None):
    """The bins' path as the engine runs it: per-partition summaries (3 partitions) merged, then complete()."""
    from readiness.engines.summaries import merge_all

    bin_of = _bin_of(*score_range)
    b = bin_of(s)
    parts = []
    for i in range(3):
        ss, yy, bb = s[i::3], y[i::3], b[i::3]
        parts.append({"business": xb.TooManyScores(10),
                      "business_bins": xb.bins_partition(ss, yy, bb, N_BINS + 2, first),
                      "hist_pos": np.bincount(bb[yy == 1], minlength=N_BINS + 2),
                      "hist_neg": np.bincount(bb[yy == 0], minlength=N_BINS + 2)})
    summary = merge_all(parts)
    calls = []
    lo, hi = score_range

    def locate(u):
        x = (np.asarray(u, float) - lo) / (hi - lo) * N_BINS
        return bin_of(u), x

    def again(refine):
        calls.append(refine.bins if not refine.parts else refine)
        parts = [xb.refine_partition(s[i::2], y[i::2], *(a[i::2] for a in locate(s)), refine) for i in range(2)]
        return merge_all(parts)

    settings = SimpleNamespace(threshold=kw["threshold"], cost_fp=kw["cost_fp"], cost_fn=kw["cost_fn"],
                               target_accuracy=kw.get("target_accuracy"), target_recall=kw.get("target_recall"))
    ctx = SimpleNamespace(task="binary", data_only=False, settings=settings,
                          scores_are_probabilities=kw.get("probabilities", False))
    xb.complete(ctx, summary, first, bin_of, again, locate=locate)
    return summary["business"], calls


def _cost_at(s, y, t, cost_fp, cost_fn):
    flag = s >= t
    return 1000 * (cost_fp * np.sum(flag & (y == 0)) + cost_fn * np.sum(~flag & (y == 1))) / len(s)


SETTINGS = [dict(threshold=0.5, cost_fp=1.0, cost_fn=4.0, probabilities=True, target_accuracy=0.7, target_recall=0.9),
            dict(threshold=0.93, cost_fp=2.0, cost_fn=1.0, target_accuracy=0.99, target_recall=0.5),
            dict(threshold=0.3, cost_fp=1.0, cost_fn=1.0, target_accuracy=0.6),
            dict(threshold=0.42, cost_fp=5.0, cost_fn=1.0, probabilities=True, target_recall=0.75)]


@pytest.mark.parametrize("kind", ["continuous", "ties", "rare", "narrow"])
@pytest.mark.parametrize("kw", SETTINGS)
def test_bins_then_split_equal_the_rows(kind, kw):
    s, y = _data(kind, 30_000, 7)
    c, calls = binned(s, y, kw)
    assert c.hi is not None and len(calls) == 1  # one second pass
    mem = analyse_scores(s, y, n_boot=20, **kw)
    got = analyse_counts(c.u, c.pos, c.neg, hi=c.hi, n_boot=20, **kw)
    assert _strip(got) == _strip(mem)
    if c.bins:  # some bins stayed whole
        assert got["distinct_scores"] is None and got["score_cells"] == len(c.u) < len(np.unique(s))
    else:  # every bin that held rows was split (scores in a few bins)
        assert got["distinct_scores"] == len(c.u) == len(np.unique(s)) and kind == "narrow"
    # independent of the check's machinery: the reported figures recomputed on the rows
    opt = got["optimal"]
    assert opt["cost_per_1000"] == pytest.approx(_cost_at(s, y, opt["threshold"], kw["cost_fp"], kw["cost_fn"]),
                                                 rel=1e-12)
    u = np.unique(s)
    neg, pos, t = np.sort(s[y == 0]), np.sort(s[y == 1]), np.r_[u, np.inf]  # every threshold, by sorting
    every = kw["cost_fp"] * (len(neg) - np.searchsorted(neg, t)) + kw["cost_fn"] * np.searchsorted(pos, t)
    assert opt["cost_per_1000"] == pytest.approx(1000 * every.min() / len(s), rel=1e-12)
    # the counts at every cut of the cells are the rows' own
    for k in range(0, len(c.u), max(1, len(c.u) // 40)):
        t = c.u[k]
        assert int(c.pos[k:].sum()) == int(np.sum((s >= t) & (y == 1)))
        assert int(c.neg[:k].sum()) == int(np.sum((s < t) & (y == 0)))


def test_only_the_bins_that_matter_are_split():
    s, y = _data("continuous", 60_000, 3)
    kw = dict(threshold=0.5, cost_fp=1.0, cost_fn=3.0)
    c, calls = binned(s, y, kw)
    split = len(calls[0])
    assert 0 < split < N_BINS // 2  # a few bins around the cheapest threshold and the review threshold
    assert c.bins == N_BINS - split  # the others stay whole
    # the bins the first pass split already are not counted again
    c2, calls2 = binned(s, y, kw, first=tuple(calls[0]))
    assert calls2 == [] and np.array_equal(c2.u, c.u) and np.array_equal(c2.pos, c.pos)
    c3, calls3 = binned(s, y, kw, first=tuple(calls[0][:1]))
    assert calls3 == [tuple(calls[0][1:])]


@pytest.mark.parametrize("kind", ["continuous", "ties", "rare"])
@pytest.mark.parametrize("kw", SETTINGS)
def test_sub_bins_when_the_bins_to_split_hold_too_many_rows(kind, kw, monkeypatch):
    """The bins to split hold more rows than READINESS_BUSINESS_REFINE: they are cut into sub-bins (a pass),
    and only the sub-bins that can hold a figure are split by score (a third pass): still the rows' figures."""
    s, y = _data(kind, 60_000, 9)
    c1, _ = binned(s, y, kw)
    split_rows = int((c1.hi == c1.u).sum())
    monkeypatch.setenv(xb.REFINE_ENV, str(max(50, split_rows // 3)))  # below what the bins to split hold
    monkeypatch.setattr(xb, "SUB_CELLS", 512)  # sub-bins of several scores each, as at scale
    c, calls = binned(s, y, kw)
    if isinstance(c, xb.TooManyScores):  # the sub-bins still hold too many (ties: few scores per sub-bin)
        assert kind == "ties" and len(calls) == 1
        return
    assert calls[0].histogram  # sub-bins, then (unless each holds one score) the scores of those that matter
    assert (len(calls) == 2 and calls[1].keys) if kind != "ties" else len(calls) in (1, 2)
    mem = analyse_scores(s, y, n_boot=20, **kw)
    assert _strip(analyse_counts(c.u, c.pos, c.neg, hi=c.hi, n_boot=20, **kw)) == _strip(mem)
    assert int(c.pos.sum() + c.neg.sum()) == len(s)


def test_scores_outside_the_range_and_a_tight_range():
    """Scores below and above the binned range land in the two outer bins, which split like any other."""
    s, y = _data("continuous", 20_000, 11)
    kw = dict(threshold=0.5, cost_fp=1.0, cost_fn=1.0, target_recall=0.95)
    c, _ = binned(s, y, kw, score_range=(0.3, 0.6))
    mem = analyse_scores(s, y, n_boot=20, **kw)
    assert _strip(analyse_counts(c.u, c.pos, c.neg, hi=c.hi, n_boot=20, **kw)) == _strip(mem)


def test_too_many_rows_to_split_gives_the_reason(monkeypatch):
    monkeypatch.setenv(xb.REFINE_ENV, "5")
    monkeypatch.setattr(xb, "SUB_CELLS", 4)  # sub-bins too coarse to help
    s, y = _data("continuous", 20_000, 5)
    c, calls = binned(s, y, dict(threshold=0.5, cost_fp=1.0, cost_fn=2.0))
    assert isinstance(c, xb.TooManyScores) and c.refine > 5 and len(calls) == 1 and calls[0].histogram
    why = xb.sample_reason({"business": c})
    assert f"{c.refine:,} rows" in why and "sample" in why


def test_span_merges_to_each_bins_lowest_and_highest():
    rng = np.random.default_rng(0)
    s = rng.random(5_000)
    b = _bin_of(0.0, 1.0)(s)
    sp = xb.span(s[:2000], b[:2000], N_BINS + 2) + xb.span(s[2000:], b[2000:], N_BINS + 2)
    for j in np.unique(b):
        assert sp.lo[j] == s[b == j].min() and sp.hi[j] == s[b == j].max()
    assert np.isinf(sp.lo[0]) and np.isinf(sp.hi[N_BINS + 1])  # no row below or above the range


def test_many_small_random_holdouts():
    """Random small holdouts (bimodal scores, labels loosely tied to them, few bins) and random settings: the
    cells, split where :func:`required` says, give the rows' figures every time."""
    rng = np.random.default_rng(2024)
    for trial in range(150):
        n = int(rng.integers(40, 400))
        s = np.where(rng.random(n) < 0.5, rng.beta(2, 8, n), rng.beta(8, 2, n)).round(int(rng.integers(2, 6)))
        y = (rng.random(n) < np.clip(s + rng.normal(0, 0.3, n), 0, 1)).astype(int)
        kw = dict(threshold=float(rng.choice([0.2, 0.5, 0.77, float(rng.random())])),
                  cost_fp=float(rng.choice([1.0, 3.0, 0.2])), cost_fn=float(rng.choice([1.0, 5.0, 0.5])),
                  probabilities=bool(rng.random() < 0.5),
                  target_accuracy=None if rng.random() < 0.3 else float(rng.uniform(0.4, 0.95)),
                  target_recall=None if rng.random() < 0.3 else float(rng.uniform(0.3, 0.99)))
        c, _ = binned(s, y, kw)
        if trial % 3 == 0:  # the sub-bins' path too (a cap below the rows of the bins to split)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv(xb.REFINE_ENV, str(max(1, int((c.hi == c.u).sum()) // 2)))
                mp.setattr(xb, "SUB_CELLS", 16)
                c2, _ = binned(s, y, kw)
            if not isinstance(c2, xb.TooManyScores):
                got2 = analyse_counts(c2.u, c2.pos, c2.neg, hi=c2.hi, n_boot=10, **kw)
                assert _strip(got2) == _strip(analyse_scores(s, y, n_boot=10, **kw)), ("sub", trial, kw)
        mem = analyse_scores(s, y, n_boot=10, **kw)
        got = analyse_counts(c.u, c.pos, c.neg, hi=c.hi, n_boot=10, **kw)
        assert _strip(got) == _strip(mem), (trial, kw)


def test_a_finding_names_the_sample_it_ran_on():
    """On an engine's sample, "too small to show that this saving is real" speaks of the sample, not the holdout."""
    from readiness.checks.business import _what_ran
    from readiness.results import InputFile

    def ctx(rows, unlabelled):
        return SimpleNamespace(input_files=[InputFile(role="test", name="h", sha256="0", size_bytes=1, rows=rows)],
                               unlabelled={"test": unlabelled})

    assert _what_ran(ctx(50_000, 0), {"n": 1_990, "rows_without_score": 10}) == (
        "The sample of 1,990 of the holdout's 50,000 rows")
    assert _what_ran(ctx(2_005, 5), {"n": 1_990, "rows_without_score": 10}) == "The holdout"  # the whole file
    assert _what_ran(SimpleNamespace(input_files=[], unlabelled={}), {"n": 10}) == "The holdout"


@pytest.mark.parametrize("kw", [dict(threshold=0.5, cost_fp=1.0, cost_fn=1.0, target_accuracy=None, target_recall=None),
                                dict(threshold=0.5, cost_fp=1.0, cost_fn=3.0, target_accuracy=0.7, target_recall=0.8),
                                dict(threshold=0.2, cost_fp=5.0, cost_fn=1.0, target_accuracy=None,
                                     target_recall=0.5)])
def test_the_plan_from_a_sample_holds_the_bins_the_full_counts_need(kw):
    """The first pass's guess (plan, from a 100,000-row sample of a 3,000,000-row holdout) holds every bin that
    required() marks on the full counts, so no second pass is needed; it stays within half the refine cap."""
    n_bins = 4096
    rng = np.random.default_rng(1)
    n = 3_000_000
    p = 1 / (1 + np.exp(-(rng.normal(0, 1.3, n) - 0.3)))
    y = (rng.random(n) < p).astype(np.int64)

    def bin_of(s):
        return np.clip(np.floor(np.asarray(s, float) * n_bins).astype(np.int64) + 1, 0, n_bins + 1)

    b = bin_of(p)
    hp, hn = np.bincount(b[y == 1], minlength=n_bins + 2), np.bincount(b[y == 0], minlength=n_bins + 2)
    cur = xb.cells(hp, hn, xb.span(p, b, n_bins + 2), xb.empty(), (), bin_of)
    need = xb.required(cur.u, cur.hi, cur.pos, cur.neg, cur.hi > cur.u, probabilities=True, **kw)
    needed = set(bin_of(cur.u[need]).tolist())
    idx = np.random.default_rng(10).choice(n, 100_000, replace=False)
    ctx = SimpleNamespace(task="binary", data_only=False, test_scores=p[idx], y_test_binary=y[idx],
                          scores_are_probabilities=True, settings=SimpleNamespace(**kw))
    planned = set(xb.plan(ctx, bin_of, n_bins + 2, n))
    assert needed <= planned and int(bin_of(kw["threshold"])) in planned
    assert (hp + hn)[sorted(planned)].sum() <= xb.refine_cap() / 2
