"""Charts for the Monitoring page: monitored batches over time (reshaping stored results only)."""

from __future__ import annotations

import plotly.graph_objects as go

ALERT, OK, REF, EST, REAL = "#c62828", "#1a7f37", "#5b6770", "#1f4e79", "#b26a00"


def _label(b: dict) -> str:
    """The batch's time (UTC, to the minute) and id: short on an axis, unique (the name is in the table)."""
    return f"{(b['created_at'] or '')[:16].replace('T', ' ')} #{b['id']}"


def accuracy_over_time(batches: list[dict]) -> go.Figure:
    """Estimated (without labels, CBPE) and realised accuracy per batch with their 95%
    intervals, the review's holdout accuracy as a line, alert batches marked."""
    x = [_label(b) for b in batches]
    fig = go.Figure()
    est = [b["result"].get("estimated") or {} for b in batches]
    if any(e.get("accuracy") is not None for e in est):
        y = [100 * e["accuracy"] if e.get("accuracy") is not None else None for e in est]
        hi = [100 * (e["accuracy_ci"][1] - e["accuracy"]) if e.get("accuracy_ci") else 0 for e in est]
        lo = [100 * (e["accuracy"] - e["accuracy_ci"][0]) if e.get("accuracy_ci") else 0 for e in est]
        fig.add_scatter(x=x, y=y, mode="lines+markers", name="estimated without labels (CBPE)",
                        line={"color": EST}, error_y={"type": "data", "array": hi, "arrayminus": lo, "visible": True})
    real = [b["result"].get("realised") or {} for b in batches]
    if any(r.get("accuracy") is not None for r in real):
        y = [100 * r["accuracy"] if r.get("accuracy") is not None else None for r in real]
        hi = [100 * (r["accuracy_ci"][1] - r["accuracy"]) if r.get("accuracy_ci") else 0 for r in real]
        lo = [100 * (r["accuracy"] - r["accuracy_ci"][0]) if r.get("accuracy_ci") else 0 for r in real]
        fig.add_scatter(x=x, y=y, mode="markers", name="realised, from labels", marker={"color": REAL, "size": 9,
                                                                                         "symbol": "diamond"},
                        error_y={"type": "data", "array": hi, "arrayminus": lo, "visible": True})
    ref = next((e.get("reference_accuracy") for e in est if e.get("reference_accuracy") is not None), None)
    if ref is not None:
        fig.add_hline(y=100 * ref, line={"color": REF, "dash": "dash"},
                      annotation_text=f"review's holdout {100 * ref:.1f}%", annotation_position="top left")
    alerts = [i for i, b in enumerate(batches) if b["status"] == "alert"]
    if alerts:
        fig.add_scatter(x=[x[i] for i in alerts], y=[None if est[i].get("accuracy") is None else
                                                     100 * est[i]["accuracy"] for i in alerts],
                        mode="markers", name="batch with alert(s)",
                        marker={"color": ALERT, "size": 16, "symbol": "circle-open", "line": {"width": 2}})
    fig.update_layout(yaxis_title="accuracy (%)", xaxis_title="batch", height=360, margin={"t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.35})
    return fig


def drift_heatmap(batches: list[dict]) -> go.Figure:
    """Per feature (and the scores) and batch: PSI as a multiple of its alert threshold
    (≥ 1: the test alerted)."""
    x = [_label(b) for b in batches]
    names: list[str] = []
    for b in batches:
        for f in (b["result"].get("features") or {}):
            if f not in names:
                names.append(f)
    rows = ["model scores", *names]
    z, text = [], []
    for r in rows:
        zr, tr = [], []
        for b in batches:
            info = (b["result"].get("predictions") if r == "model scores" else
                    (b["result"].get("features") or {}).get(r)) or {}
            if info.get("psi") is None or not info.get("threshold"):
                zr.append(None)
                tr.append("")
            else:
                zr.append(min(info["psi"] / info["threshold"], 3.0))
                tr.append(f"PSI {info['psi']:.3f} (alert above {info['threshold']:.3f})")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=rows, text=text, hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>", zmin=0, zmax=2,
        colorscale=[[0, "#f4f6f8"], [0.45, "#c9d6e3"], [0.5, "#f2b8b5"], [1, ALERT]],
        colorbar={"title": "PSI ÷ alert<br>threshold", "tickvals": [0, 1, 2], "ticktext": ["0", "1 (alert)", "≥ 2"]}))
    fig.update_layout(height=max(240, 28 * len(rows) + 120), margin={"t": 20, "b": 10}, yaxis={"autorange": "reversed"})
    return fig
