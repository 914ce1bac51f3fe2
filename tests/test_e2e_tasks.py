"""Issue 23 in a real browser: a regression review (scikit-learn's diabetes data, `sex` named as sensitive,
a fitted pipeline saved with skops) and a multiclass review (digits, 10 classes, with a cost matrix) taken
as a new user would, through Setup and every page, with full-page screenshots and the PDF rendered to PNG.

Same browser and server as tests/test_e2e.py (skipped without chromium unless READINESS_REQUIRE_E2E=1).
Screenshots go to $READINESS_E2E_SHOTS when set (to keep and look at), else to a temporary directory.
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import test_e2e as e2e
from test_e2e import goto_page, settled, shot, upload

browser, page, server = e2e.browser, e2e.page, e2e.server  # the same fixtures: Chromium, a tab, `streamlit run`

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    where = os.environ.get("READINESS_E2E_SHOTS")
    out = Path(where) if where else tmp_path_factory.mktemp("shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The user's files: CSVs and .skops models fitted with scikit-learn, written as a user would save them."""
    import skops.io as sio
    from sklearn import datasets
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    d = tmp_path_factory.mktemp("files")
    f = datasets.load_diabetes(as_frame=True, scaled=False).frame
    f["sex"] = f["sex"].map({1.0: "female", 2.0: "male"})
    train, test = train_test_split(f, test_size=0.35, random_state=0)
    feats = [c for c in f.columns if c != "target"]
    ridge = make_pipeline(make_column_transformer((OneHotEncoder(), ["sex"]), remainder=StandardScaler()),
                          Ridge(alpha=1.0)).fit(train[feats], train["target"])
    train.to_csv(d / "diabetes_train.csv", index=False)
    test.to_csv(d / "diabetes_holdout.csv", index=False)
    sio.dump(ridge, d / "diabetes_ridge.skops")

    g = datasets.load_digits(as_frame=True).frame
    train, test = train_test_split(g, test_size=0.3, random_state=0, stratify=g["target"])
    pixels = [c for c in g.columns if c != "target"]
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[pixels], train["target"])
    rng = np.random.default_rng(0)  # where each form was scanned: a group to compare, not a model input
    for name, part in (("train", train), ("holdout", test)):
        part = part.copy()
        part.insert(0, "office", rng.choice(["north", "south"], len(part)))
        part.to_csv(d / f"digits_{name}.csv", index=False)
    sio.dump(logreg, d / "digits_logreg.skops")
    return d


def _visible_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def _no_raw_values(page, where: str) -> None:
    """What a reader must never meet: Python's None, NaN, exponents."""
    import re

    text = _visible_text(page)
    for bad in (r"\bNone\b", r"\bnan\b", r"\bNaN\b", r"\d[eE][+-]\d\d"):
        hit = re.search(bad, text)
        assert hit is None, (where, bad, text[max(0, hit.start() - 120): hit.end() + 120])


def _multiselect(page, label: str, option: str) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    if box.get_by_role("button", name=f"Remove {option}", exact=True).count():  # Setup guessed it already
        return
    combo = box.get_by_role("combobox")
    combo.click()
    combo.fill(option)  # filter the long list of columns down to this one, then choose it
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    box.get_by_role("button", name=f"Remove {option}", exact=True).wait_for()
    settled(page)


def _number(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    settled(page)


def _pdf_pages(page, shots: Path, name: str) -> tuple[str, list[Path]]:
    """Build the PDF on the Report page, download it, render every page to PNG (pdftoppm) and return its text."""
    goto_page(page, "Report & sign-off")
    page.get_by_role("button", name="Build the PDF report").click()
    page.get_by_text("Report built:").wait_for(timeout=300_000)
    settled(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Unsigned PDF report", exact=False).click()
    pdf = shots / f"{name}.pdf"
    dl.value.save_as(str(pdf))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = " ".join(text.split())  # a table cell's words stay together across line breaks
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(shots / f"{name}_pdf")], check=True)
    return text, sorted(shots.glob(f"{name}_pdf*.png"))


PAGES = [("Data quality", None), ("Holdout performance", None), ("Leakage", "Leakage and test independence"),
         ("Bias", None), ("Calibration", "Calibration and uncertainty"), ("Explanations", None),
         ("Business cost", None), ("Feasibility", None), ("Where it fails", None)]


def _walk(page, shots: Path, prefix: str) -> dict[str, str]:
    """Every page of the review: no exception, no raw values, a full-page screenshot; the text of each."""
    texts = {}
    for title, heading in PAGES:
        goto_page(page, title, heading)
        errors = page.get_by_test_id("stException")
        assert errors.count() == 0, (title, errors.first.inner_text()[:2000])
        _no_raw_values(page, title)
        shot(page, f"{prefix}_{title.lower().replace(' ', '_')}", where=shots)
        texts[title] = _visible_text(page)
        (shots / f"{prefix}_{title.lower().replace(' ', '_')}.txt").write_text(texts[title])
    return texts


def _load(page, server, files: Path, *names: str) -> None:
    """Setup, as a new user: the training file, the holdout file and the model file, in that order."""
    page.goto(f"{server}/setup")
    page.get_by_role("heading", name="1 · Data").wait_for()
    settled(page)
    for i, (role, name) in enumerate(zip(("Training", "Holdout", "Model"), names, strict=True)):
        upload(page, i, files / name, f"{role}: {name}")


def test_a_regression_review_in_the_browser(server, page, files, shots):
    _load(page, server, files, "diabetes_train.csv", "diabetes_holdout.csv", "diabetes_ridge.skops")
    # Setup asks only what applies to a model that predicts a number, and says why
    setup = _visible_text(page)
    assert "The model predicts a number (regression)" in setup
    for absent in ("Decision threshold", "Cost of a false positive", "Required accuracy"):
        assert absent not in setup, absent
    assert "diabetes_ridge" in page.get_by_label("Review title").input_value()
    _multiselect(page, "Sensitive attributes", "sex")
    _number(page, "Required RMSE", "50")
    _number(page, "Cost per unit too high", "1")
    _number(page, "Cost per unit too low", "3")
    _no_raw_values(page, "Setup")
    shot(page, "regression_setup", where=shots)
    page.get_by_role("button", name="Run review").click()
    page.get_by_text("Anti-pattern scorecard").wait_for(timeout=300_000)
    settled(page)
    assert page.get_by_text("You are viewing the sample review").count() == 0
    _no_raw_values(page, "Overview")
    shot(page, "regression_overview", where=shots)
    t = _walk(page, shots, "regression")
    holdout = t["Holdout performance"]
    assert "Predicted vs actual" in holdout and "Error by decile of the prediction" in holdout
    assert "Confusion matrix" not in holdout and "R²" in holdout
    bias = t["Bias"]
    assert "Error and bias by group of 'sex'" in bias and "All holdout rows: MAE" in bias  # (tables are drawn)
    assert "female" in bias and "male" in bias and "Group metrics need a classifier" not in bias
    assert "Calibration slope" in t["Calibration"] and "90% prediction interval" in t["Calibration"]
    assert "noise floor" in t["Feasibility"].lower() and "RMSE" in t["Feasibility"]
    assert "per 1,000" in t["Business cost"]
    text, pngs = _pdf_pages(page, shots, "regression")
    assert pngs or not shutil.which("pdftoppm")
    body = text[: text.rindex("Appendix: method notes")]  # the method notes describe every task
    for wrong in ("Cost fp", "Decision threshold", "Cost of a false positive", "per 1,000 decisions",
                  "can the probabilities be taken"):
        assert wrong not in body, wrong
    assert "Smallest reachable RMSE (noise floor)" in body and "Required RMSE" in body


def test_a_multiclass_review_in_the_browser(server, page, files, shots):
    _load(page, server, files, "digits_train.csv", "digits_holdout.csv", "digits_logreg.skops")
    setup = _visible_text(page)
    assert "The model chooses among 10 classes" in setup
    assert "Decision threshold" not in setup and "Cost of a false positive" not in setup
    _multiselect(page, "Sensitive attributes", "office")
    page.get_by_text("Price the decisions with a cost matrix").click()
    settled(page)
    grid = page.get_by_test_id("stDataFrame")  # the cost matrix: true class by predicted class
    grid.first.wait_for()
    _no_raw_values(page, "Setup")
    shot(page, "multiclass_setup", where=shots)
    page.get_by_role("button", name="Run review").click()
    # leave Setup while the review runs: the page opened waits for the review and shows it (not the sample)
    page.get_by_text("Running the review").first.wait_for()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Holdout performance", exact=True).click()
    page.get_by_text("Confusion matrix").first.wait_for(timeout=600_000)
    settled(page)
    text = _visible_text(page)
    assert "You are viewing the sample review" not in text and "540 holdout rows" in text, text[:2000]
    goto_page(page, "Overview")
    page.get_by_text("Anti-pattern scorecard").wait_for()
    _no_raw_values(page, "Overview")
    shot(page, "multiclass_overview", where=shots)
    t = _walk(page, shots, "multiclass")
    holdout = t["Holdout performance"]
    assert "Confusion matrix" in holdout and "precision" in holdout.lower() and "recall" in holdout.lower()
    assert "taken for" in holdout  # the largest confusions, in words
    assert "Largest accuracy gap" in t["Bias"] and "Detail: class" in t["Bias"]
    assert "per 1,000" in t["Business cost"]
    text, pngs = _pdf_pages(page, shots, "multiclass")
    assert pngs or not shutil.which("pdftoppm")
    body = text[: text.rindex("Appendix: method notes")]
    assert "Decision threshold" not in body and "Cost fp" not in body and "Cost matrix" in body
