"""``readiness monitor --engine dask|spark`` (and ``local`` on a batch too large to load).

Every statistic the monitor tests rests on counts and sums over the batch's rows: bin counts
per feature, score-bin counts, flagged and review-band rows, the sums behind the estimated
accuracy and cost, correct predictions, costs and each group's confusion counts. Each
partition (scored on the worker with the reviewed model, loaded there from its bytes)
yields them; they merge exactly, and :func:`readiness.monitor.run.monitor_stats` runs the
same tests as on a batch in memory. ROC AUC on labels comes from score histograms on
fixed bins (``roc_auc_max_error`` bounds the gap to the rank AUC).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.engines.summaries import SCORE_BINS, Counts

MAX_UNSEEN = 5


@dataclass(frozen=True)
class MonitorSpec:
    review: Any  # readiness.monitor.run.SignedReview
    model: tuple | None  # (bytes, name, trusted sha256 or None)
    target: str | None
    name: str
    score_range: tuple[float, float]


_LOADED: dict = {}


def _model(spec: MonitorSpec):
    from readiness.inputs import load_model

    data, name, trusted = spec.model
    key = (len(data), hash(data))
    if key not in _LOADED:
        _LOADED[key] = load_model(data, name=name, trusted_sha256=trusted, sandbox=False)
    return _LOADED[key]


def monitor_summary(frame: pd.DataFrame, spec: MonitorSpec) -> dict:
    """One partition's counts and sums for the monitor's tests."""
    from readiness.checks.bias_stats import confusion_cells, label_texts
    from readiness.monitor.profile import (
        UNSEEN_BIN,
        apply_map,
        bin_counts,
        bin_index,
        group_labels,
        score_bins,
    )
    from readiness.monitor.reference import confidence, correct_probability
    from readiness.monitor.run import _score

    ref = spec.review.reference
    task = ref["task"]
    out: dict = {"rows": len(frame), "features": {}}
    for f, prof in ref["features"].items():
        if f not in frame.columns:
            continue
        counts = bin_counts(prof, frame[f]).astype(np.int64)
        d: dict = {"counts": counts}
        if prof["kind"] == "categorical":
            u = prof["labels"].index(UNSEEN_BIN)
            if counts[u]:
                idx = bin_index(prof, frame[f])
                vc = pd.Series(label_texts(frame[f].to_numpy()[idx == u])).value_counts()
                d["unseen"] = Counts({str(k): int(v) for k, v in vc.items()})
        else:
            v = pd.to_numeric(frame[f], errors="coerce")
            d["sum"], d["known"] = float(v.sum()), int(v.notna().sum())
        out["features"][f] = d
    if frame.empty:
        return out
    scores, pred, info = _score(spec.review, frame, _model(spec) if spec.model else None, spec.name)
    if info.get("unscored_reason"):
        out["unscored_reason"] = Counts({info["unscored_reason"]: 1})
    ok = ~np.isnan(scores) if scores.ndim == 1 else ~np.isnan(scores).any(axis=1)
    fr, s, pr = frame[ok].reset_index(drop=True), scores[ok], pred[ok]
    out["n"] = n = int(ok.sum())
    conf = confidence(task, s)
    out["score_counts"] = np.bincount(score_bins(ref["scores"]["edges"], conf),
                                      minlength=len(ref["scores"]["counts"])).astype(np.int64)
    out["conf_sum"] = float(conf.sum())
    if task == "binary":
        out["flagged"] = int((s >= ref["threshold"]).sum())
    band = ref.get("band")
    if band:
        out["band_rows"] = int(((conf > band["lower"]) & (conf < band["upper"])).sum())
    cmap = ref.get("calibration_map")
    if cmap and task != "regression" and n:
        q = correct_probability(task, conf, cmap, ref.get("threshold"))
        out["q_sum"], out["q_var_sum"] = float(q.sum()), float(np.sum(q * (1 - q)))
        if task == "binary":
            p_pos = apply_map(cmap, s)
            cost = np.where(s >= ref["threshold"], (1 - p_pos) * ref["cost_fp"], p_pos * ref["cost_fn"])
            out["cost_sum"] = float(cost.sum())
    if spec.target is None:
        return out
    y_raw = fr[spec.target]
    lab = y_raw.notna().to_numpy()
    y_text = label_texts(y_raw)
    r: dict = {"labelled": int(lab.sum())}
    if task != "regression":
        r["unknown"] = Counts({v: 1 for v in set(y_text[lab]) - set(ref["classes"])})
    if task == "regression":
        r["abs_err_sum"] = float(np.abs(s[lab] - pd.to_numeric(y_raw[lab], errors="coerce").to_numpy(float)).sum())
    else:
        r["correct"] = int((y_text[lab] == np.asarray(pr, dtype=object)[lab].astype(str)).sum())
    if task == "binary":
        yb = (y_text[lab] == ref["positive_label"]).astype(int)
        sl = s[lab]
        flagged = (sl >= ref["threshold"]).astype(int)
        lo, hi = spec.score_range
        b = np.clip(np.floor((sl - lo) / (hi - lo) * SCORE_BINS).astype(np.int64) + 1, 0, SCORE_BINS + 1)
        r["hist_pos"] = np.bincount(b[yb == 1], minlength=SCORE_BINS + 2).astype(np.int64)
        r["hist_neg"] = np.bincount(b[yb == 0], minlength=SCORE_BINS + 2).astype(np.int64)
        r["cells"] = np.array([((flagged == 1) & (yb == 1)).sum(), ((flagged == 1) & (yb == 0)).sum(),
                               ((flagged == 0) & (yb == 1)).sum(), ((flagged == 0) & (yb == 0)).sum()], np.int64)
        groups: dict = {}
        labelled = fr[lab].reset_index(drop=True)
        for attr, spec_groups in (ref.get("groups") or {}).items():
            gs = spec_groups["spec"]
            if gs["column"] not in labelled.columns:
                continue
            names = list(spec_groups["groups"])
            codes = pd.Index(names).get_indexer(group_labels(gs, labelled[gs["column"]]))
            groups[attr] = dict(zip(names, confusion_cells(codes, len(names), yb, flagged), strict=True))
        r["groups"] = groups
    out["realised"] = r
    return out


def stats_from_summary(ref: dict, m: dict, target: str | None) -> dict:
    """The statistics :func:`readiness.monitor.run.batch_stats` computes from rows, from merged summaries."""
    from readiness.checks.bias_stats import hanley_mcneil_from, rates_from_counts

    task = ref["task"]
    feats = {}
    for f, d in m["features"].items():
        st: dict = {"counts": np.asarray(d["counts"])}
        if "unseen" in d:
            top = sorted(d["unseen"].counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_UNSEEN]
            st["unseen_values"] = dict(top)
        if "sum" in d:
            st["mean"] = d["sum"] / d["known"] if d["known"] else None
        feats[f] = st
    n = m.get("n", 0)
    out: dict = {"features": feats, "n": n}
    if not n:
        return out
    out["score_counts"] = np.asarray(m["score_counts"])
    out["conf_mean"] = m["conf_sum"] / n
    if task == "binary":
        out["flagged_share"] = m["flagged"] / n
    if "band_rows" in m:
        out["band_share"], out["band_rows"] = m["band_rows"] / n, int(m["band_rows"])
    if "q_sum" in m:
        out["q_mean"], out["q_var_sum"] = m["q_sum"] / n, m["q_var_sum"]
        if "cost_sum" in m:
            out["expected_cost_mean"] = m["cost_sum"] / n
    r = m.get("realised")
    if r is None:
        return out
    st = {"target": target, "labelled": r["labelled"]}
    out["realised"] = st
    if task != "regression":
        st["unknown"] = sorted(r["unknown"].counts)
        if st["unknown"]:
            return out
    nl = r["labelled"]
    if nl == 0:
        return out
    if task == "regression":
        st["mae"] = r["abs_err_sum"] / nl
        return out
    st["correct"] = r["correct"]
    if task == "binary":
        pos, neg = np.asarray(r["hist_pos"], float), np.asarray(r["hist_neg"], float)
        P, N = pos.sum(), neg.sum()
        if P and N:
            below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
            auc = float(np.sum(pos * (below + 0.5 * neg)) / (P * N))
            st["roc_auc"], st["roc_auc_ci"] = hanley_mcneil_from(auc, int(P), int(N))
            st["roc_auc_max_error"] = float(0.5 * np.sum(pos * neg) / (P * N))
            st["roc_auc_bins"] = SCORE_BINS
        else:
            st["roc_auc"], st["roc_auc_ci"] = None, None
        tp, fp, fn, tn = (int(x) for x in r["cells"])
        values = [(1000 * ref["cost_fp"], fp), (1000 * ref["cost_fn"], fn), (0.0, tp + tn)]
        st["cost_per_1000"], st["cost_per_1000_ci"] = mean_ci_from_counts(values)
        st["groups"] = {attr: {g: rates_from_counts(*(int(x) for x in c)) for g, c in gs.items() if c.sum()}
                        for attr, gs in r["groups"].items()}
    return out


def mean_ci_from_counts(values: list[tuple[float, int]], *, alpha: float = 0.05) -> tuple[float, list | None]:
    """Mean and t-interval (as :func:`readiness.checks.comparison_stats.mean_ci`) of (value, count) pairs."""
    from scipy import stats

    merged: dict[float, int] = {}
    for v, c in values:
        if c:
            merged[float(v)] = merged.get(float(v), 0) + int(c)
    n = sum(merged.values())
    mean = sum(v * c for v, c in merged.items()) / n
    if n < 2:
        return mean, None
    if len(merged) == 1:
        return mean, [mean, mean]
    var = sum(c * (v - mean) ** 2 for v, c in merged.items()) / (n - 1)
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * math.sqrt(var / n)
    return mean, [mean - half, mean + half]


def monitor_on_engine(engine, review, source, *, model=None, model_bytes: bytes | None = None,
                      trusted: str | None = None, target: str | None = None, progress=None):
    """Monitor a batch where it lives; the result names the engine and says every figure is exact."""
    from readiness.engines.review import open_source, summarize, total_rows
    from readiness.monitor.run import BatchInfo, monitor_stats

    ref = review.reference
    src = open_source(source, role="batch")
    columns = src.columns if hasattr(src, "columns") and not hasattr(src, "frame") else list(src.frame.columns)
    name = src.name
    expected = next((f.sha256 for f in review.report.inputs if f.role == "model"), None)
    if expected is not None or not ref.get("prediction_column"):
        if model is None:
            raise E.ReadinessError(E.MONITOR_MODEL_NEEDED)
        missing = [c for c in ref["model_features"] if c not in columns]
        if missing:
            raise E.ReadinessError(E.MONITOR_BATCH_COLUMNS.format(name=name, missing=missing,
                                                                  n=len(ref["model_features"])))
    elif ref["prediction_column"] not in columns:
        raise E.ReadinessError(E.MONITOR_PREDICTION_COLUMN.format(column=ref["prediction_column"]))
    if target is not None and target not in columns:
        raise E.ReadinessError(E.MONITOR_TARGET_MISSING.format(target=target, name=name))
    edges = [float(x) for x in ref["scores"]["edges"]]
    lo, hi = (0.0, 1.0) if all(0 <= x <= 1 for x in edges) else (min(edges), max(edges))
    if hi <= lo:
        hi = lo + 1.0
    spec = MonitorSpec(review=review, model=(model_bytes, model.name, trusted) if model is not None else None,
                       target=target, name=name, score_range=(lo, hi))
    merged = summarize(engine, src, functools.partial(monitor_summary, spec=spec))
    if progress:
        progress(f"batch of {total_rows(src):,} rows summarised")
    if not merged.get("n"):
        raise E.ReadinessError(E.MONITOR_BATCH_NO_SCORES.format(name=name))
    st = stats_from_summary(ref, merged, target)
    if model is not None:
        reasons = merged.get("unscored_reason")
        model_info = {"kind": "model", "name": model.name, "sha256": model.sha256,
                      "unscored_reason": next(iter(reasons.counts), None) if reasons else None}
    else:
        model_info = {"kind": "predictions", "name": f"prediction column '{ref['prediction_column']}'", "sha256": None}
    result = monitor_stats(review, BatchInfo(name, src.sha256, merged["rows"]), st, model_info)
    basis = {"kind": "exact", "engine": engine.name, "rows": merged["rows"]}
    return result.model_copy(update={"batch": {**result.batch, "basis": basis}})
