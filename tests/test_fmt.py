"""Numbers for people (readiness.fmt): known answers written out by hand."""

from __future__ import annotations

import math

import pytest

from readiness import fmt


@pytest.mark.parametrize("p,text", [(7.97e-111, "p < 0.001"), (0.000999, "p < 0.001"), (0.001, "p = 0.001"),
                                    (0.0042, "p = 0.004"), (0.21011, "p = 0.21"), (1.0, "p = 1.00"),
                                    (0.0004, "p < 0.001"), (0.0321, "p = 0.032"), (0.0994, "p = 0.099"),
                                    (None, "p not available"), (math.nan, "p not available")])
def test_p_text(p, text):
    assert fmt.p_text(p) == text


def test_a_q_value_reads_like_a_p_value():
    """The Where-it-fails page printed 'q = < 0.001': the one helper names the value and never puts
    '=' before '<'."""
    assert fmt.p_text(3.2e-9, "q") == "q < 0.001"
    assert fmt.p_text(0.0312, "q") == "q = 0.031"
    assert fmt.p_value(0.0004) == "< 0.001" and fmt.p_value(0.0321) == "0.032"


@pytest.mark.parametrize("x,text", [(0.08633487, "0.0863"), (0.8919696, "0.892"), (1234.6, "1,235"),
                                    (1.199e-14, "< 0.001"), (-3e-9, "> −0.001"), (-0.0058083, "−0.00581"),
                                    (3.4e9, "3.4 billion"), (12_500_000.0, "12.5 million"), (0, "0"), (5012, "5,012"),
                                    (2.061053, "2.06"), (150.0, "150"), (None, "–"), (math.inf, "–"),
                                    (1.5e18, "1,500,000 trillion")])
def test_number(x, text):
    assert fmt.number(x) == text


@pytest.mark.parametrize("n,text", [(4, "4"), (1033, "1,033"), (42_000_000, "42 million"), (1e34, "practically unlimited"),
                                    (None, "–")])
def test_count(n, text):
    assert fmt.count(n) == text


@pytest.mark.parametrize("x,text", [(0.1234, "12.3%"), (0.0004, "< 0.1%"), (0.0, "0.0%"), (0.99996, "> 99.9%"),
                                    (1.0, "100.0%"), (None, "–")])
def test_percent(x, text):
    assert fmt.percent(x) == text


@pytest.mark.parametrize("rows,of,text", [(5, 10_000, "< 0.1%"), (9_998, 10_000, "> 99.9%"), (10_000, 10_000, "100.0%"),
                                          (0, 10_000, "0.0%"), (1_234, 10_000, "12.3%"), (10, 10_000, "0.1%")])
def test_shares_of_a_few_rows(rows, of, text):
    """pct (used by the checks and pages) and percent are one formatter: 5 rows of 10,000 are not
    '0.0%', 9,998 of 10,000 are not all of them."""
    assert fmt.pct(rows / of) == fmt.percent(rows / of) == text


def test_a_change_that_is_none_says_so():
    assert fmt.change("128", "128") == "128 (no change)"
    assert fmt.change("12.0%", "9.5%") == "from 12.0% to 9.5%"
    assert fmt.change("3", "4", arrow=True) == "3 → 4"


def test_signed_points_and_intervals():
    assert fmt.signed(0.0064517) == "+0.00645" and fmt.signed(-0.2) == "−0.2"
    assert fmt.points(-0.0058083) == "−0.6 points" and fmt.points(0.0) == "0.0 points"
    assert fmt.interval([0.868, 0.916]) == "0.868–0.916"
    assert fmt.interval([-0.014, 0.0024]) == "−0.01400 to 0.00240"  # one number of decimals for both bounds
    assert fmt.interval([None, 1]) == "" and fmt.interval("x") == ""
    for value in (7.97e-111, 1e34, 2.8e-20, 1.7e-76):  # never scientific notation
        for f in (fmt.number, fmt.count, fmt.p_value, fmt.percent):
            assert "e-" not in f(value) and "e+" not in f(value) and "^" not in f(value)


def test_sizes_and_budgets():
    assert fmt.byte_size(812) == "812 bytes" and fmt.byte_size(453_222) == "442.6 KB"
    assert fmt.byte_size(3 * 1024 ** 2) == "3.0 MB" and fmt.byte_size(None) == "unknown"
    assert fmt.budget_share(0.42) == "42.0%" and fmt.budget_share(1.628) == "1.6 ×" and fmt.budget_share(None) == "–"


def test_percent_intervals_have_plain_bounds():
    """'< 0.1%–0.8%' reads as a range of its own: an interval's bounds are plain percentages."""
    assert fmt.interval([0.0004, 0.008], fmt.pct) == "0.0%–0.8%"
    assert fmt.interval([0.9, 0.99996], fmt.percent) == "90.0%–100.0%"
    assert fmt.pct(0.0004) == "< 0.1%"  # a value on its own still is never shown as zero


def test_weak_segment_values_carry_their_unit():
    """A cost per decision reads per 1,000 decisions, as the Business threshold page states costs."""
    assert fmt.segment_value("cost per decision", 0.344) == "344 per 1,000 decisions"
    assert fmt.segment_value("cost per decision", 0.0125) == "12.5 per 1,000 decisions"
    assert fmt.segment_value("accuracy", 0.8123) == "81.2%"
    assert fmt.segment_value("mean absolute error", 1.23456) == "1.235"
    assert fmt.segment_interval("cost per decision", 0.3, 0.412) == "300–412 per 1,000 decisions"
    assert fmt.segment_interval("accuracy", 0.0004, 0.008) == "0.0%–0.8%"
    assert fmt.segment_interval("accuracy", 0.9, 0.99996) == "90.0%–100.0%"  # never '90.0–> 99.9%'
    assert fmt.segment_interval("mean absolute error", -0.5, 1.25) == "−0.5000 to 1.2500"  # 4 significant digits
    # with the value, the observed error and its bounds share one number of decimals (issue 23)
    assert fmt.segment_interval("mean absolute error", 11.2, 13.5, value=12.3) == "11.20–13.50"
    assert fmt.segment_value("mean absolute error", 12.3, ci=[11.2, 13.5]) == "12.30"
    assert fmt.segment_value("cost per decision", 0.35, ci=[0.3, 0.412]) == "350 per 1,000 decisions"
    assert fmt.segment_interval("cost per decision", 0.3, 0.412, value=0.35) == "300–412 per 1,000 decisions"
    assert fmt.segment_value("accuracy", None) == "–" and fmt.segment_interval("accuracy", None, 1) == "–"
    assert fmt.SEGMENT_SCALE["cost per decision"] * 0.344 == 344.0


def test_a_score_beside_its_threshold_never_reads_as_the_threshold():
    """Issue 12 (Adult walk): LIME's closest call read 'score 0.5 · predicted <=50K' at the threshold 0.5."""
    from readiness.fmt import beside

    assert beside(0.49962, 0.5) == "0.4996" and float(beside(0.49962, 0.5)) < 0.5
    assert beside(0.500049, 0.5) == "0.50005" and beside(0.5, 0.5) == "0.5"
    assert beside(0.123456, 0.5) == "0.123" and beside(0.6, 0.5) == "0.6"


def test_counted_says_one_or_many():
    from readiness.fmt import counted

    assert (counted(1, "group gap"), counted(8, "group gap"), counted(1033, "row")) == ("1 group gap", "8 group gaps",
                                                                                        "1,033 rows")


# Issue 23: a value and its interval bounds share one number of decimals, chosen once (fmt.decimals): three
# significant digits of the value, never more than one decimal beyond three significant digits of the largest
# figure. The expected strings are written out by hand, not produced by the code.
@pytest.mark.parametrize(("value", "ci", "text"), [
    (56.7, (50.5, 62.0), "56.7 (50.5–62.0)"),                 # was '56.7 (50.5–62)'
    (0.999, (0.998, 1.0), "0.999 (0.998–1.000)"),             # was '0.999 (0.998–1)'
    (-3.27, (-16.3, 9.73), "−3.27 (−16.30 to 9.73)"),         # was '−3.27 (−16.3 to 9.73)'
    (12, (11.0, 13.0), "12.0 (11.0–13.0)"),
    (0.868, (0.8431, 0.916), "0.868 (0.843–0.916)"),
    (1234.5, (1100.0, 1400.2), "1,234 (1,100–1,400)"),         # thousands separators, no decimals
    (0.0012, (-5.0, 5.0), "0.001 (−5.000 to 5.000)"),         # a value near 0 in a wide interval: capped
    (0.0, (-0.02, 0.05), "0.0000 (−0.0200 to 0.0500)"),      # at 0 the nearer bound sets the decimals
    (0.0004, (0.0001, 0.0008), "0.000400 (0.000100–0.000800)"),  # small, never an exponent
    (-0.00004, (-0.0001, 0.00002), "−0.000040 (−0.000100 to 0.000020)"),  # at most six decimals
    (2.5e6, (2.0e6, 3.0e6), "2.5 million (2 million–3 million)"),  # millions read in words, as fmt.number
    (0.5, None, "0.5"),                                       # no interval: the value alone, as fmt.number
    (0.5, (None, 0.7), "0.5"),
    (None, (0.1, 0.2), "–"),
])
def test_a_value_and_its_interval_share_one_number_of_decimals(value, ci, text):
    assert fmt.with_interval(value, ci) == text


@pytest.mark.parametrize(("value", "ci", "text"), [
    (0.0064, (-0.0021, 0.0149), "+0.00640 (−0.00210 to 0.01490)"),
    (-0.2, (-0.35, -0.05), "−0.200 (−0.350 to −0.050)"),
    (0.00001, (-0.004, 0.004), "+0.000010 (−0.004000 to 0.004000)"),
])
def test_a_signed_value_keeps_its_sign_and_the_shared_decimals(value, ci, text):
    assert fmt.with_interval(value, ci, sign=True) == text


def test_the_shared_decimals_are_the_same_on_the_value_and_both_bounds():
    """Property: whatever the scale, the three numbers have the same count of decimals and each is its float
    rounded half-to-even at that many places (an independent computation with the decimal module)."""
    import random
    import re
    from decimal import ROUND_HALF_EVEN, Decimal

    rng = random.Random(23)
    for _ in range(500):
        scale = 10 ** rng.uniform(-3, 5)
        v = rng.uniform(-1, 1) * scale
        half = abs(rng.gauss(0, 1)) * scale + 1e-9
        ci = (v - half * rng.uniform(0.2, 1.5), v + half * rng.uniform(0.2, 1.5))
        text = fmt.with_interval(v, ci)
        nums = re.findall(r"[−-]?[\d,]+(?:\.(\d+))?", text)
        figures = re.findall(r"[−-]?[\d,]+(?:\.\d+)?", text)
        assert len(figures) == 3, text
        places = {len(d) for d in nums}
        assert len(places) == 1, text
        q = Decimal(1).scaleb(-places.pop())
        for shown, x in zip(figures, (v, *ci), strict=True):
            expect = Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_EVEN)
            assert Decimal(shown.replace("−", "-").replace(",", "")) == expect or expect == 0, (text, x)


def test_an_interval_alone_shares_its_decimals_and_percent_intervals_keep_theirs():
    assert fmt.interval([50.5, 62.0]) == "50.5–62.0"
    assert fmt.interval([0.998, 1.0]) == "0.998–1.000"  # bounds that differ never read the same
    assert fmt.interval([50.5, 62.0], value=56.7) == "50.5–62.0"
    assert fmt.interval([0.4, 0.6], fmt.pct) == "40.0%–60.0%"  # percent: fixed one decimal, unchanged
    assert fmt.decimals(56.7, (50.5, 62.0)) == 1 and fmt.decimals(None, None) is None
    assert fmt.estimate(62, (50.5, 70.1)) == "62.0" and fmt.fixed(-0.0001, 2) == "0.00"


def test_a_regression_weak_segment_reads_its_error_and_interval_at_one_number_of_decimals():
    """Issue 23: 'mean absolute error 12.3, … 95% interval 11.2–13.5' read with 4 significant digits and trailing
    zeros dropped on each figure apart; the error and its bounds now share the error's four significant digits."""
    from readiness.checks.segments import _sentence

    e = {"definition": "bmi above 30", "metric": "mean absolute error", "value": 12.3, "expected": 10.04,
         "overall": 9.9, "bias": 2.5, "n_holdout": 40, "share": 0.1, "ci": [11.2, 13.5], "q_value": 0.01}
    text = _sentence(e, hard=False)
    assert "(mean absolute error 12.30, 10.04 without that bias)" in text and "95% interval 11.20–13.50" in text


def test_a_cost_and_its_interval_share_one_number_of_decimals():
    """Business threshold (issue 23): '95.3' beside '80.1 to 102' read at three precisions."""
    from readiness.checks.business import fmt_cost, fmt_costs

    assert fmt_costs(95.3, [80.1, 102.4]) == ("95", "95% interval 80 to 102")
    assert fmt_costs(12.34, [-3.21, 25.0]) == ("12.3", "95% interval −3.2 to 25.0")
    assert fmt_costs(0.0123, [0.0049, 0.0456]) == ("0.0123", "95% interval 0.0049 to 0.0456")
    assert fmt_costs(5.0, [None, None])[1] == "interval not available"
    assert fmt_cost(95.3) == "95.3" and fmt_cost(1234.5) == "1,234"  # alone: as before
