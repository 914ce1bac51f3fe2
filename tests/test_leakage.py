"""Known-answer tests for the leakage checks: a planted defect that must be flagged (with
exact counts, computed independently here) and a clean control that must pass."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from readiness.registry import get_check
from readiness.review import run_check


def run(check_id, ctx):
    res = run_check(get_check(check_id), ctx)
    assert res.status.value != "error", res.summary
    return res


def frame(n=1500, seed=0, signal=1.2):
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    p = 1 / (1 + np.exp(-(signal * x1 + 0.6 * x2 - 1.0)))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "cat": rng.choice(["a", "b", "c"], n), "y": y})


def fit_logit(train, cols):
    if "cat" not in cols:
        return LogisticRegression(max_iter=500).fit(train[cols], train["y"])
    pre = ColumnTransformer([("num", "passthrough", [c for c in cols if c != "cat"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["cat"])])
    return Pipeline([("prep", pre), ("clf", LogisticRegression(max_iter=500))]).fit(train[cols], train["y"])


# ======================================================================================
# leakage.feature_target
# ======================================================================================


def test_a_strong_proxy_with_exceptions_is_a_question_and_its_score_equals_an_independent_auc():
    # strength alone (AUC ~0.98, but 2% of rows disagree with the target both ways) cannot tell a
    # leak from a good feature: it is asked about, never failed
    df = frame(seed=1)
    rng = np.random.default_rng(11)
    flip = rng.random(len(df)) < 0.02
    df["proxy"] = np.where(flip, 1 - df["y"], df["y"])
    tr, te = df.iloc[:1100].reset_index(drop=True), df.iloc[1100:].reset_index(drop=True)
    cols = ["x1", "x2", "x3", "cat", "proxy"]
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", model=fit_logit(tr, cols)))
    assert res.status.value == "pass" and res.metrics["leaking_columns"] == []
    assert res.metrics["question_columns"] == ["proxy"]
    row = next(r for r in res.metrics["features"] if r["column"] == "proxy")
    assert row["rules"] == [] and row["status"] == "question"
    # out of fold, rows with equal values get slightly different rates per fold, so ties break at random
    assert row["score"] == pytest.approx(roc_auc_score(tr["y"], tr["proxy"]), abs=0.01)
    # on the holdout one rate table scores every row: a two-valued column ranks exactly like the column itself
    assert row["score_holdout"] == pytest.approx(roc_auc_score(te["y"], te["proxy"]), abs=1e-12)
    assert res.metrics["features"][0]["column"] == "proxy"  # ranked strongest first
    assert res.metrics["sample_rows"] == 1100
    question = next(f for f in res.findings if f.columns == ["proxy"])
    assert question.severity.value == "info" and question.message.startswith("Is 'proxy' known")
    assert "fed the answer" not in res.summary + question.message
    # the model's holdout AUC is reported from its own scores
    model = fit_logit(tr, cols)
    auc = roc_auc_score(te["y"], model.predict_proba(te[cols])[:, 1])
    assert res.metrics["model_score"] == pytest.approx(auc, abs=1e-12)


def test_a_rule_without_exception_fails_and_the_reviewers_answer_decides_a_question():
    # 'settled' = 0 whenever y = 0 (no exception), and = 1 for 70% of positives: a post-outcome flag
    df = frame(n=3000, seed=12)
    rng = np.random.default_rng(13)
    df["settled"] = np.where((df["y"] == 1) & (rng.random(len(df)) < 0.7), 1, 0)
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    te = te.assign(score=rng.random(len(te)))
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", prediction_column="score"))
    assert res.status.value == "fail" and res.metrics["leaking_columns"] == ["settled"]
    rule = next(r for r in res.metrics["features"] if r["column"] == "settled")["rules"][0]
    # independent count: the rows where settled = 1 are all positives
    # "any value other than 0 => 1", over exactly the rows with settled = 1, all of them positives
    assert rule["kind"] == "other_values" and rule["values"] == ["0"] and rule["class"] == "1"
    assert rule["rows"] == int((tr["settled"] == 1).sum()) and ((tr["settled"] == 1) <= (tr["y"] == 1)).all()
    assert "without a single exception" in next(f for f in res.findings if f.columns == ["settled"]).message
    # a strong honest feature: the reviewers' answer "known before" keeps it a plain note, "after" fails it
    from readiness.inputs import Settings

    for answer, status in (("no", "pass"), ("yes", "fail")):
        ctx = make_ctx(tr.drop(columns="settled"), te.drop(columns="settled"), target="y", prediction_column="score",
                       settings=Settings(reviewer_answers={"post_outcome:x1": answer}))
        got = run("leakage.feature_target", ctx)
        assert got.status.value == status, (answer, got.summary)


def test_a_post_outcome_column_filled_only_for_one_class_fails_and_clean_features_pass():
    # a column filled in by the collections team after the outcome: only positives are ever contacted
    df = frame(n=4000, seed=2, signal=0.6)
    rng = np.random.default_rng(3)
    contacted = (df["y"] == 1) & (rng.random(len(df)) < 0.6)
    df["contacts"] = np.where(contacted, rng.poisson(2.0, len(df)) + 1, 0)
    tr, te = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    cols = ["x1", "x2", "x3", "cat", "contacts"]
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", model=fit_logit(tr, cols)))
    assert res.status.value == "fail", res.summary
    assert res.metrics["leaking_columns"] == ["contacts"]
    row = next(r for r in res.metrics["features"] if r["column"] == "contacts")
    # the signal is "contacted or not" (analytically AUC 0.5 + 0.6 / 2 = 0.8); out-of-fold per-value
    # rates recover the AUC of that indicator up to fold noise
    assert row["score"] == pytest.approx(roc_auc_score(tr["y"], tr["contacts"] > 0), abs=0.015)
    assert row["rules"][0]["rows"] == int((tr["contacts"] > 0).sum())
    assert {r["column"] for r in res.metrics["features"]} == set(cols)
    # the same column with 3% of negatives contacted too has exceptions: a question, not a failure
    noisy = df.assign(contacts=np.where(contacted | (rng.random(len(df)) < 0.03), rng.poisson(2.0, len(df)) + 1, 0))
    ntr, nte = noisy.iloc[:3000].reset_index(drop=True), noisy.iloc[3000:].reset_index(drop=True)
    res = run("leakage.feature_target", make_ctx(ntr, nte, target="y", model=fit_logit(ntr, cols)))
    assert res.status.value == "pass" and res.metrics["question_columns"] == ["contacts"]

    clean_cols = ["x1", "x2", "x3", "cat"]
    clean = run("leakage.feature_target", make_ctx(tr, te, target="y", model=fit_logit(tr, clean_cols)))
    assert clean.status.value == "pass", clean.summary
    assert clean.metrics["leaking_columns"] == [] and clean.metrics["suspicious_columns"] == []
    powers = {r["column"]: r["power"] for r in clean.metrics["features"]}
    assert min(powers["x1"], powers["x2"]) > 0.1  # the two honest signals (equal weights) ...
    assert powers["x3"] < 0.1 and powers["cat"] < 0.1  # ... and the two noise columns


@pytest.mark.parametrize("bayes_error", [0.10, 0.02])
def test_an_honest_dominant_gaussian_feature_is_never_failed(bayes_error):
    # two Gaussian classes whose only signal is x0: Bayes error Φ(−δ/2) for a mean shift δ
    from scipy.stats import norm

    delta = -2 * norm.ppf(bayes_error)
    rng = np.random.default_rng(14)
    n = 6000
    y = rng.integers(0, 2, n)
    df = pd.DataFrame({"x0": rng.normal(size=n) + delta * y, "x1": rng.normal(size=n), "y": y})
    p = norm.pdf(df["x0"] - delta) / (norm.pdf(df["x0"] - delta) + norm.pdf(df["x0"]))
    tr, te = df.iloc[:4000].reset_index(drop=True), df.iloc[4000:].reset_index(drop=True)
    te = te.assign(p=np.asarray(p)[4000:])
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", prediction_column="p"))
    assert res.metrics["leaking_columns"] == [] and res.status.value != "fail"
    assert "fed the answer" not in res.summary
    row = res.metrics["features"][0]
    assert row["column"] == "x0" and row["rules"] == []
    assert row["score"] == pytest.approx(norm.cdf(delta / np.sqrt(2)), abs=0.01)  # AUC of a mean shift δ


def test_missingness_that_only_happens_for_one_class_is_a_leak():
    df = frame(seed=4)
    df["closure_reason"] = np.where(df["y"] == 1, 3.0, np.nan)  # filled in only for positives
    tr, te = df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)
    pred = tr.assign(score=0.5)
    te = te.assign(score=np.random.default_rng(0).random(len(te)))
    ctx = make_ctx(pred, te, target="y", prediction_column="score")
    res = run("leakage.feature_target", ctx)
    assert res.status.value == "fail" and res.metrics["leaking_columns"] == ["closure_reason"]
    row = res.metrics["features"][0]
    assert row["column"] == "closure_reason" and row["score"] == pytest.approx(1.0)
    assert row["missing_score"] == pytest.approx(1.0)


def test_identifier_that_tracks_the_outcome_is_flagged_and_a_random_one_is_not():
    df = frame(n=3000, seed=5)
    rng = np.random.default_rng(6)
    df["ticket_no"] = np.argsort(np.argsort(rng.random(len(df)) + 0.12 * df["y"])) + 10_000
    df["ref"] = [f"R{v:06d}" for v in rng.permutation(len(df))]
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    te = te.assign(score=rng.random(len(te)))
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", prediction_column="score"))
    assert set(res.metrics["identifier_columns"]) == {"ticket_no", "ref"}
    assert res.metrics["identifier_signal_columns"] == ["ticket_no"]
    warn_cols = [f.columns for f in res.findings if f.severity.value == "warn"]
    assert ["ticket_no"] in warn_cols and ["ref"] not in warn_cols
    ref = next(r for r in res.metrics["features"] if r["column"] == "ref")
    assert ref["power"] < 0.1


def test_regression_exact_copy_fails_a_noisy_copy_is_asked_about_and_clean_regression_passes():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.normal(size=(n, 3))
    y = x @ np.array([1.0, 0.5, 0.0]) + rng.normal(scale=1.0, size=n)
    df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "target": y})
    df["copy"] = y + rng.normal(scale=0.05, size=n)
    tr, te = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    leaky = LinearRegression().fit(tr[["a", "b", "c", "copy"]], tr["target"])
    res = run("leakage.feature_target", make_ctx(tr, te, target="target", model=leaky))
    assert res.metrics["metric"] == "r2"
    assert res.status.value == "warn" and res.metrics["suspicious_columns"] == ["copy"]  # R² 0.997: extreme
    exact = df.assign(copy=2.5 * df["target"] - 1.0)  # a unit change of the target
    etr, ete = exact.iloc[:1500].reset_index(drop=True), exact.iloc[1500:].reset_index(drop=True)
    res = run("leakage.feature_target", make_ctx(etr, ete, target="target",
                                                 model=LinearRegression().fit(etr[["a", "b", "c", "copy"]], etr["target"])))
    assert res.status.value == "fail" and res.metrics["leaking_columns"] == ["copy"]
    rule = next(r for r in res.metrics["features"] if r["column"] == "copy")["rules"][0]
    assert rule["slope"] == pytest.approx(0.4) and rule["intercept"] == pytest.approx(0.4)
    clean_model = LinearRegression().fit(tr[["a", "b", "c"]], tr["target"])
    clean = run("leakage.feature_target", make_ctx(tr.drop(columns="copy"), te.drop(columns="copy"),
                                                   target="target", model=clean_model))
    assert clean.status.value == "pass", clean.summary
    pred = clean_model.predict(te[["a", "b", "c"]])
    r2 = 1 - np.sum((te["target"] - pred) ** 2) / np.sum((te["target"] - te["target"].mean()) ** 2)
    assert clean.metrics["model_score"] == pytest.approx(r2, abs=1e-12)


def test_multiclass_uses_macro_one_vs_rest_auc():
    rng = np.random.default_rng(8)
    n = 1800
    x = rng.normal(size=n)
    label = np.array(["lo", "mid", "hi"])[np.digitize(x + rng.normal(scale=0.8, size=n), [-0.5, 0.5])]
    df = pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": label})
    df["leak"] = pd.Series(label).map({"lo": "L", "mid": "M", "hi": "H"})
    tr, te = df.iloc[:1300].reset_index(drop=True), df.iloc[1300:].reset_index(drop=True)
    model = Pipeline([("prep", ColumnTransformer([("n", "passthrough", ["x", "z"]),
                                                  ("c", OneHotEncoder(handle_unknown="ignore"), ["leak"])])),
                      ("clf", LogisticRegression(max_iter=500))]).fit(tr[["x", "z", "leak"]], tr["y"])
    res = run("leakage.feature_target", make_ctx(tr, te, target="y", model=model))
    assert res.status.value == "fail" and res.metrics["leaking_columns"] == ["leak"]
    row = next(r for r in res.metrics["features"] if r["column"] == "leak")
    assert row["score"] == pytest.approx(1.0)


# ======================================================================================
# leakage.train_test_overlap
# ======================================================================================


def _round3(v):
    v = np.asarray(v, dtype=float)
    mag = 10.0 ** (np.floor(np.log10(np.abs(v))) - 2)
    return np.round(v / mag) * mag


def overlap_case(seed=9):
    df = frame(n=2000, seed=seed)
    df["uid"] = [f"C{i:05d}" for i in range(len(df))]
    tr, te = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    src = rng.choice(len(tr), 55, replace=False)
    exact = tr.iloc[src[:30]].copy()  # re-exported rows: same ID, same everything
    flipped = tr.iloc[src[30:40]].copy()
    flipped["y"] = 1 - flipped["y"]
    flipped["uid"] = [f"N{i}" for i in range(10)]
    near = tr.iloc[src[40:]].copy()
    for c in ("x1", "x2", "x3"):
        near[c] = _round3(near[c])  # exported with 3 significant digits
    near["uid"] = [f"M{i}" for i in range(15)]
    te = pd.concat([te, exact, flipped, near], ignore_index=True).sample(frac=1, random_state=1).reset_index(drop=True)
    return tr, te


def test_copied_rows_are_counted_exactly():
    tr, te = overlap_case()
    feats = ["x1", "x2", "x3", "cat"]
    model = fit_logit(tr, feats)
    res = run("leakage.train_test_overlap", make_ctx(tr, te, target="y", model=model, id_column="uid"))
    m = res.metrics
    # independent counts with pandas merges
    full = te.merge(tr[feats + ["y"]].drop_duplicates(), on=feats + ["y"], how="inner")
    by_feat = te.merge(tr[feats].drop_duplicates(), on=feats, how="inner")
    assert m["overlap_test_rows"] == len(full) == 30
    assert m["feature_overlap_test_rows"] == len(by_feat) == 40
    assert m["feature_overlap_label_conflicts"] == 10
    assert m["near_duplicate_test_rows"] == 55
    assert m["shared_ids"] == te["uid"].isin(tr["uid"]).sum() == 30 and m["shared_id_kind"] == "id"
    assert res.status.value == "fail"
    assert m["overlap_test_share"] == pytest.approx(30 / len(te))
    kinds = pd.Series([e["match"] for e in m["examples"]]).value_counts().to_dict()
    assert len(m["examples"]) == 20 and set(kinds) <= {"identical", "same features", "near-duplicate"}
    for e in m["examples"]:  # every example points at a real matching training row
        if e["match"] != "near-duplicate":
            assert all(tr.loc[e["training_row"], c] == e[c] for c in feats)
    assert any(f.columns == ["uid"] and f.severity.value == "fail" for f in res.findings)


def test_clean_split_passes_and_coarse_data_is_not_blamed_for_chance_repeats():
    df = frame(n=2000, seed=12)
    tr, te = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    res = run("leakage.train_test_overlap", make_ctx(tr, te, target="y", model=fit_logit(tr, ["x1", "x2", "cat"])))
    assert res.status.value == "pass", res.summary
    assert res.metrics["overlap_test_rows"] == 0 and res.metrics["near_duplicate_test_rows"] == 0

    # three binary features: only 16 distinct rows exist, so holdout rows repeat training rows by chance
    rng = np.random.default_rng(13)
    n = 3000
    coarse = pd.DataFrame({"a": rng.integers(0, 2, n), "b": rng.integers(0, 2, n), "c": rng.integers(0, 2, n)})
    coarse["y"] = (rng.random(n) < 0.2 + 0.5 * coarse["a"]).astype(int)
    tr, te = coarse.iloc[:2000].reset_index(drop=True), coarse.iloc[2000:].reset_index(drop=True)
    model = LogisticRegression().fit(tr[["a", "b", "c"]], tr["y"])
    res = run("leakage.train_test_overlap", make_ctx(tr, te, target="y", model=model))
    assert res.metrics["overlap_test_rows"] == len(te)  # every row repeats ...
    assert res.status.value == "pass", res.summary  # ... but no more than chance explains


# ======================================================================================
# leakage.temporal
# ======================================================================================


def timed(n=1200, seed=14):
    df = frame(n=n, seed=seed)
    days = np.sort(np.random.default_rng(seed).integers(0, 700, n))
    df["when"] = (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    return df


def test_forward_split_passes():
    df = timed()
    cut = df["when"] >= "2024-09-01"
    tr, te = df[~cut].reset_index(drop=True), df[cut].reset_index(drop=True)
    res = run("leakage.temporal", make_ctx(tr, te, target="y", model=fit_logit(tr, ["x1", "x2"]), time_column="when"))
    assert res.status.value == "pass", res.summary
    assert res.metrics["forward_split"] is True and res.metrics["holdout_rows_before_train_end"] == 0
    assert res.metrics["train_end"] == tr["when"].max() and res.metrics["holdout_start"] == te["when"].min()
    assert res.metrics["overlap_window"] is None
    tl = res.metrics["timeline"]
    assert sum(tl["train"]) == len(tr) and sum(tl["holdout"]) == len(te)


def test_shuffled_split_fails_with_the_exact_count():
    df = timed(seed=15).sample(frac=1, random_state=0).reset_index(drop=True)
    tr, te = df.iloc[:900].reset_index(drop=True), df.iloc[900:].reset_index(drop=True)
    res = run("leakage.temporal", make_ctx(tr, te, target="y", model=fit_logit(tr, ["x1", "x2"]), time_column="when"))
    expected = int((pd.to_datetime(te["when"]) < pd.to_datetime(tr["when"]).max()).sum())
    assert res.status.value == "fail"
    assert res.metrics["holdout_rows_before_train_end"] == expected
    assert res.metrics["holdout_share_before_train_end"] == pytest.approx(expected / len(te))
    w = res.metrics["overlap_window"]
    lo = max(tr["when"].min(), te["when"].min())
    hi = min(tr["when"].max(), te["when"].max())
    assert (w["start"], w["end"]) == (lo, hi)
    assert w["length"] == (pd.Timestamp(hi) - pd.Timestamp(lo)).days


def test_a_few_early_holdout_rows_warn_and_are_counted():
    df = timed(seed=16)
    cut = df["when"] >= "2024-09-01"
    tr, te = df[~cut], df[cut]
    moved = tr.sample(7, random_state=3)
    tr, te = tr.drop(moved.index).reset_index(drop=True), pd.concat([te, moved]).reset_index(drop=True)
    res = run("leakage.temporal", make_ctx(tr, te, target="y", model=fit_logit(tr, ["x1", "x2"]), time_column="when"))
    expected = int((te["when"] < tr["when"].max()).sum())
    assert res.status.value == "warn"
    assert res.metrics["holdout_rows_before_train_end"] == expected == 7


def test_peek_a_boo_date_feature_after_the_row_time():
    df = timed(seed=17)
    when = pd.to_datetime(df["when"])
    offset = np.full(len(df), -20)
    future = np.random.default_rng(1).choice(len(df), 25, replace=False)
    offset[future] = 30
    df["last_payment"] = (when + pd.to_timedelta(offset, unit="D")).dt.strftime("%Y-%m-%d")
    cut = df["when"] >= "2024-09-01"
    tr, te = df[~cut].reset_index(drop=True), df[cut].reset_index(drop=True)
    te = te.assign(score=np.random.default_rng(2).random(len(te)))
    res = run("leakage.temporal", make_ctx(tr, te, target="y", prediction_column="score", time_column="when"))
    peek = res.metrics["peek_a_boo"]["last_payment"]
    assert peek["rows_after"] == 25 and peek["rows_compared"] == len(df)
    assert res.status.value == "fail"  # 25 / 1200 = 2.1% >= 1%
    assert any(f.columns == ["last_payment", "when"] for f in res.findings)
    assert res.metrics["forward_split"] is True


def test_temporal_is_skipped_without_a_time_column():
    df = frame(n=400, seed=18)
    tr, te = df.iloc[:300], df.iloc[300:]
    res = run("leakage.temporal", make_ctx(tr, te, target="y", model=fit_logit(tr, ["x1"])))
    assert res.status.value == "skipped" and "time column" in res.summary


# ======================================================================================
# leakage.oversampling
# ======================================================================================


def imbalanced(n=3000, seed=20, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - 3.0)))).astype(int)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(d)]).assign(y=y)


def smote(df, n_new, rng, k=5):
    """Textbook SMOTE on the minority class: a random minority row, one of its k nearest
    minority neighbours, a uniform point on the segment. Returns the new rows and their parents."""
    from sklearn.neighbors import NearestNeighbors

    feats = [c for c in df.columns if c != "y"]
    mino = df[df["y"] == 1]
    X = mino[feats].to_numpy()
    _, nbr = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    i = rng.integers(0, len(X), n_new)
    j = nbr[i, rng.integers(1, k + 1, n_new)]
    lam = rng.random(n_new)
    new = X[i] + lam[:, None] * (X[j] - X[i])
    out = pd.DataFrame(new, columns=feats).assign(y=1)
    return out, mino.index.to_numpy()[i], mino.index.to_numpy()[j]


def test_a_few_interpolations_of_training_rows_in_the_holdout_are_counted_exactly():
    df = imbalanced(seed=21)
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    feats = ["f0", "f1", "f2", "f3"]
    # 12 synthetic points, each between a training minority row and its nearest minority neighbour
    mino = tr[tr["y"] == 1]
    from sklearn.neighbors import NearestNeighbors

    _, nb = NearestNeighbors(n_neighbors=2).fit(mino[feats]).kneighbors(mino[feats])
    rng = np.random.default_rng(5)
    pick = rng.choice(len(mino), 12, replace=False)
    a, b = mino[feats].to_numpy()[pick], mino[feats].to_numpy()[nb[pick, 1]]
    lam = rng.uniform(0.3, 0.7, 12)
    synth = pd.DataFrame(a + lam[:, None] * (b - a), columns=feats).assign(y=1)
    model = LogisticRegression().fit(tr[feats], tr["y"])
    planted = pd.concat([te, synth], ignore_index=True)
    res = run("leakage.oversampling", make_ctx(tr, planted, target="y", model=model))
    assert res.metrics["synthetic_cross_split"] == 12
    assert res.metrics["classes"]["1"]["synthetic_cross_split"] == 12
    assert res.metrics["synthetic_within_train"] == 0
    assert res.status.value == "fail"
    # control: the same points inside training are oversampling done right
    tr2 = pd.concat([tr, synth], ignore_index=True)
    ok = run("leakage.oversampling", make_ctx(tr2, te, target="y", model=model))
    assert ok.metrics["synthetic_within_train"] == 12 and ok.metrics["synthetic_cross_split"] == 0
    assert ok.status.value == "pass", ok.summary


def test_smote_before_the_split_fails_and_after_the_split_passes():
    df = imbalanced(seed=22)
    rng = np.random.default_rng(9)
    feats = ["f0", "f1", "f2", "f3"]
    n_new = int((df["y"] == 0).sum() - (df["y"] == 1).sum()) // 2
    # before: oversample everything, then split at random
    new, _, _ = smote(df, n_new, rng)
    before = pd.concat([df, new], ignore_index=True).sample(frac=1, random_state=2).reset_index(drop=True)
    is_synth = np.r_[np.zeros(len(df), bool), np.ones(len(new), bool)][
        pd.concat([df, new], ignore_index=True).sample(frac=1, random_state=2).index]
    tr, te = before.iloc[:3000].reset_index(drop=True), before.iloc[3000:].reset_index(drop=True)
    model = LogisticRegression().fit(tr[feats], tr["y"])
    res = run("leakage.oversampling", make_ctx(tr, te, target="y", model=model))
    assert res.status.value == "fail"
    found = res.metrics["synthetic_cross_split"] + res.metrics["synthetic_within_train"] \
        + res.metrics["classes"]["1"]["synthetic_within_holdout"]
    assert found <= is_synth.sum()  # never more synthetic points than were made ...
    assert res.metrics["synthetic_cross_split"] >= 0.5 * is_synth[3000:].sum()  # ... and most holdout ones found
    assert res.metrics["classes"]["0"]["synthetic_cross_split"] == 0  # nothing in the untouched class
    # after: split first, oversample the training part only
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    new, _, _ = smote(tr, 300, rng)
    tr = pd.concat([tr, new], ignore_index=True)
    model = LogisticRegression().fit(tr[feats], tr["y"])
    ok = run("leakage.oversampling", make_ctx(tr, te, target="y", model=model))
    assert ok.status.value == "pass", ok.summary
    assert ok.metrics["synthetic_cross_split"] == 0 and ok.metrics["synthetic_within_train"] > 200


def test_random_oversampling_before_the_split_fails_with_exact_class_counts():
    df = imbalanced(seed=23)
    feats = ["f0", "f1", "f2", "f3"]
    mino = df[df["y"] == 1]
    extra = mino.sample(800, replace=True, random_state=1)
    both = pd.concat([df, extra], ignore_index=True).sample(frac=1, random_state=4).reset_index(drop=True)
    tr, te = both.iloc[:2900].reset_index(drop=True), both.iloc[2900:].reset_index(drop=True)
    model = LogisticRegression().fit(tr[feats], tr["y"])
    res = run("leakage.oversampling", make_ctx(tr, te, target="y", model=model))
    keys_tr = set(map(tuple, tr[feats + ["y"]].to_numpy()))
    cross = np.array([tuple(r) in keys_tr for r in te[feats + ["y"]].to_numpy()])
    for cls in (0, 1):
        assert res.metrics["classes"][str(cls)]["cross_split_duplicates"] == int((cross & (te["y"] == cls)).sum())
    assert res.metrics["classes"]["0"]["cross_split_duplicates"] == 0
    assert res.metrics["concentrated_class"] == "1"
    assert res.status.value == "fail"
    # after the split: copies stay inside training
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    tr = pd.concat([tr, tr[tr["y"] == 1].sample(500, replace=True, random_state=1)], ignore_index=True)
    ok = run("leakage.oversampling", make_ctx(tr, te, target="y", model=LogisticRegression().fit(tr[feats], tr["y"])))
    assert ok.status.value == "pass" and ok.metrics["cross_split_duplicates"] == 0
    assert ok.metrics["within_train_duplicates"] > 0


TEXT_COLUMNS = {
    "str": pd.Series(["a", None, "", "?", "a", np.nan, "1", "nan"], dtype="str"),
    "string": pd.Series(["a", None, "", "?", "a", pd.NA, "1", "nan"], dtype="string"),
    "object": pd.Series(["a", None, "", "?", "a", np.nan, 1, 1.5], dtype=object),
    "category": pd.Series(["a", None, "", "?", "a", np.nan, "1", "b"], dtype="category"),
}


@pytest.mark.parametrize("kind", sorted(TEXT_COLUMNS))
def test_row_keys_of_text_equal_the_hash_through_python_objects(kind):
    """Issue 15: a text column is hashed in its own storage (no round trip through Python objects): the keys
    equal the old construction (text, missing as '\x00<NA>', copied out to an object array and back) for
    every kind of text column; equal texts get equal keys, missing ones one key of their own."""
    from readiness.leakstats import row_keys

    s = TEXT_COLUMNS[kind]
    f = pd.DataFrame({"t": s, "x": np.arange(len(s), dtype=float) % 3})
    got = row_keys(f, ["t", "x"], numeric={"x"})
    h = np.zeros(len(f), dtype=np.uint64)
    for i, col in enumerate([pd.Series(s.astype("string").fillna("\x00<NA>").astype(str).to_numpy()), f["x"]]):
        with np.errstate(over="ignore"):
            h = (h * np.uint64(0x100000001B3)) ^ pd.util.hash_pandas_object(col, index=False,
                                                                          hash_key=f"{i:016d}").to_numpy()
    assert got.tolist() == h.tolist()
    one = row_keys(f, ["t"], numeric=set())
    text = ["<NA>" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s]
    assert all((one[i] == one[j]) == (text[i] == text[j]) for i in range(len(s)) for j in range(len(s)))


def test_row_keys_extend_column_by_column_and_both_checks_share_the_whole_row_keys():
    """The whole row's keys are the features' keys extended by the target (hashed once in a review and shared
    by the overlap and oversampling checks): equal to hashing every column, and the oversampling check reads
    the same on a context the overlap check has already used."""
    from readiness.leakstats import row_keys

    df = imbalanced(seed=23)
    feats, cols = ["f0", "f1", "f2", "f3"], ["f0", "f1", "f2", "f3", "y"]
    df["c"] = np.where(df["f0"] > 0, "hi", None)
    full = row_keys(df, cols + ["c"], numeric=set(feats))
    assert row_keys(df, ["y", "c"], numeric=set(feats), keys=row_keys(df, feats, numeric=set(feats)),
                    position=4).tolist() == full.tolist()
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    te = pd.concat([te, tr.iloc[:40]], ignore_index=True)  # 40 copies across the split
    model = LogisticRegression().fit(tr[feats], tr["y"])
    fresh = run("leakage.oversampling", make_ctx(tr, te, target="y", model=model))
    ctx = make_ctx(tr, te, target="y", model=model)
    overlap = run("leakage.train_test_overlap", ctx)
    shared = run("leakage.oversampling", ctx)
    assert overlap.metrics["overlap_test_rows"] == 40 and shared.metrics["cross_split_duplicates"] == 40
    assert shared.model_dump(exclude={"duration_s"}) == fresh.model_dump(exclude={"duration_s"})


def _two_gaussians(seed, n_tr=4000, n_te=2000, d=2, shift=1.5):
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    n = n_tr + n_te
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d))
    X[:, 0] += shift * y
    p = norm.pdf(X[:, 0] - shift) / (norm.pdf(X[:, 0] - shift) + norm.pdf(X[:, 0]))  # the true probability
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)]).assign(y=y)
    return df.iloc[:n_tr].reset_index(drop=True), df.iloc[n_tr:].reset_index(drop=True).assign(p=p[n_tr:])


@pytest.mark.parametrize("seed", range(6))
def test_honest_two_dimensional_data_is_not_called_oversampled(seed):
    # issue 18: in two dimensions points lie near lines through two neighbours by chance; the
    # count in the band (tol, 10·tol] predicts it (at most 1 in 10 of those within 10·tol by chance)
    tr, te = _two_gaussians(seed)
    res = run("leakage.oversampling", make_ctx(tr, te, target="y", prediction_column="p"))
    m = res.metrics
    assert res.status.value == "pass", res.summary
    assert m["synthetic_p_value"] > 1e-3
    # independent: the expected count is the band count / 9 (closed form of the chance model)
    assert m["synthetic_cross_split_expected"] == pytest.approx(m["synthetic_chance_band"] / 9)
    assert m["synthetic_cross_split"] > 0  # chance hits exist, and are explained
    assert any("about what chance gives" in f.message for f in res.findings)


def test_smote_from_imbalanced_learn_before_the_split_fails():
    # an independent generator: imbalanced-learn's SMOTE on the whole table, then a random split
    from imblearn.over_sampling import SMOTE

    rng = np.random.default_rng(1)
    n = 3000
    X = rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - 3)))).astype(int)
    Xr, yr = SMOTE(random_state=0).fit_resample(X, y)
    n_synth = len(yr) - n  # imbalanced-learn appends its synthetic rows after the originals
    df = pd.DataFrame(Xr, columns=[f"f{i}" for i in range(4)]).assign(y=yr, synthetic=np.arange(len(yr)) >= n)
    df = df.sample(frac=1, random_state=0).reset_index(drop=True)
    cut = int(0.7 * len(df))
    tr, te = df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)
    te = te.assign(p=rng.random(len(te)))
    feats = [f"f{i}" for i in range(4)]
    res = run("leakage.oversampling", make_ctx(tr[feats + ["y"]], te[feats + ["y", "p"]], target="y",
                                               prediction_column="p"))
    m = res.metrics
    assert res.status.value == "fail", res.summary
    assert m["synthetic_p_value"] < 1e-6 and m["synthetic_cross_split"] > 10 * m["synthetic_cross_split_expected"]
    # the points found on a segment are the ones imbalanced-learn made
    frames = {"training": tr, "holdout": te}
    found = [bool(frames[e["point"]["split"]].loc[e["point"]["row"], "synthetic"]) for e in m["examples"]]
    assert len(found) == 20 and all(found) and n_synth > 1000


def test_many_columns_are_sampled_and_the_sample_is_reported(monkeypatch):
    from readiness.checks import leakage

    monkeypatch.setattr(leakage, "SMOTE_MAX_COLUMNS", 5)
    tr, te = _two_gaussians(0, n_tr=600, n_te=300, d=12)
    res = run("leakage.oversampling", make_ctx(tr, te, target="y", prediction_column="p"))
    assert len(res.metrics["numeric_columns_used"]) == 5 and res.metrics["numeric_columns_available"] == 12
    assert any("sample of 5 of the 12 numeric columns" in f.message for f in res.findings)


def test_one_continuous_feature_near_copies_are_chance_and_oversampled_rows_are_not_called_exact():
    # issue 18: one continuous feature, 8,000 rows: rounding to 3 digits makes most rows near-copies
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    x = rng.normal(size=8000)
    df = pd.DataFrame({"x": x, "y": (rng.random(8000) < norm.cdf(x)).astype(int)})
    tr, te = df.iloc[:6000].reset_index(drop=True), df.iloc[6000:].reset_index(drop=True).assign(p=norm.cdf(x[6000:]))
    res = run("leakage.train_test_overlap", make_ctx(tr, te, target="y", prediction_column="p"))
    assert res.status.value == "pass", res.summary
    # the chance floor is part of the expected count: max(repeat share, 1/(n_train+1)) × holdout rows
    m = res.metrics
    assert m["overlap_chance_share"] == pytest.approx(max(m["train_repeat_share"], 1 / 6001))
    assert m["overlap_expected_rows"] == pytest.approx(m["overlap_chance_share"] * 2000)


def test_near_copies_are_worded_as_near_copies():
    # jittered copies of training rows: equal after rounding to 3 digits, never exactly
    tr, te = _two_gaussians(4, n_tr=3000, n_te=1000, d=4)
    jitter = tr.sample(150, random_state=1).copy()
    jitter[["x0", "x1", "x2", "x3"]] *= 1 + 1e-6
    te = pd.concat([te, jitter.assign(p=0.5)], ignore_index=True)
    res = run("leakage.train_test_overlap", make_ctx(tr, te, target="y", prediction_column="p"))
    assert res.status.value == "fail" and res.metrics["overlap_test_rows"] == 0
    near = next(f for f in res.findings if "rounded" in f.message)
    assert "not exact copies" in near.message and "near-copies (not exact copies)" in res.summary
    assert "exact copies of training rows" not in res.summary.replace("(not exact copies)", "")


def test_integer_valued_features_do_not_look_synthetic():
    rng = np.random.default_rng(24)
    n = 3000
    df = pd.DataFrame({"age": rng.integers(18, 80, n), "kids": rng.integers(0, 4, n),
                       "accounts": rng.poisson(4, n), "score": rng.integers(400, 850, n)})
    df["y"] = (rng.random(n) < 0.2).astype(int)
    tr, te = df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)
    res = run("leakage.oversampling", make_ctx(tr, te, target="y",
                                               model=LogisticRegression().fit(tr.drop(columns="y"), tr["y"])))
    assert res.metrics["synthetic_cross_split"] <= 2 and res.status.value != "fail"


# ======================================================================================
# leakage.preprocessing
# ======================================================================================


def pre_case(seed=30):
    df = frame(n=1200, seed=seed)
    df["x2"] = df["x2"] * 3 + 10
    df.loc[df.index[::13], "x3"] = np.nan
    tr, te = df.iloc[:900].reset_index(drop=True), df.iloc[900:].reset_index(drop=True)
    te.loc[:4, "cat"] = "zeta"  # a category only the holdout has
    return tr, te


def prebuilt(fit_rows, train):
    """ColumnTransformer(scaler + imputer→scaler + one-hot) fitted on ``fit_rows``; classifier on training."""
    num = Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())])
    ct = ColumnTransformer([("scale", StandardScaler(), ["x1", "x2"]), ("num", num, ["x3"]),
                            ("range", MinMaxScaler(), ["x2"]),
                            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["cat"])])
    cols = ["x1", "x2", "x3", "cat"]
    ct.fit(fit_rows[cols])
    clf = LogisticRegression(max_iter=500).fit(ct.transform(train[cols]), train["y"])
    return Pipeline([("prepare", ct), ("classifier", clf)])


def test_pipeline_fit_on_all_rows_fails_naming_columns_and_holdout_categories():
    tr, te = pre_case()
    allrows = pd.concat([tr, te], ignore_index=True)
    # the planted defect, verified independently: the scaler's mean is the combined mean
    model = prebuilt(allrows, tr)
    scaler = model.named_steps["prepare"].named_transformers_["scale"]
    assert np.allclose(scaler.mean_, allrows[["x1", "x2"]].mean().to_numpy())
    assert not np.allclose(scaler.mean_, tr[["x1", "x2"]].mean().to_numpy())
    res = run("leakage.preprocessing", make_ctx(tr, te, target="y", model=model))
    assert res.status.value == "fail"
    assert set(res.metrics["fit_on_holdout_columns"]) == {"x1", "x2", "x3", "cat"}
    steps = {s["step"]: s for s in res.metrics["steps"]}
    assert set(steps) == {"prepare/scale", "prepare/num/impute", "prepare/num/scale", "prepare/range", "prepare/onehot"}
    assert steps["prepare/scale"]["columns"]["x1"]["fit_on"] == "training_and_holdout"
    assert steps["prepare/scale"]["n_samples_seen"] == len(allrows)
    assert steps["prepare/onehot"]["columns"]["cat"]["categories_"]["holdout_only_categories"] == ["zeta"]
    assert steps["prepare/num/impute"]["columns"]["x3"]["statistics_"]["model"] == pytest.approx(allrows["x3"].mean())
    msgs = " ".join(f.message for f in res.findings)
    assert "zeta" in msgs and "OneHotEncoder" in msgs


def test_pipeline_fit_on_training_passes():
    tr, te = pre_case()
    res = run("leakage.preprocessing", make_ctx(tr, te, target="y", model=prebuilt(tr, tr)))
    assert res.status.value == "pass", res.summary
    assert res.metrics["fit_on_holdout_columns"] == [] and res.metrics["transformers_checked"] == 5
    verdicts = {v["fit_on"] for s in res.metrics["steps"] for v in s["columns"].values()}
    assert verdicts <= {"training", "indistinguishable"}


def test_only_some_steps_leaked_are_named_alone():
    tr, te = pre_case(seed=31)
    allrows = pd.concat([tr, te], ignore_index=True)
    model = prebuilt(tr, tr)
    # refit only the inner imputer on all rows (the scaler after it stays fit on training)
    model.named_steps["prepare"].named_transformers_["num"].named_steps["impute"].fit(allrows[["x3"]])
    res = run("leakage.preprocessing", make_ctx(tr, te, target="y", model=model))
    assert res.status.value == "fail"
    assert res.metrics["fit_on_holdout_columns"] == ["x3"]


def test_data_reaches_a_later_step_only_when_a_preprocessor_is_there_to_refit():
    """Issue 15: the pipeline's data is transformed for its later steps only while a later step holds a
    scaler, imputer or encoder to refit; the final model needs no transformed copy (at a million rows the
    one-hot transform cost 3 s). The scaler after a custom step is still refitted on the step's output and
    read correctly; a custom step before the model alone is never asked to transform."""
    from sklearn.base import BaseEstimator, TransformerMixin

    from readiness.pipeline_fit import walk

    class Doubling(TransformerMixin, BaseEstimator):
        calls = 0

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            type(self).calls += 1
            return X * 2

    tr, te = pre_case()
    cols = ["x1", "x2"]
    allrows = pd.concat([tr[cols], te[cols]], ignore_index=True)
    # scaler, custom step, model: the scaler is read, nothing after it is transformed
    model = Pipeline([("scale", StandardScaler().fit(allrows)), ("double", Doubling()),
                      ("clf", LogisticRegression().fit(tr[cols], tr["y"]))])
    records = []
    walk(model, tr[cols], allrows, "", records)
    assert Doubling.calls == 0 and [r["step"] for r in records] == ["scale"]
    assert {v["fit_on"] for v in records[0]["columns"].values()} == {"training_and_holdout"}
    # custom step, scaler (fit on the doubled training rows), model: both splits go through the custom step
    model = Pipeline([("double", Doubling()), ("scale", StandardScaler().fit(tr[cols] * 2)),
                      ("clf", LogisticRegression().fit(tr[cols], tr["y"]))])
    records = []
    walk(model, tr[cols], allrows, "", records)
    assert Doubling.calls == 2 and [r["step"] for r in records] == ["scale"]
    assert {v["fit_on"] for v in records[0]["columns"].values()} == {"training"}
    assert records[0]["columns"]["x1"]["mean_"]["model"] == pytest.approx(2 * tr["x1"].mean())


def _scored(tr, te):
    return tr, te.assign(score=np.random.default_rng(0).random(len(te)))


def test_columns_standardised_over_all_rows_fail_and_over_training_pass():
    df = frame(n=1000, seed=32)
    tr, te = df.iloc[:700].reset_index(drop=True), df.iloc[700:].reset_index(drop=True)
    both = pd.concat([tr, te], ignore_index=True)
    mu, sd = both["x2"].mean(), both["x2"].std(ddof=0)
    leaky_tr, leaky_te = tr.assign(x2=(tr["x2"] - mu) / sd), te.assign(x2=(te["x2"] - mu) / sd)
    res = run("leakage.preprocessing", make_ctx(*_scored(leaky_tr, leaky_te), target="y", prediction_column="score"))
    assert res.status.value == "fail"
    assert res.metrics["data_signatures"] == {"x2": "standardized_over_all"}
    mu_t, sd_t = tr["x2"].mean(), tr["x2"].std(ddof=0)
    ok_tr, ok_te = tr.assign(x2=(tr["x2"] - mu_t) / sd_t), te.assign(x2=(te["x2"] - mu_t) / sd_t)
    ok = run("leakage.preprocessing", make_ctx(*_scored(ok_tr, ok_te), target="y", prediction_column="score"))
    assert ok.status.value == "pass", ok.summary
    assert ok.metrics["data_signatures"] == {}


def test_min_max_over_all_rows_and_mean_imputed_over_all_rows_warn():
    df = frame(n=1000, seed=33)
    tr, te = df.iloc[:700].reset_index(drop=True), df.iloc[700:].reset_index(drop=True)
    # make sure the overall extremes of x1 lie in the holdout
    te.loc[0, "x1"], te.loc[1, "x1"] = df["x1"].max() + 1, df["x1"].min() - 1
    both = pd.concat([tr, te], ignore_index=True)
    lo, hi = both["x1"].min(), both["x1"].max()
    tr["x1"], te["x1"] = (tr["x1"] - lo) / (hi - lo), (te["x1"] - lo) / (hi - lo)
    # mean imputation of x3 with the mean over both splits
    miss_tr, miss_te = np.arange(len(tr)) % 9 == 0, np.arange(len(te)) % 9 == 0
    fill = np.r_[tr["x3"][~miss_tr], te["x3"][~miss_te]].mean()
    tr.loc[miss_tr, "x3"], te.loc[miss_te, "x3"] = fill, fill
    res = run("leakage.preprocessing", make_ctx(*_scored(tr, te), target="y", prediction_column="score"))
    assert res.metrics["data_signatures"] == {"x1": "minmax_over_all", "x3": "mean_imputed_over_all"}
    assert res.status.value == "warn"
    ev = next(f.evidence for f in res.findings if f.columns == ["x3"])
    assert ev["rows"] == int(miss_tr.sum() + miss_te.sum())


# ======================================================================================
# the sample review
# ======================================================================================


def test_sample_review_flags_what_the_sample_plants(sample_ctx):
    ids = ["leakage.feature_target", "leakage.train_test_overlap", "leakage.temporal", "leakage.oversampling",
           "leakage.preprocessing", "evaluation.holdout_reuse"]
    results = {i: run(i, sample_ctx) for i in ids}
    ft = results["leakage.feature_target"]
    assert ft.status.value in ("warn", "fail") and "collections_contacts" in ft.metrics["suspicious_columns"] + \
        ft.metrics["leaking_columns"]
    ov = results["leakage.train_test_overlap"]
    assert ov.metrics["overlap_test_rows"] == 40 and ov.metrics["shared_ids"] == 40
    tp = results["leakage.temporal"]
    assert tp.metrics["holdout_rows_before_train_end"] == 52  # 12 late applications + 40 re-exported copies
    assert results["leakage.oversampling"].status.value == "pass"
    assert results["leakage.preprocessing"].status.value == "pass"
    assert results["evaluation.holdout_reuse"].metrics["n"] == 1033


def test_rules_count_exceptions_and_need_a_common_excluded_class():
    from scipy.stats import beta

    from readiness import leakstats as ls

    rng = np.random.default_rng(30)
    n = 6000
    level_a = rng.random(n) < 0.3
    for share, expect_rule in ((0.40, True), (0.04, False)):
        # level A never holds a positive; elsewhere positives have the share that makes `share` overall
        y = np.where(level_a, 0, (rng.random(n) < share / 0.7).astype(int))
        values = pd.Series(np.where(level_a, "A", rng.choice(["B", "C"], n)))
        rules = ls.post_outcome_rules(values, y, 2)
        assert bool(rules) == expect_rule, (share, rules)
    y = np.where(level_a, 0, (rng.random(n) < 0.4 / 0.7).astype(int))
    y[np.flatnonzero(level_a)[:3]] = 1  # three slips: still a rule (≤ 1 in 200), counted
    rule = ls.post_outcome_rules(pd.Series(np.where(level_a, "A", "B")), y, 2)[0]
    rows = int(level_a.sum())
    assert rule["values"] == ["A"] and rule["exceptions"] == 3 and rule["rows"] == rows
    assert rule["exception_rate_upper"] == pytest.approx(beta.ppf(0.95, 4, rows - 3))  # Clopper–Pearson
    assert ls.name_from_target("is_recid", "two_year_recid") == "recid"
    assert ls.name_from_target("days_since_last", "default_date") is None  # generic words only
