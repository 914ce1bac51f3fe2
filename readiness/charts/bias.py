"""Charts for the Bias page: reshaping ``bias.groups`` metrics only, no computation.

Every figure reads the numbers stored in the result (or a disparity table from
``readiness.checks.bias.recompute_disparities``), so the PDF can draw the same data with
another renderer. Markers differ by shape as well as colour, to survive black-and-white
print.
"""

from __future__ import annotations

import math

from readiness.fmt import pct

REF_COLOR = "#1f4e79"  # reference group: dark blue
GROUP_COLOR = "#444444"
SMALL_COLOR = "#9e9e9e"
WARN_FILL = "rgba(179, 89, 0, 0.10)"
FAIL_FILL = "rgba(198, 40, 40, 0.12)"
_MARGIN = dict(l=10, r=10, t=50, b=10)

GROUP_PANELS = (
    ("selection_rate", "Flagged positive<br>(selection rate)", "Selection rate: share of the group the model flags positive"),
    ("tpr", "Positives caught<br>(TPR)", "True positive rate: share of actual positives the model flags"),
    ("fpr", "Negatives wrongly<br>flagged (FPR)", "False positive rate: share of actual negatives the model flags"),
    ("precision", "Flags that are right<br>(precision)", "Precision: share of flagged rows that are actually positive"),
    ("accuracy", "Accuracy", "Share of the group predicted right"),
)

# with a favourable label: the directed rates (readiness.checks.bias_stats), read from the harmed side
DIRECTED_PANELS = (
    ("favorable_rate", "Predicted favourable<br>(favourable rate)", "Share of the group predicted the favourable outcome"),
    ("false_adverse_rate", "Wrongly adverse<br>(false-adverse rate)",
     "Of those whose actual outcome was favourable, the share predicted adverse"),
    ("false_favorable_rate", "Benefit of the doubt<br>(false-favourable rate)",
     "Of those whose actual outcome was adverse, the share still predicted favourable"),
    ("false_adverse_discovery_rate", "Adverse calls that<br>were wrong",
     "Of those predicted adverse, the share whose actual outcome was favourable"),
    ("accuracy", "Accuracy", "Share of the group predicted right"),
)
DIRECTED_SERIES = (  # key, legend, marker, sign: +1 when a higher value harms the group
    ("favorable_rate_difference", "Favourable outcome (lower harms)", "circle", -1),
    ("false_adverse_rate_difference", "Wrongly adverse (higher harms)", "square", 1),
    ("false_favorable_rate_difference", "Benefit of the doubt (lower harms)", "diamond", -1),
    ("false_adverse_discovery_rate_difference", "Adverse calls wrong (higher harms)", "triangle-up", 1),
)

DISPARITY_SERIES = (
    ("demographic_parity_difference", "Selection rate", "circle"),
    ("equal_opportunity_difference", "True positive rate", "diamond"),
    ("fpr_difference", "False positive rate", "square"),
    ("predictive_parity_difference", "Precision", "triangle-up"),
)


def _group_rows(metrics: dict, attribute: str, cls: str | None = None) -> dict[str, dict]:
    groups = metrics["groups"][attribute]
    if cls is None:
        return groups
    return {g: {**m["per_class"][cls], "n": m["n"], "small": m["small"]} for g, m in groups.items()
            if cls in m.get("per_class", {})}


def group_label(group: str, m: dict, reference: str | None) -> str:
    label = f"{group} (n={m['n']:,})"
    if group == reference:
        label += " · reference"
    elif m.get("small"):
        label += " · small"
    return label


def group_metrics_chart(metrics: dict, attribute: str, *, reference: str | None = None, cls: str | None = None,
                        warn_gap: float | None = None):
    """One panel per rate (selection, TPR, FPR, precision, accuracy): each group's value with
    its 95% interval; the reference group's value as a vertical line with a ±``warn_gap``
    band. Small groups are grey hollow markers, labelled 'small'."""
    from plotly.subplots import make_subplots

    rows = _group_rows(metrics, attribute, cls)
    if not rows:
        return None
    panels = DIRECTED_PANELS if all("favorable_rate" in m for m in rows.values()) else GROUP_PANELS
    reference = reference or metrics.get("reference", {}).get(attribute)
    warn_gap = metrics.get("thresholds", {}).get("warn_gap", 0.1) if warn_gap is None else warn_gap
    order = list(rows)
    labels = [group_label(g, rows[g], reference) for g in order]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.035,
                        subplot_titles=[p[1] for p in panels])
    for j, (key, _title, _meaning) in enumerate(panels, start=1):
        lows, highs = [], []
        for kind in ("big", "small", "ref"):
            xs, ys, lo, hi, text = [], [], [], [], []
            for g, lab in zip(order, labels, strict=True):
                m = rows[g]
                is_ref = g == reference
                is_small = bool(m.get("small")) or key in m.get("small_metrics", [])
                this = "ref" if is_ref else ("small" if is_small else "big")
                v = m.get(key)
                if this != kind or v is None:
                    continue
                ci = m.get(f"{key}_ci") or [v, v]
                xs.append(100 * v)
                ys.append(lab)
                lo.append(100 * (v - ci[0]))
                hi.append(100 * (ci[1] - v))
                text.append(f"{g}: {pct(v)} (95% {pct(ci[0])}–{pct(ci[1])})"
                            + (" · few cases: wide interval" if is_small else ""))
            if not xs:
                continue
            lows += [x - d for x, d in zip(xs, lo, strict=True)]
            highs += [x + d for x, d in zip(xs, hi, strict=True)]
            color = {"ref": REF_COLOR, "big": GROUP_COLOR, "small": SMALL_COLOR}[kind]
            symbol = {"ref": "diamond", "big": "circle", "small": "circle-open"}[kind]
            fig.add_scatter(
                x=xs, y=ys, mode="markers", row=1, col=j, showlegend=(j == 1),
                name={"ref": "reference group", "big": "group", "small": "small group (few cases)"}[kind],
                legendgroup=kind, marker=dict(color=color, symbol=symbol, size=11, line=dict(width=1.5, color=color)),
                error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color=color, thickness=1.5),
                hovertext=text, hoverinfo="text")
        ref_m = rows.get(reference) if reference else None
        if ref_m is not None and ref_m.get(key) is not None:
            rv = 100 * ref_m[key]
            fig.add_vrect(x0=max(0, rv - 100 * warn_gap), x1=min(100, rv + 100 * warn_gap), fillcolor=WARN_FILL,
                          line_width=0, row=1, col=j, layer="below")
            fig.add_vline(x=rv, line=dict(color=REF_COLOR, dash="dash", width=1), row=1, col=j)
        # each panel zooms to its data (rounded to 10 points) so gaps stay readable; values in %
        x0 = max(0.0, 10 * math.floor((min(lows, default=0) - 2) / 10))
        x1 = min(100.0, 10 * math.ceil((max(highs, default=100) + 2) / 10))
        if x1 - x0 < 20:
            x1 = min(100.0, x0 + 20) if x0 + 20 <= 100 else 100.0
            x0 = x1 - 20
        fig.update_xaxes(range=[x0 - 0.04 * (x1 - x0), x1 + 0.04 * (x1 - x0)], nticks=4, row=1, col=j,
                         title_text=None, showgrid=True)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=170 + 34 * len(order), margin=dict(l=10, r=10, t=70, b=10), hovermode="closest",
                      legend=dict(orientation="h", y=-0.08 - 2.5 / (len(order) + 4), x=0))
    return fig


def disparity_chart(disparity: dict, *, warn_gap: float = 0.10, fail_gap: float = 0.20, four_fifths: float = 0.8):
    """Gaps against the reference group, in percentage points, with 95% intervals. Shaded bands
    mark the review thresholds (±warn_gap needs review; beyond ±fail_gap fails when the interval
    excludes 0). A second panel shows the selection-rate ratio with the four-fifths line."""
    from plotly.subplots import make_subplots

    rows = disparity.get("groups", {})
    if not rows:
        return None
    ref = disparity.get("reference")
    order = list(rows)
    directed = all("favorable_rate_difference" in r for r in rows.values())
    series = DIRECTED_SERIES if directed else tuple((k, n, m, 1) for k, n, m in DISPARITY_SERIES)
    ratio_key = "favorable_rate_ratio" if directed else "demographic_parity_ratio"
    labels = [f"{g} (n={rows[g]['n']:,})" + (" · small" if rows[g].get("small") else "") for g in order]
    titles = ([f"How much worse off than {ref}, points (right: worse off)",
               f"Favourable-outcome ratio (line: {four_fifths:g})"] if directed else
              [f"Gap against {ref}, percentage points (group − reference)", "Selection ratio (lower / higher)"])
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.74, 0.26], horizontal_spacing=0.03,
                        subplot_titles=titles)
    span = max([fail_gap + 0.05] + [abs(c) for r in rows.values() for k, _n, _s, _sg in series
                                      for c in (r.get(f"{k}_ci") or [])])
    lim = 100 * min(1.0, span + 0.02)
    colors = ("#1f4e79", "#6a3d9a", "#b35900", "#2e7d32")
    k_series = len(series)
    for i, (key, name, symbol, sign) in enumerate(series):
        offset = (i - (k_series - 1) / 2) * 0.17
        xs, ys, lo, hi, text = [], [], [], [], []
        for pos, g in enumerate(order):
            d = rows[g].get(key)
            if d is None:
                continue
            ci = rows[g].get(f"{key}_ci") or [d, d]
            if sign < 0:  # directed: plotted as "worse off" (positive) or "better off" (negative)
                d, ci = -d, [-ci[1], -ci[0]]
            xs.append(100 * d)
            ys.append(pos + offset)
            lo.append(100 * (d - ci[0]))
            hi.append(100 * (ci[1] - d))
            what = ("worse off" if d > 0 else "better off") if directed else "gap"
            text.append(f"{g} vs {ref}, {name.lower()}: {100 * abs(d) if directed else 100 * d:+.1f} points {what} "
                        f"(95% {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f})")
        if xs:
            fig.add_scatter(x=xs, y=ys, mode="markers", name=name, row=1, col=1, hovertext=text, hoverinfo="text",
                            marker=dict(symbol=symbol, size=10, color=colors[i]),
                            error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color=colors[i],
                                         thickness=1.4, width=3))
    def dp_severity(g):
        return next((f["severity"] for f in rows[g].get("flags", []) if f["metric"] == "favorable_rate"), None)

    rx = [(pos, g, rows[g].get(ratio_key)) for pos, g in enumerate(order)]
    rx = [(pos, g, r) for pos, g, r in rx if r is not None]
    if rx:
        # red hatched: below the line and beyond chance; grey hatched: below the line but may be chance
        colors_r = ["#c62828" if dp_severity(g) in ("warn", "fail") else "#9e9e9e" for _, g, _ in rx]
        fig.add_bar(x=[r for _, _, r in rx], y=[pos for pos, _, _ in rx], orientation="h", row=1, col=2, width=0.5,
                    name="selection ratio", showlegend=False, text=[f"{r:.2f}" for _, _, r in rx],
                    textposition="outside", cliponaxis=False,
                    marker=dict(color=colors_r, pattern_shape=["/" if directed and r < four_fifths else ""
                                                               for _, _, r in rx]),
                    hovertemplate="ratio %{x:.2f}<extra></extra>")
    # thresholds (added after the traces: plotly skips shapes on subplots that are still empty)
    for x0, x1, fill in ((-lim, -100 * fail_gap, FAIL_FILL), (-100 * fail_gap, -100 * warn_gap, WARN_FILL),
                         (100 * warn_gap, 100 * fail_gap, WARN_FILL), (100 * fail_gap, lim, FAIL_FILL)):
        fig.add_vrect(x0=x0, x1=x1, fillcolor=fill, line_width=0, row=1, col=1, layer="below",
                      exclude_empty_subplots=False)
    for x in (-fail_gap, -warn_gap, warn_gap, fail_gap):
        fig.add_vline(x=100 * x, line=dict(color="#b35900" if abs(x) == warn_gap else "#c62828", dash="dot", width=1),
                      row=1, col=1, exclude_empty_subplots=False)
    fig.add_vline(x=0, line=dict(color=REF_COLOR, width=1.5), row=1, col=1, exclude_empty_subplots=False)
    if directed:  # no four-fifths verdict without knowing which outcome is favourable
        fig.add_vline(x=four_fifths, line=dict(color="#c62828", dash="dot", width=1.5), row=1, col=2,
                      exclude_empty_subplots=False)
    ticks = [-100 * fail_gap, -100 * warn_gap, 0, 100 * warn_gap, 100 * fail_gap]
    fig.update_xaxes(range=[-lim, lim], zeroline=False, tickvals=ticks, ticktext=[f"{t:+.0f}" if t else "0" for t in ticks],
                     row=1, col=1)
    fig.update_xaxes(range=[0, 1.25], tickvals=[0, 0.5, four_fifths, 1], row=1, col=2)
    fig.update_yaxes(tickvals=list(range(len(order))), ticktext=labels, range=[len(order) - 0.5, -0.5],
                     automargin=True, showgrid=False)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=150 + 46 * len(order), margin=_MARGIN, hovermode="closest", bargap=0.4,
                      legend=dict(orientation="h", y=-0.08 - 2.5 / (len(order) + 4), x=0))
    return fig
