"""Generate the bundled sample review: a synthetic consumer-credit decision data set.

Run ``python sample_data/generate.py`` to rebuild every file in this folder; the
output is deterministic (fixed seeds), and ``tests/test_sample_data.py`` checks that
the committed files are exactly what this script writes.

The world it simulates: a lender decides loan applications; ``default`` (1 = the loan
defaulted within 12 months) is the target. Applications run from 2023-01 to 2024-12;
the holdout is the last months. Mild problems are planted on purpose so every page
of the review has something to show:

* disguised missing values: ``employment_years`` uses -999 for "unknown"; ``housing``
  has '?' for a few rows;
* a post-outcome column: ``collections_contacts`` (contacts by the collections team,
  recorded *after* the loan went bad) nearly determines the target — target leakage;
* a few dozen holdout rows duplicated from training (a re-exported batch);
* a handful of holdout applications dated inside the training period;
* historical bias: the recorded default rate is higher for women (past collection
  practice, a direct term in the simulation), and the ``region`` "North" is
  under-represented;
* conflicting labels: a few identical applications with different outcomes.

The model in production today (the champion the review compares with, ``credit_model_v2``)
is a logistic regression on the application's own fields — no ``collections_contacts``,
no ``sex``/``region`` — deciding at the same threshold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261122
N = 6000
HOLDOUT_FROM = pd.Timestamp("2024-09-01")


def make_frame(seed: int = SEED, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    days = np.sort(rng.integers(0, 730, size=n))
    date = start + pd.to_timedelta(days, unit="D")
    sex = rng.choice(["female", "male"], size=n, p=[0.46, 0.54])
    region = rng.choice(["South", "East", "West", "North"], size=n, p=[0.36, 0.3, 0.28, 0.06])
    age = np.clip(rng.normal(41, 12, size=n), 18, 80).round().astype(int)
    # historical bias: lower recorded incomes for women in this history
    income = np.exp(rng.normal(10.6, 0.45, size=n)) * np.where(sex == "female", 0.82, 1.0)
    income = (income / 100).round() * 100
    employment_years = np.clip(rng.gamma(2.0, 3.5, size=n) * (age - 17) / 25, 0, 45).round(1)
    housing = rng.choice(["rent", "mortgage", "own"], size=n, p=[0.42, 0.38, 0.20])
    purpose = rng.choice(["car", "home improvement", "debt consolidation", "education", "other"],
                         size=n, p=[0.25, 0.2, 0.35, 0.08, 0.12])
    loan_amount = (np.exp(rng.normal(9.3, 0.6, size=n)) / 50).round() * 50
    term_months = rng.choice([12, 24, 36, 60], size=n, p=[0.15, 0.3, 0.35, 0.2])
    credit_score = np.clip(rng.normal(680, 70, size=n), 400, 850).round().astype(int)
    open_accounts = rng.poisson(4, size=n)
    debt_to_income = np.clip(rng.beta(2.2, 6, size=n) + loan_amount / income / 6, 0, 1.5).round(3)
    logit = (
        -2.1
        - 0.012 * (credit_score - 680)
        + 2.2 * (debt_to_income - 0.35)
        - 0.45 * np.log(income / 40000)
        - 0.05 * (employment_years - 6)
        + 0.25 * (housing == "rent")
        + 0.35 * (purpose == "debt consolidation")
        + 0.015 * (term_months - 36)
        + 0.08 * (open_accounts - 4)
        # historical bias: past collection practice recorded more defaults for women
        + 0.75 * (sex == "female")
    )
    p = 1 / (1 + np.exp(-logit))
    default = (rng.random(n) < p).astype(int)
    # leakage: most defaulted loans get collections contacts, recorded after the outcome; a loan
    # that did not default never does (the rule without exception the leakage check looks for)
    contacted = (rng.random(n) < 0.6) & (default == 1)
    collections_contacts = np.where(contacted, rng.poisson(2.0, size=n) + 1, 0)
    frame = pd.DataFrame({
        "application_id": [f"A{100000 + i}" for i in range(n)],
        "application_date": date.strftime("%Y-%m-%d"),
        "age": age,
        "sex": sex,
        "region": region,
        "income": income,
        "employment_years": employment_years,
        "housing": housing,
        "purpose": purpose,
        "loan_amount": loan_amount,
        "term_months": term_months,
        "credit_score": credit_score,
        "open_accounts": open_accounts,
        "debt_to_income": debt_to_income,
        "collections_contacts": collections_contacts,
        "default": default,
    })
    # disguised missing values
    unknown = rng.random(n) < 0.03
    frame.loc[unknown, "employment_years"] = -999
    frame.loc[rng.random(n) < 0.01, "housing"] = "?"
    return frame


def split(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed + 1)
    dates = pd.to_datetime(frame["application_date"])
    train = frame[dates < HOLDOUT_FROM].copy()
    test = frame[dates >= HOLDOUT_FROM].copy()
    # a few late training applications leak into the holdout period and vice versa
    late = train.sample(12, random_state=seed)
    train = train.drop(late.index)
    test = pd.concat([test, late])
    # a re-exported batch: 40 training rows copied into the holdout
    copies = train.sample(40, random_state=seed + 2)
    test = pd.concat([test, copies])
    # conflicting labels: 5 training rows duplicated with the opposite outcome
    conflict = train.sample(5, random_state=seed + 3).copy()
    conflict["default"] = 1 - conflict["default"]
    conflict["application_id"] = [f"B{200000 + i}" for i in range(len(conflict))]
    train = pd.concat([train, conflict])
    test = test.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    return train.reset_index(drop=True), test


FEATURES_NUMERIC = ["age", "income", "employment_years", "loan_amount", "term_months", "credit_score",
                    "open_accounts", "debt_to_income", "collections_contacts"]
FEATURES_CATEGORICAL = ["sex", "region", "housing", "purpose"]


def make_model(train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), FEATURES_NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), FEATURES_CATEGORICAL),
    ])
    model = Pipeline([
        ("prepare", pre),
        ("classifier", HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=15,
                                                      random_state=0)),
    ])
    model.fit(train[FEATURES_NUMERIC + FEATURES_CATEGORICAL], train["default"])
    return model


CHAMPION_NUMERIC = ["age", "income", "employment_years", "loan_amount", "term_months", "credit_score",
                    "open_accounts", "debt_to_income"]
CHAMPION_CATEGORICAL = ["housing", "purpose"]


def make_champion(train: pd.DataFrame):
    """Version 2, in production today: a scaled logistic regression on the application's fields."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
         CHAMPION_NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CHAMPION_CATEGORICAL),
    ])
    model = Pipeline([("prepare", pre), ("classifier", LogisticRegression(max_iter=1000))])
    model.fit(train[CHAMPION_NUMERIC + CHAMPION_CATEGORICAL], train["default"])
    return model


SAMPLE_ROLES = {
    "target": "default",
    "positive_label": 1,
    "favorable_label": 0,  # no default: the outcome that is good for the applicant
    "sensitive": ["sex", "region"],
    "time_column": "application_date",
    "id_column": "application_id",
}
SAMPLE_SETTINGS = {"threshold": 0.5, "target_accuracy": 0.85, "cost_fp": 1.0, "cost_fn": 5.0}


def main(out: Path = HERE) -> None:
    import skops.io as sio

    out.mkdir(parents=True, exist_ok=True)
    train, test = split(make_frame())
    train.to_csv(out / "credit_train.csv", index=False)
    test.to_csv(out / "credit_holdout.csv", index=False)
    model = make_model(train)
    sio.dump(model, out / "credit_model.skops")
    sio.dump(make_champion(train), out / "credit_model_v2.skops")
    (out / "sample_review.json").write_text(json.dumps({
        "title": "Consumer credit default model v3 (sample)",
        "train": "credit_train.csv",
        "test": "credit_holdout.csv",
        "model": "credit_model.skops",
        "champion": "credit_model_v2.skops",
        "roles": SAMPLE_ROLES,
        "settings": SAMPLE_SETTINGS,
    }, indent=2) + "\n")
    print(f"wrote {len(train)} training rows, {len(test)} holdout rows, the model and the current model to {out}")


if __name__ == "__main__":
    main()
