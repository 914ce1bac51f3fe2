"""``calibration`` exact on the engines (issue 22) for binary models with probabilities.

Per partition (:func:`partition`, called from the holdout summary where the model has just scored the
rows), over the scored, labelled rows (``p`` the positive-class score, ``y`` 1 for the positive label):

* per equal-width bin of the check (``calibration_stats.equal_width_bins``: bin k holds (k/10, (k+1)/10],
  bin 0 also 0): the count, Σp, Σy, Σp², Σpy; Spiegelhalter's sums Σ(y − p)(1 − 2p) and Σ(1 − 2p)²p(1 − p);
  Σ(p − y)⁴; the score histogram's 20 bins per class (:func:`partition_sums`). Every equal-width figure
  follows (:func:`figures`): ECE, the debiased error the status judges, the noise floor, MCE, Brier and its
  decomposition, the reliability table, Spiegelhalter's z, calibration-in-the-large, the log loss (the
  holdout summary's sum).
* the same sums per value of each sensitive column (:func:`group_row`: each group's row as in memory).
* Hosmer–Lemeshow and the adaptive ECE use equal-mass bins: cuts at ranks of the score. The driver
  knows where the cuts fall only roughly before the pass, from the engine's sample; so the spec carries
  *brackets*, score intervals around each estimated cut wide enough to hold the true cut with
  overwhelming probability (the sample's rank ± 5 standard deviations of a sample quantile's rank, + 2),
  and each partition returns the rows inside the brackets (score and label: 9 bytes a row) and, between
  brackets, the count, Σp, Σy and Σp(1 − p). The driver sorts the bracket rows, places every cut exactly
  and forms each equal-mass bin's sums: the in-memory bins (ties at a cut held by rows of both classes
  are split in a canonical order, negatives first, where memory splits them by row position:
  ``mixed_ties_at_cuts`` counts them, 0 meaning the in-memory figures). Should a cut fall outside its
  bracket (probability below 10⁻⁶), or the brackets be expected to hold more than ``MAX_BRACKET_ROWS``
  rows (a small sample of a very large holdout), both figures are taken from the sample and listed in
  ``metrics.on_sample``.

Calibration slope and intercept (a logistic fit): from the holdout's rows per distinct score and class
(``exact_business.ScoreCounts``, already merged for ``business.threshold``) when there are at most
``MAX_SCORE_COUNTS`` distinct scores, by a weighted fit (the in-memory maximum-likelihood estimate); else
(or when they are score bins) on the sample. The recalibration preview (cross-fitted on rows) is on the sample. The Brier and ECE
intervals, bootstrapped in memory, are a normal interval from the sums and a simulation of the per-bin
sums' normal limit (``interval_methods``). Multiclass models keep the check on the sample.

Driver memory: a few hundred numbers per group and the bracket rows (about 12% of the holdout with the
default 100,000-row sample, at most ``MAX_BRACKET_ROWS`` rows: 9 bytes each, about 26 while they are sorted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness.checks.calibration_stats import HIST_BINS, N_BINS, equal_width_bins
from readiness.stats import clopper_pearson

BRACKET_Z = 5.0  # a cut lies outside its bracket with probability ~6e-7
MAX_BRACKET_ROWS = 16_000_000  # rows the brackets may hold (driver memory); beyond, the equal-mass figures use the sample
MAX_SCORE_COUNTS = 1_000_000  # distinct scores for the exact calibration slope
MAX_KEYS = 2_000  # distinct values of one sensitive column
MISSING = "(missing)"
HIST_EDGES = np.linspace(0, 1, HIST_BINS + 1)
Z95 = 1.959963984540054
INTERVAL_METHODS = {
    "brier_ci": "normal approximation from the sums of the squared errors and their squares (memory: bootstrap)",
    "ece_ci": ("the per-bin sums of (outcome - score) drawn from their normal limit under resampling the rows "
               "(means and covariance from the bins' sums and sums of squares), 2.5 and 97.5 percentiles of the "
               "ECE over the draws (memory: bootstrap of the rows)"),
}


@dataclass(frozen=True)
class CalibrationSpec:
    """What a partition needs: the equal-mass brackets (disjoint closed score intervals, ascending; None:
    no brackets) and the sensitive columns."""

    brackets: tuple | None
    sensitive: tuple = ()


@dataclass(frozen=True)
class Rows:
    """Scored rows in the brackets; merging concatenates the lists (one concatenation on the driver)."""

    scores: tuple = ()
    labels: tuple = ()

    def __add__(self, other: Rows) -> Rows:
        return Rows(self.scores + other.scores, self.labels + other.labels)


@dataclass(frozen=True)
class Groups:
    """Per value of a sensitive column, its :func:`partition_sums`; ``overflow`` past MAX_KEYS values."""

    sums: dict
    overflow: bool = False

    def __add__(self, other: Groups) -> Groups:
        from readiness.engines.summaries import merge

        if self.overflow or other.overflow:
            return Groups({}, True)
        out = merge(self.sums, other.sums)
        return Groups({}, True) if len(out) > MAX_KEYS else Groups(out)


# --- per partition --------------------------------------------------------------------------------


def partition_sums(p: np.ndarray, y: np.ndarray, n_bins: int = N_BINS, bins: np.ndarray | None = None) -> dict:
    """The merge-by-addition equal-width summary of one partition's scored, labelled rows."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    b = equal_width_bins(p, n_bins) if bins is None else bins

    def per_bin(w=None):
        return np.bincount(b, weights=w, minlength=n_bins).astype(float)

    w = 1 - 2 * p
    return {"count": per_bin(), "sum_p": per_bin(p), "sum_y": per_bin(y), "sum_pp": per_bin(p * p),
            "sum_py": per_bin(p * y), "spiegel_num": float(np.sum((y - p) * w)),
            "spiegel_var": float(np.sum(w * w * p * (1 - p)))}


def _keys(s: pd.Series) -> tuple[np.ndarray, list]:
    """Each row's group code and the groups' keys: text as the in-memory check writes it (``astype(str)``),
    numbers as floats (written on the driver with the column's type over every row), missing: MISSING."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        codes, uniques = pd.factorize(s.to_numpy(dtype=float, na_value=np.nan))
        names = [float(u) for u in uniques]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(names), codes)
            names.append(MISSING)
        return codes, names
    vals = s.astype(str).to_numpy().astype(object)
    vals[s.isna().to_numpy()] = MISSING
    codes, uniques = pd.factorize(vals)
    return codes, list(uniques)


def group_sums(s: pd.Series, p: np.ndarray, y: np.ndarray, bins: np.ndarray) -> Groups:
    codes, names = _keys(s)
    g = len(names)
    if g > MAX_KEYS:
        return Groups({}, True)
    cell = codes * N_BINS + bins

    def per(w=None):
        return np.bincount(cell, weights=w, minlength=g * N_BINS).reshape(g, N_BINS).astype(float)

    w = 1 - 2 * p
    count, sp, sy, spp, spy = per(), per(p), per(y), per(p * p), per(p * y)
    num = np.bincount(codes, weights=(y - p) * w, minlength=g)
    var = np.bincount(codes, weights=w * w * p * (1 - p), minlength=g)
    return Groups({k: {"count": count[i], "sum_p": sp[i], "sum_y": sy[i], "sum_pp": spp[i], "sum_py": spy[i],
                       "spiegel_num": float(num[i]), "spiegel_var": float(var[i])} for i, k in enumerate(names)})


def partition(rows: pd.DataFrame, p: np.ndarray, y: np.ndarray, spec: CalibrationSpec) -> dict:
    """One partition's summary: ``rows`` the scored, labelled rows (for the sensitive columns), ``p`` their
    scores, ``y`` 1 for the positive label."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    bins = equal_width_bins(p)
    out = partition_sums(p, y, bins=bins)
    out["brier_sq"] = float(np.sum((p - y) ** 4))
    out["hist_pos"] = np.histogram(p[y == 1], bins=HIST_EDGES)[0].astype(np.int64)
    out["hist_neg"] = np.histogram(p[y != 1], bins=HIST_EDGES)[0].astype(np.int64)
    if spec.brackets is not None:
        los = np.array([b[0] for b in spec.brackets], dtype=float)
        his = np.array([b[1] for b in spec.brackets], dtype=float)
        j = np.searchsorted(los, p, side="right") - 1
        inside = (j >= 0) & (p <= his[np.maximum(j, 0)]) if len(los) else np.zeros(len(p), bool)
        seg = np.where(inside, len(los) + 1, j + 1)
        k = len(los) + 2
        out["segments"] = np.stack([np.bincount(seg, minlength=k), np.bincount(seg, weights=p, minlength=k),
                                    np.bincount(seg, weights=y, minlength=k),
                                    np.bincount(seg, weights=p * (1 - p), minlength=k)])[:, :-1].astype(float)
        out["bracket"] = Rows((p[inside],), (y[inside].astype(np.int8),))
    if spec.sensitive:
        out["groups"] = {c: group_sums(rows[c].reset_index(drop=True), p, y, bins) for c in spec.sensitive}
    return out


# --- the spec (on the driver, before the pass) ----------------------------------------------------


def _cut_ranks(n: int, n_bins: int) -> np.ndarray:
    """The first rank of each equal-mass bin but the first (``np.array_split`` of ``n`` rows)."""
    sizes = np.full(n_bins, n // n_bins) + (np.arange(n_bins) < n % n_bins)
    return np.cumsum(sizes)[:-1]


def _bin_counts(n: int) -> set:
    """The equal-mass bin counts the check uses on ``n`` rows: Hosmer–Lemeshow's and the adaptive ECE's."""
    return {max(1, min(N_BINS, n // 10 or 1)), max(1, min(N_BINS, n))}


def spec_for(ctx, rows: int, sampled: int) -> CalibrationSpec | None:
    """The spec of a binary review with probabilities (else None: the check stays on the sample). ``rows``,
    ``sampled``: the holdout's rows and the sample's."""
    if ctx.task != "binary" or ctx.data_only or not ctx.scores_are_probabilities:
        return None
    scores = np.asarray(ctx.test_scores, dtype=float)
    ps = np.sort(scores[~np.isnan(scores)])
    n_s = len(ps)
    sensitive = tuple(c for c in ctx.roles.sensitive if c in ctx.test)
    if n_s == 0:
        return CalibrationSpec(None, sensitive)
    complete = sampled >= rows
    n_est = n_s if complete else n_s * rows / max(sampled, 1)
    fpc = 0.0 if complete else max(0.0, 1 - n_s / n_est)
    found = []
    for nb in _bin_counts(int(n_est)):
        for start in _cut_ranks(int(n_est), nb):
            f = start / n_est
            r = start if complete else f * n_s
            half = BRACKET_Z * math.sqrt(n_s * f * (1 - f) * fpc) + 2
            found.append((int(math.floor(r - half)), int(math.ceil(r + half))))
    found.sort()
    merged: list[list[int]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    share = sum(min(hi, n_s - 1) - max(lo, 0) + 1 for lo, hi in merged) / n_s
    if share * n_est > MAX_BRACKET_ROWS:
        return CalibrationSpec(None, sensitive)
    brackets = []
    for lo, hi in merged:
        a = -math.inf if lo <= 0 else float(ps[lo])
        b = math.inf if hi >= n_s - 1 else float(ps[hi])
        if brackets and a <= brackets[-1][1]:  # equal values at the ends: join the intervals
            brackets[-1] = (brackets[-1][0], max(brackets[-1][1], b))
        else:
            brackets.append((a, b))
    return CalibrationSpec(tuple(brackets), sensitive)


# --- on the driver ---------------------------------------------------------------------------------


def figures(s: dict) -> dict:
    """The check's equal-width figures from merged :func:`partition_sums`."""
    count, sp, sy, spp, spy = (np.asarray(s[k], dtype=float) for k in ("count", "sum_p", "sum_y", "sum_pp", "sum_py"))
    n = float(count.sum())
    n_bins = len(count)
    ok = count > 0
    var = sp - spp  # Σ p(1 − p) per bin
    pbar, obar = np.zeros(n_bins), np.zeros(n_bins)
    pbar[ok], obar[ok] = sp[ok] / count[ok], sy[ok] / count[ok]
    base = float(sy.sum() / n)
    within_var = float(((spp - sp * pbar)[ok]).sum() / n)
    within_cov = float(2 * ((spy - sp * obar)[ok]).sum() / n)
    z = s["spiegel_num"] / math.sqrt(s["spiegel_var"]) if s["spiegel_var"] > 0 else math.nan
    rel = []
    for k in range(n_bins):
        c = int(count[k])
        lo, hi = clopper_pearson(int(round(sy[k])), c) if c else (None, None)
        rel.append({"bin": k, "lower": k / n_bins, "upper": (k + 1) / n_bins, "count": c,
                    "mean_score": float(sp[k] / c) if c else None, "observed_rate": float(sy[k] / c) if c else None,
                    "observed_ci": [lo, hi] if c else None})
    return {
        "n": int(n), "prevalence": base, "mean_score": float(sp.sum() / n),
        "ece": float(np.abs(sy - sp).sum() / n),
        "calibration_error_debiased": float(math.sqrt(max(0.0, float((((sy - sp) ** 2 - var)[ok] / count[ok]).sum()) / n))),
        "ece_noise_floor": float(np.sqrt(2 * var / math.pi).sum() / n),
        "mce": float(np.max(np.abs(sy[ok] - sp[ok]) / count[ok])),
        "brier": float((spp - 2 * spy + sy).sum() / n),  # Σ(p − y)² with y² = y
        "brier_decomposition": {"reliability": float((count * (pbar - obar) ** 2).sum() / n),
                                "resolution": float((count * (obar - base) ** 2).sum() / n),
                                "uncertainty": base * (1 - base), "within_bin_variance": within_var,
                                "within_bin_covariance": within_cov, "n_bins": n_bins},
        "spiegelhalter_z": z, "reliability": rel,
    }


def group_row(name: str, s: dict, min_rows: int) -> dict:
    """One sensitive group's row of the check's per-group table (``calibration._per_group``) from the merged
    :func:`partition_sums` of that group's rows: predicted, observed with its Clopper–Pearson interval, gap,
    and, from ``min_rows`` rows, ECE, the debiased error, the noise floor and the combined p-value of
    Spiegelhalter's z and the calibration-in-the-large z (Σy − Σp) / sqrt(Σp(1 − p))."""
    from readiness.checks.calibration_stats import _normal_p, combined_p

    count, sp, sy, spp = (np.asarray(s[k], dtype=float) for k in ("count", "sum_p", "sum_y", "sum_pp"))
    n = int(count.sum())
    pred, obs = float(sp.sum() / n), float(sy.sum() / n)
    row = {"group": str(name), "n": n, "predicted": pred, "observed": obs,
           "observed_ci": list(clopper_pearson(int(round(sy.sum())), n)), "gap": pred - obs}
    if n < min_rows:
        row.update({"ece": None, "calibration_error_debiased": None, "ece_noise_floor": None, "p_value": None,
                    "too_few_rows": True})
        return row
    f = figures(s)
    var = float((sp - spp).sum())
    z_citl = float((sy.sum() - sp.sum()) / math.sqrt(var)) if var > 0 else math.nan
    row.update({"ece": f["ece"], "calibration_error_debiased": f["calibration_error_debiased"],
                "ece_noise_floor": f["ece_noise_floor"],
                "p_value": combined_p(_normal_p(f["spiegelhalter_z"]), _normal_p(z_citl))})
    return row


def equal_mass_sums(s: dict, brackets: tuple, n_bins: int) -> tuple[np.ndarray, int] | None:
    """Per equal-mass bin (``equal_mass_bins`` of every row) the count, Σp, Σy and Σp(1 − p) (a 4 × n_bins
    array), and the cuts where rows of both classes share the score; None when a cut falls between brackets."""
    seg = np.asarray(s["segments"], dtype=float)
    rows: Rows = s.get("bracket") or Rows()
    p = np.concatenate(rows.scores) if rows.scores else np.empty(0)
    y = np.concatenate(rows.labels).astype(float) if rows.labels else np.empty(0)
    order = np.lexsort((y, p))
    p, y = p[order], y[order]
    n = int(round(seg[0].sum())) + len(p)
    edges = np.concatenate([[0], _cut_ranks(n, n_bins), [n]])
    out = np.zeros((4, n_bins))
    mixed = 0
    start = 0
    for j in range(len(brackets) + 1):
        c = int(round(seg[0, j]))
        if c:
            if np.any((edges > start) & (edges < start + c)):
                return None  # a cut among rows summed together: outside its bracket
            out[:, np.searchsorted(edges, start, side="right") - 1] += seg[:, j]
        start += c
        if j == len(brackets):
            break
        a = np.searchsorted(p, brackets[j][0], side="left")
        b = np.searchsorted(p, brackets[j][1], side="right")
        if b > a:
            pb, yb = p[a:b], y[a:b]
            k = np.searchsorted(edges, start + np.arange(b - a), side="right") - 1
            for w, row in ((None, 0), (pb, 1), (yb, 2), (pb * (1 - pb), 3)):
                out[row] += np.bincount(k, weights=w, minlength=n_bins)
            for e in edges[(edges > start) & (edges < start + b - a)]:
                i = e - start
                if pb[i - 1] == pb[i]:
                    tie = yb[pb == pb[i]]
                    mixed += int(tie.min() != tie.max())
        start += b - a
    return out, mixed


def _slope_from_counts(counts) -> tuple[float | None, float | None]:
    """Calibration intercept and slope (``calibration_slope``) from the rows per distinct score and class:
    the same maximum-likelihood fit, each distinct score once per class weighted by its rows, iterated to
    convergence (memory stops at a relative change of 1e-10 in the log-likelihood)."""
    from readiness.checks.calibration_stats import _logit, fit_logistic_1d

    if counts.pos.sum() == 0 or counts.neg.sum() == 0:
        return None, None
    x = _logit(counts.u)
    return fit_logistic_1d(np.concatenate([x, x]), np.repeat([1.0, 0.0], len(x)),
                           weights=np.concatenate([counts.pos, counts.neg]), max_iter=100, tol=1e-14)


def _brier_ci(s: dict, brier: float, n: int) -> list:
    if n < 2:
        return [math.nan, math.nan]
    var = max(0.0, (s["brier_sq"] / n - brier ** 2) * n / (n - 1))
    h = Z95 * math.sqrt(var / n)
    return [max(0.0, brier - h), min(1.0, brier + h)]


def _ece_ci(s: dict, n: int, *, seed: int, n_boot: int) -> list:
    sp, sy, spp, spy = (np.asarray(s[k], dtype=float) for k in ("sum_p", "sum_y", "sum_pp", "sum_py"))
    d = sy - sp  # Σ(y − p) per bin
    q = sy - 2 * spy + spp  # Σ(y − p)² per bin
    cov = np.diag(q) - np.outer(d, d) / n
    draws = np.random.default_rng(seed).multivariate_normal(d, cov, size=max(n_boot, 2), method="eigh")
    values = np.abs(draws).sum(axis=1) / n
    return [float(v) for v in np.quantile(values, [0.025, 0.975])]


def ready(ctx, summary: dict) -> bool:
    """Registered for a binary model with probabilities whose holdout summary has the sums and no sensitive
    column of more than MAX_KEYS values."""
    c = summary.get("calibration")
    if ctx.task != "binary" or ctx.data_only or c is None or c["count"].sum() <= 0:
        return False
    return not any(g.overflow for g in (c.get("groups") or {}).values())


def _group_name(key, integer: bool) -> str:
    if isinstance(key, str):
        return key
    return str(int(key)) if integer else str(float(key))


def _per_group(ctx, s: dict, families: int):
    from readiness.checks.calibration import MAX_GROUPS, MIN_GROUP_ROWS, group_findings

    out: dict = {}
    tested = []
    for col in ctx.roles.sensitive:
        g: Groups = s["groups"][col]
        # a number is written as the in-memory check writes it over every row: an integer column with a
        # missing value is read as floats ('1.0')
        integer = pd.api.types.is_integer_dtype(ctx.test[col]) and MISSING not in g.sums
        named: dict = {}
        for key, v in g.sums.items():
            from readiness.engines.summaries import merge

            name = _group_name(key, integer)
            named[name] = merge(named.get(name), v)
        names = sorted(named)
        counts = np.array([named[k]["count"].sum() for k in names])
        items = []
        for i in np.argsort(-counts, kind="stable")[:MAX_GROUPS]:
            row = group_row(names[i], named[names[i]], MIN_GROUP_ROWS)
            if not row.get("too_few_rows"):
                tested.append((col, row))
            items.append(row)
        out[col] = {"groups": items, "groups_not_shown": int(max(0, len(names) - MAX_GROUPS))}
    return out, group_findings(tested, families)


def metrics(ctx, summary: dict, spec: CalibrationSpec | None) -> dict:
    """``binary_metrics`` on every scored holdout row, from the merged summary (the parts on the sample
    listed in ``on_sample``)."""
    from readiness.checks.calibration_stats import (
        _normal_p,
        _recalibration_binary,
        calibration_slope,
        combined_p,
        hosmer_lemeshow,
        hosmer_lemeshow_of_sums,
        merged_bin_codes,
    )
    from readiness.engines.exact_business import ScoreCounts

    s = summary["calibration"]
    f = figures(s)
    n = f["n"]
    ok = np.asarray(ctx.scored, dtype=bool)
    p_s = np.asarray(ctx.test_scores, dtype=float)[ok]
    y_s = ctx.y_test_binary[ok].astype(float)
    seed, B = ctx.settings.random_state, ctx.settings.bootstrap
    on_sample = ["recalibration"]

    z = f["spiegelhalter_z"]
    zp = _normal_p(z)
    em = {nb: equal_mass_sums(s, spec.brackets, nb) if spec is not None and spec.brackets is not None
          and "segments" in s else None for nb in _bin_counts(n)}
    hl_bins, ad_bins = max(1, min(N_BINS, n // 10 or 1)), max(1, min(N_BINS, n))
    if all(v is not None for v in em.values()):
        sums, mixed = em[hl_bins]
        codes = merged_bin_codes(sums[1], sums[0] - sums[1])
        merged = np.stack([np.bincount(codes, weights=r) for r in sums])
        hl = hosmer_lemeshow_of_sums(merged[1], merged[2], merged[3])
        a = em[ad_bins][0]
        adaptive = float(np.abs(a[2] - a[1]).sum() / n)
        mixed = max(mixed, em[ad_bins][1])
    else:
        from readiness.checks.calibration_stats import adaptive_ece

        hl, adaptive, mixed = hosmer_lemeshow(p_s, y_s), adaptive_ece(p_s, y_s), None
        on_sample += ["hosmer_lemeshow", "calibration_p_value", "adaptive_ece"]  # the status uses the sample's HL
    counts = summary.get("business")
    if isinstance(counts, ScoreCounts) and counts.hi is None and len(counts.u) <= MAX_SCORE_COUNTS:
        intercept, slope = _slope_from_counts(counts)
    else:
        intercept, slope = calibration_slope(p_s, y_s)
        on_sample += ["calibration_slope", "calibration_intercept"]
    sp_total, sy_total = float(np.sum(s["sum_p"])), float(np.sum(s["sum_y"]))
    var_total = float(np.sum(s["sum_p"]) - np.sum(s["sum_pp"]))
    z_citl = float((sy_total - sp_total) / math.sqrt(var_total)) if var_total > 0 else math.nan
    m = {
        "task": "binary",
        "variable": "positive-class score vs outcome",
        "prevalence": f["prevalence"],
        "mean_score": f["mean_score"],
        "brier": f["brier"],
        "brier_ci": _brier_ci(s, f["brier"], n),
        "brier_decomposition": f["brier_decomposition"],
        "log_loss": float(summary["log_loss_sum"] / n),
        "ece": f["ece"],
        "calibration_error_debiased": f["calibration_error_debiased"],
        "ece_ci": _ece_ci(s, n, seed=seed, n_boot=B),
        "ece_noise_floor": f["ece_noise_floor"],
        "adaptive_ece": adaptive,
        "mce": f["mce"],
        "n_bins": N_BINS,
        "reliability": f["reliability"],
        "spiegelhalter_z": z, "spiegelhalter_p": zp,
        "hosmer_lemeshow": {"statistic": hl[0], "df": hl[1], "p_value": hl[2]},
        "calibration_p_value": combined_p(zp, hl[2]),
        "calibration_in_the_large": {"predicted": sp_total / n, "observed": sy_total / n, "z": z_citl,
                                     "p_value": _normal_p(z_citl)},
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "score_histogram": {"edges": HIST_EDGES.tolist(), "positives": np.asarray(s["hist_pos"]).tolist(),
                            "negatives": np.asarray(s["hist_neg"]).tolist()},
        "recalibration": _recalibration_binary(p_s, y_s, seed=seed),
        "mixed_ties_at_cuts": mixed,
        "interval_methods": dict(INTERVAL_METHODS),
        "on_sample": {"keys": on_sample, "rows": int(len(p_s))},
    }
    return m


def calibration(ctx, er):
    """The check on every scored holdout row (binary, probabilities): the in-memory verdict
    (``calibration_outcome``) on the exact figures."""
    from readiness.checks.calibration import (
        MIN_ROWS,
        _not_probabilities_reason,
        calibration_outcome,
        unscored_finding,
    )
    from readiness.registry import SkipCheck

    reason = _not_probabilities_reason(ctx)
    if reason:
        raise SkipCheck(reason)
    summary = er.test_summary
    s = summary["calibration"]
    n = int(np.sum(s["count"]))
    unscored = int(summary.get("unscored", 0))
    findings = [unscored_finding(unscored)] if unscored else []
    if n < MIN_ROWS:
        raise SkipCheck(f"Only {n} holdout rows have a label and a score; calibration needs at least {MIN_ROWS}.")
    spec = spec_for(ctx, er.rows["test"], er.sampled["test"])
    m = metrics(ctx, summary, spec)
    return calibration_outcome(ctx, m, n, findings, lambda families: _per_group(ctx, s, families))
