"""Charts for the Business threshold page: reshaping ``business.threshold`` numbers only.

Every builder takes the check's result, or the same metrics dict recomputed for a
what-if (other costs), so the page and a future PDF renderer draw the same numbers.
"""

from __future__ import annotations

from readiness.fmt import pct, signed
from readiness.results import CheckResult

MODEL_COLOR = "#1f4e79"  # dark blue: readable in black-and-white print
CURRENT_COLOR = "#d08c00"
OPTIMAL_COLOR = "#2e7d32"
WHATIF_COLOR = "#6a1b9a"
TRIVIAL_COLOR = "#777777"
BAYES_COLOR = "#c62828"
_MARGIN = dict(l=10, r=10, t=40, b=10)
_X_TITLE = "Threshold: a case is flagged when its score is at least this"


def _m(data: CheckResult | dict) -> dict:
    return data.metrics if isinstance(data, CheckResult) else data


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}" if abs(x) >= 1 else f"{x:.3g}"


def _x_range(m: dict) -> list[float]:
    if m.get("scores_are_probabilities"):
        return [0.0, 1.0]
    lo, hi = m["score_min"], m["score_max"]
    pad = (hi - lo) * 0.03 or 1.0
    return [lo - pad, hi + pad]


def _marker(fig, x, y, name, color, symbol, text, *, position="top center"):
    fig.add_scatter(x=[x], y=[y], mode="markers+text", name=name, text=[text], textposition=position,
                    textfont=dict(color=color, size=13), cliponaxis=False,
                    marker=dict(color=color, size=14, symbol=symbol, line=dict(color="white", width=1.5)),
                    hovertemplate=f"{name}<br>threshold %{{x:.4g}}: %{{y:,.1f}} per 1,000<extra></extra>")


def cost_curve(data: CheckResult | dict, *, what_if: dict | None = None):
    """Expected cost per 1,000 decisions against the threshold, with the current and the
    cheapest threshold (and its 95% interval), the trivial policies as flat lines, the
    cost-implied threshold for probabilities, and an optional what-if point."""
    import plotly.graph_objects as go

    m = _m(data)
    c = m["curve"]
    if not c["threshold"]:
        return None
    cur, opt = m["current"], m["optimal"]
    fig = go.Figure()
    lo, hi = opt.get("threshold_ci") or [None, None]
    if lo is not None:
        fig.add_vrect(x0=lo, x1=hi, fillcolor=OPTIMAL_COLOR, opacity=0.10, line_width=0)
        fig.add_scatter(x=[None], y=[None], mode="markers", name="95% interval of the cheapest threshold",
                        marker=dict(color="rgba(46,125,50,0.25)", size=14, symbol="square"))
    fig.add_scatter(x=c["threshold"], y=c["cost_per_1000"], mode="lines", name="using the model",
                    line=dict(color=MODEL_COLOR, width=3, shape="hv"),
                    customdata=[[100 * s, pct(r)] for s, r in
                                zip(c["selection_rate"], c["recall"], strict=True)],
                    hovertemplate=("threshold %{x:.4g}: %{y:,.1f} per 1,000<br>flags %{customdata[0]:.1f}% of cases, "
                                   "catches %{customdata[1]} of positives<extra></extra>"))
    for key, name, dash in (("flag_none_cost_per_1000", "flag no one (no model)", "dash"),
                            ("flag_all_cost_per_1000", "flag everyone (no model)", "dot")):
        fig.add_hline(y=m[key], line=dict(color=TRIVIAL_COLOR, dash=dash, width=2))
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"{name}: {_fmt(m[key])}",
                        line=dict(color=TRIVIAL_COLOR, dash=dash, width=2))
    b = m.get("bayes")
    if b is not None:
        fig.add_vline(x=b["threshold"], line=dict(color=BAYES_COLOR, dash="dot", width=1.5))
        fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=BAYES_COLOR, dash="dot", width=1.5),
                        name=f"threshold the costs imply for true probabilities: {b['threshold']:.3g}")
    _marker(fig, cur["threshold"], cur["cost_per_1000"], "current threshold", CURRENT_COLOR, "circle",
            f"current {cur['threshold']:.6g}: {_fmt(cur['cost_per_1000'])}")
    if opt["threshold"] != cur["threshold"] or opt["cost_per_1000"] != cur["cost_per_1000"]:
        _marker(fig, opt["threshold"], opt["cost_per_1000"], "cheapest threshold", OPTIMAL_COLOR, "star",
                f"cheapest {opt['threshold']:.6g}: {_fmt(opt['cost_per_1000'])}", position="bottom center")
    if what_if is not None:
        _marker(fig, what_if["threshold"], what_if["cost_per_1000"], "your what-if", WHATIF_COLOR, "diamond",
                f"what-if {what_if['threshold']:.6g}")
    top = max(max(c["cost_per_1000"]), m["flag_all_cost_per_1000"], m["flag_none_cost_per_1000"])
    fig.update_layout(height=460, margin=_MARGIN, hovermode="closest",
                      legend=dict(orientation="h", x=0, y=-0.18, yanchor="top"),
                      xaxis=dict(title=_X_TITLE, range=_x_range(m)),
                      yaxis=dict(title="Expected cost per 1,000 decisions<br>(your cost units)", rangemode="tozero",
                                 range=[0, top * 1.12]))
    return fig


def rates_curve(data: CheckResult | dict, *, what_if: dict | None = None):
    """Precision, recall and the share of cases flagged against the threshold, with the
    current and the cheapest threshold marked."""
    import plotly.graph_objects as go

    m = _m(data)
    c = m["curve"]
    if not c["threshold"]:
        return None
    fig = go.Figure()
    series = (("recall", "share of positives caught (recall)", MODEL_COLOR, "solid"),
              ("precision", "share of flagged that are positive (precision)", OPTIMAL_COLOR, "dash"),
              ("selection_rate", "share of all cases flagged", CURRENT_COLOR, "dot"))
    for key, name, color, dash in series:
        fig.add_scatter(x=c["threshold"], y=c[key], mode="lines", name=name, connectgaps=False,
                        line=dict(color=color, dash=dash, width=2.5, shape="hv"),
                        hovertemplate=f"threshold %{{x:.4g}}: {name} %{{y:.1%}}<extra></extra>")
    marks = [(m["current"]["threshold"], "current", CURRENT_COLOR, "dash"),
             (m["optimal"]["threshold"], "cheapest", OPTIMAL_COLOR, "dash")]
    if what_if is not None:
        marks.append((what_if["threshold"], "what-if", WHATIF_COLOR, "dot"))
    for i, (x, label, color, dash) in enumerate(marks):
        fig.add_vline(x=x, line=dict(color=color, dash=dash, width=1.5))
        fig.add_annotation(x=x, y=1.02 + 0.07 * i, yref="paper", text=f"{label} {x:.6g}", showarrow=False,
                           font=dict(color=color, size=12), xanchor="left")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=60, b=10), hovermode="x unified",
                      legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"),
                      xaxis=dict(title=_X_TITLE, range=_x_range(m)),
                      yaxis=dict(title="Share", tickformat=".0%", range=[0, 1.02]))
    return fig


def decision_bar(q: dict, *, positive: str = "positive"):
    """Where 1,000 cases go at one threshold: one stacked bar of the four outcomes
    (``q`` from ``readiness.checks.business.per_thousand``)."""
    import plotly.graph_objects as go

    parts = (("tp", f"flagged, truly {positive}", OPTIMAL_COLOR),
             ("fp", "flagged, false alarm", CURRENT_COLOR),
             ("fn", f"let through, truly {positive} (missed)", BAYES_COLOR),
             ("tn", "let through, correctly", "#9ecae1"))
    fig = go.Figure()
    for key, name, color in parts:
        fig.add_bar(y=["1,000 cases"], x=[q[key]], orientation="h", name=f"{name}: {q[key]:,}", marker_color=color,
                    text=[f"{q[key]:,}" if q[key] >= 25 else ""], textposition="inside", insidetextanchor="middle",
                    hovertemplate=f"{name}: {q[key]:,} of 1,000<extra></extra>")
    fig.update_layout(barmode="stack", height=150, margin=dict(l=10, r=10, t=10, b=10), showlegend=True,
                      legend=dict(orientation="h", x=0, y=-0.25, yanchor="top", traceorder="normal"),
                      xaxis=dict(range=[0, 1000], showticklabels=False), yaxis=dict(showticklabels=False))
    return fig


def task_cost_bars(result):
    """Regression or multiclass costs per 1,000 with their 95% intervals: the model as it decides
    and the cheaper alternative the check found (a constant shift; the expected-cost rule)."""
    import plotly.graph_objects as go

    from readiness.checks.business import fmt_cost

    m = result.metrics
    if "best_shift" in m:
        rows = [("The model's predictions", m["cost_per_1000"], m["cost_per_1000_ci"]),
                (f"Shifted by {signed(m['best_shift'])} (chosen on the holdout)", m["cost_per_1000_shifted"], None)]
    else:
        rows = [("The model's most probable class", m["cost_per_1000"], m["cost_per_1000_ci"]),
                ("Lowest expected cost under its probabilities", m["cost_per_1000_best_rule"],
                 m["cost_per_1000_best_rule_ci"])]
    fig = go.Figure()
    for name, v, ci in rows:
        lo, hi = ci if ci and None not in ci else (v, v)
        fig.add_scatter(y=[name], x=[v], mode="markers+text", text=[fmt_cost(v)], textposition="top center",
                        cliponaxis=False,  # the top row's label sits above the plot area (it was cut in half)
                        marker=dict(size=13, color="#1f4e79"), showlegend=False,
                        error_x=dict(type="data", symmetric=False, array=[hi - v], arrayminus=[v - lo]),
                        hovertemplate="%{y}: %{x:,.4g} per 1,000<extra></extra>")
    fig.update_layout(height=110 + 50 * len(rows), margin=dict(l=10, r=30, t=30, b=10),
                      xaxis=dict(title="expected cost per 1,000 (your cost units) — lower is better", rangemode="tozero"),
                      yaxis=dict(categoryorder="array", categoryarray=[r[0] for r in rows][::-1]))
    return fig
