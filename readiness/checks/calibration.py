"""Calibration and uncertainty: can the model say how sure it is?

Two checks (area ``calibration``), both remedies to *communicate with ambivalence*:

* ``calibration`` — do the model's probabilities match how often things happen? Brier
  score with its Murphy decomposition, ECE (equal-width and equal-mass bins), MCE, log
  loss, the reliability diagram's data with intervals, Spiegelhalter's z and a
  Hosmer–Lemeshow test, calibration slope, per-group calibration for sensitive
  attributes, class-wise calibration for multiclass models, and a preview of Platt and
  isotonic recalibration fitted by cross-fitting on the holdout.
* ``uncertainty.abstention`` — a human-in-the-loop band: accuracy against coverage as
  the least certain predictions are deferred to people, and the band that reaches the
  target accuracy (also *act now, reflect never*: the low-confidence predictions are
  flagged).

The statistics (pure functions: arrays in, numbers out) live in
:mod:`readiness.checks.calibration_stats` and are re-exported here, so the tests and other
areas keep importing them from this module; the checks and their wording are here.
Formulas and status rules are documented in ``docs/checks.md`` (section "Calibration and
uncertainty").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from readiness.checks.calibration_stats import (  # noqa: F401  (re-exported: tests, benchmarks, comparison use them)
    HIST_BINS,
    HL_MIN_EXPECTED,
    LOG_CLIP,
    LOGIT_CLIP,
    N_BINS,
    RECAL_CLIP,
    RECAL_FOLDS,
    adaptive_ece,
    band_for_target,
    binary_metrics,
    brier,
    brier_decomposition,
    calibration_error_debiased,
    calibration_in_the_large,
    calibration_slope,
    calibration_tests,
    combined_p,
    crossfit_binary,
    crossfit_multiclass,
    ece,
    ece_noise_floor,
    equal_mass_bins,
    equal_width_bins,
    family_adjusted,
    fit_logistic_1d,
    hosmer_lemeshow,
    log_loss_binary,
    mce,
    merge_sparse_bins,
    multiclass_metrics,
    reliability_table,
    score_histogram,
    selective_curve,
    spiegelhalter,
)
from readiness.fmt import change, interval, p_text
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity
from readiness.stats import clopper_pearson

# status rules (see docs/checks.md): size of the miscalibration AND evidence it is not noise
FAIL_P, FAIL_ECE = 0.001, 0.05
WARN_P, WARN_ECE = 0.05, 0.02
MIN_ROWS = 30  # fewer labelled rows with a score: calibration is not assessed
# a pass is "inconclusive" (an info finding, issue 18) when chance alone gives an ECE above the material level
INCONCLUSIVE_NOISE = FAIL_ECE
MIN_GROUP_ROWS = 30
MAX_GROUPS = 20
# abstention
MIN_COVERAGE = 0.10  # a band must keep at least 10% of the holdout ...
MIN_KEEP = 30  # ... and at least 30 rows
MAX_DEFER = 0.50  # deferring more than half of the cases to people: warn
USEFUL_CONFIDENCE_AUC = 0.6  # confidence whose AUC (right vs wrong) is confidently below this is of no material use
CURVE_DEFERRALS = (0.1, 0.2, 0.3)  # without a target: what deferring these shares buys, from the curve
MAX_EXAMPLES = 50


def severity_for(ece_value: float, p_value: float) -> Severity | None:
    """The status rule: fail when the miscalibration is large (> 5 points) and far beyond noise (p < 0.001);
    warn when it is material (> 2 points) and beyond noise (p < 0.05); otherwise nothing to report.
    ``ece_value`` is ``calibration_error_debiased``: the plain ECE carries its own noise, so small honest holdouts
    looked materially off (issue 18: 20 of 200 fitted models warned, most off by under 2 points in truth)."""
    if p_value is None or np.isnan(p_value):
        return None
    if p_value < FAIL_P and ece_value > FAIL_ECE:
        return Severity.FAIL
    if p_value < WARN_P and ece_value > WARN_ECE:
        return Severity.WARN
    return None


# --- helpers for the checks ----------------------------------------------------------------


def _pts(x: float) -> str:
    return f"{100 * x:.1f} percentage points"


def _brier(x: float) -> str:
    return f"{x:.4f}"


def _hard_labels(values: np.ndarray) -> bool:
    u = np.unique(values[~np.isnan(values)])
    return len(u) <= 2 and set(u.tolist()) <= {0.0, 1.0}


def _score_range(values: np.ndarray) -> str:
    return f"{np.nanmin(values):.4g} to {np.nanmax(values):.4g}"


def _not_probabilities_reason(ctx: ReviewContext) -> str | None:
    """Why calibration cannot be assessed for this model/scores, or None when it can."""
    if ctx.task == "regression":
        return "Calibration applies to classifiers; this is a regression model."
    scores = np.asarray(ctx.test_scores, dtype=float)
    if not ctx.scores_are_probabilities:
        if ctx.model is not None:
            return (f"The model gives decision scores ({_score_range(scores)}), not probabilities (it has no "
                    "predict_proba), so there is no probability to calibrate.")
        return (f"The scores in '{ctx.roles.prediction_column}' run from {_score_range(scores)}: outside 0–1, so they "
                "are not probabilities (e.g. risk deciles or raw scores). Calibration is not computed rather than "
                "reading them as chances.")
    if scores.ndim == 1 and _hard_labels(scores):
        return "The scores are hard 0/1 predictions, not probabilities: there is no stated confidence to calibrate."
    return None


def _labelled(ctx: ReviewContext):
    """Rows with a score: (ok mask, scores, findings)."""
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = ctx.scored
    findings = [unscored_finding(int((~ok).sum()))] if (~ok).any() else []
    return ok, scores[ok], findings


def unscored_finding(k: int) -> Finding:
    """The note that ``k`` holdout rows without a score were left out (also on an engine, from counts)."""
    return Finding(severity=Severity.INFO, message=f"{k} holdout rows have no score and were left out.",
                   evidence={"rows_without_score": k})


def _multiclass_onehot(ctx: ReviewContext, ok: np.ndarray) -> tuple[np.ndarray, list[str]]:
    labels = [str(c) for c in ctx.classes]
    y = ctx.y_test.astype(str).to_numpy()[ok]
    return (y[:, None] == np.asarray(labels)[None, :]).astype(float), labels


def _group_values(ctx: ReviewContext, col: str, ok: np.ndarray) -> np.ndarray:
    s = ctx.test[col]
    vals = s.astype(str).to_numpy().astype(object)
    vals[s.isna().to_numpy()] = "(missing)"
    return vals[ok]


def _groups(g: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``np.unique(g, return_counts=True)`` of group names, and each row's position among them
    (hashing, not sorting, the rows: a million names sort slowly)."""
    codes, uniques = pd.factorize(g)
    order = sorted(range(len(uniques)), key=lambda i: uniques[i])
    position = np.empty(len(uniques), dtype=np.intp)
    position[order] = np.arange(len(uniques))
    return position[codes], [uniques[i] for i in order], np.bincount(codes, minlength=len(uniques))[order]


def _families_text(families: int) -> str:
    return "" if families <= 1 else f" after correcting for the {families} sets of tests this check runs"


def _per_group(ctx: ReviewContext, ok: np.ndarray, p: np.ndarray, y: np.ndarray,
               families: int = 1) -> tuple[dict, list[Finding]]:
    """Per sensitive attribute and group: predicted vs observed, ECE and a test.

    ``p``/``y`` are the reliability-diagram variables (binary: positive-class score and
    outcome; multiclass: top-label confidence and correctness)."""
    out: dict = {}
    rows_tested = []
    for col in ctx.roles.sensitive:
        g = _group_values(ctx, col, ok)
        codes, names, counts = _groups(g)
        order = np.argsort(-counts, kind="stable")
        items = []
        for i in order[:MAX_GROUPS]:
            name, m = names[i], codes == i
            n_g = int(m.sum())
            obs_ci = clopper_pearson(int(y[m].sum()), n_g)
            row = {"group": str(name), "n": n_g, "predicted": float(p[m].mean()), "observed": float(y[m].mean()),
                   "observed_ci": list(obs_ci), "gap": float(p[m].mean() - y[m].mean())}
            if n_g >= MIN_GROUP_ROWS:
                _, zp = spiegelhalter(p[m], y[m])
                citl = calibration_in_the_large(p[m], y[m])
                row.update({"ece": ece(p[m], y[m]), "calibration_error_debiased": calibration_error_debiased(p[m], y[m]),
                            "ece_noise_floor": ece_noise_floor(p[m]),
                            "p_value": combined_p(zp, citl["p_value"])})
                rows_tested.append((col, row))
            else:
                row.update({"ece": None, "calibration_error_debiased": None, "ece_noise_floor": None, "p_value": None,
                            "too_few_rows": True})
            items.append(row)
        out[col] = {"groups": items, "groups_not_shown": int(max(0, len(names) - MAX_GROUPS))}
    return out, group_findings(rows_tested, families)


def group_findings(rows_tested: list[tuple[str, dict]], families: int = 1) -> list[Finding]:
    """The per-group findings from the groups' rows that were tested ((column, row) in table order): each
    p-value corrected for the groups tested and the check's sets of tests (``row['p_value_adjusted']`` set)."""
    findings = []
    m_tests = max(1, len(rows_tested))
    for col, row in rows_tested:
        adj = family_adjusted(row["p_value"], m_tests * families)
        row["p_value_adjusted"] = adj
        sev = severity_for(row["calibration_error_debiased"], adj)
        if sev is not None:
            findings.append(Finding(severity=sev, columns=[col], message=(
                f"For {col} = {row['group']} ({row['n']:,} rows) the probabilities are off by {_pts(row['ece'])} on "
                f"average (ECE; {_pts(row['calibration_error_debiased'])} once chance is taken out), {_level_text(row['predicted'], row['observed'])} ({p_text(adj)} after correcting "
                f"for {m_tests} groups tested" + (f" and the {families} sets of tests this check runs" if families > 1 else "")
                + "). Scores do not mean the same for this group."),
                evidence={k: row[k] for k in (
                    "group", "n", "predicted", "observed", "observed_ci", "ece", "calibration_error_debiased", "p_value",
                    "p_value_adjusted")}))
    return findings


# --- the calibration check -----------------------------------------------------------------


@register("calibration", title="Calibration: can the probabilities be taken at face value?", area="calibration",
          antipatterns=("communicate_with_ambivalence",), order=60,
          task_titles={"regression": "Calibration: are the predictions right on average along their range?"})
def calibration(ctx: ReviewContext) -> Outcome:
    """Compares the model's probabilities with what happened on the holdout. Binary:
    positive-class score against outcome; multiclass: top-label confidence against
    correctness, plus class-wise (one-vs-rest) ECE. Brier score with Murphy's
    decomposition over 10 equal-width bins, ECE (10 equal-width bins), adaptive ECE
    (10 equal-mass bins), MCE, log loss, the reliability diagram with 95% Clopper–Pearson
    intervals, Spiegelhalter's z and Hosmer–Lemeshow (equal-mass bins merged until each
    expects 5 events and 5 non-events, df = bins) combined by Bonferroni, calibration slope, per-group calibration for sensitive
    attributes, and Platt / isotonic recalibration cross-fitted on the holdout (5 folds).
    Status: fail when ECE > 5 points and the combined test p < 0.001; warn when ECE > 2
    points and p < 0.05 (classes, groups: the same with Bonferroni over classes or groups), every p-value also
    multiplied by the number of sets of tests run (overall, per class, per group), so that calibrated scores
    raise an alarm in at most 5% of reviews."""
    if ctx.task == "regression":  # bias along the range and honest prediction intervals
        from readiness.checks.calibration_regression import regression_calibration

        ok = np.asarray(ctx.scored, dtype=bool)
        if int(ok.sum()) < MIN_ROWS:
            raise SkipCheck(f"Only {int(ok.sum())} holdout rows have a prediction; calibration needs {MIN_ROWS}.")
        summary, findings, m, _ = regression_calibration(ctx, ok)
        return Outcome(summary=summary, findings=findings, metrics=m)
    reason = _not_probabilities_reason(ctx)
    if reason:
        raise SkipCheck(reason)
    ok, scores, findings = _labelled(ctx)
    n = int(ok.sum())
    if n < MIN_ROWS:
        raise SkipCheck(f"Only {n} holdout rows have a label and a score; calibration needs at least {MIN_ROWS}.")
    seed, B = ctx.settings.random_state, ctx.settings.bootstrap
    if ctx.task == "binary":
        y = ctx.y_test_binary[ok].astype(float)
        p = scores
        m = binary_metrics(p, y, seed=seed, n_boot=B)
        rel_p, rel_y = p, y
    else:
        Y, labels = _multiclass_onehot(ctx, ok)
        m = multiclass_metrics(scores, Y, labels, seed=seed, n_boot=B)
        rel_p, rel_y = scores.max(axis=1), (scores.argmax(axis=1) == Y.argmax(axis=1)).astype(float)
    return calibration_outcome(ctx, m, n, findings, lambda families: _per_group(ctx, ok, rel_p, rel_y, families))


def calibration_outcome(ctx: ReviewContext, m: dict, n: int, findings: list[Finding], per_group) -> Outcome:
    """The calibration check's verdict, findings and summary from its metric set ``m`` (``binary_metrics`` /
    ``multiclass_metrics`` on ``n`` rows), one function for the in-memory rows and for figures formed from
    counts (issue 22). ``per_group(families)`` gives the per-sensitive-group metrics and findings."""
    m["n"] = n
    m["thresholds"] = {"fail_p": FAIL_P, "fail_ece": FAIL_ECE, "warn_p": WARN_P, "warn_ece": WARN_ECE,
                       "judged": "calibration_error_debiased"}

    # The check tests up to three families (overall; each class, multiclass; each group, with sensitive
    # attributes), each corrected within by Bonferroni; across families too, so that calibrated scores raise
    # an alarm in at most 5% of reviews (issue 18/23: three families at 5% each warned on 11.7% of honest
    # multiclass sets). Every p-value that decides a status is multiplied by the number of families.
    families = 1 + int(ctx.task == "multiclass" and bool(m.get("classwise"))) + int(bool(ctx.roles.sensitive))
    m["test_families"] = families
    m["calibration_p_value_adjusted"] = family_adjusted(m["calibration_p_value"], families)
    # status rule on the headline ECE and the combined test
    sev = severity_for(m["calibration_error_debiased"], m["calibration_p_value_adjusted"])
    direction, m["direction_short"] = _direction(m, ctx.task)
    m["direction"] = direction
    if sev is not None:
        findings.append(Finding(severity=sev, message=(
            f"The probabilities are off by {_pts(m['ece'])} on average (ECE; a perfectly calibrated model would show "
            f"about {_pts(m['ece_noise_floor'])} on {n:,} rows; {_pts(m['calibration_error_debiased'])} once chance is taken out)"
            + (f", {direction}" if direction else "") + f"; the calibration test rejects ({p_text(m['calibration_p_value_adjusted'])}{_families_text(families)})."),
            evidence={"ece": m["ece"], "calibration_error_debiased": m["calibration_error_debiased"], "ece_noise_floor": m["ece_noise_floor"],
                      "calibration_p_value": m["calibration_p_value"], "spiegelhalter_z": m["spiegelhalter_z"],
                      "hosmer_lemeshow_p": m["hosmer_lemeshow"]["p_value"]}))
    off = [r for r in m["reliability"] if r["count"] >= 10 and r["observed_ci"]
           and not (r["observed_ci"][0] <= r["mean_score"] <= r["observed_ci"][1])]
    m["bins_outside_interval"] = len(off)
    if off and sev is not None:
        findings.append(Finding(severity=Severity.INFO, message=(
            "Score bands where the observed rate's 95% interval misses the mean score: "
            + "; ".join(f"{r['lower']:.1f}–{r['upper']:.1f}: predicted {_pct(r['mean_score'])}, observed "
                        f"{_pct(r['observed_rate'])} ({r['count']:,} rows)" for r in off[:6]) + "."),
            evidence={"bins": off}))
    if ctx.task == "multiclass":
        findings += _classwise_findings(m, families)
    if ctx.roles.sensitive:
        m["groups"], gfind = per_group(families)
        findings += gfind
    else:
        m["groups"] = {}
    rec = m.get("recalibration") or {}
    best = rec.get("best")
    if best and sev is not None:
        after = rec[best]
        findings.append(Finding(severity=Severity.INFO, message=(
            f"A cheap fix is likely: {_method_name(best, ctx.task)} recalibration, fitted on other folds of this holdout, brings "
            f"ECE {change(_pts(rec['before']['ece']), _pts(after['ece']))} and the Brier score "
            f"{change(_brier(rec['before']['brier']), _brier(after['brier']))}. Fit the calibrator on data the model did not "
            "train on (e.g. CalibratedClassifierCV), then review again on a fresh holdout."),
            evidence={"before": rec["before"], "after": after, "method": best}))
    m["inconclusive"] = bool(sev is None and m["ece_noise_floor"] > INCONCLUSIVE_NOISE)
    if m["inconclusive"]:
        # information, not an alarm: it depends on the row count alone, so as a warning it fired on every honest
        # holdout under ~330 rows whatever the scores were (issue 18); the summary says the check cannot tell
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Too few rows to judge calibration: on {n:,} rows chance alone produces about "
            f"{_pts(m['ece_noise_floor'])} of ECE, more than the {_pts(FAIL_ECE)} that would matter, so the tests "
            "cannot tell a calibrated model from a badly calibrated one. Review again on a larger holdout."),
            evidence={"n": n, "ece": m["ece"], "ece_noise_floor": m["ece_noise_floor"]}))
    groups_off = [f for f in findings if f.columns and f.severity in (Severity.WARN, Severity.FAIL)
                  and "group" in (f.evidence or {})]
    return Outcome(summary=_calibration_summary(m, sev, n, groups_off), findings=findings, metrics=m)


def _method_name(method: str, task: str = "binary") -> str:
    if method == "platt":
        return "temperature scaling (Platt)" if task == "multiclass" else "Platt"
    return method


def _level_text(predicted: float, observed: float) -> str:
    """Whether the miscalibration is in the level (too high/low on average) or in the spread."""
    gap = predicted - observed
    if abs(gap) > WARN_ECE:
        return (f"too {'high' if gap > 0 else 'low'} on average (predicted {_pct(predicted)}, observed "
                f"{_pct(observed)})")
    return (f"though right on average (predicted {_pct(predicted)}, observed {_pct(observed)}): the error is in how "
            "the probabilities spread, not in their level")


def _direction(m: dict, task: str) -> tuple[str, str]:
    """The miscalibration's direction in plain words: (long form with numbers, short form)."""
    parts: list[tuple[str, str]] = []
    if task == "binary":
        slope = m.get("calibration_slope")
        if slope is not None and slope < 0.8:
            parts.append(("overconfident", "overconfident (scores too close to 0 and 1)"))
        elif slope is not None and slope > 1.25:
            parts.append(("underconfident", "underconfident (scores too timid)"))
        gap = m["mean_score"] - m["prevalence"]
        if abs(gap) > WARN_ECE:
            word = "too high on average" if gap > 0 else "too low on average"
            parts.append((word, f"{word} ({_pct(m['mean_score'])} predicted vs {_pct(m['prevalence'])} observed)"))
    else:
        gap = m["mean_confidence"] - m["accuracy"]
        if abs(gap) > WARN_ECE:
            word = "overconfident" if gap > 0 else "underconfident"
            parts.append((word, f"{word} (mean confidence {_pct(m['mean_confidence'])} vs accuracy "
                                f"{_pct(m['accuracy'])})"))
    return " and ".join(p[1] for p in parts), " and ".join(p[0] for p in parts)


def _groups_off_clause(groups_off: list[Finding]) -> str:
    """'group = b (15,001 rows: off by 7.1 percentage points)' for the worst group (failures first, then the
    largest ECE), and how many more groups are off."""
    rank = sorted(groups_off, key=lambda f: (f.severity != Severity.FAIL, -f.evidence["ece"]))
    w = rank[0]
    text = f"for {w.columns[0]} = {w.evidence['group']} ({w.evidence['n']:,} rows) they are off by {_pts(w.evidence['ece'])}"
    if len(rank) > 1:
        text += f", and {len(rank) - 1} more group{'s' if len(rank) > 2 else ''} {'are' if len(rank) > 2 else 'is'} off"
    return text


def _calibration_summary(m: dict, sev: Severity | None, n: int, groups_off: list[Finding] = ()) -> str:
    what = "probabilities" if m["task"] == "binary" else "confidence scores"
    ece_txt = _pts(m["ece"])
    if sev is None and groups_off and not m.get("inconclusive"):
        # the headline is right overall, but a group's warning or failure sets the status: say so first
        return (f"Not for every group: the model's {what} are right overall (off by {ece_txt} on average, ECE), but "
                f"{_groups_off_clause(groups_off)} (details below).")
    if m.get("inconclusive"):
        return (f"Too few holdout rows ({n:,}) to tell whether the model's {what} can be taken at face value: they "
                f"are off by {ece_txt} on average (ECE), but chance alone produces about "
                f"{_pts(m['ece_noise_floor'])} on this many rows.")
    p_adj = m.get("calibration_p_value_adjusted", m["calibration_p_value"])
    if sev is None:
        if p_adj < WARN_P:
            return (f"The model's {what} can be taken at face value: they are off by {ece_txt} on average (ECE), "
                    f"{_pts(m['calibration_error_debiased'])} once chance is taken out — a difference detectable on {n:,} holdout "
                    f"rows but under the {_pts(WARN_ECE)} that would matter.")
        if m["calibration_p_value"] < WARN_P:
            return (f"The model's {what} can be taken at face value: they are off by {ece_txt} on average (ECE), a "
                    f"difference this check cannot tell from chance on {n:,} holdout rows once its "
                    f"{m.get('test_families', 1)} sets of tests are counted ({p_text(m['calibration_p_value'])} alone, "
                    f"{p_text(p_adj)} corrected).")
        return (f"The model's {what} can be taken at face value: they are off by {ece_txt} on average (ECE), "
                f"no more than chance produces on {n:,} holdout rows ({p_text(p_adj)}).")
    head = ("cannot be taken at face value" if sev == Severity.FAIL else "are somewhat off")
    text = f"The model's {what} {head}: off by {ece_txt} on average (ECE)"
    if m.get("direction_short"):
        text += f", {m['direction_short']}"
    text += f", beyond chance ({p_text(p_adj)})"
    if sev == Severity.WARN and any(f.severity == Severity.FAIL for f in groups_off):
        text += f"; worse for a group: {_groups_off_clause(groups_off)}"  # a group's failure sets the status
    best = (m.get("recalibration") or {}).get("best")
    if best:
        rec = m["recalibration"]
        sampled = "recalibration" in (m.get("on_sample") or {}).get("keys", ())
        if sampled:  # an engine review: the preview is fitted and graded on the sample, its own before and after
            text += (f"; {_method_name(best, m['task'])} recalibration would bring it from {_pts(rec['before']['ece'])} "
                     f"to {_pts(rec[best]['ece'])} on the engine's sample of {m['on_sample']['rows']:,} rows")
        else:
            text += f"; {_method_name(best, m['task'])} recalibration would bring this to {_pts(rec[best]['ece'])}"
    return text + "."


def _classwise_findings(m: dict, families: int = 1) -> list[Finding]:
    k = max(1, len(m["classwise"]))
    out = []
    for c in m["classwise"]:
        adj = family_adjusted(c["p_value"], k * families)
        c["p_value_adjusted"] = adj
        if severity_for(c["calibration_error_debiased"], adj) is not None:
            out.append(Finding(severity=Severity.WARN, message=(
                f"Class '{c['class']}': its probabilities are off by {_pts(c['ece'])} on average (class-wise ECE; "
                f"{_pts(c['calibration_error_debiased'])} once chance is taken out), "
                f"{_level_text(c['predicted'], c['observed'])} ({p_text(adj)} after correcting for {k} classes"
                + (f" and the {families} sets of tests this check runs" if families > 1 else "") + ")."),
                evidence=dict(c)))
    return out


# --- the abstention check ------------------------------------------------------------------


def _confidence(ctx: ReviewContext, scores: np.ndarray) -> tuple[np.ndarray, str]:
    if ctx.task == "binary":
        return np.abs(scores - ctx.settings.threshold), "distance of the score from the decision threshold"
    return scores.max(axis=1), "top-class probability"


def _band_bounds(ctx: ReviewContext, cut: float, conf: np.ndarray) -> dict:
    """The deferral rule 'confidence < cut' in the reviewer's terms (a score band for
    binary models, a minimum top-class probability for multiclass)."""
    if not np.any(conf < cut):
        return {"lower": None, "upper": None, "min_confidence": None, "rule": "defer nothing"}
    if ctx.task == "binary":
        t = ctx.settings.threshold
        lo, hi = t - cut, t + cut
        if ctx.scores_are_probabilities:
            lo, hi = max(0.0, lo), min(1.0, hi)
        return {"lower": lo, "upper": hi, "min_confidence": None, "rule": f"defer when {lo:.3g} < score < {hi:.3g}"}
    return {"lower": None, "upper": None, "min_confidence": cut,
            "rule": f"defer when the top-class probability < {cut:.3g}"}


@register("uncertainty.abstention", title="Human review band for uncertain predictions", area="calibration",
          antipatterns=("communicate_with_ambivalence", "act_now_reflect_never"), order=61)
def abstention(ctx: ReviewContext) -> Outcome:
    """Ranks holdout predictions by confidence (binary: distance of the score from the
    decision threshold, |p − 0.5| at threshold 0.5; multiclass: top-class probability)
    and defers the least confident to people: accuracy on the kept rows against
    coverage, with 95% Clopper–Pearson intervals, and the band that reaches the target
    accuracy (``settings.target_accuracy``; without one no band is recommended) keeping at
    least 10% and 30 rows. Tests that confidence separates right from wrong (one-sided
    Mann–Whitney; AUC). Warn when confidence does not separate right from wrong, when
    the target cannot be reached, or when more than half the cases must be deferred."""
    if ctx.task == "regression":
        raise SkipCheck("A human review band by confidence applies to classifiers; this is a regression model.")
    ok, scores, findings = _labelled(ctx)
    if ctx.task == "multiclass" and not ctx.scores_are_probabilities:
        raise SkipCheck("The model gives no class probabilities, so predictions cannot be ranked by confidence.")
    n = int(ok.sum())
    if n < MIN_ROWS:
        raise SkipCheck(f"Only {n} holdout rows have a label and a score; a review band needs at least {MIN_ROWS}.")
    conf, conf_name = _confidence(ctx, scores)
    if len(np.unique(conf)) < 3:
        raise SkipCheck("The model's scores take fewer than three distinct confidence levels (hard labels), so "
                        "predictions cannot be ranked by how sure the model is.")
    y = ctx.y_test.astype(str).to_numpy()[ok]
    pred = np.asarray(ctx.test_pred).astype(str)[ok]
    correct = (y == pred).astype(float)
    acc_all = float(correct.mean())
    # a band is recommended only against a target someone set; without one the curve is shown and the
    # target asked for (the review never invents one)
    target = ctx.settings.target_accuracy
    target_source = "settings" if target is not None else None
    from scipy import stats as sst

    min_keep = max(MIN_KEEP, int(math.ceil(MIN_COVERAGE * n)))
    curve = selective_curve(conf, correct)

    # the curve at coverages 100%, 99%, ..., 10% (snapped to cuts without ties)
    points = []
    seen = set()
    for c in np.round(np.arange(1.0, MIN_COVERAGE - 1e-9, -0.01), 2):
        want = int(math.ceil(c * n))
        j = np.searchsorted(curve["k"], want, side="right") - 1
        j = max(j, 0)
        k = int(curve["k"][j])
        if k in seen:
            continue
        seen.add(k)
        lo, hi = clopper_pearson(int(round(curve["accuracy"][j] * k)), k)
        points.append({"coverage": k / n, "kept": k, "accuracy": float(curve["accuracy"][j]), "accuracy_ci": [lo, hi],
                       **_band_bounds(ctx, float(curve["cut"][j]), conf)})

    # does confidence separate right from wrong?
    auc = auc_p = None
    auc_interval = [None, None]
    n_wrong = int((correct == 0).sum())
    if 0 < n_wrong < n:
        from scipy.stats import mannwhitneyu

        from readiness.stats import auc_ci

        res = mannwhitneyu(conf[correct == 1], conf[correct == 0], alternative="greater")
        auc = float(res.statistic / ((n - n_wrong) * n_wrong))
        auc_p = float(res.pvalue)
        auc_interval = [float(v) for v in auc_ci(correct.astype(int), conf)]

    m: dict = {"task": ctx.task, "n": n, "confidence": conf_name, "threshold": ctx.settings.threshold if ctx.task == "binary" else None,
               "scores_are_probabilities": bool(ctx.scores_are_probabilities),
               "accuracy": acc_all, "accuracy_ci": list(clopper_pearson(int(correct.sum()), n)),
               "target_accuracy": None if target is None else float(target), "target_source": target_source,
               "min_keep": min_keep, "confidence_auc": auc, "confidence_auc_p": auc_p,
               "confidence_auc_ci": auc_interval, "curve": points}

    # least confident 10%: how good are the predictions a review band would take?
    # (rows with a confidence below that of the ceil(10% n)+1-th least confident row)
    cut10 = float(np.sort(conf)[min(n - 1, int(math.ceil(0.1 * n)))])
    low = conf < cut10
    k10 = int(low.sum())
    m["least_confident_10pct"] = {
        "n": k10, "cut": cut10, "accuracy": float(correct[low].mean()) if k10 else None,
        "accuracy_ci": list(clopper_pearson(int(correct[low].sum()), k10)) if k10 else None,
        "rest_accuracy": float(correct[~low].mean()),
        **_band_bounds(ctx, cut10, conf)}

    band = None
    m["deferral_options"] = [
        {"deferred_share": 1 - p_["coverage"], "kept_accuracy": p_["accuracy"], "kept_accuracy_ci": p_["accuracy_ci"]}
        for want in CURVE_DEFERRALS
        for p_ in [min(points, key=lambda r, w=want: abs((1 - r["coverage"]) - w))]]
    if target is None:
        m["band"] = None
    elif acc_all >= target:
        m["band"] = {"deferred_share": 0.0, "deferred": 0, "kept_accuracy": acc_all,
                     "kept_accuracy_ci": m["accuracy_ci"], "needed": False}
    else:
        band = band_for_target(curve, target, min_keep=min_keep)
        if band is None:
            m["band"] = None
        else:
            k = band["k"]
            ci = clopper_pearson(int(round(band["accuracy"] * k)), k)
            m["band"] = {"deferred_share": 1 - k / n, "deferred": n - k, "kept": k, "kept_accuracy": band["accuracy"],
                         "kept_accuracy_ci": list(ci), "needed": True, "cut": band["cut"],
                         **_band_bounds(ctx, band["cut"], conf)}
    # conservative band: the interval's lower bound reaches the target
    cons = None
    ks = curve["k"]
    hits = np.round(curve["accuracy"] * ks)
    with np.errstate(all="ignore"):
        lower = np.where(hits > 0, sst.beta.ppf(0.025, hits, ks - hits + 1), 0.0)  # Clopper–Pearson lower bound
    ok_j = np.flatnonzero((ks >= min_keep) & (lower >= target)) if target is not None else np.array([], int)
    if len(ok_j):
        j = ok_j[-1]
        k = int(ks[j])
        cons = {"deferred_share": 1 - k / n, "kept": k, "kept_accuracy": float(curve["accuracy"][j]),
                "kept_accuracy_lower": float(lower[j]), **_band_bounds(ctx, float(curve["cut"][j]), conf)}
    m["conservative_band"] = cons

    # flagged low-confidence predictions (the remedy for 'act now, reflect never')
    if m["band"] and m["band"].get("needed"):
        flagged = conf < m["band"]["cut"]
        basis = "target_band"
    else:
        flagged = low
        basis = "least_confident_10pct"
    m["flagged_basis"] = basis
    m["flagged_count"] = int(flagged.sum())
    m["flagged_share"] = float(flagged.mean())
    m["flagged_examples"] = _examples(ctx, ok, scores, pred, y, conf, flagged)

    # findings and summary
    target_txt = _pct(target) if target is not None else ""
    # a warning needs evidence that confidence is of no material use (the AUC interval's top below
    # USEFUL_CONFIDENCE_AUC); a test that merely fails to reject on a small holdout is an info finding (issue 18)
    unshown = (auc_p is not None and auc_p >= 0.05 and n_wrong >= 10 and n - n_wrong >= 10)
    uninformative = unshown and auc_interval[1] is not None and auc_interval[1] < USEFUL_CONFIDENCE_AUC
    if unshown:
        ci_txt = f"95% interval {auc_interval[0]:.2f}–{auc_interval[1]:.2f}" if auc_interval[1] is not None else ""
        findings.append(Finding(severity=Severity.WARN if uninformative else Severity.INFO, message=(
            f"The model's confidence does not separate right from wrong predictions (AUC {auc:.2f}, {ci_txt}, "
            f"{p_text(auc_p)}): deferring 'uncertain' cases to people would not help, and its scores do not say "
            "how sure it is." if uninformative else
            f"This holdout cannot show that the model's confidence separates right from wrong predictions (AUC "
            f"{auc:.2f}, {ci_txt}, {p_text(auc_p)}); nor does it show that it does not: {n_wrong:,} wrong "
            "predictions are too few to tell."),
            evidence={"confidence_auc": auc, "confidence_auc_p": auc_p, "confidence_auc_ci": auc_interval}))
    if target is None:
        opts = "; ".join(f"deferring the least confident {_pct(o['deferred_share'], 0)} gives {_pct(o['kept_accuracy'])} "
                         f"({interval(o['kept_accuracy_ci'], _pct)})"  # plain bounds: never '98.3%–> 99.9%'
                         for o in m["deferral_options"])
        findings.append(Finding(severity=Severity.INFO, message=(
            f"No target accuracy was set, so no review band is recommended. What deferring buys, on the rest of the "
            f"holdout (all cases: {_pct(acc_all)}): {opts}. Set the accuracy the business needs (Setup, or "
            "--target-accuracy) to get a band sized for it."),
            evidence={"deferral_options": m["deferral_options"]}))
        o = m["deferral_options"]
        summary = (f"No target accuracy was set: the model is right on {_pct(acc_all)} of cases; sending the least "
                   f"confident {_pct(o[0]['deferred_share'], 0)} to people would give {_pct(o[0]['kept_accuracy'])} on "
                   f"the rest, {_pct(o[-1]['deferred_share'], 0)} would give {_pct(o[-1]['kept_accuracy'])}. Set a target "
                   "to size the band.")
    elif m["band"] is None:
        best = max(points, key=lambda r: r["accuracy"])
        findings.append(Finding(severity=Severity.WARN, message=(
            f"No review band reaches the required accuracy {target_txt}: even keeping only the most confident "
            f"{_pct(best['coverage'])} of cases, accuracy is {_pct(best['accuracy'])}."),
            evidence={"target_accuracy": target, "best_point": best}))
        summary = (f"Deferring uncertain cases to people cannot reach {target_txt} accuracy: the best the model's "
                   f"confidence allows is {_pct(best['accuracy'])} on the most confident {_pct(best['coverage'])}.")
    elif not m["band"]["needed"]:
        lc = m["least_confident_10pct"]
        low_txt = (f"The least confident 10% of predictions ({lc['n']:,}, {lc['rule'].removeprefix('defer when ')}) "
                   f"are right {_pct(lc['accuracy'])} of the time (the rest {_pct(lc['rest_accuracy'])}); they are "
                   "flagged for optional human review." if lc["n"] else "")
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Accuracy {_pct(acc_all)} already meets the required {target_txt} without deferring any case. " + low_txt),
            evidence={k: lc[k] for k in ("accuracy", "rest_accuracy", "n")}))
        summary = f"No human review band is needed to reach {target_txt}: accuracy is already {_pct(acc_all)}"
        summary += (f"; the least confident 10% of predictions (right {_pct(lc['accuracy'])} of the time) are flagged "
                    "for optional review." if lc["n"] else ".")
    else:
        b = m["band"]
        where = (f"scores between {b['lower']:.3g} and {b['upper']:.3g}" if ctx.task == "binary"
                 else f"top-class probability below {b['min_confidence']:.3g}")
        sev = Severity.WARN if b["deferred_share"] > MAX_DEFER else Severity.INFO
        findings.append(Finding(severity=sev, message=(
            f"To reach {target_txt}, people must review {_pct(b['deferred_share'])} of cases ({b['deferred']:,} of "
            f"{n:,}: {where}); accuracy on the rest is {_pct(b['kept_accuracy'])} "
            f"({interval(b['kept_accuracy_ci'], _pct)})."
            + (" That is more than half the workload: the model does little of the work." if sev == Severity.WARN else "")
            + ("" if cons else " The interval's lower bound does not reach the target at any coverage: the holdout "
               "cannot show the band is enough.")),
            evidence={k: v for k, v in b.items()}))
        summary = (f"Sending the {_pct(b['deferred_share'])} least certain cases ({where}) to a person lifts accuracy on "
                   f"the rest {change(_pct(acc_all), _pct(b['kept_accuracy']))}, reaching the required {target_txt}.")
    if uninformative:
        summary = (f"The model's confidence does not tell right from wrong (AUC {auc:.2f}), so a human review band "
                   "would not help. " + summary)
    return Outcome(summary=summary, findings=findings, metrics=m)


def _examples(ctx, ok, scores, pred, y, conf, flagged) -> list[dict]:
    idx = np.flatnonzero(flagged)
    idx = idx[np.argsort(conf[idx], kind="stable")][:MAX_EXAMPLES]
    rows = np.flatnonzero(ok)[idx]
    id_col = ctx.roles.id_column
    ids = ctx.test[id_col].to_numpy()[rows] if id_col else rows
    out = []
    for i, r, rid in zip(idx, rows, ids, strict=True):
        score = float(scores[i]) if scores.ndim == 1 else float(scores[i].max())
        out.append({"row": int(r), "id": rid.item() if hasattr(rid, "item") else rid, "score": score,
                    "predicted": pred[i], "actual": y[i], "confidence": float(conf[i])})
    return out
