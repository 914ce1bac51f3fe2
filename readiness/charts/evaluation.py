"""Charts for the holdout-performance page."""

from __future__ import annotations

from readiness.results import CheckResult


def confusion_matrix(result: CheckResult):
    """Row-normalised heat map (share of each actual class), sized to the number of classes."""
    import plotly.graph_objects as go

    cm = result.metrics["confusion_matrix"]
    labels, matrix = cm["labels"], cm["matrix"]
    k = len(labels)
    totals = [sum(r) or 1 for r in matrix]
    share = [[100 * v / totals[i] for v in row] for i, row in enumerate(matrix)]
    many = k > 4
    text = [[(f"{share[i][j]:.0f}%" if v else "") if many else f"{v:,}<br>({share[i][j]:.1f}% of row)"
             for j, v in enumerate(row)] for i, row in enumerate(matrix)]
    fig = go.Figure(go.Heatmap(
        z=share, x=[str(x) for x in labels], y=[str(y) for y in labels], text=text, texttemplate="%{text}",
        customdata=matrix, colorscale="Blues", zmin=0, zmax=100, showscale=False, xgap=1, ygap=1,
        textfont=dict(size=13 if k <= 12 else 10),
        hovertemplate="actual %{y}, predicted %{x}: %{customdata:,} rows (%{z:.1f}% of actual %{y})<extra></extra>"))
    cell = 70 if k <= 4 else 44 if k <= 12 else 30
    fig.update_layout(height=140 + cell * k,
                      margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title="predicted class", type="category", side="bottom"),
                      yaxis=dict(title="actual class", type="category", autorange="reversed"))
    return fig


def roc_curve(result: CheckResult):
    import plotly.graph_objects as go

    curve = result.metrics.get("roc_curve")
    if not curve:
        return None
    fig = go.Figure()
    fig.add_scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", name="model", line=dict(width=3, color="#4c78a8"))
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="random ranking", line=dict(dash="dash", color="#888"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title="False positive rate (share of negatives flagged)",
                      yaxis_title="True positive rate (share of positives caught)", legend=dict(x=0.55, y=0.1))
    return fig


def _decile_band(d: list[dict], key: str) -> tuple[list, list, list]:
    """(values, +errors, −errors) of a per-decile figure with its 95% interval."""
    v = [b[key] for b in d]
    ci = [b.get(f"{key}_ci") or [None, None] for b in d]
    return (v, [(c[1] if c[1] is not None else x) - x for x, c in zip(v, ci, strict=True)],
            [x - (c[0] if c[0] is not None else x) for x, c in zip(v, ci, strict=True)])


def predicted_vs_actual(result: CheckResult):
    """Regression: actual against predicted (a sample of holdout rows), the diagonal, and the mean actual
    value per decile of the prediction with its 95% interval."""
    import plotly.graph_objects as go

    m = result.metrics
    pts, d = m.get("points"), m.get("by_decile") or []
    if not pts:
        return None
    fig = go.Figure(go.Scatter(x=pts["prediction"], y=pts["actual"], mode="markers", name="holdout rows",
                               marker=dict(size=5, color="rgba(120,120,120,0.45)"),
                               hovertemplate="predicted %{x:.4g}, actual %{y:.4g}<extra></extra>"))
    lo = min(min(pts["prediction"]), min(pts["actual"]))
    hi = max(max(pts["prediction"]), max(pts["actual"]))
    fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect (actual = predicted)",
                    line=dict(color="#222", dash="dot"), hoverinfo="skip")
    if d:
        v, up, down = _decile_band(d, "mean_actual")
        fig.add_scatter(x=[b["mean_prediction"] for b in d], y=v, mode="markers+lines", name="mean actual per decile (95%)",
                        line=dict(color="#1f4e79", width=2), marker=dict(size=9),
                        error_y=dict(type="data", symmetric=False, array=up, arrayminus=down, color="#1f4e79"),
                        hovertemplate="mean prediction %{x:.4g}: mean actual %{y:.4g}<extra></extra>")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.2),
                      xaxis_title="predicted", yaxis_title="actual")
    return fig


def residuals_vs_prediction(result: CheckResult):
    """Regression: the error (prediction − actual) of each sampled row against its prediction, and the mean
    error per decile with its 95% interval."""
    import plotly.graph_objects as go

    m = result.metrics
    pts, d = m.get("points"), m.get("by_decile") or []
    if not pts:
        return None
    err = [p - a for p, a in zip(pts["prediction"], pts["actual"], strict=True)]
    fig = go.Figure(go.Scatter(x=pts["prediction"], y=err, mode="markers", name="holdout rows",
                               marker=dict(size=5, color="rgba(120,120,120,0.45)"),
                               hovertemplate="predicted %{x:.4g}, error %{y:.4g}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#222", dash="dot"))
    if d:
        v, up, down = _decile_band(d, "mean_error")
        fig.add_scatter(x=[b["mean_prediction"] for b in d], y=v, mode="markers+lines", name="mean error per decile (95%)",
                        line=dict(color="#c62828", width=2), marker=dict(size=9),
                        error_y=dict(type="data", symmetric=False, array=up, arrayminus=down, color="#c62828"),
                        hovertemplate="mean prediction %{x:.4g}: mean error %{y:.4g}<extra></extra>")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.2),
                      xaxis_title="predicted", yaxis_title="error: prediction − actual (above 0: too high)")
    return fig


def range_labels(ranges: list[tuple[float, float]]) -> list[str]:
    """'44.8 – 82.4', …, '238.0 – 298.3': every bound with the same decimals, enough for three significant
    digits of the narrowest range (4 significant digits each gave '238 – 298.3' beside '44.82 – 82.39')."""
    import math

    widths = [hi - lo for lo, hi in ranges if hi > lo]
    dec = max(0, 2 - math.floor(math.log10(min(widths)))) if widths else 0
    return [f"{lo:,.{dec}f} – {hi:,.{dec}f}".replace("-", "−") for lo, hi in ranges]


def error_by_decile(result: CheckResult):
    """Regression: mean absolute error per decile of the prediction with its 95% interval."""
    import plotly.graph_objects as go

    d = result.metrics.get("by_decile") or []
    if not d:
        return None
    v, up, down = _decile_band(d, "mae")
    labels = range_labels([(b["lo"], b["hi"]) for b in d])
    fig = go.Figure(go.Bar(x=labels, y=v, marker_color="#8da0b8",
                           error_y=dict(type="data", symmetric=False, array=up, arrayminus=down, color="#333"),
                           customdata=[b["n"] for b in d],
                           hovertemplate="predictions %{x} (%{customdata} rows): MAE %{y:.4g}<extra></extra>"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=20, b=10),
                      xaxis_title="decile of the prediction (range of predicted values)",
                      yaxis_title="mean absolute error (95%)")
    return fig
