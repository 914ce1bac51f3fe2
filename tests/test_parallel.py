"""Issue 15: the review's second process changes nothing but the time.

``run_review(ctx, workers=2)`` runs readiness.parallel.WORKER_CHECKS in a child process; the
report must be the one a sequential run gives, byte for byte (JSON), apart from what measures
the clock: each check's duration, the report's creation time and duration, the serving
check's timings, and what a wall-clock guard left out on a slow machine (the explanation
checks' budgets). Progress is reported once per check, in the checks' order.
"""

from __future__ import annotations

import json

import pytest

from readiness import parallel, run_review
from readiness.registry import registered_checks

CLOCK_METRICS = {"model.serving": {"batch_seconds", "latency_ms_max", "latency_ms_p50", "latency_ms_p95",
                                   "peak_memory_bytes", "rows_per_second"}}


def comparable(report) -> dict:
    d = json.loads(report.to_json())
    d.pop("created_at"), d.pop("duration_s")
    for c in d["checks"]:
        c.pop("duration_s")
        if c["id"] in CLOCK_METRICS:  # timings: only their presence is compared
            c["metrics"] = {k: (type(v).__name__ if k in CLOCK_METRICS[c["id"]] else v) for k, v in c["metrics"].items()}
            c["summary"] = c["findings"] = None
    return d


def budget_spent(report) -> bool:
    m = {c.id: c.metrics for c in report.checks}
    return bool(m.get("explanations.permutation", {}).get("groups_skipped")
                or m.get("explanations.shap", {}).get("stopped_by_budget"))


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_the_sample_review_with_a_second_process_equals_the_sequential_one(sample_ctx, sample_report):
    assert parallel.enabled(), "set READINESS_WORKERS=1 only to switch the second process off"
    ids = [s.id for s in registered_checks()]
    calls = []
    report = run_review(sample_ctx, workers=2, progress=lambda i, n, spec: calls.append((i, n, spec.id)))
    # progress: each check once, in order, then the end
    assert calls == [(i, len(ids), cid) for i, cid in enumerate(ids)] + [(len(ids), len(ids), ids[-1])]
    assert {c.id for c in report.checks if c.id in parallel.WORKER_CHECKS} == parallel.WORKER_CHECKS
    ours, theirs = comparable(report), comparable(sample_report)
    if budget_spent(report) or budget_spent(sample_report):  # a machine too busy for the wall-clock guards
        for d in (ours, theirs):
            d["checks"] = [c for c in d["checks"] if c["id"] not in ("explanations.permutation", "explanations.shap")]
    assert ours == theirs
    # the worker's checks really ran (not errored or skipped on the way)
    assert all(c.status.value in ("pass", "warn", "fail") for c in report.checks if c.id in parallel.WORKER_CHECKS)


def test_a_context_that_does_not_pickle_runs_everything_in_the_caller(sample_ctx, monkeypatch):
    """No second process (here: the context refuses pickling half-way through the stream) -> the
    same checks, run here; the child, which saw a cut stream, is stopped."""
    import pickle

    spawned = []
    real_take = parallel.take
    monkeypatch.setattr(parallel, "take", lambda: spawned.append(real_take()) or spawned[-1])
    ids = ["data_quality.completeness", "feasibility.bayes_error"]

    def refuse(obj, stream, **_k):
        stream.write(b"\x80\x05partial")  # a pickle cut short
        raise pickle.PicklingError("no")

    monkeypatch.setattr(parallel.pickle, "dump", refuse)
    report = run_review(sample_ctx, checks=ids, workers=2)
    assert [c.id for c in report.checks] == ids and len(spawned) == 1
    assert spawned[0].wait(timeout=30) is not None  # stopped, not left waiting for the rest
    assert report.checks[1].status.value == "pass" and report.checks[1].metrics
    assert comparable(report)["checks"][1] == comparable(run_review(sample_ctx, checks=ids[1:]))["checks"][0]


def test_the_context_streams_into_the_child_without_a_serialised_copy(sample_ctx, monkeypatch):
    """The parent never builds the whole pickle as one bytes object (a second copy of the tables)."""
    import pickle

    def no_dumps(*_a, **_k):
        raise AssertionError("pickle.dumps of the context: a whole serialised copy in memory")

    monkeypatch.setattr(parallel.pickle, "dumps", no_dumps)
    lane = parallel.Lane.start(sample_ctx, ["data_quality.completeness"])
    assert lane is not None
    result = lane.wait("data_quality.completeness")
    here = run_review(sample_ctx, checks=["data_quality.completeness"]).checks[0]
    assert result is not None and result.status == here.status and result.metrics == here.metrics
    lane.close()
    assert pickle.dumps  # the module itself is untouched outside this test


def test_the_million_row_review_uses_the_second_process_and_ten_million_does_not(monkeypatch):
    """The limit is the tables' size in memory: a 1M-row review (about 180 MiB) uses two processes."""
    import numpy as np
    import pandas as pd

    from readiness.registry import registered_checks
    from readiness.review import _use_worker

    class Ctx:
        def __init__(self, rows):
            rng = np.random.default_rng(0)
            self.train = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(20)})
            self.test = self.train.iloc[: rows // 4]

    specs = registered_checks()
    monkeypatch.setattr(parallel, "enabled", lambda: True)
    assert _use_worker(Ctx(1_000_000), specs, "auto")
    big = Ctx(1_000_000)
    monkeypatch.setattr(parallel, "table_bytes", lambda ctx: 10 * 200 * 2**20)  # ten times the rows
    assert not _use_worker(big, specs, "auto")


def test_small_data_stays_in_one_process_on_auto(sample_ctx, monkeypatch):
    started = []
    monkeypatch.setattr(parallel.Lane, "start", classmethod(lambda cls, *a: started.append(a)))
    run_review(sample_ctx, checks=["data_quality.completeness", "feasibility.bayes_error"], workers="auto")
    assert len(sample_ctx.train) + len(sample_ctx.test) < parallel.PARALLEL_MIN_ROWS and not started


def test_a_second_process_that_dies_leaves_its_checks_to_the_caller(sample_ctx, monkeypatch):
    import subprocess
    import sys

    def dying():  # reads its input, then exits without an answer
        return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.buffer.read()"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    monkeypatch.setattr(parallel, "take", dying)
    ids = ["data_quality.completeness", "feasibility.bayes_error"]
    report = run_review(sample_ctx, checks=ids, workers=2)
    assert [c.id for c in report.checks] == ids and report.checks[1].status.value == "pass"
