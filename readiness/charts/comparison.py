"""Charts for the page "Compared with the current model": reshaping ``comparison.champion`` metrics only.

The row builders return plain data, so the PDF renderer draws the same numbers.
"""

from __future__ import annotations

from readiness.results import CheckResult

GAINS, LOSES, SAME, NOT_JUDGED = "#1a7f37", "#c62828", "#5b6770", "#a8b1ba"
NEW_COLOR, OLD_COLOR = "#1f4e79", "#8c8c8c"
VERDICT_WORD = {"gains": "does better", "loses": "does worse", "no_difference": "no clear change",
                "not_judged": "too few rows to judge"}
VERDICT_COLOR = {"gains": GAINS, "loses": LOSES, "no_difference": SAME, "not_judged": NOT_JUDGED}


def _by_cost(m: dict) -> bool:
    return m.get("decision_measure") == "cost_per_1000"


def change_rows(result: CheckResult) -> list[dict]:
    """One row per group (and "All rows" first): the change of the measure that decides
    (error rate in points, or cost per 1,000 decisions; regression: mean absolute error),
    new − current, with its 95% interval and the group's verdict."""
    m = result.metrics
    if not m.get("groups") and m.get("decision_difference") is None:
        return []
    cost = _by_cost(m)
    rows = []
    d, ci = m.get("decision_difference"), m.get("decision_difference_ci")
    if d is not None:  # the overall improvement is "positive = better": turn it into "change of errors"
        scale = 1 if cost or m.get("decision_measure") == "mae" else 100
        rows.append({"label": "All rows", "change": -d * scale, "low": None if not ci else -ci[1] * scale,
                     "high": None if not ci else -ci[0] * scale, "verdict": m.get("verdict"), "n": m.get("rows"),
                     "overall": True})
    for attr, groups in (m.get("groups") or {}).items():
        for g, e in groups.items():
            if cost and e.get("cost_per_1000"):
                c = e["cost_per_1000"]
                change, ci_g = c["mean"], c.get("ci")
            elif e.get("mae_change"):
                change, ci_g = e["mae_change"]["mean"], e["mae_change"].get("ci")
            else:
                er = e["error_rate"]
                change = None if er["change"] is None else 100 * er["change"]
                ci_g = None if not er.get("ci") else [100 * er["ci"][0], 100 * er["ci"][1]]
            if change is None:
                continue
            rows.append({"label": f"{attr} = {g}", "change": change, "low": ci_g[0] if ci_g else None,
                         "high": ci_g[1] if ci_g else None, "verdict": e.get("verdict"), "n": e["n"],
                         "overall": False})
    return rows


def change_unit(result: CheckResult) -> str:
    m = result.metrics
    if _by_cost(m):
        return "change in cost per 1,000 decisions"
    if m.get("decision_measure") == "mae":
        return "change in mean absolute error"
    return "change in error rate (percentage points)"


def who_gains_who_loses(result: CheckResult):
    """Forest plot: per group, new − current errors with 95% intervals; left of zero the
    new model makes fewer errors there."""
    import plotly.graph_objects as go

    rows = change_rows(result)
    if not rows:
        return None
    labels = [f"{r['label']}  ({r['n']:,})" for r in rows][::-1]
    fig = go.Figure()
    fig.add_vline(x=0, line=dict(color="#333", width=1))
    for verdict in ("gains", "loses", "no_difference", "not_judged", "better", "worse", "mixed"):
        sel = [(f"{r['label']}  ({r['n']:,})", r) for r in rows if r["verdict"] == verdict]
        if not sel:
            continue
        overall = sel[0][1]["overall"]
        color = {"better": GAINS, "worse": LOSES, "mixed": "#b35900"}.get(verdict, VERDICT_COLOR.get(verdict, SAME))
        name = ("all rows: " + verdict.replace("_", " ")) if overall else VERDICT_WORD[verdict]
        fig.add_scatter(
            y=[lab for lab, _ in sel], x=[r["change"] for _, r in sel], mode="markers", name=name,
            marker=dict(color=color, size=14 if overall else 11, symbol="diamond" if overall else "circle"),
            error_x=dict(type="data", symmetric=False, color=color, thickness=2,
                         array=[(r["high"] - r["change"]) if r["high"] is not None else 0 for _, r in sel],
                         arrayminus=[(r["change"] - r["low"]) if r["low"] is not None else 0 for _, r in sel]),
            hovertemplate="%{y}: %{x:+.1f}<extra></extra>")
    fig.update_layout(height=120 + 38 * len(rows), margin=dict(l=10, r=20, t=30, b=60),
                      legend=dict(orientation="h", y=-0.25 if len(rows) > 3 else -0.5),
                      xaxis_title=f"{change_unit(result)} · left of 0: fewer errors with the new model",
                      yaxis=dict(categoryorder="array", categoryarray=labels))
    return fig


def churn_rows(result: CheckResult) -> list[dict]:
    """Per group (and "All rows" first): shares of decisions newly flagged and no longer
    flagged by the new model, and how many of them were actually positive."""
    m = result.metrics
    if "newly_flagged" not in m:
        return []
    rows = [{"label": "All rows", "n": m["rows"], "newly": m["newly_flagged"], "no_longer": m["no_longer_flagged"],
             "newly_positive": m.get("newly_flagged_positive"), "no_longer_positive": m.get("no_longer_flagged_positive")}]
    for attr, groups in (m.get("decision_changes_by_group") or {}).items():
        for g, c in groups.items():
            rows.append({"label": f"{attr} = {g}", "n": c["n"], "newly": c["newly_flagged"],
                         "no_longer": c["no_longer_flagged"], "newly_positive": c.get("newly_flagged_positive"),
                         "no_longer_positive": c.get("no_longer_flagged_positive")})
    return rows


def decision_changes(result: CheckResult, *, positive: str = "positive"):
    """Diverging bars: the share of each group's decisions the new model newly flags (right)
    and no longer flags (left), split by what actually happened."""
    import plotly.graph_objects as go

    rows = churn_rows(result)
    if not rows:
        return None
    labels = [f"{r['label']}  ({r['n']:,})" for r in rows][::-1]
    rs = rows[::-1]

    def share(k, r):
        return 100 * (r[k] or 0) / r["n"] if r["n"] else 0.0

    fig = go.Figure()
    parts = (("newly", "newly_positive", 1, "newly flagged, actually " + positive, "#1f4e79"),
             ("newly", None, 1, "newly flagged, actually not " + positive, "#9ecae1"),
             ("no_longer", "no_longer_positive", -1, "no longer flagged, actually " + positive, "#b35900"),
             ("no_longer", None, -1, "no longer flagged, actually not " + positive, "#fdd0a2"))
    for total, pos_key, sign, name, color in parts:
        if pos_key is not None:
            x = [sign * share(pos_key, r) for r in rs]
        else:
            x = [sign * (share(total, r) - share(f"{total}_positive", r)) for r in rs]
        fig.add_bar(y=labels, x=x, orientation="h", name=name, marker_color=color,
                    hovertemplate="%{y}: %{x:.1f}% of its decisions<extra>" + name + "</extra>")
    fig.add_vline(x=0, line=dict(color="#333", width=1))
    fig.update_layout(barmode="relative", height=140 + 34 * len(rows), margin=dict(l=10, r=20, t=30, b=80),
                      legend=dict(orientation="h", y=-0.3 if len(rows) > 3 else -0.6),
                      xaxis_title="share of the group's decisions that change (%) · ← no longer flagged · newly "
                                  "flagged →")
    return fig


def who_gains_who_loses_pdf(result: CheckResult) -> list[tuple[bytes, str]]:
    """The same forest plot for the PDF (matplotlib; markers differ by verdict, so it reads in
    black and white): rows from :func:`change_rows`."""
    from readiness.report.charts_pdf import WIDTH_IN, _plt, _png, _short

    rows = change_rows(result)
    if not rows:
        return []
    plt = _plt()
    style = {"gains": ("o", GAINS, "does better"), "better": ("D", GAINS, "all rows: better"),
             "loses": ("X", LOSES, "does worse"), "worse": ("D", LOSES, "all rows: worse"),
             "mixed": ("D", "#b35900", "all rows: mixed"), "no_difference": ("o", SAME, "no clear change"),
             "not_judged": ("o", NOT_JUDGED, "too few rows to judge")}
    height = max(1.8, 0.9 + 0.3 * len(rows))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    seen = set()
    n = len(rows)
    for i, r in enumerate(rows):
        marker, color, label = style.get(r["verdict"], ("o", SAME, str(r["verdict"])))
        lo = r["change"] - r["low"] if r["low"] is not None else 0
        hi = r["high"] - r["change"] if r["high"] is not None else 0
        ax.errorbar([r["change"]], [n - 1 - i], xerr=[[lo], [hi]], fmt=marker, color=color, ms=6 if r["overall"] else 5,
                    capsize=2, elinewidth=1, mfc=color if r["verdict"] not in ("no_difference", "not_judged") else "white",
                    label=None if label in seen else label)
        seen.add(label)
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_yticks(range(n), [_short(f"{r['label']} ({r['n']:,})", 30) for r in reversed(rows)])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"{change_unit(result)}; left of 0: fewer errors with the new model")
    ax.legend(loc="upper center", ncol=4, bbox_to_anchor=(0.5, 1.0 + 0.55 / height), fontsize=7)
    fig.tight_layout()
    return [(_png(fig), "New model minus current model, overall and per group, with 95% intervals. A group gains or "
                        "loses only when the change is beyond chance after allowing for the groups compared.")]
