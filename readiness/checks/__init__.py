"""Built-in checks. Importing this package registers them (see ``readiness.registry``).

To add a check: write ``readiness/checks/<area>.py`` with functions decorated by
``@register(...)``, import the module here, document its id and metrics in
``docs/checks.md`` (a test fails otherwise), and add known-answer tests.
"""

from readiness.checks import bias, calibration, data_quality, drift, evaluation, model  # noqa: F401
from readiness.checks import holdout_reuse, leakage  # noqa: F401
from readiness.checks import explanations  # noqa: F401
from readiness.checks import feasibility  # noqa: F401
from readiness.checks import business  # noqa: F401
