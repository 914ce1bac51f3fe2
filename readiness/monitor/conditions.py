"""Which of the review's signed conditions an alert concerns.

A sign-off "approve with conditions" carries conditions in the reviewers' words ("Monitor
drift monthly", "Re-check calibration for women after three months"). Monitoring maps
each alert to the conditions that speak of it, by the words they use: a drift alert to a
condition about drift or the data, an accuracy alert to one about accuracy or
performance, a group's alert to one naming the group, its attribute, bias or fairness.
A condition that only says to monitor (no subject word) takes every alert. The mapping is
shown, never acted on: people decide what a condition requires.
"""

from __future__ import annotations

import re

WORDS = {
    "feature_drift": ("drift", "distribution", "population", "input", "data", "feature", "psi", "shift"),
    "prediction_drift": ("drift", "score", "prediction", "distribution", "shift", "output"),
    "review_band": ("human", "manual", "review band", "referral", "defer", "workload", "band"),
    "estimated_accuracy": ("accuracy", "performance", "error", "quality"),
    "accuracy": ("accuracy", "performance", "error", "quality", "label", "outcome"),
    "cost": ("cost", "loss", "business", "money", "profit"),
    "group_error": ("bias", "fair", "group", "discriminat", "disparit", "equal"),
}
GENERIC = ("monitor", "watch", "track", "review")
ALL_WORDS = {w for ws in WORDS.values() for w in ws}


def _has(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}", text) is not None


def related(test, condition: str) -> bool:
    text = condition.lower()
    words = list(WORDS.get(test.kind, ()))
    if test.kind == "feature_drift" and test.subject:
        words.append(test.subject.lower())
    if test.kind == "group_error" and test.subject:
        attr, _, group = test.subject.partition(" = ")
        words += [attr.lower(), group.lower()]
    if any(_has(text, w) for w in words):
        return True
    specific = any(_has(text, w) for w in ALL_WORDS)
    return not specific and any(_has(text, w) for w in GENERIC)


def map_conditions(tests: list, conditions: list[str]) -> tuple[list, list[dict]]:
    """Tests with the conditions each fired alert relates to, and per condition the alerts."""
    out, per = [], {c: [] for c in conditions}
    for t in tests:
        if t.fired:
            hits = [c for c in conditions if related(t, c)]
            for c in hits:
                per[c].append(t.id)
            t = t.model_copy(update={"conditions": hits})
        out.append(t)
    return out, [{"condition": c, "alerts": ids} for c, ids in per.items()]
