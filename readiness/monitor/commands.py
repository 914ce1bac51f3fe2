"""``readiness monitor``: one production batch against the signed review, as a scheduled job.

Exit status: 0 no alert, 1 alert(s), 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

from readiness import errors as E

EXIT_OK, EXIT_ALERT, EXIT_BAD_INPUT = 0, 1, 2


def add_monitor(sub) -> None:
    from readiness.cli import data_source

    m = sub.add_parser("monitor", help="check a production batch against the signed review (exit 1 on alerts)",
                       description="Check one production batch against the signed review's reference: drift of every "
                                   "feature and of the scores, the human-review band, accuracy estimated from the "
                                   "calibrated scores, and with labels realised accuracy, cost and group rates. "
                                   "Exit 0 no alert, 1 alert(s), 2 bad input.")
    m.add_argument("--review", type=Path, required=True, metavar="REVIEW.json|SIGNED.pdf",
                   help="the review: its JSON (readiness review --json), its review-record.json, or the (signed) PDF")
    m.add_argument("--model", type=Path, metavar="M", help="the reviewed model file (the same bytes: SHA-256 checked)")
    m.add_argument("--trust-model", action="store_true",
                   help="trust this exact pickle/joblib file; loading it runs code from the file")
    m.add_argument("--batch", type=data_source, required=True, metavar="BATCH",
                   help="the production batch: a CSV or Parquet file, or a Parquet dataset (directory, glob or URL)")
    m.add_argument("--target", metavar="COL", help="the batch's label column, when outcomes are known")
    m.add_argument("--json", type=Path, metavar="OUT", help="write the result as JSON here ('-' for stdout)")
    m.add_argument("--db", metavar="URL", help="review history to store the batch in (default: $READINESS_DB or "
                                             "./reviews.db)")
    m.add_argument("--no-history", action="store_true", help="do not store the batch in the review history")
    m.add_argument("--quiet", action="store_true", help="print nothing but errors")
    from readiness.cli import add_engine_options

    add_engine_options(m)


def run_monitor(a):
    """Load the inputs named by the arguments and monitor the batch (bad input raises)."""
    from readiness.inputs import load_model, load_table, model_digest
    from readiness.inputs.tables import read_source
    from readiness.monitor.run import load_review, monitor_batch

    if a.trust_model and a.model is None:
        raise E.ReadinessError("--trust-model needs --model.")
    review = load_review(a.review)
    on_engine = _on_engine(a)
    batch = load_table(a.batch, role="batch") if not on_engine else None
    model = data = digest = None
    if a.model is not None:
        data, _ = read_source(a.model, role="model")
        expected = next((f.sha256 for f in review.report.inputs if f.role == "model"), None)
        digest = model_digest(data)
        if expected is not None and digest != expected:  # refused before loading a byte of it
            raise E.ReadinessError(E.MONITOR_MODEL_MISMATCH.format(name=a.model.name, actual=digest, expected=expected))
        model = load_model(data, name=a.model.name, trusted_sha256=digest if a.trust_model else None)
    if not on_engine:
        return monitor_batch(review, batch, model=model, target=a.target)
    from readiness.engines.monitor import monitor_on_engine
    from readiness.engines.review import engine_from_args

    engine = engine_from_args(a)
    say = (lambda text: None) if a.quiet or a.json == Path("-") else \
        (lambda text: print(f"[{engine.describe()}] {text}", file=sys.stderr, flush=True))
    try:
        return monitor_on_engine(engine, review, a.batch, model=model, model_bytes=data,
                                 trusted=digest if a.trust_model else None, target=a.target, progress=say)
    finally:
        engine.close()


def _on_engine(a) -> bool:
    """--engine dask|spark, or local on a dataset above $READINESS_LOCAL_MAX_ROWS rows (else in memory)."""
    from readiness.engines.review import wants_engine

    return wants_engine(type("Args", (), {"engine": a.engine, "train": None, "test": a.batch})())


def cmd_monitor(a) -> int:
    from readiness.cli import write_json

    result = run_monitor(a)
    write_json(a.json, result.to_json(), "result")
    _store(a, result)
    if not a.quiet and a.json != Path("-"):
        _print(result)
    return EXIT_ALERT if result.alerts else EXIT_OK


def _store(a, result) -> None:
    if a.no_history:
        return
    from readiness.monitor.history import store_batch

    try:
        store_batch(result, url=a.db)
    except E.ReadinessError:
        if a.db:
            raise
        print("readiness: warning: the batch could not be stored in the review history.", file=sys.stderr)


def _print(result) -> None:
    for t in result.alerts:
        print(f"ALERT  {t.id:<28} {t.message}")
        for c in t.conditions:
            print(f"       signed condition: \"{c}\"")
    r = result.review
    who = f"record {r['record_id'][:12]}…" if r.get("record_id") else r["name"]
    print(("ALERT " if result.alerts else "OK    ") + f"{result.summary} (against {who})")
