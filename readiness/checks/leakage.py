"""Leakage: column-wise (feature ~ target), row-wise (train/holdout overlap), temporal,
oversampling before the split, and preprocessing fit on training + holdout.

Every check here works from the data (and, for preprocessing, the fitted pipeline);
nearest-neighbour and cross-validation work is done on capped samples whose sizes are
reported in the metrics, so the checks stay fast on 100,000+ rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext, _label_equals
from readiness.inputs.roles import parse_time
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status
from readiness.stats import rank_auc

# --- leakage.feature_target ------------------------------------------------------------
#: power = 2·AUC − 1 (classification; one-vs-rest macro AUC for multiclass) or the
#: out-of-fold R² (regression), clipped at 0: 0 = no signal, 1 = determines the target.
FAIL_POWER = 0.90  # AUC ≥ 0.95 / R² ≥ 0.90: one column nearly determines the target
WARN_POWER = 0.50  # AUC ≥ 0.75 / R² ≥ 0.50: suspiciously strong for one column
SHARE_OF_MODEL = 1.00  # ... or the column alone is as strong as the whole model on the holdout
SHARE_FLOOR = 0.30  # the share rule needs at least this much power (AUC ≥ 0.65)
ID_SIGNAL_POWER = 0.10  # identifier-like column "carries target signal" (AUC ≥ 0.55, significant)
FEATURE_SAMPLE = 20_000  # training rows used per feature (stratified at random)
HOLDOUT_SAMPLE = 20_000
CV_FOLDS = 5
MAX_BINS = 32
SMOOTHING = 10.0  # pseudo-rows pulling a bin's target rate towards the fold's overall rate
ID_UNIQUE_SHARE = 0.95  # near-unique: ≥ 95% distinct non-missing values

# --- leakage.train_test_overlap --------------------------------------------------------
OVERLAP_FAIL_SHARE = 0.01  # ≥ 1% of holdout rows in excess of chance: fail
NEAR_SIG_DIGITS = 3
OVERLAP_P_VALUE = 1e-3
MAX_EXAMPLE_ROWS = 20

# --- leakage.temporal ------------------------------------------------------------------
TEMPORAL_FAIL_SHARE = 0.10  # ≥ 10% of holdout rows before the end of training: not a forward split
PEEK_FAIL_SHARE = 0.01
TIMELINE_BINS = 40
MAX_EARLY_ROWS = 200

# --- leakage.oversampling --------------------------------------------------------------
SMOTE_QUERY_CAP = 1_000  # query points per class and split
SMOTE_POOL_CAP = 20_000  # indexed training points per class
SMOTE_K = 10
SMOTE_TOL = 1e-4  # distance from the segment, relative to the segment's length
SMOTE_FAIL = 3
DUP_ENRICHMENT = 3.0
DUP_FAIL_COUNT = 5

# --- leakage.preprocessing -------------------------------------------------------------
SCALE_TOL = 1e-4
STAT_RTOL = 1e-7
PREPROCESSORS = {
    "StandardScaler": ("mean_", "scale_"),
    "MinMaxScaler": ("data_min_", "data_max_"),
    "MaxAbsScaler": ("max_abs_",),
    "RobustScaler": ("center_", "scale_"),
    "SimpleImputer": ("statistics_",),
    "OneHotEncoder": ("categories_",),
    "OrdinalEncoder": ("categories_",),
}


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _is_num(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


# ======================================================================================
# shared helpers: times, row keys
# ======================================================================================


def _looks_like_time(series: pd.Series) -> bool:
    from readiness.inputs.roles import looks_like_time

    if _is_num(series):
        return False
    try:
        return looks_like_time(series)
    except Exception:
        return False


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    out = np.array(x, dtype=float)
    nz = np.isfinite(out) & (out != 0)
    mag = 10.0 ** (np.floor(np.log10(np.abs(out[nz]))) - (digits - 1))
    out[nz] = np.round(out[nz] / mag) * mag
    return out


def row_keys(frame: pd.DataFrame, columns: list[str], *, numeric: set[str], round_digits: int | None = None) -> np.ndarray:
    """64-bit content hash of each row over ``columns``, robust to int/float dtype drift."""
    parts = {}
    for c in columns:
        s = frame[c]
        if c in numeric:
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if round_digits is not None:
                v = _round_sig(v, round_digits)
            v = np.where(v == 0, 0.0, v)  # -0.0 == 0.0
            parts[c] = v
        else:
            parts[c] = s.astype("string").fillna("\x00<NA>").astype(str).to_numpy()
    if not parts:
        return np.zeros(len(frame), dtype=np.uint64)
    return pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy()


def _numeric_columns(ctx: ReviewContext, columns: list[str]) -> set[str]:
    return {c for c in columns if _is_num(ctx.train[c]) and _is_num(ctx.test[c])}


# ======================================================================================
# leakage.feature_target
# ======================================================================================


def _target_matrix(ctx: ReviewContext, y: pd.Series) -> np.ndarray:
    """Binary: (n,1) 0/1; multiclass: (n,C) one-hot in ``ctx.classes`` order; regression: (n,1)."""
    if ctx.task == "binary":
        return _label_equals(y, ctx.positive_label).astype(float)[:, None]
    if ctx.task == "multiclass":
        ys = y.astype(str).to_numpy()
        return np.stack([(ys == str(c)).astype(float) for c in ctx.classes], axis=1)
    return pd.to_numeric(y, errors="coerce").to_numpy(float)[:, None]


def _score(task: str, Y: np.ndarray, P: np.ndarray) -> float:
    """AUC (binary), one-vs-rest macro AUC (multiclass) or R² (regression)."""
    if task == "regression":
        y, p = Y[:, 0], P[:, 0]
        sst = float(np.sum((y - y.mean()) ** 2))
        return float(1 - np.sum((y - p) ** 2) / sst) if sst > 0 else math.nan
    aucs = []
    for j in range(Y.shape[1]):
        yj = Y[:, j]
        if 0 < yj.sum() < len(yj):
            aucs.append(rank_auc(yj, P[:, j]))
    return float(np.mean(aucs)) if aucs else math.nan


def _power(task: str, score: float) -> float:
    if score is None or not np.isfinite(score):
        return 0.0
    return float(max(0.0, score if task == "regression" else 2 * score - 1))


def _score_from_power(task: str, power: float) -> float:
    return power if task == "regression" else (1 + power) / 2


def _encode(train: pd.Series, test: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer bin codes for a training sample and the holdout; missing is its own bin."""
    if kind in ("numeric", "date", "identifier_rank"):
        if kind == "date":
            tr_t, _ = parse_time(train)
            te_t, _ = parse_time(test)
            tr = tr_t.astype("int64").where(tr_t.notna()).to_numpy(dtype=float, na_value=np.nan)
            te = te_t.astype("int64").where(te_t.notna()).to_numpy(dtype=float, na_value=np.nan)
        elif kind == "identifier_rank":
            both = pd.concat([train, test], ignore_index=True).astype("string")
            ranks = both.rank(method="dense").to_numpy(dtype=float, na_value=np.nan)
            tr, te = ranks[: len(train)], ranks[len(train):]
        else:
            tr = pd.to_numeric(train, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            te = pd.to_numeric(test, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = tr[np.isfinite(tr)]
        uniq = np.unique(finite)
        if len(uniq) <= MAX_BINS:
            edges = (uniq[:-1] + uniq[1:]) / 2 if len(uniq) > 1 else np.array([])
        else:
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))
        n_bins = len(edges) + 2

        def codes(v):
            c = np.searchsorted(edges, v, side="right")
            c[~np.isfinite(v)] = n_bins - 1
            return c

        return codes(tr), codes(te), n_bins
    values = pd.concat([train, test], ignore_index=True).astype("string").fillna("\x00<NA>")
    codes, uniques = pd.factorize(values)
    return codes[: len(train)], codes[len(train):], len(uniques)


def _oof_rates(codes: np.ndarray, Y: np.ndarray, n_bins: int, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold smoothed target rate (or mean) of each row's bin."""
    k = int(folds.max()) + 1
    idx = folds * n_bins + codes
    cnt = np.bincount(idx, minlength=k * n_bins).reshape(k, n_bins)
    tot_cnt = cnt.sum(axis=0)
    P = np.empty_like(Y)
    for j in range(Y.shape[1]):
        s = np.bincount(idx, weights=Y[:, j], minlength=k * n_bins).reshape(k, n_bins)
        tot = s.sum(axis=0)
        fold_tot = s.sum(axis=1)
        fold_n = cnt.sum(axis=1)
        prior = (tot.sum() - fold_tot) / np.maximum(len(Y) - fold_n, 1)  # per fold
        out_s = tot[None, :] - s
        out_n = tot_cnt[None, :] - cnt
        rate = (out_s + SMOOTHING * prior[:, None]) / (out_n + SMOOTHING)
        P[:, j] = rate[folds, codes]
    return P


def _fit_rates(codes: np.ndarray, Y: np.ndarray, n_bins: int) -> np.ndarray:
    cnt = np.bincount(codes, minlength=n_bins)
    prior = Y.mean(axis=0)
    rates = np.empty((n_bins, Y.shape[1]))
    for j in range(Y.shape[1]):
        s = np.bincount(codes, weights=Y[:, j], minlength=n_bins)
        rates[:, j] = (s + SMOOTHING * prior[j]) / (cnt + SMOOTHING)
    return rates


def _sample_index(n: int, cap: int, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, size=cap, replace=False))
    out = []
    for g in np.unique(strata):
        members = np.flatnonzero(strata == g)
        take = max(1, round(cap * len(members) / n))
        out.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(out))


def _null_power_se(task: str, Y: np.ndarray) -> float:
    """Standard error of the power of a column with no signal (Hanley–McNeil under H0)."""
    n = len(Y)
    if task == "regression":
        return 1.0 / math.sqrt(max(n, 1))
    ses = []
    for j in range(Y.shape[1]):
        n1 = Y[:, j].sum()
        n0 = n - n1
        if n1 > 0 and n0 > 0:
            ses.append(math.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))
    return 2 * float(np.mean(ses)) if ses else 1.0


def model_holdout_score(ctx: ReviewContext) -> float:
    """The whole model's holdout score on the scale of the standalone scores."""
    scores = np.asarray(ctx.test_scores, dtype=float)
    Y = _target_matrix(ctx, ctx.y_test)
    if ctx.task == "multiclass":
        P = scores if scores.ndim == 2 else None
        if P is None:
            return math.nan
    else:
        P = scores.reshape(-1, 1)
    ok = np.isfinite(P).all(axis=1) & np.isfinite(Y).all(axis=1)
    if ok.sum() < 2:
        return math.nan
    try:
        return _score(ctx.task, Y[ok], P[ok])
    except ValueError:
        return math.nan


def _feature_kind(s_train: pd.Series) -> tuple[str, bool]:
    """('numeric' | 'date' | 'categorical', identifier_like)."""
    values = s_train.dropna()
    n = len(values)
    unique_share = values.nunique() / n if n else 0.0
    if pd.api.types.is_bool_dtype(s_train):
        return "categorical", False
    if _is_num(s_train):
        integer_like = n > 0 and bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        return "numeric", bool(integer_like and unique_share >= ID_UNIQUE_SHARE and n >= 50)
    if pd.api.types.is_datetime64_any_dtype(s_train) or _looks_like_time(s_train):
        return "date", False
    return "categorical", bool(unique_share >= ID_UNIQUE_SHARE and n >= 50)


def feature_powers(ctx: ReviewContext) -> dict:
    """Every feature's standalone, cross-validated power on training and its power on the holdout."""
    seed = ctx.settings.random_state
    Y_all = _target_matrix(ctx, ctx.y_train)
    ok_rows = np.isfinite(Y_all).all(axis=1)
    strata = None if ctx.task == "regression" else (
        Y_all[:, 0].astype(int) if ctx.task == "binary" else Y_all.argmax(axis=1))
    idx = np.flatnonzero(ok_rows)
    idx = idx[_sample_index(len(idx), FEATURE_SAMPLE, seed, None if strata is None else strata[idx])]
    Y = Y_all[idx]
    t_idx = _sample_index(len(ctx.test), HOLDOUT_SAMPLE, seed + 1)
    Yt = _target_matrix(ctx, ctx.y_test.iloc[t_idx])
    t_ok = np.isfinite(Yt).all(axis=1)
    rng = np.random.default_rng(seed)
    folds = rng.permutation(len(idx)) % CV_FOLDS
    null_se = _null_power_se(ctx.task, Y)
    rows = []
    for col in ctx.features:
        if col not in ctx.train.columns or col not in ctx.test.columns:
            continue
        s_tr = ctx.train[col].iloc[idx].reset_index(drop=True)
        s_te = ctx.test[col].iloc[t_idx].reset_index(drop=True)
        kind, id_like = _feature_kind(ctx.train[col])
        methods = [kind] + (["identifier_rank"] if id_like and kind == "categorical" else [])
        best = None
        for method in methods:
            c_tr, c_te, n_bins = _encode(s_tr, s_te, method)
            P = _oof_rates(c_tr, Y, n_bins, folds)
            score = _score(ctx.task, Y, P)
            rates = _fit_rates(c_tr, Y, n_bins)
            score_te = _score(ctx.task, Yt[t_ok], rates[c_te][t_ok]) if t_ok.sum() > 1 else math.nan
            cand = {"method": method, "score": score, "score_holdout": score_te, "bins": int(n_bins)}
            if best is None or _power(ctx.task, score) > _power(ctx.task, best["score"]):
                best = cand
        missing = s_tr.isna().to_numpy()
        miss_score = None
        if 0 < missing.sum() < len(missing):
            miss_score = _score(ctx.task, Y, _oof_rates(missing.astype(int), Y, 2, folds))
        values = ctx.train[col].dropna()
        rows.append({
            "column": col,
            "kind": "identifier" if id_like else kind,
            "method": best["method"],
            "score": best["score"],
            "power": _power(ctx.task, best["score"]),
            "score_holdout": best["score_holdout"],
            "power_holdout": _power(ctx.task, best["score_holdout"]),
            "bins": best["bins"],
            "unique_share": float(values.nunique() / len(values)) if len(values) else 0.0,
            "missing_rate": float(ctx.train[col].isna().mean()),
            "missing_score": miss_score,
            "identifier_like": id_like,
        })
    rows.sort(key=lambda r: -r["power"])
    return {"rows": rows, "sample_rows": int(len(idx)), "holdout_sample_rows": int(t_ok.sum()),
            "null_power_se": null_se}


@register("leakage.feature_target", title="Column-wise leakage: features that give away the target",
          area="leakage", antipatterns=("data_leakage",), order=30)
def feature_target(ctx: ReviewContext) -> Outcome:
    """Each feature's standalone power to predict the target: out-of-fold (5-fold) score of
    its per-value target rate (numeric columns in up to 32 quantile bins, missing values as
    their own bin, near-unique text also by its sort order) on a sample of up to 20,000
    training rows; AUC (binary), one-vs-rest macro AUC (multiclass) or R² (regression),
    compared with the whole model's holdout score."""
    if not ctx.features:
        raise SkipCheck("The model has no feature columns to examine.")
    res = feature_powers(ctx)
    task = ctx.task
    metric = "r2" if task == "regression" else "roc_auc"
    model_score = model_holdout_score(ctx)
    model_power = _power(task, model_score) if np.isfinite(model_score) else None
    share_line = (max(SHARE_FLOOR, SHARE_OF_MODEL * model_power) if model_power is not None else None)
    warn_line = min(WARN_POWER, share_line) if share_line is not None else WARN_POWER
    findings: list[Finding] = []
    leaking, suspicious, id_signal = [], [], []
    metric_name = "R²" if task == "regression" else "AUC"

    def fmt(v):
        return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"

    model_txt = f"the whole model scores {fmt(model_score)} on the holdout" if model_power is not None else "no model score"
    for r in res["rows"]:
        col, p = r["column"], r["power"]
        ev = {k: r[k] for k in ("score", "power", "score_holdout", "power_holdout", "method", "unique_share",
                                "missing_rate", "missing_score")}
        ev["model_score"] = model_score
        also_holdout = r["power_holdout"] >= warn_line
        where = ("It is as strong in the holdout, so the holdout score is inflated too."
                 if also_holdout else "It is much weaker in the holdout, so the leak is in how training data was built.")
        if p >= FAIL_POWER:
            r["status"] = "fail"
            leaking.append(col)
            findings.append(Finding(severity=Severity.FAIL, columns=[col], evidence=ev, message=(
                f"'{col}' on its own nearly determines the target ({metric_name} {fmt(r['score'])}; {model_txt}). "
                f"A single column this strong is almost always recorded after the outcome or derived from it. {where} "
                f"Find out when '{col}' becomes known; drop it unless it is available at prediction time, then retrain.")))
        elif p >= warn_line:
            r["status"] = "warn"
            suspicious.append(col)
            share = (f", so on its own it carries {_pct(p / model_power)} of the whole model's power"
                     if model_power else "")
            findings.append(Finding(severity=Severity.WARN, columns=[col], evidence=ev, message=(
                f"'{col}' alone predicts the target suspiciously well: {metric_name} {fmt(r['score'])} on its own, "
                f"while {model_txt}{share}. Confirm with the data owner that '{col}' is known at the moment of "
                "prediction and is not filled in later (a post-outcome column); if it is not, drop it and retrain.")))
        else:
            r["status"] = "pass"
        if r["identifier_like"]:
            carries = p >= max(ID_SIGNAL_POWER, 4 * res["null_power_se"])
            r["identifier_signal"] = bool(carries)
            if carries and r["status"] == "pass":
                r["status"] = "warn"
                id_signal.append(col)
                findings.append(Finding(severity=Severity.WARN, columns=[col], evidence=ev, message=(
                    f"'{col}' looks like an identifier ({_pct(r['unique_share'])} distinct values) yet carries target "
                    f"signal ({metric_name} {fmt(r['score'])}): IDs that predict the outcome usually encode how or when "
                    "records were created. Remove it from the features.")))
            elif not carries:
                findings.append(Finding(severity=Severity.INFO, columns=[col], evidence=ev, message=(
                    f"'{col}' looks like an identifier ({_pct(r['unique_share'])} distinct values) and carries no "
                    "target signal; it cannot help the model generalise, so consider dropping it.")))
    rows = res["rows"]
    metrics = {
        "metric": metric,
        "model_score": model_score,
        "model_power": model_power,
        "fail_power": FAIL_POWER,
        "warn_power": WARN_POWER,
        "share_of_model": SHARE_OF_MODEL,
        "warn_power_effective": warn_line,
        "fail_score": _score_from_power(task, FAIL_POWER),
        "warn_score_effective": _score_from_power(task, warn_line),
        "leaking_columns": leaking,
        "suspicious_columns": suspicious,
        "identifier_columns": [r["column"] for r in rows if r["identifier_like"]],
        "identifier_signal_columns": id_signal,
        "features": rows,
        "sample_rows": res["sample_rows"],
        "holdout_sample_rows": res["holdout_sample_rows"],
        "cv_folds": CV_FOLDS,
    }
    top = rows[0] if rows else None
    if leaking:
        names = ", ".join(f"'{c}'" for c in leaking[:3])
        summary = (f"{names} on {'its' if len(leaking) == 1 else 'their'} own nearly determine{'s' if len(leaking) == 1 else ''} "
                   "the target: the model is fed the answer, and its holdout score cannot be trusted.")
    elif suspicious or id_signal:
        cols = suspicious + id_signal
        names = ", ".join(f"'{c}'" for c in cols[:3])
        summary = (f"{names} predict{'s' if len(cols) == 1 else ''} the target suspiciously well on "
                   f"{'its' if len(cols) == 1 else 'their'} own ({metric_name} {fmt(top['score'])} vs the whole model's "
                   f"{fmt(model_score)}); confirm {'it is' if len(cols) == 1 else 'they are'} known at prediction time.")
    elif top is not None:
        summary = (f"No single column predicts the target suspiciously well (strongest: '{top['column']}', "
                   f"{metric_name} {fmt(top['score'])}; whole model {fmt(model_score)}).")
    else:
        summary = "No feature columns could be examined."
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.train_test_overlap
# ======================================================================================


def _match_counts(train_keys: np.ndarray, test_keys: np.ndarray) -> dict:
    """Holdout rows whose key occurs in training, against the chance rate seen within training."""
    from scipy import stats

    test_hit = pd.Index(test_keys).isin(train_keys)
    n_tr, n_te = len(train_keys), len(test_keys)
    baseline = float(pd.Series(train_keys).duplicated(keep=False).mean()) if n_tr else 0.0
    rate_floor = max(baseline, 1.0 / (n_tr + 1))
    observed = int(test_hit.sum())
    expected = baseline * n_te
    p_value = float(stats.binom.sf(observed - 1, n_te, rate_floor)) if observed else 1.0
    excess = max(0.0, observed - expected)
    return {"mask": np.asarray(test_hit), "rows": observed, "share": observed / n_te if n_te else 0.0,
            "baseline_share": baseline, "expected_rows": expected, "excess_rows": excess,
            "excess_share": excess / n_te if n_te else 0.0, "p_value": p_value,
            "significant": bool(observed and p_value < OVERLAP_P_VALUE)}


def _first_match(train_keys: np.ndarray, test_keys: np.ndarray) -> np.ndarray:
    """For each holdout row the index of the first training row with the same key, else -1."""
    first = pd.Series(np.arange(len(train_keys)), index=train_keys)
    first = first[~first.index.duplicated(keep="first")]
    return first.reindex(test_keys).fillna(-1).to_numpy(dtype=np.int64)


@register("leakage.train_test_overlap", title="Row-wise leakage: holdout rows also in training",
          area="leakage", antipatterns=("data_leakage", "grade_your_own_exam"), order=31)
def train_test_overlap(ctx: ReviewContext) -> Outcome:
    """Holdout rows identical to a training row (all features and the target), identical on the
    features only, near-duplicates after rounding numbers to 3 significant digits, and IDs /
    groups shared by both splits. Counts are compared with the rate at which training rows
    repeat each other (what chance alone gives in coarse data), with a one-sided binomial test."""
    train, test, target = ctx.train, ctx.test, ctx.target
    feats = [c for c in ctx.features if c in train.columns and c in test.columns]
    cols = feats + [target]
    numeric = _numeric_columns(ctx, cols)
    n_te = len(test)
    k_full_tr, k_full_te = row_keys(train, cols, numeric=numeric), row_keys(test, cols, numeric=numeric)
    k_feat_tr, k_feat_te = row_keys(train, feats, numeric=numeric), row_keys(test, feats, numeric=numeric)
    near_num = {c for c in numeric if c in feats}
    k_near_tr = row_keys(train, feats, numeric=near_num, round_digits=NEAR_SIG_DIGITS)
    k_near_te = row_keys(test, feats, numeric=near_num, round_digits=NEAR_SIG_DIGITS)
    full = _match_counts(k_full_tr, k_full_te)
    feat = _match_counts(k_feat_tr, k_feat_te)
    near = _match_counts(k_near_tr, k_near_te)
    findings: list[Finding] = []
    id_col = ctx.roles.id_column
    shared = None
    if id_col:
        ids_tr = train[id_col].dropna().astype(str)
        ids_te = test[id_col].astype(str)
        h_tr = pd.util.hash_pandas_object(ids_tr, index=False).to_numpy()
        h_te = pd.util.hash_pandas_object(ids_te, index=False).to_numpy()
        in_tr = np.isin(h_te, h_tr) & test[id_col].notna().to_numpy()
        is_group = ids_tr.duplicated().any() or ids_te.dropna().duplicated().any()
        shared = {"column": id_col, "rows": int(in_tr.sum()), "ids": int(ids_te[in_tr].nunique()),
                  "share": float(in_tr.mean()) if n_te else 0.0, "kind": "group" if is_group else "id",
                  "mask": in_tr}

    def sev(m: dict) -> Severity:
        if not m["significant"]:
            return Severity.INFO
        return Severity.FAIL if m["excess_share"] >= OVERLAP_FAIL_SHARE else Severity.WARN

    def chance(m: dict) -> str:
        if m["baseline_share"] > 0:
            return f" (chance alone, judging by repeats within training, would give about {m['expected_rows']:.0f})"
        return ""

    full_match = _first_match(k_full_tr, k_full_te)
    if full["rows"]:
        s = sev(full)
        rows_ix = np.flatnonzero(full["mask"])
        ev = {"holdout_rows": rows_ix[:50], "training_rows": full_match[rows_ix[:50]], "rows": full["rows"],
              "expected_rows": full["expected_rows"], "p_value": full["p_value"]}
        if s == Severity.INFO:
            msg = (f"{full['rows']} holdout rows ({_pct(full['share'])}) repeat a training row exactly, about what "
                   f"chance gives in data this coarse{chance(full)}: no sign of copying.")
        else:
            msg = (f"{full['rows']} holdout rows ({_pct(full['share'])}) are exact copies of training rows, target "
                   f"included{chance(full)}. The model is graded on rows it memorised, which inflates the holdout "
                   "score. Remove them from the holdout (or rebuild the split by entity) and re-evaluate.")
        findings.append(Finding(severity=s, columns=[], message=msg, evidence=ev))
    extra_feat = feat["rows"] - full["rows"]
    if extra_feat > 0:
        s = sev(feat)
        label_conflicts = int((feat["mask"] & ~full["mask"]).sum())
        ev = {"rows": feat["rows"], "rows_with_other_label": label_conflicts, "expected_rows": feat["expected_rows"],
              "holdout_rows": np.flatnonzero(feat["mask"] & ~full["mask"])[:50], "p_value": feat["p_value"]}
        if s == Severity.INFO:
            msg = (f"{feat['rows']} holdout rows ({_pct(feat['share'])}) share all feature values with a training row; "
                   f"about what chance gives here{chance(feat)}.")
        else:
            msg = (f"{feat['rows']} holdout rows ({_pct(feat['share'])}) have exactly the feature values of a training "
                   f"row ({label_conflicts} of them with a different target){chance(feat)}: the same cases sit on both "
                   "sides of the split. Split by entity (customer, account) rather than by row.")
        findings.append(Finding(severity=s if s != Severity.FAIL or full["rows"] == 0 else Severity.WARN,
                                message=msg, evidence=ev))
    extra_near = near["rows"] - feat["rows"]
    if extra_near > 0:
        s = sev(near)
        ev = {"rows": near["rows"], "rows_beyond_exact": extra_near, "significant_digits": NEAR_SIG_DIGITS,
              "expected_rows": near["expected_rows"], "p_value": near["p_value"],
              "holdout_rows": np.flatnonzero(near["mask"] & ~feat["mask"])[:50]}
        if s == Severity.INFO:
            msg = (f"{extra_near} more holdout rows match a training row once numbers are rounded to "
                   f"{NEAR_SIG_DIGITS} significant digits; about what chance gives{chance(near)}.")
        else:
            msg = (f"{extra_near} more holdout rows ({_pct(extra_near / n_te)}) match a training row once numbers are "
                   f"rounded to {NEAR_SIG_DIGITS} significant digits{chance(near)}: near-copies (re-exports, jittered "
                   "or augmented rows). Check how these rows were produced before trusting the holdout.")
            s = Severity.WARN if s == Severity.FAIL and feat["significant"] else s
        findings.append(Finding(severity=s, message=msg, evidence=ev))
    if shared and shared["rows"]:
        s = Severity.FAIL if shared["share"] >= OVERLAP_FAIL_SHARE else Severity.WARN
        what = ("the same entities (groups)" if shared["kind"] == "group" else "the same records")
        findings.append(Finding(severity=s, columns=[id_col], message=(
            f"{shared['ids']} values of '{id_col}' appear in both training and holdout ({shared['rows']} holdout rows, "
            f"{_pct(shared['share'])}): {what} are on both sides of the split, so the holdout is not independent. "
            f"Split by '{id_col}' so each one falls wholly in training or wholly in the holdout."),
            evidence={"shared_ids": shared["ids"], "holdout_rows": shared["rows"],
                      "example_ids": test[id_col][shared["mask"]].astype(str).unique()[:20].tolist()}))
    # a sample of overlapping rows for the page
    show = np.flatnonzero(full["mask"] | feat["mask"] | near["mask"])[:MAX_EXAMPLE_ROWS]
    feat_match, near_match = _first_match(k_feat_tr, k_feat_te), _first_match(k_near_tr, k_near_te)
    examples = []
    for i in show:
        kind = "identical" if full["mask"][i] else ("same features" if feat["mask"][i] else "near-duplicate")
        j = full_match[i] if full["mask"][i] else (feat_match[i] if feat["mask"][i] else near_match[i])
        rec = {"holdout_row": int(i), "training_row": int(j), "match": kind}
        if id_col:
            rec[f"holdout {id_col}"] = _plain(test[id_col].iloc[i])
            rec[f"training {id_col}"] = _plain(train[id_col].iloc[j])
        for c in cols:
            rec[c] = _plain(test[c].iloc[i])
        examples.append(rec)
    metrics = {
        "holdout_rows": n_te,
        "overlap_test_rows": full["rows"],
        "overlap_test_share": full["share"],
        "overlap_expected_rows": full["expected_rows"],
        "overlap_p_value": full["p_value"],
        "feature_overlap_test_rows": feat["rows"],
        "feature_overlap_test_share": feat["share"],
        "feature_overlap_expected_rows": feat["expected_rows"],
        "feature_overlap_label_conflicts": int((feat["mask"] & ~full["mask"]).sum()),
        "near_duplicate_test_rows": near["rows"],
        "near_duplicate_test_share": near["share"],
        "near_duplicate_expected_rows": near["expected_rows"],
        "near_significant_digits": NEAR_SIG_DIGITS,
        "train_repeat_share": full["baseline_share"],
        "shared_id_column": id_col,
        "shared_ids": shared["ids"] if shared else None,
        "shared_id_test_rows": shared["rows"] if shared else None,
        "shared_id_kind": shared["kind"] if shared else None,
        "columns_compared": cols,
        "examples": examples,
    }
    bad = [f for f in findings if f.severity != Severity.INFO]
    if not bad:
        summary = ("No holdout row is a copy of a training row" if not full["rows"] else
                   "Holdout rows repeat training rows only as often as chance explains")
        summary += (f" and no '{id_col}' value is shared." if id_col else ".")
    else:
        parts = []
        if full["rows"] and full["significant"]:
            parts.append(f"{full['rows']} holdout rows ({_pct(full['share'])}) are exact copies of training rows")
        elif feat["significant"] and feat["rows"]:
            parts.append(f"{feat['rows']} holdout rows share all feature values with training rows")
        elif near["significant"] and near["rows"]:
            parts.append(f"{near['rows']} holdout rows nearly duplicate training rows")
        if shared and shared["rows"]:
            parts.append(f"{shared['ids']} '{id_col}' values appear on both sides")
        summary = "; ".join(parts) + ": the holdout is not fully independent of training."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.temporal
# ======================================================================================


def _fmt_time(v, kind: str):
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or (kind == "datetime" and pd.isna(v)):
        return None
    if kind == "datetime":
        ts = pd.Timestamp(v)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    return float(v)


@register("leakage.temporal", title="Temporal leakage: the holdout must come after training",
          area="leakage", antipatterns=("data_leakage", "grade_your_own_exam"), order=32)
def temporal(ctx: ReviewContext) -> Outcome:
    """With a time column: holdout rows dated before the latest training row, the window in
    which both splits have rows, and (Peek-a-Boo) date-like feature columns whose value lies
    after the row's own timestamp."""
    tcol = ctx.roles.time_column
    if not tcol:
        raise SkipCheck("No time column was given, so the order of training and holdout cannot be checked. "
                        "Set the time column in Setup if the data has one.")
    t_tr, kind = parse_time(ctx.train[tcol])
    t_te, kind_te = parse_time(ctx.test[tcol])
    if kind != kind_te or t_tr.notna().sum() == 0 or t_te.notna().sum() == 0:
        raise SkipCheck(f"The time column '{tcol}' could not be read as dates or numbers in both splits.")
    tr_v, te_v = t_tr.dropna(), t_te.dropna()
    tr_min, tr_max, te_min, te_max = tr_v.min(), tr_v.max(), te_v.min(), te_v.max()
    early = (t_te < tr_max).to_numpy()
    n_early = int(early.sum())
    late_train = int((t_tr > te_min).sum())
    share_early = n_early / len(te_v)
    win_start, win_end = max(tr_min, te_min), min(tr_max, te_max)
    window = None
    if win_start < win_end:
        length = (win_end - win_start) / pd.Timedelta(days=1) if kind == "datetime" else float(win_end - win_start)
        window = {"start": _fmt_time(win_start, kind), "end": _fmt_time(win_end, kind), "length": length,
                  "unit": "days" if kind == "datetime" else "time units"}
    findings: list[Finding] = []
    if n_early:
        sev = Severity.FAIL if share_early >= TEMPORAL_FAIL_SHARE else Severity.WARN
        rows_ix = np.flatnonzero(early)
        ev = {"holdout_rows": rows_ix[:50], "times": [_fmt_time(v, kind) for v in t_te.iloc[rows_ix[:50]]],
              "latest_training_time": _fmt_time(tr_max, kind), "rows": n_early, "share": share_early}
        if sev == Severity.FAIL:
            msg = (f"{n_early} holdout rows ({_pct(share_early)}) are dated before the latest training row "
                   f"({_fmt_time(tr_max, kind)}): this looks like a shuffled split, not a forward one. The model was "
                   "trained on the future of the rows it is graded on, so the holdout score is optimistic. Re-split "
                   "by time: train on the past, hold out the most recent period.")
        else:
            msg = (f"{n_early} holdout rows ({_pct(share_early)}) are dated before the latest training row "
                   f"({_fmt_time(tr_max, kind)}), although most of the holdout comes later. Find out how these rows "
                   "got into the holdout, move them to training or drop them, and re-evaluate.")
        findings.append(Finding(severity=sev, columns=[tcol], message=msg, evidence=ev))
    # Peek-a-Boo: date-like features after the row's own time
    peek = {}
    if kind == "datetime":
        t_all = pd.concat([t_tr, t_te], ignore_index=True)
        for col in ctx.features:
            if col == tcol or col not in ctx.train.columns or col not in ctx.test.columns:
                continue
            s = pd.concat([ctx.train[col], ctx.test[col]], ignore_index=True)
            if not (pd.api.types.is_datetime64_any_dtype(s) or _looks_like_time(s.head(2000))):
                continue
            v, _ = parse_time(s)
            both = v.notna() & t_all.notna()
            after = (v > t_all) & both
            n_after = int(after.sum())
            share = n_after / int(both.sum()) if both.sum() else 0.0
            peek[col] = {"rows_after": n_after, "share_after": share, "rows_compared": int(both.sum())}
            if n_after:
                sev = Severity.FAIL if share >= PEEK_FAIL_SHARE else Severity.WARN
                ix = np.flatnonzero(after.to_numpy())[:20]
                findings.append(Finding(severity=sev, columns=[col, tcol], message=(
                    f"'{col}' lies after the row's own '{tcol}' in {n_after} rows ({_pct(share)}): the feature is "
                    "recorded in the future of the prediction (Peek-a-Boo). At prediction time this value does not "
                    f"exist yet. Drop '{col}' or replace it with what was known at '{tcol}'."),
                    evidence={"rows": n_after, "share": share, "examples": [
                        {"row": int(i), col: _fmt_time(v.iloc[i], "datetime"), tcol: _fmt_time(t_all.iloc[i], "datetime")}
                        for i in ix]}))
    # timeline histogram for the page
    lo = min(tr_min, te_min)
    hi = max(tr_max, te_max)
    if kind == "datetime":
        lo_n, hi_n = pd.Timestamp(lo).value, pd.Timestamp(hi).value
        tr_n = tr_v.astype("int64").to_numpy(float)
        te_n = te_v.astype("int64").to_numpy(float)
    else:
        lo_n, hi_n, tr_n, te_n = float(lo), float(hi), tr_v.to_numpy(float), te_v.to_numpy(float)
    edges = np.linspace(lo_n, hi_n if hi_n > lo_n else lo_n + 1, TIMELINE_BINS + 1)
    h_tr, _ = np.histogram(tr_n, bins=edges)
    h_te, _ = np.histogram(te_n, bins=edges)
    conv = ((lambda x: _fmt_time(pd.Timestamp(int(x)), "datetime")) if kind == "datetime" else float)
    timeline = {"edges": [conv(e) for e in edges], "train": h_tr.tolist(), "holdout": h_te.tolist()}
    metrics = {
        "time_column": tcol,
        "time_kind": kind,
        "train_start": _fmt_time(tr_min, kind), "train_end": _fmt_time(tr_max, kind),
        "holdout_start": _fmt_time(te_min, kind), "holdout_end": _fmt_time(te_max, kind),
        "holdout_rows_before_train_end": n_early,
        "holdout_share_before_train_end": share_early,
        "train_rows_after_holdout_start": late_train,
        "train_share_after_holdout_start": late_train / len(tr_v),
        "overlap_window": window,
        "forward_split": n_early == 0,
        "early_holdout_rows": [{"row": int(i), "time": _fmt_time(t_te.iloc[i], kind)}
                               for i in np.flatnonzero(early)[:MAX_EARLY_ROWS]],
        "time_missing_train": int(t_tr.isna().sum()), "time_missing_test": int(t_te.isna().sum()),
        "peek_a_boo": peek,
        "timeline": timeline,
    }
    peek_bad = [c for c, v in peek.items() if v["rows_after"]]
    if not n_early and not peek_bad:
        summary = (f"Clean forward split: all holdout rows ({_fmt_time(te_min, kind)} to {_fmt_time(te_max, kind)}) "
                   f"come at or after the last training row ({_fmt_time(tr_max, kind)}).")
    else:
        parts = []
        if n_early:
            parts.append(f"{n_early} holdout rows ({_pct(share_early)}) are dated before the end of training")
        if peek_bad:
            parts.append(f"{len(peek_bad)} date column(s) hold values from after the row's own time "
                         f"({', '.join(peek_bad[:3])})")
        summary = "; ".join(parts) + ": the model is partly graded with knowledge of the future."
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.oversampling
# ======================================================================================


def _grid_decimals(values: np.ndarray) -> int | None:
    """Decimals of the grid ≥ 90% of a column's values lie on (0 = integers), else None (continuous)."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return None
    for d in range(7):
        scaled = v * 10.0 ** d
        if np.mean(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))) >= 0.9:
            return d
    return None


def _synthetic_points(P: np.ndarray, split: np.ndarray, queries: np.ndarray, k: int,
                      raw: np.ndarray | None = None, grid: list[int | None] | None = None) -> list[dict]:
    """Query points lying on a segment between two of their nearest neighbours (SMOTE's signature).

    A coordinate counts as evidence when the point lies strictly between the two neighbours
    there and, for a column whose values sit on a grid (integers, cents), off that grid: on
    a grid, points fall on lines between other points by coincidence; interpolation leaves it.
    """
    from sklearn.neighbors import NearestNeighbors

    n = len(P)
    if n < 3 or len(queries) == 0:
        return []
    k = min(k, n - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(P)
    _, nbr = nn.kneighbors(P[queries])
    out = []
    ii, jj = np.triu_indices(k, 1)
    scale = np.abs(P).max(axis=0) + 1.0
    eps = 1e-9 * scale
    for start in range(0, len(queries), 2000):
        q = queries[start:start + 2000]
        nb = nbr[start:start + 2000]
        # drop the query itself from its neighbour list
        nb = np.array([row[row != qi][:k] if (row == qi).any() else row[:k] for row, qi in zip(nb, q, strict=True)])
        S = P[q][:, None, :]
        A = P[nb[:, ii]]
        B = P[nb[:, jj]]
        D = B - A
        dd = np.einsum("qpd,qpd->qp", D, D)
        with np.errstate(invalid="ignore", divide="ignore"):
            lam = np.einsum("qpd,qpd->qp", S - A, D) / dd
            resid = S - A - lam[..., None] * D
            rel = np.sqrt(np.einsum("qpd,qpd->qp", resid, resid) / dd)
        between = (np.abs(S - A) > eps) & (np.abs(S - B) > eps)
        if raw is not None and grid is not None:
            off = np.ones(P.shape[1], dtype=bool)[None, :].repeat(len(q), axis=0)
            for j, d in enumerate(grid):
                if d is not None:
                    v = raw[q, j] * 10.0 ** d
                    off[:, j] = np.abs(v - np.round(v)) >= 1e-6 * np.maximum(1.0, np.abs(v))
            between = between & off[:, None, :]
        n_between = between.sum(axis=2)
        hit = (dd > 0) & (lam > 1e-6) & (lam < 1 - 1e-6) & (rel <= SMOTE_TOL) & (n_between >= 2)
        for r, pidx in zip(*np.nonzero(hit), strict=True):
            a, b, s = nb[r, ii[pidx]], nb[r, jj[pidx]], q[r]
            out.append({"point": int(s), "a": int(a), "b": int(b), "lambda": float(lam[r, pidx])})
    # one record per synthetic point (the first segment found)
    seen, uniq = set(), []
    for rec in out:
        if rec["point"] not in seen:
            seen.add(rec["point"])
            uniq.append(rec)
    return uniq


@register("leakage.oversampling", title="Oversampling before the split",
          area="leakage", antipatterns=("data_leakage", "grade_your_own_exam"), order=33)
def oversampling(ctx: ReviewContext) -> Outcome:
    """Signs that rows were oversampled before the data was split: exact copies shared by
    training and holdout that concentrate in one class (random oversampling), and SMOTE-like
    synthetic points lying on a segment between two other points of the same class where the
    three span both splits. Nearest neighbours are searched per class over the numeric
    features (standardised), for up to 1,000 query points per class and split among up to
    20,000 indexed points per class and split."""
    if ctx.task == "regression":
        raise SkipCheck("Oversampling applies to classification targets; this is a regression model.")
    train, test, target = ctx.train, ctx.test, ctx.target
    feats = [c for c in ctx.features if c in train.columns and c in test.columns]
    cols = feats + [target]
    numeric = _numeric_columns(ctx, cols)
    k_tr, k_te = row_keys(train, cols, numeric=numeric), row_keys(test, cols, numeric=numeric)
    y_tr, y_te = train[target].astype(str).to_numpy(), test[target].astype(str).to_numpy()
    classes = [str(c) for c in ctx.classes]
    cross = pd.Index(k_te).isin(k_tr)
    within = pd.Series(k_tr).duplicated(keep=False).to_numpy()
    by_class = {}
    for c in classes:
        m_te, m_tr = y_te == c, y_tr == c
        by_class[c] = {"holdout_rows": int(m_te.sum()), "training_rows": int(m_tr.sum()),
                       "cross_split_duplicates": int((cross & m_te).sum()),
                       "within_train_duplicates": int((within & m_tr).sum()),
                       "synthetic_cross_split": 0, "synthetic_within_train": 0, "synthetic_within_holdout": 0,
                       "points_checked": 0}
    # SMOTE-like interpolations, per class, over standardised numeric features
    num_feats = [c for c in feats if c in numeric and train[c].nunique() > 2]
    seed = ctx.settings.random_state
    rng = np.random.default_rng(seed)
    examples = []
    if len(num_feats) >= 2:
        Xtr = train[num_feats].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        Xte = test[num_feats].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        mu, sd = np.nanmean(Xtr, axis=0), np.nanstd(Xtr, axis=0)
        keep = sd > 0
        if keep.sum() >= 2:
            Rtr, Rte = Xtr[:, keep], Xte[:, keep]
            grid = [_grid_decimals(np.r_[Rtr[:, j], Rte[:, j]]) for j in range(Rtr.shape[1])]
            Xtr = (Rtr - mu[keep]) / sd[keep]
            Xte = (Rte - mu[keep]) / sd[keep]
            for c in classes:
                itr = np.flatnonzero((y_tr == c) & np.isfinite(Xtr).all(axis=1))
                ite = np.flatnonzero((y_te == c) & np.isfinite(Xte).all(axis=1))
                if len(itr) > SMOTE_POOL_CAP:
                    itr = np.sort(rng.choice(itr, SMOTE_POOL_CAP, replace=False))
                if len(ite) > SMOTE_POOL_CAP:
                    ite = np.sort(rng.choice(ite, SMOTE_POOL_CAP, replace=False))
                P = np.vstack([Xtr[itr], Xte[ite]])
                R = np.vstack([Rtr[itr], Rte[ite]])
                split = np.r_[np.zeros(len(itr), int), np.ones(len(ite), int)]
                orig = np.r_[itr, ite]
                # exact copies confuse "between": keep one point per distinct vector, remember the splits
                keys = pd.util.hash_pandas_object(pd.DataFrame(P), index=False).to_numpy()
                codes, _ = pd.factorize(keys)
                first = ~pd.Series(keys).duplicated().to_numpy()
                in_tr = np.bincount(codes, weights=(split == 0).astype(float)) > 0  # per distinct point
                in_te = np.bincount(codes, weights=(split == 1).astype(float)) > 0
                P_u, split_u, orig_u, R_u = P[first], split[first], orig[first], R[first]
                code_u = codes[first]
                q_tr = np.flatnonzero(split_u == 0)
                q_te = np.flatnonzero(split_u == 1)
                if len(q_tr) > SMOTE_QUERY_CAP:
                    q_tr = rng.choice(q_tr, SMOTE_QUERY_CAP, replace=False)
                if len(q_te) > SMOTE_QUERY_CAP:
                    q_te = rng.choice(q_te, SMOTE_QUERY_CAP, replace=False)
                queries = np.sort(np.r_[q_tr, q_te]).astype(int)
                by_class[c]["points_checked"] = int(len(queries))
                for rec in _synthetic_points(P_u, split_u, queries, SMOTE_K, raw=R_u, grid=grid):
                    sp = set()
                    for u in (rec["point"], rec["a"], rec["b"]):
                        sp |= ({0} if in_tr[code_u[u]] else set()) | ({1} if in_te[code_u[u]] else set())
                    where = ("cross_split" if sp == {0, 1} else "within_train" if sp == {0} else "within_holdout")
                    by_class[c][f"synthetic_{where}"] += 1
                    if where == "cross_split" and len(examples) < MAX_EXAMPLE_ROWS:
                        refs = [{"split": "training" if split_u[i] == 0 else "holdout", "row": int(orig_u[i])}
                                for i in (rec["point"], rec["a"], rec["b"])]
                        examples.append({"class": c, "point": refs[0], "between": refs[1:],
                                         "position": round(rec["lambda"], 4)})
    findings: list[Finding] = []
    # duplicates concentrated in one class
    rates = {c: (v["cross_split_duplicates"] / v["holdout_rows"] if v["holdout_rows"] else 0.0) for c, v in by_class.items()}
    top = max(rates, key=rates.get) if rates else None
    enrichment = None
    if top is not None and by_class[top]["cross_split_duplicates"]:
        others_n = sum(v["holdout_rows"] for c, v in by_class.items() if c != top)
        others_d = sum(v["cross_split_duplicates"] for c, v in by_class.items() if c != top)
        rate_o = others_d / others_n if others_n else 0.0
        enrichment = rates[top] / rate_o if rate_o > 0 else math.inf
        d = by_class[top]["cross_split_duplicates"]
        ev = {"class": top, "duplicates": d, "class_rate": rates[top], "other_classes_rate": rate_o,
              "enrichment": enrichment}
        if enrichment >= DUP_ENRICHMENT:
            sev = Severity.FAIL if d >= DUP_FAIL_COUNT else Severity.WARN
            findings.append(Finding(severity=sev, columns=[target], evidence=ev, message=(
                f"{d} holdout rows of class '{top}' ({_pct(rates[top])} of that class) are exact copies of training "
                f"rows, against {_pct(rate_o)} for the other classes: the class was oversampled before the data was "
                "split, so copies of the same rows are graded. Split first, then oversample the training part only, "
                "and re-evaluate on an untouched holdout.")))
        else:
            lo_rate = min(rates.values())
            findings.append(Finding(severity=Severity.INFO, columns=[target], evidence=ev, message=(
                f"Holdout rows that copy training rows are spread evenly over the classes ({_pct(lo_rate)} to "
                f"{_pct(rates[top])} of each class), which is not the pattern of oversampling; the row-overlap check "
                "above says what they mean.")))
    cross_syn = {c: v["synthetic_cross_split"] for c, v in by_class.items() if v["synthetic_cross_split"]}
    n_cross_syn = sum(cross_syn.values())
    if n_cross_syn:
        sev = Severity.FAIL if n_cross_syn >= SMOTE_FAIL else Severity.WARN
        cls = ", ".join(f"'{c}': {n}" for c, n in cross_syn.items())
        findings.append(Finding(severity=sev, columns=[target], evidence={"by_class": cross_syn, "examples": examples[:10]},
                                message=(
            f"{n_cross_syn} points lie exactly on the line between two other points of the same class, with the "
            f"three spread over training and holdout ({cls}). That is the signature of SMOTE-style synthetic rows "
            "made before the split: the holdout contains interpolations of training rows (or their parents). "
            "Split first, apply SMOTE to the training part only, and re-evaluate.")))
    within_syn = sum(v["synthetic_within_train"] for v in by_class.values())
    within_dup = sum(v["within_train_duplicates"] for v in by_class.values())
    if (within_syn or within_dup) and not any(f.severity != Severity.INFO for f in findings):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Training contains {within_dup} repeated rows and {within_syn} interpolated points (among those checked) "
            "that do not reach the holdout: if this is oversampling, it was done correctly, inside training only."),
            evidence={"within_train_duplicates": within_dup, "synthetic_within_train": within_syn}))
    counts = {c: v["training_rows"] + v["holdout_rows"] for c, v in by_class.items()}
    minority = min(counts, key=counts.get) if counts else None
    metrics = {
        "classes": by_class,
        "minority_class": minority,
        "concentrated_class": top if enrichment is not None and enrichment >= DUP_ENRICHMENT else None,
        "duplicate_enrichment": enrichment,
        "cross_split_duplicates": int(cross.sum()),
        "synthetic_cross_split": n_cross_syn,
        "synthetic_within_train": within_syn,
        "within_train_duplicates": within_dup,
        "numeric_columns_used": num_feats,
        "points_checked": sum(v["points_checked"] for v in by_class.values()),
        "query_cap_per_class_and_split": SMOTE_QUERY_CAP,
        "neighbours": SMOTE_K,
        "segment_tolerance": SMOTE_TOL,
        "examples": examples,
    }
    if len(num_feats) < 2:
        findings.append(Finding(severity=Severity.INFO, message=(
            "Fewer than two numeric features: the search for SMOTE-like interpolated rows was not possible; only "
            "exact copies were checked.")))
    bad = [f for f in findings if f.severity != Severity.INFO]
    if not bad:
        summary = "No sign of oversampling before the split: no class-concentrated copies or interpolated rows cross it."
    else:
        parts = []
        if n_cross_syn:
            parts.append(f"{n_cross_syn} SMOTE-like interpolated points span training and holdout")
        if metrics["concentrated_class"] is not None:
            parts.append(f"copies across the split concentrate in class '{top}'")
        summary = "; ".join(parts) + ": the data looks oversampled before it was split."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.preprocessing
# ======================================================================================


def _scaled_over(values: np.ndarray) -> dict:
    v = values[np.isfinite(values)]
    if len(v) < 3:
        return {"standardized": False, "minmax": False}
    mean = float(v.mean())
    std_ok = min(abs(v.std(ddof=0) - 1), abs(v.std(ddof=1) - 1)) <= SCALE_TOL
    return {"standardized": abs(mean) <= SCALE_TOL and std_ok,
            "minmax": abs(v.min()) <= SCALE_TOL and abs(v.max() - 1) <= SCALE_TOL,
            "mean": mean, "std": float(v.std(ddof=0)), "min": float(v.min()), "max": float(v.max())}


def _close(a: float, b: float) -> bool:
    return bool(np.isfinite(b) and abs(a - b) <= 1e-9 * max(1.0, abs(b)))


def _data_signatures(ctx: ReviewContext) -> tuple[dict, list[Finding]]:
    """(a) Columns that are standardised / min-max scaled / mean-imputed exactly over training + holdout."""
    out, findings = {}, []
    for col in ctx.features:
        if col not in ctx.train.columns or col not in ctx.test.columns:
            continue
        if not (_is_num(ctx.train[col]) and _is_num(ctx.test[col])):
            continue
        tr = pd.to_numeric(ctx.train[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        te = pd.to_numeric(ctx.test[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        both = np.r_[tr, te]
        if len(np.unique(both[np.isfinite(both)])) < 10:
            continue
        s_tr, s_te, s_all = _scaled_over(tr), _scaled_over(te), _scaled_over(both)
        verdict = None
        if s_all["standardized"] and not s_tr["standardized"]:
            verdict = "standardized_over_all"
            findings.append(Finding(severity=Severity.FAIL, columns=[col], message=(
                f"'{col}' is standardised over training and holdout together (mean {s_all['mean']:.2g}, standard "
                f"deviation {s_all['std']:.4f} over both; mean {s_tr['mean']:.3g} over training alone): the scaler saw "
                "the holdout (Metrics-from-Beyond). Fit scaling on the training rows only, inside the model pipeline."),
                evidence={"all": s_all, "train": s_tr}))
        elif s_all["minmax"] and not s_tr["minmax"]:
            verdict = "minmax_over_all"
            findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                f"'{col}' spans exactly 0 to 1 over training and holdout together, but only {s_tr['min']:.3g} to "
                f"{s_tr['max']:.3g} in training: it looks min-max scaled with the holdout's extremes. Unless the "
                "column is naturally a 0–1 share, fit the scaling on training rows only."),
                evidence={"all": s_all, "train": s_tr}))
        elif s_tr["standardized"] and s_te["standardized"]:
            verdict = "standardized_per_split"
            findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                f"'{col}' is standardised separately in training and in the holdout (mean 0, standard deviation 1 in "
                "each): the holdout was scaled with its own statistics, which production cannot do row by row. "
                "Scale the holdout with the training statistics.")))
        elif s_tr["minmax"] and s_te["minmax"]:
            verdict = "minmax_per_split"
            findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                f"'{col}' spans exactly 0 to 1 in training and again in the holdout: each split was min-max scaled "
                "with its own extremes. Scale the holdout with the training minimum and maximum.")))
        # a mean imputed over both splits: one spiked value equal to the mean of the others over both splits
        fin = both[np.isfinite(both)]
        vals, counts = np.unique(fin, return_counts=True)
        if verdict is None and len(vals) > 2:
            order = np.argsort(counts)[::-1]
            v, cnt, second = vals[order[0]], counts[order[0]], counts[order[1]]
            if cnt >= max(5, 0.005 * len(fin)) and cnt >= 3 * second:
                tr_f = tr[np.isfinite(tr)]
                m_all = fin[fin != v].mean()
                m_tr = tr_f[tr_f != v].mean() if (tr_f != v).any() else math.nan
                if _close(v, m_all) and not _close(v, m_tr):
                    verdict = "mean_imputed_over_all"
                    findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                        f"'{col}' has {int(cnt)} rows set to {v:.6g}, exactly the mean of the other values over "
                        f"training and holdout together (training alone: {m_tr:.6g}): missing values look imputed with "
                        "statistics that include the holdout. Impute with the training mean, inside the pipeline."),
                        evidence={"value": float(v), "rows": int(cnt), "mean_all": float(m_all), "mean_train": float(m_tr)}))
        if verdict:
            out[col] = verdict
    return out, findings


def _select_columns(X, cols, ct, name):
    """Resolve a ColumnTransformer selection against its input X (DataFrame or array)."""
    idx = None
    mapping = getattr(ct, "_transformer_to_input_indices", None)
    if isinstance(mapping, dict) and name in mapping:
        idx = list(mapping[name])
    if idx is None:
        if callable(cols):
            cols = cols(X)
        if isinstance(cols, slice) or np.isscalar(cols):
            cols = [cols] if np.isscalar(cols) else cols
        arr = np.asarray(cols) if not isinstance(cols, slice) else None
        if arr is not None and arr.dtype == bool:
            idx = list(np.flatnonzero(arr))
        elif isinstance(cols, slice):
            idx = list(range(X.shape[1]))[cols]
        elif arr is not None and arr.dtype.kind in "iu":
            idx = [int(i) for i in arr]
        else:
            names = list(X.columns)
            idx = [names.index(c) for c in cols]
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, idx], [str(X.columns[i]) for i in idx]
    return np.asarray(X)[:, idx], [f"column {i}" for i in idx]


def _names(X) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    return [f"column {i}" for i in range(np.asarray(X).shape[1])]


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
        return bool(np.allclose(a.astype(float), b.astype(float), rtol=STAT_RTOL, atol=1e-12, equal_nan=True))
    return bool(np.array_equal(a.astype(str), b.astype(str)))


def _inspect_leaf(est, Xtr, Xall, path: str, records: list[dict]) -> None:
    from sklearn.base import clone

    cls = type(est).__name__
    attrs = PREPROCESSORS.get(cls)
    if attrs is None or not type(est).__module__.startswith("sklearn"):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_tr = clone(est).fit(Xtr)
            fit_all = clone(est).fit(Xall)
    except Exception as exc:  # a transformer we cannot refit is reported, not fatal
        records.append({"step": path, "transformer": cls, "columns": {}, "error": str(exc)[:200]})
        return
    names = _names(Xtr)
    per_col = {}
    for j, name in enumerate(names):
        m_tr = m_all = True
        values = {}
        for attr in attrs:
            got = getattr(est, attr, None)
            if got is None:
                continue
            g, t, a = got[j], getattr(fit_tr, attr)[j], getattr(fit_all, attr)[j]
            m_tr &= _same(g, t)
            m_all &= _same(g, a)
            if attr == "categories_":
                seen_tr = {str(x) for x in np.asarray(t).tolist()}
                holdout_only = [x for x in np.asarray(g).tolist() if str(x) not in seen_tr]
                values[attr] = {"model": len(g), "train": len(t), "train_and_holdout": len(a),
                                "holdout_only_categories": [_plain(x) for x in holdout_only[:20]]}
            else:
                values[attr] = {"model": _plain(np.asarray(g).item() if np.ndim(g) == 0 else str(g)),
                                "train": _plain(np.asarray(t).item() if np.ndim(t) == 0 else str(t)),
                                "train_and_holdout": _plain(np.asarray(a).item() if np.ndim(a) == 0 else str(a))}
        if m_tr and m_all:
            verdict = "indistinguishable"
        elif m_tr:
            verdict = "training"
        elif m_all:
            verdict = "training_and_holdout"
        else:
            verdict = "neither"
        per_col[name] = {"fit_on": verdict, **values}
    rec = {"step": path, "transformer": cls, "columns": per_col,
           "n_samples_seen": _plain(np.max(est.n_samples_seen_)) if hasattr(est, "n_samples_seen_") else None}
    records.append(rec)


def _named(step, X_in, X_out):
    """A step's output as a DataFrame named by ``get_feature_names_out`` (None if too big to densify)."""
    import scipy.sparse as sp

    if sp.issparse(X_out):
        if X_out.shape[0] * X_out.shape[1] > 50_000_000:
            return None
        X_out = X_out.toarray()
    if isinstance(X_out, pd.DataFrame):
        return X_out
    try:
        names = [str(c) for c in step.get_feature_names_out(_names(X_in) if isinstance(X_in, pd.DataFrame) else None)]
    except Exception:
        return X_out
    X_out = np.asarray(X_out)
    if X_out.ndim == 2 and len(names) == X_out.shape[1]:
        return pd.DataFrame(X_out, columns=names)
    return X_out


def _walk(est, Xtr, Xall, path: str, records: list[dict]) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(est, Pipeline):
        for name, step in est.steps:
            if step is None or step == "passthrough":
                continue
            _walk(step, Xtr, Xall, f"{path}/{name}" if path else name, records)
            if not hasattr(step, "transform"):
                break
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    Xtr, Xall = _named(step, Xtr, step.transform(Xtr)), _named(step, Xall, step.transform(Xall))
            except Exception:
                break
            if Xtr is None or Xall is None:
                break
        return
    if isinstance(est, ColumnTransformer):
        for name, trans, cols in est.transformers_:
            if isinstance(trans, str):
                continue
            try:
                sub_tr, _ = _select_columns(Xtr, cols, est, name)
                sub_all, _ = _select_columns(Xall, cols, est, name)
            except Exception:
                continue
            _walk(trans, sub_tr, sub_all, f"{path}/{name}" if path else name, records)
        return
    if isinstance(est, FeatureUnion):
        for name, trans in est.transformer_list:
            if not isinstance(trans, str):
                _walk(trans, Xtr, Xall, f"{path}/{name}" if path else name, records)
        return
    _inspect_leaf(est, Xtr, Xall, path or type(est).__name__, records)


_ATTR_WORD = {"mean_": "mean", "scale_": "scale", "data_min_": "minimum", "data_max_": "maximum",
              "max_abs_": "maximum absolute value", "center_": "centre", "statistics_": "fill value",
              "categories_": "categories"}


@register("leakage.preprocessing", title="Preprocessing fit on training + holdout (Metrics-from-Beyond)",
          area="leakage", antipatterns=("data_leakage",), order=34)
def preprocessing(ctx: ReviewContext) -> Outcome:
    """(a) From the data: numeric features standardised or min-max scaled exactly over
    training + holdout but not over training alone (or separately per split), and values
    mean-imputed with a mean over both splits. (b) From a fitted scikit-learn pipeline:
    every StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, SimpleImputer,
    OneHotEncoder and OrdinalEncoder (inside Pipelines, ColumnTransformers and
    FeatureUnions, with their column selections resolved) is refitted on the training
    rows and on training + holdout rows; its stored statistics tell which it was fit on."""
    data_verdicts, findings = _data_signatures(ctx)
    records: list[dict] = []
    inspected = False
    if ctx.model is not None:
        est = ctx.model.estimator
        feats = ctx.model.features
        Xtr = ctx.train[feats]
        Xall = pd.concat([ctx.train[feats], ctx.test[feats]], ignore_index=True)
        inspected = True
        _walk(est, Xtr, Xall, "", records)
    n_tr, n_all = len(ctx.train), len(ctx.train) + len(ctx.test)
    leaked_cols: list[str] = []
    for rec in records:
        if rec.get("error"):
            findings.append(Finding(severity=Severity.INFO, message=(
                f"The {rec['transformer']} at '{rec['step']}' could not be refitted to check it ({rec['error']})."),
                evidence={"step": rec["step"]}))
            continue
        cols_all = [c for c, v in rec["columns"].items() if v["fit_on"] == "training_and_holdout"]
        cols_neither = [c for c, v in rec["columns"].items() if v["fit_on"] == "neither"]
        attrs = PREPROCESSORS[rec["transformer"]]
        what = " and ".join(_ATTR_WORD.get(a, a) for a in attrs)
        if cols_all:
            leaked_cols += cols_all
            extra = ""
            if "categories_" in attrs:
                hold = {c: rec["columns"][c]["categories_"]["holdout_only_categories"] for c in cols_all}
                hold = {c: v for c, v in hold.items() if v}
                if hold:
                    extra = " It knows categories that occur only in the holdout: " + "; ".join(
                        f"{c}: {', '.join(map(str, v[:5]))}" for c, v in list(hold.items())[:3]) + "."
            seen = f" It saw {rec['n_samples_seen']:,} rows; training has {n_tr:,}, training + holdout {n_all:,}." \
                if isinstance(rec.get("n_samples_seen"), int) else ""
            findings.append(Finding(severity=Severity.FAIL, columns=cols_all, evidence={
                "step": rec["step"], "transformer": rec["transformer"],
                "columns": {c: rec["columns"][c] for c in cols_all[:20]}, "n_samples_seen": rec.get("n_samples_seen"),
                "rows_train": n_tr, "rows_train_and_holdout": n_all}, message=(
                f"The {rec['transformer']} at '{rec['step']}' was fit on training + holdout rows: its {what} for "
                f"{', '.join(cols_all[:6])}{' …' if len(cols_all) > 6 else ''} match the combined data, not the "
                f"training data alone.{extra}{seen} The holdout influenced the model, so its score is optimistic "
                "(Metrics-from-Beyond). Refit the pipeline on training rows only and re-evaluate.")))
        if cols_neither:
            findings.append(Finding(severity=Severity.INFO, columns=cols_neither, evidence={
                "step": rec["step"], "columns": {c: rec["columns"][c] for c in cols_neither[:20]}}, message=(
                f"The {rec['transformer']} at '{rec['step']}' has statistics for {', '.join(cols_neither[:6])} that "
                "match neither the training rows nor training + holdout: it was fit on other rows (a larger or "
                "filtered set). Ask which rows it saw.")))
    steps = [{"step": r["step"], "transformer": r["transformer"],
              "fit_on": sorted({v["fit_on"] for v in r["columns"].values()}) if not r.get("error") else ["error"],
              "columns": r["columns"], "n_samples_seen": r.get("n_samples_seen")} for r in records]
    metrics = {
        "data_signatures": data_verdicts,
        "pipeline_inspected": inspected and bool(records),
        "transformers_checked": len([r for r in records if not r.get("error")]),
        "steps": steps,
        "fit_on_holdout_columns": sorted(set(leaked_cols)),
        "rows_train": n_tr,
        "rows_train_and_holdout": n_all,
    }
    bad = [f for f in findings if f.severity != Severity.INFO]
    if not bad:
        if records:
            summary = (f"All {len(records)} preprocessing step(s) in the model were fit on training rows only"
                       + ("; no column looks scaled with the holdout." if not data_verdicts else "."))
        elif inspected:
            summary = ("The model has no scaler, imputer or encoder to inspect, and no column looks scaled or "
                       "imputed with the holdout.")
        else:
            summary = "No column looks scaled or imputed with holdout statistics (no model to inspect)."
    else:
        parts = []
        if leaked_cols:
            parts.append(f"the model's preprocessing was fit on training + holdout rows ({len(set(leaked_cols))} columns)")
        dv = [c for c, v in data_verdicts.items()]
        if dv:
            parts.append(f"{len(dv)} column(s) look scaled or imputed with holdout statistics ({', '.join(dv[:3])})")
        summary = "; ".join(parts) + ": the holdout leaked into preparation, so its score is optimistic."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics, status=None if bad else Status.PASS)
