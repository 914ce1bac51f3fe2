"""Model Readiness Review: decide, with evidence, whether a tabular model is ready.

The public API is small and pinned by ``tests/test_public_api.py``::

    from readiness import prepare_review, run_review, Roles, Settings
    ctx = prepare_review(train="train.csv", test="test.csv", model="model.skops",
                         roles=Roles(target="default"))
    report = run_review(ctx)
    print(report.to_json())
"""

from readiness.errors import (
    InputFileError,
    ModelError,
    ReadinessError,
    RoleError,
    UntrustedModelError,
)
from readiness.inputs import (
    ReviewContext,
    Roles,
    Settings,
    load_model,
    load_table,
    model_digest,
    prepare_review,
)
from readiness.registry import Outcome, SkipCheck, register, registered_checks
from readiness.results import CheckResult, Finding, ReviewReport, Severity, Status
from readiness.review import run_review

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "Finding",
    "InputFileError",
    "ModelError",
    "Outcome",
    "ReadinessError",
    "ReviewContext",
    "ReviewReport",
    "Roles",
    "RoleError",
    "Settings",
    "Severity",
    "SkipCheck",
    "Status",
    "UntrustedModelError",
    "load_model",
    "load_table",
    "model_digest",
    "prepare_review",
    "register",
    "registered_checks",
    "run_review",
]
