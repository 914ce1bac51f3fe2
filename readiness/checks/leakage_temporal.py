"""Temporal leakage (leakage.temporal): the holdout must come after training, and no
date-like feature may lie after the row's own time (Peek-a-Boo)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness.checks.leakage import _listed, _looks_like_time
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.inputs.roles import parse_time
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity

TEMPORAL_FAIL_SHARE = 0.10  # ≥ 10% of holdout rows before the end of training: not a forward split
PEEK_FAIL_SHARE = 0.01
TIMELINE_BINS = 40
MAX_EARLY_ROWS = 200


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
                    f"'{col}' lies after the row's own '{tcol}' in {n_after:,} rows ({_pct(share)}): the feature is "
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
            parts.append(f"{len(peek_bad)} date column{'s' if len(peek_bad) != 1 else ''} hold{'s' if len(peek_bad) == 1 else ''} values from after the row's own time "
                         f"({_listed(peek_bad)})")
        summary = "; ".join(parts) + ": the model is partly graded with knowledge of the future."
    return Outcome(summary=summary, findings=findings, metrics=metrics)
