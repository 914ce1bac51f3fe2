"""Known-answer tests for bias.groups and bias.categories.

Every expected number is computed here independently (hand counts, numpy, pandas,
scipy's beta distribution), never pasted from the code's own output.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from scipy import stats as sst
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from readiness.checks import bias as B
from readiness.checks import bias_categories as BC
from readiness.fmt import pct
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check, run_review, update_report

GROUPS = get_check("bias.groups")
CATS = get_check("bias.categories")


# --- independent reference formulas ------------------------------------------------------------


def cp(x, n):
    """Clopper–Pearson from the beta distribution, written out here."""
    lo = 0.0 if x == 0 else sst.beta.ppf(0.025, x, n - x + 1)
    hi = 1.0 if x == n else sst.beta.ppf(0.975, x + 1, n - x)
    return lo, hi


def wilson_ref(x, n):
    z = sst.norm.ppf(0.975)
    p = x / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return c - h, c + h


def newcombe_ref(x1, n1, x2, n2):
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ref(x1, n1)
    l2, u2 = wilson_ref(x2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def cells(group, tp, fn, fp, tn):
    """Rows of one group with exactly these confusion counts (score 0.9 = flagged, 0.1 = not)."""
    rows = ([(group, 1, 0.9)] * tp + [(group, 1, 0.1)] * fn + [(group, 0, 0.9)] * fp + [(group, 0, 0.1)] * tn)
    return pd.DataFrame(rows, columns=["sex", "y", "score"])


def ctx_from(test, train=None, *, sensitive=("sex",), answers=None, **kw):
    train = test if train is None else train
    settings = Settings(threshold=0.5, reviewer_answers=answers or {}, bootstrap=100)
    return make_ctx(train, test, target="y", prediction_column="score", sensitive=list(sensitive),
                    settings=settings, **kw)


# --- the interval formulas against published values ----------------------------------------------


def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    d, ci = B.newcombe_diff(56, 70, 48, 80)
    assert d == pytest.approx(56 / 70 - 48 / 80)
    assert ci == pytest.approx([0.0524, 0.3339], abs=1e-4)
    # and against the formula written out here, on other counts
    for args in [(3, 10, 7, 12), (0, 25, 4, 30), (40, 40, 10, 41)]:
        ref = newcombe_ref(*args)
        d, ci = B.newcombe_diff(*args)
        assert [d, *ci] == pytest.approx(list(ref), abs=1e-12)


def test_auc_helpers_agree_with_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(y * 0.7 + rng.normal(size=300), 1)  # ties on purpose
    assert B.rank_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    auc, ci = B.hanley_mcneil_auc(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    a = roc_auc_score(y, s)
    n1, n0 = y.sum(), len(y) - y.sum()
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    assert ci == pytest.approx([a - 1.96 * se, a + 1.96 * se], abs=1e-12)
    assert B.rank_auc([1, 1], [0.2, 0.3]) is None


# --- bias.groups: exact counts on a hand-made table -------------------------------------------------


@pytest.fixture(scope="module")
def hand():
    # A: TP 16, FN 4, FP 2, TN 18 (TPR .8, FPR .1)   B: TP 8, FN 12, FP 2, TN 18 (TPR .4, FPR .1)
    test = pd.concat([cells("A", 16, 4, 2, 18), cells("B", 8, 12, 2, 18)], ignore_index=True)
    ctx = ctx_from(test)
    return ctx, run_check(GROUPS, ctx)


def test_group_counts_and_rates_are_exact(hand):
    _, res = hand
    g = res.metrics["groups"]["sex"]
    a, b = g["A"], g["B"]
    assert (a["n"], a["tp"], a["fn"], a["fp"], a["tn"]) == (40, 16, 4, 2, 18)
    assert (b["n"], b["tp"], b["fn"], b["fp"], b["tn"]) == (40, 8, 12, 2, 18)
    assert a["tpr"] == 16 / 20 and a["fpr"] == 2 / 20 and a["fnr"] == 4 / 20
    assert a["precision"] == 16 / 18 and a["selection_rate"] == 18 / 40 and a["accuracy"] == 34 / 40
    assert a["base_rate"] == 20 / 40
    assert b["tpr"] == 8 / 20 and b["precision"] == 8 / 10 and b["selection_rate"] == 10 / 40
    for key, x, n in [("tpr", 16, 20), ("fpr", 2, 20), ("precision", 16, 18), ("accuracy", 34, 40)]:
        assert a[f"{key}_ci"] == pytest.approx(cp(x, n), abs=1e-10)
    assert a["small"] is False and a["small_metrics"] == [] and b["small_metrics"] == []
    # probabilities: mean score and Brier by hand
    assert a["mean_score"] == pytest.approx((18 * 0.9 + 22 * 0.1) / 40)
    assert a["brier"] == pytest.approx((16 * 0.01 + 4 * 0.81 + 2 * 0.81 + 18 * 0.01) / 40)
    lo, hi = a["brier_ci"]
    assert lo <= a["brier"] <= hi


def test_disparities_against_the_largest_group_are_exact(hand):
    _, res = hand
    m = res.metrics
    assert m["reference"]["sex"] == "A"  # tie on size: the first group
    row = m["disparities"]["sex"]["groups"]["B"]
    d, lo, hi = newcombe_ref(8, 20, 16, 20)
    assert row["equal_opportunity_difference"] == pytest.approx(-0.4)
    assert row["equal_opportunity_difference_ci"] == pytest.approx([lo, hi], abs=1e-12)
    assert row["fpr_difference"] == pytest.approx(0.0)
    assert row["equalized_odds_difference"] == pytest.approx(0.4)
    assert row["predictive_parity_difference"] == pytest.approx(8 / 10 - 16 / 18)
    assert row["demographic_parity_difference"] == pytest.approx(10 / 40 - 18 / 40)
    assert row["demographic_parity_ratio"] == pytest.approx((10 / 40) / (18 / 40))
    assert row["accuracy_difference"] == pytest.approx(26 / 40 - 34 / 40)
    # a 40-point TPR gap beyond chance in groups of 40 fails
    assert hi < 0 and res.status == "fail"
    fail = [f for f in res.findings if f.severity == "fail"]
    assert len(fail) == 1 and fail[0].evidence["group"] == "B" and fail[0].columns == ["sex"]
    assert {f["metric"] for f in fail[0].evidence["flags"] if f["severity"] != "info"} == {"tpr"}
    # no favourable label: no side is named, and no four-fifths verdict is given
    assert all(f["disadvantaged"] is None for f in row["flags"])
    assert "favorable_rate_ratio" not in row and "four-fifths" not in fail[0].message
    assert any("No favourable label" in f.message and f.severity == "info" for f in res.findings)
    # the selection gap (-20 points) is within chance in groups of 40: a note that says so
    _, dlo, dhi = newcombe_ref(10, 40, 18, 40)
    assert dlo < 0 < dhi
    sel = [f for f in row["flags"] if f["metric"] == "selection_rate"]
    assert len(sel) == 1 and sel[0]["severity"] == "info" and "may be chance" in sel[0]["message"]
    assert "B" in res.summary and "A" in res.summary
    json.dumps(m, allow_nan=False)


def test_switching_the_reference_group_recomputes_from_counts(hand):
    _, res = hand
    other = B.recompute_disparities(res.metrics, "sex", "B")
    assert other["reference"] == "B" and list(other["groups"]) == ["A"]
    row = other["groups"]["A"]
    d, lo, hi = newcombe_ref(16, 20, 8, 20)
    assert row["equal_opportunity_difference"] == pytest.approx(0.4)
    assert row["equal_opportunity_difference_ci"] == pytest.approx([lo, hi], abs=1e-12)
    with pytest.raises(KeyError):
        B.recompute_disparities(res.metrics, "sex", "Z")


def _planted(seed, tpr_f, n=4000, fpr_f=0.1):
    """Two groups with the same base rate (30%); the model catches positives of m at 90% and of f at tpr_f."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    y = (rng.random(n) < 0.3).astype(int)
    catch = np.where(sex == "f", tpr_f, 0.9)
    false_alarm = np.where(sex == "f", fpr_f, 0.1)
    flagged = np.where(y == 1, rng.random(n) < catch, rng.random(n) < false_alarm)
    score = np.where(flagged, 0.8, 0.2)
    return pd.DataFrame({"sex": sex, "x": rng.normal(size=n), "y": y, "score": score})


def test_planted_error_rate_gap_fails_with_the_counts_of_an_independent_groupby():
    test = _planted(7, tpr_f=0.55)
    res = run_check(GROUPS, ctx_from(test))
    assert res.status == "fail"
    pred = (test["score"] >= 0.5).astype(int)
    for g, part in test.groupby("sex"):
        p = pred[part.index]
        m = res.metrics["groups"]["sex"][g]
        assert m["tp"] == int(((part.y == 1) & (p == 1)).sum())
        assert m["fp"] == int(((part.y == 0) & (p == 1)).sum())
        assert m["tpr"] == pytest.approx(((part.y == 1) & (p == 1)).sum() / (part.y == 1).sum())
    ref = res.metrics["reference"]["sex"]
    assert ref == test["sex"].value_counts().idxmax()
    flagged = [f for f in res.findings if f.severity == "fail"]
    assert flagged and all(f.columns == ["sex"] for f in flagged)
    assert any(x["metric"] == "tpr" for f in flagged for x in f.evidence["flags"])


def test_control_without_a_gap_passes():
    res = run_check(GROUPS, ctx_from(_planted(8, tpr_f=0.9)))
    assert res.status == "pass", res.summary
    assert res.metrics["worst"]["sex"]["max_equalized_odds_difference"] < B.WARN_GAP
    assert "10 points or more beyond chance" in res.summary


def test_small_groups_are_shown_but_never_fail_on_their_own():
    # a 12-row group the model never gets right: reported, with a wide interval, small, not failing
    test = pd.concat([cells("A", 45, 5, 5, 45), cells("B", 45, 5, 5, 45), cells("tiny", 0, 6, 6, 0)],
                     ignore_index=True)
    res = run_check(GROUPS, ctx_from(test))
    tiny = res.metrics["groups"]["sex"]["tiny"]
    assert tiny["n"] == 12 and tiny["small"] is True and tiny["tpr"] == 0.0
    assert tiny["tpr_ci"] == pytest.approx(cp(0, 6), abs=1e-10) and tiny["tpr_ci"][1] > 0.4  # wide, not hidden
    row = res.metrics["disparities"]["sex"]["groups"]["tiny"]
    assert row["small"] is True and row["severity"] == "warn"  # beyond chance, yet small: at most a warning
    assert res.status == "warn"
    assert any("tiny: 12" in f.message for f in res.findings if f.severity == "info")


def test_rates_resting_on_few_cases_are_marked():
    # B: 3 actual positives, 4 flagged rows -> TPR/FNR and precision rest on fewer than 5 cases
    test = pd.concat([cells("A", 40, 10, 10, 40), cells("B", 1, 2, 3, 44)], ignore_index=True)
    res = run_check(GROUPS, ctx_from(test))
    b = res.metrics["groups"]["sex"]["B"]
    assert b["positives"] == 3 and b["predicted_positive"] == 4
    assert set(b["small_metrics"]) == {"tpr", "fnr", "precision"}
    assert b["small"] is False
    row = res.metrics["disparities"]["sex"]["groups"]["B"]
    assert {f["metric"] for f in row["flags"]} >= {"tpr", "precision"}
    few = [f for f in row["flags"] if f["metric"] in ("tpr", "precision")]
    assert all(f["few_cases"] and f["severity"] == "info" for f in few)
    # the downgrade is explained: "only 3 actual y = 1 cases in sex = B: the 47-point gap cannot be judged"
    tpr = next(f for f in few if f["metric"] == "tpr")
    assert tpr["few_cases"] == {"side": "group", "cases": 3, "kind": "positive_actual"}
    assert f"only 3 actual y = 1 cases in sex = B: the {round(100 * abs(1 / 3 - 40 / 50))}-point gap cannot be judged" \
        in tpr["message"]
    assert res.status != "fail"


def test_missing_sensitive_values_form_their_own_group():
    test = pd.concat([cells("A", 20, 5, 5, 20), cells("B", 20, 5, 5, 20)], ignore_index=True)
    test["sex"] = test["sex"].astype(object)
    test.loc[[0, 1, 2, 60, 61], "sex"] = np.nan
    test.loc[[3, 62], "sex"] = "?"
    res = run_check(GROUPS, ctx_from(test))
    g = res.metrics["groups"]["sex"]
    assert g[B.MISSING_GROUP]["n"] == 7
    assert g["A"]["n"] == 50 - 4 and g["B"]["n"] == 50 - 3
    assert sum(v["n"] for v in g.values()) == len(test)
    assert res.metrics["reference"]["sex"] != B.MISSING_GROUP
    assert any(B.MISSING_GROUP in f.message for f in res.findings)


def test_intersections_count_like_a_crosstab():
    rng = np.random.default_rng(3)
    test = _planted(4, tpr_f=0.9, n=1500)
    test["region"] = rng.choice(["N", "S", "E"], len(test), p=[0.1, 0.5, 0.4])
    res = run_check(GROUPS, ctx_from(test, sensitive=("sex", "region")))
    assert res.metrics["intersections"] == ["sex × region"]
    tab = pd.crosstab(test["sex"], test["region"])
    inter = res.metrics["groups"]["sex × region"]
    for s in tab.index:
        for r in tab.columns:
            assert inter[f"{s} × {r}"]["n"] == tab.loc[s, r]


def test_numeric_sensitive_column_is_cut_into_bands():
    rng = np.random.default_rng(5)
    test = _planted(5, tpr_f=0.9, n=1000)
    test["age"] = rng.integers(18, 80, len(test))
    res = run_check(GROUPS, ctx_from(test, sensitive=("age",)))
    g = res.metrics["groups"]["age"]
    assert 3 <= len(g) <= 5 and sum(v["n"] for v in g.values()) == len(test)
    assert "binned" in res.metrics["attribute_notes"]["age"]


class Echo(ClassifierMixin, BaseEstimator):
    """A 'model' that predicts the class written in column 'guess' (probability 1)."""

    def fit(self, X, y):
        self.classes_ = np.array(sorted(pd.Series(y).unique()))
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        return (X["guess"].to_numpy()[:, None] == self.classes_[None, :]).astype(float)

    def predict(self, X):
        return X["guess"].to_numpy()


def test_multiclass_is_reported_one_vs_rest_with_exact_counts():
    rng = np.random.default_rng(9)
    n = 600
    y = rng.choice(["lo", "mid", "hi"], n)
    sex = rng.choice(["f", "m"], n, p=[0.4, 0.6])
    guess = np.where(rng.random(n) < 0.8, y, rng.choice(["lo", "mid", "hi"], n))
    # plant: for f, class 'hi' is mostly missed
    miss = (sex == "f") & (y == "hi") & (rng.random(n) < 0.6)
    guess = np.where(miss, "lo", guess)
    df = pd.DataFrame({"guess": guess, "sex": sex, "y": y})
    model = Echo().fit(df[["guess"]], df["y"])
    ctx = make_ctx(df, df, target="y", model=model, sensitive=["sex"], settings=Settings(bootstrap=50))
    res = run_check(GROUPS, ctx)
    g = res.metrics["groups"]["sex"]
    for s in ("f", "m"):
        part = df[df.sex == s]
        assert g[s]["accuracy"] == pytest.approx((part.y == part.guess).mean())
        for c in ("lo", "mid", "hi"):
            pc = g[s]["per_class"][c]
            assert pc["tp"] == int(((part.y == c) & (part.guess == c)).sum())
            assert pc["fp"] == int(((part.y != c) & (part.guess == c)).sum())
    assert res.metrics["reference"]["sex"] == "m"
    row = res.metrics["disparities"]["sex"]["groups"]["f"]
    assert row["class"] == "hi" and row["severity"] == "fail"
    assert "hi" in res.summary


def test_no_sensitive_attribute_skips_with_a_reason():
    res = run_check(GROUPS, ctx_from(_planted(1, 0.9, n=200), sensitive=()))
    assert res.status == "skipped" and "sensitive" in res.summary
    cats = run_check(CATS, ctx_from(_planted(1, 0.9, n=200), sensitive=()))
    st = {k: v["status"] for k, v in cats.metrics["categories"].items()}
    assert st["deployment"] == "warn" and all(v == "skipped" for k, v in st.items() if k != "deployment")


# --- bias.categories ---------------------------------------------------------------------------------


def _cat(res, name):
    return res.metrics["categories"][name]


def test_every_category_has_status_summary_and_evidence():
    res = run_check(CATS, ctx_from(_planted(2, 0.9, n=800)))
    assert res.metrics["order"] == list(BC.CATEGORIES)
    for c in BC.CATEGORIES:
        cat = _cat(res, c)
        assert cat["status"] in {"pass", "warn", "fail", "skipped", "error"} and cat["summary"]
    assert len(res.findings) == 7
    json.dumps(res.metrics, allow_nan=False)


def test_historical_base_rate_difference_is_flagged_with_exact_rates():
    rng = np.random.default_rng(11)
    n = 2000
    sex = rng.choice(["f", "m"], n)
    y = (rng.random(n) < np.where(sex == "f", 0.2, 0.45)).astype(int)
    test = pd.DataFrame({"sex": sex, "y": y, "score": np.where(y == 1, 0.7, 0.3)})
    res = run_check(CATS, ctx_from(test.iloc[:1000], test.iloc[1000:]))
    h = _cat(res, "historical")
    assert h["status"] == "warn"
    grp = h["evidence"]["attributes"]["sex"]["groups"]
    for s in ("f", "m"):
        assert grp[s]["rates"]["1"]["rate"] == pytest.approx(test.loc[test.sex == s, "y"].mean())
        assert grp[s]["n"] == int((test.sex == s).sum())
    gap = h["evidence"]["attributes"]["sex"]["largest_gap"]
    assert (gap["highest"], gap["lowest"]) == ("m", "f")
    # the control: same base rate
    same = _planted(12, 0.9, n=2000)
    assert _cat(run_check(CATS, ctx_from(same.iloc[:1000], same.iloc[1000:])), "historical")["status"] == "pass"


def test_measurement_finds_a_planted_proxy_and_not_in_the_control():
    rng = np.random.default_rng(13)
    n = 2000
    region = rng.choice(["N", "S"], n, p=[0.3, 0.7])
    df = pd.DataFrame({"region": region, "postcode_index": np.where(region == "N", 5.0, 0.0) + rng.normal(size=n),
                       "noise": rng.normal(size=n), "y": rng.integers(0, 2, n)})
    df["score"] = np.where(df.y == 1, 0.7, 0.3)
    res = run_check(CATS, ctx_from(df.iloc[1000:], df.iloc[:1000], sensitive=("region",)))
    meas = _cat(res, "measurement")
    assert meas["status"] == "warn" and "postcode_index" in meas["summary"]
    feats = meas["evidence"]["proxies"]["region"]["features"]
    assert feats["postcode_index"]["auc"] > 0.95 and feats["noise"]["auc"] < 0.6
    # independent check: the raw feature alone separates the groups on the holdout
    te = df.iloc[1000:]
    assert roc_auc_score(te.region == "N", te.postcode_index) > 0.95
    control = run_check(CATS, ctx_from(df.drop(columns="postcode_index").iloc[1000:],
                                       df.drop(columns="postcode_index").iloc[:1000], sensitive=("region",)))
    assert _cat(control, "measurement")["status"] == "pass"


def test_measurement_flags_missingness_that_differs_by_group():
    rng = np.random.default_rng(14)
    n = 1200
    sex = rng.choice(["f", "m"], n)
    income = rng.normal(50, 10, n)
    income[(sex == "f") & (rng.random(n) < 0.3)] = np.nan
    y = rng.integers(0, 2, n)
    df = pd.DataFrame({"sex": sex, "income": income, "y": y, "score": np.where(y == 1, 0.7, 0.3)})
    res = run_check(CATS, ctx_from(df.iloc[600:], df.iloc[:600]))
    gaps = _cat(res, "measurement")["evidence"]["missingness_gaps"]
    assert gaps and gaps[0]["column"] == "income" and gaps[0]["highest"] == "f"
    assert gaps[0]["highest_rate"] == pytest.approx(df.loc[df.sex == "f", "income"].isna().mean())
    assert gaps[0]["lowest_rate"] == 0.0


def test_learning_measures_amplification_against_an_independent_computation():
    rng = np.random.default_rng(15)
    n = 3000
    sex = rng.choice(["f", "m"], n)
    y = (rng.random(n) < 0.3).astype(int)
    # labels alike; the model flags f far more often (extra false positives for f)
    flagged = (y == 1) | ((sex == "f") & (rng.random(n) < 0.3))
    df = pd.DataFrame({"sex": sex, "y": y, "score": np.where(flagged, 0.9, 0.1)})
    res = run_check(CATS, ctx_from(df))
    learn = _cat(res, "learning")
    ref = df.sex.value_counts().idxmax()
    other = "f" if ref == "m" else "m"
    row = learn["evidence"]["amplification"]["sex"]["groups"][other]
    sel = df.assign(p=flagged.astype(int)).groupby("sex")["p"].mean()
    base = df.groupby("sex")["y"].mean()
    assert row["model_gap"] == pytest.approx(sel[other] - sel[ref])
    assert row["label_gap"] == pytest.approx(base[other] - base[ref])
    assert row["amplification"] == pytest.approx(abs(sel[other] - sel[ref]) - abs(base[other] - base[ref]))
    assert learn["status"] == "fail" and row["amplification_ci"][0] > 0
    # control: decisions equal the labels -> nothing added
    ctrl = df.assign(score=np.where(df.y == 1, 0.9, 0.1))
    assert _cat(run_check(CATS, ctx_from(ctrl)), "learning")["status"] == "pass"


class _FixedRule(ClassifierMixin, BaseEstimator):
    """A binary model whose probabilities are a fixed rule of its inputs (fit only records the columns)."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        return self


class UsesSex(_FixedRule):
    """P(positive) = 0.55 (f) or 0.3 (m), plus 0.4 when x > 0."""

    def predict_proba(self, X):
        p = np.where(X["sex"].to_numpy() == "f", 0.55, 0.3) + 0.4 * (X["x"].to_numpy() > 0)
        return np.column_stack([1 - p, p])


def test_learning_flip_test_sees_a_model_that_uses_the_attribute():
    df = _planted(16, 0.9, n=600)[["sex", "x", "y"]]
    model = UsesSex().fit(df[["sex", "x"]], df["y"])
    ctx = make_ctx(df, df, target="y", model=model, sensitive=["sex"], settings=Settings(bootstrap=50))
    learn = _cat(run_check(CATS, ctx), "learning")
    ft = learn["evidence"]["direct_use"]["sex"]["flip_test"]
    # p >= .5 iff x > 0 or sex == f: flipping sex changes the decision of exactly the rows with x <= 0
    assert ft["changed"] == int((df["x"] <= 0).sum())
    assert learn["status"] in ("warn", "fail") and "sex" in learn["summary"]


class UsesRegion(_FixedRule):
    """P(positive) = 0.45 + 0.1 (region N) - 0.1 (region S) + 0.3 x: region moves decisions near the cut."""

    def predict_proba(self, X):
        r = X["region"].to_numpy()
        p = np.clip(0.45 + 0.1 * (r == "N") - 0.1 * (r == "S") + 0.3 * X["x"].to_numpy(), 0, 1)
        return np.column_stack([1 - p, p])


def test_learning_quotes_the_counterfactual_number_of_robustness():
    """Issue 12 (Adult walk): the Bias page's learning category said 'changing only sex changes 1.5%' (any of five
    values, 2,000 rows) above the counterfactual section's 1.8% (robustness.perturbation, 16,281 rows). One number:
    the share of decisions that change when region is set to the value that changes most, over every holdout row,
    counted here by re-scoring with predict_proba."""
    rng = np.random.default_rng(12)
    n = 3000
    df = pd.DataFrame({"region": rng.choice(["N", "S", "E"], n), "x": rng.normal(size=n)})
    df["y"] = (rng.random(n) < 0.4).astype(int)
    model = UsesRegion().fit(df[["region", "x"]], df["y"])
    ctx = make_ctx(df, df, target="y", model=model, sensitive=["region"], settings=Settings(bootstrap=50))
    base = model.predict_proba(df[["region", "x"]])[:, 1] >= 0.5
    rates = {}
    for v in ("N", "S", "E"):
        other = (df["region"] != v).to_numpy()
        after = model.predict_proba(df[["region", "x"]].assign(region=v))[:, 1] >= 0.5
        rates[v] = (after != base)[other].sum() / other.sum()
    worst = max(rates, key=rates.get)
    learn = _cat(run_check(CATS, ctx), "learning")
    robust = run_check(get_check("robustness.perturbation"), ctx)
    ft = learn["evidence"]["direct_use"]["region"]["flip_test"]
    assert ft["changed_share"] == pytest.approx(rates[worst]) == robust.metrics["sensitive_flip_rate"]["region"]
    assert ft["rows"] == int((df["region"] != worst).sum())
    said = f"changing only region (setting it to '{worst}') changes {pct(rates[worst])} of holdout decisions"
    assert said in learn["summary"], learn["summary"]
    assert any(f"Changing only 'region' (setting it to '{worst}') changes {pct(rates[worst])}" in f.message
               for f in robust.findings)


def test_representation_reference_population_small_groups_and_unseen_groups():
    rng = np.random.default_rng(17)
    tr = pd.DataFrame({"region": rng.choice(["S", "E"], 1000, p=[0.9, 0.1]), "y": rng.integers(0, 2, 1000)})
    te = pd.DataFrame({"region": ["S"] * 300 + ["E"] * 40 + ["N"] * 12, "y": rng.integers(0, 2, 352)})
    for f in (tr, te):
        f["score"] = np.where(f.y == 1, 0.7, 0.3)
    res = run_check(CATS, ctx_from(te, tr, sensitive=("region",), answers={"reference_population": "E=30%, S=70%"}))
    rep = _cat(res, "representation")
    assert rep["status"] == "fail"  # N is in the holdout, never in training
    rows = rep["evidence"]["attributes"]["region"]["groups"]
    assert rows["E"]["train_n"] == int((tr.region == "E").sum()) and rows["N"]["test_n"] == 12
    assert rows["E"]["population_share"] == pytest.approx(0.30)
    assert rep["evidence"]["attributes"]["region"]["vs_population"] == ["E"]
    assert "N" in rep["evidence"]["attributes"]["region"]["small_in_holdout"]
    ev = _cat(res, "evaluation")["evidence"]["composition_vs_population"]["region"]
    assert ev["E"]["test_share"] == pytest.approx(40 / 352) and ev["E"]["off"] is True


def test_reference_population_parsing():
    groups = {"sex": ["female", "male"], "region": ["North", "South"], "team": ["North", "B"]}
    out, problems = BC.parse_reference_population("female=51%, male=0.49; sex:male = 49 ; region:North=10%", groups)
    assert out == {"sex": {"female": 0.51, "male": 0.49}, "region": {"North": 0.10}}
    assert problems == []
    _, problems = BC.parse_reference_population("North=10%, Mars=3%, female=abc, male", groups)
    assert len(problems) == 4 and "attribute:group" in problems[0] and "Mars" in problems[1]
    _, problems = BC.parse_reference_population("female=70%, male=40%", groups)
    assert "more than 100%" in problems[0]


def test_evaluation_names_the_metric_that_hides_a_group_failure():
    test = pd.concat([cells("A", 90, 10, 10, 90), cells("B", 18, 22, 4, 36)], ignore_index=True)
    res = run_check(CATS, ctx_from(test))
    ev = _cat(res, "evaluation")
    hidden = {(h["group"], h["metric"]) for h in ev["evidence"]["hidden_failures"] if h["attribute"] == "sex"}
    # overall TPR (90 + 18) / 140 = .771; B's 18/40 = .45 with CP upper below .771
    assert ("B", "tpr") in hidden and cp(18, 40)[1] < 108 / 140
    assert ev["status"] == "warn"
    agg = _cat(res, "aggregation")
    # accuracy: overall 234/280 = .836; B 54/80 = .675, CP upper below .836, gap >= 10 points
    assert agg["evidence"]["attributes"]["sex"]["B"]["accuracy_gap"] == pytest.approx(234 / 280 - 54 / 80)
    assert agg["status"] == "fail"


def test_deployment_answers():
    base = _planted(18, 0.9, n=400)
    none = _cat(run_check(CATS, ctx_from(base)), "deployment")
    assert none["status"] == "warn" and set(none["evidence"]["unanswered"]) == set(BC.REQUIRED_ANSWERS)
    good = {"intended_use": "Rank", "affected_population": "Applicants", "human_oversight": "all",
            "population_match": "yes", "recourse": "yes"}
    ok = _cat(run_check(CATS, ctx_from(base, answers=good)), "deployment")
    assert ok["status"] == "pass" and ok["evidence"]["answers"]["human_oversight"]["answer_text"].startswith("Every")
    bad = _cat(run_check(CATS, ctx_from(base, answers={**good, "human_oversight": "none"})), "deployment")
    assert bad["status"] == "warn" and "no person reviews" in bad["summary"]


def test_new_answers_update_only_the_categories_and_keep_predictions():
    ctx = ctx_from(_planted(19, 0.9, n=400))
    report = run_review(ctx, checks=["bias.groups", "bias.categories"])
    answers = {"intended_use": "Rank", "affected_population": "Applicants", "human_oversight": "some"}
    new_ctx = B.with_reviewer_answers(ctx, answers)
    assert new_ctx.test_scores is ctx.test_scores  # carried over, not recomputed
    assert new_ctx.digest != ctx.digest and ctx.settings.reviewer_answers == {}
    updated = update_report(report, new_ctx, ["bias.categories"])
    assert updated.check("bias.groups") == report.check("bias.groups")
    assert updated.check("bias.categories").metrics["categories"]["deployment"]["status"] == "pass"
    assert updated.settings["reviewer_answers"] == answers


def test_answers_file(tmp_path):
    from readiness.errors import ReadinessError

    good = tmp_path / "a.json"
    good.write_text(json.dumps({"intended_use": "Rank", "human_oversight": "some"}))
    assert BC.read_answers_file(good) == {"intended_use": "Rank", "human_oversight": "some"}
    for content, words in [("[1]", "JSON object"), ("{", "not valid JSON"), ('{"colour": "red"}', "unknown"),
                           ('{"human_oversight": "maybe"}', "must be one of"), ('{"intended_use": [1]}', "must be text")]:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        with pytest.raises(ReadinessError, match=words):
            BC.read_answers_file(bad)
    with pytest.raises(ReadinessError, match="not found"):
        BC.read_answers_file(tmp_path / "missing.json")
