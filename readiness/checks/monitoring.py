"""Set & forget: the reference production batches will be compared with after sign-off.

``monitoring.reference`` records, in the review itself (and so in the signed record), what
the holdout looked like to the model: every feature's distribution, the score distribution
with its outcomes, the calibration map, the human-review band, accuracy and cost, and each
group's counts (:mod:`readiness.monitor.reference`). ``readiness monitor`` checks each
production batch against it (docs/monitoring.md).
"""

from __future__ import annotations

from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.registry import Outcome, SkipCheck, register
from readiness.results import Finding, Severity, Status

SMALL_REFERENCE = 300  # holdout rows below which monitoring can see only large changes


@register("monitoring.reference", title="Reference for monitoring after sign-off", area="monitoring",
          antipatterns=("set_and_forget",), order=90)
def reference(ctx: ReviewContext) -> Outcome:
    """Profiles the holdout rows the model scored, for ``readiness monitor``: per model feature
    the holdout's counts in fixed bins (deciles for numbers, categories for text, missing
    values and unseen categories apart); the score histogram (quantile bins plus the
    threshold and the human-review band) with outcomes per bin; an isotonic calibration map
    (confidence-based performance estimation); accuracy, ROC AUC and cost; each sensitive
    group's confusion counts. Nothing row-level leaves the review."""
    from readiness.monitor.reference import build_reference

    if not ctx.features:
        raise SkipCheck("The model has no feature columns in the holdout, so there is nothing to monitor.")
    ref = build_reference(ctx)
    n = ref["rows"]
    parts = [f"{len(ref['features'])} features", "the score distribution"]
    if ref.get("calibration_map"):
        parts.append("the calibration map")
    if ref.get("band"):
        b = ref["band"]
        parts.append(f"the human-review band ({b['lower']:.3g}–{b['upper']:.3g}, {_pct(b['share'])} of the holdout)")
    if ref.get("groups"):
        parts.append(f"the groups of {', '.join(ref['groups'])}")
    summary = (f"Recorded for monitoring after sign-off: {', '.join(parts[:-1])} and {parts[-1]} of the {n:,} "
               "holdout rows. After sign-off, run readiness monitor --review on this signed report for each "
               "production batch: it compares the batch with them and alerts on drift or falling accuracy.")
    findings = []
    if n < SMALL_REFERENCE:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The reference rests on {n:,} holdout rows: monitoring will see only large changes in production "
            "(alert thresholds allow for the reference's own sampling noise)."), evidence={"rows": n}))
    return Outcome(summary=summary, findings=findings, metrics=ref, status=Status.PASS)
