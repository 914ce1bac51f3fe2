"""AppTest: the Explanations page renders on the bundled sample and its row picker works."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def test_explanations_page_renders_and_row_picker_works():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    at.switch_page("pages/explanations.py").run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Explanations"]
    labels = [m.label for m in at.metric]
    for wanted in ("Largest share of the effect", "Rows where SHAP and LIME agree", "Contribute nothing"):
        assert wanted in labels
    share = next(m for m in at.metric if m.label == "Largest share of the effect")
    assert share.value.endswith("%") and "collections_contacts" in share.help

    # the planted post-outcome column: when the leakage check flags it, the page says so
    from readiness.checks.explanations import leakage_flagged_columns

    report = at.session_state["readiness_review"].report
    if "collections_contacts" in leakage_flagged_columns(report):
        assert any("collections_contacts" in e.value and "leakage" in e.value for e in at.error)

    # row picker: default is the closest call; pick the highest score, then any row by number
    pick = at.selectbox(key="explanations_pick")
    assert "closest call" in pick.value
    facts_before = [m.value for m in at.markdown if "actual" in m.value]
    pick.select(next(o for o in pick.options if "highest score" in o)).run()
    assert not at.exception
    facts_after = [m.value for m in at.markdown if "actual" in m.value]
    assert facts_after and facts_after != facts_before
    pick = at.selectbox(key="explanations_pick")
    pick.select(pick.options[-1]).run()
    at.number_input(key="explanations_row_number").set_value(7).run()
    assert not at.exception
    row7 = at.session_state["readiness_review"].ctx.test["application_id"].iloc[7]
    assert any(row7 in m.value for m in at.markdown if "actual" in m.value)
    assert at.session_state["readiness_review"].extras["explanations_row"] == 7
    # one of the two side-by-side verdicts on SHAP vs LIME is shown for the row
    assert any("SHAP and LIME" in x.value for x in list(at.success) + list(at.warning))

    # dependence plot selector
    dep = at.selectbox(key="explanations_dependence")
    dep.select(dep.options[1]).run()
    assert not at.exception


def test_the_default_row_shows_the_checks_own_explanation_without_a_rerun(monkeypatch):
    """The LIME check already explained the default row (metrics["default_row"]); the page shows those
    figures (one number per quantity) instead of explaining the row again, which took most of the
    page's first visit (SHAP + LIME with five LIME seeds)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    import readiness.explain as X

    def refuse(*a, **k):
        raise AssertionError("explain_row called again for the default row")

    monkeypatch.setattr(X, "explain_row", refuse)
    at.switch_page("pages/explanations.py").run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be explained" in e.value]
    stored = at.session_state["readiness_review"].report.check("explanations.lime").metrics["default_row"]
    facts = [m.value for m in at.markdown if "actual" in m.value]
    assert facts and f"score **{stored['score']:.3f}**" in facts[0]
