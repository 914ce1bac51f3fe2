"""The SHAP beeswarm and dependence charts: every point the check stored is drawn once, where it belongs.

The charts draw with WebGL (``scattergl``): thousands of SVG dots made the Explanations page switch take
2-3 s in the browser (docs/performance.md). These tests compare the figure's data with the check's stored
points, computed independently here."""

from __future__ import annotations

import numpy as np

from readiness.charts.explanations import beeswarm, dependence
from readiness.results import CheckResult, Status


def _result(n_num: int = 1200, n_cat: int = 30) -> CheckResult:
    rng = np.random.default_rng(3)
    shap_num = rng.normal(size=n_num).round(4).tolist()
    pct = rng.uniform(size=n_num).round(3).tolist()
    pct[5] = None  # a missing value: drawn grey, not as a mid-range colour
    points = {
        "income": {"numeric": True, "shap": shap_num, "pct": pct, "value": list(range(n_num))},
        "region": {"numeric": False, "shap": rng.normal(size=n_cat).round(4).tolist(), "pct": None,
                   "value": ["north", "south", "east"] * (n_cat // 3)},
    }
    return CheckResult(id="explanations.shap", title="SHAP", status=Status.PASS, summary="",
                       metrics={"points": points, "top_features": ["income", "region"], "output_space": "log-odds"})


def test_beeswarm_draws_each_kept_point_once_in_its_row_and_colours_only_known_values():
    res = _result()
    fig = beeswarm(res, max_points=500)
    assert {t.type for t in fig.data} == {"scattergl"}
    coloured, grey = fig.data
    keep = np.unique(np.linspace(0, 1199, 500).astype(int))  # the evenly spaced rows the chart promises
    pts = res.metrics["points"]["income"]
    want_x = [pts["shap"][i] for i in keep if pts["pct"][i] is not None]
    assert np.allclose(np.asarray(coloured.x), want_x)
    assert np.allclose(np.asarray(coloured.marker.color), [pts["pct"][i] for i in keep if pts["pct"][i] is not None])
    # 'income' is the top feature, so its row is the highest (y = 1); dots jitter within ±0.32 of it
    assert np.all(np.abs(np.asarray(coloured.y) - 1) <= 0.32)
    # grey: the one missing income value plus every 'region' dot (row y = 0)
    gy = np.asarray(grey.y)
    assert len(grey.x) == (5 in keep) + 30
    assert np.sum(np.abs(gy) <= 0.32) == 30
    assert sorted(np.asarray(grey.x)[np.abs(gy) <= 0.32]) == sorted(res.metrics["points"]["region"]["shap"])
    assert list(fig.layout.yaxis.ticktext) == ["region", "income"]


def test_beeswarm_of_numbers_only_has_no_empty_grey_trace():
    res = _result()
    res.metrics["points"]["income"]["pct"][5] = 0.5
    fig = beeswarm(res, max_features=1)
    assert len(fig.data) == 1 and len(fig.data[0].x) == 500


def test_dependence_of_a_number_is_a_webgl_scatter_of_value_against_shap():
    res = _result(n_num=300)
    fig = dependence(res, "income")
    assert fig.data[0].type == "scattergl"
    assert list(fig.data[0].x) == list(range(300))
    assert np.allclose(np.asarray(fig.data[0].y), res.metrics["points"]["income"]["shap"])
