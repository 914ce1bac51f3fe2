"""Charts for the Feasibility page: reshaping check metrics only, no computation."""

from __future__ import annotations

from readiness.fmt import number
from readiness.results import CheckResult, Status

MODEL_COLOR = "#1f4e79"
BASELINE_COLOR = "#8c8c8c"
BAND_COLOR = "rgba(76, 120, 168, 0.22)"
BAND_EDGE = "#4c78a8"
TARGET_COLOR = "#c62828"


def _usable(result: CheckResult | None) -> bool:
    return result is not None and result.status not in (Status.SKIPPED, Status.ERROR) and bool(result.metrics)


def ladder_rows(bayes: CheckResult | None, baselines: CheckResult | None) -> list[dict]:
    """Rows of the error ladder (classification): the model and each baseline as error rates
    with their 95% intervals, worst at the top (plain data, so a PDF renderer can reuse it)."""
    rows = []
    if _usable(baselines) and all("accuracy" in b for b in baselines.metrics.get("baselines", {}).values()):
        m = baselines.metrics
        for key, b in m["baselines"].items():
            lo, hi = b["accuracy_ci"]
            rows.append({"key": key, "label": b["name"], "error": 1 - b["accuracy"],
                         "low": None if hi is None else 1 - hi, "high": None if lo is None else 1 - lo,
                         "kind": "best baseline" if key == m.get("best_baseline") else "baseline"})
        mo = m.get("model") or {}  # None in a data review (no model yet)
        if "accuracy" in mo:
            lo, hi = mo["accuracy_ci"]
            rows.append({"key": "model", "label": "The model", "error": 1 - mo["accuracy"], "low": 1 - hi,
                         "high": 1 - lo, "kind": "model"})
    elif _usable(bayes) and bayes.metrics.get("model_error") is not None:
        m = bayes.metrics
        lo, hi = m["model_error_ci"]
        rows.append({"key": "model", "label": "The model", "error": m["model_error"], "low": lo, "high": hi,
                     "kind": "model"})
    return sorted(rows, key=lambda r: -r["error"])


def error_ladder(bayes: CheckResult | None, baselines: CheckResult | None):
    """Error rates on one axis: baselines and the model (95% intervals), the band where the
    best possible model's error lies (Bayes error estimate), and the target error."""
    import plotly.graph_objects as go

    rows = ladder_rows(bayes, baselines)
    has_ber = _usable(bayes)
    if not rows and not has_ber:
        return None
    labels = [r["label"] for r in rows]
    floor_label = "Best possible model (Bayes error, 95%)"
    ys = ([floor_label] if has_ber else []) + labels[::-1]  # plotly draws the first category at the bottom
    fig = go.Figure()
    xmax = max([r["high"] or r["error"] for r in rows] + [0.05])
    if has_ber:
        m = bayes.metrics
        lo, hi = m["ber_lower_low"], m["ber_upper_high"]  # the 95% range the verdict uses
        plo, phi = m["ber_lower"], m["ber_upper"]
        xmax = max(xmax, hi)
        # the band across the whole chart, so every rung can be read against the floor
        fig.add_vrect(x0=100 * lo, x1=100 * hi, fillcolor=BAND_COLOR, line_width=0, layer="below")
        fig.add_bar(y=[floor_label], x=[100 * (hi - lo)], base=[100 * lo], orientation="h", width=0.5,
                    marker=dict(color=BAND_COLOR, line=dict(color=BAND_EDGE, width=2), pattern_shape="/"),
                    name="best possible error, 95% range",
                    hovertemplate=f"best possible error, 95% range: {100 * lo:.1f}%–{100 * hi:.1f}%"
                                  f"<br>best estimate: {100 * plo:.1f}%–{100 * phi:.1f}%<extra></extra>")
        fig.add_annotation(y=floor_label, x=100 * hi, text=f"   {100 * lo:.1f}–{100 * hi:.1f}% (95%)",
                           showarrow=False, xanchor="left", font=dict(color=BAND_EDGE, size=13))
    for kind, color, symbol, size, name in (("baseline", BASELINE_COLOR, "circle", 11, "baseline"),
                                            ("best baseline", "#555", "square", 13, "best baseline"),
                                            ("model", MODEL_COLOR, "diamond", 16, "the model")):
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        fig.add_scatter(
            y=[r["label"] for r in sel], x=[100 * r["error"] for r in sel], mode="markers+text", name=name,
            text=[f"{100 * r['error']:.1f}%" for r in sel], textposition="top center",
            textfont=dict(size=13, color=color),
            marker=dict(symbol=symbol, size=size, color=color, line=dict(color="white", width=1)),
            error_x=dict(type="data", symmetric=False, color=color, thickness=2, width=6,
                         array=[100 * ((r["high"] if r["high"] is not None else r["error"]) - r["error"]) for r in sel],
                         arrayminus=[100 * (r["error"] - (r["low"] if r["low"] is not None else r["error"]))
                                     for r in sel]),
            hovertemplate="%{y}: %{x:.1f}% wrong<extra></extra>")
    target = (bayes.metrics.get("target_error") if has_ber else None)
    if target is not None:
        xmax = max(xmax, target)
        fig.add_vline(x=100 * target, line=dict(color=TARGET_COLOR, dash="dash", width=3))
        fig.add_annotation(x=100 * target, y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text=f"target: at most {100 * target:.1f}% wrong ({100 * (1 - target):.1f}% accuracy)",
                           font=dict(color=TARGET_COLOR, size=13))
    fig.update_layout(
        height=110 + 58 * len(ys), margin=dict(l=10, r=30, t=40, b=10), bargap=0.4,
        xaxis=dict(title="share of holdout rows predicted wrong (error rate, %) — lower is better",
                   range=[0, 100 * xmax * 1.12], ticksuffix="%", zeroline=False),
        yaxis=dict(categoryorder="array", categoryarray=ys, title=None),
        legend=dict(orientation="h", y=-0.22 if len(ys) > 4 else -0.4, x=0), showlegend=True)
    return fig


def _rung(fig, name: str, v: float, lo: float, hi: float, color: str, measure: str) -> None:
    """One rung of a regression ladder: the value, its interval, the model as a larger diamond."""
    model = name == "The model"
    fig.add_scatter(y=[name], x=[v], mode="markers+text", text=[number(v)], textposition="top center",
                    cliponaxis=False,  # the top rung's label sits above the plot area (it was cut)
                    marker=dict(size=14 if model else 11, color=color, symbol="diamond" if model else "circle"),
                    error_x=dict(type="data", symmetric=False, array=[hi - v], arrayminus=[v - lo], color=color),
                    showlegend=False, hovertemplate=f"%{{y}}: {measure} %{{x:.4g}}<extra></extra>")


def regression_ladder(baselines: CheckResult | None):
    """MAE of the model and of each baseline with 95% intervals (regression)."""
    import plotly.graph_objects as go

    if not _usable(baselines) or "mae" not in baselines.metrics.get("model", {}):
        return None
    m = baselines.metrics
    rows = [(b["name"], b["mae"], b["mae_ci"], "#555" if k == m.get("best_baseline") else BASELINE_COLOR)
            for k, b in m["baselines"].items()]
    rows.append(("The model", m["model"]["mae"], m["model"]["mae_ci"], MODEL_COLOR))
    rows.sort(key=lambda r: r[1])
    fig = go.Figure()
    for name, v, ci, color in rows:
        lo, hi = ci if ci and None not in ci else (v, v)
        _rung(fig, name, v, lo, hi, color, "MAE")
    fig.update_layout(height=110 + 58 * len(rows), margin=dict(l=10, r=30, t=20, b=10),
                      xaxis=dict(title="mean absolute error on the holdout — lower is better", rangemode="tozero"),
                      yaxis=dict(categoryorder="array", categoryarray=[r[0] for r in rows][::-1]))
    return fig


def learning_curve(bayes: CheckResult | None):
    """The 1-NN error and its Cover–Hart floor as the sample grows (has it levelled off?)."""
    import plotly.graph_objects as go

    if not _usable(bayes):
        return None
    c = bayes.metrics.get("learning_curve") or {}
    if len(c.get("n", [])) < 2:
        return None
    fig = go.Figure()
    fig.add_scatter(x=c["n"], y=[100 * v for v in c["r1"]], mode="lines+markers", name="1-nearest-neighbour error",
                    line=dict(color=BASELINE_COLOR, width=2), hovertemplate="%{x:,} rows: %{y:.1f}%<extra></extra>")
    fig.add_scatter(x=c["n"], y=[100 * v for v in c["lower"]], mode="lines+markers",
                    name="floor derived from it (Cover–Hart)", line=dict(color=BAND_EDGE, width=3),
                    hovertemplate="%{x:,} rows: %{y:.1f}%<extra></extra>")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(type="log", title="rows in the estimate (log scale)", tickvals=c["n"],
                                 ticktext=[f"{v:,}" for v in c["n"]]),
                      yaxis=dict(title="error rate (%)", rangemode="tozero", ticksuffix="%"),
                      legend=dict(orientation="h", y=1.15))
    return fig


def noise_floor_chart(bayes: CheckResult | None):
    """Regression: RMSE on one axis — the model and the best k-NN rule with their 95% intervals,
    the band where the smallest reachable RMSE lies (the noise floor's 95% interval) and the target."""
    import plotly.graph_objects as go

    if not _usable(bayes) or "noise_rmse" not in bayes.metrics:
        return None
    m = bayes.metrics
    lo, hi = m["noise_rmse_ci"]
    rows = [(f"{m['best_k']}-nearest-neighbour rule", m["knn_rmse_best"], None, m["knn_rmse_high"], BASELINE_COLOR)]
    if m.get("model_rmse") is not None:
        mlo, mhi = m["model_rmse_ci"]
        rows.append(("The model", m["model_rmse"], mlo, mhi, MODEL_COLOR))
    fig = go.Figure()
    fig.add_vrect(x0=lo, x1=hi, fillcolor=BAND_COLOR, line_width=1, line_color=BAND_EDGE,
                  annotation_text="noise floor (95%)", annotation_position="top left")
    fig.add_vline(x=m["noise_rmse"], line_color=BAND_EDGE, line_width=2)
    if m.get("target_rmse") is not None:
        fig.add_vline(x=m["target_rmse"], line_color=TARGET_COLOR, line_dash="dash", annotation_text="target",
                      annotation_position="bottom right")
    for name, v, a, b, color in rows:
        _rung(fig, name, v, v if a is None else a, v if b is None else b, color, "RMSE")
    fig.update_layout(height=150 + 58 * len(rows), margin=dict(l=10, r=30, t=30, b=10),
                      xaxis=dict(title="root mean squared error — lower is better; nothing gets reliably below the band",
                                 rangemode="tozero"))
    return fig
