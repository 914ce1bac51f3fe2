"""The result of monitoring one production batch: one frozen schema for the CLI, the JSON,
the review history and the Monitoring page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from readiness.results import to_jsonable

MONITOR_SCHEMA = "1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonitorTest(_Frozen):
    """One statistic of the batch against its alert threshold.

    ``kind``: ``feature_drift``, ``prediction_drift``, ``review_band``, ``estimated_accuracy``,
    ``accuracy``, ``cost`` or ``group_error``; ``subject`` the feature or group it is about.
    ``value`` alerts when it exceeds ``threshold`` (the simulated (1 − α/k) quantile for a batch
    of this size); ``p_value`` is the simulated chance of a value at least this large.
    """

    id: str
    kind: str
    subject: str | None = None
    statistic: str
    value: float
    threshold: float
    p_value: float
    fired: bool
    message: str
    conditions: list[str] = Field(default_factory=list)  # signed conditions this alert relates to
    evidence: dict[str, Any] = Field(default_factory=dict)

    @field_validator("evidence", mode="before")
    @classmethod
    def _plain(cls, v):
        return to_jsonable(v or {})


class MonitorResult(_Frozen):
    schema_version: str = MONITOR_SCHEMA
    created_at: str
    status: str  # "ok" | "alert"
    summary: str
    review: dict[str, Any]  # record id, project, model name and version, review digest, decision, conditions
    model: dict[str, Any]  # name, sha256
    batch: dict[str, Any]  # name, sha256, rows, scored_rows, labelled_rows
    alpha: float
    alpha_each: float
    simulations: int
    tests: list[MonitorTest]
    features: dict[str, Any] = Field(default_factory=dict)
    predictions: dict[str, Any] = Field(default_factory=dict)
    estimated: dict[str, Any] = Field(default_factory=dict)
    realised: dict[str, Any] | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    multivariate: dict[str, Any] | None = None

    @field_validator("features", "predictions", "estimated", "realised", "review", "model", "batch", "multivariate",
                     mode="before")
    @classmethod
    def _plain(cls, v):
        return None if v is None else to_jsonable(v)

    @property
    def alerts(self) -> list[MonitorTest]:
        return [t for t in self.tests if t.fired]

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)
