"""business.threshold: known answers.

Costs are recomputed here by hand (numpy: count false positives and false negatives at
each threshold), the cheapest threshold by brute force over every distinct score. A
planted threshold far from the cost optimum must warn, the same data at the optimum
must pass, a useless model must fail, and the edge cases must behave.
"""

import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LinearRegression, LogisticRegression

from readiness.checks.business import (
    analyse,
    analyse_scores,
    decision_at,
    describe_decision,
    per_thousand,
    verdict,
)
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check

SPEC = get_check("business.threshold")


# --- by hand -----------------------------------------------------------------------------------


def hand(scores, y, t, cfp, cfn):
    """Confusion counts and cost per 1,000 at threshold t (flag when score >= t)."""
    flag = scores >= t
    fp = int(np.sum(flag & (y == 0)))
    fn = int(np.sum(~flag & (y == 1)))
    tp = int(np.sum(flag & (y == 1)))
    tn = int(np.sum(~flag & (y == 0)))
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "cost": 1000 * (cfp * fp + cfn * fn) / len(y)}


def brute_force(scores, y, cfp, cfn):
    """Cheapest cost over every distinct score as threshold, plus 'flag no one'."""
    cands = np.append(np.unique(scores), np.inf)
    costs = [hand(scores, y, t, cfp, cfn)["cost"] for t in cands]
    return cands, np.array(costs)


def calibrated(n, seed=0):
    """Scores that are true probabilities: p = sigmoid(2.5x - 1), y ~ Bernoulli(p)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(2.5 * x - 1)))
    y = (rng.random(n) < p).astype(int)
    return x, p, y


def ctx_from_scores(scores, y, *, threshold=0.5, cost_fp=1.0, cost_fn=4.0, target_accuracy=None, bootstrap=200,
                    labels=("no", "yes")):
    test = pd.DataFrame({"f": np.arange(len(y)), "score": scores, "y": np.where(y == 1, labels[1], labels[0])})
    train = test.iloc[:50].copy()
    train.loc[train.index[0], "y"], train.loc[train.index[1], "y"] = labels
    return make_ctx(train, test, target="y", prediction_column="score", positive_label=labels[1],
                    settings=Settings(threshold=threshold, cost_fp=cost_fp, cost_fn=cost_fn,
                                      target_accuracy=target_accuracy, bootstrap=bootstrap))


# --- known answers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted():
    """4,000 calibrated scores, costs 1 : 4 -> the cost-optimal threshold is 1/(1+4) = 0.2."""
    _, p, y = calibrated(4000, seed=1)
    return p, y


def test_every_curve_point_matches_hand_counts(planted):
    p, y = planted
    m = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, n_boot=20)
    c = m["curve"]
    assert 150 <= len(c["threshold"]) <= 205  # capped grid over 4,000 distinct scores
    for i, t in enumerate(c["threshold"]):
        h = hand(p, y, t, 1, 4)
        assert (c["tp"][i], c["fp"][i], c["tn"][i], c["fn"][i]) == (h["tp"], h["fp"], h["tn"], h["fn"]), t
        assert c["cost_per_1000"][i] == pytest.approx(h["cost"])
        assert c["selection_rate"][i] == pytest.approx((h["tp"] + h["fp"]) / len(y))
        assert c["accuracy"][i] == pytest.approx((h["tp"] + h["tn"]) / len(y))
        if h["tp"] + h["fp"]:
            assert c["precision"][i] == pytest.approx(h["tp"] / (h["tp"] + h["fp"]))
        assert c["recall"][i] == pytest.approx(h["tp"] / y.sum())
        assert c["fpr"][i] == pytest.approx(h["fp"] / (len(y) - y.sum()))
    assert c["threshold"] == sorted(c["threshold"])


def test_cheapest_threshold_and_trivial_policies_by_brute_force(planted):
    p, y = planted
    m = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, n_boot=20, probabilities=True)
    cands, costs = brute_force(p, y, 1, 4)
    assert m["optimal"]["cost_per_1000"] == pytest.approx(costs.min())
    # the reported threshold realises that cost, and lies between the neighbouring distinct scores
    assert hand(p, y, m["optimal"]["threshold"], 1, 4)["cost"] == pytest.approx(costs.min())
    assert m["current"]["cost_per_1000"] == pytest.approx(hand(p, y, 0.5, 1, 4)["cost"])
    assert m["current"]["threshold"] == 0.5
    assert m["savings_per_1000"] == pytest.approx(hand(p, y, 0.5, 1, 4)["cost"] - costs.min())
    n, P = len(y), y.sum()
    assert m["flag_all_cost_per_1000"] == pytest.approx(1000 * 1 * (n - P) / n)
    assert m["flag_none_cost_per_1000"] == pytest.approx(1000 * 4 * P / n)
    cheaper = min(m["flag_all_cost_per_1000"], m["flag_none_cost_per_1000"])
    assert m["model_advantage_per_1000"] == pytest.approx(cheaper - costs.min())
    # calibrated probabilities: the empirical optimum sits near the cost-implied 1/(1+4)
    assert m["bayes"]["threshold"] == pytest.approx(0.2)
    assert m["bayes"]["cost_per_1000"] == pytest.approx(hand(p, y, 0.2, 1, 4)["cost"])
    assert abs(m["optimal"]["threshold"] - 0.2) < 0.06
    assert m["bayes"]["within_ci"] is True


def test_planted_far_threshold_warns_and_the_optimum_passes(planted):
    p, y = planted
    far = run_check(SPEC, ctx_from_scores(p, y, threshold=0.5))
    assert far.status == "warn", far.summary
    m = far.metrics
    assert m["savings_ci"][0] > 0 and m["savings_share"] >= 0.05
    assert "0.5" in far.summary and "less" in far.summary
    warn = [f for f in far.findings if f.severity == "warn"]
    assert warn and "Lowering the threshold from 0.5" in warn[0].message
    lo, hi = m["optimal"]["threshold_ci"]
    assert lo < 0.2 < hi and not lo <= 0.5 <= hi

    clean = run_check(SPEC, ctx_from_scores(p, y, threshold=0.2))
    assert clean.status == "pass", clean.summary
    assert clean.metrics["savings_ci"][0] <= 0
    assert not [f for f in clean.findings if f.severity != "info"]


def test_a_useless_model_fails():
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.3).astype(int)
    res = run_check(SPEC, ctx_from_scores(rng.random(2000), y, threshold=0.5, cost_fp=1, cost_fn=2))
    assert res.status == "fail", res.summary
    assert res.metrics["model_advantage_ci"][0] <= 0
    assert "pay for itself" in res.summary and "less than flagging no one" in res.summary


def test_all_scores_equal_only_trivial_policies():
    y = np.array([0, 1] * 100)
    res = run_check(SPEC, ctx_from_scores(np.full(200, 0.7), y, threshold=0.5))
    m = res.metrics
    assert res.status == "fail"
    assert m["distinct_scores"] == 1
    assert m["current"]["policy"] == "flag_all"  # 0.7 >= 0.5: everyone flagged
    assert m["optimal"]["policy"] in {"flag_all", "flag_none"}
    assert m["model_advantage_per_1000"] == 0
    assert any("same score" in f.message for f in res.findings)
    # flag everyone: 100 false positives; flag no one: 100 misses at 4 each
    assert m["flag_all_cost_per_1000"] == pytest.approx(500) and m["flag_none_cost_per_1000"] == pytest.approx(2000)
    assert m["optimal"]["policy"] == "flag_all" and m["optimal"]["cost_per_1000"] == pytest.approx(500)


def test_raw_decision_values_work_like_probabilities(planted):
    p, y = planted
    logit = np.log(p / (1 - p))  # monotone: the same cuts, thresholds outside [0, 1]
    raw = analyse_scores(logit, y, threshold=0.0, cost_fp=1, cost_fn=4, n_boot=50)
    prob = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, n_boot=50, probabilities=True)
    assert raw["bayes"] is None and raw["score_min"] < -3 and raw["score_max"] > 3
    assert raw["optimal"]["cost_per_1000"] == pytest.approx(prob["optimal"]["cost_per_1000"])
    assert raw["current"]["cost_per_1000"] == pytest.approx(prob["current"]["cost_per_1000"])
    assert hand(logit, y, raw["optimal"]["threshold"], 1, 4)["cost"] == pytest.approx(raw["optimal"]["cost_per_1000"])
    assert raw["savings_ci"] == pytest.approx(prob["savings_ci"])  # same resamples, same cuts
    assert verdict(raw) == verdict(prob) == "warn"
    # the check, on a prediction column of raw values
    res = run_check(SPEC, ctx_from_scores(logit, y, threshold=0.0))
    assert res.status == "warn" and res.metrics["scores_are_probabilities"] is False


def test_model_and_prediction_column_agree():
    x, p, y = calibrated(1500, seed=4)
    frame = pd.DataFrame({"x": x, "y": y})
    train, test = frame.iloc[:700], frame.iloc[700:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x"]], train["y"])
    settings = Settings(threshold=0.5, cost_fp=1, cost_fn=4, bootstrap=50)
    with_model = run_check(SPEC, make_ctx(train, test, target="y", model=model, settings=settings))
    test = test.assign(score=model.predict_proba(test[["x"]])[:, 1])
    with_column = run_check(SPEC, make_ctx(train.assign(score=0.5), test, target="y", prediction_column="score",
                                           settings=settings))
    a, b = with_model.metrics, with_column.metrics
    for key in ("current", "optimal", "savings_per_1000", "savings_ci", "bayes", "curve"):
        assert a[key] == pytest.approx(b[key]) if not isinstance(a[key], dict) else a[key] == b[key], key
    assert with_model.status == with_column.status


def test_target_accuracy_and_recall_by_brute_force(planted):
    p, y = planted
    m = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, target_accuracy=0.75, target_recall=0.9, n_boot=20)
    cands = np.append(np.unique(p), np.inf)
    acc = np.array([np.mean((p >= t) == (y == 1)) for t in cands])
    cost = np.array([hand(p, y, t, 1, 4)["cost"] for t in cands])
    ta = m["target_accuracy"]
    assert ta["reachable"] and ta["best_accuracy"] == pytest.approx(acc.max())
    assert ta["cost_per_1000"] == pytest.approx(cost[acc >= 0.75].min())
    assert np.mean((p >= ta["threshold"]) == (y == 1)) >= 0.75
    assert ta["accuracy_ci"][0] < ta["accuracy"] < ta["accuracy_ci"][1]
    rec = np.array([np.sum((p >= t) & (y == 1)) / y.sum() for t in cands])
    tr = m["target_recall"]
    highest = cands[np.flatnonzero(rec >= 0.9).max()]
    assert np.sum((p >= tr["threshold"]) & (y == 1)) / y.sum() == pytest.approx(rec[cands == highest][0])
    assert tr["recall"] >= 0.9
    nxt = cands[cands > highest][0]  # one distinct score higher no longer reaches the target
    assert np.sum((p >= nxt) & (y == 1)) / y.sum() < 0.9
    unreachable = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, target_accuracy=0.99, n_boot=20)
    assert unreachable["target_accuracy"]["reachable"] is False


def test_ties_keep_the_current_threshold_when_it_is_among_the_cheapest():
    # scores 0.1 (all negative), 0.5 (1 pos, 1 neg), 0.9 (all positive); costs 1:1
    scores = np.array([0.1] * 10 + [0.5, 0.5] + [0.9] * 10)
    y = np.array([0] * 10 + [1, 0] + [1] * 10)
    # flagging at 0.5 or at 0.9 both make exactly one mistake
    for t in (0.5, 0.9):
        m = analyse_scores(scores, y, threshold=t, cost_fp=1, cost_fn=1, n_boot=20)
        assert m["savings_per_1000"] == 0
        assert hand(scores, y, m["optimal"]["threshold"], 1, 1)["cost"] == pytest.approx(1000 / 22)
    assert 0.1 < analyse_scores(scores, y, threshold=0.5, cost_fp=1, cost_fn=1, n_boot=20)["optimal"]["threshold"] <= 0.5


def test_missing_scores_are_left_out_and_counted():
    _, p, y = calibrated(600, seed=5)
    p = p.copy()
    p[::50] = np.nan
    res = run_check(SPEC, ctx_from_scores(p, y, threshold=0.2))
    assert res.metrics["rows_without_score"] == 12 and res.metrics["n"] == 588
    assert any("no score" in f.message for f in res.findings)


def test_multiclass_and_regression_without_costs_are_skipped_with_the_reason():
    rng = np.random.default_rng(6)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "y": np.array(["lo", "mid", "hi"])[np.digitize(x, [-0.4, 0.4])]})
    model = LogisticRegression().fit(frame[["x"]], frame["y"])
    res = run_check(SPEC, make_ctx(frame.iloc[:200], frame.iloc[200:], target="y", model=model))
    assert res.status == "skipped" and "3 classes" in res.summary and "--cost-matrix" in res.summary
    frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.3, size=300)})
    model = LinearRegression().fit(frame[["x"]], frame["y"])
    res = run_check(SPEC, make_ctx(frame.iloc[:200], frame.iloc[200:], target="y", model=model))
    assert res.status == "skipped" and "--cost-over" in res.summary  # priced per unit once costs are set


@pytest.mark.parametrize("cfp, cfn, words", [(0, 0, "both 0"), (-1, 5, "cost_fp must be")])
def test_unusable_costs_are_skipped_with_the_reason(cfp, cfn, words):
    _, p, y = calibrated(300, seed=7)
    res = run_check(SPEC, ctx_from_scores(p, y, cost_fp=cfp, cost_fn=cfn))
    assert res.status == "skipped" and words in res.summary


def test_what_if_helpers(planted):
    p, y = planted
    ctx = ctx_from_scores(p, y, threshold=0.5, bootstrap=20)
    point = decision_at(ctx, 0.3, cost_fp=2, cost_fn=3)
    h = hand(p, y, 0.3, 2, 3)
    assert (point["tp"], point["fp"], point["fn"], point["tn"]) == (h["tp"], h["fp"], h["fn"], h["tn"])
    assert point["cost_per_1000"] == pytest.approx(h["cost"])
    q = per_thousand(point)
    assert q["tp"] + q["fp"] == q["flagged"] and q["fn"] + q["tn"] == q["passed"] and q["flagged"] + q["passed"] == 1000
    assert q["flagged"] == round(1000 * (h["tp"] + h["fp"]) / len(y))
    text = describe_decision(point, positive="y = yes")
    assert text.startswith(f"Of every 1,000 cases, the model flags {q['flagged']:,}: {q['tp']:,} of them truly are y = yes")
    assert f"{q['fn']:,} truly are y = yes and are missed" in text
    # other costs move the optimum the way the cost ratio says: 1:1 -> about 0.5
    m = analyse(ctx, cost_fp=1, cost_fn=1)
    assert m["bayes"]["threshold"] == 0.5 and abs(m["optimal"]["threshold"] - 0.5) < 0.08
    assert analyse(ctx, target_recall=0.8)["target_recall"]["recall"] >= 0.8


def test_sample_threshold_is_not_the_cheapest(sample_ctx):
    res = run_check(SPEC, sample_ctx)
    m = res.metrics
    assert res.status != "error"
    assert m["current"]["threshold"] == 0.5 and m["cost_fp"] == 1 and m["cost_fn"] == 5
    assert m["optimal"]["threshold"] < 0.5 and m["savings_per_1000"] > 0
    assert m["bayes"]["threshold"] == pytest.approx(1 / 6)
    json.dumps(m, allow_nan=False)


def test_fast_on_50k_rows():
    _, p, y = calibrated(50_000, seed=8)
    start = time.perf_counter()
    m = analyse_scores(p, y, threshold=0.5, cost_fp=1, cost_fn=4, target_accuracy=0.8, target_recall=0.9,
                       probabilities=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 6, elapsed
    assert len(m["curve"]["threshold"]) <= 205 and m["bootstrap"]["used"] == 200
    assert not math.isnan(m["optimal"]["cost_per_1000"])


# --- issue 16: the fail summary is worded from its numbers, every branch -----------------------


def test_no_gain_summary_every_branch():
    """'costs 440 …, no less than flagging everyone (700)' contradicted its own numbers. Each branch of
    the comparison word, from hand-made metrics: less (with the saving and its interval), the same
    (as printed), more."""
    from readiness.checks.business import compared, no_gain_summary

    def metrics(opt, triv, ci):
        return {"optimal": {"cost_per_1000": opt}, "cheaper_trivial": "flag_all", "flag_all_cost_per_1000": triv,
                "model_advantage_ci": ci}

    less = no_gain_summary(metrics(440.0, 700.0, [-20.0, 540.0]), "per 1,000 decisions")
    assert "costs 440 per 1,000 decisions, less than flagging everyone (700)" in less
    assert "saving of 260 is real (95% interval −20 to 540 on new data)" in less and "no less" not in less  # one precision
    same = no_gain_summary(metrics(700.2, 700.4, [-3.0, 3.0]), "per 1,000 decisions")
    assert "the same as flagging everyone (700): on this holdout the model does not pay for itself." in same
    more = no_gain_summary(metrics(710.0, 700.0, [-30.0, -1.0]), "per 1,000 decisions")
    assert "more than flagging everyone (700)" in more
    assert [compared(a, b) for a, b in ((1, 2), (2.0, 2.04), (3, 2))] == ["less than", "the same as", "more than"]


def test_fail_summary_on_a_real_holdout_agrees_with_its_numbers():
    """A weak model on a small holdout: cheaper than the trivial policy on the holdout, but not shown to
    be on new data -> fail, and the summary says 'less than', never 'no less than'."""
    rng = np.random.default_rng(13)
    n = 600
    y = (rng.random(n) < 0.3).astype(int)
    scores = np.clip(0.3 + 0.02 * (y - 0.3) + 0.25 * rng.standard_normal(n), 0, 1)
    res = run_check(SPEC, ctx_from_scores(scores, y, threshold=0.5, cost_fp=1, cost_fn=3))
    m = res.metrics
    opt, triv = m["optimal"]["cost_per_1000"], m[f"{m['cheaper_trivial']}_cost_per_1000"]
    assert res.status == "fail" and m["model_advantage_ci"][0] <= 0
    word = "less than" if round(opt) < round(triv) else "the same as"
    assert word in res.summary and "no less" not in res.summary


# --- issue 18: an honest model that ranks cases is not 'of no use' because flagging does not pay ---------


def _weak_honest(n=4000, prevalence=0.1, signal=0.6, seed=0):
    """True probabilities of a weak, honest signal with rare positives: the Bayes-optimal scores."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    b = np.log(prevalence / (1 - prevalence))
    p = 1 / (1 + np.exp(-(b + signal * x)))
    return p, (rng.random(n) < p).astype(int)


def test_true_probabilities_that_cannot_beat_flagging_no_one_are_not_a_failure():
    """The true probability is the best any model can do; at equal costs and 10% positives with a weak
    signal, flagging no one is (nearly) as cheap. Without costs that is not judged (pass, info); with the
    reviewer's costs it is a question for the business (warn); never 'the model is of no use' (fail)."""
    from sklearn.metrics import roc_auc_score

    p, y = _weak_honest()
    assert roc_auc_score(y, p) > 0.6  # sklearn: the scores rank cases
    # by hand: at equal costs the best threshold is no cheaper than flagging no one by much
    cands, costs = brute_force(p, y, 1, 1)
    assert costs.min() > 0.97 * hand(p, y, np.inf, 1, 1)["cost"]
    unset = run_check(SPEC, ctx_from_scores(p, y, cost_fp=1, cost_fn=1))
    m = unset.metrics
    assert m["ranks_cases"] and m["roc_auc_ci"][0] > 0.5 and not m["costs_set"]
    assert m["roc_auc_ci"][0] < roc_auc_score(y, p) < m["roc_auc_ci"][1]
    assert m["model_advantage_ci"][0] <= 0
    assert unset.status == "pass", unset.summary
    assert "No costs were set" in unset.summary and "pay for itself" not in unset.summary
    set_ = run_check(SPEC, ctx_from_scores(p, y, cost_fp=1, cost_fn=1.5))
    if set_.metrics["model_advantage_ci"][0] <= 0:
        assert set_.status == "warn" and "At your costs" in set_.summary


def test_random_scores_still_fail_without_costs():
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.1).astype(int)
    res = run_check(SPEC, ctx_from_scores(rng.random(3000), y, cost_fp=1, cost_fn=1))
    assert not res.metrics["ranks_cases"] and res.metrics["roc_auc_ci"][1] < 0.6
    assert res.status == "fail" and "pay for itself" in res.summary


def test_a_holdout_too_small_to_tell_warns_instead_of_failing():
    """An honest weak signal on 234 holdout rows: neither a cost advantage nor a ranking can be shown, nor
    ruled out (the AUC interval reaches both 0.5 and 0.6): warn, saying more cases would settle it."""
    from sklearn.metrics import roc_auc_score

    p, y = _weak_honest(n=234, signal=0.5, seed=4)
    res = run_check(SPEC, ctx_from_scores(p, y, cost_fp=1, cost_fn=1))
    lo, hi = res.metrics["roc_auc_ci"]
    assert lo <= 0.5 and hi >= 0.6 and lo < roc_auc_score(y, p) < hi
    assert res.metrics["model_advantage_ci"][0] <= 0
    assert res.status == "warn" and any("more labelled cases" in f.message for f in res.findings)


def test_the_roundest_thresholds_are_found_for_every_gap_at_once():
    from readiness.checks.business import round_between, round_between_many

    # known answers: the fewest decimals that land strictly above lo and at most hi
    lows = np.array([0.1234, 0.15, -0.5, 0.0, 999.0, -2.0, 1e-9, -1e-9])
    highs = np.array([0.2, 0.16, -0.25, 0.004, 1000.5, -0.0, 3e-9, 0.0])
    want = [0.2, 0.16, -0.3, 0.004, 1000.0, 0.0, 3e-9, 0.0]
    got = round_between_many(lows, highs)
    assert got.tolist() == want and not np.signbit(got[5]) and not np.signbit(got[7])
    # and bit for bit the scalar rule on the gaps between a holdout's distinct scores
    rng = np.random.default_rng(1)
    u = np.unique(np.concatenate([rng.random(3000), rng.normal(0, 1e3, 500), rng.normal(0, 1e-6, 500), [0.0, 0.5]]))
    lows, highs = np.concatenate([[u[0] - 1.0], u]), np.concatenate([u, [u[-1] + 1.0]])
    scalar = np.array([round_between(float(a), float(b)) for a, b in zip(lows, highs, strict=True)])
    assert round_between_many(lows, highs).tobytes() == scalar.tobytes()
    assert round_between_many(np.array([]), np.array([])).size == 0
