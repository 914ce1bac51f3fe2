"""comparison.champion: the new model against the model in production today (issue 14).

Known answers: a champion blind to the signal against a good challenger is `better`
(p < 0.05); identical models are `no_difference` with zero decision changes; the counts
(decision changes, McNemar cells, per-group churn) equal an independent pandas count;
McNemar against statsmodels, AUCs against scikit-learn, DeLong's paired standard error
against a large paired bootstrap; a challenger better overall but worse for one group is
`mixed`; a worse challenger is `worse`.
"""

import numpy as np
import pandas as pd
import pytest
from helpers import fitted, table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from readiness import errors as E
from readiness.checks.comparison_stats import delong_paired, mean_difference, paired_change
from readiness.inputs import Roles, Settings, build_context
from readiness.registry import get_check
from readiness.review import run_check

CHECK = get_check("comparison.champion")


def world(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-2 * df.x))).astype(int)
    return df.iloc[: n // 2].reset_index(drop=True), df.iloc[n // 2:].reset_index(drop=True)


def ctx_for(tr, te, model, champion=None, **roles):
    settings = roles.pop("settings", None)
    return build_context(train=table(tr), test=table(te, "test"), roles=Roles(target="y", **roles),
                         model=fitted(model), champion=fitted(champion) if champion is not None else None,
                         settings=settings)


@pytest.fixture(scope="module")
def data():
    tr, te = world()
    good = LogisticRegression().fit(tr[["x", "z"]], tr.y)
    blind = LogisticRegression().fit(tr[["z"]], tr.y)
    return tr, te, good, blind


def test_blind_champion_against_a_good_challenger_is_better(data):
    tr, te, good, blind = data
    r = run_check(CHECK, ctx_for(tr, te, good, blind, sensitive=["g"]))
    assert r.status == "pass" and r.metrics["verdict"] == "better"
    assert r.metrics["p_value"] < 0.05 and r.metrics["accuracy_difference_ci"][0] > 0
    assert r.metrics["auc_difference_ci"][0] > 0 and r.metrics["auc_p_value"] < 0.05
    assert "better than the current one" in r.summary


def test_identical_models_no_difference_and_no_decision_changes(data):
    tr, te, good, _ = data
    r = run_check(CHECK, ctx_for(tr, te, good, good, sensitive=["g"]))
    m = r.metrics
    assert m["verdict"] == "no_difference" and r.status == "pass"
    assert m["decision_changes"] == 0 and m["decision_changes_share"] == 0
    assert m["newly_flagged"] == m["no_longer_flagged"] == 0
    assert m["accuracy_difference"] == 0 and m["p_value"] == 1.0
    assert m["auc_difference"] == 0 and m["auc_p_value"] == 1.0
    assert m["within_margin"] and "As good as the current model" in r.summary
    assert all(c["decision_changes"] == 0 for rows in m["decision_changes_by_group"].values() for c in rows.values())


def test_worse_challenger_is_worse_and_fails_beyond_the_margin(data):
    tr, te, good, blind = data
    r = run_check(CHECK, ctx_for(tr, te, blind, good))
    assert r.metrics["verdict"] == "worse" and r.status == "fail"
    assert r.metrics["decision_difference_ci"][1] < -r.metrics["margin"]


def test_counts_equal_an_independent_count(data):
    """decision_changes, the McNemar cells and per-group churn counted with pandas from the
    models' own predict_proba, and McNemar's p from statsmodels."""
    from statsmodels.stats.contingency_tables import mcnemar

    tr, te, good, blind = data
    t_old = 0.45
    r = run_check(CHECK, ctx_for(tr, te, good, blind, sensitive=["g"], settings=Settings(champion_threshold=t_old)))
    m = r.metrics
    new = good.predict_proba(te[["x", "z"]])[:, 1] >= 0.5
    old = blind.predict_proba(te[["z"]])[:, 1] >= t_old
    frame = pd.DataFrame({"new": new, "old": old, "y": te.y == 1, "g": te.g})
    assert m["decision_changes"] == int((frame.new != frame.old).sum())
    assert m["newly_flagged"] == int((frame.new & ~frame.old).sum())
    assert m["no_longer_flagged"] == int((~frame.new & frame.old).sum())
    assert m["newly_flagged_positive"] == int((frame.new & ~frame.old & frame.y).sum())
    assert m["decision_changes_share"] == pytest.approx((frame.new != frame.old).mean())
    for g, part in frame.groupby("g"):
        assert m["decision_changes_by_group"]["g"][g]["decision_changes"] == int((part.new != part.old).sum())
    right_new, right_old = frame.new == frame.y, frame.old == frame.y
    table_ = pd.crosstab(right_new, right_old).to_numpy()
    assert m["both_right"] == table_[1, 1] and m["both_wrong"] == table_[0, 0]
    assert m["challenger_only_right"] == table_[1, 0] and m["champion_only_right"] == table_[0, 1]
    ref = mcnemar(table_, exact=False, correction=True)
    assert m["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert m["champion"]["threshold"] == t_old
    # per-group error rates against pandas
    for g, part in frame.groupby("g"):
        e = m["groups"]["g"][g]["error_rate"]
        assert e["first"] == pytest.approx((part.new != part.y).mean())
        assert e["second"] == pytest.approx((part.old != part.y).mean())


def test_mixed_better_overall_worse_for_one_group():
    """The challenger reads x (the signal) for group a only and a coin for group b; the
    champion reads x at half strength for everyone: better overall, worse for b."""
    rng = np.random.default_rng(1)
    n = 12000
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n, p=[0.7, 0.3])})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-3 * df.x))).astype(int)
    df["new"] = np.where(df.g == "a", 1 / (1 + np.exp(-3 * df.x)), rng.random(n))
    df["old"] = 1 / (1 + np.exp(-3 * (0.5 * df.x + rng.normal(scale=0.9, size=n))))
    tr, te = df.iloc[:2000], df.iloc[2000:].reset_index(drop=True)
    ctx = build_context(train=table(tr), test=table(te, "test"),
                        roles=Roles(target="y", prediction_column="new", champion_prediction_column="old",
                                    sensitive=["g"]))
    r = run_check(CHECK, ctx)
    m = r.metrics
    assert m["decision_difference_ci"][0] > 0
    assert m["verdict"] == "mixed" and r.status == "warn"
    assert [(x["attribute"], x["group"]) for x in m["loses"]] == [("g", "b")]
    assert m["groups"]["g"]["a"]["verdict"] == "gains"
    assert "g = b" in r.summary


def test_costs_decide_when_set(data):
    tr, te, good, blind = data
    r = run_check(CHECK, ctx_for(tr, te, good, blind, settings=Settings(cost_fp=1, cost_fn=5)))
    m = r.metrics
    assert m["decision_measure"] == "cost_per_1000"
    new = good.predict_proba(te[["x", "z"]])[:, 1] >= 0.5
    old = blind.predict_proba(te[["z"]])[:, 1] >= 0.5
    y = te.y.to_numpy() == 1

    def cost(f):
        return 1000 * np.mean(np.where(f & ~y, 1.0, 0.0) + np.where(~f & y, 5.0, 0.0))

    assert m["challenger"]["cost_per_1000"] == pytest.approx(cost(new))
    assert m["champion"]["cost_per_1000"] == pytest.approx(cost(old))
    assert m["decision_difference"] == pytest.approx(cost(old) - cost(new))


def test_aucs_match_scikit_learn_and_delong_se_matches_a_paired_bootstrap():
    rng = np.random.default_rng(3)
    n = 1500
    y = (rng.random(n) < 0.3).astype(int)
    s1 = y * 1.0 + rng.normal(size=n)
    s2 = 0.6 * s1 + rng.normal(scale=0.9, size=n) + 0.4 * y
    res = delong_paired(y, s1, s2)
    assert res["first"] == pytest.approx(roc_auc_score(y, s1), abs=1e-12)
    assert res["second"] == pytest.approx(roc_auc_score(y, s2), abs=1e-12)
    from scipy.stats import rankdata

    idx = rng.integers(0, n, (800, n))  # paired bootstrap; AUC by the Mann–Whitney rank sum, vectorised
    yb = y[idx]
    m = yb.sum(axis=1)

    def auc(s):
        r = rankdata(s[idx], axis=1)
        return ((r * yb).sum(axis=1) - m * (m + 1) / 2) / (m * (n - m))

    assert res["se"] == pytest.approx(np.std(auc(s1) - auc(s2), ddof=1), rel=0.12)
    same = delong_paired(y, s1, s1)
    assert same["difference"] == 0 and same["p_value"] == 1.0


def test_paired_change_and_mean_difference_against_closed_forms():
    a = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1] * 10, dtype=bool)
    b = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 0] * 10, dtype=bool)
    out = paired_change(a, b)
    assert out["change"] == pytest.approx(a.mean() - b.mean())
    assert out["only_first"] == 30 and out["only_second"] == 10
    d = np.random.default_rng(0).normal(1, 2, 200)
    from scipy import stats

    md = mean_difference(d)
    se = d.std(ddof=1) / np.sqrt(len(d))
    q = stats.t.ppf(0.975, len(d) - 1)
    assert md["ci"] == pytest.approx([d.mean() - q * se, d.mean() + q * se])


def test_champion_prediction_column_and_skip_without_champion(data):
    tr, te, good, blind = data
    te = te.assign(current=blind.predict_proba(te[["z"]])[:, 1])
    tr = tr.assign(current=blind.predict_proba(tr[["z"]])[:, 1])
    ctx = build_context(train=table(tr), test=table(te, "test"),
                        roles=Roles(target="y", champion_prediction_column="current"), model=fitted(good))
    assert "current" not in ctx.features
    r = run_check(CHECK, ctx)
    assert r.metrics["verdict"] == "better" and r.metrics["champion_model"]["kind"] == "predictions"
    plain = run_check(CHECK, ctx_for(tr, te, good))
    assert plain.status == "skipped" and "current model" in plain.summary


def test_champion_is_part_of_the_digest_and_the_inputs(data):
    tr, te, good, blind = data
    a, b = ctx_for(tr, te, good), ctx_for(tr, te, good, blind)
    assert a.digest != b.digest
    assert [f.role for f in b.input_files].count("champion") == 1


def test_bad_champions_are_one_line_errors(data):
    tr, te, good, _ = data
    other = LogisticRegression().fit(tr.assign(w=tr.x)[["x", "w"]], tr.y)
    with pytest.raises(E.ModelError) as err:
        ctx_for(tr, te, good, other)
    assert str(err.value) == E.CHAMPION_COLUMNS.format(name="model.skops", missing=["w"])
    from sklearn.linear_model import LinearRegression

    with pytest.raises(E.ModelError, match="regression model"):
        ctx_for(tr, te, good, LinearRegression().fit(tr[["x", "z"]], tr.y))
    three = LogisticRegression().fit(tr[["x", "z"]], np.digitize(tr.x, [-0.5, 0.5]))
    with pytest.raises(E.ModelError, match="multiclass"):
        ctx_for(tr, te, good, three)
    with pytest.raises(E.RoleError, match="not in the holdout"):
        build_context(train=table(tr), test=table(te, "test"),
                      roles=Roles(target="y", champion_prediction_column="nope"), model=fitted(good))


def test_what_changed_lists_data_features_hyperparameters_and_settings(data):
    from readiness.checks.comparison_history import what_changed

    tr, te, good, blind = data
    old_ctx = ctx_for(tr, te.iloc[:900], blind)
    from readiness.review import run_review

    old = run_review(old_ctx, checks=["model.hyperparameters"]).model_dump(mode="json")
    new_ctx = ctx_for(tr, te, LogisticRegression(C=0.5).fit(tr[["x", "z"]], tr.y),
                      settings=Settings(threshold=0.4))
    ch = what_changed(old, new_ctx)
    assert ch["data"]["train"]["changed"] is False and ch["data"]["test"]["changed"] is True
    assert ch["features"] == {"added": ["x"], "removed": [], "old_count": 1, "new_count": 2}
    assert ch["hyperparameters"]["C"] == [1.0, 0.5]
    assert ch["settings"]["threshold"] == [0.5, 0.4]
    text = "; ".join(ch["sentences"])
    assert "new holdout (900 → 2,000 rows)" in text and "1 feature added (x)" in text and "C 1.0 → 0.5" in text
    assert "settings changed (decision threshold 0.5 → 0.4)" in text  # words, not the setting's key


def test_what_changed_says_unset_values_and_lists_in_words(data):
    """A setting or role set in the champion's review and not now reads 'not set', a list reads as
    names: never 'null' or JSON in a finding the PDF prints."""
    from readiness.checks.comparison_history import what_changed

    tr, te, _good, blind = data
    from readiness.review import run_review

    old = run_review(ctx_for(tr, te, blind, settings=Settings(target_accuracy=0.85)),
                     checks=["model.hyperparameters"]).model_dump(mode="json")
    old["roles"]["sensitive"] = ["sex", "region"]
    ch = what_changed(old, ctx_for(tr, te, blind))
    text = "; ".join(ch["sentences"])
    assert "required accuracy 0.85 → not set" in text
    assert "sensitive attributes sex, region → none" in text
    assert "null" not in text and "[" not in text and "target_accuracy" not in text


def test_what_changed_never_lists_a_value_that_reads_the_same(data):
    """A hyper-parameter stored as 128 and now 128.0 (JSON round trips) is no change: never
    'max_iter 128 → 128'; another holdout file with as many rows says so, not '2,000 → 2,000 rows'."""
    from readiness.checks.comparison_history import what_changed
    from readiness.review import run_review

    tr, te, _good, blind = data
    old = run_review(ctx_for(tr, te, blind), checks=["model.hyperparameters"]).model_dump(mode="json")
    old["model"]["hyperparameters"]["C"] = "1.0"  # stored as text; the new model's C is the number 1.0
    for f in old["inputs"]:
        if f["role"] == "test":
            f["sha256"] = "0" * 64
    ch = what_changed(old, ctx_for(tr, te, blind))
    text = "; ".join(ch["sentences"])
    assert "C" not in ch["hyperparameters"] and "hyper-parameter" not in text
    assert f"new holdout ({len(te):,} rows, as many as before)" in text
