"""Charts for the Leakage page: reshaping check metrics only, no computation."""

from __future__ import annotations

from readiness.results import CheckResult, Status
from readiness.style import STATUS_COLOR

_PATTERN = {"pass": "", "question": ".", "warn": "/", "fail": "x"}  # never colour alone
_BAR = {"pass": "#8da5c4", "question": "#8da5c4", "warn": STATUS_COLOR[Status.WARN], "fail": STATUS_COLOR[Status.FAIL]}
LEGEND_GAP = 70  # px from the plot's bottom edge to the legend: under the x-axis title


def feature_power_bars(result: CheckResult, *, top: int = 30):
    """Each feature's standalone score (training, cross-validated) ranked, with the question /
    warning lines and the whole model's holdout score drawn (a leak is a rule, not a length)."""
    import plotly.graph_objects as go

    m = result.metrics
    rows = list(m.get("features", []))[:top][::-1]  # strongest at the top
    if not rows:
        return None
    regression = m.get("metric") == "r2"
    name = "R²" if regression else "AUC"
    lo = 0.0 if regression else 0.5
    names = [r["column"] for r in rows]
    fig = go.Figure()
    fig.add_bar(
        y=names, x=[max(lo, r["score"] or lo) - lo for r in rows], base=lo, orientation="h",
        name="this column alone (training, cross-validated)",
        marker_color=[_BAR.get(r.get("status", "pass"), _BAR["pass"]) for r in rows],
        marker_pattern_shape=[_PATTERN.get(r.get("status", "pass"), "") for r in rows],
        text=[f"{r['score']:.3f}" for r in rows], textposition="outside", cliponaxis=False,
        customdata=[[r["kind"], r.get("status", "pass"), r["score_holdout"]] for r in rows],
        hovertemplate=f"%{{y}}: {name} %{{x:.3f}} alone<br>kind %{{customdata[0]}} · %{{customdata[1]}}"
                      f"<br>on the holdout: %{{customdata[2]:.3f}}<extra></extra>")
    fig.add_scatter(y=names, x=[r["score_holdout"] if r["score_holdout"] is not None else None for r in rows],
                    mode="markers", name="same column on the holdout",
                    marker=dict(symbol="diamond", size=9, color="#222", line=dict(color="white", width=1)),
                    hovertemplate=f"%{{y}}: {name} %{{x:.3f}} on the holdout<extra></extra>")
    lines = [(m.get("warn_score"), f"ask ({name} {m.get('warn_score', 0):.2f})", "#666", "dash"),
             (m.get("extreme_score"), f"extreme ({name} {m.get('extreme_score', 0):.2f})", STATUS_COLOR[Status.WARN],
              "dash"),
             (m.get("model_score"), f"whole model on holdout ({m.get('model_score') or 0:.2f})", "#4c78a8", "dot")]
    for i, (x, label, color, dash) in enumerate(lines):
        if x is None:
            continue
        fig.add_vline(x=x, line=dict(color=color, dash=dash, width=2))
        fig.add_annotation(x=x, y=1.0 + 0.06 * (i + 1), yref="paper", text=label, showarrow=False,
                           font=dict(color=color, size=12), xanchor="center")
    height = max(300, 26 * len(rows) + 170)
    fig.update_layout(
        height=height, margin=dict(l=10, r=40, t=90, b=10),
        xaxis=dict(title=f"{name} of the column on its own ({lo:g} = no signal, 1 = determines the target)",
                   range=[lo, 1.04]),
        # the legend starts LEGEND_GAP px under the plot, below the axis title (it sat on the title at 10 rows)
        legend=dict(orientation="h", yanchor="top", y=-LEGEND_GAP / (height - 100)), bargap=0.25)
    return fig


def timeline(result: CheckResult):
    """Training vs holdout time ranges (top) and rows per period (bottom), latest training time marked."""
    from plotly.subplots import make_subplots

    m = result.metrics
    tl = m.get("timeline")
    if not tl:
        return None
    edges = tl["edges"]
    mids = edges[:-1]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.32, 0.68], vertical_spacing=0.06)
    train_c, hold_c = "#4c78a8", "#f58518"
    for label, start, end, color in (("training", m["train_start"], m["train_end"], train_c),
                                     ("holdout", m["holdout_start"], m["holdout_end"], hold_c)):
        fig.add_scatter(x=[start, end], y=[label, label], mode="lines+markers", line=dict(color=color, width=14),
                        marker=dict(size=14, symbol="line-ns-open", color=color), showlegend=False,
                        hovertemplate=f"{label}: {start} to {end}<extra></extra>", row=1, col=1)
    early = m.get("early_holdout_rows") or []
    if early:
        n_early = m.get("holdout_rows_before_train_end", len(early))
        fig.add_scatter(x=[e["time"] for e in early], y=["holdout rows dated<br>before training ends"] * len(early),
                        mode="markers", marker=dict(symbol="x-thin", size=11, line=dict(width=2, color="#c62828")),
                        name=f"holdout rows dated before training ends ({n_early:,})",
                        customdata=[e["row"] for e in early],
                        hovertemplate="holdout row %{customdata}: %{x}<extra></extra>", row=1, col=1)
    fig.add_bar(x=mids, y=tl["train"], name="training rows", marker_color=train_c, row=2, col=1,
                hovertemplate="from %{x}: %{y:,} training rows<extra></extra>")
    fig.add_bar(x=mids, y=tl["holdout"], name="holdout rows", marker_color=hold_c, marker_pattern_shape="/",
                row=2, col=1, hovertemplate="from %{x}: %{y:,} holdout rows<extra></extra>")
    w = m.get("overlap_window")
    if w:
        fig.add_vrect(x0=w["start"], x1=w["end"], fillcolor="#c62828", opacity=0.07, line_width=0)
    fig.add_vline(x=m["train_end"], line=dict(color="#222", dash="dash", width=2))
    fig.add_annotation(x=m["train_end"], y=1.0, yref="paper", text="latest training row", showarrow=False,
                       xanchor="right", yanchor="bottom", font=dict(size=12))
    is_dates = m.get("time_kind") == "datetime"
    fig.update_xaxes(type="date" if is_dates else "linear", row=2, col=1, title_text=m.get("time_column"))
    fig.update_xaxes(type="date" if is_dates else "linear", row=1, col=1)
    fig.update_yaxes(title_text="rows per period", row=2, col=1)
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=40, b=10), barmode="overlay", bargap=0.05,
                      legend=dict(orientation="h", y=-0.18))
    fig.update_traces(opacity=0.75, selector=dict(type="bar"))
    return fig


def oversampling_bars(result: CheckResult):
    """Per class: share of holdout rows that copy a training row, and interpolated points across the split."""
    import plotly.graph_objects as go

    classes = result.metrics.get("classes", {})
    if not classes:
        return None
    names = [str(c) for c in classes]
    share = [100 * v["cross_split_duplicates"] / v["holdout_rows"] if v["holdout_rows"] else 0 for v in classes.values()]
    syn = [v["synthetic_cross_split"] for v in classes.values()]
    fig = go.Figure()
    fig.add_bar(x=names, y=share, name="% of the class's holdout rows copied from training", marker_color="#4c78a8",
                text=[f"{s:.1f}%" for s in share], textposition="outside", cliponaxis=False,
                hovertemplate="class %{x}: %{y:.1f}% copies<extra></extra>")
    layout = dict(height=320, margin=dict(l=10, r=10, t=40, b=10), barmode="group",
                  xaxis=dict(title="class", type="category"), yaxis=dict(title="% copied", rangemode="tozero"),
                  legend=dict(orientation="h", y=1.15))
    if any(syn):
        fig.add_bar(x=names, y=syn, name="interpolated points across the split (count)", marker_color="#c62828",
                    marker_pattern_shape="x", yaxis="y2", text=[f"{s:,}" for s in syn], textposition="outside",
                    cliponaxis=False, hovertemplate="class %{x}: %{y} interpolated points<extra></extra>")
        layout["yaxis2"] = dict(title="interpolated points", overlaying="y", side="right", rangemode="tozero",
                                showgrid=False)
    fig.update_layout(**layout)
    return fig


def reuse_curve(result: CheckResult):
    """The metric's 95% interval by number of uses of the same holdout: at one use the holdout page's."""
    import plotly.graph_objects as go

    m = result.metrics
    c = m.get("interval_curve")
    if not c:
        return None
    acc = m["metric"] == "accuracy"
    scale = 100 if acc else 1
    unit, fmt = ("accuracy (%)", ".1f") if acc else ("R²", ".3f")
    fig = go.Figure()
    for key, name, color, dash in (("fixed", "models fixed in advance", "#4c78a8", "solid"),
                                   ("steered", "each result steers the next model (pass/fail only)", "#f58518",
                                    "dash")):
        lo = [scale * v[0] for v in c[key]]
        hi = [scale * v[1] for v in c[key]]
        fig.add_scatter(x=c["k"], y=hi, mode="lines+markers", name=name, legendgroup=key,
                        line=dict(color=color, width=3, dash=dash),
                        hovertemplate=f"%{{x}} uses: up to %{{y:{fmt}}}<extra></extra>")
        fig.add_scatter(x=c["k"], y=lo, mode="lines+markers", name=name, legendgroup=key, showlegend=False,
                        line=dict(color=color, width=3, dash=dash),
                        hovertemplate=f"%{{x}} uses: from %{{y:{fmt}}}<extra></extra>")
    fig.add_hline(y=scale * m["value"], line=dict(color="#222", dash="dot"),
                  annotation_text=f"holdout {'accuracy' if acc else 'R²'} {scale * m['value']:{fmt}}",
                  annotation_position="bottom right")
    used = m.get("evaluations_including_this")
    if used:
        fig.add_vline(x=used, line=dict(color="#222", dash="dash"),
                      annotation_text=f"used {used:,} time{'s' if used != 1 else ''} so far")
    first = [scale * v for v in m["ci"]]
    span = max(first[1] - first[0], 1e-9)
    lo_all = min(scale * v[0] for k in ("fixed", "steered") for v in c[k])
    hi_all = max(scale * v[1] for k in ("fixed", "steered") for v in c[k])
    lo_view, hi_view = max(lo_all, first[0] - 2.5 * span), min(hi_all, first[1] + 2.5 * span)
    pad = 0.05 * (hi_view - lo_view)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(type="log", title="number of uses of this holdout",
                                 tickvals=[1, 10, 100, 1000], ticktext=["1", "10", "100", "1,000"]),
                      yaxis=dict(title=f"{unit}: 95% interval", range=[lo_view - pad, hi_view + pad]),
                      legend=dict(orientation="h", y=1.15))
    return fig
