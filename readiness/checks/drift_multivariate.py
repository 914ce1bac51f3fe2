"""Set & forget, jointly: can a classifier tell training rows from holdout rows, and did the
model's scores move? Statistics in :mod:`readiness.checks.domain`."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from readiness.checks.domain import CHANCE_BELOW_HALF, domain_classifier, label_drift, score_drift
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity

ALPHA = 0.001  # the AUC must beat chance at this level ...
AUC_WARN = 0.55  # ... and reach this, to warn
AUC_STRONG = 0.75  # worded as "easily told apart"
PSI_WARN = 0.10  # prediction drift: as drift.features
TRAIN_SCORE_ROWS = 10_000  # training rows scored for the prediction drift (a seeded sample)
MIN_ROWS = 50


def _train_sample(ctx: ReviewContext):
    n = len(ctx.train)
    if n <= TRAIN_SCORE_ROWS:
        return ctx.train
    rng = np.random.default_rng(ctx.settings.random_state + 14)
    return ctx.train.iloc[np.sort(rng.choice(n, TRAIN_SCORE_ROWS, replace=False))]


def prediction_drift(ctx: ReviewContext) -> dict | None:
    """The model's scores on (a sample of) the training rows against its holdout scores;
    None with a prediction column (no training scores exist)."""
    if ctx.model is None:
        return None
    sample = _train_sample(ctx)
    scored = ctx.scored
    with threadpool_limits(1):
        return _prediction_drift(ctx, sample, scored)


def _prediction_drift(ctx: ReviewContext, sample, scored) -> dict:
    if ctx.task == "multiclass":
        out = label_drift(ctx.model.predict(sample), np.asarray(ctx.test_pred)[scored])
        out["measure"] = "shares of the predicted classes"
        return out
    out = score_drift(ctx.model.scores(sample), np.asarray(ctx.test_scores, float)[scored])
    out["measure"] = "the model's score" if ctx.task == "binary" else "the model's prediction"
    return out


@register("drift.multivariate", title="Joint drift: can training and holdout rows be told apart?",
          area="where_it_fails", antipatterns=("set_and_forget",), order=81)
def multivariate_drift(ctx: ReviewContext) -> Outcome:
    """A domain classifier (gradient-boosted trees, 3-fold cross-validated, up to 4,000 rows per
    side) learns to tell training rows from holdout rows over all features at once; its
    out-of-fold ROC AUC, with DeLong's 95% interval, is compared with chance (0.5). It sees
    what per-feature drift cannot, such as a correlation that changes sign. The features that
    let it tell them apart are ranked by the AUC lost when each is shuffled. Prediction drift:
    the model's scores on training rows (a sample of up to 10,000) against its holdout scores
    (PSI over training deciles, Kolmogorov–Smirnov)."""
    cols = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    if not cols:
        raise SkipCheck("No feature columns in both training and holdout to compare.")
    if min(len(ctx.train), len(ctx.test)) < MIN_ROWS:
        raise SkipCheck(f"Too few rows to train a domain classifier (at least {MIN_ROWS} on each side are needed).")
    dom = domain_classifier(ctx.train, ctx.test, cols, seed=ctx.settings.random_state)
    pdrift = prediction_drift(ctx)
    findings: list[Finding] = []
    top = [c for c, v in dom.importance.items() if v > 0.005][:5]
    lo, hi = dom.auc_ci
    apart = dom.p_value < ALPHA and dom.auc >= AUC_WARN
    if apart:
        how = "easily" if dom.auc >= AUC_STRONG else "partly"
        by = f" mostly by {', '.join(repr(c) for c in top[:3])}" if top else ""
        findings.append(Finding(severity=Severity.WARN, columns=top, message=(
            f"A classifier can {how} tell holdout rows from training rows (ROC AUC {dom.auc:.2f}, 95% interval "
            f"{lo:.2f}–{hi:.2f}; chance is 0.50){by}. The holdout is not drawn like the training data: the features "
            "shifted together, which per-feature drift may miss. Check that production looks like the holdout, and "
            "whether the model still holds where the two differ."),
            evidence={"auc": dom.auc, "auc_ci": list(dom.auc_ci), "p_value": dom.p_value, "features": top}))
    if pdrift and pdrift.get("psi", 0) >= PSI_WARN and pdrift.get("ks_p_value", 0.0) < ALPHA:
        if ctx.task == "multiclass":
            detail = "the shares of predicted classes"
        else:
            detail = (f"mean {pdrift['reference_mean']:.3g} on training rows, {pdrift['current_mean']:.3g} on the "
                      "holdout")
        findings.append(Finding(severity=Severity.WARN, message=(
            f"The model's {'predictions' if ctx.task != 'binary' else 'scores'} moved between training and holdout "
            f"(PSI {pdrift['psi']:.2f}; {detail}). Either the population changed, or the model fits its training "
            "rows much more closely than new ones (over-fitting); both mean the holdout is the better guide to "
            "production."), evidence={"psi": pdrift["psi"], "ks": pdrift.get("ks")}))
    if apart:
        summary = (f"Holdout rows can be told from training rows: domain classifier ROC AUC {dom.auc:.2f} "
                   f"({lo:.2f}–{hi:.2f})" + (f", mostly by {', '.join(repr(c) for c in top[:3])}." if top else "."))
    elif dom.auc < 0.5:  # cross-validated AUCs with nothing to learn sit a little under 0.5: chance, not a signal
        summary = (f"Training and holdout rows cannot be told apart: domain classifier ROC AUC {dom.auc:.2f} "
                   f"({lo:.2f}–{hi:.2f}), no better than chance ({CHANCE_BELOW_HALF}).")
    else:
        summary = (f"Training and holdout rows cannot be told apart beyond chance: domain classifier ROC AUC "
                   f"{dom.auc:.2f} ({lo:.2f}–{hi:.2f}).")
    if pdrift is None:
        summary += (" Prediction drift: no model yet (a data-only review)." if ctx.data_only else
                    " Prediction drift: not measured (a prediction column has no training scores).")
    elif pdrift:
        summary += f" Prediction drift PSI {pdrift['psi']:.2f}."
    metrics = {
        "domain_auc": dom.auc, "domain_auc_ci": list(dom.auc_ci), "domain_p_value": dom.p_value,
        "prediction_drift": pdrift, "features_apart": top, "feature_importance": dom.importance,
        "rows_per_side": dom.rows_reference, "features": cols,
        "thresholds": {"alpha": ALPHA, "auc_warn": AUC_WARN, "psi_warn": PSI_WARN},
    }
    return Outcome(summary=summary, findings=findings, metrics=metrics)
