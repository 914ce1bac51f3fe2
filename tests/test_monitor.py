"""readiness monitor (issue 14, part 2): production batches against the signed review.

Known answers: a batch from the holdout's own population raises no alert (and over many
such batches at most 5% do, slow); one feature shifted by half a standard deviation
alerts for that feature and no other; under covariate shift with a calibrated model the
accuracy estimated without labels (CBPE) is within 3 points of the accuracy the labels
give; PSI equals the symmetric Kullback–Leibler divergence computed with scipy; realised
accuracy, ROC AUC and group counts equal scikit-learn's and pandas' on the same rows.
Bad input (a batch without the model's features, another model's file, an empty batch,
a file that is not a review) exits 2 with one line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import skops.io as sio
from helpers import table
from monitor_world import FEATURES, model_pipeline, world
from scipy.stats import entropy
from sklearn.compose import make_column_transformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from readiness import errors as E
from readiness.cli import main
from readiness.inputs import Roles, Settings, build_context, load_model
from readiness.monitor import stats as S
from readiness.monitor.run import load_review, monitor_batch
from readiness.review import run_review


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A model file, its review (monitoring reference only) as JSON, and the loaded review."""
    tmp = tmp_path_factory.mktemp("monitor")
    tr, te = world(3000, 1), world(1500, 2)
    pipe = model_pipeline().fit(tr[FEATURES], tr.y)
    data = sio.dumps(pipe)
    (tmp / "model.skops").write_bytes(data)
    model = load_model(data, name="model.skops", sandbox=False)
    ctx = build_context(train=table(tr), test=table(te, "test"), roles=Roles(target="y", exclude=["g"], sensitive=["g"]),
                        model=model, settings=Settings(cost_fp=1, cost_fn=3))
    report = run_review(ctx, checks=["monitoring.reference"])
    (tmp / "review.json").write_text(report.to_json(), encoding="utf-8")
    return {"dir": tmp, "model": model, "pipe": pipe, "review": load_review(tmp / "review.json"), "holdout": te}


def run(reviewed, frame, **kw):
    return monitor_batch(reviewed["review"], table(frame, "batch"), model=reviewed["model"], **kw)


def test_a_batch_from_the_holdouts_population_raises_no_alert(reviewed):
    r = run(reviewed, world(1000, 10), target="y")
    assert r.status == "ok" and not r.alerts, [a.message for a in r.alerts]
    assert {t.kind for t in r.tests} >= {"feature_drift", "prediction_drift", "estimated_accuracy", "accuracy", "cost",
                                         "group_error"}
    assert r.alpha == 0.05 and r.alpha_each == pytest.approx(0.05 / len(r.tests))
    assert r.summary.startswith("No alert")


def test_half_a_standard_deviation_on_one_feature_alerts_for_it_and_no_other(reviewed):
    r = run(reviewed, world(1000, 11, shift={"x3": 0.5}))
    drifted = {t.subject for t in r.alerts if t.kind == "feature_drift"}
    assert drifted == {"x3"}
    x3 = next(t for t in r.tests if t.id == "feature_drift:x3")
    assert x3.value > x3.threshold and x3.p_value < r.alpha_each
    assert "'x3' drifted" in x3.message and "standard deviations" in x3.message
    assert r.features["x3"]["mean_shift_sd"] == pytest.approx(0.5, abs=0.1)


def test_covariate_shift_estimated_accuracy_within_3_points_of_the_labels(reviewed):
    batch = world(5000, 12, shift={"x1": 0.8})
    r = run(reviewed, batch, target="y")
    realised = accuracy_score(batch.y, reviewed["pipe"].predict(batch[FEATURES]))
    assert r.realised["accuracy"] == pytest.approx(realised)
    assert abs(r.estimated["accuracy"] - realised) < 0.03
    lo, hi = r.estimated["accuracy_ci"]
    assert lo <= realised <= hi
    assert any(t.id == "feature_drift:x1" for t in r.alerts)


def test_cbpe_is_the_mean_isotonic_probability_of_being_right(reviewed):
    """The estimate without labels, recomputed with scikit-learn's IsotonicRegression fitted
    on the holdout's scores and outcomes."""
    te, pipe = reviewed["holdout"], reviewed["pipe"]
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(pipe.predict_proba(te[FEATURES])[:, 1], te.y)
    batch = world(800, 13)
    s = pipe.predict_proba(batch[FEATURES])[:, 1]
    p = iso.predict(s)
    expected = np.mean(np.where(s >= 0.5, p, 1 - p))
    assert run(reviewed, batch).estimated["accuracy"] == pytest.approx(expected, abs=2e-3)  # map kept as ≤200 knots


def test_realised_numbers_equal_scikit_learn_and_pandas(reviewed):
    batch = world(900, 14)
    r = run(reviewed, batch, target="y")
    s = reviewed["pipe"].predict_proba(batch[FEATURES])[:, 1]
    flagged = s >= 0.5
    assert r.realised["accuracy"] == pytest.approx(accuracy_score(batch.y, flagged))
    assert r.realised["roc_auc"] == pytest.approx(roc_auc_score(batch.y, s))
    cost = 1000 * ((flagged & (batch.y == 0)).sum() * 1 + (~flagged & (batch.y == 1)).sum() * 3) / len(batch)
    assert r.realised["cost_per_1000"] == pytest.approx(cost)
    f = batch[batch.g == "f"]
    ff = flagged[batch.g.to_numpy() == "f"]
    row = r.realised["groups"]["g"]["f"]
    assert (row["n"], row["tp"], row["fp"]) == (len(f), int((ff & (f.y == 1)).sum()), int((ff & (f.y == 0)).sum()))


def test_psi_is_the_symmetric_kullback_leibler_divergence():
    r, b = np.array([30, 50, 20, 0]), np.array([10, 60, 25, 5])
    pr, pb = (r + 0.5) / (r + 0.5).sum(), (b + 0.5) / (b + 0.5).sum()
    assert S.psi(r, b) == pytest.approx(entropy(pb, pr) + entropy(pr, pb))


def test_the_simulated_threshold_holds_its_level():
    """Fresh same-population pairs exceed the (1 − α) threshold about α of the time."""
    rng = np.random.default_rng(0)
    counts = np.array([100, 80, 120, 90, 110, 100, 95, 105, 100, 100, 0])
    thr = S.upper_threshold(S.psi_null(counts, 400, 4000, rng), 0.05)
    fresh = S.psi_null(counts, 400, 4000, np.random.default_rng(1))
    assert np.mean(fresh > thr) == pytest.approx(0.05, abs=0.012)


def test_unseen_categories_and_missing_values_are_named(reviewed):
    batch = world(1000, 15)
    batch.loc[:199, "c"] = "zz"
    batch.loc[:299, "x2"] = np.nan
    r = run(reviewed, batch)
    c, x2 = r.features["c"], r.features["x2"]
    assert c["unseen_share"] == pytest.approx(0.2) and c["unseen_values"] == {"zz": 200}
    assert x2["missing_share"] == pytest.approx(0.3) and x2["missing_share_reference"] == 0
    msgs = {t.subject: t.message for t in r.alerts if t.kind == "feature_drift"}
    assert "'zz'" in msgs["c"] and "missing values 0.0% → 30.0%" in msgs["x2"]


def test_signed_conditions_are_mapped_to_the_alerts_they_speak_of(reviewed):
    review = reviewed["review"]
    review_c = type(review)(**{**review.__dict__, "conditions": ["Monitor drift monthly",
                                                                "Re-check accuracy for women after three months"]})
    r = monitor_batch(review_c, table(world(1000, 16, shift={"x3": 0.6}), "batch"), model=reviewed["model"])
    x3 = next(t for t in r.alerts if t.id == "feature_drift:x3")
    assert x3.conditions == ["Monitor drift monthly"]
    assert {c["condition"]: c["alerts"] for c in r.conditions}["Monitor drift monthly"][0] == "feature_drift:x3"


# --- the CLI: exit status, JSON, history, bad input ---------------------------------------------------------


def cli(reviewed, frame, *extra, name="batch.csv"):
    path = reviewed["dir"] / name
    frame.to_csv(path, index=False)
    return main(["monitor", "--review", str(reviewed["dir"] / "review.json"), "--model",
                 str(reviewed["dir"] / "model.skops"), "--batch", str(path), *extra])


def test_cli_exit_0_then_1_and_every_batch_in_the_history(reviewed, tmp_path, capsys):
    db = str(tmp_path / "h.db")
    assert cli(reviewed, world(1000, 20), "--db", db, "--target", "y", "--json", str(tmp_path / "ok.json")) == 0
    assert "No alert" in capsys.readouterr().out
    assert json.loads((tmp_path / "ok.json").read_text())["status"] == "ok"
    assert cli(reviewed, world(1000, 21, shift={"x3": 0.6}), "--db", db) == 1
    out = capsys.readouterr().out
    assert out.startswith("ALERT  feature_drift:x3")
    from readiness.store import open_store

    with open_store(db) as store:
        [ref] = store.monitored_reviews()
        rows = store.batches(review_digest=ref["review_digest"])
    assert ref["batches"] == 2 and ref["alert_batches"] == 1
    assert [b["status"] for b in rows] == ["ok", "alert"] and rows[1]["alerts"] == ["feature_drift:x3"]
    assert rows[0]["realised_accuracy"] == rows[0]["result"]["realised"]["accuracy"]


@pytest.mark.parametrize("case", ["missing feature", "other model", "empty batch", "not a review", "no model",
                                  "target absent"])
def test_cli_bad_input_exits_2_with_one_line(reviewed, tmp_path, capsys, case):
    d = reviewed["dir"]
    batch = world(300, 30)
    args = ["monitor", "--review", str(d / "review.json"), "--model", str(d / "model.skops"), "--batch",
            str(tmp_path / "b.csv"), "--no-history"]
    if case == "missing feature":
        batch = batch.drop(columns=["x4"])
        expected = E.MONITOR_BATCH_COLUMNS.format(name="b.csv", missing=["x4"], n=5)
    elif case == "other model":
        other = sio.dumps(make_pipeline(make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough"),
                                        LogisticRegression(C=0.1)).fit(batch[FEATURES], batch.y))
        (tmp_path / "other.skops").write_bytes(other)
        args[4] = str(tmp_path / "other.skops")
        expected = "is not the model this review is for"
    elif case == "empty batch":
        batch = batch.iloc[:0]
        expected = "is empty (no rows)"
    elif case == "not a review":
        (tmp_path / "r.json").write_text('{"hello": 1}')
        args[2] = str(tmp_path / "r.json")
        expected = E.MONITOR_REVIEW_FORMAT.format(name="r.json")
    elif case == "no model":
        del args[3:5]
        expected = E.MONITOR_MODEL_NEEDED
    else:
        args += ["--target", "outcome"]
        expected = E.MONITOR_TARGET_MISSING.format(target="outcome", name="b.csv")
    batch.to_csv(tmp_path / "b.csv", index=False)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and expected in " ".join(err.split()), err


@pytest.mark.slow
def test_false_alarm_rate_on_an_unchanged_population_is_at_most_5_percent(reviewed):
    """100 fresh batches of 500 rows from the holdout's population, labels given (every test runs)."""
    alerts = sum(bool(run(reviewed, world(500, 1000 + i), target="y", seed=i).alerts) for i in range(100))
    assert alerts <= 5
