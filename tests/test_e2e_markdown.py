"""In the browser: user text never makes a viewer's browser fetch a URL; the app's own chrome holds.

A dataset whose column names and category values carry image links and ``<img>`` tags pointing
at a local HTTP server (which counts every request) is uploaded with a model in Setup and
reviewed; every page is opened; the server must see no request. A fresh server's deep link
shows the app's navigation from the first paint (never the raw pages/ list) and users get no
developer toolbar ("Deploy").
"""

from __future__ import annotations

import http.server
import threading
import urllib.request

import numpy as np
import pandas as pd
import pytest
from e2e_support import streamlit_app
from test_e2e import PAGE_TITLES, ROOT, _free_port, browser, goto_page, page, server, settled, shot  # noqa: F401

pytestmark = pytest.mark.e2e


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def attacker():
    """A local 'attacker' server that counts requests; yields its base URL and the hit list."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Counter.hits
    srv.shutdown()


def _payload_frames(evil: str, tmp_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    def frame(n, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        return pd.DataFrame({
            f"![c]({evil}/column.png)": y + rng.normal(0, 0.3, n),
            f"<img src={evil}/column-html.png>": rng.normal(0, 1, n),
            "region": rng.choice([f"![r]({evil}/category.png)", f"<img src={evil}/category-html.png>", "**bold**",
                                  "$x$"], n),
            "sex": rng.choice([f"![s]({evil}/group.png)", "[j](javascript:alert(1))"], n),
            "default": y,
        })

    train, test = frame(500, 1), frame(300, 2)
    feats = [c for c in train.columns if c != "default"]
    model = Pipeline([("pre", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region", "sex"])],
                                                remainder="passthrough")),
                      ("clf", LogisticRegression(max_iter=500))]).fit(train[feats], train["default"])
    import skops.io as sio

    paths = {"train": tmp_path / "train.csv", "test": tmp_path / "holdout.csv", "model": tmp_path / "model.skops"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    sio.dump(model, paths["model"])
    return paths


@pytest.mark.slow
def test_payload_column_names_and_values_fetch_nothing(server, page, attacker, tmp_path):  # noqa: F811
    evil, hits = attacker
    urllib.request.urlopen(f"{evil}/control.png").read()  # the counter counts
    assert hits == ["/control.png"]
    hits.clear()
    paths = _payload_frames(evil, tmp_path)
    page.goto(f"{server}/setup")
    page.get_by_role("heading", name="1 · Data").wait_for()
    settled(page)
    inputs = page.get_by_test_id("stFileUploaderDropzoneInput")
    inputs.nth(0).set_input_files(str(paths["train"]))
    page.get_by_text("Training: train.csv").wait_for()
    settled(page)
    inputs.nth(1).set_input_files(str(paths["test"]))
    page.get_by_text("Holdout: holdout.csv").wait_for()
    settled(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").nth(2).set_input_files(str(paths["model"]))
    page.get_by_text("Model: model.skops").wait_for()
    settled(page)
    page.get_by_role("button", name="Run review").click()
    page.get_by_text("Anti-pattern scorecard").wait_for(timeout=300_000)
    settled(page)
    for title, heading in PAGE_TITLES:
        goto_page(page, title, heading)
        assert page.get_by_test_id("stException").count() == 0, title
    goto_page(page, "Leakage", "Leakage and test independence")
    page.get_by_text(f"![c]({evil}/column.png)").first.wait_for()  # the payload is shown, as text
    shot(page, "payload_leakage")
    page.wait_for_timeout(1000)
    assert hits == [], f"the browser fetched attacker URLs: {hits}"


NAV_WATCH = """
window.__navs = [];
new MutationObserver(() => {
  const n = document.querySelector('[data-testid=stSidebarNav]');
  if (n && window.__navs[window.__navs.length - 1] !== n.innerText) window.__navs.push(n.innerText);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_a_fresh_servers_deep_link_never_shows_the_raw_pages_list(browser, tmp_path):  # noqa: F811
    with streamlit_app(_free_port(), env={"READINESS_DB": str(tmp_path / "r.db")}) as url:  # localhost, per config
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(180_000)
        pg.add_init_script(NAV_WATCH)
        pg.goto(f"{url}/leakage")
        pg.get_by_test_id("stSidebarNav").get_by_text("Holdout performance").wait_for()
        settled(pg)
        navs = pg.evaluate("window.__navs")
        assert navs, "no sidebar navigation was ever drawn"
        raw = {"app", "ui", "overview", "data quality", "evaluation", "report"}  # only the raw pages/ list says these
        for nav in navs:
            assert not raw & {line.strip() for line in nav.splitlines()}, nav
        assert pg.get_by_test_id("stAppDeployButton").count() == 0
        assert pg.get_by_role("button", name="Deploy").count() == 0
        pg.close()


def test_the_server_listens_on_localhost_only():
    """config.toml: `streamlit run app.py` binds to localhost unless the operator says otherwise."""
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "localhost"
    assert cfg["client"]["toolbarMode"] == "viewer"
