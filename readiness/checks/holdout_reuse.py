"""Grade-your-own-Exam: how often can this holdout be used before its score stops meaning anything?

Formulas: shared/science/bayes_error_and_holdout_reuse.md, part B (B2–B4, B7). All are
Hoeffding bounds for a per-row score in [0, 1] (accuracy: right = 1, wrong = 0), two-sided,
with total failure probability δ:

* one use, tolerance ε:         n ≥ ln(2/δ) / (2ε²)
* k non-adaptive uses:          k_max = ⌊(δ/2)·exp(2nε²)⌋,  ε(n, k) = √(ln(2k/δ) / (2n))
* k adaptive uses, b bits each: k_max = ⌊(2nε² − ln(2/δ)) / (b·ln 2)⌋,
                                ε(n, k) = √((k·b·ln 2 + ln(2/δ)) / (2n))

"Non-adaptive" means the models were fixed before any of them was scored; "adaptive"
means each result may have steered the next model (the usual case), and each released
result costs b bits (1 for pass/fail, ≈10 for a score shown to 0.1%).
"""

from __future__ import annotations

import math

import numpy as np

from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, register
from readiness.results import Finding, Severity
from readiness.stats import bootstrap_ci, clopper_pearson, wilson

EPSILON = 0.05  # tolerance the status is judged at: ±5 points of accuracy
DELTA = 0.05  # 95% confidence
EPSILONS = (0.01, 0.02, 0.05)
KS = (1, 10, 100)
BITS_PASS_FAIL = 1.0
BITS_SCORE = math.log2(1001)  # a score shown as a percentage with one decimal: 1,001 possible values
HUGE = 1e15  # budgets above this are reported by their log10 only


# --- formulas --------------------------------------------------------------------------


def log10_kmax_nonadaptive(n: int, eps: float, delta: float = DELTA) -> float:
    """log10 of (δ/2)·exp(2nε²), the real-valued non-adaptive budget (no overflow)."""
    return math.log10(delta / 2) + 2 * n * eps * eps / math.log(10)


def kmax_nonadaptive(n: int, eps: float, delta: float = DELTA) -> float:
    """⌊(δ/2)·exp(2nε²)⌋ evaluations of fixed models; ``inf`` when astronomically large."""
    lg = log10_kmax_nonadaptive(n, eps, delta)
    if lg > 300:
        return math.inf
    return float(math.floor(10 ** lg))


def kmax_adaptive(n: int, eps: float, delta: float = DELTA, bits: float = BITS_PASS_FAIL) -> int:
    """⌊(2nε² − ln(2/δ)) / (b·ln 2)⌋ adaptively chosen evaluations (0 when even one is too many)."""
    return max(0, math.floor((2 * n * eps * eps - math.log(2 / delta)) / (bits * math.log(2))))


def rows_needed_nonadaptive(eps: float, k: int = 1, delta: float = DELTA) -> int:
    """n ≥ ln(2k/δ) / (2ε²)."""
    return math.ceil(math.log(2 * k / delta) / (2 * eps * eps))


def rows_needed_adaptive(eps: float, k: int = 1, delta: float = DELTA, bits: float = BITS_PASS_FAIL) -> int:
    """n ≥ (k·b·ln 2 + ln(2/δ)) / (2ε²)."""
    return math.ceil((k * bits * math.log(2) + math.log(2 / delta)) / (2 * eps * eps))


def epsilon_nonadaptive(n: int, k: int = 1, delta: float = DELTA) -> float:
    """Tolerance guaranteed for all of k fixed models: √(ln(2k/δ) / (2n))."""
    return math.sqrt(math.log(2 * k / delta) / (2 * n))


def epsilon_adaptive(n: int, k: int = 1, delta: float = DELTA, bits: float = BITS_PASS_FAIL) -> float:
    """Tolerance guaranteed after k adaptive uses: √((k·b·ln 2 + ln(2/δ)) / (2n))."""
    return math.sqrt((k * bits * math.log(2) + math.log(2 / delta)) / (2 * n))


def easeml_sample_size(*, variables: int, reliability: float, steps: int, eps: float, adaptivity: str = "full",
                       coefficient: float = 1.0, clauses: int = 1) -> int:
    """ease.ml/ci's sample-size calculator (``SampleCalculator.calculate_n``, one-sided Hoeffding).

    ``variables``: 1 for a condition on ``n``, 2 for ``n - o``. ``adaptivity``: none | hybrid | full
    (full unions over 2^steps pass/fail histories, the others over ``steps``).
    """
    paths = 2.0 ** steps if adaptivity == "full" else float(steps)
    delta = (1 - reliability) / (variables * clauses * paths)
    shb = -(coefficient ** 2) * variables ** 2 * math.log(delta) / (2 * eps * eps)
    return round(shb + 0.5)


def bennett_sample_size(*, p: float, eps: float, delta: float, steps: int, adaptive: bool) -> int:
    """ease.ml/ci's Bennett bound for ``n - o`` when the disagreement rate is below ``p``:
    n = (ln(4·paths) − ln δ) / (p·h(ε/p)), h(u) = (1+u)ln(1+u) − u; paths = 2^steps if adaptive."""
    u = eps / p
    h = (1 + u) * math.log1p(u) - u
    log_paths = steps * math.log(2) if adaptive else math.log(steps)
    return math.ceil((math.log(4) + log_paths - math.log(delta)) / (p * h))


def _budget(n: int, eps: float) -> dict:
    na = kmax_nonadaptive(n, eps)
    return {"nonadaptive": None if na > HUGE else int(na), "nonadaptive_log10": log10_kmax_nonadaptive(n, eps),
            "adaptive": kmax_adaptive(n, eps), "adaptive_scores": kmax_adaptive(n, eps, bits=BITS_SCORE)}


def _count(v: int | None, lg: float | None = None) -> str:
    if v is None:
        return f"about 10^{lg:.0f}" if lg is not None else "practically unlimited"
    return f"{v:,}"


# --- the check -------------------------------------------------------------------------


def _holdout_file(ctx: ReviewContext) -> tuple[str | None, str]:
    test = next((f for f in ctx.input_files if f.role == "test"), None)
    if test is not None:
        return test.sha256, test.name
    data = next((f for f in ctx.input_files if f.role in ("train", "data")), None)
    return (data.sha256, f"{data.name} (split column '{ctx.roles.split_column}')") if data else (None, "")


@register("evaluation.holdout_reuse", title="Holdout reuse budget (grade your own exam)", area="leakage",
          antipatterns=("grade_your_own_exam",), order=35)
def holdout_reuse(ctx: ReviewContext) -> Outcome:
    """How precisely the holdout pins the main metric (accuracy with Wilson and Clopper–Pearson
    95% intervals; R² with a bootstrap interval for regression), and how many evaluations it
    supports at tolerance ε = 0.05 and confidence 95% (Hoeffding): for fixed models
    (non-adaptive) and for models chosen after seeing earlier results (adaptive, 1 bit per
    pass/fail result). Earlier evaluations of the same holdout file (by SHA-256) come from
    the review history when it is available."""
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
    n = int(ok.sum())
    findings: list[Finding] = []
    m: dict = {"n": n, "epsilon": EPSILON, "delta": DELTA, "bits_per_pass_fail": BITS_PASS_FAIL,
               "bits_per_score": BITS_SCORE}
    sha, source = _holdout_file(ctx)
    m["holdout_sha256"], m["holdout_source"] = sha, source
    if ctx.task == "regression":
        y = ctx.y_test.to_numpy(dtype=float)[ok]
        p = scores[ok]

        def r2(a, b):
            sst = float(np.sum((a - a.mean()) ** 2))
            return 1 - float(np.sum((a - b) ** 2)) / sst if sst > 0 else math.nan

        m["metric"], m["value"] = "r2", r2(y, p)
        m["ci"] = list(bootstrap_ci(r2, y, p, n_boot=ctx.settings.bootstrap, seed=ctx.settings.random_state))
        m["ci_method"] = "percentile bootstrap"
        findings.append(Finding(severity=Severity.INFO, message=(
            "The reuse budget below holds for any per-row score between 0 and 1 (for example the share of predictions "
            "within an agreed tolerance); R² itself is not bounded, so treat the budget as a guide.")))
    else:
        correct = int((ctx.y_test.astype(str).to_numpy()[ok] == np.asarray(ctx.test_pred).astype(str)[ok]).sum())
        acc = correct / n if n else math.nan
        m["metric"], m["value"] = "accuracy", acc
        m["ci"] = list(wilson(correct, n))
        m["ci_method"] = "Wilson score"
        m["ci_clopper_pearson"] = list(clopper_pearson(correct, n))
    if n == 0:
        return Outcome(summary="No holdout row has a score, so the holdout cannot be used at all.", findings=findings,
                       metrics=m, status=None)
    b = _budget(n, EPSILON)
    m["budget_nonadaptive"], m["budget_nonadaptive_log10"] = b["nonadaptive"], b["nonadaptive_log10"]
    m["budget_adaptive"], m["budget_adaptive_scores"] = b["adaptive"], b["adaptive_scores"]
    m["budget_table"] = {f"{e:g}": _budget(n, e) for e in EPSILONS}
    m["rows_needed"] = {f"{e:g}": {str(k): {"nonadaptive": rows_needed_nonadaptive(e, k),
                                            "adaptive": rows_needed_adaptive(e, k)} for k in KS} for e in EPSILONS}
    m["rows_needed_one_use"] = rows_needed_nonadaptive(EPSILON, 1)
    prior = ctx.prior_holdout_evaluations
    uses = (prior or 0) + 1
    m["prior_evaluations"] = prior
    m["evaluations_including_this"] = uses if prior is not None else None
    m["epsilon_guaranteed_nonadaptive"] = epsilon_nonadaptive(n, uses)
    m["epsilon_guaranteed_adaptive"] = epsilon_adaptive(n, uses)
    if m["metric"] == "accuracy":
        lo, hi = m["ci_clopper_pearson"]
        e = m["epsilon_guaranteed_adaptive"]
        m["ci_reuse_adjusted"] = [max(0.0, min(lo, m["value"] - e)), min(1.0, max(hi, m["value"] + e))]
    ks = sorted({1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, uses})
    m["epsilon_curve"] = {"k": ks, "nonadaptive": [epsilon_nonadaptive(n, k) for k in ks],
                          "adaptive": [epsilon_adaptive(n, k) for k in ks],
                          "adaptive_scores": [epsilon_adaptive(n, k, bits=BITS_SCORE) for k in ks]}
    na_txt = _count(b["nonadaptive"], b["nonadaptive_log10"])
    eps_txt = f"±{100 * EPSILON:.0f} points"
    need = rows_needed_nonadaptive(EPSILON, 1)
    if prior is None:
        m["remaining_nonadaptive"] = m["remaining_adaptive"] = None
        findings.append(Finding(severity=Severity.INFO, message=(
            "No review history of this holdout file is available, so earlier uses cannot be counted. Count them "
            "yourself: every time a score on this holdout influenced a model or a threshold counts as one use.")))
        if b["nonadaptive"] == 0:
            findings.append(Finding(severity=Severity.WARN, evidence={"n": n, "rows_needed": need}, message=(
                f"With {n:,} rows, even a single evaluation cannot pin the score to {eps_txt} at 95% confidence "
                f"(that needs {need:,} rows). Treat small differences between models as noise and collect a larger "
                "holdout before deciding.")))
        summary = (f"At {eps_txt} and 95% confidence this {n:,}-row holdout supports {na_txt} evaluations of models "
                   f"fixed in advance, or {b['adaptive']:,} if each result steers the next model; earlier uses are "
                   "not recorded yet.")
        if b["nonadaptive"] == 0:
            summary = (f"This {n:,}-row holdout is too small to pin the score to {eps_txt} even once "
                       f"({need:,} rows needed); earlier uses are not recorded yet.")
    else:
        rem_na = None if b["nonadaptive"] is None else b["nonadaptive"] - uses
        rem_ad = b["adaptive"] - uses
        m["remaining_nonadaptive"], m["remaining_adaptive"] = rem_na, rem_ad
        ev = {"prior_evaluations": prior, "budget_nonadaptive": b["nonadaptive"], "budget_adaptive": b["adaptive"],
              "epsilon_guaranteed_adaptive": m["epsilon_guaranteed_adaptive"]}
        fresh = rows_needed_adaptive(EPSILON, uses + 10)
        if rem_na is not None and rem_na < 0:
            findings.append(Finding(severity=Severity.FAIL, evidence=ev, message=(
                f"This holdout has been evaluated {uses:,} times (including this review) against a budget of "
                f"{b['nonadaptive']:,} even for models fixed in advance: its score is no longer an independent "
                f"exam (guaranteed only to ±{100 * m['epsilon_guaranteed_adaptive']:.1f} points). Collect a fresh "
                f"holdout ({fresh:,} rows for ten more adaptive uses at {eps_txt}) and keep results pass/fail.")))
        elif rem_ad < 0:
            findings.append(Finding(severity=Severity.WARN, evidence=ev, message=(
                f"This holdout has been evaluated {uses:,} times (including this review); if earlier results steered "
                f"the model, the budget of {b['adaptive']:,} adaptive uses is spent and the score may be optimistic by "
                f"up to {100 * m['epsilon_guaranteed_adaptive']:.1f} points. Confirm the models were fixed in advance, "
                f"or collect a fresh holdout ({fresh:,} rows for ten more adaptive uses).")))
        summary = (f"This holdout has been evaluated {uses:,} time(s) including this review; at {eps_txt} and 95% "
                   f"confidence it supports {na_txt} evaluations of fixed models or {b['adaptive']:,} adaptive ones"
                   + (f" ({rem_ad:,} adaptive left)." if rem_ad >= 0 else " — the adaptive budget is spent."))
        if b["nonadaptive"] == 0:
            findings.append(Finding(severity=Severity.WARN, evidence={"n": n, "rows_needed": need}, message=(
                f"With {n:,} rows, even a single evaluation cannot pin the score to {eps_txt} at 95% confidence "
                f"(that needs {need:,} rows). Collect a larger holdout.")))
    return Outcome(summary=summary, findings=findings, metrics=m)
