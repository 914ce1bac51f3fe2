"""Do small, realistic changes flip decisions? Perturbations of one feature at a time, and the
counterfactual test for sensitive attributes (CheckList's invariance tests, Giskard's
robustness detectors)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from readiness.explain import screen_note, screened_features
from readiness.fmt import number, pct
from readiness.inputs.context import ReviewContext
from readiness.registry import NEEDS_MODEL, NeedsModel, Outcome, SkipCheck, register
from readiness.results import Finding, Severity
from readiness.stats import wilson

NUDGE = 0.05  # numeric features move by ±5% of their spread (standard deviation, robustly from the IQR)
SAMPLE_ROWS = 2000  # holdout rows perturbed (seeded sample)
MAX_PERTURBED_CELLS = 400_000  # rows × perturbations scored at once (fewer rows for many features)
MAX_BATCH_CELLS = 20_000_000  # rows × columns of the frames one scoring call builds (memory bound for wide tables)
SENSITIVE_ROWS = 20_000  # holdout rows in the counterfactual test
FRAGILE = 0.10  # warn: one feature's ±5% nudge flips at least this share of decisions (95% lower bound)
SENSITIVE_WARN = 0.005  # warn: changing only a sensitive attribute flips at least this share (95% lower bound)
REGRESSION_MOVE = 0.10  # regression: a "flip" is a move of more than 10% of the target's standard deviation


def _spread(values: pd.Series) -> float:
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if len(v) < 2:
        return 0.0
    q75, q25 = np.percentile(v, [75, 25])
    s = (q75 - q25) / 1.349
    return float(s if s > 0 else np.std(v))


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


class Decider:
    """The model's decision for rows: the class at the threshold (binary), the predicted class
    (multiclass), or the prediction (regression, compared with a tolerance)."""

    def __init__(self, ctx: ReviewContext):
        self.ctx = ctx
        self.task = ctx.task
        self.tol = REGRESSION_MOVE * float(np.nanstd(ctx.y_test.to_numpy(float))) if ctx.task == "regression" else 0.0

    def base(self, idx: np.ndarray) -> np.ndarray:
        ctx = self.ctx
        if self.task == "binary":
            return np.asarray(ctx.test_scores)[idx] >= ctx.settings.threshold
        if self.task == "multiclass":
            return np.asarray(ctx.test_pred, dtype=object)[idx]
        return np.asarray(ctx.test_scores, float)[idx]

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(1):  # OpenMP threads spin on a busy shared machine
            return self._decide(frame)

    def _decide(self, frame: pd.DataFrame) -> np.ndarray:
        m = self.ctx.model
        if self.task == "binary":
            return m.scores(frame) >= self.ctx.settings.threshold
        if self.task == "multiclass":
            return np.asarray(m.predict(frame), dtype=object)
        return m.scores(frame)

    def flipped(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return np.abs(np.asarray(after, float) - np.asarray(before, float)) > self.tol
        return np.asarray(before != after, dtype=bool)


def other_values(own: np.ndarray, values: np.ndarray, probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row, another of ``values`` than its own, drawn at the ``probs`` frequencies: what
    ``values[mask][rng.choice(mask.sum(), p=p)]`` row by row gives (``mask = values != own``, ``p`` the
    kept probabilities normalised), drawn at once: that call takes one uniform number per row and
    finds it in the normalised cumulative probabilities, so the rows' uniforms come from one call
    and each own value's cumulative probabilities are made once."""
    out = np.empty(len(own), dtype=object)
    uniforms = rng.random(len(own))
    codes, distinct = pd.factorize(own, use_na_sentinel=False)
    for i, o in enumerate(distinct):
        rows = codes == i
        mask = values != o
        p = probs[mask] / probs[mask].sum()
        cdf = p.cumsum()
        cdf /= cdf[-1]
        out[rows] = values[mask][cdf.searchsorted(uniforms[rows], side="right")]
    return out


def _changes(ctx: ReviewContext, rows: pd.DataFrame, rng: np.random.Generator,
             varied: list[str]) -> list[tuple[str, str, pd.Series]]:
    """(feature, kind, new column) for every perturbation of one of the ``varied`` features."""
    out = []
    for col in varied:
        if col not in rows.columns or col in ctx.roles.sensitive:
            continue
        tr = ctx.train[col] if col in ctx.train.columns else rows[col]
        cur = rows[col]
        if _is_numeric(tr) and _is_numeric(cur):
            spread = _spread(tr)
            if spread > 0:
                step = NUDGE * spread
                if np.all(np.mod(tr.dropna().to_numpy(float), 1) == 0):
                    step = float(round(step))  # whole numbers move by whole steps; below 1 nothing small exists
                if step > 0:
                    v = pd.to_numeric(cur, errors="coerce")
                    out.append((col, "nudge up", v + step))
                    out.append((col, "nudge down", v - step))
        else:
            counts = tr.dropna().astype(str).value_counts()
            if len(counts) >= 2:
                values, probs = counts.index.to_numpy(), counts.to_numpy(float)
                own = cur.astype("object").where(cur.notna(), None).astype(str).to_numpy()
                new = list(other_values(own, values, probs, rng))
                target_dtype = cur.dtype if not pd.api.types.is_bool_dtype(cur) else object
                s = pd.Series(new, index=cur.index, dtype=object)
                if _is_numeric(cur) or pd.api.types.is_bool_dtype(cur):
                    s = s.map(lambda x, c=cur: type(c.dropna().iloc[0])(x) if len(c.dropna()) else x)
                out.append((col, "other value", s.astype(target_dtype) if target_dtype is not object else s))
        if tr.isna().any():  # the model saw missing values here: blanking is realistic
            out.append((col, "missing", pd.Series(np.nan, index=cur.index, dtype=float if _is_numeric(tr) else object)))
    return out


def _score_changes(dec: Decider, rows: pd.DataFrame, base: np.ndarray, changes) -> dict[tuple[str, str], np.ndarray]:
    """Flip indicator per change: the changed copies of ``rows`` scored in batches of at most
    MAX_BATCH_CELLS cells (one batch for narrow data), so memory does not grow with the column count."""
    per_batch = max(1, MAX_BATCH_CELLS // max(1, rows.shape[0] * rows.shape[1]))
    out: dict[tuple[str, str], np.ndarray] = {}
    for start in range(0, len(changes), per_batch):
        out.update(_score_batch(dec, rows, base, changes[start:start + per_batch]))
    return out


def _score_batch(dec: Decider, rows: pd.DataFrame, base: np.ndarray, changes) -> dict[tuple[str, str], np.ndarray]:
    """One scoring call for all changes of a batch; when the model refuses one (e.g. a missing value),
    the batch's changes one by one, so that change does not hide the others."""
    if not changes:
        return {}
    frames = []
    for col, _kind, new in changes:
        f = rows.copy()
        f[col] = new.to_numpy() if len(new) == len(f) else new
        frames.append(f)
    k = len(rows)
    try:
        after = dec.decide(pd.concat(frames, ignore_index=True))
        return {(c, kind): dec.flipped(base, after[i * k:(i + 1) * k]) for i, (c, kind, _n) in enumerate(changes)}
    except Exception:
        out = {}
        for f, (c, kind, _n) in zip(frames, changes, strict=True):
            try:
                out[(c, kind)] = dec.flipped(base, dec.decide(f))
            except Exception:
                continue
        return out


def _share(flips: np.ndarray) -> dict:
    n, k = len(flips), int(np.sum(flips))
    lo, hi = wilson(k, n)
    return {"rate": k / n if n else math.nan, "ci": [lo, hi], "flips": k, "rows": n}


def _decide_with(dec: Decider, rows: pd.DataFrame, attribute: str, new: pd.Series) -> np.ndarray:
    """The decisions for ``rows`` with ``attribute`` replaced by ``new``, scored in row chunks of at
    most MAX_BATCH_CELLS cells (one chunk for narrow data)."""
    step = max(1, MAX_BATCH_CELLS // max(1, rows.shape[1]))
    parts = []
    for start in range(0, len(rows), step):
        f = rows.iloc[start:start + step].copy()
        f[attribute] = new.iloc[start:start + step].set_axis(f.index)
        parts.append(dec.decide(f))
    return np.concatenate(parts) if parts else np.empty(0)


def counterfactual(ctx: ReviewContext, dec: Decider, attribute: str, idx: np.ndarray) -> dict:
    """Change only ``attribute`` (swap a binary one; otherwise set each other observed value) and
    count the changed decisions, overall and per group."""
    rows = ctx.test.iloc[idx].reset_index(drop=True)
    base = dec.base(idx)
    col = rows[attribute]
    observed = [v for v in pd.concat([ctx.train[attribute], col]).dropna().unique().tolist()]
    own = col.to_numpy(dtype=object)
    groups = sorted({str(v) for v in own if v is not None and v == v})
    per_value: dict[str, dict] = {}
    by_group: dict[str, dict[str, float]] = {g: {} for g in groups}
    any_flip = np.zeros(len(rows), dtype=bool)
    for v in observed:
        changed = np.array([o != v for o in own])
        if len(observed) == 2:  # binary: swap
            other = [x for x in observed if x != v][0]
            new = pd.Series(np.where(own == v, other, v).astype(col.dtype if _is_numeric(col) else object))
            changed = np.ones(len(rows), dtype=bool)
        else:
            new = pd.Series([v] * len(rows), dtype=col.dtype if _is_numeric(col) else object)
        flips = dec.flipped(base, _decide_with(dec, rows, attribute, new)) & changed
        any_flip |= flips
        if len(observed) == 2:
            for g in groups:
                sel = np.array([str(o) == g for o in own])
                to = str([x for x in observed if str(x) != g][0])
                by_group[g][to] = float(flips[sel].mean()) if sel.any() else math.nan
            rate = float(flips.mean())
            per_value = {"swapped": {"rate": rate, "ci": list(wilson(int(flips.sum()), len(rows))),
                                     "flips": int(flips.sum()), "rows": len(rows)}}
            break
        k = int(changed.sum())
        per_value[str(v)] = {"rate": float(flips.sum() / k) if k else math.nan,
                             "ci": list(wilson(int(flips.sum()), k)), "flips": int(flips.sum()), "rows": k}
        for g in groups:
            if g != str(v):
                sel = np.array([str(o) == g for o in own])
                by_group[g][str(v)] = float(flips[sel].mean()) if sel.any() else math.nan
    best = max(per_value, key=lambda key: per_value[key]["rate"] if per_value[key]["rate"] == per_value[key]["rate"]
               else -1)
    return {"rate": per_value[best]["rate"], "ci": per_value[best]["ci"], "worst_change": best,
            "binary": len(observed) == 2, "by_value": per_value, "by_group": by_group,
            "any_change_rate": float(any_flip.mean()), "rows": len(rows)}


def sensitive_counterfactual(ctx: ReviewContext, attribute: str) -> dict:
    """The counterfactual test for one sensitive attribute the model reads, on up to ``SENSITIVE_ROWS`` scored
    holdout rows (a seeded sample of its own), computed once per review (``ctx.memo``): robustness.perturbation
    and bias.categories' learning category report this one number. The dict is shared: read it, never change it."""
    key = ("robustness.counterfactual", attribute)
    if key not in ctx.memo:
        scored_idx = np.flatnonzero(ctx.scored)
        rng = np.random.default_rng(ctx.settings.random_state + 23)
        rows = (np.sort(rng.choice(scored_idx, SENSITIVE_ROWS, replace=False)) if len(scored_idx) > SENSITIVE_ROWS
                else scored_idx)
        res = counterfactual(ctx, Decider(ctx), attribute, rows)
        res["how"] = "swapping it" if res["binary"] else f"setting it to '{res['worst_change']}'"
        ctx.memo[key] = res
    return ctx.memo[key]


@register("robustness.perturbation", title="Robustness: do small changes flip decisions?", area="where_it_fails",
          antipatterns=("act_now_reflect_never",), order=82,
          task_titles={"regression": "Robustness: do small changes move predictions?"})
def perturbation(ctx: ReviewContext) -> Outcome:
    """Changes one feature at a time on a sample of up to 2,000 holdout rows and re-scores them:
    numeric features nudged by ±5% of their spread (the standard deviation, read robustly from
    the interquartile range; at least 1 for whole numbers), text features moved to another
    value seen in training (at its training frequency), and a value blanked where the model
    saw missing values in training. Reports the share of decisions that flip under at least
    one change, per feature, with Wilson intervals. For each sensitive attribute the model
    uses, the counterfactual test changes only that attribute (binary: swapped; otherwise
    each other observed value) on up to 20,000 holdout rows and counts changed decisions, per
    group. Warns when one nudge flips at least 10% of decisions, or changing only a sensitive
    attribute flips at least 0.5% (95% lower bounds)."""
    if ctx.data_only:
        raise NeedsModel(NEEDS_MODEL)
    if ctx.model is None:
        raise SkipCheck("No model file: changed rows cannot be re-scored with a prediction column. Ask the model's "
                        "owner to run the perturbation test, or review with the model file.")
    n = int(ctx.scored.sum())
    if n < 30:
        raise SkipCheck("Too few scored holdout rows to perturb.")
    rng = np.random.default_rng(ctx.settings.random_state + 19)
    scored_idx = np.flatnonzero(ctx.scored)
    dec = Decider(ctx)
    screen = screened_features(ctx)  # many columns: the features most associated with the score (as LIME's)
    kept = set(screen["features"]) if screen["screened"] else set(ctx.features)
    features = [c for c in ctx.features if c in ctx.test.columns and c in kept]
    n_changes_guess = max(1, 2 * len(features))
    k = int(min(n, SAMPLE_ROWS, max(50, MAX_PERTURBED_CELLS // n_changes_guess)))
    idx = np.sort(rng.choice(scored_idx, k, replace=False)) if n > k else scored_idx
    rows = ctx.test.iloc[idx].reset_index(drop=True)
    base = dec.base(idx)
    changes = _changes(ctx, rows, rng, features)
    flips = _score_changes(dec, rows, base, changes)
    small = [key for key in flips if key[1] != "missing"]
    any_flip = np.zeros(len(rows), dtype=bool)
    for key in small:
        any_flip |= flips[key]
    overall = _share(any_flip) if small else None
    by_feature: dict[str, float] = {}
    detail: dict[str, dict] = {}
    missing: dict[str, float] = {}
    for col in dict.fromkeys(c for c, _ in flips):
        kinds = [key for key in flips if key[0] == col and key[1] != "missing"]
        if kinds:
            f = np.zeros(len(rows), dtype=bool)
            for key in kinds:
                f |= flips[key]
            s = _share(f)
            by_feature[col] = s["rate"]
            detail[col] = {"change": "±5% nudge" if kinds[0][1].startswith("nudge") else "another observed value",
                           **s}
        if (col, "missing") in flips:
            missing[col] = _share(flips[(col, "missing")])["rate"]
    by_feature = dict(sorted(by_feature.items(), key=lambda kv: -kv[1]))
    # counterfactual for sensitive attributes the model reads (the Bias page's learning category quotes the same)
    sensitive: dict[str, float] = {}
    sens_detail: dict[str, dict] = {}
    not_inputs = []
    for attr in ctx.roles.sensitive:
        if attr not in ctx.features:
            not_inputs.append(attr)
            sensitive[attr] = 0.0
            continue
        res = sensitive_counterfactual(ctx, attr)
        sensitive[attr] = res["rate"]
        sens_detail[attr] = res
    findings: list[Finding] = []
    note = screen_note(screen, "the perturbation test changes")
    if note:
        findings.append(Finding(severity=Severity.INFO, message=note, evidence={
            "features_perturbed": len(screen["features"]), "features_available": screen["available"]}))
    # a classifier's decisions flip; a regression's predictions move (by more than the tolerance)
    reg = ctx.task == "regression"
    # one parenthesis per sentence: the tolerance reads as a clause, the interval keeps its brackets
    far = f" by more than {number(dec.tol)}, a tenth of the target's standard deviation," if reg else ""
    things = "predictions" if reg else "decisions"
    for attr, res in sens_detail.items():
        lo = res["ci"][0]
        how = res["how"]
        groups = "; ".join(f"{g}: {pct(max(v.values()) if v else 0)}" for g, v in res["by_group"].items())
        msg = (f"Changing only '{attr}' ({how}) {'moves' if reg else 'changes'} {pct(res['rate'])} of the "
               f"{things}{far.rstrip(',')} (95% interval {pct(res['ci'][0])}–{pct(res['ci'][1])}, {res['rows']:,} holdout rows; "
               f"by group: {groups}).")
        if lo >= SENSITIVE_WARN:
            findings.append(Finding(severity=Severity.WARN, columns=[attr], message=msg + (
                " The model treats otherwise identical people differently by this attribute alone: check whether this "
                "is lawful and intended; dropping the column removes the direct effect (not its proxies)."),
                evidence={"rate": res["rate"], "ci": res["ci"]}))
        else:
            findings.append(Finding(severity=Severity.INFO, columns=[attr], message=msg + (
                f" The attribute alone hardly changes {things}." if res["rate"] > 0 else
                " The attribute alone never moves a prediction that far." if reg else
                " The attribute alone never changes a decision."), evidence={"rate": res["rate"]}))
    for attr in not_inputs:
        findings.append(Finding(severity=Severity.INFO, columns=[attr], message=(
            f"'{attr}' is not a model input, so changing it alone cannot change a {things[:-1]} (rate 0). Proxies of "
            "it can still carry its effect: see the Bias page."), evidence={"rate": 0.0}))
    fragile = [c for c, d in detail.items() if d["change"] == "±5% nudge" and d["ci"][0] >= FRAGILE]
    for c in fragile:
        d = detail[c]
        findings.append(Finding(severity=Severity.WARN, columns=[c], message=(
            f"A nudge of 5% of its spread to '{c}' alone {'moves' if reg else 'flips'} {pct(d['rate'])} of "
            f"{things}{far.rstrip(',')} (95% interval {pct(d['ci'][0])}–{pct(d['ci'][1])}). {things.capitalize()} this "
            "sensitive to a small change in one input are fragile: a measurement error of that size changes the "
            "outcome. Check how exactly this value is measured, and whether the model leans on a sharp cut."),
            evidence=d))
    top = [c for c, r in by_feature.items() if r > 0][:3]
    if overall is None:
        summary = "No feature could be perturbed."
    else:
        summary = (f"{pct(overall['rate'])} of {things} {'move' + far if reg else 'flip'} under at least one small "
                   "change of a single feature "
                   f"({pct(overall['ci'][0])}–{pct(overall['ci'][1])}, {overall['rows']:,} holdout rows)"
                   + (f"; most from {', '.join(repr(c) for c in top)}." if top else "."))
    if sens_detail:
        summary += " Changing only " + "; ".join(
            f"'{a}' {'moves' if reg else 'changes'} {pct(r['rate'])}" for a, r in sens_detail.items()) + (
            " of predictions that far." if reg else " of decisions.")
    metrics = {
        "flip_rate": overall["rate"] if overall else None, "flip_rate_ci": overall["ci"] if overall else None,
        "flip_rate_by_feature": by_feature, "flip_detail": detail, "missing_flip_rate_by_feature": missing,
        "sensitive_flip_rate": sensitive, "sensitive_detail": sens_detail,
        "sensitive_not_inputs": not_inputs, "fragile_features": fragile, "rows": len(rows),
        "features_perturbed": len([c for c in features if c not in ctx.roles.sensitive]),
        "features_available": len([c for c in ctx.features if c not in ctx.roles.sensitive]),
        "nudge": NUDGE, "thresholds": {"fragile": FRAGILE, "sensitive": SENSITIVE_WARN},
    }
    if ctx.task == "regression":
        metrics["regression_tolerance"] = dec.tol
    return Outcome(summary=summary, findings=findings, metrics=metrics)
