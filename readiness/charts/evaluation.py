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
