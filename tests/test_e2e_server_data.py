"""In the browser: the operator offers datasets held on the server; a visitor picks a partitioned Parquet
holdout on Setup (no path typed, none shown), the review runs on the local engine as
``readiness review --engine local`` streams a dataset, and the scorecard and a page say which rows each
check's figures rest on (exact on every row, or a sample)."""

from __future__ import annotations

import os
import re

import pytest
from e2e_support import streamlit_app
from test_e2e import _free_port, browser, goto_page, page, settled, shot  # noqa: F401
from test_server_data import frame, write_parts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lake_server(request, tmp_path_factory):
    base = tmp_path_factory.mktemp("operator")
    root = base / "lake"
    root.mkdir()
    write_parts(frame(6000, 21), root / "holdout_2026_q3", 3)
    write_parts(frame(4000, 22), root / "training_2025", 2)
    outside = base / "private"
    outside.mkdir()
    frame(10, 23).to_parquet(outside / "salaries.parquet", index=False)
    os.symlink(outside, root / "private_link")  # a link out of the root: listed as not usable, never read
    toml = base / "server-data.toml"
    toml.write_text(f'root = "{root}"\nengine = "local"\nsample_rows = 1000\n')
    failed_before = request.session.testsfailed
    env = {"READINESS_DB": str(base / "reviews.db"), "READINESS_SERVER_DATA": str(toml),
           "READINESS_LOCAL_MAX_ROWS": "2000"}  # the holdout (6,000 rows) is streamed, as a large one would be
    with streamlit_app(_free_port(), env=env, host="127.0.0.1", args=("--server.address", "127.0.0.1"),
                       log=base / "streamlit.log", failed=lambda: request.session.testsfailed > failed_before) as url:
        yield url, base


def choose(pg, box_label: str, option: str) -> None:
    pg.get_by_test_id("stSelectbox").filter(has_text=box_label).first.click()
    pg.get_by_role("option", name=option).first.click()
    settled(pg)


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_a_visitor_reviews_a_holdout_held_on_the_server(lake_server, page):  # noqa: F811
    url, base = lake_server
    page.goto(f"{url}/setup")
    page.get_by_role("heading", name="1 · Data").wait_for()
    settled(page)
    radios = page.get_by_test_id("stRadio")
    for label in ("Training data", "Holdout data"):
        radios.filter(has_text=label).get_by_text("A dataset on the server").click()
        settled(page)
    choose(page, "Training data: the dataset on the server", "training_2025")
    page.get_by_text("a dataset on the server · 4,000 rows × 4 columns in 2 files").wait_for()
    choose(page, "Holdout data: the dataset on the server", "holdout_2026_q3")
    page.get_by_text("a dataset on the server · 6,000 rows × 4 columns in 3 files").wait_for()
    page.get_by_text("1 more on the server cannot be used").click()  # the operator's link out: named, never read
    page.get_by_text("it is a link that leads outside the server's data folder").wait_for()
    page.get_by_test_id("stRadio").filter(has_text="What is reviewed?").get_by_text(
        "Scores in a holdout column").click()
    settled(page)
    # the target (y) and the prediction column (score) are guessed from the holdout's first rows
    shot(page, "setup_server_data")
    text = page.get_by_test_id("stMain").inner_text()
    assert str(base) not in text and "salaries" not in text  # no server path, nothing beyond the root
    page.get_by_role("button", name="Run review").click()
    page.get_by_text("Anti-pattern scorecard").wait_for(timeout=300_000)
    settled(page)
    assert page.get_by_test_id("stException").count() == 0
    # the scorecard: exact checks on every holdout row, the row-level ones on the engine's sample
    page.get_by_text("Basis: exact on 6,000 holdout rows (local)").first.wait_for()
    page.get_by_text("Basis: sample of 1,000 of 6,000 holdout rows (local)").first.wait_for()
    # the overview's sentence counts the checks each list entry's basis line names (one source: metrics.basis);
    # at least completeness, holdout performance and the holdout reuse budget are exact (counts over every row)
    sentence = page.get_by_text("Computed with the local engine:").first
    sentence.wait_for()
    found = re.search(r"engine: (\d+) of (\d+) checks exactly on all 6,000 holdout rows, (\d+) on a sample of 1,000",
                      sentence.inner_text())
    assert found, sentence.inner_text()
    exact, total, sampled = (int(g) for g in found.groups())
    assert exact + sampled == total and exact >= 3
    assert page.get_by_text("Basis: exact on 6,000 holdout rows (local)").count() == exact
    assert page.get_by_text("Basis: sample of 1,000 of 6,000 holdout rows (local)").count() == sampled
    shot(page, "overview_server_data")
    goto_page(page, "Holdout performance")
    page.get_by_text("Basis: exact on 6,000 holdout rows (local)").first.wait_for()
    shot(page, "holdout_server_data")
    goto_page(page, "Data quality")
    page.get_by_text("Basis: exact on 6,000 holdout rows (local)").first.wait_for()
    shot(page, "data_quality_server_data")
    # calibration: the bins on every holdout row, what needs rows (the recalibration preview) named as the sample's
    goto_page(page, "Calibration", "Calibration and uncertainty")
    page.get_by_text("Basis: exact on 6,000 holdout rows (local)").first.wait_for()
    page.get_by_text("engine's sample of 1,000 rows").first.wait_for()
    assert page.get_by_test_id("stException").count() == 0
    shot(page, "calibration_server_data")
