"""The null zoo on real public data (issue 18): real data sets that ship with installed packages or with the
project, split at random, with a sensible model fitted on the training rows and saved as .skops.

Sets: scikit-learn's breast cancer (binary), wine and iris (multiclass), digits (multiclass, 64 pixel columns)
and diabetes (regression); ProPublica's COMPAS record (tests/fixtures/compas.csv) without its post-outcome
column ``is_recid`` and without COMPAS's own score (``decile_score``, ``score_text``), target
``two_year_recid``, sensitive attributes race and sex; the bundled credit sample (sample_data/, synthetic)
without the defects planted into it that a random split cannot undo, sensitive attribute sex. Nothing is
downloaded.

Unlike the synthetic zoo (tests/zoo.py) nothing is known to be absent from real data: an alarm may be a true
finding. :data:`TRUE_FINDINGS` lists the alarms docs/false-alarms.md ("Real public data") shows to be true, with
the reason. Used by benchmarks/null_zoo_real.py (every set, the table) and tests/test_null_zoo_real.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import csv_bytes

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RealSet:
    name: str
    load: Callable[[], pd.DataFrame]
    target: str
    task: str  # binary | multiclass | regression
    sensitive: tuple[str, ...] = ()


def _sklearn(loader: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets as D

        bunch = getattr(D, loader)(as_frame=True)
        frame = bunch.frame.copy()
        if loader != "load_diabetes":  # class names, as a reviewer's file would carry them
            names = np.asarray(bunch.target_names)
            frame["target"] = names[frame["target"].to_numpy()].astype(str)
        return frame

    return load


def load_compas() -> pd.DataFrame:
    """ProPublica's two-year COMPAS record without its post-outcome column (``is_recid``: recorded after
    the outcome, tests/test_leakage_compas.py) and without COMPAS's own score, which is a model, not a fact
    of the record; the fixture's seeded split column and ids go too (the split here is redrawn)."""
    df = pd.read_csv(ROOT / "tests" / "fixtures" / "compas.csv")
    return df.drop(columns=["id", "split", "is_recid", "decile_score", "score_text"])


def load_credit() -> pd.DataFrame:
    """The bundled credit sample (synthetic, sample_data/generate.py) without the defects planted into it
    that a random split cannot undo: the post-outcome ``collections_contacts``, the holdout rows copied
    from training (same application id), the rows duplicated with the opposite outcome (ids ``B…``), and
    the ids and dates (the split here is at random, not by date). What stays planted — -999 and '?' for
    unknown values, and more recorded defaults for women — is a true finding."""
    both = pd.concat([pd.read_csv(ROOT / "sample_data" / f"credit_{part}.csv") for part in ("train", "holdout")],
                     ignore_index=True)
    both = both[~both["application_id"].str.startswith("B")].drop_duplicates("application_id")
    return both.drop(columns=["application_id", "application_date", "collections_contacts"]).reset_index(drop=True)


SETS = {s.name: s for s in [
    RealSet("breast_cancer", _sklearn("load_breast_cancer"), "target", "binary"),
    RealSet("wine", _sklearn("load_wine"), "target", "multiclass"),
    RealSet("iris", _sklearn("load_iris"), "target", "multiclass"),
    RealSet("digits", _sklearn("load_digits"), "target", "multiclass"),
    RealSet("diabetes", _sklearn("load_diabetes"), "target", "regression"),
    RealSet("compas", load_compas, "two_year_recid", "binary", ("race", "sex")),
    RealSet("credit", load_credit, "default", "binary", ("sex",)),
]}


def fit_model(rs: RealSet, train: pd.DataFrame):
    """A sensible pipeline fit on the training rows only: scaled numbers and one-hot text into a (ridge or
    logistic) linear model; medians stand in for missing numbers."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = [c for c in train.columns if c != rs.target]
    cat = [c for c in features if not pd.api.types.is_numeric_dtype(train[c])]
    num = [c for c in features if c not in cat]
    parts = ([("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num)] if num else []) + (
        [("cat", OneHotEncoder(handle_unknown="ignore"), cat)] if cat else [])
    est = RidgeCV() if rs.task == "regression" else LogisticRegression(max_iter=5000)
    return Pipeline([("prep", ColumnTransformer(parts)), ("model", est)]).fit(train[features], train[rs.target])


def split(rs: RealSet, frame: pd.DataFrame, seed: int, share: float = 0.3):
    from sklearn.model_selection import train_test_split

    strat = frame[rs.target] if rs.task != "regression" else None
    train, test = train_test_split(frame, test_size=share, random_state=seed, stratify=strat)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def context(rs: RealSet, seed: int):
    """The review context of one random split, built as the CLI builds it: CSV bytes and .skops bytes."""
    import skops.io as sio

    from readiness.inputs import Roles, prepare_review

    train, test = split(rs, rs.load(), seed)
    model = fit_model(rs, train)
    return prepare_review(train=csv_bytes(train), test=csv_bytes(test), train_name=f"{rs.name}_train.csv",
                          test_name=f"{rs.name}_holdout.csv", roles=Roles(target=rs.target, sensitive=list(rs.sensitive)),
                          model=sio.dumps(model), model_name=f"{rs.name}.skops", sandbox=False)


def review(rs: RealSet, seed: int, checks: list[str] | None = None) -> list[dict]:
    from readiness.review import run_review

    report = run_review(context(rs, seed), checks=checks)
    return [{"set": rs.name, "task": rs.task, "seed": seed, "check": c.id, "status": c.status.value,
             "summary": c.summary} for c in report.checks]



#: (set, check) alarms that are true findings about the data or the model, not false alarms; the evidence is in
#: docs/false-alarms.md, "Real public data"
TRUE_FINDINGS = {
    ("digits", "data_quality.integrity"): "three pixel columns are 0 in every image (pixel_0_0, pixel_4_0, pixel_4_7 "
                                          "in all 1,797 rows)",
    ("compas", "bias.groups"): "the recorded reoffence rates differ by race (52% African-American, 39% Caucasian, 36% Other): "
                               "a model of them flags the groups at different rates",
    ("compas", "robustness.perturbation"): "the model reads race and sex directly: swapping either flips decisions",
    ("credit", "data_quality.completeness"): "planted: -999 and '?' stand for unknown values",
    ("credit", "bias.groups"): "planted: more defaults are recorded for women",
    ("credit", "robustness.perturbation"): "the model reads sex directly: swapping it flips decisions",
}
