"""Contract tests over every registered check (built-ins register like plugins).

Each check, on each edge case: returns a valid result (never `error`), is
deterministic, and survives a JSON round trip.
"""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from readiness.registry import registered_checks
from readiness.results import CheckResult, ReviewReport
from readiness.review import run_check, run_review

SPECS = registered_checks()
#: checks that time this machine (model.serving): their numbers differ run to run; the rest must not
MEASURES_THIS_MACHINE = {"model.serving"}


def _frame(n, seed=0, classes=("no", "yes")):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
        "uid": [f"u{i}" for i in range(n)],
        "x": x,
        "z": rng.normal(size=n),
        "cat": rng.choice(["a", "b", "c"], n),
        "group": rng.choice(["g1", "g2"], n),
    })
    df.loc[df.index[::17], "z"] = np.nan
    if len(classes) == 2:
        df["y"] = np.where(x + rng.normal(scale=0.7, size=n) > 0, classes[1], classes[0])
    else:
        df["y"] = np.array(classes)[np.digitize(x, [-0.4, 0.4])]
    return df


def _pipe(estimator):
    pre = ColumnTransformer([("num", SimpleImputer(), ["x", "z"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["cat", "group"])])
    return make_pipeline(pre, estimator)


def binary_model():
    df = _frame(300)
    tr, te = df.iloc[:220], df.iloc[220:]
    m = _pipe(LogisticRegression()).fit(tr[["x", "z", "cat", "group"]], tr["y"])
    return make_ctx(tr, te, target="y", model=m, sensitive=["group"], time_column="when", id_column="uid")


def binary_predictions():
    df = _frame(300, seed=1)
    df["score"] = 1 / (1 + np.exp(-2 * df["x"]))
    return make_ctx(df.iloc[:220], df.iloc[220:], target="y", prediction_column="score", sensitive=["group"])


def multiclass_model():
    df = _frame(400, seed=2, classes=("lo", "mid", "hi"))
    tr, te = df.iloc[:300], df.iloc[300:]
    m = _pipe(LogisticRegression()).fit(tr[["x", "z", "cat", "group"]], tr["y"])
    return make_ctx(tr, te, target="y", model=m, sensitive=["group"])


def regression_model():
    df = _frame(300, seed=3).drop(columns="y")
    df["y"] = 2.0 * df["x"] + np.random.default_rng(3).normal(scale=0.3, size=len(df))
    tr, te = df.iloc[:220], df.iloc[220:]
    m = _pipe(LinearRegression()).fit(tr[["x", "z", "cat", "group"]], tr["y"])
    return make_ctx(tr, te, target="y", model=m, time_column="when")


def tiny_holdout():
    df = _frame(140, seed=4)
    df["score"] = 1 / (1 + np.exp(-2 * df["x"]))
    return make_ctx(df.iloc[:120], df.iloc[120:], target="y", prediction_column="score")


def binary_data_only():
    df = _frame(300, seed=5)
    return make_ctx(df.iloc[:220], df.iloc[220:], target="y", sensitive=["group"], time_column="when", id_column="uid")


def multiclass_data_only():
    df = _frame(300, seed=6, classes=("lo", "mid", "hi"))
    return make_ctx(df.iloc[:220], df.iloc[220:], target="y", sensitive=["group"])


def regression_data_only():
    df = _frame(300, seed=7).drop(columns="y")
    df["y"] = 2.0 * df["x"] + np.random.default_rng(7).normal(scale=0.3, size=len(df))
    return make_ctx(df.iloc[:220], df.iloc[220:], target="y")


CASES = {f.__name__: f for f in [binary_model, binary_predictions, multiclass_model, regression_model, tiny_holdout,
                                 binary_data_only, multiclass_data_only, regression_data_only]}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    return request.param, CASES[request.param]()


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_every_check_on_every_edge_case(spec, case):
    name, ctx = case
    first = run_check(spec, ctx)
    assert first.status != "error", f"{spec.id} on {name}: {first.summary}"
    assert first.summary and len(first.summary) < 600
    # JSON round trip
    again = CheckResult.model_validate_json(first.model_dump_json())
    assert again == first
    json.dumps(first.metrics, allow_nan=False)
    # deterministic (timing aside)
    second = run_check(spec, ctx)
    if spec.id in MEASURES_THIS_MACHINE:
        assert (second.status, sorted(second.metrics)) == (first.status, sorted(first.metrics))
        return
    assert second.model_dump(exclude={"duration_s"}) == first.model_dump(exclude={"duration_s"})


def test_registry_ids_are_stable_dotted_lower_case_and_unique():
    ids = [s.id for s in SPECS]
    assert len(ids) == len(set(ids))
    for i in ids:
        assert i == i.lower() and " " not in i and all(part for part in i.split("."))


def test_a_raising_check_becomes_an_error_and_the_rest_still_run(monkeypatch):
    from readiness import registry

    ctx = binary_predictions()

    def boom(_ctx):
        raise RuntimeError("planted failure")

    spec = registry.CheckSpec("zz.boom", "Boom", "test", (), boom, "", 0)
    monkeypatch.setattr(registry, "_REGISTRY", {**registry._REGISTRY, "zz.boom": spec})
    report = run_review(ctx, checks=["zz.boom", "evaluation.holdout"])
    by_id = {c.id: c for c in report.checks}
    assert by_id["zz.boom"].status == "error" and "planted failure" in by_id["zz.boom"].summary
    assert by_id["evaluation.holdout"].status != "error"


def test_progress_callback_sees_every_check():
    seen = []
    ctx = binary_predictions()
    run_review(ctx, checks=["evaluation.holdout", "data_quality.completeness"],
               progress=lambda i, n, spec: seen.append((i, n, spec.id)))
    assert [s[0] for s in seen] == [0, 1, 2] and all(s[1] == 2 for s in seen)


def test_report_round_trips(sample_report):
    again = ReviewReport.model_validate_json(sample_report.to_json())
    assert again == sample_report
