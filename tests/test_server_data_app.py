"""AppTest: Setup with the operator's datasets on the server (docs/engines.md): off by default, a broken
setting says so and leaves uploads working, and a review of a dataset on the server runs on the engine
and shows each check's basis."""

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_server_data import frame, write_parts

from readiness.engines.server_data import SERVER_DATA_ENV

ROOT = Path(__file__).resolve().parent.parent
ON_SERVER = "A dataset on the server"


def setup_page(monkeypatch, setting: str | None) -> AppTest:
    if setting is None:
        monkeypatch.delenv(SERVER_DATA_ENV, raising=False)
    else:
        monkeypatch.setenv(SERVER_DATA_ENV, setting)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/setup.py").run()
    assert not at.exception, at.exception
    return at


def test_off_by_default_and_a_broken_setting_leaves_uploads(monkeypatch, tmp_path):
    at = setup_page(monkeypatch, None)
    assert ON_SERVER not in str([r.options for r in at.radio])
    assert [u.label for u in at.get("file_uploader")][:2] == ["Training data", "Holdout data"]
    bad = tmp_path / "server-data.toml"
    bad.write_text('root = "/srv/nowhere"\n')
    at = setup_page(monkeypatch, str(bad))
    assert any("The server's datasets are off" in w.value and "not a folder" in w.value for w in at.warning)
    assert ON_SERVER not in str([r.options for r in at.radio])
    assert [u.label for u in at.get("file_uploader")][:2] == ["Training data", "Holdout data"]


@pytest.mark.slow
def test_a_review_of_a_holdout_on_the_server(monkeypatch, tmp_path):
    root = tmp_path / "lake"
    write_parts(frame(3000, 31), root / "holdout_q3", 3)
    frame(2000, 32).to_csv(tmp_path / "train.csv", index=False)
    monkeypatch.setenv("READINESS_LOCAL_MAX_ROWS", "1000")  # the holdout is streamed, as a large one would be
    at = setup_page(monkeypatch, str(root))
    at.radio(key="setup_test_from").set_value(ON_SERVER).run()
    box = at.selectbox(key="setup_test_server")
    assert box.options == ["holdout_q3 · 3,000 rows × 4 columns · 3 files · " + box.options[0].rsplit(" · ", 1)[1]]
    box.set_value("root:holdout_q3").run()
    # the training data is an upload: the two may be mixed
    at.get("file_uploader")[0].set_value(("train.csv", (tmp_path / "train.csv").read_bytes(), "text/csv")).run()
    at.radio(key="setup_model_mode").set_value("Scores in a holdout column (vendor, R or remote model)").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert str(tmp_path) not in " ".join(str(m.value) for els in (at.markdown, at.success, at.caption) for m in els)
    at.button[-1].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = at.session_state["readiness_review"].report
    ev = report.check("evaluation.holdout")
    assert ev.metrics["basis"]["kind"] == "exact" and ev.metrics["basis"]["rows"] == 3000
    whole = pd.read_parquet(root / "holdout_q3")  # against pandas on every holdout row
    assert ev.metrics["accuracy"] == pytest.approx(((whole["score"] >= 0.5) == whole["y"]).mean(), rel=1e-12)
    assert [(f.role, f.name, f.rows) for f in report.inputs] == [("train", "train.csv", 2000),
                                                                 ("test", "holdout_q3", 3000)]
