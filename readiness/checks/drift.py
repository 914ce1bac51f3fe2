"""Set & forget: distribution drift between training and holdout, and the data's age."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from readiness.fmt import counted
from readiness.inputs.context import ReviewContext
from readiness.inputs.roles import parse_time
from readiness.registry import Outcome, register
from readiness.results import Finding, Severity

PSI_MODERATE = 0.10
PSI_MAJOR = 0.25
DRIFT_P = 0.05  # a PSI above the material level is flagged only when chance is rejected at this level
EPS = 1e-4
STALE_DAYS = 365
MAX_CATEGORIES = 50
SPIKE_SHARE = 0.10  # a single value with at least this share of training values gets its own bin


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, float), EPS, None)
    a = np.clip(np.asarray(actual, float), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_chance(expected: np.ndarray, actual: np.ndarray, n_train: int, n_test: int) -> tuple[float, float]:
    """What chance gives: (expected PSI, p-value) when training and holdout are draws from one distribution.

    The p-value is Pearson's χ² homogeneity test of the binned counts (bins empty on both sides left out),
    with (non-empty bins − 1) degrees of freedom. PSI itself is not the statistic: for small differences
    PSI / (1/n_train + 1/n_test) is close to Pearson's χ², but a bin empty on one side makes PSI grow with
    log(1/EPS) — one empty holdout bin of ten on 54 rows gives PSI ≈ 0.7, which the χ² of PSI called
    certain drift (p < 0.0001) on random splits of scikit-learn's wine data, while the counts themselves are
    what chance gives (Pearson p ≈ 0.08; issue 18). The expected PSI under no drift is
    (bins − 1)(1/n_train + 1/n_test) — 0.08 for 10 bins on 400 and 170 rows."""
    from scipy import stats

    counts = np.vstack([np.round(np.asarray(expected, float) * n_train), np.round(np.asarray(actual, float) * n_test)])
    counts = counts[:, counts.sum(axis=0) > 0]
    scale = 1 / max(n_train, 1) + 1 / max(n_test, 1)
    df = max(counts.shape[1] - 1, 1)
    if counts.shape[1] < 2 or (counts.sum(axis=1) == 0).any():
        return df * scale, 1.0
    return df * scale, float(stats.chi2_contingency(counts, correction=False).pvalue)


def binned_shares(train: pd.Series, test: pd.Series, bins: int = 10) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Shares of training and holdout values per bin: training deciles for numbers (plus a
    'missing' bin; a value holding ≥ 10% of training values, such as the zeros of a
    zero-inflated feature, gets its own bin and the deciles cover the rest), categories for
    text (the rarest beyond 50 pooled as 'other')."""
    labels, e, a = binned_counts(train, test, bins)
    return labels, e / max(len(train), 1), a / max(len(test), 1)


def numeric_bins(known: pd.Series, bins: int = 10) -> tuple[float | None, np.ndarray]:
    """(spike, inner edges) of a number's bins from its known training values: a value holding at least
    one bin's share gets its own bin (spike), the deciles (numpy's linear quantiles) of the others."""
    # a value holding at least one bin's share (Adult's capital_gain: 92% zeros) would swallow the
    # deciles: it gets its own bin and the deciles are taken over the other values
    spike = None
    if len(known):
        top = known.value_counts(normalize=True)
        if top.iloc[0] >= SPIKE_SHARE:
            spike = float(top.index[0])
    rest = known[known != spike] if spike is not None else known
    edges = np.unique(np.nanquantile(rest, np.linspace(0, 1, bins + 1))) if len(rest) else np.array([])
    return spike, edges[1:-1]


def numeric_labels(spike: float | None, inner: np.ndarray) -> list[str]:
    other = "all other values" if spike is not None else "all values"
    labels = [f"= {spike:.4g}"] if spike is not None else []
    labels += [f"< {inner[0]:.4g}"] if len(inner) else [other]
    labels += [f"{lo:.4g} – {hi:.4g}" for lo, hi in zip(inner[:-1], inner[1:], strict=True)]
    if len(inner):
        labels.append(f"≥ {inner[-1]:.4g}")
    labels.append("missing")
    return labels


def numeric_counts(v: np.ndarray, spike: float | None, inner: np.ndarray) -> np.ndarray:
    """Counts of float values per bin of :func:`numeric_labels` (spike, inner-edge bins, missing)."""
    offset = 1 if spike is not None else 0
    idx = offset + np.searchsorted(inner, v, side="right")
    if spike is not None:
        idx = np.where(v == spike, 0, idx)
    idx = np.where(np.isnan(v), offset + len(inner) + 1, idx)
    return np.bincount(idx, minlength=offset + len(inner) + 2)


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def binned_counts(train: pd.Series, test: pd.Series, bins: int = 10) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`binned_shares` as counts of rows per bin."""
    if is_numeric(train):
        tr, te = pd.to_numeric(train, errors="coerce"), pd.to_numeric(test, errors="coerce")
        spike, inner = numeric_bins(tr.dropna(), bins)
        return (numeric_labels(spike, inner), numeric_counts(tr.to_numpy(float), spike, inner),
                numeric_counts(te.to_numpy(float), spike, inner))
    tr, te = _as_text(train), _as_text(test)
    top = tr.value_counts().index[:MAX_CATEGORIES].tolist()
    tr = tr.where(tr.isin(top), "(other)")
    te = te.where(te.isin(top), "(other)")
    # the distinct values, not every row: iterating a pyarrow-backed column in Python costs seconds at 1M rows
    labels = sorted(set(tr.unique()) | set(te.unique()))
    e = tr.value_counts().reindex(labels, fill_value=0).to_numpy()
    a = te.value_counts().reindex(labels, fill_value=0).to_numpy()
    return labels, e, a


def _as_text(s: pd.Series) -> pd.Series:
    """A column's values as text, missing ones as '(missing)'. A string column stays in its own (pyarrow)
    storage: the round trip through Python objects costs most of the binning at a million rows."""
    if isinstance(s.dtype, pd.StringDtype):
        return s.fillna("(missing)")
    return s.astype("object").where(s.notna(), "(missing)").astype(str)


@register("drift.features", title="Drift between training and holdout", area="data_quality",
          antipatterns=("set_and_forget",), order=12)
def feature_drift(ctx: ReviewContext) -> Outcome:
    """Population stability index (PSI) of every feature between training and holdout
    (training deciles for numbers, categories for text, missing values as their own bin),
    the target's drift, and — with a time column — how old the newest training row is."""
    cols = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    binned = {col: binned_counts(ctx.train[col], ctx.test[col]) for col in cols}
    if ctx.task != "regression":
        target = binned_counts(ctx.y_train.astype(str), ctx.y_test.astype(str))
    else:
        target = binned_counts(ctx.y_train, ctx.y_test)
    return drift_outcome(ctx, binned, target, len(ctx.train), len(ctx.test), data_age(ctx))


def data_age(ctx: ReviewContext) -> dict:
    """The first and last times of training and holdout, and the newest training row's age in days."""
    age: dict = {}
    if ctx.roles.time_column:
        t_train, kind = parse_time(ctx.train[ctx.roles.time_column])
        t_test, _ = parse_time(ctx.test[ctx.roles.time_column])
        t_train, t_test = t_train.dropna(), t_test.dropna()
        if kind == "datetime" and len(t_train) and len(t_test):
            now = datetime.now(UTC).replace(tzinfo=None)
            newest = t_train.max()
            age = {"train_start": t_train.min().isoformat(), "train_end": newest.isoformat(),
                   "test_start": t_test.min().isoformat(), "test_end": t_test.max().isoformat(),
                   "data_age_days": int((pd.Timestamp(now) - newest).days)}
    return age


def drift_outcome(ctx: ReviewContext, binned: dict, target_bins: tuple, n_tr: int, n_te: int, age: dict) -> Outcome:
    """The check's verdict from counts: ``binned`` feature -> (bin labels, training counts, holdout counts),
    ``target_bins`` the same for the target, on ``n_tr`` training and ``n_te`` holdout rows; ``age``
    from :func:`data_age`."""
    findings: list[Finding] = []
    features: dict[str, dict] = {}
    cols = list(binned)
    for col, (labels, ce, ca) in binned.items():
        e, a = np.asarray(ce) / max(n_tr, 1), np.asarray(ca) / max(n_te, 1)
        value = psi(e, a)
        moved = int(np.argmax(np.abs(a - e)))
        expected, p_value = psi_chance(e, a, n_tr, n_te)
        features[col] = {"psi": value, "bins": labels, "train_share": e.tolist(), "test_share": a.tolist(),
                         "largest_shift_bin": labels[moved], "largest_shift": float(a[moved] - e[moved]),
                         "chance_psi": expected, "p_value": p_value,
                         "p_value_adjusted": min(1.0, p_value * max(len(cols), 1))}
    ranked = sorted(features, key=lambda c: -features[c]["psi"])
    # a shift is flagged when it is material (PSI >= 0.1) and beyond chance (χ² homogeneity test,
    # Bonferroni over the features): on small splits chance alone reaches PSI 0.1 (issue 18)
    beyond = {c for c in ranked if features[c]["p_value_adjusted"] < DRIFT_P}
    major = [c for c in ranked if features[c]["psi"] >= PSI_MAJOR and c in beyond]
    moderate = [c for c in ranked if PSI_MODERATE <= features[c]["psi"] < PSI_MAJOR and c in beyond]
    chance_only = [c for c in ranked if features[c]["psi"] >= PSI_MODERATE and c not in beyond]
    if chance_only:
        findings.append(Finding(severity=Severity.INFO, columns=chance_only, message=(
            f"{counted(len(chance_only), 'feature')} reach{'es' if len(chance_only) == 1 else ''} PSI {PSI_MODERATE} ("
            + ", ".join(f"'{c}' {features[c]['psi']:.2f}" for c in chance_only[:5])
            + (f", and {len(chance_only) - 5} more" if len(chance_only) > 5 else "")
            + f") but no more than chance gives on {n_tr:,} training and {n_te:,} holdout rows (about "
            f"{features[chance_only[0]]['chance_psi']:.2f} on average; adjusted p >= {DRIFT_P}): no sign of drift."),
            evidence={c: {"psi": features[c]["psi"], "chance_psi": features[c]["chance_psi"],
                          "p_value_adjusted": features[c]["p_value_adjusted"]} for c in chance_only}))
    for c in major + moderate:
        f = features[c]
        word = "shifted a lot" if c in major else "shifted"
        findings.append(Finding(severity=Severity.WARN, columns=[c], message=(
            f"'{c}' has {word} between training and holdout (PSI {f['psi']:.2f}): the share of "
            f"'{f['largest_shift_bin']}' moved by {100 * f['largest_shift']:+.1f} points. The model meets data unlike "
            "what it learned from; check whether production looks like the holdout."),
            evidence={"psi": f["psi"], "bin": f["largest_shift_bin"], "shift": f["largest_shift"]}))
    labels, ce, ca = target_bins
    e, a = np.asarray(ce) / max(n_tr, 1), np.asarray(ca) / max(n_te, 1)
    target = {"psi": psi(e, a), "labels": labels, "train_share": e.tolist(), "test_share": a.tolist()}
    target["chance_psi"], target["p_value"] = psi_chance(target["train_share"], target["test_share"], n_tr, n_te)
    if target["psi"] >= PSI_MODERATE and target["p_value"] < DRIFT_P:
        findings.append(Finding(severity=Severity.WARN, columns=[ctx.target], message=(
            f"The outcome itself drifted between training and holdout (PSI {target['psi']:.2f}): "
            + ("its distribution changes over time, so calibration may need revisiting." if ctx.task == "regression"
               else "base rates change over time, so thresholds and calibration may need revisiting.")),
            evidence={"psi": target["psi"]}))
    if age.get("data_age_days", 0) > STALE_DAYS:
        findings.append(Finding(severity=Severity.WARN, columns=[ctx.roles.time_column], message=(
            f"The newest training row is {age['data_age_days']} days old: the world may have moved on. "
            "Check recent data before deploying, and plan retraining."), evidence=age))
    metrics = {"features": features, "ranked": ranked, "major_drift": major, "moderate_drift": moderate,
               "target": target, "age": age, "thresholds": {"moderate": PSI_MODERATE, "major": PSI_MAJOR, "p_value": DRIFT_P}}
    if major or moderate:
        summary = (f"{len(major) + len(moderate)} of {len(cols)} features shifted between training and holdout "
                   f"(most: '{ranked[0]}', PSI {features[ranked[0]]['psi']:.2f}).")
    else:
        top = f" (largest: '{ranked[0]}', PSI {features[ranked[0]]['psi']:.2f})" if ranked else ""
        summary = (f"Training and holdout look alike: no feature's PSI reaches {PSI_MODERATE}{top}." if not chance_only
                   else f"Training and holdout look alike: no feature shifted beyond what chance gives on "
                        f"{n_te:,} holdout rows{top}.")
    if age.get("data_age_days", 0) > STALE_DAYS:
        summary += f" The newest training row is {age['data_age_days']} days old."
    return Outcome(summary=summary, findings=findings, metrics=metrics)
