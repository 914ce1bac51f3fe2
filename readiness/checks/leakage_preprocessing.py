"""Preprocessing leakage (leakage.preprocessing, Metrics-from-Beyond): scaling or imputation
fit on training + holdout, seen in the data and in a fitted scikit-learn pipeline
(:mod:`readiness.pipeline_fit`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness.checks.leakage import _is_num, _listed
from readiness.inputs.context import ReviewContext
from readiness.pipeline_fit import PREPROCESSORS, walk
from readiness.registry import Outcome, register
from readiness.results import Finding, Severity, Status

SCALE_TOL = 1e-4


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
        fin = both[np.isfinite(both)]
        vals, counts = np.unique(fin, return_counts=True)  # once: it sorts every row
        if len(vals) < 10:
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
        walk(est, Xtr, Xall, "", records)
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
                        f"{c}: {_listed(v, 5)}" for c, v in list(hold.items())[:3]) + (
                        f" (and {len(hold) - 3} more columns)" if len(hold) > 3 else "") + "."
            seen = f" It saw {rec['n_samples_seen']:,} rows; training has {n_tr:,}, training + holdout {n_all:,}." \
                if isinstance(rec.get("n_samples_seen"), int) else ""
            findings.append(Finding(severity=Severity.FAIL, columns=cols_all, evidence={
                "step": rec["step"], "transformer": rec["transformer"],
                "columns": {c: rec["columns"][c] for c in cols_all[:20]}, "n_samples_seen": rec.get("n_samples_seen"),
                "rows_train": n_tr, "rows_train_and_holdout": n_all}, message=(
                f"The {rec['transformer']} at '{rec['step']}' was fit on training + holdout rows: its {what} for "
                f"{_listed(cols_all, 6)} match the combined data, not the "
                f"training data alone.{extra}{seen} The holdout influenced the model, so its score is optimistic "
                "(Metrics-from-Beyond). Refit the pipeline on training rows only and re-evaluate.")))
        if cols_neither:
            findings.append(Finding(severity=Severity.INFO, columns=cols_neither, evidence={
                "step": rec["step"], "columns": {c: rec["columns"][c] for c in cols_neither[:20]}}, message=(
                f"The {rec['transformer']} at '{rec['step']}' has statistics for {_listed(cols_neither, 6)} that "
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
            summary = ((f"All {len(records)} preprocessing steps in the model were" if len(records) > 1 else
                        "The preprocessing step in the model was") + " fit on training rows only"
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
            parts.append(f"{len(dv)} column{'s' if len(dv) != 1 else ''} look{'s' if len(dv) == 1 else ''} scaled or imputed with holdout statistics ({_listed(dv)})")
        summary = "; ".join(parts) + ": the holdout leaked into preparation, so its score is optimistic."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics, status=None if bad else Status.PASS)
