"""The committed sample is exactly what sample_data/generate.py produces (documented lineage)."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _generator():
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generator_reproduces_the_committed_files(tmp_path):
    gen = _generator()
    gen.main(tmp_path)
    for name in ["credit_train.csv", "credit_holdout.csv", "sample_review.json"]:
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == \
            hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest(), name
    from readiness.inputs import load_model

    fresh = load_model(tmp_path / "credit_model.skops").estimator
    shipped = load_model(SAMPLE / "credit_model.skops").estimator
    X = pd.read_csv(SAMPLE / "credit_holdout.csv")
    assert np.allclose(fresh.predict_proba(X), shipped.predict_proba(X))
    fresh = load_model(tmp_path / "credit_model_v2.skops").estimator  # the model in production today
    shipped = load_model(SAMPLE / "credit_model_v2.skops").estimator
    assert np.allclose(fresh.predict_proba(X), shipped.predict_proba(X))


def test_planted_problems_are_there():
    train = pd.read_csv(SAMPLE / "credit_train.csv")
    test = pd.read_csv(SAMPLE / "credit_holdout.csv")
    assert (train["employment_years"] == -999).sum() > 50
    assert (train["housing"] == "?").sum() > 10
    key = [c for c in train.columns if c != "application_id"]
    assert len(test.merge(train, on=list(train.columns))) == 40  # copied batch, ids included
    # 12 applications moved from the training period plus the 40 copied training rows
    assert (pd.to_datetime(test["application_date"]) < pd.Timestamp("2024-09-01")).sum() == 12 + 40
    assert train.duplicated(subset=[c for c in key if c != "default"]).sum() >= 5
