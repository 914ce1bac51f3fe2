"""Monitored batches in the review history (table ``monitor_batches``, schema 0003).

``readiness monitor`` stores every batch it checks (unless ``--no-history``); the app's
Monitoring page reads them back per reviewed model. The whole result is kept
(``result_json``), with the columns the page lists by (record id, review digest, time,
status, estimated and realised accuracy).
"""

from __future__ import annotations

from readiness.store import open_store


def store_batch(result, *, url: str | None = None) -> int:
    """Store one :class:`~readiness.monitor.result.MonitorResult`; returns the batch's id
    (:class:`readiness.store.StoreError` when the history cannot be opened or written)."""
    store = open_store(url)
    try:
        return store.record_batch(result)
    finally:
        store.close()


def monitored_reviews(url: str | None = None) -> list[dict]:
    store = open_store(url)
    try:
        return store.monitored_reviews()
    finally:
        store.close()


def batches_of(*, record_id: str | None = None, review_digest: str | None = None, url: str | None = None) -> list[dict]:
    store = open_store(url)
    try:
        return store.batches(record_id=record_id, review_digest=review_digest)
    finally:
        store.close()
