"""One status vocabulary for app, PDF and JSON: word, icon and colour (never colour alone)."""

from __future__ import annotations

from readiness.results import Status

STATUS_WORD = {Status.PASS: "Pass", Status.WARN: "Warning", Status.FAIL: "Fail",
               Status.SKIPPED: "Skipped", Status.ERROR: "Error"}
STATUS_ICON = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIPPED: "⏭️", Status.ERROR: "🛑"}
# colours readable in print as well: distinct lightness, not hue only
STATUS_COLOR = {Status.PASS: "#1a7f37", Status.WARN: "#b35900", Status.FAIL: "#c62828",
                Status.SKIPPED: "#6e7781", Status.ERROR: "#6f42c1"}
STATUS_STREAMLIT_COLOR = {Status.PASS: "green", Status.WARN: "orange", Status.FAIL: "red",
                          Status.SKIPPED: "gray", Status.ERROR: "violet"}
# Material icon names (Streamlit ships the font, so they render everywhere)
STATUS_MATERIAL = {Status.PASS: "check_circle", Status.WARN: "warning", Status.FAIL: "cancel",
                   Status.SKIPPED: "skip_next", Status.ERROR: "error"}

# one sentence per overall status, shared by the Overview page and the PDF summary
OVERALL_VERDICT = {
    Status.PASS: "No check found a problem.",
    Status.WARN: "No blocking problem, but warnings need a reviewer's judgement before sign-off.",
    Status.FAIL: "At least one check failed: the model is not ready as it stands.",
    Status.ERROR: "Some checks could not run; their evidence is missing.",
    Status.SKIPPED: "All checks were skipped.",
}


def overall_verdict(status: Status, *, data_only: bool = False) -> str:
    """The one-sentence verdict; a data-only review judges the data, not a model."""
    text = OVERALL_VERDICT[Status(status)]
    return text.replace("the model is not ready", "the data is not ready for training") if data_only else text
