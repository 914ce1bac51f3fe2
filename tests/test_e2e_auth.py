"""Sign-in and per-project access, end to end: a real OpenID provider, the real app, a real browser.

The provider is panva's ``oidc-provider`` (OpenID certified) run by ``tests/oidc/provider.mjs``
under node; the app is ``streamlit run app.py`` with ``[auth]`` and ``[access]`` in a secrets
file; Chromium signs in through the provider's login page. The history holds reviews of two
projects. A visitor who has not signed in sees nothing of it; Alice (group credit-risk) sees
"Consumer lending" only and can download only its records; the operator sees everything.

Needs chromium, node and ``npm ci --prefix tests/oidc``; skipped with that message otherwise,
unless READINESS_REQUIRE_E2E=1 (CI), where a missing piece is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
from e2e_support import ROOT, streamlit_app
from test_e2e import _free_port, browser, goto_page, settled, shot  # noqa: F401  (browser: a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OIDC_DIR = ROOT / "tests" / "oidc"
NODE = shutil.which("node")
HOW = ("needs chromium, node and the test OpenID provider: apt-get install -y chromium nodejs npm && "
       "npm ci --prefix tests/oidc && pip install -e '.[test]'")


def _missing() -> str | None:
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        return "no chromium"
    if NODE is None:
        return "no node"
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return "tests/oidc/node_modules is not installed"
    try:
        import authlib  # noqa: F401  (st.login needs it)
    except ImportError:
        return "Authlib is not installed"
    return None


if (_why := _missing()) is not None:
    if os.environ.get("READINESS_REQUIRE_E2E") == "1":
        raise RuntimeError(f"READINESS_REQUIRE_E2E=1 but {_why}: {HOW}")
    pytest.skip(f"{_why}; {HOW}", allow_module_level=True)

LENDING, FRAUD = "Consumer lending", "Fraud"


@pytest.fixture(scope="module")
def history_db(tmp_path_factory, sample_ctx, sample_report):
    """A history with reviews and records of two projects, and a review with no project."""
    from readiness.report.canonical import new_record, parse_person, record_bytes
    from readiness.store import open_store

    path = tmp_path_factory.mktemp("auth-db") / "reviews.db"
    records = {}
    with open_store(str(path)) as store:
        for project, model, who in [(LENDING, "lending-scorecard", "Ana Lend <ana@lending.example>"),
                                    (FRAUD, "fraud-detector", "Fred Fraud <fred@fraud.example>")]:
            rid = store.record_review(sample_report, review_digest=f"{sample_ctx.digest}-{model}", source="cli",
                                      project=project, model_name=model, model_version="1.0")
            record = new_record(sample_report, project=project, model_name=model, model_version="1.0",
                                reviewers=[parse_person(who)], decision={"outcome": "reject", "conditions": []},
                                review_digest=f"{sample_ctx.digest}-{model}")
            store.save_record(record, record_bytes(record), review_id=rid)
            records[project] = record.record_id
        store.record_review(sample_report, review_digest=f"{sample_ctx.digest}-loose", source="app",
                            model_name="unfiled-model", model_version="0.1")
    return path, records


@pytest.fixture(scope="module")
def app(tmp_path_factory, history_db):
    """The provider and the app, wired together; yields the app's URL."""
    app_port, idp_port = _free_port(), _free_port()
    tmp = tmp_path_factory.mktemp("auth")
    redirect = f"http://localhost:{app_port}/oauth2callback"
    idp = subprocess.Popen([NODE, str(OIDC_DIR / "provider.mjs"), str(idp_port), redirect], cwd=OIDC_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = idp.stdout.readline()
        assert line.startswith("READY"), f"the OpenID provider did not start: {line!r}"
        secrets = tmp / "secrets.toml"
        secrets.write_text(f"""
[auth]
redirect_uri = "{redirect}"
cookie_secret = "a-long-random-cookie-secret-for-the-tests-only-0123456789"
client_id = "readiness-app"
client_secret = "test-secret-not-for-production"
server_metadata_url = "http://localhost:{idp_port}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile groups", prompt = "login" }}

[access]
operators = ["olga@ops.example"]
[access.projects]
"{LENDING}" = ["group:credit-risk"]
"{FRAUD}" = ["@fraud.example"]
""")
        with streamlit_app(app_port, env={"READINESS_DB": str(history_db[0])}, log=tmp / "streamlit.log",
                           args=("--secrets.files", str(secrets))) as url:
            yield url
    finally:
        idp.terminate()
        idp.wait(timeout=20)


@pytest.fixture
def page(browser):  # noqa: F811  (local-only network)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    # the provider's development login page asks for a web font: nothing leaves this machine
    ctx.route(lambda url: urlparse(url).hostname not in ("localhost", "127.0.0.1"), lambda route: route.abort())
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    ctx.close()



def sign_in(page, url, login):
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent
    page.get_by_text("Anti-pattern scorecard").wait_for(timeout=240_000)
    settled(page)


def body(page) -> str:
    return page.locator("body").inner_text()


def test_a_visitor_who_has_not_signed_in_sees_nothing_of_the_history(app, page, history_db):
    for path in ("/history", "/"):
        page.goto(app + path)
        page.get_by_role("button", name="Sign in").wait_for()
        settled(page)
        text = body(page)
        for secret in ("lending-scorecard", "fraud-detector", LENDING, "reviews.db", "Review history", "Overview"):
            assert secret not in text, (path, secret)
    shot(page, "auth_signed_out")


def test_alice_sees_her_project_only_and_downloads_only_its_records(app, page, history_db):
    _, records = history_db
    sign_in(page, app, "alice")
    assert "Alice Lender" in body(page)
    goto_page(page, "Review history")
    page.get_by_text("lending-scorecard").first.wait_for(state="attached")  # table cells: in the DOM, drawn on a canvas
    settled(page)
    text, html = body(page), page.content()
    assert "lending-scorecard" in html
    assert "fraud-detector" not in html and "unfiled-model" not in html and FRAUD not in text
    assert records[FRAUD] not in html and "reviews.db" not in text and "Holdout reuse" not in text
    assert "Authentication is off" not in text
    # the record picker offers her project's record; the download is that record's exact bytes
    page.get_by_text("Download a stored review record").click()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download review-record.json").click()
    record = json.loads(Path(dl.value.path()).read_text())
    assert record["project"] == LENDING and record["record_id"] == records[LENDING]
    shot(page, "auth_history_alice")


def test_the_operator_sees_every_project_and_where_the_history_lives(app, page, history_db):
    _, records = history_db
    sign_in(page, app, "olga")
    goto_page(page, "Review history")
    page.get_by_text("fraud-detector").first.wait_for(state="attached")
    settled(page)
    text, html = body(page), page.content()
    assert "lending-scorecard" in html and "fraud-detector" in html and "unfiled-model" in html
    assert "reviews.db" in text and "Holdout reuse" in text
    assert records[FRAUD] in html or FRAUD in text


def test_a_person_named_in_no_project_sees_no_review(app, page):
    sign_in(page, app, "eve")
    goto_page(page, "Review history")
    page.get_by_text("You have access to no project").wait_for()
    html = page.content()
    assert "lending-scorecard" not in html and "fraud-detector" not in html
