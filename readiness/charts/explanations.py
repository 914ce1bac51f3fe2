"""Charts for the Explanations page: reshaping check results and row explanations only.

Colours follow the SHAP convention — red pushes the explained output up, blue pushes it
down — and every bar also carries its signed value as text, so the charts read in black
and white too.
"""

from __future__ import annotations

from readiness import fmt
from readiness.fmt import pct
from readiness.results import CheckResult

UP, DOWN, NEUTRAL, FLAG = "#c62828", "#1f5fa8", "#9aa0a6", "#b35900"
MAX_BARS = 15


def _places(values) -> int:
    """One number of decimals for every label of a chart: three significant digits of its largest figure
    (fmt.decimals), so a regression's contributions read '−37.0', '+2.4' and a probability's '+0.120'."""
    big = max((abs(float(v)) for v in values if fmt.finite(v)), default=0.0)
    d = fmt.decimals(big)
    return 0 if d is None else d


def _label(v: float, places: int, *, sign: bool = False) -> str:
    text = fmt.fixed(v, places)
    return "+" + text if sign and v > 0 and text.strip("0.,") else text


def _axis_space(space: str | None) -> str:
    return {"log-odds": "log-odds", "probability": "probability", "prediction": "target units",
            "decision function": "decision-function units"}.get(space or "", "model output units")


def global_importance(result: CheckResult, *, flagged: list[str] | None = None, klass: str | None = None):
    """Mean |SHAP| per original feature, largest first; leakage-flagged features marked.
    ``klass`` (multiclass): the contributions to that class's score instead of each row's predicted class."""
    import plotly.graph_objects as go

    m = result.metrics
    src = m["by_class"][klass] if klass is not None else m
    imp, share = src["global_importance"], src["importance_share"]
    names = list(imp)[:MAX_BARS][::-1]
    flagged = set(flagged or [])
    dominant = set(m.get("dominant_features", []))
    colors = [FLAG if n in flagged else ("#5b6b7f" if n in dominant else "#8da0b8") for n in names]
    labels = [f"{n}  ⚠ leakage" if n in flagged else n for n in names]
    fig = go.Figure(go.Bar(
        x=[imp[n] for n in names], y=labels, orientation="h", marker_color=colors,
        marker_line=dict(color="#333", width=[2 if n in flagged else 0 for n in names]),
        text=[pct(share[n]) for n in names], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: mean |SHAP| %{x:.4f}<extra></extra>"))
    fig.update_layout(height=90 + 26 * len(names), margin=dict(l=10, r=50, t=10, b=10),
                      xaxis_title=f"mean |SHAP| ({_axis_space(m.get('output_space'))})",
                      yaxis=dict(automargin=True))
    return fig


def _thin(p: dict, max_points: int) -> dict:
    """At most ``max_points`` evenly spaced rows of a feature's points (browsers draw thousands of dots slowly)."""
    import numpy as np

    n = len(p["shap"])
    if n <= max_points:
        return p
    keep = np.unique(np.linspace(0, n - 1, max_points).astype(int))
    return {k: ([v[i] for i in keep] if isinstance(v, list) and len(v) == n else v) for k, v in p.items()}


def beeswarm(result: CheckResult, *, max_features: int = 10, max_points: int = 500):
    """One row of dots per top feature: SHAP value (x), feature value as colour (low blue, high red).

    Draws at most ``max_points`` rows per feature, evenly spaced over the explained rows."""
    import numpy as np
    import plotly.graph_objects as go

    m = result.metrics
    points = m.get("points") or {}
    names = [n for n in m.get("top_features", []) if n in points][:max_features]
    # One WebGL trace for the coloured (numeric) dots and one for the grey (category) dots: a browser draws
    # thousands of SVG dots slowly (the page switch took 2-3 s with one SVG trace per feature).
    jitter = np.random.default_rng(0)
    coloured, grey = ([], [], [], []), ([], [], [])
    for i, name in enumerate(names):
        p = _thin(points[name], max_points)
        y = len(names) - 1 - i
        shap = np.asarray([np.nan if v is None else v for v in p["shap"]], dtype=float)
        jit = y + jitter.uniform(-0.32, 0.32, size=len(shap))
        text = np.asarray([f"{name} = {v}" for v in p["value"]], dtype=object)
        pct_ = (np.asarray([np.nan if v is None else v for v in p["pct"]], dtype=float)
                if p.get("numeric") and p.get("pct") is not None else np.full(len(shap), np.nan))
        has = ~np.isnan(pct_)  # a numeric value to colour by; categories and missing values are grey
        for part, values in zip(coloured, (shap[has], jit[has], pct_[has], text[has]), strict=True):
            part.append(values)
        for part, values in zip(grey, (shap[~has], jit[~has], text[~has]), strict=True):
            part.append(values)
    fig = go.Figure()
    if sum(map(len, coloured[0])):
        fig.add_trace(go.Scattergl(
            x=np.concatenate(coloured[0]), y=np.concatenate(coloured[1]), mode="markers",
            marker=dict(color=np.concatenate(coloured[2]), colorscale=[[0, DOWN], [0.5, "#b9a3c9"], [1, UP]], cmin=0,
                        cmax=1, size=5, opacity=0.7, showscale=True,
                        colorbar=dict(title="feature value", tickvals=[0, 1], ticktext=["low", "high"], thickness=12,
                                      len=0.6)),
            text=np.concatenate(coloured[3]).tolist(), showlegend=False,
            hovertemplate="%{text}<br>SHAP %{x:.3f}<extra></extra>"))
    if sum(map(len, grey[0])):
        fig.add_trace(go.Scattergl(
            x=np.concatenate(grey[0]), y=np.concatenate(grey[1]), mode="markers",
            marker=dict(color=NEUTRAL, size=5, opacity=0.6), text=np.concatenate(grey[2]).tolist(),
            showlegend=False, hovertemplate="%{text}<br>SHAP %{x:.3f}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    fig.update_layout(height=110 + 42 * len(names), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=f"SHAP value ({_axis_space(m.get('output_space'))}): right pushes the output up",
                      yaxis=dict(tickvals=list(range(len(names))), ticktext=names[::-1], range=[-0.6, len(names) - 0.4],
                                 automargin=True))
    return fig


def dependence(result: CheckResult, feature: str):
    """SHAP value against the feature's value (numbers: scatter; categories: one strip per value)."""
    import plotly.graph_objects as go

    m = result.metrics
    p = (m.get("points") or {}).get(feature)
    if not p:
        return None
    p = _thin(p, 1000)
    shap = p["shap"]
    if p.get("numeric"):
        fig = go.Figure(go.Scattergl(x=p["value"], y=shap, mode="markers",
                                   marker=dict(color=[UP if (s or 0) > 0 else DOWN for s in shap], size=5, opacity=0.6),
                                   hovertemplate=f"{feature} = %{{x}}<br>SHAP %{{y:.3f}}<extra></extra>"))
    else:
        fig = go.Figure(go.Box(x=p["value"], y=shap, boxpoints="all", jitter=0.4, pointpos=0, marker=dict(size=4),
                               line=dict(color="#5b6b7f"), fillcolor="rgba(0,0,0,0)", name=feature,
                               hovertemplate=f"{feature} = %{{x}}<br>SHAP %{{y:.3f}}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#555", width=1))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), showlegend=False, xaxis_title=feature,
                      yaxis_title=f"SHAP ({_axis_space(m.get('output_space'))})")
    return fig


def _value_text(v) -> str:
    if v is None:
        return "missing"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return str(v)


def waterfall(row: dict, *, max_features: int = 10):
    """SHAP waterfall for one row: from the average output to this row's output."""
    import plotly.graph_objects as go

    s = row["shap"]
    contribs = s["contributions"]
    shown, rest = contribs[:max_features], contribs[max_features:]
    labels = [f"{c['feature']} = {_value_text(c['value'])}" for c in shown]
    values = [c["shap"] for c in shown]
    if rest:
        labels.append(f"{len(rest)} other features")
        values.append(sum(c["shap"] for c in rest))
    # bottom-up: average first, each feature, then this row's output
    y = ["average output"] + labels + ["this row"]
    measure = ["absolute"] + ["relative"] * len(values) + ["total"]
    x = [s["base_value"]] + values + [s["output_value"]]
    d = _places(values)  # the steps set the decimals; the average and this row's output share them
    text = [_label(s["base_value"], d)] + [_label(v, d, sign=True) for v in values] + [_label(s["output_value"], d)]
    # start and end bars are labelled inside (they are long and start at 0); steps outside
    position = ["inside"] + ["outside"] * len(values) + ["auto"]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=y, x=x, measure=measure, text=text, textposition=position, cliponaxis=False,
        increasing=dict(marker=dict(color=UP)), decreasing=dict(marker=dict(color=DOWN)),
        totals=dict(marker=dict(color="#5b6b7f")), connector=dict(line=dict(color="#bbb", width=1)),
        hovertemplate="%{y}: %{text}<extra></extra>"))
    # room on both sides for the labels outside the bars
    ends = [0.0, s["base_value"], s["output_value"]]
    running = s["base_value"]
    for v in values:
        running += v
        ends.append(running)
    lo, hi = min(ends), max(ends)
    pad = 0.18 * ((hi - lo) or 1.0)
    fig.update_layout(height=120 + 30 * len(y), margin=dict(l=10, r=60, t=10, b=10),
                      xaxis=dict(range=[lo - pad, hi + pad], title=_axis_space(s.get("output_space"))),
                      yaxis=dict(autorange="reversed", automargin=True))
    return fig


def lime_bars(row: dict):
    """LIME weights for one row, labelled by LIME's conditions (e.g. 'credit_score <= 633')."""
    import plotly.graph_objects as go

    lime = row.get("lime")
    if not lime:
        return None
    items = lime["contributions"][::-1]
    fig = go.Figure(go.Bar(
        x=[c["weight"] for c in items], y=[c["condition"] for c in items], orientation="h",
        marker_color=[UP if c["weight"] > 0 else DOWN for c in items],
        text=[_label(c["weight"], _places(c["weight"] for c in items), sign=True) for c in items],
        textposition="auto", cliponaxis=False,
        hovertemplate="%{y}: %{x:+.4f}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    fig.update_layout(height=120 + 30 * len(items), margin=dict(l=10, r=60, t=10, b=10),
                      xaxis_title=f"LIME weight ({_axis_space(lime.get('output_space'))})",
                      yaxis=dict(automargin=True))
    return fig


def permutation_bars(result: CheckResult):
    """Drop in the holdout metric per shuffled feature, with its 95% interval."""
    import plotly.graph_objects as go

    m = result.metrics
    imp = m["importances"]
    names = list(imp)[:MAX_BARS][::-1]
    nothing = set(m.get("contributes_nothing", []))
    means = [imp[n]["mean"] for n in names]
    fig = go.Figure(go.Bar(
        x=means, y=[f"{n}  (nothing)" if n in nothing else n for n in names], orientation="h",
        marker_color=[NEUTRAL if n in nothing else "#4c78a8" for n in names],
        error_x=dict(type="data", symmetric=False, array=[imp[n]["ci"][1] - imp[n]["mean"] for n in names],
                     arrayminus=[imp[n]["mean"] - imp[n]["ci"][0] for n in names], color="#333", thickness=1.2),
        text=[_label(v, _places(means)) for v in means], textposition="inside", insidetextanchor="start",
        hovertemplate="%{y}: %{customdata}<extra></extra>",
        customdata=[fmt.with_interval(imp[n]["mean"], imp[n]["ci"]) for n in names]))
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    fig.update_layout(height=90 + 26 * len(names), margin=dict(l=10, r=50, t=10, b=10),
                      uniformtext=dict(minsize=10, mode="hide"),
                      xaxis_title=f"drop in holdout {m['metric']} when shuffled (95% interval)",
                      yaxis=dict(automargin=True))
    return fig


def group_bars(result: CheckResult):
    """Drop in the holdout metric when a group of features is shuffled together."""
    import plotly.graph_objects as go

    m = result.metrics
    groups = m.get("groups") or {}
    if not groups:
        return None
    names = list(groups)[::-1]
    fig = go.Figure(go.Bar(
        x=[groups[n]["mean"] for n in names], y=names, orientation="h", marker_color="#4c78a8",
        error_x=dict(type="data", symmetric=False, array=[groups[n]["ci"][1] - groups[n]["mean"] for n in names],
                     arrayminus=[groups[n]["mean"] - groups[n]["ci"][0] for n in names], color="#333"),
        text=[_label(groups[n]["mean"], _places(groups[n]["mean"] for n in names)) for n in names],
        textposition="inside", insidetextanchor="start"))
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    fig.update_layout(height=90 + 32 * len(names), margin=dict(l=10, r=50, t=10, b=10),
                      uniformtext=dict(minsize=10, mode="hide"),
                      xaxis_title=f"drop in holdout {m['metric']} when the group is shuffled together",
                      yaxis=dict(automargin=True))
    return fig
