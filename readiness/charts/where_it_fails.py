"""Charts for the "Where it fails" page: reshaping check metrics only, no computation."""

from __future__ import annotations

from readiness.fmt import SEGMENT_AXIS, SEGMENT_SCALE
from readiness.results import CheckResult, Status

OBSERVED = "#c62828"
PROMISED = "#1f4e79"
HARD = "#8c6d1f"
OVERALL = "#6e7781"


def _usable(result: CheckResult | None) -> bool:
    return result is not None and result.status not in (Status.SKIPPED, Status.ERROR) and bool(result.metrics)


def segment_rows(result: CheckResult | None) -> list[dict]:
    """One row per reported slice: label, kind, observed value with interval, promised value
    (plain data, shared by the plotly and the PDF renderer)."""
    if not _usable(result):
        return []
    rows = []
    for kind, key in (("under-delivering", "segments"), ("hard (as promised)", "hard_segments")):
        for e in result.metrics.get(key, []):
            rows.append({"label": e["definition"], "kind": kind, "value": e["value"], "low": e["ci"][0],
                         "high": e["ci"][1], "expected": e["expected"], "overall": e["overall"],
                         "rows": e["n_holdout"]})
    return rows


def segments_chart(result: CheckResult | None):
    """Observed metric (95% interval) against what the scores promise, per slice; the holdout overall as a line."""
    import plotly.graph_objects as go

    rows = segment_rows(result)
    if not rows:
        return None
    metric = result.metrics["metric"]
    pct = metric == "accuracy"
    xf = ".1f" if pct else ",.3~g"
    scale = SEGMENT_SCALE[metric]
    labels = [f"{r['label']} ({r['rows']:,} rows)" for r in rows][::-1]
    rows = rows[::-1]
    fig = go.Figure()
    for kind, color, symbol in (("under-delivering", OBSERVED, "circle"), ("hard (as promised)", HARD, "square")):
        sel = [i for i, r in enumerate(rows) if r["kind"] == kind]
        if not sel:
            continue
        fig.add_trace(go.Scatter(
            x=[scale * rows[i]["value"] for i in sel], y=[labels[i] for i in sel], mode="markers",
            marker={"color": color, "size": 11, "symbol": symbol}, name=f"observed — {kind}",
            error_x={"type": "data", "symmetric": False, "color": color, "thickness": 2,
                     "array": [scale * (rows[i]["high"] - rows[i]["value"]) for i in sel],
                     "arrayminus": [scale * (rows[i]["value"] - rows[i]["low"]) for i in sel]},
            hovertemplate="%{y}<br>observed %{x:" + xf + "}" + ("%" if pct else "") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=[scale * r["expected"] for r in rows], y=labels, mode="markers",
                             marker={"color": PROMISED, "size": 12, "symbol": "line-ns-open", "line": {"width": 3}},
                             name="what the scores promise",
                             hovertemplate="%{y}<br>promised %{x:" + xf + "}" + ("%" if pct else "") + "<extra></extra>"))
    overall = scale * rows[0]["overall"]
    fig.add_vline(x=overall, line={"color": OVERALL, "dash": "dash"},
                  annotation_text=f"holdout overall {overall:{xf}}{'%' if pct else ''}", annotation_position="top")
    title = SEGMENT_AXIS[metric]
    fig.update_layout(height=140 + 48 * len(rows), margin={"l": 10, "r": 10, "t": 40, "b": 40},
                      xaxis_title=title, legend={"orientation": "h", "y": -0.25 if len(rows) < 4 else -0.12},
                      plot_bgcolor="white")
    fig.update_xaxes(gridcolor="#e5e5e5")
    return fig


def domain_importance(result: CheckResult | None):
    """What lets the domain classifier tell training from holdout rows (AUC lost when shuffled)."""
    import plotly.graph_objects as go

    if not _usable(result):
        return None
    imp = {k: v for k, v in result.metrics.get("feature_importance", {}).items() if v > 0.001}
    if not imp:
        return None
    items = list(imp.items())[:12][::-1]
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
                           marker_color=PROMISED, hovertemplate="%{y}: AUC −%{x:.3f}<extra></extra>"))
    fig.update_layout(height=120 + 28 * len(items), margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      xaxis_title="ROC AUC lost when the feature is shuffled", plot_bgcolor="white")
    return fig


def score_drift_chart(result: CheckResult | None):
    """Shares of the model's scores per training decile: training rows against holdout rows."""
    import plotly.graph_objects as go

    if not _usable(result) or not result.metrics.get("prediction_drift"):
        return None
    p = result.metrics["prediction_drift"]
    keep = [i for i, b in enumerate(p["bins"]) if b != "missing" or p["reference_share"][i] or p["current_share"][i]]
    bins = [p["bins"][i] for i in keep]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=bins, y=[100 * p["reference_share"][i] for i in keep], name="training rows",
                         marker_color=OVERALL))
    fig.add_trace(go.Bar(x=bins, y=[100 * p["current_share"][i] for i in keep], name="holdout rows",
                         marker_color=PROMISED, marker_pattern_shape="/"))
    fig.update_layout(barmode="group", height=300, margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      yaxis_title="share of rows (%)", xaxis_title=p.get("measure", "score"), plot_bgcolor="white",
                      legend={"orientation": "h", "y": 1.12})
    return fig


def flip_chart(result: CheckResult | None):
    """Share of decisions each feature's small change flips (sensitive attributes apart)."""
    import plotly.graph_objects as go

    if not _usable(result):
        return None
    detail = result.metrics.get("flip_detail", {})
    items = [(k, d) for k, d in detail.items() if d["rate"] > 0][:15][::-1]
    if not items:
        return None
    # a regression's predictions move by more than the check's tolerance; a classifier's decisions flip
    what = "predictions that move" if "regression_tolerance" in result.metrics else "decisions that flip"
    fig = go.Figure(go.Bar(
        x=[100 * d["rate"] for _, d in items], y=[f"{k} ({'±5%' if d['change'].startswith('±') else 'other value'})"
                                                  for k, d in items],
        orientation="h", marker_color=PROMISED,
        error_x={"type": "data", "symmetric": False, "array": [100 * (d["ci"][1] - d["rate"]) for _, d in items],
                 "arrayminus": [100 * (d["rate"] - d["ci"][0]) for _, d in items], "color": OVERALL},
        hovertemplate=f"%{{y}}: %{{x:.1f}}% of {what}<extra></extra>"))
    fig.update_layout(height=120 + 30 * len(items), margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      xaxis_title=f"{what} (%)", plot_bgcolor="white")
    return fig
