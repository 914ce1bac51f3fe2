"""Built-in checks. Importing this package registers them (see ``readiness.registry``).

To add a check: write ``readiness/checks/<area>.py`` with functions decorated by
``@register(...)``, import the module here, document its id and metrics in
``docs/checks.md`` (a test fails otherwise), and add known-answer tests.
"""

from readiness.checks import (  # noqa: F401
    baselines,
    bias,
    bias_categories,
    business,
    calibration,
    comparison,
    data_quality,
    drift,
    drift_multivariate,
    evaluation,
    explanations,
    feasibility,
    holdout_reuse,
    labels,
    leakage,
    leakage_preprocessing,
    leakage_temporal,
    model,
    monitoring,
    robustness,
    segments,
    serving,
)
