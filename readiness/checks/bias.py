"""Bias review: who the model fails, and why.

Two checks:

* ``bias.groups`` — per sensitive attribute (and pairwise intersections) and per group:
  counts, base rate, selection rate, TPR, FPR, FNR, precision, accuracy (exact
  Clopper–Pearson intervals), mean score and Brier score (bootstrap intervals) when the
  scores are probabilities; disparities against a reference group (largest group by
  default) with Newcombe intervals for every difference.
* ``bias.categories`` — the evidence, category by category, for Suresh & Guttag's seven
  sources of harm (historical, representation, measurement, aggregation, learning,
  evaluation, deployment); deployment is captured as reviewer answers.

Everything here is pure: numbers in, plain JSON out. Pages and the PDF render it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status, worst_status
from readiness.stats import clopper_pearson, wilson
from readiness.stats import rank_auc as stats_rank_auc

# --- thresholds (documented in docs/checks.md, "Bias") ---------------------------------
MISSING_GROUP = "(missing)"
OTHER_GROUP = "(other)"
INTERSECTION_SEP = " × "
SMALL_GROUP = 30  # holdout rows below which a group is "small": shown, never hidden, never failing alone
SMALL_CLASS = 5  # positives / negatives / flagged rows below which a rate is "small"
WARN_GAP = 0.10  # absolute gap in a rate (10 percentage points) that needs review
FAIL_GAP = 0.20  # gap that blocks, when beyond chance and not from a small group
FOUR_FIFTHS = 0.8  # demographic-parity ratio below which selection differs materially
MAX_GROUPS = 30  # groups per attribute; rarer values are pooled into "(other)"
NUMERIC_BINS = 5  # numeric sensitive columns with many values are cut into quantile bands
MAX_INTERSECTION_GROUPS = 60
# category thresholds
HISTORICAL_GAP = 0.10
MISSING_GAP = 0.05
CONFLICT_GAP = 0.01
SHARE_GAP = 0.05
SHARE_RATIO = 0.8
PROXY_WARN_AUC = 0.80
PROXY_NOTE_AUC = 0.70
ACCURACY_GAP_WARN = 0.05
ACCURACY_GAP_FAIL = 0.10
AUC_GAP_WARN = 0.05
AUC_GAP_FAIL = 0.10
CALIBRATION_GAP = 0.05
AMPLIFICATION_WARN = 0.05
AMPLIFICATION_FAIL = 0.10
FLIP_WARN = 0.01
HIDDEN_GAP = 0.10

CATEGORIES = ("historical", "representation", "measurement", "aggregation", "learning", "evaluation", "deployment")
CATEGORY_TITLES = {
    "historical": "Historical bias",
    "representation": "Representation bias",
    "measurement": "Measurement bias",
    "aggregation": "Aggregation bias",
    "learning": "Learning bias",
    "evaluation": "Evaluation bias",
    "deployment": "Deployment bias",
}
CATEGORY_QUESTIONS = {
    "historical": "Do the labels themselves differ between groups (the world as recorded)?",
    "representation": "Are all groups present in the data in sufficient numbers?",
    "measurement": "Are features and labels measured equally well for every group? Do features stand in for the sensitive attribute?",
    "aggregation": "Does one model for everyone serve some groups worse?",
    "learning": "Does the model widen the differences already present in the labels?",
    "evaluation": "Can the holdout show how each group is served, and do overall numbers hide a group's failure?",
    "deployment": "Will the model be used as intended, on the people it was built for, with oversight?",
}

# The deployment questionnaire: stable keys of Settings.reviewer_answers.
CHOICES_OVERSIGHT = {"all": "Every decision is reviewed by a person",
                     "some": "A person reviews some decisions (sampled, borderline or on appeal)",
                     "none": "No human review"}
CHOICES_MATCH = {"yes": "Yes, the same population", "partly": "Partly (new regions, channels or products)",
                 "no": "No, a different population", "unknown": "Not known yet"}
CHOICES_RECOURSE = {"yes": "Yes, there is a way to contest a decision", "no": "No", "unknown": "Not known yet"}
QUESTIONS: tuple[dict, ...] = (
    {"key": "intended_use", "kind": "text", "question": "What decision will the model's output drive, and how?",
     "help": "e.g. 'Scores rank loan applications; those above the threshold go to manual underwriting.'"},
    {"key": "affected_population", "kind": "text", "question": "Who is affected by these decisions?",
     "help": "The people scored, and anyone else affected by the decision (co-applicants, dependants)."},
    {"key": "human_oversight", "kind": "choice", "choices": CHOICES_OVERSIGHT,
     "question": "Does a person review the model's decisions?", "help": "Oversight catches failures the data cannot show."},
    {"key": "population_match", "kind": "choice", "choices": CHOICES_MATCH,
     "question": "Will the model be used on the same population its data came from?",
     "help": "A model used on people unlike its training data fails in ways this review cannot measure."},
    {"key": "recourse", "kind": "choice", "choices": CHOICES_RECOURSE,
     "question": "Can an affected person contest a decision?", "help": "Recourse limits the harm of the errors that remain."},
    {"key": "reference_population", "kind": "text", "question": "Shares of each group in the population the model will serve (optional)",
     "help": "e.g. 'female=51%, male=49%, North=10%' or 'region:North=0.10'. Compared with training and holdout shares."},
)
REQUIRED_ANSWERS = ("intended_use", "affected_population", "human_oversight")

_NAN = float("nan")


# --- small helpers ------------------------------------------------------------------------


def _pts(x: float) -> str:
    return f"{100 * abs(x):.1f} points"


def _ci(lo, hi) -> list | None:
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)) or (isinstance(hi, float) and math.isnan(hi)):
        return None
    return [float(lo), float(hi)]


def _label_text(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def prop(x: int, n: int) -> tuple[float | None, list | None]:
    """A proportion with its exact (Clopper–Pearson) 95% interval; None when n = 0."""
    if n <= 0:
        return None, None
    return x / n, _ci(*clopper_pearson(int(x), int(n)))


def newcombe_diff(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, list | None]:
    """p1 − p2 with Newcombe's hybrid score interval (method 10, from Wilson intervals)."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, [lo, hi]


def boot_mean_ci(values: np.ndarray, *, n_boot: int, seed: int, alpha: float = 0.05) -> list | None:
    """Percentile bootstrap interval of a mean (vectorised; chunks keep memory small)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, 2_000_000 // n))
    means = []
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        means.append(values[rng.integers(0, n, size=(k, n))].mean(axis=1))
    m = np.concatenate(means)
    return [float(np.quantile(m, alpha / 2)), float(np.quantile(m, 1 - alpha / 2))]


def rank_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """ROC AUC by the Mann–Whitney rank sum (ties count one half); None when a class is absent."""
    auc = stats_rank_auc(y, s)
    return None if math.isnan(auc) else auc


def hanley_mcneil_auc(y: np.ndarray, s: np.ndarray) -> tuple[float | None, list | None]:
    """ROC AUC with the Hanley–McNeil (1982) standard error; None when a class is absent."""
    y = np.asarray(y).astype(int)
    s = np.asarray(s, dtype=float)
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    if n1 == 0 or n0 == 0:
        return None, None
    auc = stats_rank_auc(y, s)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)
    se = math.sqrt(max(var, 0.0))
    return float(auc), [max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)]


def _missing_text(series: pd.Series) -> np.ndarray:
    from readiness.inputs.tables import MISSING_TOKENS

    miss = series.isna().to_numpy()
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        text = series.astype(str).str.strip().str.lower()
        miss = miss | text.isin(MISSING_TOKENS).to_numpy()
    return miss


# --- groups -------------------------------------------------------------------------------


@dataclass
class Attribute:
    """Group labels of one sensitive attribute (or a pairwise intersection) per row."""

    name: str
    columns: list[str]
    train: np.ndarray  # str labels per training row
    test: np.ndarray  # str labels per holdout row
    order: list[str]  # display order of the groups
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_intersection(self) -> bool:
        return len(self.columns) > 1


def _natural_order(labels: list[str]) -> list[str]:
    special = [g for g in (OTHER_GROUP, MISSING_GROUP) if g in labels]
    rest = [g for g in labels if g not in special]
    try:
        rest = sorted(rest, key=float)
    except ValueError:
        rest = sorted(rest, key=str.lower)
    return rest + special


def attribute_labels(train_col: pd.Series, test_col: pd.Series, name: str | None = None) -> Attribute:
    """Group labels for one sensitive column over both splits.

    Missing values (NaN and missing-value tokens such as '?') form the group
    "(missing)". Numeric columns with more than 10 distinct values are cut into
    ``NUMERIC_BINS`` quantile bands; beyond ``MAX_GROUPS`` values the rarest are pooled
    into "(other)".
    """
    name = name or str(train_col.name)
    both = pd.concat([train_col, test_col], ignore_index=True)
    miss = _missing_text(both)
    notes: dict[str, Any] = {}
    numeric = pd.api.types.is_numeric_dtype(both) and not pd.api.types.is_bool_dtype(both)
    values = both[~miss]
    if numeric and values.nunique() > 10:
        v = values.to_numpy(float)
        edges = np.unique(np.quantile(v, np.linspace(0, 1, NUMERIC_BINS + 1)))
        idx = np.clip(np.searchsorted(edges[1:-1], both.to_numpy(float), side="right"), 0, len(edges) - 2)
        band = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        labels = np.array([band[i] for i in idx], dtype=object)
        order = band
        notes["binned"] = [float(e) for e in edges]
    else:
        labels = np.array([_label_text(x) for x in both.to_numpy()], dtype=object)
        order = None
    labels[miss] = MISSING_GROUP
    counts = pd.Series(labels).value_counts()
    if len(counts) > MAX_GROUPS:
        keep = set(counts.index[: MAX_GROUPS - 1]) | {MISSING_GROUP}
        pooled = [g for g in counts.index if g not in keep]
        labels = np.where(pd.Series(labels).isin(keep).to_numpy(), labels, OTHER_GROUP).astype(object)
        notes["pooled_into_other"] = len(pooled)
    present = set(labels)
    order = [g for g in order if g in present] + [g for g in (MISSING_GROUP,) if g in present] if order else \
        _natural_order(sorted(present))
    n_train = len(train_col)
    return Attribute(name=name, columns=[name], train=labels[:n_train].astype(str), test=labels[n_train:].astype(str),
                     order=order, notes=notes)


def intersection(a: Attribute, b: Attribute) -> Attribute | None:
    """Pairwise intersection 'a × b'; None when it would have too many groups."""
    tr = np.char.add(np.char.add(a.train.astype(str), INTERSECTION_SEP), b.train.astype(str))
    te = np.char.add(np.char.add(a.test.astype(str), INTERSECTION_SEP), b.test.astype(str))
    present = set(tr) | set(te)
    if len(present) > MAX_INTERSECTION_GROUPS:
        return None
    order = [f"{x}{INTERSECTION_SEP}{y}" for x in a.order for y in b.order if f"{x}{INTERSECTION_SEP}{y}" in present]
    return Attribute(name=f"{a.name}{INTERSECTION_SEP}{b.name}", columns=a.columns + b.columns,
                     train=tr.astype(object).astype(str), test=te.astype(object).astype(str), order=order)


def sensitive_attributes(ctx: ReviewContext, *, intersections: bool = True) -> tuple[list[Attribute], list[str]]:
    """The sensitive attributes of the review, then their pairwise intersections.

    Returns the attributes and the names of intersections left out (too many groups).
    """
    singles = [attribute_labels(ctx.train[c], ctx.test[c], c) for c in ctx.roles.sensitive]
    out, skipped = list(singles), []
    if intersections:
        for i in range(len(singles)):
            for j in range(i + 1, len(singles)):
                x = intersection(singles[i], singles[j])
                if x is None:
                    skipped.append(f"{singles[i].name}{INTERSECTION_SEP}{singles[j].name}")
                else:
                    out.append(x)
    return out, skipped


# --- predictions as binary views ------------------------------------------------------------


@dataclass
class View:
    """One binary framing of the predictions: the positive label, or one class vs the rest."""

    label: str | None  # None for a binary task; the class for one-vs-rest
    y: np.ndarray  # 1 = actual positive
    pred: np.ndarray  # 1 = predicted positive
    score: np.ndarray | None  # probability of the positive, when the scores are probabilities


def prediction_views(ctx: ReviewContext) -> tuple[np.ndarray, list[View], np.ndarray, np.ndarray]:
    """Rows with a score (mask), the binary views, and labels / predictions as text."""
    if ctx.task not in ("binary", "multiclass"):
        raise SkipCheck("Group metrics need a classifier; this is a regression model, so the bias review "
                        "shows representation and measurement only.")
    scores = np.asarray(ctx.test_scores, dtype=float)
    ok = ~np.isnan(scores) if scores.ndim == 1 else ~np.isnan(scores).any(axis=1)
    probs = ctx.scores_are_probabilities
    y_text = np.array([_label_text(v) for v in ctx.y_test.to_numpy()], dtype=object)[ok]
    pred_all = np.asarray(ctx.test_pred)
    pred_text = np.array([_label_text(v) for v in pred_all], dtype=object)[ok]
    if ctx.task == "binary":
        y = np.asarray(ctx.y_test_binary)[ok].astype(int)
        pred = (scores[ok] >= ctx.settings.threshold).astype(int)
        views = [View(None, y, pred, np.clip(scores[ok], 0, 1) if probs else None)]
    else:
        views = []
        for i, c in enumerate(ctx.classes):
            lab = _label_text(c)
            s = scores[ok][:, i] if probs and scores.ndim == 2 and scores.shape[1] == len(ctx.classes) else None
            views.append(View(lab, (y_text == lab).astype(int), (pred_text == lab).astype(int), s))
    return ok, views, y_text, pred_text


# --- per-group statistics ---------------------------------------------------------------------


def rate_stats(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None = None, *, n_boot: int = 200,
               seed: int = 0, bootstrap: bool = True) -> dict:
    """Counts and rates of one group for one binary view, each with a 95% interval.

    Proportions get exact Clopper–Pearson intervals; mean score and Brier score a
    percentile bootstrap. A rate whose denominator is 0 is None; ``small`` marks a group
    under ``SMALL_GROUP`` rows, ``small_metrics`` the rates resting on fewer than
    ``SMALL_CLASS`` cases.
    """
    y = np.asarray(y).astype(int)
    pred = np.asarray(pred).astype(int)
    n = int(len(y))
    pos, pp = int(y.sum()), int(pred.sum())
    tp = int(((y == 1) & (pred == 1)).sum())
    fp, fn = pp - tp, pos - tp
    neg = n - pos
    tn = neg - fp
    out: dict[str, Any] = {"n": n, "positives": pos, "negatives": neg, "predicted_positive": pp,
                           "tp": tp, "fp": fp, "fn": fn, "tn": tn}
    for key, x, d in (("base_rate", pos, n), ("selection_rate", pp, n), ("tpr", tp, pos), ("fpr", fp, neg),
                      ("fnr", fn, pos), ("precision", tp, pp), ("accuracy", tp + tn, n)):
        out[key], out[f"{key}_ci"] = prop(x, d)
    out["small"] = n < SMALL_GROUP
    small_metrics = []
    if pos < SMALL_CLASS:
        small_metrics += ["tpr", "fnr"]
    if neg < SMALL_CLASS:
        small_metrics.append("fpr")
    if pp < SMALL_CLASS:
        small_metrics.append("precision")
    out["small_metrics"] = small_metrics
    if score is not None:
        s = np.asarray(score, dtype=float)
        out["mean_score"] = float(s.mean()) if n else None
        out["brier"] = float(np.mean((s - y) ** 2)) if n else None
        out["calibration_gap"] = float(np.mean(s - y)) if n else None
        if bootstrap:
            out["mean_score_ci"] = boot_mean_ci(s, n_boot=n_boot, seed=seed) if n else None
            out["brier_ci"] = boot_mean_ci((s - y) ** 2, n_boot=n_boot, seed=seed) if n else None
            out["calibration_gap_ci"] = boot_mean_ci(s - y, n_boot=n_boot, seed=seed) if n else None
    return out


_RATE_KEYS = ("base_rate", "selection_rate", "tpr", "fpr", "fnr", "precision")


def _multiclass_group(per_class: dict[str, dict], correct: int, n: int) -> dict:
    out: dict[str, Any] = {"n": n}
    out["accuracy"], out["accuracy_ci"] = prop(correct, n)
    for key in _RATE_KEYS[1:]:
        vals = [m[key] for m in per_class.values() if m.get(key) is not None]
        out[key] = float(np.mean(vals)) if vals else None
        out[f"{key}_ci"] = None
    out["base_rate"], out["base_rate_ci"] = None, None
    out["small"] = n < SMALL_GROUP
    out["small_metrics"] = sorted({k for m in per_class.values() for k in m["small_metrics"]})
    out["per_class"] = per_class
    return out


def group_stats(ctx: ReviewContext, attrs: list[Attribute], *, bootstrap: bool = True) -> tuple[dict, dict, np.ndarray]:
    """``groups[attribute][group]`` and ``overall`` for the holdout rows with a score."""
    ok, views, y_text, pred_text = prediction_views(ctx)
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    correct = y_text == pred_text

    def stats_for(mask: np.ndarray) -> dict:
        if len(views) == 1:
            v = views[0]
            return rate_stats(v.y[mask], v.pred[mask], None if v.score is None else v.score[mask],
                              n_boot=B, seed=seed, bootstrap=bootstrap)
        per = {v.label: rate_stats(v.y[mask], v.pred[mask], None if v.score is None else v.score[mask],
                                   n_boot=B, seed=seed, bootstrap=False) for v in views}
        return _multiclass_group(per, int(correct[mask].sum()), int(mask.sum()))

    overall = stats_for(np.ones(int(ok.sum()), dtype=bool))
    groups: dict[str, dict] = {}
    for a in attrs:
        labels = a.test[ok]
        groups[a.name] = {g: stats_for(labels == g) for g in a.order if (labels == g).any()}
    return groups, overall, ok


def default_reference(groups: dict[str, dict]) -> str | None:
    """The largest group (ties: first in display order), preferring a real value over '(missing)'."""
    cands = [g for g in groups if g not in (MISSING_GROUP, OTHER_GROUP)] or list(groups)
    if not cands:
        return None
    return max(cands, key=lambda g: (groups[g]["n"], -list(groups).index(g)))


# --- disparities ----------------------------------------------------------------------------------

# metric -> (numerator count, denominator count) for the rates compared between groups
_COMPARED = {
    "selection_rate": ("predicted_positive", "n"),
    "tpr": ("tp", "positives"),
    "fpr": ("fp", "negatives"),
    "precision": ("tp", "predicted_positive"),
    "accuracy": None,  # (tp + tn) / n
}
_DIFF_NAME = {"selection_rate": "demographic_parity_difference", "tpr": "equal_opportunity_difference",
              "fpr": "fpr_difference", "precision": "predictive_parity_difference", "accuracy": "accuracy_difference"}
METRIC_PHRASE = {
    "selection_rate": "share flagged positive (selection rate)",
    "tpr": "share of actual positives caught (true positive rate)",
    "fpr": "share of actual negatives wrongly flagged (false positive rate)",
    "precision": "share of flagged rows that are truly positive (precision)",
    "accuracy": "accuracy",
}
_SMALL_DENOM = {"tpr": "positives", "fpr": "negatives", "precision": "predicted_positive"}


def _counts(m: dict, metric: str) -> tuple[int, int]:
    if metric == "accuracy":
        return m["tp"] + m["tn"], m["n"]
    num, den = _COMPARED[metric]
    return m[num], m[den]


def _assess_gap(diff: float | None, ci: list | None, small: bool, *, strict: bool = False) -> tuple[Severity | None, bool]:
    """Severity of one gap: fail only beyond chance, at least FAIL_GAP, and not from a small group.

    ``strict`` (intersections: many groups, many comparisons) needs a gap beyond chance
    even for a warning.
    """
    if diff is None:
        return None, False
    significant = ci is not None and (ci[0] > 0 or ci[1] < 0)
    if abs(diff) < WARN_GAP:
        return None, significant
    if small or strict:
        if not significant:
            return Severity.INFO, significant
        if small:
            return Severity.WARN, significant
    if abs(diff) >= FAIL_GAP and significant:
        return Severity.FAIL, significant
    return Severity.WARN, significant


def compare_groups(g: dict, ref: dict, *, strict: bool = False) -> dict:
    """Disparities of group ``g`` against the reference group ``ref`` (binary counts).

    ``strict``: only gaps beyond chance count (used for intersections)."""
    row: dict[str, Any] = {"n": g["n"], "reference_n": ref["n"]}
    flags = []
    group_small = bool(g["n"] < SMALL_GROUP or ref["n"] < SMALL_GROUP)
    for metric in ("selection_rate", "tpr", "fpr", "precision", "accuracy"):
        x1, n1 = _counts(g, metric)
        x2, n2 = _counts(ref, metric)
        d, ci = newcombe_diff(x1, n1, x2, n2)
        name = _DIFF_NAME[metric]
        row[name], row[f"{name}_ci"] = d, ci
        small = group_small
        if metric in _SMALL_DENOM:
            small = small or n1 < SMALL_CLASS or n2 < SMALL_CLASS
        if metric in ("tpr", "fpr", "precision"):
            sev, sig = _assess_gap(d, ci, small, strict=strict)
            if sev is not None:
                flags.append({"metric": metric, "severity": sev.value, "difference": d, "ci": ci,
                              "significant": sig, "small": small, "group_value": x1 / n1 if n1 else None,
                              "reference_value": x2 / n2 if n2 else None})
    # demographic parity ratio: min/max of the two selection rates (1 = equal); four-fifths rule
    s1, s2 = g["selection_rate"], ref["selection_rate"]
    if s1 is None or s2 is None or max(s1, s2) == 0:
        ratio = None
    else:
        ratio = min(s1, s2) / max(s1, s2)
    row["demographic_parity_ratio"] = ratio
    if ratio is not None and ratio < FOUR_FIFTHS:
        ci = row["demographic_parity_difference_ci"]
        sig = ci is not None and (ci[0] > 0 or ci[1] < 0)
        sev = Severity.WARN if (sig and not group_small) else Severity.INFO
        flags.append({"metric": "demographic_parity_ratio", "severity": sev.value, "ratio": ratio,
                      "difference": row["demographic_parity_difference"], "ci": ci, "significant": sig,
                      "small": group_small, "group_value": s1, "reference_value": s2,
                      "group_base_rate": g.get("base_rate"), "reference_base_rate": ref.get("base_rate")})
    tpr_d, fpr_d = row["equal_opportunity_difference"], row["fpr_difference"]
    parts = [abs(x) for x in (tpr_d, fpr_d) if x is not None]
    row["equalized_odds_difference"] = max(parts) if parts else None
    row["small"] = group_small
    row["flags"] = flags
    sevs = [Severity(f["severity"]) for f in flags]
    row["severity"] = (max(sevs, key=lambda s: {Severity.INFO: 0, Severity.WARN: 1, Severity.FAIL: 2}[s]).value
                       if sevs else None)
    return row


_SEV_RANK = {None: -1, "info": 0, "warn": 1, "fail": 2}


def disparities_against(groups: dict[str, dict], reference: str, *, strict: bool | None = None) -> dict:
    """Disparities of every group of one attribute against ``reference``.

    Works from the counts stored in ``bias.groups`` metrics, so the page can switch the
    reference group without touching the data. Multiclass groups (``per_class``) are
    compared class by class; the group's row is its worst class (named in ``class``).
    """
    if reference not in groups:
        raise KeyError(f"reference group {reference!r} is not a group; groups are {list(groups)}")
    ref = groups[reference]
    if strict is None:  # intersections are labelled 'a × b'
        strict = INTERSECTION_SEP in reference
    out: dict[str, dict] = {}
    for g, m in groups.items():
        if g == reference:
            continue
        if "per_class" in m and "per_class" in ref:
            rows = {c: compare_groups(pm, ref["per_class"][c], strict=strict) for c, pm in m["per_class"].items()
                    if c in ref["per_class"]}
            if not rows:
                continue
            worst = max(rows, key=lambda c: (_SEV_RANK[rows[c]["severity"]], rows[c]["equalized_odds_difference"] or 0))
            out[g] = {**rows[worst], "class": worst, "by_class": rows}
        else:
            out[g] = compare_groups(m, ref, strict=strict)
    return {"reference": reference, "strict": strict, "groups": out}


def recompute_disparities(metrics: dict, attribute: str, reference: str) -> dict:
    """Disparities of ``attribute`` against another reference group, from ``bias.groups`` metrics."""
    groups = metrics.get("groups", {}).get(attribute)
    if groups is None:
        raise KeyError(f"no sensitive attribute {attribute!r} in this review")
    return disparities_against(groups, reference)


def _worst_summary(disp: dict) -> dict:
    rows = list(disp["groups"].values())
    big = [r for r in rows if not r["small"]]

    def mx(key, rs):
        vals = [abs(r[key]) for r in rs if r.get(key) is not None]
        return max(vals) if vals else None

    def mn(key, rs):
        vals = [r[key] for r in rs if r.get(key) is not None]
        return min(vals) if vals else None

    return {
        "max_abs_demographic_parity_difference": mx("demographic_parity_difference", big),
        "min_demographic_parity_ratio": mn("demographic_parity_ratio", big),
        "max_abs_equal_opportunity_difference": mx("equal_opportunity_difference", big),
        "max_equalized_odds_difference": mx("equalized_odds_difference", big),
        "max_abs_predictive_parity_difference": mx("predictive_parity_difference", big),
        "including_small_groups": {
            "max_equalized_odds_difference": mx("equalized_odds_difference", rows),
            "min_demographic_parity_ratio": mn("demographic_parity_ratio", rows),
        },
    }


def _flag_text(f: dict, group: str, ref: str) -> str:
    if f["metric"] == "demographic_parity_ratio":
        base = ""
        if f.get("group_base_rate") is not None and f.get("reference_base_rate") is not None:
            base = f"; actual rates {_pct(f['group_base_rate'])} vs {_pct(f['reference_base_rate'])}"
        return (f"share flagged positive {_pct(f['group_value'])} vs {_pct(f['reference_value'])} "
                f"(ratio {f['ratio']:.2f}, below the four-fifths rule{base})")
    d, ci = f["difference"], f["ci"]
    ci_txt = f"; 95% CI {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}" if ci else ""
    return (f"{METRIC_PHRASE[f['metric']]} {_pct(f['group_value'])} vs {_pct(f['reference_value'])} "
            f"({100 * d:+.1f} points{ci_txt})")


# --- bias.groups ------------------------------------------------------------------------------------


def _require_sensitive(ctx: ReviewContext) -> None:
    if not ctx.roles.sensitive:
        raise SkipCheck("No sensitive attribute was named in Setup, so no group can be compared. Name columns such as "
                        "sex, age band or region as sensitive to review bias.")


@register("bias.groups", title="Bias: metrics by group", area="bias", antipatterns=(), order=40)
def groups_check(ctx: ReviewContext) -> Outcome:
    """Per sensitive attribute and pairwise intersection, per group: rows, base rate, selection
    rate, TPR, FPR, FNR, precision, accuracy (exact 95% intervals) and, when scores are
    probabilities, mean score and Brier score (bootstrap intervals). Disparities against the
    largest group: demographic parity difference and ratio (four-fifths rule), equal
    opportunity difference (TPR), FPR difference, equalized odds difference (the larger of
    the two), predictive parity difference (precision), each difference with a Newcombe
    95% interval. Multiclass models are compared one class against the rest."""
    _require_sensitive(ctx)
    attrs, skipped = sensitive_attributes(ctx)
    groups, overall, ok = group_stats(ctx, attrs)
    reference, disparities, worst = {}, {}, {}
    findings: list[Finding] = []
    n_rows = int(ok.sum())
    if (~ok).any():
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{int((~ok).sum())} holdout rows have no score and are left out of the group metrics."),
            evidence={"rows_without_score": int((~ok).sum())}))
    for a in attrs:
        g = groups[a.name]
        ref = default_reference(g)
        reference[a.name] = ref
        if ref is None or len(g) < 2:
            disparities[a.name] = {"reference": ref, "groups": {}}
            worst[a.name] = {}
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"'{a.name}' has a single group in the holdout; there is nothing to compare."),
                evidence={"groups": list(g)}))
            continue
        d = disparities_against(g, ref)
        disparities[a.name] = d
        worst[a.name] = _worst_summary(d)
        for grp, row in d["groups"].items():
            flagged = [f for f in row["flags"] if f["severity"] in ("warn", "fail")]
            if not flagged:
                continue
            sev = Severity(row["severity"])
            cls = f" (class '{row['class']}' vs the rest)" if "class" in row else ""
            beyond = ("beyond chance" if any(f["significant"] for f in flagged)
                      else "the interval includes no gap, so this may be chance")
            small = (f" {grp} has only {row['n']} holdout rows, so this cannot fail the review on its own."
                     if row["small"] else "")
            findings.append(Finding(severity=sev, columns=a.columns, message=(
                f"{a.name} = {grp} vs {ref}{cls}: " + "; ".join(_flag_text(f, grp, ref) for f in flagged)
                + f" ({beyond}).{small}"),
                evidence={"attribute": a.name, "group": grp, "reference": ref, "n": row["n"],
                          "reference_n": row["reference_n"], "flags": flagged, "class": row.get("class")}))
        smalls = {k: v["n"] for k, v in g.items() if v["small"]}
        if smalls:
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"{a.name}: {len(smalls)} group(s) have fewer than {SMALL_GROUP} holdout rows "
                f"({', '.join(f'{k}: {v}' for k, v in list(smalls.items())[:6])}). Their numbers are shown with "
                "wide intervals and cannot fail the review on their own."), evidence={"small_groups": smalls}))
        if MISSING_GROUP in g and not a.is_intersection:
            findings.append(Finding(severity=Severity.INFO, columns=a.columns, message=(
                f"'{a.name}' is missing for {g[MISSING_GROUP]['n']} holdout rows; they form their own group "
                f"'{MISSING_GROUP}'."), evidence={"missing_rows": g[MISSING_GROUP]["n"]}))
    if skipped:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Intersections left out because they would have more than {MAX_INTERSECTION_GROUPS} groups: "
            f"{', '.join(skipped)}."), evidence={"intersections_skipped": skipped}))
    metrics = {
        "task": ctx.task,
        "positive_label": ctx.positive_label if ctx.task == "binary" else None,
        "classes": [_label_text(c) for c in ctx.classes],
        "threshold": ctx.settings.threshold if ctx.task == "binary" else None,
        "scores_are_probabilities": bool(ctx.scores_are_probabilities),
        "n": n_rows,
        "rows_without_score": int((~ok).sum()),
        "attributes": [a.name for a in attrs if not a.is_intersection],
        "intersections": [a.name for a in attrs if a.is_intersection],
        "intersections_skipped": skipped,
        "attribute_notes": {a.name: a.notes for a in attrs if a.notes},
        "thresholds": {"small_group": SMALL_GROUP, "small_class": SMALL_CLASS, "warn_gap": WARN_GAP,
                       "fail_gap": FAIL_GAP, "four_fifths": FOUR_FIFTHS},
        "overall": overall,
        "groups": groups,
        "reference": reference,
        "disparities": disparities,
        "worst": worst,
    }
    return Outcome(summary=_groups_summary(findings, attrs, worst), findings=findings, metrics=metrics)


def _groups_summary(findings: list[Finding], attrs: list[Attribute], worst: dict) -> str:
    bad = [f for f in findings if f.severity in (Severity.FAIL, Severity.WARN) and "flags" in f.evidence]
    names = ", ".join(a.name for a in attrs if not a.is_intersection)
    if not bad:
        eod = [w.get("max_equalized_odds_difference") for w in worst.values() if w]
        eod = [x for x in eod if x is not None]
        largest = f" (largest error-rate gap {_pts(max(eod))})" if eod else ""
        combos = " and their combinations" if len(attrs) > len(names.split(", ")) else ""
        return (f"Across {names}{combos}, selection and error rates stay within "
                f"{100 * WARN_GAP:.0f} points of the reference group{largest}.")
    n_fail = sum(f.severity == Severity.FAIL for f in bad)
    n_warn = len(bad) - n_fail
    n_sig = sum(any(x["significant"] for x in f.evidence["flags"]) for f in bad)

    def top_flag(f):
        return max(f.evidence["flags"], key=lambda x: (_SEV_RANK[x["severity"]], -_METRIC_PRIORITY[x["metric"]],
                                                       abs(x.get("difference") or 0)))

    first = sorted(bad, key=lambda f: (f.severity != Severity.FAIL,
                                       all(x["metric"] == "demographic_parity_ratio" for x in f.evidence["flags"]),
                                       INTERSECTION_SEP in f.evidence["attribute"],
                                       _METRIC_PRIORITY[top_flag(f)["metric"]],
                                       not any(x["significant"] for x in f.evidence["flags"]),
                                       -abs(top_flag(f).get("difference") or 0)))[0]
    ev = first.evidence
    top = top_flag(first)
    what = METRIC_PHRASE.get(top["metric"], "selection rate").split(" (")[0]
    cls = f" (class '{ev['class']}' vs the rest)" if ev.get("class") is not None else ""
    example = (f"for {ev['attribute']} = {ev['group']}{cls}, the {what} is {_pct(top['group_value'])} against "
               f"{_pct(top['reference_value'])} for {ev['reference']}")
    if n_fail:
        more = f"; {n_warn} more need review" if n_warn else ""
        return f"{n_fail} group gap(s) fail the review{more}. Worst: {example}."
    chance = ("all beyond chance" if n_sig == n_warn else "none beyond chance" if n_sig == 0
              else f"{n_sig} beyond chance")
    return (f"{n_warn} group gap(s) of {100 * WARN_GAP:.0f} points or more need review ({chance}), none large and "
            f"certain enough to fail. For example, {example}.")


_METRIC_PRIORITY = {"tpr": 0, "fpr": 1, "precision": 2, "demographic_parity_ratio": 3}


# --- reviewer answers ---------------------------------------------------------------------------------


def with_reviewer_answers(ctx: ReviewContext, answers: dict[str, str]) -> ReviewContext:
    """A copy of ``ctx`` with new reviewer answers, keeping the computed predictions.

    ``dataclasses.replace`` builds a fresh instance (cached properties are not copied);
    predictions do not depend on the answers, so they are carried over, while the digest
    (which covers the settings) is recomputed.
    """
    clean = {str(k): str(v) for k, v in (answers or {}).items() if v is not None and str(v).strip()}
    new = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"reviewer_answers": clean}))
    for name in ("test_scores", "test_pred", "y_test_binary"):
        if name in ctx.__dict__:
            new.__dict__[name] = ctx.__dict__[name]
    return new


def read_answers_file(path) -> dict[str, str]:
    """Reviewer answers from a JSON file: an object of question key -> text.

    Raises :class:`readiness.errors.ReadinessError` with a one-line message for a missing
    file, invalid JSON, a non-object, an unknown key or a non-text answer.
    """
    import json
    from pathlib import Path

    from readiness.errors import ReadinessError

    path = Path(path)
    known = [q["key"] for q in QUESTIONS]
    example = '{"intended_use": "...", "human_oversight": "some"}'
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadinessError(f"--answers file not found: {path}. Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadinessError(f"--answers file {path.name} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadinessError(f"--answers file {path.name} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                             f"write an object such as {example}.") from None
    if not isinstance(data, dict):
        raise ReadinessError(f"--answers file {path.name} must hold a JSON object such as {example}, "
                             f"not a {type(data).__name__}.")
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ReadinessError(f"--answers file {path.name} has unknown question key(s) {unknown}; known keys: {known}.")
    out = {}
    for k, v in data.items():
        if isinstance(v, (dict, list)):
            raise ReadinessError(f"--answers file {path.name}: the answer to '{k}' must be text, not a "
                                 f"{'list' if isinstance(v, list) else 'object'}.")
        if v is not None:
            out[k] = v if isinstance(v, str) else json.dumps(v)
    for q in QUESTIONS:
        if q["kind"] == "choice" and q["key"] in out and out[q["key"]] not in q["choices"]:
            raise ReadinessError(f"--answers file {path.name}: '{q['key']}' must be one of {list(q['choices'])}, "
                                 f"got {out[q['key']]!r}.")
    return out


def parse_reference_population(text: str, groups_by_attr: dict[str, list[str]]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Parse 'female=51%, male=49%, region:North=0.10' into {attribute: {group: share}}.

    Entries are separated by commas, semicolons or new lines; a group may be qualified
    as 'attribute:group' (needed when two attributes share a group name); shares are
    fractions (0.51) or percentages (51%, or any number above 1). Returns the parsed
    shares and a list of problems (one line each).
    """
    out: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    for raw in re.split(r"[,;\n]+", text or ""):
        entry = raw.strip()
        if not entry:
            continue
        if "=" not in entry:
            problems.append(f"'{entry}': write group=share, e.g. female=51%.")
            continue
        key, val = (s.strip() for s in entry.rsplit("=", 1))
        val_txt = val.rstrip("%").strip()
        try:
            share = float(val_txt)
        except ValueError:
            problems.append(f"'{entry}': the share '{val}' is not a number.")
            continue
        if val.endswith("%") or share > 1:
            share /= 100
        if not 0 <= share <= 1:
            problems.append(f"'{entry}': a share must be between 0 and 100%.")
            continue
        attr_name, group = None, key
        if ":" in key:
            a, gname = (s.strip() for s in key.split(":", 1))
            if a in groups_by_attr:
                attr_name, group = a, gname
        matches = []
        for a, gs in groups_by_attr.items():
            if attr_name is not None and a != attr_name:
                continue
            hit = next((g for g in gs if g.lower() == group.lower()), None)
            if hit is not None:
                matches.append((a, hit))
        if not matches:
            problems.append(f"'{entry}': no sensitive group called '{group}'.")
            continue
        if len(matches) > 1:
            problems.append(f"'{entry}': '{group}' is a group of {', '.join(a for a, _ in matches)}; "
                            "write attribute:group.")
            continue
        a, hit = matches[0]
        out.setdefault(a, {})[hit] = share
    for a, shares in out.items():
        if sum(shares.values()) > 1.0 + 1e-6:
            problems.append(f"The shares given for {a} add up to {100 * sum(shares.values()):.0f}%, more than 100%.")
    return out, problems


# --- bias.categories ---------------------------------------------------------------------------------


@dataclass
class _Cat:
    status: Status
    summary: str
    evidence: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"status": self.status.value, "summary": self.summary, "evidence": self.evidence}


def _lead(lead: str, texts: list[str], limit: int = 3) -> str:
    """'Lead: a; b; c; and 2 more.' — the lead keeps column names from being capitalised."""
    body = "; ".join(texts[:limit])
    more = f"; and {len(texts) - limit} more" if len(texts) > limit else ""
    return f"{lead}: {body}{more}."


def _skipped(reason: str) -> _Cat:
    return _Cat(Status.SKIPPED, reason)


def _status_of(sevs: list[Severity | None]) -> Status:
    sevs = [s for s in sevs if s is not None]
    if Severity.FAIL in sevs:
        return Status.FAIL
    if Severity.WARN in sevs:
        return Status.WARN
    return Status.PASS


def _labels_all(ctx: ReviewContext) -> pd.Series:
    return pd.concat([ctx.train[ctx.target], ctx.test[ctx.target]], ignore_index=True)


def historical(ctx: ReviewContext, singles: list[Attribute]) -> _Cat:
    """Base rates of the label by group, over training and holdout together."""
    if ctx.task == "regression":
        return _skipped("Base rates are defined for classification targets; this is a regression model.")
    y_all = np.array([_label_text(v) for v in _labels_all(ctx).to_numpy()], dtype=object)
    classes = [_label_text(ctx.positive_label)] if ctx.task == "binary" else [_label_text(c) for c in ctx.classes]
    per_attr: dict[str, dict] = {}
    sevs: list[Severity | None] = []
    worst_txt, worst_gap = None, -1.0
    for a in singles:
        labels = np.concatenate([a.train, a.test])
        table: dict[str, dict] = {}
        for g in a.order:
            m = labels == g
            n = int(m.sum())
            if not n:
                continue
            rates = {}
            for c in classes:
                x = int((y_all[m] == c).sum())
                r, ci = prop(x, n)
                rates[c] = {"positives": x, "rate": r, "ci": ci}
            table[g] = {"n": n, "small": n < SMALL_GROUP, "rates": rates}
        big = [g for g, v in table.items() if not v["small"]]
        gap_info = None
        for c in classes:
            if len(big) < 2:
                break
            hi = max(big, key=lambda g: table[g]["rates"][c]["rate"])
            lo = min(big, key=lambda g: table[g]["rates"][c]["rate"])
            th, tl = table[hi], table[lo]
            d, ci = newcombe_diff(th["rates"][c]["positives"], th["n"], tl["rates"][c]["positives"], tl["n"])
            rh, rl = th["rates"][c]["rate"], tl["rates"][c]["rate"]
            ratio = rl / rh if rh else None
            sig = ci is not None and ci[0] > 0
            sev = Severity.WARN if sig and (d >= HISTORICAL_GAP or (ratio is not None and ratio < FOUR_FIFTHS)) else None
            cand = {"class": c, "highest": hi, "highest_rate": rh, "lowest": lo, "lowest_rate": rl, "difference": d,
                    "difference_ci": ci, "ratio": ratio, "significant": sig, "severity": sev.value if sev else None}
            if gap_info is None or d > gap_info["difference"]:
                gap_info = cand
        per_attr[a.name] = {"groups": table, "largest_gap": gap_info}
        if gap_info:
            sevs.append(Severity(gap_info["severity"]) if gap_info["severity"] else None)
            if gap_info["difference"] > worst_gap:
                worst_gap = gap_info["difference"]
                cls = "" if ctx.task == "binary" else f" (class '{gap_info['class']}')"
                worst_txt = (f"{_pct(gap_info['highest_rate'])} of {a.name} = {gap_info['highest']} vs "
                             f"{_pct(gap_info['lowest_rate'])} of {gap_info['lowest']} carry the label{cls}")
    status = _status_of(sevs)
    pos = "" if ctx.task != "binary" else f" '{ctx.target} = {_label_text(ctx.positive_label)}'"
    if worst_txt is None:
        summary = "Too few rows per group to compare the labels' base rates."
    elif status == Status.WARN:
        summary = (f"The labels themselves differ by group: {worst_txt}{pos}. A model trained on them learns this "
                   "history; decide whether it reflects real risk or past treatment.")
    else:
        summary = (f"Base rates of{pos or ' the label'} are similar across groups (largest gap: {worst_txt}; "
                   f"under {100 * HISTORICAL_GAP:.0f} points or within chance).")
    return _Cat(status, summary, {"rows": "training + holdout", "attributes": per_attr})


def representation(ctx: ReviewContext, singles: list[Attribute], intersections: list[Attribute],
                   population: dict[str, dict[str, float]], problems: list[str]) -> _Cat:
    """Group shares in training vs holdout and vs the reviewer's reference population; small groups."""
    from scipy.stats import chi2_contingency

    per_attr: dict[str, dict] = {}
    issues: list[tuple[Severity, str]] = []
    for a in singles:
        n_tr, n_te = len(a.train), len(a.test)
        rows = {}
        groups = list(a.order) + [g for g in population.get(a.name, {}) if g not in a.order]
        for g in groups:
            c_tr, c_te = int((a.train == g).sum()), int((a.test == g).sum())
            rows[g] = {"train_n": c_tr, "test_n": c_te, "train_share": c_tr / n_tr if n_tr else None,
                       "test_share": c_te / n_te if n_te else None, "population_share": population.get(a.name, {}).get(g)}
        present = [g for g in a.order if rows[g]["train_n"] + rows[g]["test_n"] > 0]
        p_value = None
        if len(present) >= 2:
            table = np.array([[rows[g]["train_n"] for g in present], [rows[g]["test_n"] for g in present]])
            table = table[:, table.sum(axis=0) > 0]
            if table.shape[1] >= 2 and (table.sum(axis=1) > 0).all():
                p_value = float(chi2_contingency(table)[1])
        shift = []
        for g in present:
            r = rows[g]
            if r["train_n"] == 0 and r["test_n"] > 0:
                issues.append((Severity.FAIL, f"{a.name} = {g} appears in the holdout ({r['test_n']} rows) but never "
                                              "in training"))
            diff = (r["test_share"] or 0) - (r["train_share"] or 0)
            if abs(diff) >= SHARE_GAP and p_value is not None and p_value < 0.01:
                shift.append(g)
            if 0 < r["test_n"] < SMALL_GROUP:
                issues.append((Severity.WARN, f"{a.name} = {g} has only {r['test_n']} holdout rows: too few to "
                                              "evaluate"))
        if shift:
            issues.append((Severity.WARN, f"{a.name} shares differ between training and holdout ("
                           + ", ".join(f"{g} {_pct(rows[g]['train_share'])} → {_pct(rows[g]['test_share'])}" for g in shift)
                           + ")"))
        under = []
        for g, share in population.get(a.name, {}).items():
            r = rows[g]
            ts = r["train_share"] or 0
            if r["train_n"] == 0 and share > 0:
                issues.append((Severity.FAIL, f"{a.name} = {g} is {_pct(share)} of the population but absent from "
                                              "training"))
                under.append(g)
            elif share >= 0.01 and ts < share and (ts < SHARE_RATIO * share or share - ts >= SHARE_GAP):
                issues.append((Severity.WARN, f"{a.name} = {g} is under-represented: {_pct(ts)} of training vs "
                                              f"{_pct(share)} of the population"))
                under.append(g)
        per_attr[a.name] = {"groups": rows, "chi2_p_value": p_value, "shifted": shift, "vs_population": under,
                            "small_in_holdout": [g for g in present if 0 < rows[g]["test_n"] < SMALL_GROUP]}
    small_x = {}
    for a in intersections:
        counts = {g: int((a.test == g).sum()) for g in a.order}
        small = {g: c for g, c in counts.items() if 0 < c < SMALL_GROUP}
        if small:
            small_x[a.name] = small
    for p in problems:
        issues.append((Severity.WARN, f"reference population: {p}"))
    status = _status_of([s for s, _ in issues])
    if issues:
        ordered = sorted(issues, key=lambda t: t[0] != Severity.FAIL)
        summary = _lead("Not every group is represented well", [t for _, t in ordered])
    else:
        summary = ("Every group is present in training and holdout in similar shares, with at least "
                   f"{SMALL_GROUP} holdout rows each.")
        if not population:
            summary += " No reference population was entered to compare against."
    if small_x and status == Status.PASS:
        summary += f" Some combinations of groups are small ({sum(len(v) for v in small_x.values())} under {SMALL_GROUP} rows)."
    return _Cat(status, summary, {"attributes": per_attr, "small_intersections": small_x,
                                  "reference_population": population, "reference_population_problems": problems,
                                  "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def _column_missing(series: pd.Series) -> np.ndarray:
    from readiness.checks.data_quality import sentinel_values

    miss = _missing_text(series)
    sentinels = sentinel_values(series)
    if sentinels:
        vals = pd.to_numeric(series, errors="coerce").to_numpy(float)
        miss = miss | np.isin(vals, [float(s) for s in sentinels])
    return miss


def _bins(train_col: pd.Series, test_col: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Discretise one feature for the proxy test: training quantile bins or top categories; NaN its own bin."""
    numeric = pd.api.types.is_numeric_dtype(train_col) and not pd.api.types.is_bool_dtype(train_col)
    if numeric and train_col.nunique() > 20:
        v_tr = train_col.to_numpy(float)
        edges = np.unique(np.nanquantile(v_tr, np.linspace(0, 1, 11)[1:-1]))
        def code(s):
            v = s.to_numpy(float)
            c = np.searchsorted(edges, v, side="right")
            return np.where(np.isnan(v), len(edges) + 1, c)
        return code(train_col), code(test_col), len(edges) + 2
    tr = train_col.astype(str).where(train_col.notna(), "\0nan").to_numpy()
    te = test_col.astype(str).where(test_col.notna(), "\0nan").to_numpy()
    top = pd.Series(tr).value_counts().index[:MAX_GROUPS].tolist()
    idx = {v: i for i, v in enumerate(top)}
    other = len(top)
    return (np.array([idx.get(v, other) for v in tr]), np.array([idx.get(v, other) for v in te]), other + 1)


def proxy_strength(ctx: ReviewContext, attr: Attribute, features: list[str]) -> dict:
    """How well each feature alone (and all together, naive Bayes) predicts the groups of ``attr``.

    Group frequencies per feature bin are learned on training rows and scored on holdout
    rows; the result is the one-vs-rest ROC AUC averaged over groups (0.5 = no
    information, 1 = the feature reveals the group).
    """
    targets = [g for g in attr.order if g not in (MISSING_GROUP, OTHER_GROUP)
               and (attr.test == g).sum() >= SMALL_CLASS and (attr.train == g).sum() >= SMALL_CLASS]
    if len(targets) < 2:
        return {}
    tr_keep = np.isin(attr.train, targets)
    te_keep = np.isin(attr.test, targets)
    pos = {g: i for i, g in enumerate(targets)}
    g_tr = np.array([pos[x] for x in attr.train[tr_keep]])
    g_te = np.array([pos[x] for x in attr.test[te_keep]])
    k = len(targets)
    prior = np.bincount(g_tr, minlength=k) + 1.0
    log_post = np.tile(np.log(prior / prior.sum()), (int(te_keep.sum()), 1))
    out: dict[str, dict] = {}

    def auc_of(probs: np.ndarray) -> tuple[float, str, float]:
        aucs = []
        for j in range(k):
            yj = (g_te == j).astype(int)
            a = rank_auc(yj, probs[:, j])
            aucs.append(0.5 if a is None else a)
        best = int(np.argmax(aucs))
        mean = float(np.mean(aucs)) if k > 2 else float(aucs[0])
        return mean, targets[best], float(aucs[best])

    for f in features:
        b_tr, b_te, nb = _bins(ctx.train[f][tr_keep], ctx.test[f][te_keep])
        counts = np.zeros((nb, k))
        np.add.at(counts, (b_tr, g_tr), 1)
        p_g_given_b = (counts + prior / prior.sum()) / (counts.sum(axis=1, keepdims=True) + 1.0)
        mean, best_g, best_auc = auc_of(p_g_given_b[b_te])
        out[f] = {"auc": mean, "best_group": best_g, "best_group_auc": best_auc}
        p_b_given_g = (counts + 1.0) / (counts.sum(axis=0, keepdims=True) + nb)
        log_post += np.log(p_b_given_g[b_te])
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    mean, best_g, best_auc = auc_of(post)
    return {"features": dict(sorted(out.items(), key=lambda kv: -kv[1]["auc"])),
            "all_features": {"auc": mean, "best_group": best_g, "best_group_auc": best_auc}, "groups": targets}


def measurement(ctx: ReviewContext, singles: list[Attribute]) -> _Cat:
    """Missingness and label conflicts by group; features that act as proxies for a sensitive attribute."""
    sensitive = set(ctx.roles.sensitive)
    feats = [c for c in ctx.features if c not in sensitive and c in ctx.train.columns and c in ctx.test.columns]
    both = pd.concat([ctx.train, ctx.test], ignore_index=True)
    issues: list[tuple[Severity, str]] = []
    missing_gaps = []
    for f in feats:
        miss = _column_missing(both[f])
        if not miss.any():
            continue
        for a in singles:
            labels = np.concatenate([a.train, a.test])
            rates = {}
            for g in a.order:
                m = labels == g
                if m.sum() >= SMALL_GROUP and g != MISSING_GROUP:
                    rates[g] = (int(miss[m].sum()), int(m.sum()))
            if len(rates) < 2:
                continue
            hi = max(rates, key=lambda g: rates[g][0] / rates[g][1])
            lo = min(rates, key=lambda g: rates[g][0] / rates[g][1])
            d, ci = newcombe_diff(*rates[hi], *rates[lo])
            if d >= MISSING_GAP and ci is not None and ci[0] > 0:
                missing_gaps.append({"column": f, "attribute": a.name, "highest": hi, "highest_rate": rates[hi][0] / rates[hi][1],
                                     "lowest": lo, "lowest_rate": rates[lo][0] / rates[lo][1], "difference": d, "difference_ci": ci})
                issues.append((Severity.WARN, f"'{f}' is missing for {_pct(rates[hi][0] / rates[hi][1])} of {a.name} = {hi} "
                                              f"vs {_pct(rates[lo][0] / rates[lo][1])} of {lo}"))
    missing_gaps.sort(key=lambda r: -r["difference"])
    # label conflicts: identical features, different labels
    conflict = {}
    all_feats = [c for c in ctx.features if c in both.columns]
    if all_feats:
        key = pd.util.hash_pandas_object(both[all_feats], index=False).to_numpy()
        n_labels = pd.Series(both[ctx.target].astype(str).to_numpy()).groupby(key).nunique()
        bad = set(n_labels[n_labels > 1].index)
        conflicted = np.isin(key, list(bad)) if bad else np.zeros(len(both), dtype=bool)
        for a in singles:
            labels = np.concatenate([a.train, a.test])
            rates = {g: {"rows": int(conflicted[labels == g].sum()), "n": int((labels == g).sum())} for g in a.order}
            for r in rates.values():
                r["rate"] = r["rows"] / r["n"] if r["n"] else None
            big = {g: r for g, r in rates.items() if r["n"] >= SMALL_GROUP and g != MISSING_GROUP}
            gap = None
            if len(big) >= 2:
                hi = max(big, key=lambda g: big[g]["rate"])
                lo = min(big, key=lambda g: big[g]["rate"])
                d, ci = newcombe_diff(big[hi]["rows"], big[hi]["n"], big[lo]["rows"], big[lo]["n"])
                gap = {"highest": hi, "lowest": lo, "difference": d, "difference_ci": ci}
                if d >= CONFLICT_GAP and ci is not None and ci[0] > 0:
                    issues.append((Severity.WARN, f"labels conflict for {_pct(big[hi]['rate'])} of {a.name} = {hi} "
                                                  f"vs {_pct(big[lo]['rate'])} of {lo} (identical features, different "
                                                  "outcome)"))
            conflict[a.name] = {"groups": rates, "largest_gap": gap}
    # proxies
    proxies = {}
    for a in singles:
        p = proxy_strength(ctx, a, feats)
        if not p:
            continue
        proxies[a.name] = p
        for f, r in p["features"].items():
            if r["auc"] >= PROXY_WARN_AUC:
                issues.append((Severity.WARN, f"'{f}' reveals {a.name} (AUC {r['auc']:.2f}): it can act as a proxy "
                                              "even if the model never sees the attribute"))
        if p["all_features"]["auc"] >= PROXY_WARN_AUC and not any(r["auc"] >= PROXY_WARN_AUC for r in p["features"].values()):
            issues.append((Severity.WARN, f"the features together reveal {a.name} (AUC {p['all_features']['auc']:.2f})"))
    status = _status_of([s for s, _ in issues])
    if issues:
        summary = _lead("The data is not measured alike for every group", [t for _, t in issues])
    else:
        strongest = max(((f, a, r["auc"]) for a, p in proxies.items() for f, r in p["features"].items()),
                        key=lambda t: t[2], default=None)
        summary = "Missing values and label conflicts are spread evenly across groups"
        summary += (f"; no feature reveals a sensitive attribute (strongest: '{strongest[0]}' for {strongest[1]}, "
                    f"AUC {strongest[2]:.2f})." if strongest else ".")
    return _Cat(status, summary, {
        "missingness_gaps": missing_gaps[:20], "label_conflicts": conflict,
        "proxies": {a: {"features": dict(list(p["features"].items())[:10]), "all_features": p["all_features"],
                        "groups": p["groups"]} for a, p in proxies.items()},
        "proxy_thresholds": {"warn_auc": PROXY_WARN_AUC, "note_auc": PROXY_NOTE_AUC},
        "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def aggregation(ctx: ReviewContext, attrs: list[Attribute], groups: dict, overall: dict, ok: np.ndarray,
                views: list[View]) -> _Cat:
    """One model for all: per-group accuracy, ranking quality (AUC) and calibration against the whole."""
    issues: list[tuple[Severity, str]] = []
    per_attr: dict[str, dict] = {}
    binary = len(views) == 1
    v = views[0]
    overall_auc = None
    if binary and len(np.unique(np.asarray(ctx.test_scores, dtype=float)[ok])) > 2:
        overall_auc, _ = hanley_mcneil_auc(v.y, np.asarray(ctx.test_scores, dtype=float)[ok])
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    for a in attrs:
        labels = a.test[ok]
        rows = {}
        for g, m in groups[a.name].items():
            mask = labels == g
            row = {"n": m["n"], "small": m["small"], "accuracy": m["accuracy"], "accuracy_ci": m["accuracy_ci"],
                   "accuracy_gap": overall["accuracy"] - m["accuracy"] if m["accuracy"] is not None else None}
            if overall_auc is not None:
                auc, auc_ci = hanley_mcneil_auc(v.y[mask], np.asarray(ctx.test_scores, dtype=float)[ok][mask])
                row.update({"auc": auc, "auc_ci": auc_ci, "auc_gap": overall_auc - auc if auc is not None else None})
            if binary and v.score is not None:
                gap = float(np.mean(v.score[mask] - v.y[mask]))
                row.update({"calibration_gap": gap,
                            "calibration_gap_ci": boot_mean_ci(v.score[mask] - v.y[mask], n_boot=B, seed=seed)})
            rows[g] = row
            if m["small"]:
                continue
            gap, ci = row["accuracy_gap"], row["accuracy_ci"]
            if gap is not None and ci is not None and ci[1] < overall["accuracy"] and gap >= ACCURACY_GAP_WARN:
                sev = Severity.FAIL if gap >= ACCURACY_GAP_FAIL else Severity.WARN
                issues.append((sev, f"accuracy for {a.name} = {g} is {_pct(m['accuracy'])} vs {_pct(overall['accuracy'])} "
                                    "overall"))
            ag, aci = row.get("auc_gap"), row.get("auc_ci")
            if ag is not None and aci is not None and aci[1] < overall_auc and ag >= AUC_GAP_WARN \
                    and m["positives"] >= SMALL_CLASS and m["negatives"] >= SMALL_CLASS:
                sev = Severity.FAIL if ag >= AUC_GAP_FAIL else Severity.WARN
                issues.append((sev, f"the model ranks {a.name} = {g} worse (AUC {row['auc']:.3f} vs {overall_auc:.3f} "
                                    "overall)"))
            cg, cci = row.get("calibration_gap"), row.get("calibration_gap_ci")
            if cg is not None and cci is not None and abs(cg) >= CALIBRATION_GAP and (cci[0] > 0 or cci[1] < 0):
                word = "over" if cg > 0 else "under"
                issues.append((Severity.WARN, f"scores {word}state the risk for {a.name} = {g} by {_pts(cg)} "
                                              "(mean score vs actual rate)"))
        per_attr[a.name] = rows
    status = _status_of([s for s, _ in issues])
    if issues:
        ordered = sorted(issues, key=lambda t: t[0] != Severity.FAIL)
        summary = _lead("One model for everyone serves some groups worse", [t for _, t in ordered])
    else:
        what = ["accuracy"] + (["ranking (AUC)"] if overall_auc is not None else []) + \
            (["calibration"] if binary and v.score is not None else [])
        what_txt = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
        summary = (f"{what_txt[0].upper() + what_txt[1:]} {'holds' if len(what) == 1 else 'hold'} up in every group of at least "
                   f"{SMALL_GROUP} rows: one model for all does not visibly fail a group.")
    return _Cat(status, summary, {"overall_accuracy": overall["accuracy"], "overall_auc": overall_auc,
                                  "attributes": per_attr, "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def amplification(y_g, p_g, y_r, p_r, *, n_boot: int, seed: int) -> dict:
    """|selection gap| − |base-rate gap| between a group and the reference, with a bootstrap interval.

    Rows are resampled within each group; because a row is one of four (label,
    decision) cells, a resample is a multinomial draw of the cell counts.
    """
    def cells(y, p):
        y, p = np.asarray(y).astype(int), np.asarray(p).astype(int)
        return np.array([((y == a) & (p == b)).sum() for a in (0, 1) for b in (0, 1)], dtype=float)

    cg, cr = cells(y_g, p_g), cells(y_r, p_r)
    ng, nr = cg.sum(), cr.sum()

    def stat(c, n):  # c: (..., 4) counts of (y0p0, y0p1, y1p0, y1p1)
        sel = (c[..., 1] + c[..., 3]) / n
        base = (c[..., 2] + c[..., 3]) / n
        return sel, base

    sg, bg = stat(cg, ng)
    sr, br = stat(cr, nr)
    label_gap, model_gap = float(bg - br), float(sg - sr)
    amp = abs(model_gap) - abs(label_gap)
    rng = np.random.default_rng(seed)
    bcg = rng.multinomial(int(ng), cg / ng, size=n_boot)
    bcr = rng.multinomial(int(nr), cr / nr, size=n_boot)
    s1, b1 = stat(bcg, ng)
    s2, b2 = stat(bcr, nr)
    boots = np.abs(s1 - s2) - np.abs(b1 - b2)
    return {"label_gap": label_gap, "model_gap": model_gap, "amplification": float(amp),
            "amplification_ci": [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))]}


FLIP_SAMPLE = 2000  # holdout rows used by the flip test (seeded sample when larger)


def flip_test(ctx: ReviewContext, column: str, *, max_values: int = 5) -> dict | None:
    """Share of holdout decisions that change when only ``column`` is set to another value.

    Values tried: the ``max_values`` most frequent ones (numeric columns with more than 10
    values: their 10/30/50/70/90% quantiles). On at most ``FLIP_SAMPLE`` holdout rows, in
    one batched prediction; the share comes with an exact 95% interval.
    """
    if ctx.model is None or column not in ctx.features:
        return None
    X = ctx.test
    rows = np.arange(len(X))
    if len(X) > FLIP_SAMPLE:
        rows = np.sort(np.random.default_rng(ctx.settings.random_state).choice(len(X), FLIP_SAMPLE, replace=False))
    Xs = X.iloc[rows].reset_index(drop=True)
    col = X[column].dropna()
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and col.nunique() > 10:
        values = sorted(set(np.quantile(col.to_numpy(float), [0.1, 0.3, 0.5, 0.7, 0.9]).tolist()))
    else:
        values = col.value_counts().index[:max_values].tolist()
    if ctx.task == "binary":
        base = (np.asarray(ctx.test_scores, dtype=float)[rows] >= ctx.settings.threshold).astype(str)
    else:
        base = np.asarray(ctx.test_pred).astype(str)[rows]
    parts, owner = [], []
    own = Xs[column].to_numpy()
    for v in values:
        idx = np.flatnonzero(pd.isna(own) | (own != v))
        if len(idx):
            alt = Xs.iloc[idx].copy()
            alt[column] = v
            parts.append(alt)
            owner.append(idx)
    changed = np.zeros(len(Xs), dtype=bool)
    if parts:
        batch = pd.concat(parts, ignore_index=True)
        idx = np.concatenate(owner)
        if ctx.task == "binary":
            pred = (np.asarray(ctx.model.scores(batch), dtype=float) >= ctx.settings.threshold).astype(str)
        else:
            pred = np.asarray(ctx.model.predict(batch)).astype(str)
        np.logical_or.at(changed, idx, pred != base[idx])
    k = int(changed.sum())
    return {"values_tried": [_label_text(v) for v in values], "rows": int(len(Xs)), "changed": k,
            "changed_share": k / len(Xs) if len(Xs) else 0.0,
            "changed_share_ci": _ci(*clopper_pearson(k, len(Xs))) if len(Xs) else None}


def learning(ctx: ReviewContext, attrs: list[Attribute], ok: np.ndarray, views: list[View], reference: dict) -> _Cat:
    """Does the model's selection gap exceed the gap in the labels (amplification); does it use the attribute?"""
    issues: list[tuple[Severity, str]] = []
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    per_attr: dict[str, dict] = {}
    for a in attrs:
        ref = reference.get(a.name)
        if ref is None:
            continue
        labels = a.test[ok]
        rows = {}
        mr = labels == ref
        for g in a.order:
            mg = labels == g
            if g == ref or not mg.any():
                continue
            best = None
            for v in views:
                r = amplification(v.y[mg], v.pred[mg], v.y[mr], v.pred[mr], n_boot=B, seed=seed)
                r["class"] = v.label
                if best is None or r["amplification"] > best["amplification"]:
                    best = r
            best["n"] = int(mg.sum())
            best["small"] = bool(mg.sum() < SMALL_GROUP or mr.sum() < SMALL_GROUP)
            rows[g] = best
            lo = best["amplification_ci"][0]
            if best["amplification"] >= AMPLIFICATION_WARN and lo > 0:
                sev = Severity.WARN if best["small"] or best["amplification"] < AMPLIFICATION_FAIL else Severity.FAIL
                cls = f" for class '{best['class']}'" if best["class"] is not None else ""
                issues.append((sev, f"the model widens the gap between {a.name} = {g} and {ref}{cls}: labels differ by "
                                    f"{100 * best['label_gap']:+.1f} points, decisions by {100 * best['model_gap']:+.1f}"))
        per_attr[a.name] = {"reference": ref, "groups": rows}
    direct = {}
    for col in ctx.roles.sensitive:
        if ctx.model is None:
            direct[col] = {"used": None, "note": "a prediction column was reviewed; whether that model uses "
                                                 f"'{col}' cannot be seen"}
            continue
        if col not in ctx.features:
            direct[col] = {"used": False}
            continue
        ft = flip_test(ctx, col)
        direct[col] = {"used": True, "flip_test": ft}
        if ft and ft["changed_share"] >= FLIP_WARN:
            issues.append((Severity.WARN, f"it takes '{col}' as an input, and changing only {col} changes "
                                          f"{_pct(ft['changed_share'])} of holdout decisions"))
    status = _status_of([s for s, _ in issues])
    if issues:
        ordered = sorted(issues, key=lambda t: t[0] != Severity.FAIL)
        summary = _lead("The model adds to the differences between groups", [t for _, t in ordered])
    else:
        summary = "The model's decisions do not differ between groups more than the labels do"
        inputs = {c: d["flip_test"] for c, d in direct.items() if d.get("used") and d.get("flip_test")}
        if inputs:
            summary += (f"; {' and '.join(inputs)} {'is a model input' if len(inputs) == 1 else 'are model inputs'}, "
                        "but changing only " + " or ".join(inputs) + " changes "
                        + " and ".join(_pct(ft["changed_share"]) for ft in inputs.values())
                        + " of holdout decisions.")
        elif ctx.model is not None:
            summary += ", and the model does not take a sensitive attribute as an input."
        else:
            summary += "."
    return _Cat(status, summary, {"amplification": per_attr, "direct_use": direct,
                                  "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def evaluation_cat(ctx: ReviewContext, singles: list[Attribute], attrs: list[Attribute], groups: dict, overall: dict,
                   population: dict[str, dict[str, float]]) -> _Cat:
    """Is the holdout representative and large enough per group; which overall metrics hide a group's failure."""
    issues: list[tuple[Severity, str]] = []
    composition: dict[str, dict] = {}
    for a in singles:
        pop = population.get(a.name, {})
        n_te = len(a.test)
        rows = {}
        for g, share in pop.items():
            c = int((a.test == g).sum())
            lo, hi = clopper_pearson(c, n_te) if n_te else (_NAN, _NAN)
            ts = c / n_te if n_te else 0.0
            # under-represented in the holdout: the population share lies above the holdout share's interval
            off = share > hi and (share - ts >= SHARE_GAP or (share >= 0.01 and ts < SHARE_RATIO * share))
            rows[g] = {"test_n": c, "test_share": ts, "test_share_ci": _ci(lo, hi), "population_share": share,
                       "off": bool(off)}
            if off:
                issues.append((Severity.WARN, f"{a.name} = {g} is {_pct(ts)} of the holdout but {_pct(share)} of the "
                                              "population, so overall numbers weight it less than use will"))
        if rows:
            composition[a.name] = rows
    unmeasurable: dict[str, dict] = {}
    cases: dict[str, dict] = {}
    for a in singles:
        cases[a.name] = {g: {"n": m["n"], "positives": m.get("positives"), "negatives": m.get("negatives"),
                             "predicted_positive": m.get("predicted_positive")} for g, m in groups[a.name].items()}
        for g, m in groups[a.name].items():
            lack = [k for k in ("tpr", "fpr", "precision") if k in m.get("small_metrics", [])]
            if lack and not m["small"]:
                unmeasurable.setdefault(a.name, {})[g] = {"n": m["n"], "rates": lack,
                                                          "positives": m.get("positives"), "negatives": m.get("negatives")}
                issues.append((Severity.WARN, f"the holdout cannot measure {', '.join(lack)} for {a.name} = {g} "
                                              f"(fewer than {SMALL_CLASS} cases behind each)"))
    hidden = []
    binary = "per_class" not in overall
    checks = (("accuracy", 1), ("tpr", 1), ("precision", 1), ("fpr", -1)) if binary else (("accuracy", 1),)
    for a in attrs:
        for g, m in groups[a.name].items():
            for key, direction in checks:
                val, ci, ov = m.get(key), m.get(f"{key}_ci"), overall.get(key)
                if val is None or ci is None or ov is None or key in m.get("small_metrics", []):
                    continue
                gap = (ov - val) * direction  # > 0: the group is worse
                beyond = ci[1] < ov if direction > 0 else ci[0] > ov
                if gap >= HIDDEN_GAP and beyond:
                    hidden.append({"attribute": a.name, "group": g, "metric": key, "overall": ov, "group_value": val,
                                   "group_ci": ci, "gap": gap, "n": m["n"], "small": m["small"]})
    hidden.sort(key=lambda h: -h["gap"])
    for h in hidden[:5]:
        sev = Severity.INFO if h["small"] else Severity.WARN
        issues.append((sev, f"overall {METRIC_PHRASE[h['metric']].split(' (')[0]} {_pct(h['overall'])} hides "
                            f"{h['attribute']} = {h['group']} at {_pct(h['group_value'])}"))
    status = _status_of([s for s, _ in issues])
    serious = [t for s, t in issues if s != Severity.INFO]
    if serious:
        summary = _lead("The holdout cannot show every group's results as they are", serious)
    else:
        summary = ("The holdout measures every group's error rates, and no overall metric hides a group's failure by "
                   f"{100 * HIDDEN_GAP:.0f} points or more")
        summary += "." if population else "; enter a reference population to check the holdout's composition."
    return _Cat(status, summary, {"cases": cases, "composition_vs_population": composition, "unmeasurable": unmeasurable,
                                  "hidden_failures": hidden[:20], "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def deployment(answers: dict[str, str]) -> _Cat:
    """What the data cannot show: the reviewers' answers on use, population and oversight."""
    recorded = {q["key"]: {"question": q["question"], "answer": answers.get(q["key"], "").strip(),
                           "answer_text": q.get("choices", {}).get(answers.get(q["key"], "").strip(),
                                                                   answers.get(q["key"], "").strip())}
                for q in QUESTIONS if q["key"] != "reference_population"}
    missing = [k for k in REQUIRED_ANSWERS if not recorded[k]["answer"]]
    concerns = []
    if recorded["human_oversight"]["answer"] == "none":
        concerns.append("no person reviews the model's decisions")
    if recorded["population_match"]["answer"] in ("no", "partly"):
        concerns.append("the model will be used on a population that differs from its data")
    if recorded["population_match"]["answer"] == "unknown":
        concerns.append("nobody knows yet whether the model will meet the population it was built on")
    if recorded["recourse"]["answer"] == "no":
        concerns.append("affected people cannot contest a decision")
    evidence = {"answers": recorded, "unanswered": missing, "concerns": concerns}
    if missing:
        names = ", ".join(k.replace("_", " ") for k in missing)
        return _Cat(Status.WARN, f"Not yet answered by the reviewers ({names}): the data cannot show how the model "
                                 "will be used, so answer the deployment questions before sign-off.", evidence)
    if concerns:
        return _Cat(Status.WARN, "Reviewers report: " + "; ".join(concerns) + ".", evidence)
    return _Cat(Status.PASS, "Reviewers recorded the intended use, the affected population and human oversight; "
                             "nothing they reported raises a deployment concern.", evidence)


_CAT_SEVERITY = {Status.FAIL: Severity.FAIL, Status.WARN: Severity.WARN, Status.PASS: Severity.INFO,
                 Status.SKIPPED: Severity.INFO, Status.ERROR: Severity.WARN}


@register("bias.categories", title="Bias: seven sources of harm", area="bias", antipatterns=(), order=41)
def categories_check(ctx: ReviewContext) -> Outcome:
    """The evidence for each of Suresh & Guttag's seven sources of harm: historical (base
    rates of the labels by group), representation (group shares in training, holdout and
    the reviewer's reference population; groups too small to evaluate), measurement
    (missingness and label conflicts by group; features that predict the sensitive
    attribute), aggregation (per-group accuracy, AUC and calibration against the whole),
    learning (does the model's selection gap exceed the labels' gap; does changing only the
    sensitive attribute change decisions), evaluation (holdout composition, rates the
    holdout cannot measure, overall metrics that hide a group's failure) and deployment
    (the reviewers' answers)."""
    answers = dict(ctx.settings.reviewer_answers or {})
    cats: dict[str, _Cat] = {}
    no_sensitive = ("No sensitive attribute was named in Setup, so this cannot be measured. Name columns such as "
                    "sex, age band or region as sensitive.")
    if not ctx.roles.sensitive:
        for c in CATEGORIES[:-1]:
            cats[c] = _skipped(no_sensitive)
    else:
        attrs, _ = sensitive_attributes(ctx)
        singles = [a for a in attrs if not a.is_intersection]
        inters = [a for a in attrs if a.is_intersection]
        population, problems = parse_reference_population(answers.get("reference_population", ""),
                                                          {a.name: a.order for a in singles})
        cats["historical"] = _guard(historical, ctx, singles)
        cats["representation"] = _guard(representation, ctx, singles, inters, population, problems)
        cats["measurement"] = _guard(measurement, ctx, singles)
        if ctx.task in ("binary", "multiclass"):
            groups, overall, ok = group_stats(ctx, attrs, bootstrap=False)
            _, views, _, _ = prediction_views(ctx)
            reference = {a.name: default_reference(groups[a.name]) for a in attrs}
            cats["aggregation"] = _guard(aggregation, ctx, attrs, groups, overall, ok, views)
            cats["learning"] = _guard(learning, ctx, attrs, ok, views, reference)
            cats["evaluation"] = _guard(evaluation_cat, ctx, singles, attrs, groups, overall, population)
        else:
            for c in ("aggregation", "learning", "evaluation"):
                cats[c] = _skipped("Group error rates need a classifier; this is a regression model.")
    cats["deployment"] = deployment(answers)
    findings = [Finding(severity=_CAT_SEVERITY[cats[c].status], message=f"{CATEGORY_TITLES[c]}: {cats[c].summary}",
                        evidence={"category": c, "status": cats[c].status.value}) for c in CATEGORIES]
    status = worst_status(c.status for c in cats.values())
    attention = [c for c in CATEGORIES if cats[c].status in (Status.WARN, Status.FAIL, Status.ERROR)]
    skipped = [c for c in CATEGORIES if cats[c].status == Status.SKIPPED]
    if attention:
        summary = (f"{len(attention)} of 7 sources of harm need attention ({', '.join(attention)})"
                   + (f"; {len(skipped)} could not be measured." if skipped else "; the rest show nothing of concern."))
    else:
        summary = ("None of the 7 sources of harm shows a problem in the data"
                   + (f" ({len(skipped)} could not be measured)." if skipped else "."))
    metrics = {"categories": {c: cats[c].as_dict() for c in CATEGORIES}, "order": list(CATEGORIES),
               "titles": CATEGORY_TITLES, "questions": CATEGORY_QUESTIONS,
               "answers": {q["key"]: answers.get(q["key"], "") for q in QUESTIONS}}
    return Outcome(summary=summary, findings=findings, metrics=metrics, status=status)


def _guard(func, *args) -> _Cat:
    """One category that raises is reported as an error; the other six still run."""
    try:
        return func(*args)
    except SkipCheck as skip:
        return _skipped(str(skip))
    except Exception as exc:  # noqa: BLE001 — isolate like the review runner does
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        return _Cat(Status.ERROR, f"Could not be measured: {type(exc).__name__}: {detail}")
