"""Known answers for the "Where it fails" checks (issue 19): weak segments, joint drift,
robustness and serving cost. Numbers are compared with independent computations
(scikit-learn, SciPy, statsmodels, pandas counts), never with the check's own output."""

import json
import time

import numpy as np
import pandas as pd
import pytest
import where_data as W
from helpers import make_ctx
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from readiness.checks import segments_stats as S
from readiness.checks.domain import chance_p_value, delong_interval
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check


def _run(check_id, ctx):
    r = run_check(get_check(check_id), ctx)
    assert r.status != "error", r.summary
    json.dumps(r.metrics, allow_nan=False)
    return r


def _slice_mask(frame: pd.DataFrame, predicates: list[dict]) -> np.ndarray:
    """The rows a segment's predicates describe, counted with pandas (independently of the check)."""
    mask = np.ones(len(frame), dtype=bool)
    for p in predicates:
        s = frame[p["column"]]
        if p["op"] == "==":
            mask &= (s.astype(str) == str(p["value"])).to_numpy() if isinstance(p["value"], str) else (s == p["value"]).to_numpy()
        elif p["op"] == "<":
            mask &= (s < p["value"]).to_numpy()
        elif p["op"] == ">=":
            mask &= (s >= p["value"]).to_numpy()
        elif p["op"] == "range":
            mask &= ((s >= p["value"][0]) & (s < p["value"][1])).to_numpy()
        else:
            mask &= s.isna().to_numpy()
    return mask


# --- segments.weak ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_coin_flip_slice_is_found_and_named_by_both_columns(seed):
    train, test = W.coin_flip(9000, seed)
    r = _run("segments.weak", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.status in ("warn", "fail")
    top = r.metrics["segments"][0]
    assert set(top["columns"]) == {"region", "age"}
    assert "region east" in top["definition"] and "age under" in top["definition"]
    assert set(top) >= {"definition", "columns", "n", "metric", "value", "expected", "ci", "overall", "q_value"}
    assert top["metric"] == "accuracy" and top["q_value"] <= 0.01
    # the rows it names, counted independently
    mask = _slice_mask(test, top["predicates"])
    assert top["n_holdout"] == int(mask.sum())
    assert 0.04 <= mask.mean() <= 0.09
    # the model guesses there: accuracy near one half, the uniform scores promise 3/4
    pred = (test["score"] >= 0.5).astype(int)
    assert abs(accuracy_score(test["y"], pred) - top["overall"]) < 1e-12
    assert top["ci"][0] <= 0.5 + 0.12 and top["value"] < 0.65
    promised = np.maximum(test["score"], 1 - test["score"])[mask].mean()
    assert abs(top["expected"] - promised) < 0.05
    assert top["ci"][0] <= top["value"] <= top["ci"][1]
    assert any("region east" in f.message and f.columns == top["columns"] for f in r.findings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_true_probabilities_get_no_segment_but_hard_slices_are_information(seed):
    train, test = W.truth(9000, 50 + seed)
    r = _run("segments.weak", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.metrics["segments"] == [] and r.status == "pass"
    for h in r.metrics["hard_segments"]:
        assert h["value"] < h["overall"]  # harder than the holdout overall ...
        assert abs(h["value"] - h["expected"]) < 0.12  # ... and as promised
        mask = _slice_mask(test, h["predicates"])
        assert h["n_holdout"] == int(mask.sum())
    assert all(f.severity == "info" for f in r.findings)


@pytest.mark.slow
def test_true_probabilities_get_no_segment_on_at_least_95_percent_of_seeds():
    entries = 0
    for seed in range(40):
        train, test = W.truth(6000, 1000 + seed)
        r = _run("segments.weak", make_ctx(train, test, target="y", prediction_column="score"))
        entries += bool(r.metrics["segments"])
    assert entries <= 2, entries  # 40 seeds: at most 5%


def test_a_model_overconfident_everywhere_is_calibrations_finding_not_a_segment():
    train, test = W.truth(9000, 7)
    logit = np.log(test["score"] / (1 - test["score"]))
    test = test.assign(score=1 / (1 + np.exp(-2.5 * logit)))  # far too sure, everywhere alike
    r = _run("segments.weak", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.metrics["segments"] == []
    assert r.metrics["promise"]["recalibrated"] and abs(r.metrics["promise"]["slope"] - 0.4) < 0.1


def test_costs_make_the_metric_the_cost_per_decision():
    train, test = W.coin_flip(9000, 4)
    ctx = make_ctx(train, test, target="y", prediction_column="score", settings=Settings(cost_fp=1, cost_fn=5))
    r = _run("segments.weak", ctx)
    top = r.metrics["segments"][0]
    assert top["metric"] == "cost per decision" and set(top["columns"]) == {"region", "age"}
    assert top["value"] > top["expected"]
    pred = test["score"] >= 0.5
    cost = np.where(pred & (test["y"] == 0), 1, 0) + np.where(~pred & (test["y"] == 1), 5, 0)
    assert abs(r.metrics["overall"] - cost.mean()) < 1e-12
    # the finding states the cost per 1,000 decisions, in the user's cost units (as the Business page does)
    first = next(f for f in r.findings if f.columns and set(f.columns) == {"region", "age"})
    shown = f"{1000 * top['value']:,.0f}" if 1000 * top["value"] >= 100 else f"{1000 * top['value']:.3g}"
    assert f"costs {shown} per 1,000 decisions (in your cost units)" in first.message, first.message
    assert "per decision where" not in first.message and "per 1,000 decisions" in r.summary


def test_benjamini_hochberg_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.001, 0.02, 0.03, 0.2, 0.04, 0.5]
    assert np.allclose(S.bh(p), multipletests(p, method="fdr_bh")[1])


def test_the_skew_corrected_tail_is_close_to_the_exact_poisson_binomial():
    rng = np.random.default_rng(0)
    q = rng.uniform(0.02, 0.2, size=80)
    dist = np.array([1.0])  # exact distribution of the number of errors, by convolution
    for qi in q:
        dist = np.convolve(dist, [1 - qi, qi])
    for k in (12, 15, 18):
        exact = dist[k:].sum()
        approx = S.upper_tail(k - 0.5 - q.sum(), float((q * (1 - q)).sum()), float((q * (1 - q) * (1 - 2 * q)).sum()))
        assert abs(approx - exact) < 0.25 * exact + 1e-3, (k, approx, exact)


def test_predicates_say_what_they_select():
    frame = pd.DataFrame({"age": np.arange(18, 78), "region": ["east", "west"] * 30})
    for p in S.predicates(frame, ["age", "region"], min_rows=5):
        m = p.mask(frame)
        if p.op == "<":
            assert p.text == f"age under {int(p.value)}" and m.sum() == (frame["age"] < p.value).sum()
        if p.op == "==" and p.column == "region":
            assert p.text == f"region {p.value}" and m.sum() == 30
    # negative cut points read with a true minus sign, as every number for people does (readiness.fmt)
    neg = pd.DataFrame({"x": np.linspace(-1.0, -0.01, 100)})
    texts = [p.text for p in S.predicates(neg, ["x"], min_rows=5)]
    assert texts and all("−" in t and "-" not in t for t in texts), texts


def test_a_category_mask_is_the_rows_whose_text_is_the_value_whatever_the_column_type():
    # the column cache converts each column once (factorized text); each mask must still be "the text of the
    # row is the value, and the row is not missing", as str() of each element says: known answers per row
    cols = {
        "arrow": pd.Series(["a", None, "None", "b", "a", None], dtype="str"),
        "object": pd.Series([1, "1", 1.0, None, np.nan, True], dtype=object),
        "boolean": pd.Series([True, False, True, True, False, False]),
        "category": pd.Series(["x", "y", None, "x", "y", "x"], dtype="category"),
    }
    frame = pd.DataFrame(cols)
    cache = S.ColumnCache(frame)
    for col, s in cols.items():
        for value in ["a", "b", "None", "1", "1.0", "True", "False", "x", "y", "nan", "absent"]:
            want = np.array([v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v) == value
                             for v in s.astype(object).tolist()])
            got = S.Predicate(col, "==", value).mask(frame, cache)
            assert got.dtype == bool and (got == want).all(), (col, value, got, want)
            assert (S.Predicate(col, "==", value).mask(frame) == want).all()
    assert S.Predicate("arrow", "==", "None").mask(frame, cache).tolist() == [False, False, True, False, False, False]


def test_the_scan_counts_and_the_greedy_pass_agree_with_a_brute_force_count():
    rng = np.random.default_rng(3)
    P = (rng.random((3000, 12)) < rng.uniform(0.1, 0.6, 12)).astype(float)
    d, v = rng.normal(0, 1, 3000) + 0.4 * P[:, 2] * P[:, 7], np.full(3000, 1.0)
    cols = np.arange(12) // 2
    cands = S.scan(P, d, v, cols, min_rows=30, max_rows=1500, two_sided=False)
    for c in cands:  # every candidate's z recomputed by hand from its rows
        rows = np.all(P[:, list(c.preds)] > 0, axis=1)
        assert 30 <= rows.sum() <= 1500 and c.z == pytest.approx(d[rows].sum() / np.sqrt(rows.sum()))
    assert any(set(c.preds) == {2, 7} for c in cands)
    shared: dict = {}
    kept = S.greedy(cands, P, d, v, min_rows=30, two_sided=False, columns=shared)
    covered = np.zeros(3000, dtype=bool)
    for c in kept:  # the same pass by hand
        rows = np.all(P[:, list(c.preds)] > 0, axis=1)
        assert c.z == pytest.approx(d[rows & ~covered].sum() / np.sqrt((rows & ~covered).sum()))
        covered |= rows
    assert shared and all((shared[i] == (P[:, i] > 0)).all() for i in shared)
    again = S.greedy(cands, P, d, v, min_rows=30, two_sided=False, columns=shared)  # a cache filled before
    assert [(c.preds, c.z) for c in again] == [(c.preds, c.z) for c in kept]


# --- drift.multivariate ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_a_correlation_flip_is_found_where_per_feature_drift_sees_nothing(seed):
    train, test = W.correlation_flip(6000, seed, flip=True)
    ctx = make_ctx(train, test.assign(score=0.5), target="y", prediction_column="score")
    r = _run("drift.multivariate", ctx)
    assert r.status == "warn"
    assert r.metrics["domain_auc"] > 0.8 and r.metrics["domain_auc_ci"][0] > 0.75
    assert set(r.metrics["features_apart"][:2]) == {"a", "b"}
    assert _run("drift.features", ctx).status == "pass"  # each marginal is unchanged
    assert r.metrics["prediction_drift"] is None  # a prediction column has no training scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_honest_random_split_passes(seed):
    train, test = W.correlation_flip(6000, seed, flip=False)
    r = _run("drift.multivariate", make_ctx(train, test.assign(score=0.5), target="y", prediction_column="score"))
    assert r.status == "pass" and r.metrics["domain_auc_ci"][0] < 0.55
    # under 0.5 (seed 1: 0.47, interval 0.45-0.49, entirely below) is said plainly: chance, nothing odd
    assert ("no better than chance" in r.summary) == (r.metrics["domain_auc"] < 0.5)
    assert "cannot be told apart" in r.summary


def test_delong_auc_and_the_chance_p_value_match_sklearn_and_scipy():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 600)
    s = rng.normal(size=600) + 0.3 * y
    auc, lo, hi = delong_interval(y, s)
    assert abs(auc - roc_auc_score(y, s)) < 1e-12 and lo < auc < hi
    p = mannwhitneyu(s[y == 1], s[y == 0], alternative="greater", method="asymptotic", use_continuity=False).pvalue
    assert abs(chance_p_value(auc, int(y.sum()), int((1 - y).sum())) - p) < 1e-3


def test_prediction_drift_compares_training_and_holdout_scores():
    train, test = W.correlation_flip(3000, 5, flip=False)
    model = LogisticRegression().fit(train[["a", "b", "c"]], train["y"])
    r = _run("drift.multivariate", make_ctx(train, test, target="y", model=model))
    pdrift = r.metrics["prediction_drift"]
    assert abs(pdrift["reference_mean"] - model.predict_proba(train[["a", "b", "c"]])[:, 1].mean()) < 1e-9
    assert pdrift["psi"] < 0.1 and r.status == "pass"


# --- robustness.perturbation ------------------------------------------------------------------


def _people(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x + 0.8 * (sex == "male"))))).astype(int)
    return pd.DataFrame({"x": x, "sex": sex, "y": y})


def _sex_model(frame, use_sex: bool):
    cols = [("num", StandardScaler(), ["x"])] + ([("cat", OneHotEncoder(), ["sex"])] if use_sex else [])
    model = make_pipeline(ColumnTransformer(cols), LogisticRegression())
    return model.fit(frame[["x", "sex"]], frame["y"])  # the model receives sex either way


def test_a_model_using_sex_directly_has_exactly_the_swap_flip_rate():
    train, test = _people(3000, 1), _people(1500, 2)
    model = _sex_model(train, use_sex=True)
    r = _run("robustness.perturbation", make_ctx(train, test, target="y", model=model, sensitive=["sex"]))
    swapped = test.assign(sex=np.where(test["sex"] == "male", "female", "male"))
    before = model.predict_proba(test[["x", "sex"]])[:, 1] >= 0.5
    after = model.predict_proba(swapped[["x", "sex"]])[:, 1] >= 0.5
    assert r.metrics["sensitive_flip_rate"]["sex"] == (before != after).mean() > 0.02
    assert r.status == "warn" and any(f.columns == ["sex"] and f.severity == "warn" for f in r.findings)
    by_group = r.metrics["sensitive_detail"]["sex"]["by_group"]
    women = (test["sex"] == "female").to_numpy()
    assert by_group["female"]["male"] == (before != after)[women].mean()


def test_a_model_that_drops_sex_has_no_flips():
    train, test = _people(3000, 1), _people(1500, 2)
    r = _run("robustness.perturbation", make_ctx(train, test, target="y", model=_sex_model(train, use_sex=False),
                                                  sensitive=["sex"]))
    assert r.metrics["sensitive_flip_rate"]["sex"] == 0.0


def test_a_sharp_cut_where_many_rows_sit_is_fragile_and_the_count_is_independent():
    rng = np.random.default_rng(4)

    def frame(n):
        x = np.where(rng.random(n) < 0.3, rng.normal(0, 0.01, n), rng.normal(0, 1, n))
        return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": (x > 0).astype(int)})

    train, test = frame(3000), frame(1500)
    stump = DecisionTreeClassifier(max_depth=1).fit(train[["x", "z"]], train["y"])
    r = _run("robustness.perturbation", make_ctx(train, test, target="y", model=stump))
    q75, q25 = np.percentile(train["x"], [75, 25])
    step = 0.05 * (q75 - q25) / 1.349
    base = stump.predict(test[["x", "z"]])
    up = stump.predict(test[["x", "z"]].assign(x=test["x"] + step))
    down = stump.predict(test[["x", "z"]].assign(x=test["x"] - step))
    expected = ((up != base) | (down != base)).mean()
    assert abs(r.metrics["flip_rate_by_feature"]["x"] - expected) < 1e-12 and expected > 0.2
    assert r.metrics["flip_rate_by_feature"]["z"] == 0.0
    assert r.status == "warn" and r.metrics["fragile_features"] == ["x"]


def test_a_smooth_model_is_not_fragile():
    train, test = W.correlation_flip(4500, 2, flip=False)
    model = LogisticRegression().fit(train[["a", "b", "c"]], train["y"])
    r = _run("robustness.perturbation", make_ctx(train, test, target="y", model=model))
    assert r.status == "pass" and r.metrics["flip_rate"] < 0.1


def test_robustness_needs_a_model():
    train, test = W.truth(1500, 0)
    r = run_check(get_check("robustness.perturbation"), make_ctx(train, test, target="y", prediction_column="score"))
    assert r.status == "skipped" and "model" in r.summary


# --- model.serving ----------------------------------------------------------------------------


class SlowModel(ClassifierMixin, BaseEstimator):
    """A classifier that sleeps 20 ms and allocates 8 MB on every call (known latency and memory)."""

    def fit(self, X, y):
        self.inner_ = LogisticRegression().fit(X, y)
        self.classes_ = self.inner_.classes_
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict_proba(self, X):
        buf = np.ones(1_000_000)  # 8 MB, freed on return
        time.sleep(0.02)
        return self.inner_.predict_proba(X) + 0 * buf[0]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


@pytest.mark.parametrize("budget,status", [(5.0, "warn"), (5000.0, "pass")])
def test_serving_measures_a_model_of_known_cost(budget, status):
    train, test = W.correlation_flip(1500, 0, flip=False)
    model = SlowModel().fit(train[["a", "b", "c"]], train["y"])
    ctx = make_ctx(train, test, target="y", model=model, settings=Settings(latency_budget_ms=budget))
    r = _run("model.serving", ctx)
    m = r.metrics
    assert 20 <= m["latency_ms_p50"] <= m["latency_ms_p95"] < 2000
    assert m["rows_per_second"] <= len(test) / 0.02
    assert m["peak_memory_bytes"] >= 8_000_000
    assert m["model_bytes"] == next(f.size_bytes for f in ctx.input_files if f.role == "model")
    assert r.status == status


def test_the_latency_budget_reaches_the_review_from_the_cli(tmp_path, capsys):
    from readiness.cli import main

    assert main(["review", "--sample", "--check", "model.serving", "--latency-budget-ms", "0.0001", "--json", "-",
                 "--no-history"]) == 0
    out = json.loads(capsys.readouterr().out)
    serving = out["checks"][0]
    assert serving["status"] == "warn" and out["settings"]["latency_budget_ms"] == 0.0001
    with pytest.raises(SystemExit) as exc:
        main(["review", "--sample", "--latency-budget-ms", "-3"])
    assert exc.value.code == 2


def test_the_exact_tail_is_the_poisson_binomial_and_with_costs_a_brute_force_sum():
    from scipy.stats import poisson

    rng = np.random.default_rng(5)
    q = rng.uniform(0.01, 0.1, size=31)
    # few promised errors: exact; compare with the distribution by full convolution
    dist = np.array([1.0])
    for qi in q:
        dist = np.convolve(dist, [1 - qi, qi])
    assert abs(S.tail_p(q, np.ones(31), 6.0) - dist[6:].sum()) < 1e-12
    # equal q: the binomial; tiny q: close to Poisson (the normal approximation was 5x too small here)
    assert abs(S.tail_p(np.full(200, 0.01), np.ones(200), 6.0) - poisson.sf(5, 2.0)) < 0.003
    # two costs: enumerate every outcome of 10 rows
    q10, c10 = rng.uniform(0.05, 0.5, 10), np.array([1.0, 5.0] * 5)
    brute = 0.0
    for bits in range(1 << 10):
        x = np.array([(bits >> i) & 1 for i in range(10)])
        if (c10 * x).sum() >= 7.0 - 1e-9:
            brute += np.prod(np.where(x == 1, q10, 1 - q10))
    assert abs(S.tail_p(q10, c10, 7.0) - brute) < 1e-12


@pytest.mark.slow  # the PDF build takes ~10 s
def test_the_pdf_has_a_where_it_fails_section_with_the_slice_the_swap_and_the_latency():
    """The PDF's 'Where it fails' area: the coin-flip slice named, the chart drawn, the sensitive
    swap's flip rate as computed here by re-scoring, serving figures with units (pdftotext)."""
    import shutil
    import subprocess

    from readiness.report.canonical import new_record, record_bytes
    from readiness.report.charts_pdf import charts_for
    from readiness.report.pdf import build_pdf
    from readiness.review import run_review

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    train, test = W.coin_flip(9000, 0)
    seg = run_review(make_ctx(train, test, target="y", prediction_column="score"), checks=["segments.weak"])
    ptrain, ptest = _people(3000, 1), _people(1500, 2)
    model = _sex_model(ptrain, use_sex=True)
    rest = run_review(make_ctx(ptrain, ptest, target="y", model=model, sensitive=["sex"]),
                      checks=["robustness.perturbation", "model.serving"])
    report = rest.model_copy(update={"checks": [*seg.checks, *rest.checks]})
    assert charts_for(seg.checks[0])  # the observed-vs-promised chart is drawn for print
    rec = new_record(report, project="Where", model_version="1")
    data = record_bytes(rec)
    pdf = build_pdf(rec, data).pdf
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", "-raw", "-", "-"], input=pdf, capture_output=True,
                                   check=True).stdout.decode().split())
    assert "Where it fails" in text and "Segments below their promise" in text
    assert "region" in text and "age" in text
    swapped = ptest.assign(sex=np.where(ptest["sex"] == "male", "female", "male"))
    flips = (model.predict_proba(ptest[["x", "sex"]])[:, 1] >= 0.5) != \
        (model.predict_proba(swapped[["x", "sex"]])[:, 1] >= 0.5)
    assert f"sex: {100 * flips.mean():.1f}%" in text
    assert "Scoring one row, 95th percentile" in text and " ms " in text and "rows per second" in text


def _three_classes(n, seed, *, scramble_east=False):
    """Three classes from a softmax of two features, a region column; the model is fitted on the class names
    '0', '1', '2' as text while the holdout carries them as numbers (as a CSV reads them back)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    logits = 2.5 * x @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    y = (np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1) > rng.random((n, 1))).argmax(axis=1)
    region = rng.choice(["east", "west", "north", "south"], n, p=[0.12, 0.3, 0.3, 0.28])
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "region": region, "y": y})
    train, test = frame.iloc[: n // 2].reset_index(drop=True), frame.iloc[n // 2:].reset_index(drop=True)
    model = LogisticRegression(max_iter=1000).fit(train[["x1", "x2"]], train["y"].astype(str))
    if scramble_east:  # the outcome is a die roll for region east: the model's confident scores promise too much
        east = test["region"] == "east"
        test.loc[east, "y"] = rng.integers(0, 3, int(east.sum()))
    return train, test, model


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_labels_read_back_as_numbers_are_compared_as_text(seed):
    """Issue 18 (scikit-learn's digits, real data): a model fitted on the classes '0'…'9' was counted wrong on every
    holdout row whose CSV reads the class back as a number — '0.0% accurate where 97.7% was promised' — while
    evaluation.holdout said 97.2%. The honest case now passes; the planted slice is still found."""
    train, test, model = _three_classes(6000, seed)
    r = _run("segments.weak", make_ctx(train, test, target="y", model=model, sensitive=["region"]))
    pred = model.predict(test[["x1", "x2"]])
    assert r.metrics["overall"] == pytest.approx(accuracy_score(test["y"].astype(str), pred), abs=1e-12)
    assert r.metrics["overall"] > 0.7 and r.status == "pass" and r.metrics["segments"] == []
    train, test, model = _three_classes(6000, seed, scramble_east=True)
    r = _run("segments.weak", make_ctx(train, test, target="y", model=model, sensitive=["region"]))
    assert r.status in ("warn", "fail") and "region" in r.metrics["segments"][0]["columns"]
    mask = _slice_mask(test, r.metrics["segments"][0]["predicates"])
    assert (test.loc[mask, "region"] == "east").mean() > 0.9


def test_other_values_are_the_row_by_row_draws_and_never_the_rows_own():
    from readiness.checks.robustness import other_values

    values = np.array(["a", "b", "c", "d"], dtype=object)
    probs = np.array([500.0, 300.0, 150.0, 50.0])
    own = np.random.default_rng(1).choice(["a", "b", "c", "d", "None"], 4000).astype(object)
    slow, fast = np.random.default_rng(5), np.random.default_rng(5)
    want = []
    for o in own:  # the rule as it was written: one rng.choice per row
        mask = values != o
        want.append(values[mask][slow.choice(mask.sum(), p=probs[mask] / probs[mask].sum())])
    got = other_values(own, values, probs, fast)
    assert got.tolist() == want and slow.random() == fast.random()  # same draws, same stream left
    assert not (got == own).any()
    # rows whose own value is 'a' get b, c, d at 300:150:50
    shares = pd.Series(got[own == "a"]).value_counts(normalize=True)
    assert shares["b"] == pytest.approx(0.6, abs=0.06) and shares["d"] == pytest.approx(0.1, abs=0.04)
