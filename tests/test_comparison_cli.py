"""`readiness review --champion`: the CLI contract, bad champions (exit 2, one line), and the link
to the current model's signed review in the history (a real review, PDF, key, signature and
SQLite history, through the CLI's own entry point)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from readiness import errors as E

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
TRAIN, TEST, MODEL = SAMPLE / "credit_train.csv", SAMPLE / "credit_holdout.csv", SAMPLE / "credit_model.skops"
CHAMPION = SAMPLE / "credit_model_v2.skops"
BASE = ["review", "--train", TRAIN, "--test", TEST, "--target", "default", "--positive-label", "1",
        "--favorable-label", "0", "--sensitive", "sex", "--cost-fp", "1", "--cost-fn", "5"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "readiness.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def one_line_error(proc, needle):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in lines[0], lines[0]


def test_review_with_a_champion_file(tmp_path):
    out = tmp_path / "r.json"
    proc = cli(*BASE, "--model", MODEL, "--champion", CHAMPION, "--champion-threshold", "0.4",
               "--check", "comparison.champion", "--no-history", "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    c = report["checks"][0]
    assert c["id"] == "comparison.champion" and c["metrics"]["verdict"] == "better"
    assert c["metrics"]["champion"]["threshold"] == 0.4 and report["settings"]["champion_threshold"] == 0.4
    assert [i["role"] for i in report["inputs"]].count("champion") == 1


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_bad_champions_exit_2_with_one_line(tmp_path):
    tr = pd.read_csv(TRAIN).assign(not_there=lambda f: f.age)
    odd = Pipeline([("prepare", ColumnTransformer([("num", SimpleImputer(), ["age", "not_there"])])),
                    ("classifier", LogisticRegression())]).fit(tr[["age", "not_there"]], tr["default"])
    path = tmp_path / "odd.skops"
    sio.dump(odd, path)
    one_line_error(cli(*BASE, "--model", MODEL, "--champion", path, "--no-history"),
                   E.CHAMPION_COLUMNS.format(name="odd.skops", missing=["not_there"]))
    one_line_error(cli(*BASE, "--model", MODEL, "--champion", CHAMPION, "--champion-prediction-column", "x",
                       "--no-history"), E.CHAMPION_BOTH)
    one_line_error(cli(*BASE, "--model", MODEL, "--champion", tmp_path / "missing.skops", "--no-history"),
                   "not found")


@pytest.mark.slow
def test_the_champions_signed_review_is_linked_with_what_changed(tmp_path):
    from readiness.cli import main

    db = tmp_path / "history.db"
    pdf = tmp_path / "v2.pdf"
    v2 = ["--train", TRAIN, "--test", TEST, "--target", "default", "--positive-label", "1", "--favorable-label", "0",
          "--sensitive", "sex", "--cost-fp", "1", "--cost-fn", "5"]
    assert main(["review", *map(str, v2), "--model", str(CHAMPION), "--check", "evaluation.holdout", "--db", str(db),
                 "--pdf", str(pdf), "--project", "Lending", "--model-version", "2.0", "--quiet"]) == 0
    assert main(["keygen", "--name", "Ana Müller", "--email", "ana@bank.example", "--out", str(tmp_path / "k")]) == 0
    key = next((tmp_path / "k").glob("*.key.pem"))
    cert = next((tmp_path / "k").glob("*.cert.pem"))
    assert main(["sign", str(pdf), "--key", str(key), "--cert", str(cert), "--role", "Data scientist",
                 "--decision", "approve_with_conditions", "--note", "ok", "-o", str(tmp_path / "signed.pdf"),
                 "--db", str(db)]) == 0
    out = tmp_path / "v3.json"
    assert main(["review", *map(str, v2), "--model", str(MODEL), "--champion", str(CHAMPION), "--check",
                 "comparison.champion", "--db", str(db), "--json", str(out), "--quiet"]) == 0
    link = json.loads(out.read_text())["checks"][0]["metrics"]["champion_review"]
    assert link["model_version"] == "2.0" and link["project"] == "Lending"
    assert link["signers"][0]["name"] == "Ana Müller"
    ch = link["changes"]
    assert ch["data"]["train"]["changed"] is False
    assert set(ch["features"]["added"]) == {"sex", "region", "collections_contacts"}
    assert ch["estimator"] == ["sklearn.LogisticRegression", "sklearn.HistGradientBoostingClassifier"]
