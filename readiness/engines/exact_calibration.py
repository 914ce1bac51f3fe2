"""Calibration (issue 22) from per-bin sums: PROTOTYPE, not yet registered in ``exact_checks``.

Per partition, for binary scores ``p`` (positive-class score) and outcomes ``y`` (0/1), over the
check's own N_BINS equal-width bins (``calibration_stats.equal_width_bins``: bin k holds (k/n, (k+1)/n],
bin 0 also 0): the count, Σp, Σy, Σp², Σpy; and the moment sums of Spiegelhalter's z. These merge by
addition (``summaries.merge``), and every equal-width figure of the check follows from them:
ECE, the debiased calibration error the status rule judges (V_k = Σp − Σp²), the noise floor, MCE,
the reliability table, Brier and Murphy's decomposition (within-bin terms from Σp², Σpy), Spiegelhalter.

Not here yet (see the report of helper hcal): Hosmer–Lemeshow and adaptive ECE need exact equal-mass
cuts (ranks; a two-pass refine over a fine histogram, and the in-memory ties-by-position rule makes
tied scores at a cut order-dependent); the calibration slope (Newton on rows), the bootstrap intervals
and the cross-fitted recalibration preview need rows (sample, or closed forms).
"""

from __future__ import annotations

import math

import numpy as np

from readiness.checks.calibration_stats import N_BINS, equal_width_bins
from readiness.stats import clopper_pearson


def partition_sums(p: np.ndarray, y: np.ndarray, n_bins: int = N_BINS) -> dict:
    """The merge-by-addition summary of one partition's scored, labelled rows."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    b = equal_width_bins(p, n_bins)

    def per_bin(w=None):
        return np.bincount(b, weights=w, minlength=n_bins).astype(float)

    w = 1 - 2 * p
    return {"count": per_bin(), "sum_p": per_bin(p), "sum_y": per_bin(y), "sum_pp": per_bin(p * p),
            "sum_py": per_bin(p * y), "spiegel_num": float(np.sum((y - p) * w)),
            "spiegel_var": float(np.sum(w * w * p * (1 - p)))}


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
