"""Can anyone tell two sets of rows apart? A cross-validated domain classifier, and the
drift of a model's scores. Library functions of two frames, shared by the review
(``drift.multivariate``: training against holdout) and by monitoring (holdout against a
production batch).

The domain classifier labels the reference rows 0 and the current rows 1 (equal numbers of
each, sampled), fits gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``,
categories native) in stratified k-fold cross-validation and scores every row out of fold.
Its ROC AUC is 0.5 when the two sets come from one distribution; the interval is DeLong's,
the p-value against chance uses the Mann–Whitney null variance. Per-feature shifts of the
marginals cannot see a change in how features go together (a correlation that flips sign);
the classifier can. The features that let it tell the rows apart are ranked by how much
the out-of-fold AUC drops when that feature is shuffled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

MAX_ROWS = 4000  # rows per side for the classifier
CHANCE_BELOW_HALF = ("a classifier with nothing to learn scores about 0.5 in cross-validation, often a little "
                     "below: under 0.5 means the rows cannot be told apart, not that anything is wrong")
FOLDS = 3
MAX_CATEGORIES = 50
TREES = {"max_iter": 40, "learning_rate": 0.15, "max_leaf_nodes": 8}
MIN_LEAF, LEAF_DIVISOR = 50, 100


@dataclass
class DomainResult:
    auc: float
    auc_ci: tuple[float, float]
    p_value: float
    rows_reference: int
    rows_current: int
    features: list[str]
    importance: dict[str, float] = field(default_factory=dict)  # AUC drop when shuffled, largest first

    def as_dict(self) -> dict:
        return {"auc": self.auc, "auc_ci": list(self.auc_ci), "p_value": self.p_value,
                "rows_reference": self.rows_reference, "rows_current": self.rows_current,
                "features": self.features, "importance": self.importance}


def encode(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Both frames as float matrices (categories as integer codes shared by both), and the categorical mask."""
    ref_cols, cur_cols, is_cat = [], [], []
    for c in columns:
        a, b = reference[c], current[c]
        if (pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a)
                and pd.api.types.is_numeric_dtype(b)):
            ref_cols.append(pd.to_numeric(a, errors="coerce").to_numpy(float))
            cur_cols.append(pd.to_numeric(b, errors="coerce").to_numpy(float))
            is_cat.append(False)
            continue
        ta = a.astype("object").where(a.notna(), None).astype(str)
        tb = b.astype("object").where(b.notna(), None).astype(str)
        top = pd.concat([ta, tb]).value_counts().index[:MAX_CATEGORIES - 1].tolist()
        code = {v: i for i, v in enumerate(top)}
        other = len(top)
        ref_cols.append(np.array([code.get(v, other) for v in ta], float))
        cur_cols.append(np.array([code.get(v, other) for v in tb], float))
        is_cat.append(True)
    return np.column_stack(ref_cols), np.column_stack(cur_cols), is_cat


def delong_interval(y: np.ndarray, s: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float, float]:
    """ROC AUC and DeLong's (1988) interval (structural components from mid-ranks)."""
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        return (math.nan, math.nan, math.nan)
    all_r = stats.rankdata(np.r_[pos, neg])
    r_pos, r_neg = stats.rankdata(pos), stats.rankdata(neg)
    auc = float((all_r[:m].sum() - m * (m + 1) / 2) / (m * n))
    v10 = (all_r[:m] - r_pos) / n  # per positive: share of negatives below it
    v01 = 1 - (all_r[m:] - r_neg) / m  # per negative: share of positives above it
    se = math.sqrt(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)
    z = stats.norm.ppf(1 - alpha / 2)
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def chance_p_value(auc: float, m: int, n: int) -> float:
    """One-sided p-value of an AUC this high when both sets come from one distribution."""
    if not (m and n) or not math.isfinite(auc):
        return math.nan
    sd = math.sqrt((m + n + 1) / (12 * m * n))
    return float(stats.norm.sf((auc - 0.5) / sd))


def domain_classifier(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str] | None = None, *,
                      max_rows: int = MAX_ROWS, folds: int = FOLDS, seed: int = 0,
                      importance: bool | None = None) -> DomainResult:
    """Cross-validated classifier telling ``current`` rows from ``reference`` rows.

    ``importance``: shuffle each feature in the held-out fold and record the AUC drop
    (None: only when the AUC beats chance at p < 0.01)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    columns = list(columns if columns is not None else [c for c in reference.columns if c in current.columns])
    rng = np.random.default_rng(seed)
    k = int(min(len(reference), len(current), max_rows))
    ref = reference.iloc[np.sort(rng.choice(len(reference), k, replace=False))] if len(reference) > k else reference
    cur = current.iloc[np.sort(rng.choice(len(current), k, replace=False))] if len(current) > k else current
    Xr, Xc, is_cat = encode(ref, cur, columns)
    X = np.vstack([Xr, Xc])
    y = np.r_[np.zeros(len(Xr), int), np.ones(len(Xc), int)]
    oof = np.zeros(len(y))
    models = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(X, y))
    leaf = max(MIN_LEAF, len(y) // LEAF_DIVISOR)  # large leaves: noise is not memorised (CV AUC stays near 0.5)
    with threadpool_limits(1):  # OpenMP threads spin badly on a shared, busy machine; one is fast enough
        for tr, te in splits:
            clf = HistGradientBoostingClassifier(**TREES, min_samples_leaf=leaf, early_stopping=False, random_state=seed,
                                                 categorical_features=np.array(is_cat) if any(is_cat) else None)
            clf.fit(X[tr], y[tr])
            oof[te] = clf.predict_proba(X[te])[:, 1]
            models.append(clf)
    auc, lo, hi = delong_interval(y, oof)
    p = chance_p_value(auc, int(y.sum()), int(len(y) - y.sum()))
    result = DomainResult(auc=auc, auc_ci=(lo, hi), p_value=p, rows_reference=len(Xr), rows_current=len(Xc),
                          features=columns)
    if importance or (importance is None and p < 0.01):
        drops = np.zeros(len(columns))
        with threadpool_limits(1):
            for (_tr, te), clf in zip(splits, models, strict=True):
                base = delong_interval(y[te], oof[te])[0]
                for j in range(len(columns)):
                    Xs = X[te].copy()
                    Xs[:, j] = Xs[rng.permutation(len(te)), j]
                    drops[j] += base - delong_interval(y[te], clf.predict_proba(Xs)[:, 1])[0]
        drops /= len(splits)
        order = np.argsort(-drops)
        result.importance = {columns[j]: float(drops[j]) for j in order}
    return result


def score_drift(reference: np.ndarray, current: np.ndarray, *, bins: int = 10) -> dict:
    """How the model's scores moved: PSI over the reference's deciles, the two-sample
    Kolmogorov–Smirnov statistic and its p-value, and the means."""
    from readiness.checks.drift import binned_shares, psi

    a = np.asarray(reference, float)
    b = np.asarray(current, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return {}
    labels, e, c = binned_shares(pd.Series(a), pd.Series(b), bins=bins)
    ks = stats.ks_2samp(a, b)
    return {"psi": psi(e, c), "ks": float(ks.statistic), "ks_p_value": float(ks.pvalue),
            "reference_mean": float(a.mean()), "current_mean": float(b.mean()), "bins": labels,
            "reference_share": e.tolist(), "current_share": c.tolist(), "rows_reference": len(a),
            "rows_current": len(b)}


def label_drift(reference, current) -> dict:
    """Shares of each predicted class, reference against current (multiclass predictions)."""
    from readiness.checks.drift import binned_shares, psi

    labels, e, c = binned_shares(pd.Series(reference).astype(str), pd.Series(current).astype(str))
    return {"psi": psi(e, c), "bins": labels, "reference_share": e.tolist(), "current_share": c.tolist(),
            "rows_reference": len(reference), "rows_current": len(current)}
