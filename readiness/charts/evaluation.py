"""Charts for the holdout-performance page."""

from __future__ import annotations

from readiness.results import CheckResult


def confusion_matrix(result: CheckResult):
    import plotly.graph_objects as go

    cm = result.metrics["confusion_matrix"]
    labels, matrix = cm["labels"], cm["matrix"]
    totals = [sum(r) or 1 for r in matrix]
    text = [[f"{v:,}<br>({100 * v / totals[i]:.1f}% of row)" for v in row] for i, row in enumerate(matrix)]
    fig = go.Figure(go.Heatmap(z=matrix, x=[f"predicted {x}" for x in labels], y=[f"actual {y}" for y in labels],
                               text=text, texttemplate="%{text}", colorscale="Blues", showscale=False,
                               hovertemplate="%{y}, %{x}: %{z}<extra></extra>"))
    fig.update_layout(height=120 + 70 * len(labels), margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(autorange="reversed"))
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
