"""Which outcome is good for the person: the favourable label, the harmed side, the reference
group, downgrades, and calibration on honest data.

Expected numbers come from pandas or closed forms written here, never from the check's output.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx

from readiness.checks import bias as B
from readiness.checks import bias_stats as S
from readiness.errors import ReadinessError
from readiness.inputs import Settings
from readiness.registry import get_check
from readiness.review import run_check

ROOT = Path(__file__).resolve().parent.parent
GROUPS = get_check("bias.groups")
CATS = get_check("bias.categories")


def _flag(res, attr, group, metric):
    return next(f for f in res.metrics["disparities"][attr]["groups"][group]["flags"] if f["metric"] == metric)


# --- the directed rates are the familiar ones, read the right way round ---------------------------------


def test_directed_rates_map_to_fpr_fnr_for_fdr():
    m = {"tp": 30, "fp": 10, "fn": 20, "tn": 40, "n": 100}
    # positive adverse (e.g. re-arrest): favourable = predicted negative; false-adverse = FPR; benefit of doubt = FNR
    assert S.rate_counts(m, "favorable_rate", False)[:3] == (60, 100, "1 - selection_rate")
    assert S.rate_counts(m, "false_adverse_rate", False)[:3] == (10, 50, "fpr")
    assert S.rate_counts(m, "false_favorable_rate", False)[:3] == (20, 50, "fnr")
    assert S.rate_counts(m, "false_adverse_discovery_rate", False)[:3] == (10, 40, "fdr")
    # positive favourable (e.g. loan approved): false-adverse = FNR; benefit of doubt = FPR; FOR
    assert S.rate_counts(m, "favorable_rate", True)[:3] == (40, 100, "selection_rate")
    assert S.rate_counts(m, "false_adverse_rate", True)[:3] == (20, 50, "fnr")
    assert S.rate_counts(m, "false_favorable_rate", True)[:3] == (10, 50, "fpr")
    assert S.rate_counts(m, "false_adverse_discovery_rate", True)[:3] == (20, 60, "for")
    with pytest.raises(ValueError):
        S.rate_counts(m, "favorable_rate", None)


def test_newcombe_p_agrees_with_the_interval():
    for args in [(56, 70, 48, 80), (3, 10, 7, 12), (40, 200, 20, 210), (5, 50, 5, 50)]:
        p = S.newcombe_p(*args)
        for alpha in (0.5 * p, 2 * p):
            if not 0 < alpha < 1:
                continue
            _, (lo, hi) = S.newcombe_diff(*args, alpha=alpha)
            assert (lo > 0 or hi < 0) == (p < alpha), (args, alpha, p)
    assert S.newcombe_p(5, 50, 5, 50) == 1.0


# --- loan approval: positive is favourable, so FNR is the harm and four-fifths runs on approvals -----------


def loan(seed=3, n=4000, tpr_f=0.6):
    """approved = 1 is good for the applicant. Among those who deserve approval (y = 1), men are approved 90%,
    women tpr_f; among those who do not, both 20%."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    y = (rng.random(n) < 0.6).astype(int)
    approve = np.where(y == 1, rng.random(n) < np.where(sex == "f", tpr_f, 0.9), rng.random(n) < 0.2)
    return pd.DataFrame({"sex": sex, "x": rng.normal(size=n), "approved": y, "score": np.where(approve, 0.8, 0.2)})


def test_loan_approval_names_women_and_uses_fnr():
    df = loan()
    ctx = make_ctx(df, df, target="approved", prediction_column="score", positive_label=1, favorable_label=1,
                   sensitive=["sex"], settings=Settings(bootstrap=20))
    res = run_check(GROUPS, ctx)
    pred = df["score"] >= 0.5
    approval = pred.groupby(df["sex"]).mean()
    fnr = (~pred[df.approved == 1]).groupby(df.loc[df.approved == 1, "sex"]).mean()
    assert res.metrics["reference"]["sex"] == "m"  # the most advantaged: the higher approval rate
    fa = _flag(res, "sex", "f", "false_adverse_rate")
    assert fa["rate"] == "fnr" and fa["disadvantaged"] == "f" and fa["severity"] == "fail"
    assert (fa["group_value"], fa["reference_value"]) == pytest.approx((fnr["f"], fnr["m"]), abs=1e-12)
    ff = _flag(res, "sex", "f", "favorable_rate")
    assert ff["rate"] == "selection_rate" and ff["disadvantaged"] == "f"
    assert ff["ratio"] == pytest.approx(approval["f"] / approval["m"], abs=1e-12) and ff["ratio"] < 0.8
    assert "People with sex = f are predicted the favourable outcome (approved = 1) at " \
           f"{approval['f'] / approval['m']:.2f} the rate of people with sex = m" in ff["message"]
    assert "wrongly predicted the adverse outcome (approved = 0)" in fa["message"] and "false negative rate" in fa["message"]
    # the FPR gap here is zero by construction: nothing flagged on the benefit of the doubt
    assert not any(f["metric"] == "false_favorable_rate" for f in
                   res.metrics["disparities"]["sex"]["groups"]["f"]["flags"])
    assert res.status == "fail" and "sex = f" in res.summary


def test_clean_control_with_equal_rates_passes_in_both_directions():
    df = loan(seed=4, tpr_f=0.9)
    for fav in (1, 0, None):
        ctx = make_ctx(df, df, target="approved", prediction_column="score", positive_label=1, favorable_label=fav,
                       sensitive=["sex"], settings=Settings(bootstrap=20))
        res = run_check(GROUPS, ctx)
        assert res.status == "pass", (fav, res.summary)
        assert not [f for f in res.findings if f.severity != "info"]


def test_sample_says_women_are_flagged_more_often():
    from readiness.sample import load_sample

    ctx = load_sample()
    assert ctx.roles.favorable_label == 0  # default = 0: the loan is repaid, good for the applicant
    res = run_check(GROUPS, ctx)
    test = ctx.test
    flagged = pd.Series(np.asarray(ctx.test_scores) >= ctx.settings.threshold).groupby(test["sex"].to_numpy()).mean()
    head = res.metrics["selection"]["sex"]
    assert head["disadvantaged"] == "female" and head["advantaged"] == "male"
    assert head["message"].startswith(
        f"People with sex = female are predicted the adverse outcome (default = 1) "
        f"{flagged['female'] / flagged['male']:.1f}× as often as people with sex = male")
    assert any(f.message == head["message"] for f in res.findings)


def test_downgrades_are_explained():
    # a 12-row group flagged far more often: the gap is real but the group is small; a 3-case rate cannot be judged
    rows = [("A", 1, 0.9)] * 40 + [("A", 1, 0.1)] * 10 + [("A", 0, 0.9)] * 5 + [("A", 0, 0.1)] * 45
    rows += [("B", 1, 0.9)] * 1 + [("B", 1, 0.1)] * 2 + [("B", 0, 0.9)] * 5 + [("B", 0, 0.1)] * 42
    df = pd.DataFrame(rows, columns=["g", "y", "score"])
    ctx = make_ctx(df, df, target="y", prediction_column="score", favorable_label=0, sensitive=["g"],
                   settings=Settings(bootstrap=20, reference_groups={"g": "A"}))
    res = run_check(GROUPS, ctx)
    f = _flag(res, "g", "B", "false_favorable_rate")  # B: 2 of 3 re-offenders not flagged vs A: 10 of 50
    assert f["few_cases"] == {"side": "group", "cases": 3, "kind": "adverse_actual"} and f["severity"] == "info"
    gap = round(100 * abs(2 / 3 - 10 / 50))
    assert f"only 3 people with actual y = 1 in g = B: the {gap}-point gap cannot be judged" in f["message"]


def test_reference_group_is_selectable_and_validated(tmp_path):
    df = loan()
    ctx = make_ctx(df, df, target="approved", prediction_column="score", favorable_label=1, sensitive=["sex"],
                   settings=Settings(bootstrap=20, reference_groups={"sex": "f"}))
    res = run_check(GROUPS, ctx)
    assert res.metrics["reference"]["sex"] == "f" and res.metrics["reference_source"]["sex"] == "chosen"
    assert _flag(res, "sex", "m", "false_adverse_rate")["disadvantaged"] == "f"  # never inverted
    bad = make_ctx(df, df, target="approved", prediction_column="score", sensitive=["sex"],
                   settings=Settings(reference_groups={"sex": "x"}))
    with pytest.raises(ReadinessError, match="'x' is not a group of 'sex'"):
        B.validate_reference_groups(bad)
    with pytest.raises(ReadinessError, match="not a sensitive attribute"):
        B.validate_reference_groups(make_ctx(df, df, target="approved", prediction_column="score", sensitive=["sex"],
                                             settings=Settings(reference_groups={"age": "x"})))
    with pytest.raises(ReadinessError, match="ATTRIBUTE=GROUP"):
        B.parse_reference_groups(["sex"])
    with pytest.raises(ReadinessError, match="not a value of target"):
        make_ctx(df, df, target="approved", prediction_column="score", favorable_label="yes", sensitive=["sex"])


def test_cli_favorable_label_and_reference_group(tmp_path):
    df = loan(n=1500)
    df.to_csv(tmp_path / "loan.csv", index=False)
    base = [sys.executable, "-m", "readiness.cli", "review", "--train", tmp_path / "loan.csv", "--test",
            tmp_path / "loan.csv", "--target", "approved", "--prediction-column", "score", "--sensitive", "sex",
            "--check", "bias.groups"]
    run = subprocess.run([*map(str, base), "--favorable-label", "1", "--reference-group", "sex=f", "--json", "-"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    check = json.loads(run.stdout)["checks"][0]
    assert check["metrics"]["favorable_label"] == 1 and check["metrics"]["reference"]["sex"] == "f"
    flags = check["metrics"]["disparities"]["sex"]["groups"]["m"]["flags"]
    assert {f["disadvantaged"] for f in flags if f["severity"] != "info"} == {"f"}
    for extra, needle in [(["--reference-group", "sex=z"], "is not a group of 'sex'"),
                          (["--favorable-label", "7"], "Favourable label '7'")]:
        bad = subprocess.run([*map(str, base), *extra, "--quiet"], capture_output=True, text=True, cwd=ROOT,
                             timeout=300)
        assert bad.returncode == 2 and needle in bad.stderr and "Traceback" not in bad.stderr


# --- honest data: equal true rates across groups, finite samples -------------------------------------------


def honest(seed: int):
    """Groups of 8%+ share, equal base rates and equal score distributions given the label; a favourable label
    in two thirds of the seeds (0 or 1), none in the rest. Scores are not calibrated (a bias check must not
    mistake a model miscalibrated alike for everyone for a group failure)."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([600, 1500, 4000]))
    k = int(rng.integers(2, 5))
    shares = rng.dirichlet(np.full(k, 2.0)) + 0.1
    shares /= shares.sum()
    base, strength = rng.uniform(0.1, 0.5), rng.uniform(0.8, 2.5)

    def frame(m):
        y = (rng.random(m) < base).astype(int)
        z = strength * (y - 0.5) + rng.normal(size=m) + np.log(base / (1 - base))
        return pd.DataFrame({"a": rng.choice([f"a{i}" for i in range(k)], m, p=shares),
                             "b": rng.choice(["b0", "b1", "b2"], m, p=[0.5, 0.3, 0.2]),
                             "y": y, "score": 1 / (1 + np.exp(-z))})

    answers = {"intended_use": "x", "affected_population": "y", "human_oversight": "all", "population_match": "yes",
               "recourse": "yes"}
    return make_ctx(frame(n), frame(n), target="y", prediction_column="score", favorable_label=[None, 0, 1][seed % 3],
                    sensitive=["a", "b"], settings=Settings(bootstrap=20, reviewer_answers=answers))


def _alarm_rates(check, seeds):
    statuses = [run_check(check, honest(s)).status for s in seeds]
    return sum(s == "warn" for s in statuses) / len(statuses), sum(s == "fail" for s in statuses) / len(statuses)


def test_honest_data_rarely_alarms_quick():
    warn, fail = _alarm_rates(GROUPS, range(12))
    assert fail == 0 and warn <= 1 / 12


@pytest.mark.slow
@pytest.mark.parametrize("check", [GROUPS, CATS], ids=["bias.groups", "bias.categories"])
def test_honest_data_warns_under_5_percent_and_never_fails(check):
    warn, fail = _alarm_rates(check, range(200))
    assert warn < 0.05 and fail < 0.01, (warn, fail)


def test_a_gap_said_as_a_size_has_its_interval_in_the_same_direction():
    """Issue 12 (COMPAS walk): '13.2-point gap, 95% interval -18.1 to -8.2' read as a contradiction."""
    from readiness.checks.bias import _gap_text

    assert _gap_text({"difference": -0.132, "ci": [-0.181, -0.082]}) == "13.2-point gap, 95% interval +8.2 to +18.1"
    assert _gap_text({"difference": 0.132, "ci": [0.082, 0.181]}) == "13.2-point gap, 95% interval +8.2 to +18.1"
    # an interval across zero keeps both signs, in the gap's direction
    assert _gap_text({"difference": -0.2, "ci": [-0.418, 0.112]}) == "20.0-point gap, 95% interval -11.2 to +41.8"
