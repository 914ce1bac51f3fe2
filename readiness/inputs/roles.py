"""Guess column roles from a table, so Setup can pre-fill them for confirmation."""

from __future__ import annotations

import re
import warnings

import pandas as pd

TARGET_NAMES = ("target", "label", "y", "class", "outcome", "default", "churn", "churned", "is_fraud", "fraud")
TIME_HINT = re.compile(r"(date|time|timestamp|_at$|^at_|month|year|period)", re.I)
ID_HINT = re.compile(r"(^id$|_id$|^id_|uuid|key$|number$)", re.I)
PRED_HINT = re.compile(r"(score|prob|proba|prediction|pred)", re.I)
SENSITIVE_HINT = re.compile(r"^(sex|gender|race|ethnicity|age_group|age_band|religion|nationality|marital_status|disability)$", re.I)


def looks_like_time(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series):
        return False
    sample = series.dropna().astype(str).head(200)
    if sample.empty:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def guess_roles(frame: pd.DataFrame) -> dict:
    """Best guesses for target, time, ID, prediction and sensitive columns (may be None/empty)."""
    cols = list(frame.columns)
    lower = {c.lower(): c for c in cols}
    target = next((lower[n] for n in TARGET_NAMES if n in lower), None)
    time_cols = [c for c in cols if TIME_HINT.search(c) and looks_like_time(frame[c])]
    if not time_cols:
        time_cols = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c]) and looks_like_time(frame[c])]
    n = len(frame)
    id_cols = [c for c in cols if ID_HINT.search(c) and frame[c].nunique() > 0.9 * n]
    pred_cols = [c for c in cols if PRED_HINT.search(c) and c != target and pd.api.types.is_numeric_dtype(frame[c])
                 and frame[c].between(0, 1).all()]
    sensitive = [c for c in cols if SENSITIVE_HINT.match(c)]
    return {
        "target": target,
        "time_column": time_cols[0] if time_cols else None,
        "id_column": id_cols[0] if id_cols else None,
        "prediction_column": pred_cols[0] if pred_cols else None,
        "sensitive": sensitive,
    }


def parse_time(series: pd.Series) -> tuple[pd.Series, str]:
    """A time column as datetimes (kind 'datetime') or plain numbers (kind 'number').

    Text is parsed as dates (a mixed-format pass when the plain one fails on more than
    5% of values); time zones are converted to UTC and dropped. Unparseable values are NaT.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        s = series
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.astype("datetime64[ns]"), "datetime"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float), "number"
    text = series.astype("string")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce")
        ok = series.notna()
        if ok.any() and parsed[ok].isna().mean() > 0.05:
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]"), "datetime"
