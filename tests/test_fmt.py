"""Numbers for people (readiness.fmt): known answers written out by hand."""

from __future__ import annotations

import math

import pytest

from readiness import fmt


@pytest.mark.parametrize("p,text", [(7.97e-111, "p < 0.001"), (0.000999, "p < 0.001"), (0.001, "p = 0.001"),
                                    (0.0042, "p = 0.004"), (0.21011, "p = 0.21"), (1.0, "p = 1.00"),
                                    (None, "p = –"), (math.nan, "p = –")])
def test_p_text(p, text):
    assert fmt.p_text(p) == text


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


def test_signed_points_and_intervals():
    assert fmt.signed(0.0064517) == "+0.00645" and fmt.signed(-0.2) == "−0.2"
    assert fmt.points(-0.0058083) == "−0.6 points" and fmt.points(0.0) == "0.0 points"
    assert fmt.interval([0.868, 0.916]) == "0.868–0.916"
    assert fmt.interval([-0.014, 0.0024]) == "−0.014 to 0.0024"
    assert fmt.interval([None, 1]) == "" and fmt.interval("x") == ""
    for value in (7.97e-111, 1e34, 2.8e-20, 1.7e-76):  # never scientific notation
        for f in (fmt.number, fmt.count, fmt.p_value, fmt.percent):
            assert "e-" not in f(value) and "e+" not in f(value) and "^" not in f(value)
