"""The champion's signed review in the history, and what changed since (Bad Credit Assignment).

When the current model (the champion) was itself reviewed and signed off, the review
history holds that signed record: the review it was built from names the champion's
model file by SHA-256. :func:`champion_review_for` finds the newest such record with at
least one signature; the app and the CLI put it on ``ReviewContext.champion_review``
before the review runs (as they do with the holdout's prior evaluations), and
``comparison.champion`` links it and lists, with :func:`what_changed`, what differs
between that signed review and this one: data files, features, estimator and
hyper-parameters, roles and settings — where a gain can come from.
"""

from __future__ import annotations

import json
from typing import Any

from readiness import fmt

SETTINGS_COMPARED = ("threshold", "cost_fp", "cost_fn", "target_accuracy")
ROLES_COMPARED = ("target", "positive_label", "favorable_label", "sensitive", "time_column", "id_column")
MAX_LISTED = 8


def find_champion_review(store, model_sha256: str) -> dict | None:
    """The newest signed record whose review names ``model_sha256`` as its model, or None.

    Returns the link (record id, its SHA-256, project, model name and version, date,
    decision, conditions, signers) and the signed review itself (``review``, parsed from
    the exact stored bytes).
    """
    from sqlalchemy import select

    r, rec, sig = store.reviews, store.records, store.signatures
    q = (select(rec.c.record_id, rec.c.created_at, rec.c.project, rec.c.model_name, rec.c.model_version,
                rec.c.decision, rec.c.conditions, rec.c.record_sha256, rec.c.record_json)
         .select_from(rec.join(r, rec.c.review_id == r.c.id))
         .where(r.c.model_sha256 == model_sha256)
         .where(rec.c.record_id.in_(select(sig.c.record_id)))
         .order_by(rec.c.created_at.desc()).limit(1))
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
        if row is None:
            return None
        signers = [{"role": s.role, "name": s.signer_name, "decision": s.decision,
                    "signed_at": s.signed_at.isoformat() if hasattr(s.signed_at, "isoformat") else str(s.signed_at)}
                   for s in conn.execute(select(sig).where(sig.c.record_id == row["record_id"])
                                         .order_by(sig.c.signed_at, sig.c.id))]
    record = json.loads(bytes(row["record_json"]).decode("utf-8"))
    created = row["created_at"]
    return {"record_id": row["record_id"], "record_sha256": row["record_sha256"],
            "created_at": created.isoformat() if hasattr(created, "isoformat") else str(created),
            "project": row["project"], "model_name": row["model_name"], "model_version": row["model_version"],
            "decision": row["decision"], "conditions": json.loads(row["conditions"] or "[]"), "signers": signers,
            "review": record.get("review") or {}}


def champion_review_for(ctx, url: str | None = None, *, store=None) -> dict | None:
    """The champion's signed review for a context with a champion model file; None when there
    is none, the champion is a prediction column, or the history cannot be read."""
    ch = getattr(ctx, "champion", None)
    if ch is None or not ch.sha256:
        return None
    try:
        if store is None:
            from readiness.store import shared_store

            store = shared_store(url)
        return find_champion_review(store, ch.sha256)
    except Exception:  # the history is optional here: no link rather than no review
        return None


def _files(review: dict) -> dict[str, dict]:
    return {f.get("role"): f for f in review.get("inputs") or [] if isinstance(f, dict)}


# what a person reads for a setting or role in "settings changed (…)" (a finding: no internal keys)
CHANGED_WORDS = {"threshold": "decision threshold", "cost_fp": "cost of a false positive",
                 "cost_fn": "cost of a false negative", "target_accuracy": "required accuracy",
                 "target": "target", "positive_label": "positive label", "favorable_label": "favourable label",
                 "sensitive": "sensitive attributes", "time_column": "time column", "id_column": "ID column"}


def _short(v: Any) -> str:
    """A value as a person reads it: 'not set' for null, lists as names (never JSON or 'null')."""
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(_short(x) for x in v) if v else "none"
    text = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return text if len(text) <= 60 else text[:57] + "…"


def what_changed(old: dict, ctx) -> dict:
    """Differences between the champion's signed review (its JSON) and this review's context.

    ``data``: per file role (train, test) whether the file changed (SHA-256); ``features``:
    ``added`` / ``removed`` against the champion's feature list; ``estimator`` (old, new)
    when the final estimator's class changed; ``hyperparameters``: name -> [old, new] for
    every value that differs (also those present on one side only); ``settings`` and
    ``roles``: name -> [old, new]. ``sentences`` says it in words.
    """
    out: dict[str, Any] = {}
    said: list[str] = []
    old_files = _files(old)
    now_files = {f.role: f for f in ctx.input_files}
    data = {}
    for role, word in (("train", "training data"), ("test", "holdout")):
        a, b = old_files.get(role), now_files.get(role)
        if a is None and b is None:
            continue
        same = a is not None and b is not None and a.get("sha256") == b.sha256
        data[role] = {"changed": not same, "old_sha256": a and a.get("sha256"), "new_sha256": b and b.sha256,
                      "old_rows": a and a.get("rows"), "new_rows": b and b.rows}
        if not same:
            rows = ""
            if a is not None and b is not None and a.get("rows") and b.rows:
                before, now = fmt.count(a["rows"]), fmt.count(b.rows)
                rows = f" ({before} → {now} rows)" if before != now else f" ({now} rows, as many as before)"
            said.append(f"new {word}{rows}")
    out["data"] = data
    old_features = list((old.get("roles") or {}).get("features") or [])
    new_features = list(ctx.features)
    added = [f for f in new_features if f not in old_features]
    removed = [f for f in old_features if f not in new_features]
    out["features"] = {"added": added, "removed": removed, "old_count": len(old_features),
                       "new_count": len(new_features)}
    if added:
        said.append(f"{len(added)} feature{'s' if len(added) > 1 else ''} added ({', '.join(added[:MAX_LISTED])})")
    if removed:
        said.append(f"{len(removed)} feature{'s' if len(removed) > 1 else ''} removed "
                    f"({', '.join(removed[:MAX_LISTED])})")
    old_model = old.get("model") or {}
    info = ctx.model_info
    if old_model.get("estimator") and info.estimator and old_model.get("estimator") != info.estimator:
        out["estimator"] = [old_model.get("estimator"), info.estimator]
        said.append(f"another algorithm ({old_model.get('estimator')} → {info.estimator})")
    old_hp, new_hp = old_model.get("hyperparameters") or {}, dict(info.hyperparameters or {})
    hp = {k: [old_hp.get(k), new_hp.get(k)] for k in sorted(set(old_hp) | set(new_hp))
          if old_hp.get(k) != new_hp.get(k) and _short(old_hp.get(k)) != _short(new_hp.get(k))}
    out["hyperparameters"] = hp
    if hp and "estimator" not in out:
        listed = ", ".join(f"{k} {fmt.change(_short(a), _short(b), arrow=True)}"
                           for k, (a, b) in list(hp.items())[:MAX_LISTED])
        said.append(f"{len(hp)} hyper-parameter{'s' if len(hp) > 1 else ''} changed ({listed})")
    for name, now, keys in (("settings", ctx.settings.model_dump(), SETTINGS_COMPARED),
                            ("roles", ctx.roles.model_dump(), ROLES_COMPARED)):
        before = old.get(name) or {}
        diff = {k: [before.get(k), now.get(k)] for k in keys if k in before and before.get(k) != now.get(k)}
        out[name] = diff
        if diff:
            said.append(f"{name} changed (" + "; ".join(f"{CHANGED_WORDS.get(k, k)} {fmt.change(_short(a), _short(b), arrow=True)}"
                                                         for k, (a, b) in diff.items()) + ")")
    out["sentences"] = said
    return out
