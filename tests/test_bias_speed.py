"""The bias statistics' fast paths (issue 15) give what the plain formulas give, to the bit.

Each fast path is compared with the formula it replaces, written out here, and with an
independent computation where one exists (scikit-learn's ROC AUC, numpy's percentile
bootstrap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from readiness.checks.bias_stats import (
    MAX_GROUPS,
    _bins,
    boot_mean_ci,
    boot_mean_cis,
    label_text,
    label_texts,
    rank_auc,
)
from readiness.stats import rank_auc as sorted_rank_auc

EDGE_ARRAYS = [
    np.array([1, 2, 2, 3]),
    np.array([1.0, np.nan, 2.5, -0.0, 0.0, np.inf, 3.0]),
    np.array([True, False, True]),
    np.array(["a", "b", None, np.nan, 1, True, 1.0, 2.5, False, 0], dtype=object),
    pd.Series(["x", "y", None, "x"], dtype="string[pyarrow]"),
    np.array(["2020-01-01", "NaT", "2020-01-01"], dtype="datetime64[D]"),
    np.array([], dtype=float),
    np.array(["u", "v", "u"]),
    pd.Series(pd.Categorical(["a", None, "b", "a"])),
]


@pytest.mark.parametrize("values", EDGE_ARRAYS, ids=range(len(EDGE_ARRAYS)))
def test_label_texts_equal_label_text_of_each_element(values):
    plain = [label_text(v) for v in (values.to_numpy() if isinstance(values, pd.Series) else values)]
    fast = label_texts(values)
    assert fast.dtype == object
    assert list(fast) == plain


def test_label_texts_keep_equal_python_values_apart():
    # 1, 1.0 and True are equal in Python (one dict key); their texts differ
    assert list(label_texts(np.array([True, 1, 1.0, 0, False, 0.0], dtype=object))) == \
        ["True", "1", "1", "0", "False", "0"]


def _old_bins(train_col: pd.Series, test_col: pd.Series):
    """The categorical branch of ``_bins`` before issue 15: text of every element, then a dict lookup."""
    tr = train_col.astype(str).where(train_col.notna(), "\0nan").to_numpy()
    te = test_col.astype(str).where(test_col.notna(), "\0nan").to_numpy()
    top = pd.Series(tr).value_counts().index[:MAX_GROUPS].tolist()
    idx = {v: i for i, v in enumerate(top)}
    other = len(top)
    return np.array([idx.get(v, other) for v in tr]), np.array([idx.get(v, other) for v in te]), other + 1


@pytest.mark.parametrize("col", [
    pd.Series([1, 2, None, 2, 3.0] * 3),
    pd.Series(["a", None, "b", "a", "c"] * 3, dtype="string[pyarrow]"),
    pd.Series([True, False, None, True], dtype=object),
    pd.Series(["x", 1, 1.0, True, np.nan, "x"], dtype=object),
    pd.Series(pd.Categorical(["a", "b", None, "a"])),
    pd.Series([True, False, True, True]),
    pd.Series([f"v{i % 40}" for i in range(400)]),  # more values than MAX_GROUPS: "other"
    pd.Series([None, None, None], dtype=object),
], ids=range(8))
def test_proxy_bins_equal_the_elementwise_formula(col):
    test_col = col.iloc[::-1].reset_index(drop=True)
    old, new = _old_bins(col, test_col), _bins(col, test_col)
    assert old[2] == new[2]
    assert np.array_equal(old[0], new[0]) and np.array_equal(old[1], new[1])


@pytest.mark.parametrize("n,k", [(1_000, 2), (5_000, 7), (50_000, 30), (200_000, 12), (3_000, 2_000)])
def test_counting_rank_auc_is_bit_identical(n, k):
    rng = np.random.default_rng(n + k)
    s = rng.integers(0, k, n) / k * 0.37
    y = (rng.random(n) < 0.2 + 0.5 * s).astype(int)
    fast = rank_auc(y, s)
    assert fast == sorted_rank_auc(y, s)  # the same float, not just close
    assert fast == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_rank_auc_without_one_class_is_none():
    assert rank_auc(np.zeros(5_000, dtype=int), np.arange(5_000) % 3 / 3) is None


def test_shared_resamples_give_each_array_its_own_interval():
    rng = np.random.default_rng(3)
    s = rng.random(5_000)
    y = (rng.random(5_000) < s).astype(int)
    arrays = [s, (s - y) ** 2, s - y]
    together = boot_mean_cis(arrays, n_boot=200, seed=0)
    assert together == [boot_mean_ci(a, n_boot=200, seed=0) for a in arrays]
    # independent percentile bootstrap: the same generator's draws, one resample at a time
    gen = np.random.default_rng(0)
    chunk = max(1, min(200, 2_000_000 // 5_000))
    means = np.concatenate([s[gen.integers(0, 5_000, size=(chunk, 5_000))].mean(axis=1) for _ in range(200 // chunk)])
    assert together[0] == pytest.approx([np.quantile(means, 0.025), np.quantile(means, 0.975)], abs=1e-15)
    # the interval covers the mean and is about 2 x 1.96 standard errors wide
    lo, hi = together[0]
    se = s.std(ddof=1) / np.sqrt(len(s))
    assert lo < s.mean() < hi and (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.25)


def test_sensitive_attributes_are_computed_once_and_read_only():
    from readiness.checks.bias import sensitive_attributes
    from readiness.sample import load_sample

    ctx = load_sample()
    first, skipped = sensitive_attributes(ctx)
    again, _ = sensitive_attributes(ctx)
    assert [a.name for a in first] == [a.name for a in again] and all(a is b for a, b in zip(first, again, strict=True))
    singles, none_skipped = sensitive_attributes(ctx, intersections=False)
    assert [a.name for a in singles] == list(ctx.roles.sensitive) and none_skipped == []
    with pytest.raises(ValueError):
        first[0].test[0] = "someone else"
    assert skipped == []
