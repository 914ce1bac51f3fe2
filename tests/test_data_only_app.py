"""The app's data review (issue 13, part 2): Setup offers 'No model yet'; the review runs without a
model; Overview says it is a data review; every page renders, the model's checks skipped with the reason."""

import pytest
from test_app import PAGES, SAMPLE, _upload, errors, fresh

from readiness.registry import NEEDS_MODEL
from readiness.results import DATA_REVIEW_NOTE


@pytest.mark.slow  # a whole review and every page in AppTest: about a minute on the shared machine
def test_setup_without_a_model_runs_a_data_review():
    at = fresh()
    at.switch_page("pages/setup.py").run()
    _upload(at, "Training data", "train.csv", (SAMPLE / "credit_train.csv").read_bytes())
    _upload(at, "Holdout data", "holdout.csv", (SAMPLE / "credit_holdout.csv").read_bytes())
    assert at.button[-1].disabled  # neither a model, nor scores, nor 'No model yet' chosen
    at.radio(key="setup_model_mode").set_value("No model yet (review the data)").run()
    assert any("A data review before training" in i.value for i in at.info)
    assert not at.button[-1].disabled
    at.button[-1].click().run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    assert at.title[0].value == "Overview"
    assert any(DATA_REVIEW_NOTE in i.value for i in at.info)
    report = at.session_state["readiness_review"].report
    assert report.data_only and report.check("evaluation.holdout").summary == NEEDS_MODEL
    assert report.check("data_quality.labels").status == "pass"
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not errors(at), (page, errors(at))
