"""``comparison.champion`` exact on an engine: the current model scored on every holdout row.

Per partition (:func:`partition`, called from the holdout summary where the reviewed model has just
scored the rows), the current model (the *champion*) scores the same rows, loaded in the worker from
its bytes by :func:`readiness.inputs.load_model` with the same validation and trust rule as on the
driver (whose isolated child already loaded, checked and scored these bytes); a champion given as a
prediction column is read from the partition. Then, over the rows scored by both models, per key —
every row (``overall``) and each value of each sensitive column (as ``readiness.engines.exact_bias``
keys them) — a vector that adds exactly:

* binary: the rows per cell (actual, challenger flags, champion flags): 8 counts, from which the paired
  2x2 tables of correct decisions (McNemar, Newcombe), of flags, of false positives and negatives and of
  the false-adverse decision follow, and the costs per row (each model's cost takes one value per cell,
  so the cost sums and the paired cost t-test are exact), churn by direction and by actual class; and
  sums of each model's score, error and squared error (the probabilities' mean score, Brier score and
  calibration gap); over every row also the Brier difference's sums with its least and greatest value,
  and each model's equal-width bins for the ECE;
* multiclass: the 2x2 of (challenger right, champion right) and the rows whose class predictions differ;
* regression: sums of each model's absolute error, of the paired difference and of their squares, with
  their least and greatest values (t-intervals and t-tests from the count, mean and variance).

On the driver the sensitive groups are formed from the bias summaries as ``bias.groups`` forms them
(:func:`readiness.engines.exact_bias.attributes_from_counts`'s ``_single``: exact quantile bands,
pooling), the check's statistics are formed from the merged counts, and the check's own verdict and
wording run (:func:`readiness.checks.comparison.champion_outcome`). DeLong's paired ROC AUC comparison
needs every row's placement under both models: it stays on the engine's sample (``metrics.on_sample``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness.checks.calibration_stats import N_BINS, equal_width_bins
from readiness.engines.exact_bias import MAX_KEYS, Keyed, value_keys

BIN_WIDTH = 8 + 6  # binary key vector: 8 cells, then per model the sums of score, squared error, error


@dataclass(frozen=True)
class ChampionSpec:
    """What a partition needs to score the champion and count; picklable."""

    task: str
    classes: tuple
    threshold: float | None  # the champion's decision threshold (binary)
    features: tuple
    positive: object  # the champion's own spelling of the positive class (binary)
    model: tuple | None = None  # (bytes, name, trusted sha256 or None)
    column: str | None = None  # a holdout column of the champion's scores
    sensitive: tuple = ()  # (column, numeric) pairs
    target: str = ""


@dataclass(frozen=True)
class Acc:
    """Sums that add, and least and greatest values that merge by min and max."""

    sums: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def __add__(self, other: Acc) -> Acc:
        return Acc(self.sums + other.sums, np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    def copy(self) -> Acc:
        return self  # never changed in place: adding makes a new one


def spec_of(ctx, model: tuple | None) -> ChampionSpec | None:
    """The spec for the review's champion: ``model`` its (bytes, trusted sha256), or None for a prediction
    column (or a champion whose bytes are not at hand: then the comparison stays on the sample)."""
    ch = ctx.champion
    if ch is None or ctx.data_only:
        return None
    column = ctx.roles.champion_prediction_column if ch.info.kind == "predictions" else None
    if column is None and model is None:
        return None
    return ChampionSpec(task=ctx.task, classes=tuple(ctx.classes), threshold=ch.threshold,
                        features=tuple(ch.features), positive=ctx.positive_label,
                        model=None if column else (model[0], ch.info.name, model[1]), column=column,
                        sensitive=_sensitive(ctx), target=ctx.target)


def _sensitive(ctx) -> tuple:
    """(column, numeric) of each sensitive column, numeric as ``bias.groups`` on an engine decides it."""
    from readiness.engines.exact_bias import _numeric

    return tuple(zip(ctx.roles.sensitive, _numeric(ctx), strict=True)) if ctx.roles.sensitive else ()


_MODELS: dict = {}


def worker_champion(spec: ChampionSpec):
    """The champion's adapter, built in this worker from its bytes as ``readiness.inputs.champion`` builds
    it on the driver (a single-output ONNX binary model, a booster file's classes), cached per process."""
    from readiness.inputs.models import ModelAdapter, load_model

    data, name, trusted = spec.model
    key = (len(data), hash(data), spec.task, spec.features)
    if key not in _MODELS:
        est = load_model(data, name=name, trusted_sha256=trusted, sandbox=False).estimator
        declared = getattr(est, "readiness_task", None)
        if declared == "regression" and spec.task == "binary" and getattr(est, "single_output", None):
            est, declared = est.as_binary(), "binary"
        if spec.task != "regression" and declared is not None and not hasattr(est, "classes_"):
            est = est.with_classes(list(spec.classes))
        positive = spec.positive
        if spec.task == "binary":
            positive = next((c for c in est.classes_ if c == positive or str(c) == str(positive)), positive)
        _MODELS[key] = ModelAdapter(est, task=spec.task, positive_label=positive, features=list(spec.features))
    return _MODELS[key]


def _champion_scores(rows: pd.DataFrame, spec: ChampionSpec) -> tuple[np.ndarray, np.ndarray | None]:
    """The champion's scores of the labelled rows and (multiclass) its predictions as class codes."""
    if spec.column is not None:
        return pd.to_numeric(rows[spec.column], errors="coerce").to_numpy(float), None
    adapter = worker_champion(spec)
    s = np.asarray(adapter.scores(rows), dtype=float)
    if spec.task != "multiclass":
        return s, None
    from readiness.engines.summaries import label_codes

    return s, label_codes(adapter.predict(rows), spec.classes)


def _keyed(rows: pd.DataFrame, spec: ChampionSpec, both: np.ndarray, values: np.ndarray,
           extremes: np.ndarray | None) -> dict:
    """Per key (every row; each sensitive value) the column sums of ``values`` (one row per row scored by
    both models) and the least and greatest of ``extremes``."""

    def acc(codes: np.ndarray, n: int) -> list:
        sums = np.zeros((n, values.shape[1]))
        for j in range(values.shape[1]):
            sums[:, j] = np.bincount(codes, weights=values[:, j], minlength=n)
        w = 0 if extremes is None else extremes.shape[1]
        lo, hi = np.full((n, w), np.inf), np.full((n, w), -np.inf)
        if w:
            for j in range(w):
                np.minimum.at(lo[:, j], codes, extremes[:, j])
                np.maximum.at(hi[:, j], codes, extremes[:, j])
        return [Acc(sums[i], lo[i], hi[i]) for i in range(n)]

    out: dict = {"overall": acc(np.zeros(len(values), dtype=np.int64), 1)[0], "columns": {}}
    for c, numeric in spec.sensitive:
        codes, uniques = pd.factorize(value_keys(rows[c], numeric)[both])
        if len(uniques) > MAX_KEYS:
            out["columns"][c] = Keyed({}, True)
            continue
        out["columns"][c] = Keyed(dict(zip(list(uniques), acc(codes, len(uniques)), strict=True)))
    return out


def partition(rows: pd.DataFrame, ok: np.ndarray, y: np.ndarray, pred: np.ndarray | None, s: np.ndarray,
              threshold: float, positive: int | None, spec: ChampionSpec) -> dict:
    """One partition's counts (see the module). ``rows``: the labelled rows; ``ok``: those the reviewed
    model scored; ``y``, ``pred`` (class codes; regression: ``y`` the actual values, ``pred`` None) and ``s``
    its scores for those rows; ``threshold`` the review's; ``positive`` the positive class's code."""
    s_old, p_old = _champion_scores(rows, spec)
    ok_old = ~np.isnan(s_old) if s_old.ndim == 1 else ~np.isnan(s_old).any(axis=1)
    out: dict = {"labelled": len(rows)}
    if spec.column is not None:  # its scores are probabilities when every one lies in [0, 1]
        known = s_old[ok_old]
        out["column_range"] = Acc(np.zeros(0), np.array([known.min() if len(known) else np.inf]),
                                  np.array([known.max() if len(known) else -np.inf]))
    keep = ok_old[ok]  # of the rows the reviewed model scored, those the champion scored too
    both = np.zeros(len(rows), dtype=bool)
    both[np.flatnonzero(ok)[keep]] = True
    y, s, s_old = y[keep], s[keep], s_old[both]
    extremes = None
    if spec.task == "binary":
        yb = (y == positive).astype(np.int64)
        f_new, f_old = (s >= threshold).astype(np.int64), (s_old >= spec.threshold).astype(np.int64)
        cell = 4 * yb + 2 * f_new + f_old
        values = np.zeros((len(y), BIN_WIDTH))
        values[np.arange(len(y)), cell] = 1.0
        for j, sc in enumerate((np.clip(s, 0, 1), np.clip(s_old, 0, 1))):
            d = sc - yb
            values[:, 8 + 3 * j:11 + 3 * j] = np.column_stack([sc, d * d, d])
        p_new, p_old_c = np.clip(s, 0, 1), np.clip(s_old, 0, 1)
        diff = (p_new - yb) ** 2 - (p_old_c - yb) ** 2
        out["brier_difference"] = Acc(np.array([len(diff), diff.sum(), (diff * diff).sum()]),
                                      np.array([diff.min() if len(diff) else np.inf]),
                                      np.array([diff.max() if len(diff) else -np.inf]))
        out["ece_bins"] = np.concatenate([_bins(p, yb) for p in (p_new, p_old_c)])
    elif spec.task == "multiclass":
        p_new, p_old = pred[keep], p_old[both]
        r_new, r_old = (p_new == y) & (y >= 0), (p_old == y) & (y >= 0)
        values = np.zeros((len(y), 5))
        values[np.arange(len(y)), 2 * r_new + r_old] = 1.0
        values[:, 4] = p_new != p_old
    else:
        e_new, e_old = np.abs(s - y), np.abs(s_old - y)
        d = e_new - e_old
        values = np.column_stack([np.ones(len(y)), e_new, e_new ** 2, e_old, e_old ** 2, d, d ** 2])
        extremes = np.column_stack([e_new, e_old, d])
    out.update(_keyed(rows, spec, both, values, extremes))
    return out


def _bins(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Equal-width bins (``calibration_stats.ece``'s): rows, sum of scores, sum of outcomes per bin."""
    b = equal_width_bins(p, N_BINS)
    return np.concatenate([np.bincount(b, minlength=N_BINS), np.bincount(b, weights=p, minlength=N_BINS),
                           np.bincount(b, weights=y, minlength=N_BINS)]).astype(float)


def regression_rows(rows: pd.DataFrame, s: np.ndarray, target: str, spec: ChampionSpec) -> dict:
    """:func:`partition` for a regression model: ``s`` the predictions of the labelled ``rows``."""
    s = np.asarray(s, dtype=float)
    ok = ~np.isnan(s)
    return partition(rows, ok, rows[target].to_numpy(dtype=float)[ok], None, s[ok], 0.0, None, spec)


# --- the driver -------------------------------------------------------------------------------------------


def ready(er) -> bool:
    """Whether the merged summaries hold the champion's counts on every row, its groups included."""
    from readiness.engines.exact_bias import bias_spec, exact_ready

    part = (er.test_summary or {}).get("champion")
    if part is None or er.ctx.champion is None:
        return False
    if any(kd.overflow for kd in part["columns"].values()):
        return False
    return not er.ctx.roles.sensitive or exact_ready(bias_spec(er.ctx), er.train_summary, er.test_summary)


def _moments(n: int, total: float, squares: float, lo: float, hi: float) -> tuple:
    mean = total / n if n else math.nan
    var = max(squares - n * mean * mean, 0.0) / (n - 1) if n >= 2 else math.nan
    return n, float(mean), float(var), bool(lo == hi)


def _weighted(values: np.ndarray, counts: np.ndarray) -> tuple:
    """(n, mean, variance, all equal) of a sample holding ``values[i]`` ``counts[i]`` times (exact)."""
    counts = np.asarray(counts, dtype=float)
    n = int(counts.sum())
    if n == 0:
        return 0, math.nan, math.nan, True
    mean = float((counts * values).sum() / n)
    var = float((counts * (values - mean) ** 2).sum() / (n - 1)) if n >= 2 else math.nan
    return n, mean, var, len(set(values[counts > 0].tolist())) == 1


def _groups(er, part: dict) -> list[tuple[str, list, dict]]:
    """Per sensitive column: its name, its groups in the check's order and the summed vectors per group."""
    from readiness.engines.exact_bias import _rows_per_key, _single, _sum_by

    out = []
    sensitive = _sensitive(er.ctx)
    if not sensitive:  # no sensitive column: no bias summaries, no per-group changes
        return out
    bias_train, bias_test = er.train_summary["bias"]["columns"], er.test_summary["bias"]["columns"]
    for c, numeric in sensitive:
        attr, mapping = _single(c, numeric, _rows_per_key(bias_train[c], bias_test[c]))
        out.append((attr.name, attr.order, _sum_by(part["columns"][c].rows, mapping.__getitem__)))
    return out


def champion(ctx, er):
    """``comparison.champion`` from the merged counts: the check's statistics on every holdout row (DeLong's
    AUC comparison on the sample), then its own verdict and wording."""
    from readiness.checks.comparison import MIN_ROWS, champion_header, champion_outcome
    from readiness.registry import SkipCheck

    part = er.test_summary["champion"]
    n = int(part["overall"].sums[:8].sum() if ctx.task == "binary" else
            part["overall"].sums[:4].sum() if ctx.task == "multiclass" else part["overall"].sums[0])
    if n < MIN_ROWS:
        raise SkipCheck(f"Only {n} holdout rows have a score from both models; a comparison needs at least {MIN_ROWS}.")
    m = champion_header(ctx, n)
    {"binary": _binary, "multiclass": _multiclass}.get(ctx.task, _regression)(ctx, part, _groups(er, part), m)
    if ctx.task == "binary":
        sample = int((np.asarray(ctx.scored) & ctx.champion.scored).sum())
        m["on_sample"] = {"keys": ["roc_auc", "roc_auc_ci", "auc_difference", "auc_difference_ci", "auc_p_value"],
                          "rows": sample, "of_rows": n,
                          "why": "DeLong's paired comparison needs each row's placement under both models"}
    return champion_outcome(ctx, m, holdout_rows=int(part["labelled"]))


def checks(er) -> dict:
    """``comparison.champion`` on every row, when the summaries hold the champion's counts."""
    return {"comparison.champion": lambda ctx: champion(ctx, er)} if ready(er) else {}


# binary: cell index 4y + 2(challenger flags) + (champion flags)
_Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
_A = np.array([0, 0, 1, 1, 0, 0, 1, 1])
_B = np.array([0, 1, 0, 1, 0, 1, 0, 1])


def _paired(cells: np.ndarray, first: np.ndarray, second: np.ndarray, where: np.ndarray | None = None,
            alpha: float = 0.05) -> dict:
    from readiness.checks.comparison_stats import paired_change_counts

    c = cells if where is None else np.where(where, cells, 0)
    both, only_a = int(c[(first == 1) & (second == 1)].sum()), int(c[(first == 1) & (second == 0)].sum())
    only_b, neither = int(c[(first == 0) & (second == 1)].sum()), int(c[(first == 0) & (second == 0)].sum())
    return paired_change_counts(both, only_a, only_b, neither, alpha=alpha)


def _costs(cfp: float, cfn: float) -> tuple[np.ndarray, np.ndarray]:
    """Each model's cost in each cell."""
    return (np.where((_A == 1) & (_Y == 0), cfp, 0.0) + np.where((_A == 0) & (_Y == 1), cfn, 0.0),
            np.where((_B == 1) & (_Y == 0), cfp, 0.0) + np.where((_B == 0) & (_Y == 1), cfn, 0.0))


def _rates(cells: np.ndarray, flags: np.ndarray, sums: np.ndarray | None) -> dict:
    """``bias_stats.rate_stats`` of one model on one group (``bootstrap=False``) from its cells and sums."""
    from readiness.checks.bias_stats import rates_from_counts

    def count(yv, fv):
        return int(cells[(_Y == yv) & (flags == fv)].sum())

    out = rates_from_counts(count(1, 1), count(0, 1), count(1, 0), count(0, 0))
    if sums is not None:
        n = out["n"]
        s, d2, d = (float(x) for x in sums)
        out["mean_score"] = s / n if n else None
        out["brier"] = d2 / n if n else None
        out["calibration_gap"] = d / n if n else None
    return out


def _churn(cells: np.ndarray) -> dict:
    n = int(cells.sum())
    changed = int(cells[_A != _B].sum())
    newly, no_longer = (_A == 1) & (_B == 0), (_A == 0) & (_B == 1)
    return {"n": n, "decision_changes": changed, "decision_changes_share": changed / n if n else None,
            "newly_flagged": int(cells[newly].sum()), "no_longer_flagged": int(cells[no_longer].sum()),
            "newly_flagged_positive": int(cells[newly & (_Y == 1)].sum()),
            "no_longer_flagged_positive": int(cells[no_longer & (_Y == 1)].sum())}


def _tested(groups) -> int:
    from readiness.checks.bias_stats import MISSING_GROUP, SMALL_GROUP

    return sum(1 for _, order, vecs in groups for g in order
               if g != MISSING_GROUP and g in vecs and _n_of(vecs[g]) >= SMALL_GROUP)


def _per_group(groups: list, alpha: float, entry) -> tuple[dict, int, float]:
    """Per attribute, per group in the check's order holding rows scored by both: ``entry(vector, alpha_g)``;
    with the groups tested and the Bonferroni level ``alpha_g`` over them."""
    tested = _tested(groups)
    alpha_g = alpha / max(tested, 1)
    out = {name: {g: entry(vecs[g], alpha_g) for g in order if g in vecs and _n_of(vecs[g]) > 0}
           for name, order, vecs in groups}
    return out, tested, alpha_g


def _n_of(acc: Acc) -> int:
    w = len(acc.sums)
    return int(acc.sums[:8].sum() if w == BIN_WIDTH else acc.sums[:4].sum() if w == 5 else acc.sums[0])


def _binary(ctx, part: dict, groups: list, m: dict) -> None:
    from readiness.checks.bias import outcomes
    from readiness.checks.bias_stats import SMALL_GROUP, directed_rates, prop
    from readiness.checks.comparison import paired_figures
    from readiness.checks.comparison_stats import mean_ci_from, mean_difference_from

    ch, alpha = ctx.champion, m["alpha"]
    overall = part["overall"].sums
    cells = overall[:8]
    n = int(cells.sum())
    t_new, t_old = float(ctx.settings.threshold), float(ch.threshold)
    probs = bool(ctx.scores_are_probabilities and _champion_probabilities(ch, part))
    right_new, right_old = (_A == _Y).astype(int), (_B == _Y).astype(int)
    acc = _paired(cells, right_new, right_old, alpha=alpha)
    cfp, cfn = float(ctx.settings.cost_fp), float(ctx.settings.cost_fn)
    cost_new, cost_old = _costs(cfp, cfn)
    cost_diff = mean_difference_from(*_weighted(1000 * (cost_new - cost_old), cells), alpha=alpha)
    auc = _sample_auc(ctx, alpha)
    ece_bins = part["ece_bins"].reshape(2, 3, -1)

    def model_row(name, thr, right, cost, j, auc_value, auc_ci):
        k = int(cells[right == 1].sum())
        row = {"name": name, "threshold": thr, "accuracy": k / n, "accuracy_ci": prop(k, n)[1],
               "cost_per_1000": 1000 * float((cells * cost).sum() / n),
               "cost_per_1000_ci": mean_ci_from(*_weighted(1000 * cost, cells), alpha=alpha),
               "roc_auc": auc_value, "roc_auc_ci": auc_ci}
        if probs:
            _, sum_p, sum_y = ece_bins[j]
            row["brier"] = float(overall[9 + 3 * j]) / n
            row["ece"] = float(np.abs(sum_y - sum_p).sum() / n)
        return row

    m["challenger"] = model_row(ctx.model_info.name, t_new, right_new, cost_new, 0,
                                auc and auc["first"], auc and auc["first_ci"])
    m["challenger"]["flagged_share"] = int(cells[_A == 1].sum()) / n
    m["champion"] = model_row(ch.info.name, t_old, right_old, cost_old, 1, auc and auc["second"],
                              auc and auc["second_ci"])
    m["champion"]["flagged_share"] = int(cells[_B == 1].sum()) / n
    m.update(paired_figures(acc, int(cells[(right_new == 1) & (right_old == 1)].sum()),
                            int(cells[(right_new == 0) & (right_old == 0)].sum()), auc, cfp, cfn, cost_diff))
    if probs:
        bd_acc = part["brier_difference"]
        bd = mean_difference_from(*_moments(int(bd_acc.sums[0]), bd_acc.sums[1], bd_acc.sums[2], bd_acc.lo[0],
                                            bd_acc.hi[0]), alpha=alpha)
        m.update({"brier_difference": bd["mean"], "brier_difference_ci": bd["ci"]})
    c = _churn(cells)
    m.update({k: v for k, v in c.items() if k != "n"})
    by_cost = (cfp, cfn) != (1.0, 1.0)
    o = outcomes(ctx)
    pf = o.positive_favorable
    wrong_new, wrong_old = 1 - right_new, 1 - right_old

    def entry(a: Acc, alpha_g: float) -> dict:
        v = a.sums
        gc = v[:8]
        gn = int(gc.sum())
        out: dict = {"n": gn, "small": bool(gn < SMALL_GROUP)}
        for key, flags, j in (("challenger", _A, 0), ("champion", _B, 1)):
            st = _rates(gc, flags, v[8 + 3 * j:11 + 3 * j] if probs else None)
            if pf is not None:
                st.update(directed_rates(st, pf))
            out[key] = st
        out["error_rate"] = _paired(gc, wrong_new, wrong_old)
        out["selection_rate"] = _paired(gc, _A, _B)
        out["fpr"] = _paired(gc, _A, _B, where=_Y == 0)
        out["fnr"] = _paired(gc, 1 - _A, 1 - _B, where=_Y == 1)
        if pf is not None:
            out["false_adverse_rate"] = _paired(gc, (_A != pf).astype(int), (_B != pf).astype(int),
                                                where=(_Y == 1) == pf)
        if not by_cost:
            out["decision_change_adjusted_ci"] = _paired(gc, wrong_new, wrong_old, alpha=alpha_g)["ci"]
        else:
            w = _weighted(1000 * (cost_new - cost_old), gc)
            out["cost_per_1000"] = mean_difference_from(*w)
            out["decision_change_adjusted_ci"] = mean_difference_from(*w, alpha=alpha_g)["ci"]
        return out

    m["groups"], tested, alpha_g = _per_group(groups, alpha, entry)
    m["decision_changes_by_group"] = _per_group(groups, alpha, lambda a, _: _churn(a.sums[:8]))[0]
    m["group_tests"], m["group_alpha"] = tested, alpha_g


def _champion_probabilities(ch, part: dict) -> bool:
    """Whether the champion's scores are probabilities: a prediction column's, judged on every row as the
    in-memory review judges it (every score in [0, 1]); a model's, as its adapter says."""
    rng = part.get("column_range")
    if ch.info.kind != "predictions" or rng is None:
        return bool(ch.scores_are_probabilities)
    return bool(rng.lo[0] >= 0 and rng.hi[0] <= 1)


def _sample_auc(ctx, alpha: float) -> dict | None:
    """DeLong's paired ROC AUC comparison on the engine's sample (the rows the context holds)."""
    from readiness.checks.comparison_stats import delong_paired

    ok = np.asarray(ctx.scored) & ctx.champion.scored
    y = np.asarray(ctx.y_test_binary)[ok].astype(int)
    return delong_paired(y, np.asarray(ctx.test_scores, dtype=float)[ok],
                         np.asarray(ctx.champion.scores, dtype=float)[ok], alpha=alpha)


def _multiclass(ctx, part: dict, groups: list, m: dict) -> None:
    from readiness.checks.bias_stats import SMALL_GROUP
    from readiness.checks.comparison_stats import paired_change_counts

    alpha = m["alpha"]
    v = part["overall"].sums

    def paired(vec, a=alpha):  # vec: neither right, champion only, challenger only, both right (2 r_new + r_old)
        return paired_change_counts(int(vec[3]), int(vec[2]), int(vec[1]), int(vec[0]), alpha=a)

    acc = paired(v)
    n = int(v[:4].sum())
    m["challenger"] = {"name": ctx.model_info.name, "accuracy": acc["first"]}
    m["champion"] = {"name": ctx.champion.info.name, "accuracy": acc["second"]}
    m.update({"accuracy_difference": acc["change"], "accuracy_difference_ci": acc["ci"], "p_value": acc["p_value"],
              "mcnemar_test": acc["test"], "mcnemar_statistic": acc["statistic"],
              "challenger_only_right": acc["only_first"], "champion_only_right": acc["only_second"]})
    m.update({"decision_changes": int(v[4]), "decision_changes_share": int(v[4]) / n if n else None})
    def entry(a: Acc, alpha_g: float) -> dict:
        wrong = a.sums[3::-1]  # the table of errors: wrong under both = right under neither, and so on
        gn = int(a.sums[:4].sum())
        return {"n": gn, "small": bool(gn < SMALL_GROUP), "error_rate": paired(wrong, 0.05),
                "decision_change_adjusted_ci": paired(wrong, alpha_g)["ci"]}

    m["groups"], m["group_tests"], m["group_alpha"] = _per_group(groups, alpha, entry)


def _regression(ctx, part: dict, groups: list, m: dict) -> None:
    from readiness.checks.bias_stats import SMALL_GROUP
    from readiness.checks.comparison_stats import mean_ci_from, mean_difference_from

    alpha = m["alpha"]

    def mom(a: Acc, j: int) -> tuple:  # j: 0 challenger's absolute error, 1 champion's, 2 their difference
        return _moments(int(a.sums[0]), a.sums[1 + 2 * j], a.sums[2 + 2 * j], a.lo[j], a.hi[j])

    o = part["overall"]
    diff = mean_difference_from(*mom(o, 2), alpha=alpha)
    m["challenger"] = {"name": ctx.model_info.name, "mae": mom(o, 0)[1], "mae_ci": mean_ci_from(*mom(o, 0), alpha=alpha)}
    m["champion"] = {"name": ctx.champion.info.name, "mae": mom(o, 1)[1],
                     "mae_ci": mean_ci_from(*mom(o, 1), alpha=alpha)}
    improvement = None if diff["mean"] is None else -diff["mean"]
    ci = None if diff["ci"] is None else [-diff["ci"][1], -diff["ci"][0]]
    m.update({"mae_improvement": improvement, "mae_improvement_ci": ci, "p_value": diff["p_value"]})
    def entry(a: Acc, alpha_g: float) -> dict:
        gn = int(a.sums[0])
        return {"n": gn, "small": bool(gn < SMALL_GROUP), "mae_challenger": mom(a, 0)[1],
                "mae_champion": mom(a, 1)[1], "mae_change": mean_difference_from(*mom(a, 2)),
                "decision_change_adjusted_ci": mean_difference_from(*mom(a, 2), alpha=alpha_g)["ci"]}

    m["groups"], m["group_tests"], m["group_alpha"] = _per_group(groups, alpha, entry)
