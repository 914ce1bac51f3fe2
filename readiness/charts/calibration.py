"""Charts for the Calibration page: reshaping check results only, no computation.

Every figure reads the numbers stored in the ``calibration`` / ``uncertainty.abstention``
results, so the PDF can draw the same data with another renderer.
"""

from __future__ import annotations

from readiness.results import CheckResult

MODEL_COLOR = "#1f4e79"  # dark blue: readable in black-and-white print
PERFECT_COLOR = "#777777"
PLATT_COLOR = "#d08c00"
ISOTONIC_COLOR = "#2e7d32"
BAD_COLOR = "#c62828"
_MARGIN = dict(l=10, r=10, t=30, b=10)


def _axis_names(metrics: dict) -> tuple[str, str]:
    if metrics.get("task") == "multiclass":
        return "Model's confidence in its top class", "Share of those predictions that were right"
    return "Predicted probability (mean score in the band)", "Observed rate of the positive outcome"


def _diagonal(fig):
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(dash="dash", color=PERFECT_COLOR, width=1.5), hoverinfo="skip")


def reliability_diagram(result: CheckResult):
    """Observed rate against mean score per equal-width band, with 95% intervals; marker
    area follows the number of rows in the band."""
    import plotly.graph_objects as go

    m = result.metrics
    rows = [r for r in m.get("reliability", []) if r["count"]]
    if not rows:
        return None
    xlab, ylab = _axis_names(m)
    biggest = max(r["count"] for r in rows)
    fig = go.Figure()
    _diagonal(fig)
    fig.add_scatter(
        x=[r["mean_score"] for r in rows], y=[r["observed_rate"] for r in rows], mode="lines+markers", name="model",
        line=dict(color=MODEL_COLOR, width=2),
        marker=dict(size=[8 + 22 * (r["count"] / biggest) ** 0.5 for r in rows], color=MODEL_COLOR, opacity=0.75,
                    line=dict(color="white", width=1)),
        error_y=dict(type="data", symmetric=False, color=MODEL_COLOR, thickness=1.5,
                     array=[r["observed_ci"][1] - r["observed_rate"] for r in rows],
                     arrayminus=[r["observed_rate"] - r["observed_ci"][0] for r in rows]),
        customdata=[[f"{r['lower']:.1f}–{r['upper']:.1f}", r["count"], 100 * r["observed_ci"][0],
                     100 * r["observed_ci"][1]] for r in rows],
        hovertemplate=("band %{customdata[0]}: %{customdata[1]:,} rows<br>predicted %{x:.1%}, observed %{y:.1%} "
                       "(95%: %{customdata[2]:.1f}–%{customdata[3]:.1f}%)<extra></extra>"))
    fig.update_layout(height=420, margin=_MARGIN, legend=dict(x=0.02, y=0.98, bgcolor="rgba(255,255,255,0.7)"),
                      xaxis=dict(title=xlab, range=[0, 1], tickformat=".0%"),
                      yaxis=dict(title=ylab, range=[0, 1], tickformat=".0%"))
    return fig


def score_histogram(result: CheckResult):
    """How the scores spread: stacked counts per score band, by outcome."""
    import plotly.graph_objects as go

    m = result.metrics
    h = m.get("score_histogram")
    if not h:
        return None
    edges = h["edges"]
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    width = edges[1] - edges[0]
    if m.get("task") == "multiclass":
        series = [("right", h["correct"], MODEL_COLOR), ("wrong", h["incorrect"], BAD_COLOR)]
        xlab = "Confidence in the top class"
    else:
        series = [("negative outcome", h["negatives"], "#9ecae1"), ("positive outcome", h["positives"], MODEL_COLOR)]
        xlab = "Predicted probability of the positive outcome"
    fig = go.Figure()
    for name, counts, color in series:
        fig.add_bar(x=mids, y=counts, width=width * 0.95, name=name, marker_color=color,
                    hovertemplate=f"{name}: %{{y:,}} rows with score %{{x:.2f}} ± {width / 2:.3f}<extra></extra>")
    fig.update_layout(barmode="stack", height=420, margin=_MARGIN, bargap=0,
                      legend=dict(x=0.6, y=0.98, bgcolor="rgba(255,255,255,0.7)"),
                      xaxis=dict(title=xlab, range=[0, 1], tickformat=".0%"), yaxis=dict(title="Holdout rows"))
    return fig


def recalibration_diagram(result: CheckResult):
    """Reliability curves before and after the cross-fitted Platt and isotonic maps."""
    import plotly.graph_objects as go

    m = result.metrics
    rec = m.get("recalibration")
    if not rec:
        return None
    xlab, ylab = _axis_names(m)
    fig = go.Figure()
    _diagonal(fig)
    platt_name = "Platt (temperature scaling)" if m.get("task") == "multiclass" else "Platt"
    curves = [("as delivered", m["reliability"], MODEL_COLOR, "solid", "circle"),
              (platt_name, rec["platt"]["reliability"], PLATT_COLOR, "dot", "diamond"),
              ("isotonic", rec["isotonic"]["reliability"], ISOTONIC_COLOR, "dashdot", "square")]
    for name, rows, color, dash, symbol in curves:
        rows = [r for r in rows if r["count"]]
        fig.add_scatter(x=[r["mean_score"] for r in rows], y=[r["observed_rate"] for r in rows], mode="lines+markers",
                        name=name, line=dict(color=color, dash=dash, width=2), marker=dict(symbol=symbol, size=8),
                        customdata=[r["count"] for r in rows],
                        hovertemplate=f"{name}: predicted %{{x:.1%}}, observed %{{y:.1%}} (%{{customdata:,}} rows)"
                                      "<extra></extra>")
    fig.update_layout(height=420, margin=_MARGIN, legend=dict(x=0.02, y=0.98, bgcolor="rgba(255,255,255,0.7)"),
                      xaxis=dict(title=xlab, range=[0, 1], tickformat=".0%"),
                      yaxis=dict(title=ylab, range=[0, 1], tickformat=".0%"))
    return fig


def group_calibration(result: CheckResult, column: str):
    """Per group of one sensitive attribute: predicted (mean score) and observed rate with
    its 95% interval."""
    import plotly.graph_objects as go

    groups = (result.metrics.get("groups") or {}).get(column, {}).get("groups", [])
    if not groups:
        return None
    names = [f"{g['group']} ({g['n']:,})" for g in groups]
    fig = go.Figure()
    fig.add_scatter(y=names, x=[g["observed"] for g in groups], mode="markers", name="observed (95% interval)",
                    marker=dict(color=MODEL_COLOR, size=11, symbol="circle"),
                    error_x=dict(type="data", symmetric=False, color=MODEL_COLOR,
                                 array=[g["observed_ci"][1] - g["observed"] for g in groups],
                                 arrayminus=[g["observed"] - g["observed_ci"][0] for g in groups]),
                    hovertemplate="%{y}: observed %{x:.1%}<extra></extra>")
    fig.add_scatter(y=names, x=[g["predicted"] for g in groups], mode="markers", name="predicted (mean score)",
                    marker=dict(color=PLATT_COLOR, size=12, symbol="diamond-open", line=dict(width=2)),
                    hovertemplate="%{y}: predicted %{x:.1%}<extra></extra>")
    fig.update_layout(height=130 + 45 * len(groups), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(title="Rate", tickformat=".0%"), yaxis=dict(autorange="reversed"),
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return fig


def abstention_curve(result: CheckResult):
    """Accuracy on the cases the model keeps against the share it keeps, with the 95%
    band, the target accuracy and the chosen review band."""
    import plotly.graph_objects as go

    m = result.metrics
    pts = m.get("curve") or []
    if not pts:
        return None
    cov = [p["coverage"] for p in pts]
    fig = go.Figure()
    fig.add_scatter(x=cov + cov[::-1], y=[p["accuracy_ci"][1] for p in pts] + [p["accuracy_ci"][0] for p in pts][::-1],
                    fill="toself", fillcolor="rgba(31,78,121,0.15)", line=dict(width=0), name="95% interval",
                    hoverinfo="skip")
    fig.add_scatter(x=cov, y=[p["accuracy"] for p in pts], mode="lines", name="accuracy on the cases kept",
                    line=dict(color=MODEL_COLOR, width=3), customdata=[[p["rule"], p["kept"]] for p in pts],
                    hovertemplate="keep %{x:.0%} (%{customdata[1]:,} cases): accuracy %{y:.1%}<br>%{customdata[0]}"
                                  "<extra></extra>")
    target = m.get("target_accuracy")
    if target is not None:
        fig.add_hline(y=target, line=dict(color=BAD_COLOR, dash="dash", width=1.5),
                      annotation_text=f"target {100 * target:.1f}%", annotation_position="bottom left")
    band = m.get("band")
    if m.get("flagged_basis") == "least_confident_10pct" and m.get("flagged_count"):
        fig.add_vline(x=1 - m["flagged_share"], line=dict(color=PLATT_COLOR, dash="dot", width=2),
                      annotation_text="least confident 10% flagged for review", annotation_position="bottom right")
    if band and band.get("needed"):
        keep = 1 - band["deferred_share"]
        fig.add_scatter(x=[keep], y=[band["kept_accuracy"]], mode="markers+text", name="review band",
                        marker=dict(color=BAD_COLOR, size=14, symbol="star"),
                        text=[f"defer {100 * band['deferred_share']:.1f}%"], textposition="top right",
                        hovertemplate=f"{band['rule']}<extra></extra>")
    lo = min(min(p["accuracy_ci"][0] for p in pts), target if target is not None else 1.0)
    fig.update_layout(height=440, margin=dict(l=10, r=10, t=60, b=10),
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                      xaxis=dict(title="Share of cases the model decides alone (the rest go to people)",
                                 autorange="reversed", tickformat=".0%"),
                      yaxis=dict(title="Accuracy on the cases the model decides", tickformat=".0%",
                                 range=[max(0.0, lo - 0.03), 1.005]))
    return fig


def regression_bias_by_decile(result: CheckResult):
    """Mean error (prediction − actual) with its 95% interval, per decile of the prediction."""
    import plotly.graph_objects as go

    d = result.metrics.get("by_decile") or []
    if not d:
        return None
    x = [b["mean_prediction"] for b in d]
    y = [b["mean_error"] for b in d]
    lo = [b["mean_error"] - (b["mean_error_ci"][0] if b["mean_error_ci"][0] is not None else b["mean_error"]) for b in d]
    hi = [(b["mean_error_ci"][1] if b["mean_error_ci"][1] is not None else b["mean_error"]) - b["mean_error"] for b in d]
    fig = go.Figure(go.Scatter(
        x=x, y=y, mode="markers+lines", line=dict(color="#4c78a8", width=2), marker=dict(size=9),
        error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color="#4c78a8"),
        customdata=[[b["lo"], b["hi"], b["n"]] for b in d],
        hovertemplate=("predictions %{customdata[0]:.4g} to %{customdata[1]:.4g} (%{customdata[2]} rows): "
                       "mean error %{y:.4g}<extra></extra>")))
    fig.add_hline(y=0, line=dict(color="#222", dash="dot"), annotation_text="no bias",
                  annotation_position="bottom right")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=20, b=10), showlegend=False,
                      xaxis=dict(title="mean prediction in the decile"),
                      yaxis=dict(title="mean error: prediction − actual (95%)"))
    return fig
