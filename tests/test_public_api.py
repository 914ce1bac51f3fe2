"""Pin the public API (httpx's test_exported_members idea)."""

import readiness


def test_exported_members():
    assert sorted(readiness.__all__) == sorted([
        "CheckResult", "Finding", "InputFileError", "ModelError", "Outcome", "ReadinessError", "ReviewContext",
        "ReviewReport", "Roles", "RoleError", "Settings", "Severity", "SkipCheck", "Status", "UntrustedModelError",
        "load_model", "load_table", "model_digest", "prepare_review", "register", "registered_checks", "run_review",
    ])
    for name in readiness.__all__:
        assert hasattr(readiness, name)


def test_errors_subclass_value_error():
    for exc in (readiness.InputFileError, readiness.ModelError, readiness.RoleError, readiness.UntrustedModelError):
        assert issubclass(exc, readiness.ReadinessError) and issubclass(exc, ValueError)


def test_library_never_imports_streamlit():
    import subprocess
    import sys

    code = ("import sys, readiness, readiness.cli, readiness.review, readiness.registry; "
            "readiness.registry.registered_checks(); import readiness.charts; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
