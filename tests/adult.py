"""UCI Adult as a new user brings it: the two UCI files as CSVs with a header, and the model they
would fit — a scikit-learn Pipeline (one-hot for the text columns, the numbers as they are, a
HistGradientBoostingClassifier), saved with skops. The rows are tests/fixtures/adult.csv.gz
(built from the UCI files by tests/fixtures/adult_build.py); the model is fitted here, seeded,
never committed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "adult.csv.gz"
TARGET = "income"
SENSITIVE = ("sex", "race")
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
TEXT = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
SEED = 0


def adult_frame() -> pd.DataFrame:
    """Both UCI files, ``split`` = train/test; '?' is the text the files hold, as pandas reads it."""
    return pd.read_csv(FIXTURE, keep_default_na=False)


def fit_model(train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = ColumnTransformer([("num", "passthrough", NUMERIC),
                             ("text", OneHotEncoder(handle_unknown="ignore", sparse_output=False), TEXT)])
    model = Pipeline([("prepare", pre), ("classifier", HistGradientBoostingClassifier(random_state=SEED))])
    return model.fit(train[NUMERIC + TEXT], train[TARGET])


def write_inputs(folder: Path) -> dict[str, Path]:
    """adult_train.csv, adult_test.csv and adult_model.skops in ``folder`` (what a user would upload)."""
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    frame = adult_frame()
    train = frame[frame["split"] == "train"].drop(columns="split")
    test = frame[frame["split"] == "test"].drop(columns="split")
    paths = {"train": folder / "adult_train.csv", "test": folder / "adult_test.csv",
             "model": folder / "adult_model.skops"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    sio.dump(fit_model(train), paths["model"])
    return paths
