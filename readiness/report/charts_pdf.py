"""Matplotlib renderers of result data for the PDF (the app draws the same numbers with plotly).

One source of truth: every chart reads only a :class:`CheckResult`'s ``metrics``. Each
renderer is guarded: a missing or oddly shaped metric gives no chart, never a broken
PDF. Charts must read in black and white: two series differ by marker, line style or
hatching as well as colour.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from io import BytesIO
from typing import Any

from readiness.fmt import SEGMENT_AXIS, SEGMENT_SCALE, pct
from readiness.results import CheckResult

log = logging.getLogger(__name__)

DARK, ACCENT, LIGHT, GRID = "#1f3b57", "#c0504d", "#9db3c8", "#d9d9d9"
DPI = 150
WIDTH_IN = 6.3  # fits the text block of an A4 page with 18 mm margins
Chart = tuple[bytes, str]  # PNG bytes, caption


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.color": GRID,
        "grid.linewidth": 0.5, "axes.axisbelow": True, "legend.frameon": False, "legend.fontsize": 7.5,
        "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "hatch.linewidth": 0.6, "savefig.dpi": DPI,
    })
    return plt


def _png(fig) -> bytes:
    plt = _plt()
    buf = BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.04, facecolor="white",
                pil_kwargs={"compress_level": 3})
    plt.close(fig)
    return buf.getvalue()


def _num(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return None


def _short(text: Any, n: int = 28) -> str:
    """A label wrapped onto lines of about ``n`` characters: never cut short."""
    import textwrap

    s = " ".join(str(text).split())
    if len(s) <= n:
        return s
    return "\n".join(textwrap.wrap(s, n, break_long_words=True, break_on_hyphens=False)) or s


# --- specific charts ----------------------------------------------------------------------


def holdout(r: CheckResult) -> list[Chart]:
    m = r.metrics
    roc = m.get("roc_curve") or {}
    cm = m.get("confusion_matrix") or {}
    fpr, tpr = roc.get("fpr"), roc.get("tpr")
    has_roc = isinstance(fpr, list) and isinstance(tpr, list) and len(fpr) == len(tpr) >= 2
    matrix, labels = cm.get("matrix"), cm.get("labels")
    has_cm = (isinstance(matrix, list) and matrix and isinstance(labels, list)
              and len(matrix) == len(labels) <= 12 and all(len(row) == len(labels) for row in matrix))
    if not (has_roc or has_cm):
        return []
    plt = _plt()
    n = int(has_roc) + int(has_cm)
    k = len(labels) if has_cm else 2
    fig, axes = plt.subplots(1, n, figsize=(WIDTH_IN, 2.7 if k <= 4 else min(5.5, 1.2 + 0.4 * k)),
                             gridspec_kw={"width_ratios": [1] * n})
    axes = [axes] if n == 1 else list(axes)
    parts = []
    if has_roc:
        ax = axes.pop(0)
        auc = _num(m.get("roc_auc"))
        ax.plot(fpr, tpr, color=DARK, lw=1.6, label=f"model (AUC {auc:.3f})" if auc is not None else "model")
        ax.plot([0, 1], [0, 1], color="#777777", lw=0.9, ls="--", label="chance")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("ROC curve on the holdout")
        ax.set_aspect("equal")
        ax.legend(loc="lower right")
        parts.append("ROC curve")
    if has_cm:
        ax = axes.pop(0)
        import numpy as np

        arr = np.array(matrix, dtype=float)
        ax.imshow(arr, cmap="Greys", vmin=0, vmax=max(arr.max(), 1) * 2.4)
        ax.grid(False)
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                ax.text(j, i, f"{int(arr[i, j]):,}" if arr[i, j] or k <= 4 else "", ha="center", va="center",
                        fontsize=9 if k <= 5 else 7,
                        fontweight="bold" if i == j else "normal", color="black")
        ticks = [_short(x, 12) for x in labels]
        ax.set_xticks(range(len(labels)), ticks)
        ax.set_yticks(range(len(labels)), ticks)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        thr = _num(m.get("threshold"))
        ax.set_title("Confusion matrix" + (f" (threshold {thr:g})" if thr is not None else ""))
        for s in ax.spines.values():
            s.set_visible(False)
        parts.append("confusion matrix (rows: actual, columns: predicted)")
    fig.tight_layout()
    return [(_png(fig), "Holdout: " + " and ".join(parts) + ".")]


def completeness(r: CheckResult) -> list[Chart]:
    cols = r.metrics.get("columns")
    if not isinstance(cols, dict):
        return []
    rows = []
    for name, v in cols.items():
        if not isinstance(v, dict):
            continue
        a, b = _num(v.get("missing_rate_train")) or 0.0, _num(v.get("missing_rate_test")) or 0.0
        t = _num(v.get("total_missing_rate"))
        t = max(t if t is not None else 0.0, 0.0)
        if a > 0 or b > 0 or t > 0:
            rows.append((name, a, b, t))
    if not rows:
        return []
    rows.sort(key=lambda x: max(x[1:]), reverse=True)
    rows = rows[:15][::-1]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.75 + 0.36 * len(rows)))
    h = 0.26
    ys = list(range(len(rows)))
    ax.barh([i + h for i in ys], [100 * x[1] for x in rows], height=h, color=DARK, label="empty cells, training")
    ax.barh(ys, [100 * x[2] for x in rows], height=h, color="white", edgecolor=DARK, hatch="////",
            label="empty cells, holdout")
    ax.barh([i - h for i in ys], [100 * x[3] for x in rows], height=h, color=LIGHT, edgecolor="#444444",
            hatch="..", label="all missing incl. placeholders and sentinels (both splits)")
    for i, x in zip(ys, rows, strict=True):
        ax.text(100 * max(x[1:]) , i, f"  {pct(max(x[1:]))}", va="center", fontsize=7)
    ax.set_yticks(ys, [_short(x[0], 30) for x in rows])
    ax.set_xlabel("% of rows")
    ax.set_xlim(0, max(100 * max(max(x[1:]) for x in rows) * 1.25, 1))
    ax.grid(axis="y", visible=False)
    fig.legend(loc="upper center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.9 if len(rows) > 2 else 0.82))
    more = len([1 for v in cols.values() if isinstance(v, dict)]) - len(rows)
    note = f" Columns with nothing missing are not shown ({more})." if more > 0 else ""
    return [(_png(fig), "Missing values per column: empty cells by split, and all missing values including "
             "disguised ones (placeholders such as '?', sentinel numbers such as -999)." + note)]


def calibration(r: CheckResult) -> list[Chart]:
    rel = r.metrics.get("reliability")
    if not isinstance(rel, list):
        return []
    pts = [(_num(b.get("mean_score")), _num(b.get("observed_rate")), b.get("observed_ci"), _num(b.get("count")))
           for b in rel if isinstance(b, dict)]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    if len(pts) < 2:
        return []
    plt = _plt()
    hist = r.metrics.get("score_histogram") or {}
    edges = hist.get("edges") if isinstance(hist, dict) else None
    series = [(k, v) for k, v in (hist.items() if isinstance(hist, dict) else []) if k != "edges" and isinstance(v, list)]
    has_hist = isinstance(edges, list) and len(edges) >= 2 and series and all(len(v) == len(edges) - 1 for _, v in series)
    fig, axes = plt.subplots(1, 2 if has_hist else 1, figsize=(WIDTH_IN, 2.8))
    ax = axes[0] if has_hist else axes
    ax.plot([0, 1], [0, 1], color="#777777", lw=0.9, ls="--", label="perfectly calibrated")
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    lo = [max(0.0, p[1] - p[2][0]) if isinstance(p[2], list) and len(p[2]) == 2 and _num(p[2][0]) is not None else 0
          for p in pts]
    hi = [max(0.0, p[2][1] - p[1]) if isinstance(p[2], list) and len(p[2]) == 2 and _num(p[2][1]) is not None else 0
          for p in pts]
    ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", color=DARK, ms=4, lw=1.3, capsize=2, elinewidth=0.8,
                label="observed (95% interval)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability (bin)")
    ax.set_ylabel("observed rate")
    ax.set_title("Reliability diagram")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7)  # below: never over the data
    if has_hist:
        ax2 = axes[1]
        import numpy as np

        e = np.array(edges, dtype=float)
        width = np.diff(e)
        styles = [dict(color=DARK), dict(color="white", edgecolor=DARK, hatch="////")]
        bottom = np.zeros(len(width))
        for (name, vals), st in zip(series[:2], styles, strict=False):
            v = np.array([_num(x) or 0 for x in vals])
            ax2.bar(e[:-1], v, width=width, align="edge", bottom=bottom, label=str(name), linewidth=0.5, **st)
            bottom += v
        ax2.set_xlim(0, 1)
        ax2.set_xlabel("predicted probability")
        ax2.set_ylabel("holdout rows")
        ax2.set_title("Score distribution")
        ax2.legend(loc="upper right")
    fig.tight_layout()
    return [(_png(fig), "Calibration: observed outcome rate against predicted probability, per score bin"
             + (", and the distribution of scores by outcome." if has_hist else "."))]


def bias_groups(r: CheckResult) -> list[Chart]:
    groups = r.metrics.get("groups")
    attrs = r.metrics.get("attributes") or (list(groups) if isinstance(groups, dict) else [])
    if not isinstance(groups, dict):
        return []
    metrics = [("selection_rate", "selection rate", "o", DARK), ("tpr", "true positive rate", "s", ACCENT),
               ("base_rate", "base rate (labels)", "^", "#555555")]
    d = r.metrics.get("direction") if isinstance(r.metrics.get("direction"), dict) else {}
    if d.get("positive_favorable") is not None:  # read from the harmed side, as the findings are
        metrics = [("favorable_rate", f"predicted favourable ({d.get('target')} = {d.get('favorable')})", "o", DARK),
                   ("false_adverse_rate", "wrongly adverse (false-adverse rate)", "s", ACCENT),
                   ("base_rate", "base rate (labels)", "^", "#555555")]
    panels = []
    for a in attrs[:3]:
        g = groups.get(a)
        if not isinstance(g, dict):
            continue
        rows = [(name, v) for name, v in g.items() if isinstance(v, dict) and _num(v.get("n"))]
        rows = rows[:10]
        if rows and any(_num(v.get(k)) is not None for _, v in rows for k, *_ in metrics):
            panels.append((a, rows))
    if not panels:
        return []
    plt = _plt()
    height = max(2.3, 1.0 + 0.42 * max(len(rows) for _, rows in panels))
    fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH_IN, height), sharex=True, squeeze=False)
    for ax, (attr, rows) in zip(axes[0], panels, strict=True):
        n = len(rows)
        for k, (key, label, marker, color) in enumerate(metrics):
            ys, xs, err_lo, err_hi = [], [], [], []
            for i, (_, v) in enumerate(rows):
                x = _num(v.get(key))
                if x is None:
                    continue
                ci = v.get(f"{key}_ci")
                ys.append(n - 1 - i + (k - 1) * 0.22)
                xs.append(100 * x)
                ok = isinstance(ci, list) and len(ci) == 2 and None not in ci
                err_lo.append(100 * (x - ci[0]) if ok else 0)
                err_hi.append(100 * (ci[1] - x) if ok else 0)
            if xs:
                ax.errorbar(xs, ys, xerr=[err_lo, err_hi], fmt=marker, color=color, ms=4, capsize=1.5,
                            elinewidth=0.8, label=label, mfc=color if marker != "^" else "white", mew=0.9)
        ax.set_yticks(range(n), [_short(f"{name} (n={int(_num(v.get('n')) or 0):,})", 24)
                                 for name, v in reversed(rows)])
        ax.set_title(str(attr))
        ax.set_xlabel("% of group")
        ax.grid(axis="y", visible=False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.28 / height))
    note = (" Favourable rate: lower harms; false-adverse rate: higher harms." if d.get("positive_favorable") is not None
            else " No favourable label was given: the chart does not say which side is harmed.")
    return [(_png(fig), "Rates by group with 95% intervals, per sensitive attribute (markers differ by metric)." + note)]


def abstention(r: CheckResult) -> list[Chart]:
    curve = r.metrics.get("curve")
    if not isinstance(curve, list):
        return []
    pts = [(_num(p.get("coverage")), _num(p.get("accuracy")), p.get("accuracy_ci")) for p in curve if isinstance(p, dict)]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    if len(pts) < 3:
        return []
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 0.62, 2.4))
    xs = [100 * p[0] for p in pts]
    ax.plot(xs, [100 * p[1] for p in pts], color=DARK, lw=1.5, marker="o", ms=2.5, label="accuracy of kept rows")
    lo = [100 * p[2][0] if isinstance(p[2], list) and len(p[2]) == 2 and p[2][0] is not None else None for p in pts]
    hi = [100 * p[2][1] if isinstance(p[2], list) and len(p[2]) == 2 and p[2][1] is not None else None for p in pts]
    if all(v is not None for v in lo + hi):
        ax.fill_between(xs, lo, hi, color=LIGHT, alpha=0.5, lw=0, label="95% interval")
    target = _num(r.metrics.get("target_accuracy"))
    if target is not None:
        ax.axhline(100 * target, color=ACCENT, ls="--", lw=1, label=f"target {100 * target:.1f}%")
    ax.invert_xaxis()
    ax.set_xlabel("coverage: % of rows decided by the model")
    ax.set_ylabel("accuracy, %")
    ax.set_title("Deferring uncertain rows to people")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)  # below the axes: never over the curve
    fig.tight_layout()
    return [(_png(fig), "Accuracy on the rows the model still decides, as the least confident rows are deferred.")]


def _cost(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def business_threshold(r: CheckResult) -> list[Chart]:
    """Expected cost per 1,000 decisions against the threshold (``business.threshold``)."""
    m = r.metrics
    curve = m.get("curve")
    if not isinstance(curve, dict):
        return []
    xs, ys = curve.get("threshold"), curve.get("cost_per_1000")
    if not (isinstance(xs, list) and isinstance(ys, list) and len(xs) == len(ys)):
        return []
    pts = sorted((x, y) for x, y in zip(map(_num, xs), map(_num, ys), strict=True) if x is not None and y is not None)
    if len(pts) < 2:
        return []
    cur = m.get("current") if isinstance(m.get("current"), dict) else {}
    opt = m.get("optimal") if isinstance(m.get("optimal"), dict) else {}
    cur_pt = (_num(cur.get("threshold")), _num(cur.get("cost_per_1000")))
    opt_pt = (_num(opt.get("threshold")), _num(opt.get("cost_per_1000")))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.0))
    ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color=DARK, lw=1.5, zorder=3,
            label="expected cost using the model")
    ci = opt.get("threshold_ci")
    ci = [_num(v) for v in ci] if isinstance(ci, list) and len(ci) == 2 else [None, None]
    if None not in ci and ci[0] <= ci[1]:
        ax.axvspan(ci[0], ci[1], facecolor=LIGHT, alpha=0.45, edgecolor="#6f8aa6", hatch="....", lw=0,
                   label=f"95% interval of the cheapest threshold ({ci[0]:.3g}–{ci[1]:.3g})")
    bayes = m.get("bayes")
    bt = _num(bayes.get("threshold")) if isinstance(bayes, dict) else None
    if bt is not None:
        ax.axvline(bt, color="#555555", ls="-.", lw=0.9,
                   label=f"threshold the costs imply for calibrated probabilities ({bt:.3g})")
    if m.get("scores_are_probabilities") is True:
        x0, x1 = 0.0, 1.0
    else:
        lo = min(_num(m.get("score_min")) or pts[0][0], pts[0][0])
        hi = max(_num(m.get("score_max")) or pts[-1][0], pts[-1][0])
        pad = (hi - lo) * 0.03 or 1.0
        x0, x1 = lo - pad, hi + pad
    ax.set_xlim(x0, x1)
    top = max(p[1] for p in pts)
    # the no-model policies, labelled at the right end of their lines, outside the plot, where
    # neither the curve nor a marker's label can be; labels of close lines are pushed apart
    lines = [(y, name, ls) for key, name, ls in (("flag_all_cost_per_1000", "flag everyone", ":"),
                                                  ("flag_none_cost_per_1000", "flag no one", "--"))
             if (y := _num(m.get(key))) is not None]
    top = max([top] + [y for y, *_ in lines])
    x_low = min(pts, key=lambda p: p[1])[0]
    sep = 0.25 * top  # a two-line label's height in data units at this figure size
    ys_text = [y for y, *_ in lines]
    if len(lines) == 2 and abs(ys_text[0] - ys_text[1]) < sep:
        mid, up = (ys_text[0] + ys_text[1]) / 2, 1 if ys_text[0] >= ys_text[1] else -1
        ys_text = [mid + up * sep / 2, mid - up * sep / 2]
    for (y, name, ls), yt in zip(lines, ys_text, strict=True):
        ax.axhline(y, color="#444444", ls=ls, lw=1.1)
        ax.annotate(f"{name}\n(no model): {_cost(y)}", (x1, y), xytext=(x1 + 0.03 * (x1 - x0), yt),
                    textcoords="data", ha="left", va="center", fontsize=7, color="#222222", annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", lw=0.6, color="#444444", shrinkA=0, shrinkB=2))
    same = cur_pt == opt_pt
    gap = 0.11 * top  # about one label's height at this figure size

    def point_label(pt, text, left):
        """Below the point (on the side where the curve climbs away); above it when a no-model
        line is right below and none right above."""
        below = (not any(pt[1] - gap <= y <= pt[1] for y, *_ in lines)
                 or any(pt[1] <= y <= pt[1] + gap for y, *_ in lines))
        ax.annotate(text, pt, xytext=(-7 if left else 7, -5 if below else 5), textcoords="offset points",
                    ha="right" if left else "left", va="top" if below else "bottom", fontsize=7.5,
                    fontweight="bold", color="#222222", bbox=dict(facecolor="white", alpha=0.8, lw=0, pad=0.6))

    if None not in cur_pt:
        ax.plot(*cur_pt, ls="none", marker="o", ms=6.5, mfc="white", mec=ACCENT, mew=1.6, zorder=5)
        point_label(cur_pt, f"{'current = cheapest' if same else 'current'} {cur_pt[0]:g}: {_cost(cur_pt[1])}",
                    cur_pt[0] < x_low or cur_pt[0] > x0 + 0.75 * (x1 - x0))
    if None not in opt_pt and not same:
        ax.plot(*opt_pt, ls="none", marker="*", ms=11, mfc=DARK, mec="white", mew=0.6, zorder=6)
        point_label(opt_pt, f"cheapest {opt_pt[0]:g}: {_cost(opt_pt[1])}", opt_pt[0] > x0 + 0.75 * (x1 - x0))
    ax.set_ylim(0, top * 1.14)
    ax.set_xlabel("threshold: a case is flagged when its score is at least this")
    ax.set_ylabel("expected cost per 1,000 decisions\n(your cost units)")
    fp, fn = _num(m.get("cost_fp")), _num(m.get("cost_fn"))
    costs = f" (a false alarm costs {fp:g}, a missed positive {fn:g})" if fp is not None and fn is not None else ""
    ax.set_title("Expected cost by threshold" + costs)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7)
    fig.tight_layout()
    return [(_png(fig), "Business threshold: expected cost per 1,000 decisions at every threshold on the holdout, "
             "with the current and the cheapest threshold, and the cost of the two policies that need no model "
             "(flag everyone, flag no one).")]


_BASELINES, _BAYES = "baselines.comparison", "feasibility.bayes_error"


def _drawable(r: CheckResult | None) -> bool:
    return r is not None and r.status.value not in ("skipped", "error") and bool(r.metrics)


def _ladder(bayes: CheckResult | None, baselines: CheckResult | None):
    """Rungs (from :func:`readiness.charts.feasibility.ladder_rows`, the app's data), the
    Bayes-error range and the target error; ``None`` when there is nothing to draw."""
    from readiness.charts.feasibility import ladder_rows

    rows: list[dict] = []
    for base in (baselines, None):  # odd baseline metrics: still the model's rung from the Bayes check
        try:
            rows = ladder_rows(bayes, base)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            continue
        rows = [x for x in rows if isinstance(x, dict) and _num(x.get("error")) is not None]
        break
    band = target = None
    if _drawable(bayes):
        m = bayes.metrics
        # the band is the 95% range the verdict uses (feasibility.bayes_error), not the point estimates
        lo, hi = _num(m.get("ber_lower_low")), _num(m.get("ber_upper_high"))
        if lo is None or hi is None:
            lo, hi = _num(m.get("ber_lower")), _num(m.get("ber_upper"))
        if lo is not None and hi is not None and lo <= hi:
            band = (lo, hi, lo, hi)
        target = _num(m.get("target_error"))
    if not rows and band is None:
        return None
    trusted = not _drawable(bayes) or bayes.metrics.get("lower_bound_trusted") is not False
    return rows, band, target, trusted


def _error_ladder(bayes: CheckResult | None, baselines: CheckResult | None) -> list[Chart]:
    found = _ladder(bayes, baselines)
    if found is None:
        return []
    rows, band, target, trusted = found
    plt = _plt()
    n = len(rows) + (band is not None)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.15 + 0.36 * n))
    styles = {"baseline": dict(marker="o", mfc="white", mec="#555555", color="#555555", ms=5),
              "best baseline": dict(marker="s", mfc="#555555", mec="#555555", color="#555555", ms=5),
              "model": dict(marker="D", mfc=DARK, mec=DARK, color=DARK, ms=6)}
    ticks = []
    xmax = 0.05
    for i, row in enumerate(rows):
        y = n - 1 - i
        e = _num(row["error"])
        lo, hi = _num(row.get("low")), _num(row.get("high"))
        lo, hi = (lo if lo is not None else e), (hi if hi is not None else e)
        st = styles.get(row.get("kind"), styles["baseline"])
        ax.errorbar([100 * e], [y], xerr=[[100 * max(e - lo, 0)], [100 * max(hi - e, 0)]], fmt="none",
                    ecolor=st["color"], elinewidth=1.1, capsize=2.5)
        ax.plot([100 * e], [y], ls="none", zorder=4, **{k: v for k, v in st.items() if k != "color"})
        ax.annotate(pct(e), (100 * e, y), xytext=(0, 4.5), textcoords="offset points", ha="center",
                    va="bottom", fontsize=7, fontweight="bold" if row.get("kind") == "model" else "normal",
                    bbox=dict(facecolor="white", alpha=0.8, lw=0, pad=0.4))
        label = _short(row.get("label", row.get("key", "")), 34)
        ticks.append((y, label + (" (best baseline)" if row.get("kind") == "best baseline" else "")))
        xmax = max(xmax, hi)
    if band is not None:
        lo, hi, lo95, hi95 = band
        ax.axvspan(100 * lo, 100 * hi, facecolor=LIGHT, alpha=0.35, edgecolor="#6f8aa6", hatch="////", lw=0,
                   zorder=0)
        ax.barh([0], [100 * (hi - lo)], left=[100 * lo], height=0.45, color="white", edgecolor=DARK,
                hatch="////", lw=0.9, zorder=3)
        if round(100 * lo, 1) == round(100 * hi, 1):  # a range of one point: a bar too thin to see
            ax.plot([100 * lo], [0], ls="none", marker="|", ms=11, mew=1.8, color=DARK, zorder=4)
        ends = " (95%)"
        rng = f"{100 * lo:.1f}%" if round(100 * lo, 1) == round(100 * hi, 1) else f"{100 * lo:.1f}–{100 * hi:.1f}%"
        ax.annotate(f"{rng}{ends}",
                    (100 * max(hi, hi95), 0), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7,
                    bbox=dict(facecolor="white", alpha=0.8, lw=0, pad=0.4))
        ticks.append((0, "Best possible model\n(Bayes error, 95% range)"))
        xmax = max(xmax, hi95)
    if target is not None:
        xmax = max(xmax, target)
        ax.axvline(100 * target, color=ACCENT, ls="--", lw=1.2, zorder=1)
        right = target > 0.55 * xmax
        ax.text(100 * target, n - 0.45, f" target: at most {100 * target:.1f}% wrong ({100 * (1 - target):.1f}% "
                "accuracy) ", ha="right" if right else "left", va="bottom", fontsize=7, color=ACCENT,
                fontweight="bold")
    ax.set_ylim(-0.6, n - 0.4 + (0.45 if target is not None else 0))
    ax.set_xlim(0, 100 * xmax * 1.3)
    ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=False):
        if row.get("kind") == "model":
            tick.set_fontweight("bold")
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("error rate, % (share of rows predicted wrong); lower is better")
    kinds = {row.get("kind") for row in rows}
    shown = [w for ok, w in ((bool(kinds - {"model"}), "simple baselines"), ("model" in kinds, "the model"),
                             (band is not None, "the best possible error")) if ok]
    ax.set_title("Error ladder: " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]))
    fig.tight_layout()
    who = " and ".join(w for k, w in (("baseline", "of each simple baseline"), ("model", "of the model")) if
                       k in kinds or (k == "baseline" and "best baseline" in kinds))
    parts = [f"Error ladder: error rate {who} on the holdout, with 95% intervals" if who else
             "Error ladder: the model's error rate is not in the metrics"]
    if band is not None:
        parts.append("the hatched band is the estimated error of the best possible model with these features "
                     "(Bayes error), as a 95% range" + ("" if trusted else "; its lower end rests on conflicting "
                                                         "labels alone here, see the findings"))
    if target is not None:
        parts.append("the dashed line is the target error")
    return [(_png(fig), "; ".join(parts) + ".")]


def feasibility_ladder(r: CheckResult, review=None) -> list[Chart]:
    """One error ladder for the two feasibility checks: drawn in the Bayes-error section,
    or in the baselines section when the review has no drawable Bayes-error result."""
    find = getattr(review, "check", None)
    other = find(_BAYES if r.id == _BASELINES else _BASELINES) if callable(find) else None
    bayes, baselines = (r, other) if r.id == _BAYES else (other, r)
    if r.id == _BASELINES and _drawable(bayes) and _ladder(bayes, baselines if _drawable(baselines) else None):
        return []  # the ladder is in the Bayes-error section
    return _error_ladder(bayes, baselines if _drawable(baselines) else None)


# --- generic: a ranking found in any check's metrics ----------------------------------------

_RANK_KEYS = ("importance", "shap", "ranking", "ranked", "top_features", "feature_target", "drift", "scores")
_NAME_FIELDS = ("feature", "column", "name", "group", "variable")
_VALUE_FIELDS = ("importance", "mean_abs_shap", "mean_abs", "score", "value", "auc", "mutual_information",
                 "psi", "statistic", "drop", "weight")


def _ranking(metrics: dict) -> tuple[str, list[tuple[str, float]]] | None:
    for key, val in metrics.items():
        if not any(k in key.lower() for k in _RANK_KEYS):
            continue
        items: list[tuple[str, float]] = []
        if isinstance(val, dict) and len(val) >= 3 and all(_num(v) is not None for v in val.values()):
            items = [(str(k), float(v)) for k, v in val.items()]
        elif isinstance(val, list) and len(val) >= 3 and all(isinstance(v, dict) for v in val):
            nf = next((f for f in _NAME_FIELDS if all(f in v for v in val)), None)
            vf = next((f for f in _VALUE_FIELDS if all(_num(v.get(f)) is not None for v in val)), None)
            if nf and vf:
                items = [(str(v[nf]), float(v[vf])) for v in val]
                key = f"{key} ({vf.replace('_', ' ')})"
        if items:
            items.sort(key=lambda t: abs(t[1]), reverse=True)
            return key, items[:15]
    return None


# rankings with a known meaning: check id -> (metric, axis label, caption, as a percentage)
RANKINGS = {
    "explanations.shap": ("importance_share", "share of the explained effect, %",
                          "Each feature's share of the model's explained effect (mean absolute SHAP value), largest "
                          "first.", True),
    "explanations.permutation": ("importance_share", "share of the holdout performance, %",
                                 "Each feature's share of the drop in holdout performance when it is scrambled "
                                 "(permutation importance), largest first.", True),
    "drift.multivariate": ("feature_importance", "ROC AUC lost when the feature is shuffled",
                           "What lets a classifier tell holdout rows from training rows: the ROC AUC it loses when "
                           "each feature is shuffled, largest first.", False),
    "robustness.perturbation": ("flip_rate_by_feature", "decisions that flip, %",
                                "Share of holdout decisions that flip when only this feature changes a little (5% of "
                                "its spread, or another observed value), largest first.", True),
}


def ranked_bars(r: CheckResult) -> list[Chart]:
    known = RANKINGS.get(r.id)
    found = None
    if known and isinstance(r.metrics.get(known[0]), dict):
        found = _ranking({known[0]: r.metrics[known[0]]})
    if found:
        _key, items = found
        axis, caption, as_pct = known[1], known[2], known[3]
    else:
        found = _ranking(r.metrics)
        if not found:
            return []
        key, items = found
        words = " ".join(key.replace("_", " ").split())
        axis, caption, as_pct = words, f"Ranking from the check's metrics ({words}), largest first.", False
    items = items[::-1]
    scale = 100.0 if as_pct else 1.0
    plt = _plt()
    labels = [_short(n, 30) for n, _ in items]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 0.8, 0.5 + 0.16 * lines + 0.08 * len(items)))
    ax.barh(range(len(items)), [scale * v for _, v in items], color=DARK, height=0.6)
    ax.set_yticks(range(len(items)), labels)
    ax.set_xlabel(axis)
    ax.grid(axis="y", visible=False)
    ax.set_title(_short(r.title, 70))
    fig.tight_layout()
    return [(_png(fig), caption + (f" Top {len(items)}." if len(items) >= 15 else ""))]


def comparison_champion(r: CheckResult) -> list[Chart]:
    from readiness.charts.comparison import (
        who_gains_who_loses_pdf,  # the page's rows, drawn for print
    )

    return who_gains_who_loses_pdf(r)


def weak_segments(r: CheckResult) -> list[Chart]:
    """segments.weak: each reported slice's observed value (95% interval) beside what the scores promise there."""
    from readiness.charts.where_it_fails import segment_rows  # the page's rows, drawn for print

    rows = segment_rows(r)[::-1]
    if not rows:
        return []
    scale = SEGMENT_SCALE.get(r.metrics.get("metric"), 1.0)
    plt = _plt()
    labels = [_short(f"{x['label']} ({x['rows']:,} rows)", 40) for x in rows]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.9 + 0.17 * lines + 0.12 * len(rows)))
    for kind, color, marker in (("under-delivering", ACCENT, "o"), ("hard (as promised)", DARK, "s")):
        sel = [i for i, x in enumerate(rows) if x["kind"] == kind]
        if not sel:
            continue
        v = [scale * rows[i]["value"] for i in sel]
        err = [[scale * (rows[i]["value"] - rows[i]["low"]) for i in sel],
               [scale * (rows[i]["high"] - rows[i]["value"]) for i in sel]]
        ax.errorbar(v, sel, xerr=err, fmt=marker, color=color, capsize=3, label=f"observed: {kind}")
    ax.scatter([scale * x["expected"] for x in rows], range(len(rows)), marker="|", s=220, linewidths=2.5,
               color=LIGHT, label="what the scores promise", zorder=3)
    ax.axvline(scale * rows[0]["overall"], color="#6e7781", linestyle="--", linewidth=1, label="whole holdout")
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(SEGMENT_AXIS.get(r.metrics.get("metric"), "value"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    fig.tight_layout()
    return [(_png(fig), "Each reported slice: what the model achieved (dot, 95% interval, measured on the half of the "
                        "holdout the search never used) against what its own scores promise there (tick). Red "
                        "circles fall short of the promise; dark squares are hard but as promised.")]


RENDERERS: dict[str, Callable[[CheckResult], list[Chart]]] = {
    "evaluation.holdout": holdout,
    "data_quality.completeness": completeness,
    "calibration": calibration,
    "bias.groups": bias_groups,
    "uncertainty.abstention": abstention,
    "business.threshold": business_threshold,
    "comparison.champion": comparison_champion,
    "segments.weak": weak_segments,
}
# renderers that also read another check of the same review
WITH_REVIEW: dict[str, Callable[..., list[Chart]]] = {
    "baselines.comparison": feasibility_ladder,
    "feasibility.bayes_error": feasibility_ladder,
}


def charts_for(result: CheckResult, review=None) -> list[Chart]:
    """PNG charts for one result: a specific renderer when its id is known, else a ranking
    if the metrics hold one. ``review`` (a :class:`ReviewReport`) lets a renderer read a
    related check (the error ladder joins the baselines and the Bayes error). Never raises."""
    if result.status.value in ("skipped", "error"):
        return []
    try:
        if result.id in WITH_REVIEW:
            return WITH_REVIEW[result.id](result, review)
        return RENDERERS.get(result.id, ranked_bars)(result)
    except Exception as exc:  # a chart must never break the report
        log.warning("chart for %s failed: %s: %s", result.id, type(exc).__name__, exc)
        try:
            _plt().close("all")
        except Exception:
            pass
        return []
