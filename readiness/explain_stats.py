"""Statistics about explanations: how stable a SHAP ranking and a LIME fit are, and why SHAP and
LIME disagree. Pure functions over numbers already computed (no model calls), so each can be
checked against a closed form (tests/test_explain_stats.py)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np

RANK_RESAMPLES = 200  # bootstrap resamples of the explained rows for the ranking's stability
RANK_TOP_K = 3
STABLE_ORDER = 0.8  # the top-k order is "settled" when at least 80% of resamples give it
LIME_SEEDS = 3  # LIME runs per row (its own seed plus two), to see whether the fit depends on the seed
LIME_STABLE_JACCARD = 0.5  # mean pairwise overlap of the top-k sets (2 of 3 shared) ...
LIME_GOOD_FIT = 0.3  # LIME's weighted R² below this: the local linear model explains little


def ranking_stability(values: np.ndarray, names: list[str], *, k: int = RANK_TOP_K, n_boot: int = RANK_RESAMPLES,
                      seed: int = 0) -> dict:
    """How often a bootstrap resample of the explained rows gives the same top-k features by mean |SHAP|
    (same order, same set, same first feature). ``unsettled`` lists adjacent pairs of the top k whose
    order flips in more than 1 − STABLE_ORDER of the resamples."""
    a = np.abs(np.asarray(values, dtype=float))
    n, p = a.shape
    k = min(k, p)
    full = np.argsort(-a.mean(axis=0), kind="stable")[:k]
    if n < 2 or k == 0:
        return {"top_k": k, "resamples": 0, "rows": int(n), "same_order_share": None, "same_set_share": None,
                "top_feature_share": None, "unsettled": [], "settled": None}
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)])  # B × n
    means = counts @ a / n  # B × p
    tops = np.argsort(-means, axis=1, kind="stable")[:, :k]
    same_order = float(np.mean(np.all(tops == full, axis=1)))
    same_set = float(np.mean([set(t) == set(full) for t in tops]))
    first = float(np.mean(tops[:, 0] == full[0]))
    unsettled = []
    for i in range(k - 1):
        flips = float(np.mean(means[:, full[i]] < means[:, full[i + 1]]))
        if flips > 1 - STABLE_ORDER:
            unsettled.append({"features": [names[full[i]], names[full[i + 1]]], "flip_share": flips})
    return {"top_k": k, "resamples": n_boot, "rows": int(n), "top": [names[j] for j in full],
            "same_order_share": same_order, "same_set_share": same_set, "top_feature_share": first,
            "unsettled": unsettled, "settled": same_order >= STABLE_ORDER}


def top_features(contributions: list[dict], key: str, k: int) -> list[str]:
    """The k features with the largest |weight| among those with at least 10% of the largest (the
    same rule as the SHAP/LIME agreement: :func:`readiness.explain._material_top`)."""
    from readiness.explain import _material_top

    return [f for f, _ in _material_top([(c["feature"], float(c[key])) for c in contributions], k)]


def lime_stability(runs: list[dict], *, k: int = RANK_TOP_K) -> dict:
    """Whether LIME tells the same story under different seeds: the first feature in every run, and a
    mean pairwise Jaccard overlap of the top-k sets of at least LIME_STABLE_JACCARD. ``runs`` are
    :func:`readiness.explain.lime_row` results for one row."""
    tops = [top_features(r["contributions"], "weight", k) for r in runs]
    firsts = Counter(t[0] if t else None for t in tops)
    first, votes = firsts.most_common(1)[0]
    pairs = list(combinations(range(len(tops)), 2))
    jac = [len(set(tops[i]) & set(tops[j])) / max(1, len(set(tops[i]) | set(tops[j]))) for i, j in pairs]
    mean_jac = float(np.mean(jac)) if jac else 1.0
    r2 = [float(r["fit_r2"]) for r in runs]
    return {"seeds": len(runs), "tops": tops, "top_feature": first, "top_feature_votes": int(votes),
            "mean_jaccard": mean_jac, "fit_r2_min": min(r2), "fit_r2_mean": float(np.mean(r2)),
            "stable": votes == len(runs) and mean_jac >= LIME_STABLE_JACCARD}


def which_to_believe(*, shap_kind: str, lime_runs: list[dict], correlated: list[list[str]], n_features: int) -> dict:
    """Why SHAP and LIME may disagree for this model, and which one to read.

    SHAP from the tree or linear explainer is exact for the model (the attributions add up to its
    output), so where LIME differs, LIME is the approximation: its linear fit (R²), its seed, its
    quartile discretisation (a change inside one quartile is invisible to it), its kernel width
    (0.75·√p in standardised units) and its independent perturbation of correlated features (samples
    off the data) are the usual causes. With model-agnostic SHAP both are estimates: SHAP is still
    preferred when LIME's fits are unstable or poor, otherwise neither is privileged.
    """
    unstable = [r for r in lime_runs if not r["stable"]]
    poor = [r for r in lime_runs if r["fit_r2_mean"] < LIME_GOOD_FIT]
    reasons = []
    if unstable:
        reasons.append(f"LIME's top features change with its random seed on {len(unstable)} of {len(lime_runs)} rows")
    if poor:
        reasons.append(f"LIME's local linear fit explains little (R² < {LIME_GOOD_FIT}) on {len(poor)} of "
                       f"{len(lime_runs)} rows")
    if correlated:
        groups = "; ".join(", ".join(g) for g in correlated[:3])
        reasons.append(f"correlated features ({groups}) are perturbed independently by LIME, off the data")
    reasons.append("LIME sees numbers only through their quartile bins, so an effect inside one bin is invisible "
                   "to it")
    exact = shap_kind in ("tree", "linear")
    if exact:
        believe = "shap"
        why = (f"SHAP's {shap_kind} explainer is exact for this model (the contributions add up to its output); "
               "LIME is a local approximation")
    elif unstable or poor:
        believe = "shap"
        why = "LIME's fits are unstable or poor here, while SHAP's estimate does not depend on a local linear fit"
    else:
        believe = "either"
        why = "both are estimates for this model and LIME's fits are stable and good; where they differ, the " \
              "attribution itself is uncertain"
    return {"believe": believe, "why": why, "shap_exact": exact, "reasons": reasons,
            "kernel_width": 0.75 * float(np.sqrt(n_features)),
            "discretizer": "quartile", "lime_rows_unstable": len(unstable), "lime_rows_poor_fit": len(poor)}
