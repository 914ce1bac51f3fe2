"""Leakage: column-wise (feature ~ target), row-wise (train/holdout overlap), temporal,
oversampling before the split, and preprocessing fit on training + holdout.

Every check here works from the data (and, for preprocessing, the fitted pipeline);
nearest-neighbour and cross-validation work is done on capped samples of rows and columns
whose sizes are reported in the metrics, so the checks stay fast on 100,000+ rows and their
memory does not grow with the number of columns. The statistics and their chance models
live in :mod:`readiness.leakstats`, the pipeline inspection in :mod:`readiness.pipeline_fit`;
this module holds the checks and their wording.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness import leakstats as ls
from readiness.fmt import drop_column_remedy, p_text
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext, _label_equals
from readiness.leakstats import row_keys
from readiness.pipeline_fit import plain as _plain
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity

# --- leakage.feature_target ------------------------------------------------------------
#: power = 2·AUC − 1 (classification; one-vs-rest macro AUC for multiclass) or the
#: out-of-fold R² (regression), clipped at 0: 0 = no signal, 1 = determines the target.
#: Strength alone never fails: it only raises a question (see ``feature_target``).
EXTREME_POWER = 0.98  # AUC ≥ 0.99: an extreme column is worth a warning-level question
EXTREME_R2 = 0.90  # regression: out-of-fold R² of 32 bins (binning caps it below the column's own R²)
WARN_POWER = 0.50  # AUC ≥ 0.75 / R² ≥ 0.50: strong enough to ask when it becomes known
ID_SIGNAL_POWER = 0.10  # identifier-like column "carries target signal" (AUC ≥ 0.55, significant)
FEATURE_SAMPLE = 20_000  # training rows used per feature (stratified at random)
HOLDOUT_SAMPLE = 20_000
CV_FOLDS = 5
ID_UNIQUE_SHARE = 0.95  # near-unique: ≥ 95% distinct non-missing values
ID_DENSE = 2.0  # integer IDs fill their range: (max − min + 1) ≤ 2 × distinct values
POST_OUTCOME_ANSWER = "post_outcome:"  # reviewer_answers key prefix: "post_outcome:<column>" = yes / no

# --- leakage.train_test_overlap --------------------------------------------------------
OVERLAP_FAIL_SHARE = 0.01  # ≥ 1% of holdout rows share an ID with training: fail
NEAR_SIG_DIGITS = 3
MAX_EXAMPLE_ROWS = 20
MAX_NAMED = 3  # a shortened list names this many and says how many it leaves out

# --- leakage.oversampling --------------------------------------------------------------
SMOTE_QUERY_CAP = 1_000  # query points per class and split
SMOTE_POOL_CAP = 20_000  # indexed points per class and split
SMOTE_MAX_COLUMNS = 40  # numeric columns searched (a seeded sample above this; interpolation is exact in any subset)
SMOTE_K = 10
SMOTE_P_VALUE = 1e-3
SMOTE_MATERIAL_POINTS = 5  # at least this many interpolated points beyond chance ...
SMOTE_MATERIAL_SHARE = 0.01  # ... and ≥ 1% of the holdout points checked
DUP_ENRICHMENT = 3.0
DUP_FAIL_COUNT = 5
DUP_P_VALUE = 1e-3


def _listed(names: list, limit: int = MAX_NAMED, quote: bool = False) -> str:
    """'a, b, c and 4 more' — a shortened list always says how many it leaves out."""
    shown = [f"'{n}'" if quote else str(n) for n in names[:limit]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


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


def model_holdout_score(ctx: ReviewContext) -> float:
    """The whole model's holdout score on the scale of the standalone scores (NaN in a data-only review)."""
    if ctx.data_only:
        return math.nan
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
        return ls.score(ctx.task, Y[ok], P[ok])
    except ValueError:
        return math.nan


def _feature_kind(name: str, s_train: pd.Series) -> tuple[str, bool]:
    """('numeric' | 'date' | 'categorical', identifier_like).

    A numeric column is identifier-like when its values are distinct integers that either fill
    their range (a sequence: max − min + 1 ≤ 2 × distinct values) or sit in a column named like
    an ID; an integer measure such as income in dollars is distinct too, but spread out."""
    import re

    values = s_train.dropna()
    n = len(values)
    unique_share = values.nunique() / n if n else 0.0
    if pd.api.types.is_bool_dtype(s_train):
        return "categorical", False
    if _is_num(s_train):
        v = values.to_numpy(dtype=float)
        integer_like = n > 0 and bool(np.all(np.mod(v, 1) == 0))
        if not (integer_like and unique_share >= ID_UNIQUE_SHARE and n >= 50):
            return "numeric", False
        dense = (v.max() - v.min() + 1) <= ID_DENSE * values.nunique()
        named = re.search(r"(^|[^a-z])(id|uuid|key|number|no|nr)$", str(name).lower()) is not None
        return "numeric", bool(dense or named)
    if pd.api.types.is_datetime64_any_dtype(s_train) or _looks_like_time(s_train):
        return "date", False
    return "categorical", bool(unique_share >= ID_UNIQUE_SHARE and n >= 50)


def feature_powers(ctx: ReviewContext) -> dict:
    """Every feature's standalone, cross-validated power on training, its power on the holdout,
    and (classification) the rules without exception it forms with the target. Computed once per
    review (``ctx.memo``): the baselines and the Bayes-error study consult it too."""
    import copy

    key = ("leakage.feature_powers", ctx.settings.random_state)
    if key not in ctx.memo:
        ctx.memo[key] = _feature_powers(ctx)
    return copy.deepcopy(ctx.memo[key])


def _feature_powers(ctx: ReviewContext) -> dict:
    seed = ctx.settings.random_state
    Y_all = _target_matrix(ctx, ctx.y_train)
    ok_rows = np.isfinite(Y_all).all(axis=1)
    strata = None if ctx.task == "regression" else (
        Y_all[:, 0].astype(int) if ctx.task == "binary" else Y_all.argmax(axis=1))
    idx = np.flatnonzero(ok_rows)
    idx = idx[ls.sample_index(len(idx), FEATURE_SAMPLE, seed, None if strata is None else strata[idx])]
    Y = Y_all[idx]
    t_idx = ls.sample_index(len(ctx.test), HOLDOUT_SAMPLE, seed + 1)
    Yt = _target_matrix(ctx, ctx.y_test.iloc[t_idx])
    t_ok = np.isfinite(Yt).all(axis=1)
    rng = np.random.default_rng(seed)
    folds = rng.permutation(len(idx)) % CV_FOLDS
    null_se = ls.null_power_se(ctx.task, Y)
    if ctx.task == "binary":
        cls, class_names = Y[:, 0].astype(int), [f"not {ctx.positive_label}", str(ctx.positive_label)]
        neg = [c for c in ctx.classes if str(c) != str(ctx.positive_label)]
        if len(neg) == 1:
            class_names[0] = str(neg[0])
    elif ctx.task == "multiclass":
        cls, class_names = Y.argmax(axis=1), [str(c) for c in ctx.classes]
    else:
        cls, class_names = None, []
    rows = []
    for col in ctx.features:
        if col not in ctx.train.columns or col not in ctx.test.columns:
            continue
        s_tr = ctx.train[col].iloc[idx].reset_index(drop=True)
        s_te = ctx.test[col].iloc[t_idx].reset_index(drop=True)
        kind, id_like = _feature_kind(col, ctx.train[col])
        methods = [kind] + (["identifier_rank"] if id_like and kind == "categorical" else [])
        best = None
        for method in methods:
            c_tr, c_te, n_bins = ls.encode(s_tr, s_te, method)
            P = ls.oof_rates(c_tr, Y, n_bins, folds)
            score = ls.score(ctx.task, Y, P)
            rates = ls.fit_rates(c_tr, Y, n_bins)
            score_te = ls.score(ctx.task, Yt[t_ok], rates[c_te][t_ok]) if t_ok.sum() > 1 else math.nan
            cand = {"method": method, "score": score, "score_holdout": score_te, "bins": int(n_bins)}
            if best is None or ls.power(ctx.task, score) > ls.power(ctx.task, best["score"]):
                best = cand
        missing = s_tr.isna().to_numpy()
        miss_score = None
        if 0 < missing.sum() < len(missing):
            miss_score = ls.score(ctx.task, Y, ls.oof_rates(missing.astype(int), Y, 2, folds))
        rules = []
        if cls is not None and not id_like:
            for r in ls.post_outcome_rules(s_tr, cls, len(class_names)):
                r["class"] = class_names[r.pop("class_index")]
                rules.append(r)
        elif ctx.task == "regression" and kind == "numeric" and not id_like:
            copy = ls.affine_copy(pd.to_numeric(s_tr, errors="coerce").to_numpy(dtype=float, na_value=np.nan), Y[:, 0])
            rules = [copy] if copy else []
        values = ctx.train[col].dropna()
        rows.append({
            "column": col,
            "kind": "identifier" if id_like else kind,
            "method": best["method"],
            "score": best["score"],
            "power": ls.power(ctx.task, best["score"]),
            "score_holdout": best["score_holdout"],
            "power_holdout": ls.power(ctx.task, best["score_holdout"]),
            "bins": best["bins"],
            "unique_share": float(values.nunique() / len(values)) if len(values) else 0.0,
            "missing_rate": float(ctx.train[col].isna().mean()),
            "missing_score": miss_score,
            "identifier_like": id_like,
            "rules": rules,
            "name_shares": ls.name_from_target(col, ctx.target),
        })
    rows.sort(key=lambda r: -r["power"])
    return {"rows": rows, "sample_rows": int(len(idx)), "holdout_sample_rows": int(t_ok.sum()),
            "null_power_se": null_se}


def _answer(ctx: ReviewContext, col: str) -> str | None:
    """The reviewer's answer to "is '<col>' filled in after the outcome?": 'yes', 'no' or None."""
    raw = (ctx.settings.reviewer_answers or {}).get(POST_OUTCOME_ANSWER + col)
    if raw is None:
        return None
    text = str(raw).strip().lower()
    if text in ("yes", "y", "true", "after", "after the outcome", "post-outcome", "post_outcome"):
        return "yes"
    if text in ("no", "n", "false", "before", "before the outcome", "at prediction time"):
        return "no"
    return None


def _post_outcome(ctx: ReviewContext, row: dict) -> bool:
    """A column fails as recorded after the outcome: a rule without exception, or the reviewers said so."""
    return bool(row["rules"]) or _answer(ctx, row["column"]) == "yes"


def post_outcome_columns(ctx: ReviewContext) -> list[str]:
    """The columns ``leakage.feature_target`` fails as recorded after the outcome, in its order.

    Checks whose conclusions a leak would carry (``baselines.comparison``, ``feasibility.bayes_error``)
    leave these columns out, so no conclusion rests on evidence the review itself distrusts."""
    if not ctx.features:
        return []
    return [r["column"] for r in feature_powers(ctx)["rows"] if _post_outcome(ctx, r)]


def _rule_text(col: str, target: str, rule: dict) -> str:
    if rule["kind"] == "affine":
        return (f"'{target}' equals {rule['intercept']:.6g} + {rule['slope']:.6g} × '{col}' exactly in "
                f"{rule['rows']:,} training rows ({_pct(rule['share'])})")
    vals = rule["values"]
    if rule["kind"] == "other_values":
        cond = (f"'{col}' has any value other than {_listed(vals, quote=True)}" if vals else f"'{col}' has a value")
    elif vals == ["missing"]:
        cond = f"'{col}' is missing"
    else:
        cond = f"'{col}' = {_listed(vals, quote=True)}" if len(vals) == 1 else f"'{col}' is one of {_listed(vals, quote=True)}"
    agree = rule["rows"] - rule["exceptions"]
    how = "without a single exception" if not rule["exceptions"] else (
        f"with {rule['exceptions']} exception{'s' if rule['exceptions'] > 1 else ''}")
    return (f"whenever {cond}, '{target}' is '{rule['class']}' — in {agree:,} of {rule['rows']:,} training rows "
            f"({_pct(rule['share'])} of all rows), {how}")


@register("leakage.feature_target", title="Column-wise leakage: features that give away the target",
          area="leakage", antipatterns=("data_leakage",), order=30)
def feature_target(ctx: ReviewContext) -> Outcome:
    """Each feature's standalone power to predict the target: out-of-fold (5-fold) score of
    its per-value target rate (numeric columns in up to 32 quantile bins, missing values as
    their own bin, near-unique text also by its sort order) on a sample of up to 20,000
    training rows; AUC (binary), one-vs-rest macro AUC (multiclass) or R² (regression),
    compared with the whole model's holdout score. Strength alone cannot tell a leak from a
    good feature, so it only raises a question; a column fails on the *shape* of post-outcome
    evidence: a rule without exception over a large share of rows (``leakstats.post_outcome_rules``)
    or the reviewer's answer that it is filled in after the outcome."""
    if not ctx.features:
        raise SkipCheck("The model has no feature columns to examine.")
    res = feature_powers(ctx)
    task = ctx.task
    metric = "r2" if task == "regression" else "roc_auc"
    model_score = model_holdout_score(ctx)
    model_power = ls.power(task, model_score) if np.isfinite(model_score) else None
    findings: list[Finding] = []
    leaking, suspicious, questions, id_signal = [], [], [], []
    metric_name = "R²" if task == "regression" else "AUC"

    def fmt(v):
        return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"

    model_txt = f"the whole model scores {fmt(model_score)} on the holdout" if model_power is not None else "no model score"
    for r in res["rows"]:
        col, p = r["column"], r["power"]
        ev = {k: r[k] for k in ("score", "power", "score_holdout", "power_holdout", "method", "unique_share",
                                "missing_rate", "missing_score", "rules", "name_shares")}
        ev["model_score"] = model_score
        answer = _answer(ctx, col)
        r["reviewer_answer"] = answer
        strength = f"on its own it predicts '{ctx.target}' with {metric_name} {fmt(r['score'])} ({model_txt})"
        r["status"] = "pass"
        if _post_outcome(ctx, r):
            r["status"] = "fail"
            leaking.append(col)
            why = []
            if r["rules"]:
                why.append(_rule_text(col, ctx.target, r["rules"][0]) + ". A measured feature has exceptions; a "
                           "rule this clean over this many rows is how a column recorded after the outcome looks")
            if answer == "yes":
                why.append("the reviewers answered that it is filled in after the outcome")
            remedy = (f"leave '{col}' out of the model's features" if ctx.data_only else
                      drop_column_remedy(f"'{col}'", vendor=ctx.model is None))
            findings.append(Finding(severity=Severity.FAIL, columns=[col], evidence=ev, message=(
                f"'{col}' looks recorded after the outcome: " + "; ".join(why) + f". Also, {strength}. At prediction "
                f"time this value would not exist yet, so a model that uses it scores better on the holdout than it "
                f"will in production. {remedy[0].upper() + remedy[1:]}.")))
        elif p >= WARN_POWER or (r["name_shares"] and p >= ID_SIGNAL_POWER):
            extreme = p >= (EXTREME_R2 if task == "regression" else EXTREME_POWER)
            named = (f" Its name shares '{r['name_shares']}' with the target's, which often marks a column derived "
                     "from the outcome." if r["name_shares"] else "")
            asked = answer == "no"
            sev = Severity.INFO if asked or not (extreme or r["name_shares"]) else Severity.WARN
            r["status"] = "warn" if sev == Severity.WARN else "question"
            (suspicious if sev == Severity.WARN else questions).append(col)
            if asked:
                msg = (f"'{col}' is strong ({strength}); the reviewers answered that it is known at prediction "
                       "time, so it is taken as an honest feature.")
            else:
                msg = (f"Is '{col}' known at the moment of prediction? {strength[0].upper() + strength[1:]}.{named} "
                       "Strength alone does not show a leak — a good feature is strong too — and no rule without "
                       f"exception ties it to the target. Confirm with the data owner when '{col}' is filled in "
                       f"(answer 'post_outcome:{col}' in the questionnaire).")
            findings.append(Finding(severity=sev, columns=[col], evidence=ev, message=msg))
        if r["identifier_like"]:
            carries = p >= max(ID_SIGNAL_POWER, 4 * res["null_power_se"])
            r["identifier_signal"] = bool(carries)
            if carries and r["status"] in ("pass", "question"):
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
        "warn_power": WARN_POWER,
        "extreme_power": EXTREME_R2 if task == "regression" else EXTREME_POWER,
        "warn_score": ls.score_from_power(task, WARN_POWER),
        "extreme_score": ls.score_from_power(task, EXTREME_R2 if task == "regression" else EXTREME_POWER),
        "rule_min_share": ls.RULE_MIN_SHARE,
        "leaking_columns": leaking,
        "suspicious_columns": suspicious,
        "question_columns": questions,
        "identifier_columns": [r["column"] for r in rows if r["identifier_like"]],
        "identifier_signal_columns": id_signal,
        "features": rows,
        "sample_rows": res["sample_rows"],
        "holdout_sample_rows": res["holdout_sample_rows"],
        "cv_folds": CV_FOLDS,
    }
    top = rows[0] if rows else None
    if leaking:
        one = len(leaking) == 1
        summary = (f"{_listed(leaking, quote=True)} look{'s' if one else ''} recorded after the outcome (a rule with no "
                   f"or almost no exception ties {'it' if one else 'them'} to the target): " + (
                       f"the holdout score cannot be trusted until {'it is' if one else 'they are'} dropped."
                       if ctx.model is not None or ctx.data_only else
                       f"the holdout score cannot be trusted unless the model behind the prediction column does not "
                       f"use {'it' if one else 'them'}."))
    elif suspicious or id_signal:
        cols = suspicious + id_signal
        summary = (f"Is {_listed(cols, quote=True)} known at prediction time? Very strong on "
                   f"{'its' if len(cols) == 1 else 'their'} own ({metric_name} {fmt(top['score'])} vs the whole "
                   f"model's {fmt(model_score)}), with no rule that proves a leak; confirm with the data owner.")
    elif questions:
        summary = (f"No column shows the shape of a post-outcome leak; {_listed(questions, quote=True)} "
                   f"{'is' if len(questions) == 1 else 'are'} strong on {'its' if len(questions) == 1 else 'their'} "
                   f"own ({metric_name} {fmt(top['score'])}), worth confirming when "
                   f"{'it is' if len(questions) == 1 else 'they are'} known.")
    elif top is not None:
        summary = (f"No column shows the shape of a post-outcome leak (strongest: '{top['column']}', "
                   f"{metric_name} {fmt(top['score'])}; whole model {fmt(model_score)}).")
    else:
        summary = "No feature columns could be examined."
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.train_test_overlap
# ======================================================================================


def _whole_row_keys(ctx: ReviewContext, feats: list[str], numeric: set[str],
                    feature_keys: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Training's and the holdout's row keys over the features and the target, once per review
    (``ctx.memo``; the overlap and oversampling checks both read them; read-only). ``feature_keys``,
    the keys over the features alone, are extended by the target instead of hashing every column again."""
    key = ("leakage.row_keys", tuple(feats), ctx.target, frozenset(numeric), len(ctx.train), len(ctx.test))
    if key not in ctx.memo:
        cols = feats + [ctx.target]
        if feature_keys is None:
            keys = tuple(row_keys(f, cols, numeric=numeric) for f in (ctx.train, ctx.test))
        else:
            keys = tuple(row_keys(f, [ctx.target], numeric=numeric, keys=k, position=len(feats))
                         for f, k in zip((ctx.train, ctx.test), feature_keys, strict=True))
        for k in keys:
            k.setflags(write=False)
        ctx.memo[key] = keys
    return ctx.memo[key]


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
    k_feat_tr, k_feat_te = row_keys(train, feats, numeric=numeric), row_keys(test, feats, numeric=numeric)
    k_full_tr, k_full_te = _whole_row_keys(ctx, feats, numeric, (k_feat_tr, k_feat_te))
    near_num = {c for c in numeric if c in feats}
    k_near_tr = row_keys(train, feats, numeric=near_num, round_digits=NEAR_SIG_DIGITS)
    k_near_te = row_keys(test, feats, numeric=near_num, round_digits=NEAR_SIG_DIGITS)
    full = ls.match_counts(k_full_tr, k_full_te)
    feat = ls.match_counts(k_feat_tr, k_feat_te)
    near = ls.match_counts(k_near_tr, k_near_te)
    id_col = ctx.roles.id_column
    shared = None
    if id_col:
        ids_tr = train[id_col].dropna().astype(str)
        ids_te = test[id_col].astype(str)
        h_tr = pd.util.hash_pandas_object(ids_tr, index=False).to_numpy()
        h_te = pd.util.hash_pandas_object(ids_te, index=False).to_numpy()
        in_tr = np.asarray(pd.Index(h_te).isin(h_tr)) & test[id_col].notna().to_numpy()  # a hash table, no sort
        is_group = ids_tr.duplicated().any() or ids_te.dropna().duplicated().any()
        shared = {"column": id_col, "rows": int(in_tr.sum()), "ids": int(ids_te[in_tr].nunique()),
                  "share": float(in_tr.mean()) if n_te else 0.0, "kind": "group" if is_group else "id",
                  "example_ids": test[id_col][in_tr].astype(str).unique()[:20].tolist()}
    full_match = ls.first_match(k_full_tr, k_full_te)
    full_ix = np.flatnonzero(full["mask"])[:50]
    rows = {"full_holdout": full_ix, "full_training": full_match[full_ix],
            "feature_only_holdout": np.flatnonzero(feat["mask"] & ~full["mask"])[:50],
            "near_only_holdout": np.flatnonzero(near["mask"] & ~feat["mask"])[:50],
            "label_conflicts": int((feat["mask"] & ~full["mask"]).sum())}
    # a sample of overlapping rows for the page
    show = np.flatnonzero(full["mask"] | feat["mask"] | near["mask"])[:MAX_EXAMPLE_ROWS]
    feat_match, near_match = ls.first_match(k_feat_tr, k_feat_te), ls.first_match(k_near_tr, k_near_te)
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
    return overlap_outcome(ctx, n_te, cols, full, feat, near, shared, rows, examples)


def overlap_outcome(ctx: ReviewContext, n_te: int, cols: list[str], full: dict, feat: dict, near: dict,
                    shared: dict | None, rows: dict, examples: list[dict]) -> Outcome:
    """The overlap findings from the match statistics (:func:`readiness.leakstats.match_stats`) of whole rows,
    feature values and rounded feature values, the shared IDs, the evidence's row numbers (``rows``) and a few
    example rows; from the frames or from an engine's counts over every row."""
    findings: list[Finding] = []
    id_col = ctx.roles.id_column

    def sev(m: dict) -> Severity:
        """Significant and material excess over chance: fail; significant only: warn; else info."""
        if not m["significant"]:
            return Severity.INFO
        return Severity.FAIL if m["material"] else Severity.WARN

    def chance(m: dict) -> str:
        if m["baseline_share"] > 0:
            return f" (chance alone, judging by repeats within training, would give about {m['expected_rows']:.0f})"
        return ""

    if full["rows"]:
        s = sev(full)
        ev = {"holdout_rows": rows["full_holdout"], "training_rows": rows["full_training"], "rows": full["rows"],
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
        label_conflicts = rows["label_conflicts"]
        ev = {"rows": feat["rows"], "rows_with_other_label": label_conflicts, "expected_rows": feat["expected_rows"],
              "holdout_rows": rows["feature_only_holdout"], "p_value": feat["p_value"]}
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
              "holdout_rows": rows["near_only_holdout"]}
        if s == Severity.INFO and not near["informative"]:
            msg = (f"{extra_near} more holdout rows match a training row once numbers are rounded to "
                   f"{NEAR_SIG_DIGITS} significant digits, but here rounding makes most rows near-copies of each other "
                   f"({_pct(near['baseline_share'])} of training rows match another training row), so this says "
                   "nothing about copying.")
        elif s == Severity.INFO:
            msg = (f"{extra_near} more holdout rows match a training row once numbers are rounded to "
                   f"{NEAR_SIG_DIGITS} significant digits; about what chance gives{chance(near)}.")
        else:
            msg = (f"{extra_near} more holdout rows ({_pct(extra_near / n_te)}) are near-copies of training rows — not "
                   f"exact copies: they agree with a training row only once numbers are rounded to {NEAR_SIG_DIGITS} "
                   f"significant digits{chance(near)}. Jittered, re-exported or interpolated rows (SMOTE made before the "
                   "split) look like this; check how these rows were produced before trusting the holdout.")
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
                      "example_ids": shared["example_ids"]}))
    metrics = {
        "holdout_rows": n_te,
        "overlap_test_rows": full["rows"],
        "overlap_test_share": full["share"],
        "overlap_expected_rows": full["expected_rows"],
        "overlap_chance_share": full["chance_share"],
        "overlap_p_value": full["p_value"],
        "feature_overlap_test_rows": feat["rows"],
        "feature_overlap_test_share": feat["share"],
        "feature_overlap_expected_rows": feat["expected_rows"],
        "feature_overlap_p_value": feat["p_value"],
        "feature_overlap_label_conflicts": rows["label_conflicts"],
        "near_duplicate_test_rows": near["rows"],
        "near_duplicate_test_share": near["share"],
        "near_duplicate_expected_rows": near["expected_rows"],
        "near_duplicate_informative": near["informative"],
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
            parts.append(f"{extra_near} holdout rows are near-copies (not exact copies) of training rows")
        if shared and shared["rows"]:
            parts.append(f"{shared['ids']} '{id_col}' values appear on both sides")
        summary = "; ".join(parts) + ": the holdout is not fully independent of training."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics)


# ======================================================================================
# leakage.oversampling
# ======================================================================================


@register("leakage.oversampling", title="Oversampling before the split",
          area="leakage", antipatterns=("data_leakage", "grade_your_own_exam"), order=33)
def oversampling(ctx: ReviewContext) -> Outcome:
    """Signs that rows were oversampled before the data was split: exact copies shared by
    training and holdout that concentrate in one class (random oversampling; one-sided
    Fisher test), and SMOTE-like synthetic points lying on a segment between two other points
    of the same class where the three span both splits — counted against what chance gives in
    this data (the same count at a ten times looser tolerance, ``leakstats.chance_test``).
    Nearest neighbours are searched per class over up to 40 numeric features (a seeded sample
    of the columns above that; standardised), for up to 1,000 query points per class and split
    among up to 20,000 indexed points per class and split."""
    if ctx.task == "regression":
        raise SkipCheck("Oversampling applies to classification targets; this is a regression model.")
    train, test, target = ctx.train, ctx.test, ctx.target
    feats = [c for c in ctx.features if c in train.columns and c in test.columns]
    cols = feats + [target]
    numeric = _numeric_columns(ctx, cols)
    k_tr, k_te = _whole_row_keys(ctx, feats, numeric)
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
                       "cross_split_close_triples": 0, "cross_split_chance_band": 0, "points_checked": 0,
                       "holdout_points_checked": 0}
    seed = ctx.settings.random_state
    rng = np.random.default_rng(seed)
    candidates = [c for c in feats if c in numeric and train[c].nunique() > 2]
    num_feats = candidates
    if len(candidates) > SMOTE_MAX_COLUMNS:
        num_feats = [candidates[i] for i in np.sort(rng.choice(len(candidates), SMOTE_MAX_COLUMNS, replace=False))]
    examples: list[dict] = []
    searched = False
    if len(num_feats) >= 2:
        searched = _interpolation_search(ctx, num_feats, classes, y_tr, y_te, by_class, examples, rng)
    findings: list[Finding] = []
    # duplicates concentrated in one class
    rates = {c: (v["cross_split_duplicates"] / v["holdout_rows"] if v["holdout_rows"] else 0.0) for c, v in by_class.items()}
    top = max(rates, key=rates.get) if rates else None
    enrichment = dup_p = None
    concentrated = False
    if top is not None and by_class[top]["cross_split_duplicates"]:
        others_n = sum(v["holdout_rows"] for c, v in by_class.items() if c != top)
        others_d = sum(v["cross_split_duplicates"] for c, v in by_class.items() if c != top)
        rate_o = others_d / others_n if others_n else 0.0
        enrichment = rates[top] / rate_o if rate_o > 0 else math.inf
        d = by_class[top]["cross_split_duplicates"]
        dup_p = ls.enrichment_test(d, by_class[top]["holdout_rows"], others_d, others_n)
        ev = {"class": top, "duplicates": d, "class_rate": rates[top], "other_classes_rate": rate_o,
              "enrichment": enrichment, "p_value": dup_p}
        concentrated = enrichment >= DUP_ENRICHMENT and dup_p < DUP_P_VALUE
        if concentrated:
            sev = Severity.FAIL if d >= DUP_FAIL_COUNT else Severity.WARN
            findings.append(Finding(severity=sev, columns=[target], evidence=ev, message=(
                f"{d} holdout rows of class '{top}' ({_pct(rates[top])} of that class) are exact copies of training "
                f"rows, against {_pct(rate_o)} for the other classes (one-sided Fisher test {p_text(dup_p)}): the class "
                "was oversampled before the data was split, so copies of the same rows are graded. Split first, then "
                "oversample the training part only, and re-evaluate on an untouched holdout.")))
        else:
            lo_rate = min(rates.values())
            findings.append(Finding(severity=Severity.INFO, columns=[target], evidence=ev, message=(
                f"Holdout rows that copy training rows are not concentrated in one class beyond chance ({_pct(lo_rate)} "
                f"to {_pct(rates[top])} of each class), which is not the pattern of oversampling; the row-overlap "
                "check says what they mean.")))
    close = sum(v["synthetic_cross_split"] for v in by_class.values())
    band = sum(v["cross_split_chance_band"] for v in by_class.values())
    chance = ls.chance_test(sum(v["cross_split_close_triples"] for v in by_class.values()), band)
    checked = sum(v["points_checked"] for v in by_class.values())
    excess = max(0.0, close - chance["expected"])
    significant = close > 0 and chance["p_value"] < SMOTE_P_VALUE
    checked_holdout = sum(v["holdout_points_checked"] for v in by_class.values())
    material = excess >= SMOTE_MATERIAL_POINTS and excess >= SMOTE_MATERIAL_SHARE * max(checked_holdout, 1)
    cross_syn = {c: v["synthetic_cross_split"] for c, v in by_class.items() if v["synthetic_cross_split"]}
    if close:
        cls = ", ".join(f"'{c}': {n}" for c, n in cross_syn.items())
        chance_txt = (f"chance alone would put about {chance['expected']:.1f} there in data like this (judged from "
                      f"the {band} points within ten times the tolerance)")
        ev = {"by_class": cross_syn, "examples": examples[:10], **chance}
        if significant and material:
            findings.append(Finding(severity=Severity.FAIL, columns=[target], evidence=ev, message=(
                f"{close} points lie on the line between two other points of the same class, with the three spread "
                f"over training and holdout ({cls}); {chance_txt}, {p_text(chance['p_value'])}. That excess is the "
                "signature of SMOTE-style synthetic rows made before the split: the holdout contains interpolations "
                "of training rows (or their parents). Split first, apply SMOTE to the training part only, and "
                "re-evaluate.")))
        elif significant:
            findings.append(Finding(severity=Severity.WARN, columns=[target], evidence=ev, message=(
                f"{close} points lie on the line between two other points of the same class across training and "
                f"holdout ({cls}); {chance_txt}. The excess is real but small ({excess:.0f} points, "
                f"{_pct(excess / max(checked_holdout, 1))} of the holdout points checked): a few rows may have been interpolated before "
                "the split. Ask how the data was balanced.")))
        else:
            findings.append(Finding(severity=Severity.INFO, columns=[target], evidence=ev, message=(
                f"{close} points lie within the tolerance of a line between two neighbours across the split, about "
                f"what chance gives ({chance_txt}): no sign of interpolation before the split.")))
    within_syn = sum(v["synthetic_within_train"] for v in by_class.values())
    within_dup = sum(v["within_train_duplicates"] for v in by_class.values())
    if (within_syn or within_dup) and not any(f.severity != Severity.INFO for f in findings):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Training contains {within_dup:,} repeated rows and {within_syn:,} points on a line between two neighbours "
            "(among those checked) that do not reach the holdout: if this is oversampling, it was done correctly, "
            "inside training only."),
            evidence={"within_train_duplicates": within_dup, "synthetic_within_train": within_syn}))
    counts = {c: v["training_rows"] + v["holdout_rows"] for c, v in by_class.items()}
    minority = min(counts, key=counts.get) if counts else None
    metrics = {
        "classes": by_class,
        "minority_class": minority,
        "concentrated_class": top if concentrated else None,
        "duplicate_enrichment": enrichment,
        "duplicate_enrichment_p_value": dup_p,
        "cross_split_duplicates": int(cross.sum()),
        "synthetic_cross_split": close,
        "synthetic_cross_split_expected": chance["expected"],
        "synthetic_chance_band": band,
        "synthetic_p_value": chance["p_value"],
        "synthetic_within_train": within_syn,
        "within_train_duplicates": within_dup,
        "numeric_columns_used": num_feats,
        "numeric_columns_available": len(candidates),
        "points_checked": checked,
        "query_cap_per_class_and_split": SMOTE_QUERY_CAP,
        "neighbours": SMOTE_K,
        "segment_tolerance": ls.SMOTE_TOL,
        "chance_factor": ls.CHANCE_FACTOR,
        "examples": examples,
    }
    if len(num_feats) < 2 or not searched:
        findings.append(Finding(severity=Severity.INFO, message=(
            "Fewer than two numeric features that vary independently: the search for SMOTE-like interpolated rows "
            "was not possible; only exact copies were checked.")))
    elif len(candidates) > len(num_feats):
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The search for interpolated rows used a seeded sample of {len(num_feats)} of the {len(candidates)} "
            "numeric columns (an interpolation is exact in every column, so a sample keeps its signature) to bound "
            "memory and time."), evidence={"columns_used": len(num_feats), "columns_available": len(candidates)}))
    bad = [f for f in findings if f.severity != Severity.INFO]
    if not bad:
        summary = "No sign of oversampling before the split: no class-concentrated copies or interpolated rows cross it."
    else:
        parts = []
        if significant:
            parts.append(f"{close} SMOTE-like interpolated points span training and holdout (chance: about "
                         f"{chance['expected']:.0f})")
        if concentrated:
            parts.append(f"copies across the split concentrate in class '{top}'")
        summary = "; ".join(parts) + ": the data looks oversampled before it was split."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics)


def _interpolation_search(ctx, num_feats, classes, y_tr, y_te, by_class, examples, rng) -> bool:
    """Per class: triples on a segment within the tolerance (and the chance band) by split span.
    Returns False when the columns do not span at least two independent directions."""
    train, test = ctx.train, ctx.test
    Xtr = train[num_feats].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    Xte = test[num_feats].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    mu, sd = np.nanmean(Xtr, axis=0), np.nanstd(Xtr, axis=0)
    keep = sd > 0
    if keep.sum() < 2:
        return False
    Rtr, Rte = Xtr[:, keep], Xte[:, keep]
    grid = [ls.grid_decimals(np.r_[Rtr[:, j], Rte[:, j]]) for j in range(Rtr.shape[1])]
    Xtr = (Rtr - mu[keep]) / sd[keep]
    Xte = (Rte - mu[keep]) / sd[keep]
    # columns that are exact linear functions of each other put every point on one line
    probe = Xtr[np.isfinite(Xtr).all(axis=1)][:2000]
    if len(probe) < 3 or np.linalg.matrix_rank(probe - probe.mean(axis=0), tol=1e-8 * np.sqrt(len(probe))) < 2:
        return False
    tol = ls.SMOTE_TOL
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
        P_u, split_u, orig_u, R_u, code_u = P[first], split[first], orig[first], R[first], codes[first]
        q_tr, q_te = np.flatnonzero(split_u == 0), np.flatnonzero(split_u == 1)
        if len(q_tr) > SMOTE_QUERY_CAP:
            q_tr = rng.choice(q_tr, SMOTE_QUERY_CAP, replace=False)
        if len(q_te) > SMOTE_QUERY_CAP:
            q_te = rng.choice(q_te, SMOTE_QUERY_CAP, replace=False)
        queries = np.sort(np.r_[q_tr, q_te]).astype(int)
        by_class[c]["points_checked"] = int(len(queries))
        by_class[c]["holdout_points_checked"] = int(len(q_te))
        tri = ls.interpolation_triples(P_u, queries, SMOTE_K, raw=R_u, grid=grid)
        if tri.empty:
            continue
        span_tr = np.zeros(len(tri), dtype=bool)
        span_te = np.zeros(len(tri), dtype=bool)
        for col in ("point", "a", "b"):
            u = code_u[tri[col].to_numpy(dtype=int)]
            span_tr |= in_tr[u]
            span_te |= in_te[u]
        where = np.where(span_tr & span_te, "cross_split", np.where(span_tr, "within_train", "within_holdout"))
        close = tri["rel"].to_numpy() <= tol
        cross_close = close & (where == "cross_split")
        by_class[c]["cross_split_chance_band"] = int(((~close) & (where == "cross_split")).sum())
        by_class[c]["cross_split_close_triples"] = int(cross_close.sum())
        # one record per synthetic point (the first segment found)
        for w in ("cross_split", "within_train", "within_holdout"):
            by_class[c][f"synthetic_{w}"] = int(tri.loc[close & (where == w), "point"].nunique())
        for rec in tri[cross_close].drop_duplicates("point").head(MAX_EXAMPLE_ROWS - len(examples)).itertuples():
            refs = [{"split": "training" if split_u[i] == 0 else "holdout", "row": int(orig_u[i])}
                    for i in (int(rec.point), int(rec.a), int(rec.b))]
            examples.append({"class": c, "point": refs[0], "between": refs[1:], "position": round(float(rec.lam), 4)})
    return True
