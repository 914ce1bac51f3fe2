"""The bundled sample review (``sample_data/``), which the app opens on."""

from __future__ import annotations

import json
from pathlib import Path

from readiness.inputs import Roles, Settings, prepare_review

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_CONFIG = SAMPLE_DIR / "sample_review.json"


def sample_config() -> dict:
    return json.loads(SAMPLE_CONFIG.read_text())


def load_sample(settings_override: Settings | None = None):
    """Return the review context of the bundled sample."""
    cfg = sample_config()
    settings = settings_override or Settings(**cfg.get("settings", {}))
    return prepare_review(train=SAMPLE_DIR / cfg["train"], test=SAMPLE_DIR / cfg["test"],
                          model=SAMPLE_DIR / cfg["model"], roles=Roles(**cfg["roles"]), settings=settings,
                          champion=SAMPLE_DIR / cfg["champion"] if cfg.get("champion") else None,
                          sandbox=False)  # shipped with the package, not an upload: validated, not isolated


# --- the sample's review, computed once per code version (issue 15) -----------------------------
# A fresh app server opens on the sample. Its review takes seconds; so the finished report is kept
# on disk, keyed by the sample's review digest (inputs, roles, settings), a fingerprint of this
# package's source and the libraries' versions: any change to the code, the data or a library is a
# different key, so a stored report is always the one a fresh run would give now
# (tests/test_sample_cache.py compares them). ``python -m readiness.sample`` fills it ahead of time
# (e.g. when a server is deployed); the app fills it the first time it runs the sample review.


def cache_dir() -> Path:
    """READINESS_CACHE_DIR, else $XDG_CACHE_HOME/readiness (~/.cache/readiness)."""
    import os

    base = os.environ.get("READINESS_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "readiness"


def code_fingerprint() -> str:
    """SHA-256 over this package's Python source files (paths and contents)."""
    import hashlib

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def sample_report_key(ctx) -> str:
    import hashlib

    from readiness.review import library_versions

    text = json.dumps({"digest": ctx.digest, "code": code_fingerprint(), "versions": library_versions()},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _report_path(ctx) -> Path:
    return cache_dir() / f"sample-review-{sample_report_key(ctx)[:32]}.json"


def cached_sample_report(ctx):
    """The stored report of this exact sample review and code, or None."""
    from readiness.results import ReviewReport

    try:
        return ReviewReport.model_validate_json(_report_path(ctx).read_bytes())
    except (OSError, ValueError):
        return None


def store_sample_report(ctx, report) -> Path | None:
    """Keep the report for the next server (atomic write; a read-only disk only costs speed)."""
    import os
    import tempfile

    path = _report_path(ctx)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sample-review-")
        with os.fdopen(fd, "w") as fh:
            fh.write(report.to_json())
        os.replace(tmp, path)
        return path
    except OSError:
        return None


def precompute(workers: int | str = 2):
    """Run the sample review and store it (if not stored already); return (report, computed)."""
    from readiness.review import run_review

    ctx = load_sample()
    report = cached_sample_report(ctx)
    if report is not None:
        return report, False
    report = run_review(ctx, workers=workers)
    store_sample_report(ctx, report)
    return report, True


if __name__ == "__main__":  # python -m readiness.sample: store the sample's review ahead of time
    import time
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    _report, computed = precompute()
    where = _report_path(load_sample())
    print(f"{'computed' if computed else 'already stored'}: {where} ({time.perf_counter() - t0:.1f} s)")
