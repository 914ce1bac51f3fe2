"""Bias review, ``bias.categories``: the evidence for Suresh & Guttag's seven sources of harm.

Historical, representation, measurement, aggregation, learning and evaluation bias are
measured on the data and the predictions; deployment bias is captured as the reviewers'
answers (the questionnaire in ``readiness.checks.bias_questions``,
``Settings.reviewer_answers``). Group statistics come from ``readiness.checks.bias_stats``;
groups, predictions and the reference group are the same as in ``bias.groups``
(``readiness.checks.bias``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from readiness.checks.bias import (
    Attribute,
    View,
    group_stats,
    outcomes,
    prediction_views,
    reference_groups,
    sensitive_attributes,
)
from readiness.checks.bias_questions import (  # noqa: F401  (re-exported for the page and the CLI)
    CHOICES_MATCH,
    CHOICES_OVERSIGHT,
    CHOICES_RECOURSE,
    QUESTIONS,
    REQUIRED_ANSWERS,
    parse_reference_population,
    read_answers_file,
)
from readiness.checks.bias_stats import (
    ACCURACY_GAP_FAIL,
    ACCURACY_GAP_WARN,
    ALPHA,
    AMPLIFICATION_FAIL,
    AMPLIFICATION_WARN,
    AUC_GAP_FAIL,
    AUC_GAP_WARN,
    CALIBRATION_GAP,
    CONFLICT_GAP,
    FLIP_WARN,
    FOUR_FIFTHS,
    HARMS,
    HIDDEN_GAP,
    HISTORICAL_GAP,
    MISSING_GAP,
    MISSING_GROUP,
    PROXY_NOTE_AUC,
    PROXY_WARN_AUC,
    SHARE_GAP,
    SHARE_RATIO,
    SMALL_CLASS,
    SMALL_GROUP,
    amplification,
    boot_mean_ci,
    ci_list,
    comparison_count,
    hanley_mcneil_auc,
    label_text,
    label_texts,
    missing_text,
    newcombe_diff,
    prop,
    proxy_strength,
    rate_counts,
)
from readiness.checks.robustness import sensitive_counterfactual
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import NEEDS_MODEL, Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status, worst_status
from readiness.stats import clopper_pearson

_NAN = float("nan")
# six measured categories share the review's family-wise error rate (Bonferroni), so honest data rarely warns
CATEGORY_ALPHA = ALPHA / 6
METRIC_PHRASE = {"accuracy": "accuracy", "tpr": "true positive rate", "fpr": "false positive rate",
                 "precision": "precision", "false_adverse_rate": "false-adverse rate",
                 "false_adverse_discovery_rate": "false-adverse discovery rate"}


def _pts(x: float) -> str:
    return f"{100 * abs(x):.1f} points"


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
    o = outcomes(ctx)
    if ctx.task == "regression":  # the mean target by group, not base rates
        from readiness.checks import bias_categories_regression as R

        return _Cat(*R.historical(ctx, singles, CATEGORY_ALPHA))
    y_all = label_texts(_labels_all(ctx))
    classes = [label_text(ctx.positive_label)] if ctx.task == "binary" else [label_text(c) for c in ctx.classes]
    per_attr: dict[str, dict] = {}
    sevs: list[Severity | None] = []
    worst_txt, worst_gap = None, -1.0
    # the highest and lowest group are picked from the data: Bonferroni over every pair of groups and class
    pairs = sum(comparison_count(len(set(np.concatenate([a.train, a.test]))), len(classes)) for a in singles)
    alpha = CATEGORY_ALPHA / max(1, pairs)
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
            _, ci_adj = newcombe_diff(th["rates"][c]["positives"], th["n"], tl["rates"][c]["positives"], tl["n"],
                                      alpha=alpha)
            sig = ci_adj is not None and ci_adj[0] > 0
            sev = Severity.WARN if sig and (d >= HISTORICAL_GAP or (ratio is not None and ratio < FOUR_FIFTHS)) else None
            cand = {"class": c, "highest": hi, "highest_rate": rh, "lowest": lo, "lowest_rate": rl, "difference": d,
                    "difference_ci": ci, "ratio": ratio, "significant": sig, "severity": sev.value if sev else None}
            if gap_info is None or d > gap_info["difference"]:
                gap_info = cand
        if gap_info:
            gap_info["disadvantaged"] = _harmed_by_selection(o, None if ctx.task == "binary" else gap_info["class"],
                                                             gap_info["difference"], gap_info["highest"],
                                                             gap_info["lowest"])
        per_attr[a.name] = {"groups": table, "largest_gap": gap_info}
        if gap_info:
            sevs.append(Severity(gap_info["severity"]) if gap_info["severity"] else None)
            if gap_info["difference"] > worst_gap:
                worst_gap = gap_info["difference"]
                cls = "" if ctx.task == "binary" else f" (class '{gap_info['class']}')"
                worst_txt = (f"{_pct(gap_info['highest_rate'])} of {a.name} = {gap_info['highest']} vs "
                             f"{_pct(gap_info['lowest_rate'])} of {gap_info['lowest']} carry the label{cls}")
                if gap_info["disadvantaged"] is not None:  # name the outcome and whom the record disfavours
                    good = gap_info["disadvantaged"] == gap_info["lowest"]
                    label = o.favorable if good else o.adverse
                    worst_txt = (f"the {'favourable' if good else 'adverse'} outcome ({ctx.target} = {label}) is "
                                 f"recorded for {_pct(gap_info['highest_rate'])} of {a.name} = {gap_info['highest']} "
                                 f"vs {_pct(gap_info['lowest_rate'])} of {gap_info['lowest']}{cls}, so the record is "
                                 f"less favourable to {a.name} = {gap_info['disadvantaged']}")
    status = _status_of(sevs)
    pos = "" if ctx.task != "binary" or o.directed else f" '{ctx.target} = {label_text(ctx.positive_label)}'"
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


def _column_missing(series: pd.Series, top_coded: frozenset = frozenset()) -> np.ndarray:
    """Missing cells of a column: empty, a missing-value word, or a sentinel number — not a top-code
    (data_quality.top_codes: the completeness check's own reading of the column)."""
    from readiness.checks.data_quality import sentinel_values

    miss = missing_text(series)
    sentinels = [v for v in sentinel_values(series) if v not in top_coded]
    if sentinels:
        vals = pd.to_numeric(series, errors="coerce").to_numpy(float)
        miss = miss | np.isin(vals, [float(s) for s in sentinels])
    return miss


def measurement(ctx: ReviewContext, singles: list[Attribute]) -> _Cat:
    """Missingness and label conflicts by group; features that act as proxies for a sensitive attribute."""
    sensitive = set(ctx.roles.sensitive)
    feats = [c for c in ctx.features if c not in sensitive and c in ctx.train.columns and c in ctx.test.columns]
    both = pd.concat([ctx.train, ctx.test], ignore_index=True)
    issues: list[tuple[Severity, str]] = []
    missing_gaps = []
    from readiness.checks.data_quality import top_codes

    caps = top_codes(ctx)
    for f in feats:
        miss = _column_missing(both[f], frozenset(caps.get(f, {})))
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
        p = proxy_strength(ctx.train, ctx.test, a, feats)
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
    o = outcomes(ctx)
    issues: list[tuple[Severity, str]] = []
    per_attr: dict[str, dict] = {}
    binary = len(views) == 1
    v = views[0]
    overall_auc = None
    if binary and len(np.unique(np.asarray(ctx.test_scores, dtype=float)[ok])) > 2:
        overall_auc, _ = hanley_mcneil_auc(v.y, np.asarray(ctx.test_scores, dtype=float)[ok])
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    # three tests per group of 30+ rows, Bonferroni over all of them
    n_tests = 3 * max(1, sum(1 for a in attrs for m in groups[a.name].values() if not m["small"]))
    alpha = CATEGORY_ALPHA / n_tests
    z_adj = NormalDist().inv_cdf(1 - alpha / 2)
    overall_cal = float(np.mean(v.score - v.y)) if binary and v.score is not None else None
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
            gap = row["accuracy_gap"]
            upper = clopper_pearson(round(m["accuracy"] * m["n"]), m["n"], alpha=alpha)[1] if gap is not None else 1.0
            if gap is not None and upper < overall["accuracy"] and gap >= ACCURACY_GAP_WARN:
                sev = Severity.FAIL if gap >= ACCURACY_GAP_FAIL else Severity.WARN
                issues.append((sev, f"accuracy for {a.name} = {g} is {_pct(m['accuracy'])} vs {_pct(overall['accuracy'])} "
                                    "overall"))
            ag, aci = row.get("auc_gap"), row.get("auc_ci")
            se = (row["auc"] - aci[0]) / 1.96 if aci is not None and aci[0] > 0 else None
            if ag is not None and se is not None and row["auc"] + z_adj * se < overall_auc and ag >= AUC_GAP_WARN \
                    and m["positives"] >= SMALL_CLASS and m["negatives"] >= SMALL_CLASS:
                sev = Severity.FAIL if ag >= AUC_GAP_FAIL else Severity.WARN
                issues.append((sev, f"the model ranks {a.name} = {g} worse (AUC {row['auc']:.3f} vs {overall_auc:.3f} "
                                    "overall)"))
            cg = row.get("calibration_gap")
            if cg is not None:  # a group calibrated differently from the whole (a model miscalibrated alike for all is
                # the calibration check's business, not bias)
                row["calibration_gap_vs_overall"] = cg - overall_cal
            se = (float(np.std(v.score[mask] - v.y[mask], ddof=1) / np.sqrt(mask.sum()))
                  if cg is not None and mask.sum() > 1 else None)
            if cg is not None and se is not None and abs(cg - overall_cal) >= CALIBRATION_GAP \
                    and abs(cg - overall_cal) > z_adj * se:
                cg = cg - overall_cal
                word = "over" if cg > 0 else "under"
                harm = ""
                if o.positive_favorable is not None:  # overstating an adverse outcome, or understating a good one, harms
                    harm = (" — to their disadvantage" if (cg > 0) != o.positive_favorable
                            else " — in their favour")
                issues.append((Severity.WARN, f"scores {word}state the chance of {o.target} = {o.positive} for "
                                              f"{a.name} = {g} by {_pts(cg)} (mean score vs actual rate, beyond the gap overall){harm}"))
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
                                  "overall_calibration_gap": overall_cal, "alpha_per_test": alpha,
                                  "attributes": per_attr, "issues": [{"severity": s.value, "text": t} for s, t in issues]})


def flip_test(ctx: ReviewContext, column: str) -> dict | None:
    """Share of holdout decisions that change when only ``column`` changes: robustness.perturbation's
    counterfactual test (swapped when the attribute has two values, else set to the value that changes
    most), the one number both checks report (issue 12: the Bias page said 1.5% on 2,000 rows where the
    Where-it-fails page said 1.8% on 16,281)."""
    if ctx.model is None or column not in ctx.features:
        return None
    cf = sensitive_counterfactual(ctx, column)
    reported = cf["by_value"]["swapped" if cf["binary"] else cf["worst_change"]]
    return {"values_tried": list(cf["by_value"]) if not cf["binary"] else ["swapped"], "how": cf["how"],
            "rows": int(reported["rows"]), "changed": int(reported["flips"]), "changed_share": float(cf["rate"]),
            "changed_share_ci": list(cf["ci"])}


def _pos_text(o, cls: str | None) -> str:
    return cls if cls is not None else (o.positive or "positive")


def _harmed_by_selection(o, cls: str | None, gap: float, group: str, ref: str) -> str | None:
    """Who a gap in predicted-positive rates (group − reference) harms, when the direction is known."""
    if gap == 0:
        return None
    if cls is None and o.positive_favorable is not None:
        favorable_positive = o.positive_favorable
    elif cls is not None and cls == o.favorable_class:
        favorable_positive = True
    else:
        return None
    group_lower = gap < 0
    return group if group_lower == favorable_positive else ref


def learning(ctx: ReviewContext, attrs: list[Attribute], ok: np.ndarray, views: list[View], reference: dict) -> _Cat:
    """Does the model's selection gap exceed the gap in the labels (amplification); does it use the attribute?"""
    o = outcomes(ctx)
    issues: list[tuple[Severity, str]] = []
    B, seed = ctx.settings.bootstrap, ctx.settings.random_state
    per_attr: dict[str, dict] = {}
    # one comparison per group and attribute (the reference is chosen from the data: every pair counts), Bonferroni
    pairs = sum(comparison_count(len(set(a.test[ok])), 1) for a in attrs)
    z_adj = NormalDist().inv_cdf(1 - CATEGORY_ALPHA / (2 * max(1, pairs)))
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
            best["disadvantaged"] = _harmed_by_selection(o, best["class"], best["model_gap"], g, ref)
            best["beyond_chance"] = bool(best["amplification"] - z_adj * best["amplification_se"] > 0)
            if best["amplification"] >= AMPLIFICATION_WARN and best["beyond_chance"]:
                sev = Severity.WARN if best["small"] or best["amplification"] < AMPLIFICATION_FAIL else Severity.FAIL
                cls = f" for class '{best['class']}'" if best["class"] is not None else ""
                against = (f" against {a.name} = {best['disadvantaged']}" if best["disadvantaged"] is not None
                           else f" between {a.name} = {g} and {ref}")
                issues.append((sev, f"the model widens the gap{against}{cls}: {o.target} = {_pos_text(o, best['class'])} "
                                    f"is recorded {100 * best['label_gap']:+.1f} points apart ({g} − {ref}), but "
                                    f"predicted {100 * best['model_gap']:+.1f} points apart"))
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
            issues.append((Severity.WARN, f"it takes '{col}' as an input, and changing only {col} ({ft['how']}) "
                                          f"changes {_pct(ft['changed_share'])} of holdout decisions"))
    status = _status_of([s for s, _ in issues])
    if issues:
        ordered = sorted(issues, key=lambda t: t[0] != Severity.FAIL)
        summary = _lead("The model adds to the differences between groups", [t for _, t in ordered])
    else:
        summary = "The model's decisions do not differ between groups more than the labels do"
        inputs = {c: d["flip_test"] for c, d in direct.items() if d.get("used") and d.get("flip_test")}
        if inputs:
            summary += (f"; {' and '.join(inputs)} {'is a model input' if len(inputs) == 1 else 'are model inputs'}, "
                        "but changing only " + " or ".join(f"{c} ({ft['how']})" for c, ft in inputs.items())
                        + " changes " + " and ".join(_pct(ft["changed_share"]) for ft in inputs.values())
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
            rows[g] = {"test_n": c, "test_share": ts, "test_share_ci": ci_list(lo, hi), "population_share": share,
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
                issues.append((Severity.INFO, f"the holdout cannot measure {', '.join(lack)} for {a.name} = {g} "
                                              f"(fewer than {SMALL_CLASS} cases behind each)"))
    hidden = []
    binary = "per_class" not in overall
    checks = (("accuracy", 1), ("tpr", 1), ("precision", 1), ("fpr", -1)) if binary else (("accuracy", 1),)
    pf = outcomes(ctx).positive_favorable
    if binary and pf is not None:  # read from the harmed side
        checks = (("accuracy", 1), ("false_adverse_rate", -1), ("false_adverse_discovery_rate", -1))
    alpha = CATEGORY_ALPHA / max(1, len(checks) * sum(len(groups[a.name]) for a in attrs))
    for a in attrs:
        for g, m in groups[a.name].items():
            for key, direction in checks:
                val, ci, ov = m.get(key), m.get(f"{key}_ci"), overall.get(key)
                if val is None or ci is None or ov is None or key in m.get("small_metrics", []):
                    continue
                if key in HARMS and rate_counts(m, key, pf)[1] < SMALL_CLASS:
                    continue
                gap = (ov - val) * direction  # > 0: the group is worse
                if gap < HIDDEN_GAP:
                    continue
                x, n = (round(val * m["n"]), m["n"]) if "tp" not in m else rate_counts(m, key, pf)[:2]
                lo, hi = clopper_pearson(x, n, alpha=alpha)  # Bonferroni over every group and metric
                beyond = hi < ov if direction > 0 else lo > ov
                if gap >= HIDDEN_GAP and beyond:
                    hidden.append({"attribute": a.name, "group": g, "metric": key, "overall": ov, "group_value": val,
                                   "group_ci": ci, "gap": gap, "n": m["n"], "small": m["small"]})
    hidden.sort(key=lambda h: -h["gap"])
    for h in hidden[:5]:
        sev = Severity.INFO if h["small"] else Severity.WARN
        issues.append((sev, f"overall {METRIC_PHRASE[h['metric']]} {_pct(h['overall'])} hides "
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
        if ctx.data_only:  # the labels' bias is measured above; the model's waits for a model
            for c in ("aggregation", "learning", "evaluation"):
                cats[c] = _skipped(NEEDS_MODEL)
        elif ctx.task in ("binary", "multiclass"):
            groups, overall, ok = group_stats(ctx, attrs, bootstrap=False)
            _, views, _, _ = prediction_views(ctx)
            reference, _ = reference_groups(ctx, attrs, groups)
            cats["aggregation"] = _guard(aggregation, ctx, attrs, groups, overall, ok, views)
            cats["learning"] = _guard(learning, ctx, attrs, ok, views, reference)
            cats["evaluation"] = _guard(evaluation_cat, ctx, singles, attrs, groups, overall, population)
        else:  # regression: each group's error and bias against the whole; does the model widen the target's gap
            from readiness.checks import bias_categories_regression as R

            cats["aggregation"] = _guard(lambda: _Cat(*R.aggregation(ctx, attrs, CATEGORY_ALPHA)))
            cats["learning"] = _guard(lambda: _Cat(*R.learning(ctx, singles, CATEGORY_ALPHA)))
            cats["evaluation"] = _skipped("Measured for classifiers (rates the holdout cannot measure per group); for "
                                          "a regression model, 'Bias: metrics by group' gives each group's error "
                                          "with its interval.")
    cats["deployment"] = deployment(answers)
    findings = [Finding(severity=_CAT_SEVERITY[cats[c].status], message=f"{CATEGORY_TITLES[c]}: {cats[c].summary}",
                        evidence={"category": c, "status": cats[c].status.value}) for c in CATEGORIES]
    status = worst_status(c.status for c in cats.values())
    attention = [c for c in CATEGORIES if cats[c].status in (Status.WARN, Status.FAIL, Status.ERROR)]
    skipped = [c for c in CATEGORIES if cats[c].status == Status.SKIPPED]
    if attention:
        summary = (f"{len(attention)} of 7 sources of harm need attention ({', '.join(attention)})"
                   + (f"; {len(skipped)} could not be measured." if skipped
                      else "." if len(attention) == len(CATEGORIES) else "; the rest show nothing of concern."))
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

