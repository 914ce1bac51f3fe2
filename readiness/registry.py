"""The check registry: built-in checks register exactly as plugins would.

A check is a pure function ``(ctx: ReviewContext) -> Outcome``. It raises
:class:`SkipCheck` with a reason when it does not apply. The runner turns the outcome
into a :class:`CheckResult`, and any other exception into an ``error`` result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from readiness.antipatterns import ANTIPATTERN_IDS
from readiness.results import Finding, Status


class SkipCheck(Exception):
    """Raised by a check that does not apply; the message is the reason shown to users."""


class NeedsModel(SkipCheck):
    """Raised when a check asks for the model's predictions in a data-only review (no model yet)."""


NEEDS_MODEL = ("No model yet (a data-only review): this check judges a model, so it runs once a model or its "
               "predictions are given.")


@dataclass
class Outcome:
    summary: str
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    status: Status | None = None  # None: derived from the worst finding


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    area: str
    antipatterns: tuple[str, ...]
    func: Callable[..., Outcome]
    description: str
    order: int
    task_titles: tuple[tuple[str, str], ...] = ()  # (task, title) where the default title's words do not fit

    def title_for(self, task: str | None) -> str:
        """The title for a review of this task: a regression has predictions, not decisions to flip."""
        return dict(self.task_titles).get(task or "", self.title)


_REGISTRY: dict[str, CheckSpec] = {}


def register(check_id: str, *, title: str, area: str, antipatterns: tuple[str, ...] = (), order: int = 100,
             task_titles: dict[str, str] | None = None):
    """Decorator adding a check to the registry under a stable, dotted, lower-case id."""
    if check_id != check_id.lower() or " " in check_id:
        raise ValueError(f"check id must be dotted lower-case, got {check_id!r}")
    unknown = set(antipatterns) - ANTIPATTERN_IDS
    if unknown:
        raise ValueError(f"unknown anti-pattern ids {sorted(unknown)} for {check_id}")

    def deco(func):
        if check_id in _REGISTRY and _REGISTRY[check_id].func is not func:
            raise ValueError(f"check id {check_id!r} registered twice")
        doc = (func.__doc__ or "").strip()
        _REGISTRY[check_id] = CheckSpec(check_id, title, area, tuple(antipatterns), func, doc, order,
                                        tuple((task_titles or {}).items()))
        return func

    return deco


def registered_checks() -> list[CheckSpec]:
    """All checks, built-ins loaded, in display order."""
    import readiness.checks  # noqa: F401  (importing registers the built-ins)

    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.id))


def get_check(check_id: str) -> CheckSpec:
    for spec in registered_checks():
        if spec.id == check_id:
            return spec
    raise KeyError(f"no check with id {check_id!r}; known: {[s.id for s in registered_checks()]}")
