"""The one result schema shared by the app, the JSON report and the PDF.

All models are frozen pydantic models; ``metrics`` and ``evidence`` hold plain JSON
values only (numbers, strings, lists, dicts), so a report round-trips through JSON.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


# Order used to combine statuses: the worst wins.
_STATUS_RANK = {Status.PASS: 0, Status.SKIPPED: 0, Status.WARN: 1, Status.ERROR: 2, Status.FAIL: 3}


def worst_status(statuses) -> Status:
    statuses = list(statuses)
    if not statuses:
        return Status.PASS
    return max(statuses, key=lambda s: _STATUS_RANK[Status(s)])


def status_from_findings(findings: list[Finding]) -> Status:
    sev = {f.severity for f in findings}
    if Severity.FAIL in sev:
        return Status.FAIL
    if Severity.WARN in sev:
        return Status.WARN
    return Status.PASS


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values (NaN -> None)."""
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (datetime,)):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    severity: Severity
    message: str
    columns: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)

    @field_validator("evidence", mode="before")
    @classmethod
    def _plain(cls, v):
        return to_jsonable(v or {})

    @field_validator("columns", mode="before")
    @classmethod
    def _cols(cls, v):
        return [str(c) for c in (v or [])]


class CheckResult(_Frozen):
    id: str
    title: str
    status: Status
    summary: str
    antipatterns: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    duration_s: float | None = None

    @field_validator("metrics", mode="before")
    @classmethod
    def _plain(cls, v):
        return to_jsonable(v or {})


class InputFile(_Frozen):
    role: str  # train | test | data | model
    name: str
    sha256: str
    size_bytes: int
    rows: int | None = None
    columns: int | None = None


class RolesInfo(_Frozen):
    target: str
    positive_label: Any = None
    sensitive: list[str] = Field(default_factory=list)
    time_column: str | None = None
    id_column: str | None = None
    exclude: list[str] = Field(default_factory=list)
    prediction_column: str | None = None
    split_column: str | None = None
    favorable_label: Any = None  # bias review: the outcome that is good for the person
    champion_prediction_column: str | None = None  # the current model's scores (comparison.champion)
    features: list[str] = Field(default_factory=list)


NO_MODEL_KIND = "none"  # ModelInfo.kind of a data-only review (no model yet)
DATA_REVIEW_NOTE = ("A data review: no model was given yet, so the checks that judge a model were skipped and the "
                    "verdict covers the data only (quality, leakage, bias in the labels, feasibility).")


class ModelInfo(_Frozen):
    kind: str  # "model" | "predictions" | "none" (a data-only review)
    name: str | None = None
    estimator: str | None = None
    format: str | None = None
    trusted_pickle: bool = False
    classes: list[Any] = Field(default_factory=list)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("hyperparameters", "classes", mode="before")
    @classmethod
    def _plain(cls, v):
        return to_jsonable(v)


class ReviewReport(_Frozen):
    schema_version: str = "1"
    created_at: str
    task: str  # binary | multiclass | regression
    inputs: list[InputFile]
    roles: RolesInfo
    model: ModelInfo
    settings: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    duration_s: float | None = None
    checks: list[CheckResult]

    @property
    def data_only(self) -> bool:
        """A review of the data before any model exists."""
        return self.model.kind == NO_MODEL_KIND

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def status(self) -> Status:
        return worst_status(c.status for c in self.checks)

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


# Settings that mean something for one kind of model only (the rest apply to every review), and the words
# people read for each: Setup asks only these, and the report lists only these.
SETTING_TASKS: dict[str, tuple[str, ...]] = {
    "threshold": ("binary",), "cost_fp": ("binary",), "cost_fn": ("binary",), "champion_threshold": ("binary",),
    "target_accuracy": ("binary", "multiclass"), "cost_matrix": ("multiclass",),
    "target_rmse": ("regression",), "target_r2": ("regression",), "cost_over": ("regression",),
    "cost_under": ("regression",),
}
SETTING_LABELS: dict[str, str] = {
    "threshold": "Decision threshold", "target_accuracy": "Required accuracy", "target_rmse": "Required RMSE",
    "target_r2": "Required R²", "cost_fp": "Cost of a false positive", "cost_fn": "Cost of a false negative",
    "cost_over": "Cost per unit too high", "cost_under": "Cost per unit too low",
    "cost_matrix": "Cost matrix", "random_state": "Random seed",
    "reviewer_answers": "Reviewer answers", "bootstrap": "Bootstrap resamples",
    "reference_groups": "Reference groups (bias)", "champion_threshold": "The current model's decision threshold",
    "latency_budget_ms": "Latency budget for one row (ms)",
}


def settings_that_apply(settings: dict[str, Any], task: str) -> dict[str, Any]:
    """The recorded settings that mean something for this task (a regression has no decision threshold)."""
    return {k: v for k, v in settings.items() if task in SETTING_TASKS.get(k, (task,))}
