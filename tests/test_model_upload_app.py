"""AppTest: what a visitor can make the served app load (issue 9, items 1 and 2).

A visitor uploads files to a server they do not run: their own "I trust this file" must
never make the server unpickle anything. Only the operator's allow-list can.
"""

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from crafted_models import WritesMarker, tree_with_bad_child
from streamlit.testing.v1 import AppTest

from readiness import errors as E

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _setup_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    return at.switch_page("pages/setup.py").run()


def _upload_model(at, name, data):
    up = next(u for u in at.get("file_uploader") if u.label.startswith("Model"))
    up.set_value((name, data, "application/octet-stream"))
    return at.run()


def _tick_everything(at):
    """Whatever the page offers to vouch for the file: tick it (an attacker would)."""
    for _ in range(3):
        boxes = [b for b in at.checkbox if not b.value]
        if not boxes:
            break
        for box in boxes:
            box.check()
        at.run()
    for toggle in at.get("toggle"):
        toggle.set_value(True)
    return at.run()


def _errors(at):
    return [e.value for e in at.error]


def test_a_visitor_cannot_make_the_server_unpickle_code(tmp_path, monkeypatch):
    monkeypatch.delenv("READINESS_TRUSTED_PICKLES", raising=False)
    marker = tmp_path / "pwned.txt"
    data = pickle.dumps(WritesMarker(marker))
    for name in ("model.pkl", "model.joblib", "model.pickle"):
        at = _setup_page()
        _upload_model(at, name, data)
        _tick_everything(at)
        assert not at.exception, at.exception
        assert not marker.exists(), f"unpickling {name} ran the visitor's code on the server"
        digest = hashlib.sha256(data).hexdigest()
        assert _errors(at) == [E.MODEL_PICKLE_NOT_ALLOWED.format(name=name, sha256=digest)]
        assert not any(f"Model: **{name}**" in s.value for s in at.success)


def test_a_digest_off_the_operators_list_is_refused_even_when_pickles_are_enabled(tmp_path, monkeypatch):
    marker = tmp_path / "pwned.txt"
    data = pickle.dumps(WritesMarker(marker))
    allow = tmp_path / "trusted-pickles.txt"
    allow.write_text(f"{'ab' * 32}  some-other-model.pkl\n")
    monkeypatch.setenv("READINESS_TRUSTED_PICKLES", str(allow))
    at = _setup_page()
    _upload_model(at, "model.pkl", data)
    _tick_everything(at)
    assert not marker.exists()
    assert any("has not allowed this exact file" in e for e in _errors(at))


def test_a_pickle_the_operator_allowed_loads(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "y": (x > 0).astype(int)})
    data = pickle.dumps(LogisticRegression().fit(df[["x"]], df["y"]))
    allow = tmp_path / "trusted-pickles.txt"
    allow.write_text(f"# reviewed by the operator\n{hashlib.sha256(data).hexdigest()}  model.pkl\n")
    monkeypatch.setenv("READINESS_TRUSTED_PICKLES", str(allow))
    at = _setup_page()
    _upload_model(at, "model.pkl", data)
    assert not _errors(at), _errors(at)
    assert any("Model: **model.pkl**" in s.value for s in at.success)
    assert not at.checkbox  # nothing for the visitor to vouch for


def test_a_crafted_skops_model_is_refused_and_the_server_lives_on():
    """Before the fix, this file loaded, and running the review segfaulted the whole server."""
    model, _ = tree_with_bad_child()
    at = _setup_page()
    _upload_model(at, "crafted.skops", sio.dumps(model))
    assert not at.exception
    assert any("holds an invalid decision tree" in e and "left child 1000000000" in e for e in _errors(at)), _errors(at)
    _upload_model(at, "model.skops", (SAMPLE / "credit_model.skops").read_bytes())  # the next upload works
    assert not _errors(at), _errors(at)
    assert any("Model: **model.skops**" in s.value for s in at.success)


def test_a_file_named_skops_that_is_not_a_zip_says_so():
    at = _setup_page()
    _upload_model(at, "x.skops", b"this is not a zip archive at all")
    assert _errors(at) == [E.MODEL_NOT_ZIP.format(name="x.skops")]


@pytest.mark.slow  # about a minute on a busy machine (the app, then two uploads)
def test_setup_says_what_a_model_file_of_another_library_was_read_as(tmp_path):
    """An ONNX graph ending in a Sigmoid is named a binary classifier on upload, and a crafted
    XGBoost file is one error line (issue 13)."""
    pytest.importorskip("onnxruntime")
    xgb = pytest.importorskip("xgboost")
    from test_model_formats_crafted import xgboost_cases
    from test_model_formats_onnx_single import graph

    at = _setup_page()
    _upload_model(at, "scores.onnx", graph("Sigmoid"))
    assert not at.exception and not _errors(at), _errors(at)
    assert any("ONNX model (binary classification: one probability output 'out', the output of a Sigmoid)" in s.value
               for s in at.success), [s.value for s in at.success]
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(X, (X.a > 0).astype(int))
    model.save_model(str(tmp_path / "m.json"))
    data, _ = xgboost_cases((tmp_path / "m.json").read_bytes())["child.json"]
    _upload_model(at, "child.json", data)
    assert not at.exception
    assert any("holds an invalid tree" in e and "child.json" in e for e in _errors(at)), _errors(at)
