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

from readiness.fmt import pct
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


# --- reuse measured from the holdout page's interval -------------------------------------
#
# One use of the holdout: the 95% interval the holdout page shows (Clopper–Pearson for accuracy,
# the percentile bootstrap for R²). Every later use is covered by a union bound: k models fixed in
# advance share δ (Bonferroni, δ/k); when u earlier results may have steered the model, the
# transcript of those results takes one of 2^(u·b) values, so δ/2^(u·b) (the same description-length
# argument as the B4 adaptive bound). The interval is the holdout page's method at that smaller δ.
# The budget is the number of uses before the interval is WIDEN times as wide as the first use's.

WIDEN = 2.0


def z_two_sided(alpha: float) -> float:
    """Φ⁻¹(1 − α/2), computed in the tail so that α of 10⁻³⁰⁰ still works."""
    from scipy.stats import norm

    return float(-norm.ppf(alpha / 2)) if alpha > 0 else math.inf


def widening(alpha: float, delta: float = DELTA) -> float:
    """How much wider a normal interval at confidence 1 − α is than at 1 − δ."""
    return z_two_sided(alpha) / z_two_sided(delta)


def max_multiplicity(widen: float = WIDEN, delta: float = DELTA) -> float:
    """The largest m with Φ⁻¹(1 − δ/(2m)) ≤ widen·Φ⁻¹(1 − δ/2): how many outcomes δ can be shared by."""
    from scipy.stats import norm

    return delta / (2 * float(norm.sf(widen * z_two_sided(delta))))


def budget_fixed(widen: float = WIDEN, delta: float = DELTA) -> int:
    """Evaluations of models fixed in advance before the interval is ``widen`` times as wide (Bonferroni)."""
    return math.floor(max_multiplicity(widen, delta))


def budget_steered(bits: float = BITS_PASS_FAIL, widen: float = WIDEN, delta: float = DELTA) -> int:
    """Evaluations, each possibly steered by all earlier results of ``bits`` bits, before the interval is
    ``widen`` times as wide: the first use plus ⌊log₂(m)/b⌋ steered ones."""
    return 1 + math.floor(math.log2(max_multiplicity(widen, delta)) / bits)


def alpha_fixed(k: int, delta: float = DELTA) -> float:
    return delta / max(1, k)


def alpha_steered(k: int, bits: float = BITS_PASS_FAIL, delta: float = DELTA) -> float:
    """δ / 2^((k−1)·b): the k-th use may have been steered by the k − 1 results before it."""
    return delta * 2.0 ** (-max(0, k - 1) * bits)


def _accuracy_interval(correct: int, n: int, alpha: float) -> list[float]:
    return list(clopper_pearson(correct, n, alpha=alpha))


def _widened(value: float, ci: list[float], alpha: float, lo_cap: float = -math.inf, hi_cap: float = math.inf
             ) -> list[float]:
    """A bootstrap interval widened on each side by the normal quantile ratio (no bootstrap reaches tails of 10⁻⁶)."""
    f = widening(alpha)
    return [max(lo_cap, value - f * (value - ci[0])), min(hi_cap, value + f * (ci[1] - value))]


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
    """How precisely the holdout pins the main metric, and how that changes with every use.

    The first use's 95% interval is the holdout page's (Clopper–Pearson for accuracy, the
    percentile bootstrap of R² for regression). Later uses are covered by a union bound — over
    the models scored (fixed in advance) or over the pass/fail results that may have steered the
    model (adaptive) — which widens the same interval; the budget is the number of uses before it
    is twice as wide. Earlier evaluations of the same holdout file (by SHA-256) come from the
    review history when it is available. A first use is never a failure."""
    return reuse_outcome(ctx)


def reuse_outcome(ctx: ReviewContext, accuracy_counts: tuple[int, int] | None = None,
                  r2: tuple[int, float, list, str] | None = None) -> Outcome:
    """The check from the context's rows, or — a classifier on an engine — from ``accuracy_counts``
    (correct, scored) over every holdout row, the counts the holdout page's exact accuracy comes from,
    so the two pages show one figure (:mod:`readiness.engines.exact`); a regression on an engine: ``r2``,
    (scored rows, R², its interval, the interval's method) from the holdout page's sums."""
    ok = np.asarray(ctx.scored, dtype=bool)
    n = int(ok.sum()) if accuracy_counts is None else int(accuracy_counts[1])
    n = n if r2 is None else int(r2[0])
    findings: list[Finding] = []
    m: dict = {"n": n, "delta": DELTA, "widen": WIDEN, "bits_per_pass_fail": BITS_PASS_FAIL,
               "bits_per_score": BITS_SCORE}
    sha, source = _holdout_file(ctx)
    m["holdout_sha256"], m["holdout_source"] = sha, source
    m["evaluation_digest"] = ctx.evaluation_digest  # the history counts one use per evaluation digest
    if n == 0:
        return Outcome(summary="No holdout row has a score, so the holdout cannot be used at all.", findings=findings,
                       metrics=m, status=None)
    if ctx.task == "regression":
        if r2 is not None:
            m["metric"], m["value"], m["ci"], m["ci_method"] = "r2", float(r2[1]), list(r2[2]), r2[3]
        else:
            from sklearn.metrics import r2_score

            y = ctx.y_test.to_numpy(dtype=float)[ok]
            p = np.asarray(ctx.test_scores, dtype=float)[ok]
            m["metric"], m["value"] = "r2", float(r2_score(y, p))
            # the same call as evaluation.holdout's r2_ci, so the two pages show one interval
            m["ci"] = list(bootstrap_ci(r2_score, y, p, n_boot=ctx.settings.bootstrap,
                                        seed=ctx.settings.random_state))
            m["ci_method"] = "percentile bootstrap (as on the holdout page)"
        value, ci = m["value"], m["ci"]

        def interval(alpha: float) -> list[float]:
            return _widened(value, ci, alpha, hi_cap=1.0) if all(np.isfinite(ci)) else [math.nan, math.nan]
    else:
        correct = (int(accuracy_counts[0]) if accuracy_counts is not None else
                   int((ctx.y_test.astype(str).to_numpy()[ok] == np.asarray(ctx.test_pred).astype(str)[ok]).sum()))
        m["metric"], m["value"] = "accuracy", correct / n
        m["ci"] = _accuracy_interval(correct, n, DELTA)
        m["ci_method"] = "Clopper–Pearson (as on the holdout page)"
        m["ci_clopper_pearson"] = m["ci"]
        m["ci_wilson"] = list(wilson(correct, n))

        def interval(alpha: float) -> list[float]:
            return _accuracy_interval(correct, n, alpha)

    # budgets in uses, counted from the first use's interval
    m["budget_fixed"], m["budget_steered"] = budget_fixed(), budget_steered()
    m["budget_steered_scores"] = budget_steered(BITS_SCORE)
    prior = ctx.prior_holdout_evaluations
    uses = (prior or 0) + 1
    m["prior_evaluations"] = prior
    m["evaluations_including_this"] = uses if prior is not None else None
    m["ci_reuse_fixed"] = interval(alpha_fixed(uses))
    m["ci_reuse_adjusted"] = interval(alpha_steered(uses))
    m["remaining_fixed"] = None if prior is None else m["budget_fixed"] - uses
    m["remaining_steered"] = None if prior is None else m["budget_steered"] - uses
    ks = sorted({1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, uses})
    m["interval_curve"] = {"k": ks, "fixed": [interval(alpha_fixed(k)) for k in ks],
                           "steered": [interval(alpha_steered(k)) for k in ks]}
    # Hoeffding planning figures for a per-row score in [0, 1] (accuracy only): rows for a tolerance
    if m["metric"] == "accuracy":
        m["tolerances"] = list(EPSILONS)
        m["budget_table"] = {f"{e:g}": _budget(n, e) for e in EPSILONS}
        m["rows_needed"] = {f"{e:g}": {str(k): {"nonadaptive": rows_needed_nonadaptive(e, k),
                                                "adaptive": rows_needed_adaptive(e, k)} for k in KS}
                            for e in EPSILONS}

    fmt = pct if m["metric"] == "accuracy" else (lambda v: f"{v:.3f}")
    name = "accuracy" if m["metric"] == "accuracy" else "R²"

    def span(ci: list[float]) -> str:
        return f"{fmt(ci[0])}–{fmt(ci[1])}" if all(np.isfinite(ci)) else "an interval that could not be computed"

    first = f"{name} {fmt(m['value'])} (95% interval {span(m['ci'])}, the holdout page's)"
    budgets = (f"it can score {m['budget_fixed']:,} models fixed in advance, or {m['budget_steered']:,} when each "
               "result steers the next model and only pass/fail is shared, before that interval is twice as wide")
    ev = {"prior_evaluations": prior, "uses": uses, "budget_fixed": m["budget_fixed"],
          "budget_steered": m["budget_steered"], "ci": m["ci"], "ci_reuse_adjusted": m["ci_reuse_adjusted"]}
    if prior is None:
        findings.append(Finding(severity=Severity.INFO, message=(
            "No review history of this holdout file is available, so earlier uses cannot be counted. Count them "
            "yourself: every time a score on this holdout influenced a model or a threshold counts as one use.")))
        summary = f"First recorded use: {first}; {budgets}. Earlier uses are not recorded."
    elif uses == 1:
        summary = f"First use of this holdout: {first}; {budgets}."
    else:
        summary = (f"Use {uses:,} of this holdout (the review history counts {prior:,} before this one): {first}; "
                   f"if earlier results steered the model it is known only to {span(m['ci_reuse_adjusted'])}.")
        if m["remaining_fixed"] < 0:
            findings.append(Finding(severity=Severity.FAIL, evidence=ev, message=(
                f"This holdout has been evaluated {uses:,} times (including this review), past the {m['budget_fixed']:,} "
                f"that even models fixed in advance allow: {name} is known only to {span(m['ci_reuse_fixed'])} "
                f"(fixed models) or {span(m['ci_reuse_adjusted'])} (steered), against {span(m['ci'])} on first use. "
                "It is no longer an independent exam: collect a fresh holdout and share only pass/fail results.")))
        elif m["remaining_steered"] < 0:
            findings.append(Finding(severity=Severity.WARN, evidence=ev, message=(
                f"This holdout has been evaluated {uses:,} times (including this review). If earlier results steered "
                f"the model, the budget of {m['budget_steered']:,} such uses is spent and {name} is known only to "
                f"{span(m['ci_reuse_adjusted'])} instead of {span(m['ci'])}. Confirm the models were fixed in advance, "
                "or collect a fresh holdout for the release decision.")))
        else:
            findings.append(Finding(severity=Severity.INFO, message=(
                f"{m['remaining_steered']:,} more steered use(s) (pass/fail only) or {m['remaining_fixed']:,} of fixed "
                "models remain before the interval is twice as wide.")))
    if m["metric"] == "r2":
        findings.append(Finding(severity=Severity.INFO, message=(
            "R² is not bounded, so its widened interval scales the bootstrap interval by the normal quantile ratio; "
            "the budget in uses is the same as for accuracy.")))
    return Outcome(summary=summary, findings=findings, metrics=m)
