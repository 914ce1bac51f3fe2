"""What does it cost to run the model? Size, single-row latency, batch throughput, memory."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from readiness.fmt import byte_size
from readiness.inputs.context import ReviewContext
from readiness.registry import NEEDS_MODEL, NeedsModel, Outcome, SkipCheck, register
from readiness.results import Finding, Severity

SINGLE_CALLS = 40  # timed one-row scorings (after WARMUP untimed ones)
WARMUP = 3
BATCH_ROWS = 5000


def _single_rows(ctx: ReviewContext) -> list:
    rows = ctx.test.loc[ctx.scored, ctx.model.features]
    k = min(len(rows), SINGLE_CALLS)
    return [rows.iloc[[i % k]] for i in range(SINGLE_CALLS + WARMUP)]


def measure(ctx: ReviewContext) -> dict:
    """Timings and memory of the model's own scoring (``ModelAdapter.scores``)."""
    with threadpool_limits(1):
        return _measure(ctx)


def _measure(ctx: ReviewContext) -> dict:
    model = ctx.model
    singles = _single_rows(ctx)
    times = []
    for i, row in enumerate(singles):
        t0 = time.perf_counter()
        model.scores(row)
        if i >= WARMUP:
            times.append(1000 * (time.perf_counter() - t0))
    batch = ctx.test.loc[ctx.scored, model.features].iloc[:BATCH_ROWS]
    t0 = time.perf_counter()
    model.scores(batch)
    batch_s = time.perf_counter() - t0
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        model.scores(batch)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return {"latency_ms_p50": float(np.percentile(times, 50)), "latency_ms_p95": float(np.percentile(times, 95)),
            "latency_ms_max": float(np.max(times)), "single_calls": len(times), "batch_rows": len(batch),
            "batch_seconds": batch_s, "rows_per_second": len(batch) / batch_s if batch_s > 0 else None,
            "peak_memory_bytes": int(max(peak, 0))}


@register("model.serving", title="Serving cost: size, latency, throughput, memory", area="where_it_fails",
          antipatterns=(), order=83)
def serving(ctx: ReviewContext) -> Outcome:
    """Measures what the model costs to run, here and now: its file size; the time to score
    one row (median and 95th percentile over 40 calls, after 3 warm-up calls); throughput on a
    batch of up to 5,000 holdout rows; and the memory allocated while scoring that batch
    (Python's tracemalloc, which sees NumPy's arrays but not memory a native library takes for
    itself). Everything runs on one thread, as a server scoring requests side by side would. Warns when the 95th-percentile latency exceeds the reviewer's budget
    (``--latency-budget-ms``). Timings depend on this machine and its load: compare them with
    the serving machine before relying on them."""
    if ctx.data_only:
        raise NeedsModel(NEEDS_MODEL)
    if ctx.model is None:
        raise SkipCheck("No model file: a prediction column has no serving cost to measure here. Ask the model's owner "
                        "for its latency and memory on the serving machine.")
    m = measure(ctx)
    size = next((f.size_bytes for f in ctx.input_files if f.role == "model"), None)
    budget = ctx.settings.latency_budget_ms
    findings: list[Finding] = []
    p50, p95 = m["latency_ms_p50"], m["latency_ms_p95"]
    if budget is not None and p95 > budget:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"Scoring one row takes {p95:.1f} ms at the 95th percentile (median {p50:.1f} ms), over the budget of "
            f"{budget:g} ms. Measure on the serving machine; if it holds there, a smaller model, fewer features or "
            "batching is needed."), evidence={"latency_ms_p95": p95, "budget_ms": budget}))
    elif budget is not None:
        findings.append(Finding(severity=Severity.INFO, message=(
            f"Scoring one row takes {p95:.1f} ms at the 95th percentile, within the budget of {budget:g} ms."),
            evidence={"latency_ms_p95": p95, "budget_ms": budget}))
    rps = m["rows_per_second"]
    summary = (f"One row scores in {p50:.1f} ms (95th percentile {p95:.1f} ms); a batch runs at "
               f"{rps:,.0f} rows per second; the model file is {byte_size(size)}"
               f" and scoring {m['batch_rows']:,} rows allocates {byte_size(m['peak_memory_bytes'])}.")
    if budget is None:
        summary += " No latency budget set."
    metrics = {"model_bytes": size, **m, "latency_budget_ms": budget}
    return Outcome(summary=summary, findings=findings, metrics=metrics)
