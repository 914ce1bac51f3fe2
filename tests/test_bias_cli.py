"""`readiness review --answers`: reviewer answers reach bias.categories and the report."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args):
    return subprocess.run([sys.executable, "-m", "readiness.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_answers_file_reaches_the_report(tmp_path):
    answers = {"intended_use": "Rank applications for manual underwriting", "affected_population": "Applicants",
               "human_oversight": "some", "population_match": "yes", "recourse": "yes",
               "reference_population": "North=15%"}
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    proc = cli("review", "--sample", "--check", "bias.categories", "--answers", path, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["settings"]["reviewer_answers"] == answers
    cats = report["checks"][0]["metrics"]["categories"]
    assert cats["deployment"]["status"] == "pass"
    assert cats["representation"]["status"] == "warn" and "North" in cats["representation"]["summary"]


def test_a_bad_answers_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "answers.json"
    bad.write_text('{"human_oversight": "sometimes"}')
    for path, needle in [(bad, "must be one of"), (tmp_path / "missing.json", "not found")]:
        proc = cli("review", "--sample", "--check", "bias.categories", "--answers", path, "--quiet")
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("readiness: error: ") and needle in lines[0]
        assert "Traceback" not in proc.stderr
