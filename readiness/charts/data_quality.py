"""Charts for the data-quality page."""

from __future__ import annotations

from readiness.results import CheckResult


def missingness_bars(result: CheckResult, *, top: int = 25):
    """Horizontal bars: share of missing values per column, explicit vs disguised."""
    import plotly.graph_objects as go

    cols = result.metrics.get("columns", {})
    n = result.metrics.get("rows_train", 0) + result.metrics.get("rows_test", 0)
    rows = []
    for name, c in cols.items():
        explicit = (c["missing_train"] + c["missing_test"]) / n if n else 0.0
        disguised = max(0.0, c["total_missing_rate"] - explicit)
        if explicit or disguised:
            rows.append((name, explicit, disguised))
    rows.sort(key=lambda r: r[1] + r[2])
    rows = rows[-top:]
    fig = go.Figure()
    names = [r[0] for r in rows]
    fig.add_bar(y=names, x=[100 * r[1] for r in rows], name="Missing (empty)", orientation="h",
                marker_color="#4c78a8", hovertemplate="%{y}: %{x:.1f}% empty<extra></extra>")
    fig.add_bar(y=names, x=[100 * r[2] for r in rows], name="Disguised (?, -999, ...)", orientation="h",
                marker_color="#f58518", marker_pattern_shape="/",
                hovertemplate="%{y}: %{x:.1f}% placeholders<extra></extra>")
    fig.update_layout(barmode="stack", height=max(220, 28 * len(rows) + 120), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="% of rows (training + holdout)",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),  # above the bars, never on them
                      title=None)
    return fig


def drift_bars(result: CheckResult, *, top: int = 15):
    """Features ranked by PSI, with the moderate and major thresholds drawn."""
    import plotly.graph_objects as go

    feats = result.metrics.get("features", {})
    ranked = result.metrics.get("ranked", [])[:top][::-1]
    th = result.metrics.get("thresholds", {"moderate": 0.1, "major": 0.25})
    values = [feats[c]["psi"] for c in ranked]
    colors = ["#c62828" if v >= th["major"] else "#b35900" if v >= th["moderate"] else "#4c78a8" for v in values]
    fig = go.Figure(go.Bar(y=ranked, x=values, orientation="h", marker_color=colors,
                           hovertemplate="%{y}: PSI %{x:.3f}<extra></extra>"))
    for name, x, dash in [("shifted", th["moderate"], "dot"), ("large shift", th["major"], "dash")]:
        fig.add_vline(x=x, line_dash=dash, line_color="#555", annotation_text=f"{name} ({x})",
                      annotation_position="top")
    fig.update_layout(height=max(240, 26 * len(ranked) + 110), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="Population stability index (0 = same distribution)")
    return fig
