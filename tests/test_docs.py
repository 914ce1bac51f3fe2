"""Everything registered is documented (datasette's test_docs idea)."""

import re
from pathlib import Path

from readiness.antipatterns import ANTIPATTERNS
from readiness.registry import registered_checks

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "checks.md").read_text()


def test_every_check_id_is_documented():
    missing = [s.id for s in registered_checks() if f"`{s.id}`" not in DOC]
    assert not missing, f"add these check ids to docs/checks.md: {missing}"


def test_every_top_level_metric_of_the_sample_is_documented(sample_report):
    undocumented = []
    for c in sample_report.checks:
        start = DOC.find(f"### `{c.id}`")
        section = DOC[start:DOC.find("\n### ", start + 1) if DOC.find("\n### ", start + 1) > 0 else None]
        for key in c.metrics:
            if not re.search(rf"`{re.escape(key)}[`.]", section) and f"`{key}`" not in section:
                undocumented.append(f"{c.id}: {key}")
    assert not undocumented, f"document these metrics in docs/checks.md: {undocumented}"


def test_antipattern_ids_are_documented():
    assert all(f"`{a.id}`" in (ROOT / "docs" / "antipatterns.md").read_text() for a in ANTIPATTERNS)


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "streamlit run app.py" in readme
    assert "pytest" in readme
