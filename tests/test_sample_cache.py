"""Issue 15: the sample's review stored ahead of time is the one a fresh run gives.

A fresh app server opens on a stored report (readiness.sample) instead of running the
review again; these tests prove the stored report equals a fresh run in another process,
and that any change to the data, the settings, the code or a library version misses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from readiness import sample
from readiness.inputs import Settings

ROOT = Path(__file__).resolve().parent.parent


def comparable(text: str) -> dict:
    d = json.loads(text)
    d.pop("created_at"), d.pop("duration_s")
    for c in d["checks"]:
        c.pop("duration_s")
        if c["id"] == "model.serving":  # timings of this run: only their presence is compared
            c["metrics"] = sorted(c["metrics"])
            c["summary"] = c["findings"] = None
    return d


def test_a_stored_report_reads_back_exactly(sample_ctx, sample_report, tmp_path, monkeypatch):
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path))
    assert sample.cached_sample_report(sample_ctx) is None
    path = sample.store_sample_report(sample_ctx, sample_report)
    assert path is not None and path.parent == tmp_path
    assert sample.cached_sample_report(sample_ctx).to_json() == sample_report.to_json()


def test_another_code_version_settings_or_library_misses(sample_ctx, sample_report, tmp_path, monkeypatch):
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path))
    sample.store_sample_report(sample_ctx, sample_report)
    key = sample.sample_report_key(sample_ctx)
    monkeypatch.setattr(sample, "code_fingerprint", lambda: "0" * 64)  # a changed check
    assert sample.sample_report_key(sample_ctx) != key and sample.cached_sample_report(sample_ctx) is None
    monkeypatch.undo()
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path))
    import readiness.review as review

    monkeypatch.setattr(review, "library_versions", lambda: {"scikit-learn": "0.0"})
    assert sample.cached_sample_report(sample_ctx) is None
    monkeypatch.undo()
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path))
    assert sample.cached_sample_report(sample_ctx) is not None
    other = dataclasses.replace(sample_ctx, settings=Settings(**{**sample_ctx.settings.model_dump(), "cost_fn": 7.0}))
    assert sample.cached_sample_report(other) is None


def test_the_code_fingerprint_follows_the_source(tmp_path, monkeypatch):
    a = sample.code_fingerprint()
    assert a == sample.code_fingerprint() and len(a) == 64
    fake = tmp_path / "readiness"
    fake.mkdir()
    (fake / "x.py").write_text("A = 1\n")
    monkeypatch.setattr(sample, "__file__", str(fake / "sample.py"))
    b = sample.code_fingerprint()
    (fake / "x.py").write_text("A = 2\n")
    assert sample.code_fingerprint() != b != a


def test_an_unwritable_store_only_costs_speed(sample_ctx, sample_report, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("READINESS_CACHE_DIR", str(blocker / "sub"))
    assert sample.store_sample_report(sample_ctx, sample_report) is None
    assert sample.cached_sample_report(sample_ctx) is None


@pytest.mark.slow
def test_the_report_precomputed_in_another_process_equals_a_fresh_run(sample_ctx, sample_report, tmp_path):
    """``python -m readiness.sample`` (two processes, as a server's deployment runs it) stores a
    report equal to this process's sequential run; the app then opens on it."""
    env = {**os.environ, "READINESS_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "readiness.sample"], env=env, capture_output=True, text=True,
                         timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("computed:")
    stored = list(tmp_path.glob("sample-review-*.json"))
    assert len(stored) == 1
    fresh = comparable(sample_report.to_json())
    ours = comparable(stored[0].read_text())
    m = {c["id"]: c["metrics"] for c in ours["checks"]}
    budget = (m["explanations.permutation"].get("groups_skipped") or m["explanations.shap"].get("stopped_by_budget")
              or any(c["metrics"].get("groups_skipped") or c["metrics"].get("stopped_by_budget")
                     for c in fresh["checks"] if c["id"].startswith("explanations.")))
    if budget:  # a machine too busy for the explanation checks' wall-clock guards
        for d in (fresh, ours):
            d["checks"] = [c for c in d["checks"] if c["id"] not in ("explanations.permutation", "explanations.shap")]
    assert ours == fresh
    again = subprocess.run([sys.executable, "-m", "readiness.sample"], env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.stdout.startswith("already stored:")
