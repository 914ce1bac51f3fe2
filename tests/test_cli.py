"""The `readiness` command: the PRODUCT.md contract, run as a real subprocess."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
TRAIN, TEST, MODEL = SAMPLE / "credit_train.csv", SAMPLE / "credit_holdout.csv", SAMPLE / "credit_model.skops"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "readiness.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def assert_bad_input(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("readiness: error: ")
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def sample_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out.json"
    proc = cli("review", "--train", TRAIN, "--test", TEST, "--target", "default", "--model", MODEL,
               "--positive-label", "1", "--sensitive", "sex", "--sensitive", "region",
               "--time-column", "application_date", "--id-column", "application_id",
               "--threshold", "0.5", "--target-accuracy", "0.85", "--cost-fp", "1", "--cost-fn", "5",
               "--json", out)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc


def test_review_writes_the_json_contract(sample_json):
    report, _ = sample_json
    assert isinstance(report["checks"], list) and report["checks"]
    for c in report["checks"]:
        assert {"id", "title", "status", "summary", "antipatterns", "findings", "metrics"} <= set(c)
        assert c["status"] in {"pass", "warn", "fail", "skipped", "error"}
        assert c["id"] == c["id"].lower() and " " not in c["id"]
        assert isinstance(c["metrics"], dict)
        for f in c["findings"]:
            assert set(f) == {"severity", "message", "columns", "evidence"}
            assert f["severity"] in {"info", "warn", "fail"}
    ids = [c["id"] for c in report["checks"]]
    assert {"data_quality.completeness", "data_quality.integrity", "evaluation.holdout"} <= set(ids)
    assert report["roles"]["sensitive"] == ["sex", "region"]
    assert report["settings"]["cost_fn"] == 5.0
    assert {i["role"] for i in report["inputs"]} == {"train", "test", "model"}


def test_review_prints_a_summary_and_progress(sample_json):
    _, proc = sample_json
    assert "evaluation.holdout" in proc.stdout
    assert "[1/" in proc.stderr


def test_json_to_stdout_is_pure_json():
    proc = cli("review", "--sample", "--json", "-", "--check", "evaluation.holdout")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [c["id"] for c in report["checks"]] == ["evaluation.holdout"]


def test_prediction_column_mode(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    df = pd.DataFrame({"x": x, "y": (x > 0).astype(int), "score": 1 / (1 + np.exp(-3 * x))})
    df.iloc[:300].to_csv(tmp_path / "train.csv", index=False)
    df.iloc[300:].to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "r.json"
    proc = cli("review", "--train", tmp_path / "train.csv", "--test", tmp_path / "test.csv", "--target", "y",
               "--prediction-column", "score", "--json", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["model"]["kind"] == "predictions"
    ev = next(c for c in report["checks"] if c["id"] == "evaluation.holdout")
    assert ev["metrics"]["accuracy"] == pytest.approx(((df.iloc[300:]["score"] >= 0.5) == df.iloc[300:]["y"]).mean())


def test_untrusted_pickle_is_refused_and_trust_flag_loads_it(tmp_path):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    df = pd.DataFrame({"x": x, "y": (x > 0).astype(int)})
    df.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(LogisticRegression().fit(df[["x"]], df["y"])))
    base = ["review", "--train", tmp_path / "d.csv", "--test", tmp_path / "d.csv", "--target", "y",
            "--model", tmp_path / "m.pkl", "--quiet"]
    assert_bad_input(cli(*base), "is a pickle", "--trust-model")
    ok = cli(*base, "--trust-model", "--json", tmp_path / "r.json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "r.json").read_text())["model"]["trusted_pickle"] is True


@pytest.mark.parametrize("args,needles", [
    (["--train", "missing.csv", "--test", "missing.csv", "--target", "y"], ["file not found"]),
    (["--train", TRAIN, "--test", TEST, "--target", "nope", "--model", MODEL], ["Target column 'nope'"]),
    (["--train", TRAIN, "--test", TEST, "--target", "default", "--model", MODEL, "--sensitive", "race"],
     ["Sensitive column 'race'"]),
    (["--train", TRAIN, "--test", TEST, "--target", "default", "--model", MODEL, "--positive-label", "maybe"],
     ["Positive label 'maybe'"]),
    (["--train", TRAIN, "--test", TEST, "--target", "default", "--model", MODEL, "--target-accuracy", "2"],
     ["--target-accuracy must be between 0.0 and 1.0"]),
    (["--train", TRAIN, "--test", TEST, "--target", "default", "--model", MODEL, "--check", "nope.check"],
     ["unknown check ids"]),
    (["--train", TRAIN, "--target", "default", "--model", MODEL], ["--test is required"]),
    (["--bogus"], ["unrecognized arguments"]),
])
def test_bad_input_exits_2_with_one_line(args, needles):
    assert_bad_input(cli("review", *args), *needles)


def test_wrong_model_columns(tmp_path):
    df = pd.read_csv(TRAIN).rename(columns={"income": "salary"})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert_bad_input(cli("review", "--train", tmp_path / "t.csv", "--test", tmp_path / "t.csv", "--target", "default",
                         "--model", MODEL), "missing ['income']", "'salary'")


def test_empty_and_binary_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)))
    assert_bad_input(cli("review", "--train", tmp_path / "empty.csv", "--test", TEST, "--target", "default",
                         "--model", MODEL), "is empty")
    assert_bad_input(cli("review", "--train", tmp_path / "bin.csv", "--test", TEST, "--target", "default",
                         "--model", MODEL), "not a text table")


def test_one_class_target(tmp_path):
    df = pd.read_csv(TRAIN).assign(default=0)
    df.to_csv(tmp_path / "t.csv", index=False)
    assert_bad_input(cli("review", "--train", tmp_path / "t.csv", "--test", tmp_path / "t.csv", "--target", "default",
                         "--model", MODEL), "only one value")


def test_checks_lists_registered_ids():
    proc = cli("checks")
    assert proc.returncode == 0
    assert "evaluation.holdout" in proc.stdout
