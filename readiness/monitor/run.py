"""One production batch against one signed review: :func:`monitor_batch`.

Without labels: per-feature drift (PSI in the reference's bins; missing-value and
unseen-category shares beside it), prediction drift, the share of rows in the
human-review band, and the batch's accuracy estimated from the calibrated scores
(CBPE). With labels (``target``): realised accuracy, ROC AUC and cost with intervals,
and each sensitive group's rates as the bias review computes them. Every test's alert
threshold comes from same-size batches drawn from the reference (:mod:`readiness.monitor.stats`);
the family of tests raises an alert on an unchanged population in at most 5% of batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.checks.bias_stats import SMALL_GROUP, label_texts, prop, rate_stats
from readiness.fmt import pct
from readiness.monitor import stats as S
from readiness.monitor.conditions import map_conditions
from readiness.monitor.profile import (
    UNSEEN_BIN,
    apply_map,
    bin_counts,
    bin_index,
    group_labels,
    score_bins,
)
from readiness.monitor.reference import confidence, correct_probability
from readiness.monitor.result import MonitorResult, MonitorTest
from readiness.results import ReviewReport

MAX_UNSEEN_LISTED = 5


@dataclass
class SignedReview:
    """A review read back for monitoring: the report, its reference, and who signed off what."""

    report: ReviewReport
    reference: dict
    name: str
    record_id: str | None = None
    record_sha256: str | None = None
    project: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    review_digest: str | None = None
    decision: str | None = None
    conditions: list[str] = field(default_factory=list)
    signatures: int = 0  # intact PDF signatures (trust is `readiness verify`'s business)

    def identity(self) -> dict:
        return {"name": self.name, "record_id": self.record_id, "record_sha256": self.record_sha256,
                "project": self.project, "model_name": self.model_name or self.report.model.name,
                "model_version": self.model_version, "review_digest": self.review_digest,
                "review_created_at": self.report.created_at, "decision": self.decision,
                "conditions": self.conditions, "signatures": self.signatures}


def load_review(source: str | Path | bytes, *, name: str | None = None) -> SignedReview:
    """Read a review JSON, a review record JSON or a (signed) PDF report. A signed PDF must be
    intact: a report changed after signing is refused."""
    from readiness.report.canonical import ReviewRecord, sha256_hex

    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "review"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise E.InputFileError(E.FILE_NOT_FOUND.format(role="Review", path=path))
        data = path.read_bytes()
    record, record_bytes, signatures = None, None, 0
    if data[:1024].lstrip().startswith(b"%PDF-"):
        from readiness.report.verify import verify_report

        res = verify_report(data)
        signatures = len(res.signatures)
        if signatures and not res.intact:
            raise E.ReadinessError(E.MONITOR_TAMPERED.format(name=name, reason=res.reasons[0] if res.reasons else "?"))
        if res.record_bytes is None:
            raise E.ReadinessError(E.MONITOR_REVIEW_FORMAT.format(name=name))
        record_bytes = res.record_bytes
        obj = json.loads(record_bytes.decode("utf-8"))
    else:
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise E.ReadinessError(E.MONITOR_REVIEW_FORMAT.format(name=name)) from None
    try:
        if isinstance(obj, dict) and "review" in obj and "record_id" in obj:
            record = ReviewRecord.model_validate(obj)
            report = record.review
            record_bytes = record_bytes or data
        elif isinstance(obj, dict) and "checks" in obj:
            report = ReviewReport.model_validate(obj)
        else:
            raise ValueError
    except ValueError:
        raise E.ReadinessError(E.MONITOR_REVIEW_FORMAT.format(name=name)) from None
    ref = report.check("monitoring.reference")
    if ref is None or not ref.metrics.get("features"):
        raise E.ReadinessError(E.MONITOR_NO_REFERENCE.format(name=name))
    out = SignedReview(report=report, reference=ref.metrics, name=name, signatures=signatures)
    if record is not None:
        out.record_id, out.project = record.record_id, record.project
        out.model_name, out.model_version, out.review_digest = record.model_name, record.model_version, record.review_digest
        out.decision = record.decision.outcome.value if record.decision.outcome else None
        out.conditions = list(record.decision.conditions)
        out.record_sha256 = sha256_hex(record_bytes) if record_bytes else None
    return out


# --- scoring the batch --------------------------------------------------------------------------------


def _score(review: SignedReview, frame: pd.DataFrame, model, batch_name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Scores (as ``ReviewContext.test_scores``) and predicted labels (text) of the batch."""
    from readiness.inputs.models import ModelAdapter

    ref = review.reference
    task, threshold = ref["task"], ref.get("threshold")
    column = ref.get("prediction_column")
    expected = next((f.sha256 for f in review.report.inputs if f.role == "model"), None)
    if expected is None and column:
        if column not in frame.columns:
            raise E.ReadinessError(E.MONITOR_PREDICTION_COLUMN.format(column=column))
        scores = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        info = {"kind": "predictions", "name": f"prediction column '{column}'", "sha256": None}
    else:
        if model is None:
            raise E.ReadinessError(E.MONITOR_MODEL_NEEDED)
        if expected != model.sha256:
            raise E.ReadinessError(E.MONITOR_MODEL_MISMATCH.format(name=model.name, actual=model.sha256,
                                                                   expected=expected))
        features = ref["model_features"]
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise E.ReadinessError(E.MONITOR_BATCH_COLUMNS.format(name=batch_name, missing=missing, n=len(features)))
        adapter = ModelAdapter(model.estimator, task=task, positive_label=ref.get("positive_label"), features=features)
        info = {"kind": "model", "name": model.name, "sha256": model.sha256, "unscored_reason": None}
        scores, raw_pred = _score_rows(model, adapter, frame, task, batch_name, info)
        if task == "multiclass":
            return scores, label_texts(raw_pred), info
    if task == "binary":
        positive = ref["positive_label"]
        negative = next((c for c in ref["classes"] if c != positive), "not " + str(positive))
        pred = np.where(scores >= threshold, positive, negative).astype(object)
    else:
        pred = scores
    return scores, pred, info


def _score_rows(model, adapter, frame: pd.DataFrame, task: str, batch_name: str, info: dict):
    """Scores of every row; when the model refuses rows with missing values (many do), the
    complete rows are scored and the others left unscored (NaN), with the reason in ``info``."""
    from readiness.inputs.models import check_first_score

    def score(rows):
        check_first_score(model, adapter, rows)  # the first scoring runs in the isolated child
        s = np.asarray(adapter.scores(rows), dtype=float)
        return s, (np.asarray(adapter.predict(rows), dtype=object) if task == "multiclass" else None)

    try:
        return score(frame)
    except E.ReadinessError:
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300]
        complete = frame[adapter.features].notna().all(axis=1).to_numpy()
        if complete.all() or not complete.any():
            raise E.ModelError(E.MONITOR_PREDICT_FAILED.format(name=batch_name, detail=detail)) from None
        try:
            s_ok, p_ok = score(frame[complete])
        except E.ReadinessError:
            raise
        except Exception:
            raise E.ModelError(E.MONITOR_PREDICT_FAILED.format(name=batch_name, detail=detail)) from None
    scores = np.full((len(frame), *s_ok.shape[1:]), np.nan)
    scores[complete] = s_ok
    pred = None
    if p_ok is not None:
        pred = np.full(len(frame), None, dtype=object)
        pred[complete] = p_ok
    info["unscored_reason"] = "the model cannot score rows with missing values in its features"
    return scores, pred


# --- the tests ----------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    id: str
    kind: str
    subject: str | None
    statistic: str
    value: float
    null: object  # callable(sims, rng) -> array of simulated values
    describe: object  # callable(value, threshold, p) -> message
    evidence: dict


def feature_stats(ref: dict, frame: pd.DataFrame) -> dict:
    """Per reference feature in the batch: its bin counts, the values the review never saw and the mean."""
    out = {}
    for f, prof in ref["features"].items():
        if f not in frame.columns:
            continue
        counts = bin_counts(prof, frame[f])
        st: dict = {"counts": counts}
        if prof["kind"] == "categorical":
            u = prof["labels"].index(UNSEEN_BIN)
            if counts[u]:
                idx = bin_index(prof, frame[f])
                vals = pd.Series(label_texts(frame[f].to_numpy()[idx == u])).value_counts()
                st["unseen_values"] = {str(k): int(v) for k, v in vals.head(MAX_UNSEEN_LISTED).items()}
        else:
            v = pd.to_numeric(frame[f], errors="coerce")
            st["mean"] = float(v.mean()) if v.notna().any() else None
        out[f] = st
    return out


def _feature_tests(ref: dict, feats: dict, n: int) -> tuple[list[_Pending], dict]:
    pending, out = [], {}
    for f, prof in ref["features"].items():
        if f not in feats:
            continue
        counts = feats[f]["counts"]
        rc = np.asarray(prof["counts"], dtype=float)
        r_share, b_share = rc / max(rc.sum(), 1), counts / max(n, 1)
        labels = prof["labels"]
        moved = int(np.argmax(np.abs(b_share - r_share)))
        info = {"psi": S.psi(rc, counts), "bins": labels, "reference_share": r_share.tolist(),
                "batch_share": b_share.tolist(), "largest_shift_bin": labels[moved],
                "largest_shift": float(b_share[moved] - r_share[moved]),
                "missing_share_reference": float(r_share[-1]), "missing_share": float(b_share[-1])}
        if prof["kind"] == "categorical":
            u = labels.index(UNSEEN_BIN)
            info["unseen_share"] = float(b_share[u])
            if counts[u]:
                info["unseen_values"] = feats[f]["unseen_values"]
        else:
            info["mean_reference"], info["mean"] = prof.get("mean"), feats[f]["mean"]
            if prof.get("sd") and info["mean"] is not None and prof.get("mean") is not None:
                info["mean_shift_sd"] = (info["mean"] - prof["mean"]) / prof["sd"]
        out[f] = info

        def describe(value, thr, p, f=f, info=info, moved=moved):
            text = (f"'{f}' drifted: PSI {value:.3f}, above the alert threshold {thr:.3f} for a batch of {n:,} rows; "
                    f"the share of '{info['largest_shift_bin']}' moved from {pct(info['reference_share'][moved])} "
                    f"to {pct(info['batch_share'][moved])}")
            if info["missing_share"] - info["missing_share_reference"] > 0.01:
                text += f"; missing values {pct(info['missing_share_reference'])} → {pct(info['missing_share'])}"
            if info.get("unseen_values"):
                text += (f"; {pct(info['unseen_share'])} of rows hold values the review never saw ("
                         + ", ".join(f"'{k}'" for k in info["unseen_values"]) + ")")
            if info.get("mean_shift_sd") is not None and abs(info["mean_shift_sd"]) >= 0.1:
                text += f"; the mean moved by {info['mean_shift_sd']:+.2f} standard deviations"
            return text + "."

        pending.append(_Pending(f"feature_drift:{f}", "feature_drift", f, "psi", info["psi"],
                                lambda sims, rng, rc=rc: S.psi_null(rc, n, sims, rng), describe,
                                {"psi": info["psi"], "largest_shift_bin": info["largest_shift_bin"]}))
    return pending, out


@dataclass(frozen=True)
class BatchInfo:
    """The batch as the result names it: its name, digest and rows."""

    name: str
    sha256: str
    rows: int


def monitor_batch(review: SignedReview, batch, *, model=None, target: str | None = None,
                  seed: int = 0) -> MonitorResult:
    """Check one batch (a :class:`readiness.inputs.tables.Table`) against a signed review.

    Raises a one-line :class:`ReadinessError` for bad input (a model other than the reviewed
    one, a batch without the model's features, a target column that is not there)."""
    ref = review.reference
    frame = batch.frame.reset_index(drop=True)
    scores, pred, model_info = _score(review, frame, model, batch.name)
    ok = ~np.isnan(scores) if scores.ndim == 1 else ~np.isnan(scores).any(axis=1)
    if not ok.any():
        raise E.ReadinessError(E.MONITOR_BATCH_NO_SCORES.format(name=batch.name))
    labels_y = None
    if target is not None:
        if target not in frame.columns:
            raise E.ReadinessError(E.MONITOR_TARGET_MISSING.format(target=target, name=batch.name))
        labels_y = frame[target]
    st = batch_stats(ref, frame, scores, pred, ok, labels_y)
    return monitor_stats(review, BatchInfo(batch.name, batch.sha256, len(batch.frame)), st, model_info, seed=seed)


def batch_stats(ref: dict, frame: pd.DataFrame, scores: np.ndarray, pred: np.ndarray, ok: np.ndarray,
                labels_y: pd.Series | None) -> dict:
    """Everything the tests need from the batch's rows: counts, sums and means (the same numbers an
    engine merges from partition summaries, :mod:`readiness.engines.monitor`)."""
    task = ref["task"]
    st: dict = {"features": feature_stats(ref, frame)}  # every row: missing values are drift too
    frame, scores, pred = frame[ok].reset_index(drop=True), scores[ok], pred[ok]
    st["n"] = n = len(frame)
    conf = confidence(task, scores)
    bins = score_bins(ref["scores"]["edges"], conf)
    st["score_counts"] = np.bincount(bins, minlength=len(ref["scores"]["counts"]))
    st["conf_mean"] = float(np.mean(conf))
    if task == "binary":
        st["flagged_share"] = float(np.mean(scores >= ref["threshold"]))
    band = ref.get("band")
    if band:
        in_band = (conf > band["lower"]) & (conf < band["upper"])
        st["band_share"], st["band_rows"] = float(in_band.mean()), int(in_band.sum())
    cmap = ref.get("calibration_map")
    if cmap and task != "regression":
        q = correct_probability(task, conf, cmap, ref.get("threshold"))
        st["q_mean"], st["q_var_sum"] = float(q.mean()), float(np.sum(q * (1 - q)))
        if task == "binary":  # expected cost: each decision's chance of being a false positive / negative
            p_pos = apply_map(cmap, scores)
            flagged = scores >= ref["threshold"]
            cost = np.where(flagged, (1 - p_pos) * ref["cost_fp"], p_pos * ref["cost_fn"])
            st["expected_cost_mean"] = float(cost.mean())
    if labels_y is not None:
        st["realised"] = _realised_stats(ref, task, frame, scores, pred, labels_y[ok].reset_index(drop=True), n)
    return st


def monitor_stats(review: SignedReview, batch: BatchInfo, st: dict, model_info: dict, *, seed: int = 0
                  ) -> MonitorResult:
    """The tests, their thresholds and the result, from the batch's statistics (:func:`batch_stats`)."""
    ref = review.reference
    task = ref["task"]
    pending, features = _feature_tests(ref, st["features"], batch.rows)
    n = st["n"]
    sc = ref["scores"]
    rc = np.asarray(sc["counts"], dtype=float)
    n_ref = int(rc.sum())
    counts = st["score_counts"]
    predictions = {"psi": S.psi(rc, counts), "kind": sc["kind"], "reference_share": (rc / n_ref).tolist(),
                   "batch_share": (counts / n).tolist(), "edges": sc["edges"], "mean": st["conf_mean"],
                   "mean_reference": float(np.sum(rc * _bin_mids(sc["edges"], st["conf_mean"])) / n_ref)}
    if task == "binary":
        predictions["flagged_share"] = st["flagged_share"]
        perf = ref["performance"]
        predictions["flagged_share_reference"] = (perf["tp"] + perf["fp"]) / n_ref
    pending.append(_Pending(
        "prediction_drift", "prediction_drift", None, "psi", predictions["psi"],
        lambda sims, rng: S.psi_null(rc, n, sims, rng),
        lambda v, thr, p: (f"The model's scores drifted: PSI {v:.3f}, above the alert threshold {thr:.3f}"
                           + (f"; share flagged {pct(predictions['flagged_share_reference'])} → "
                              f"{pct(predictions['flagged_share'])}" if task == "binary" else "") + "."),
        {"psi": predictions["psi"]}))
    band = ref.get("band")
    if band:
        predictions["band"] = {"lower": band["lower"], "upper": band["upper"], "share_reference": band["share"],
                               "share": st["band_share"], "rows": st["band_rows"]}
        rise = predictions["band"]["share"] - band["share"]
        pending.append(_Pending(
            "review_band", "review_band", None, "share rise", rise,
            lambda sims, rng: S.share_rise_null(band["rows"], n_ref, n, sims, rng),
            lambda v, thr, p: (f"More cases fall in the human-review band ({band['lower']:.3g}–{band['upper']:.3g}): "
                               f"{pct(band['share'])} in the review, {pct(predictions['band']['share'])} in this batch "
                               f"(+{100 * v:.1f} points; alert above +{100 * thr:.1f}). Plan for more manual reviews."),
            {"share": predictions["band"]["share"], "share_reference": band["share"]}))
    estimated = _estimate(ref, task, st, rc, n, n_ref, pending)
    realised = None
    if "realised" in st:
        realised = _realised(ref, task, st["realised"], n_ref, pending)
    return _finish(review, batch, n, model_info, pending, features, predictions, estimated, realised, seed)


def _bin_mids(edges: list[float], mean: float) -> np.ndarray:
    """A representative value per score bin (bin middles; the outer bins' inner edge)."""
    e = np.asarray(edges, dtype=float)
    if len(e) == 0:
        return np.array([mean])
    mids = (e[:-1] + e[1:]) / 2
    return np.concatenate([[e[0]], mids, [e[-1]]])


def _estimate(ref, task, st, rc, n, n_ref, pending) -> dict:
    cmap = ref.get("calibration_map")
    if not cmap or task == "regression":
        return {}
    sc = ref["scores"]
    rate_key = "positives" if task == "binary" else "correct"
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(rc > 0, np.asarray(sc[rate_key], float) / np.maximum(rc, 1), 0.5)
        q_bin = np.where(rc > 0, np.asarray(sc["expected_correct"], float) / np.maximum(rc, 1),
                         ref["performance"]["estimated_accuracy"])
    est, ci = S.cbpe_from(st["q_mean"], st["q_var_sum"], st["score_counts"], n, rc, rate)
    ref_est = ref["performance"]["estimated_accuracy"]
    out = {"accuracy": est, "accuracy_ci": ci, "reference_accuracy": ref["performance"]["accuracy"],
           "reference_estimated_accuracy": ref_est, "method": "CBPE (calibrated probability of being right)"}
    if task == "binary":
        out["cost_per_1000"] = 1000 * st["expected_cost_mean"]
        out["reference_cost_per_1000"] = ref["performance"]["cost_per_1000"]
    drop = ref_est - est
    pending.append(_Pending(
        "estimated_accuracy", "estimated_accuracy", None, "accuracy drop", drop,
        lambda sims, rng: S.mean_drop_null(rc, q_bin, n, sims, rng),
        lambda v, thr, p: (f"Estimated accuracy fell: {pct(est)} (95% interval {pct(ci[0])}–{pct(ci[1])}), estimated "
                           f"from the calibrated scores without labels, against {pct(ref_est)} estimated the same way on the "
                           f"review's holdout "
                           f"(−{100 * v:.1f} points; alert beyond −{100 * thr:.1f})."),
        {"estimated_accuracy": est, "reference": ref_est}))
    return out


def _realised_stats(ref, task, frame, scores, pred, y_raw, n) -> dict:
    """The labelled rows' counts: correct predictions, ROC AUC, costs and each group's confusion counts."""
    lab = y_raw.notna().to_numpy()
    y_text = label_texts(y_raw)
    known = set(ref["classes"])
    st: dict = {"target": y_raw.name, "labelled": int(lab.sum())}
    if task != "regression":
        st["unknown"] = sorted({v for v in y_text[lab] if v not in known})
        if st["unknown"]:
            return st
    if st["labelled"] == 0:
        return st
    if task == "regression":
        err = np.abs(scores[lab] - pd.to_numeric(y_raw[lab], errors="coerce").to_numpy(float))
        st["mae"] = float(err.mean())
        return st
    st["correct"] = int((y_text[lab] == np.asarray(pred, dtype=object)[lab].astype(str)).sum())
    if task == "binary":
        from readiness.checks.bias_stats import hanley_mcneil_auc
        from readiness.checks.comparison_stats import mean_ci

        yb = (y_text[lab] == ref["positive_label"]).astype(int)
        s = scores[lab]
        flagged = (s >= ref["threshold"]).astype(int)
        st["roc_auc"], st["roc_auc_ci"] = hanley_mcneil_auc(yb, s)
        cfp, cfn = ref["cost_fp"], ref["cost_fn"]
        cost = 1000 * (np.where((flagged == 1) & (yb == 0), cfp, 0.0) + np.where((flagged == 0) & (yb == 1), cfn, 0.0))
        st["cost_per_1000"], st["cost_per_1000_ci"] = float(cost.mean()), mean_ci(cost)
        st["groups"] = _group_stats(ref.get("groups") or {}, frame[lab].reset_index(drop=True), yb, flagged)
    return st


def _group_stats(groups_in: dict, frame: pd.DataFrame, yb: np.ndarray, flagged: np.ndarray) -> dict:
    """Per sensitive group of the reference: the batch's rates (the bias review's ``rate_stats``)."""
    out: dict = {}
    for attr, spec_groups in groups_in.items():
        spec = spec_groups["spec"]
        if spec["column"] not in frame.columns:
            continue
        labels = group_labels(spec, frame[spec["column"]])
        out[attr] = {g: rate_stats(yb[labels == g], flagged[labels == g], bootstrap=False)
                     for g in spec_groups["groups"] if (labels == g).any()}
    return out


def _realised(ref, task, st, n_ref, pending) -> dict:
    known = set(ref["classes"])
    if st.get("unknown"):
        raise E.ReadinessError(E.MONITOR_TARGET_LABELS.format(target=st["target"], name="the batch",
                                                              values=st["unknown"][:5], classes=sorted(known)))
    nl = st["labelled"]
    out: dict = {"labelled_rows": nl}
    if nl == 0:
        return out
    perf = ref["performance"]
    if task == "regression":
        out["mae"], out["reference_mae"] = st["mae"], perf["mae"]
        return out
    acc, acc_ci = prop(st["correct"], nl)
    out.update({"accuracy": acc, "accuracy_ci": acc_ci, "reference_accuracy": perf["accuracy"]})
    err_ref = int(round((1 - perf["accuracy"]) * n_ref))
    pending.append(_Pending(
        "accuracy", "accuracy", None, "error rate rise", perf["accuracy"] - acc,
        lambda sims, rng: S.share_rise_null(err_ref, n_ref, nl, sims, rng),
        lambda v, thr, p: (f"Accuracy on this batch's labels is {pct(acc)} ({pct(acc_ci[0])}–{pct(acc_ci[1])}) against "
                           f"{pct(perf['accuracy'])} in the review (−{100 * v:.1f} points; alert beyond "
                           f"−{100 * thr:.1f})."), {"accuracy": acc, "reference": perf["accuracy"]}))
    if task == "binary":
        out["roc_auc"], out["roc_auc_ci"] = st["roc_auc"], st["roc_auc_ci"]
        for k in ("roc_auc_max_error", "roc_auc_bins"):  # an engine's AUC from score histograms
            if k in st:
                out[k] = st[k]
        out["reference_roc_auc"] = perf.get("roc_auc")
        cfp, cfn = ref["cost_fp"], ref["cost_fn"]
        out["cost_per_1000"], out["cost_per_1000_ci"] = st["cost_per_1000"], st["cost_per_1000_ci"]
        out["reference_cost_per_1000"] = perf["cost_per_1000"]
        if (cfp, cfn) != (1.0, 1.0):
            cells = [perf["tp"], perf["fp"], perf["fn"], perf["tn"]]
            rise = out["cost_per_1000"] - perf["cost_per_1000"]
            pending.append(_Pending(
                "cost", "cost", None, "cost per 1,000 rise", rise,
                lambda sims, rng: 1000 * S.cells_rise_null(cells, [0.0, cfp, cfn, 0.0], nl, sims, rng),
                lambda v, thr, p: (f"Cost per 1,000 decisions on this batch's labels is {out['cost_per_1000']:,.0f} "
                                   f"against {perf['cost_per_1000']:,.0f} in the review (+{v:,.0f}; alert above "
                                   f"+{thr:,.0f})."), {"cost_per_1000": out["cost_per_1000"]}))
        out["groups"] = _group_rates(ref.get("groups") or {}, st["groups"], pending)
    return out


def _group_rates(groups_in: dict, stats: dict, pending: list) -> dict:
    """Per sensitive group of the reference: the batch's rates (the bias review's ``rate_stats``)
    and a test of its error rate against the group's error rate in the review."""
    out: dict = {}
    for attr, spec_groups in groups_in.items():
        if attr not in stats:
            continue
        rows = {}
        for g, rg in spec_groups["groups"].items():
            if g not in stats[attr]:
                continue
            st = stats[attr][g]
            ref_err = rg["fp"] + rg["fn"]
            ref_rate = ref_err / rg["n"]
            row = {k: st[k] for k in ("n", "tp", "fp", "fn", "tn", "selection_rate", "selection_rate_ci", "tpr",
                                      "tpr_ci", "fpr", "fpr_ci", "fnr", "fnr_ci", "accuracy", "accuracy_ci")}
            row["reference_n"], row["reference_error_rate"] = rg["n"], ref_rate
            row["error_rate"] = 1 - st["accuracy"]
            rows[g] = row
            if st["n"] >= SMALL_GROUP and rg["n"] >= SMALL_GROUP:
                rise = row["error_rate"] - ref_rate
                pending.append(_Pending(
                    f"group_error:{attr}={g}", "group_error", f"{attr} = {g}", "error rate rise", rise,
                    lambda sims, rng, e=ref_err, nr=rg["n"], nb=st["n"]: S.share_rise_null(e, nr, nb, sims, rng),
                    lambda v, thr, p, a=attr, g=g, row=row: (
                        f"Errors rose for {a} = {g}: error rate {pct(row['reference_error_rate'])} in the review, "
                        f"{pct(row['error_rate'])} in this batch ({row['n']:,} labelled rows; +{100 * v:.1f} points, "
                        f"alert above +{100 * thr:.1f})."), {"error_rate": row["error_rate"]}))
        out[attr] = rows
    return out


def _finish(review, batch, n_scored, model_info, pending, features, predictions, estimated, realised,
            seed) -> MonitorResult:
    k = len(pending)
    alpha_each = S.ALPHA / k
    sims = S.simulations_for(alpha_each)
    rng = np.random.default_rng(seed)
    tests = []
    for t in pending:
        null = np.asarray(t.null(sims, rng), dtype=float)
        thr = S.upper_threshold(null, alpha_each)
        p = S.p_value(null, t.value)
        fired = bool(t.value > thr)
        msg = t.describe(t.value, thr, p) if fired else _quiet(t, thr)
        tests.append(MonitorTest(id=t.id, kind=t.kind, subject=t.subject, statistic=t.statistic, value=t.value,
                                 threshold=thr, p_value=p, fired=fired, message=msg, evidence=t.evidence))
    for f, info in features.items():
        t = next(x for x in tests if x.id == f"feature_drift:{f}")
        info.update({"threshold": t.threshold, "p_value": t.p_value, "alert": t.fired})
    t = next(x for x in tests if x.id == "prediction_drift")
    predictions.update({"threshold": t.threshold, "p_value": t.p_value, "alert": t.fired})
    tests, conditions = map_conditions(tests, review.conditions)
    alerts = [t for t in tests if t.fired]
    summary = _summary(alerts, k, batch, estimated, realised)
    unscored = batch.rows - n_scored
    if unscored:
        summary += (f" {unscored:,} row{'s' if unscored > 1 else ''} ({pct(unscored / batch.rows)}) could not be "
                    f"scored: {model_info.get('unscored_reason') or 'the score is missing'}; only the feature checks "
                    "include them.")
    return MonitorResult(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"), status="alert" if alerts else "ok",
        summary=summary, review=review.identity(), model=model_info,
        batch={"name": batch.name, "sha256": batch.sha256, "rows": batch.rows, "scored_rows": n_scored,
               "labelled_rows": (realised or {}).get("labelled_rows", 0)},
        alpha=S.ALPHA, alpha_each=alpha_each, simulations=sims, tests=tests, features=features,
        predictions=predictions, estimated=estimated, realised=realised, conditions=conditions)


def _quiet(t: _Pending, thr: float) -> str:
    what = {"feature_drift": f"'{t.subject}' PSI", "prediction_drift": "score PSI",
            "review_band": "rise of the review-band share", "estimated_accuracy": "estimated accuracy drop",
            "accuracy": "accuracy drop", "cost": "cost rise per 1,000", "group_error": f"{t.subject} error-rate rise"}
    return f"{what.get(t.kind, t.kind)} {t.value:+.3g} within the alert threshold {thr:.3g}."


def _summary(alerts: list[MonitorTest], k: int, batch, estimated: dict, realised: dict | None) -> str:
    est = ""
    if estimated.get("accuracy") is not None:
        est = (f"estimated accuracy {pct(estimated['accuracy'])} (review's holdout, estimated the same way: "
               f"{pct(estimated['reference_estimated_accuracy'])})")
    if realised and realised.get("accuracy") is not None:
        est += ("; " if est else "") + f"accuracy on labels {pct(realised['accuracy'])}"
    if not alerts:
        return f"No alert: {k} tests of {batch.rows:,} rows against the signed review" + (f"; {est}." if est else ".")
    names = "; ".join(a.message.split(":")[0] if a.kind == "feature_drift" else a.message.split(":")[0].split(" (")[0]
                      for a in alerts[:4])
    more = f" and {len(alerts) - 4} more" if len(alerts) > 4 else ""
    return (f"{len(alerts)} alert{'s' if len(alerts) > 1 else ''} of {k} tests on {batch.rows:,} rows: "
            f"{names}{more}" + (f"; {est}." if est else "."))
