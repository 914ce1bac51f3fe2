"""Sections of the "Where it fails" checks shown on other pages (rendering only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._ui import esc, pct, status_text
from readiness.results import ReviewReport, Status


def counterfactual_section(report: ReviewReport) -> None:
    """The Bias page's view of ``robustness.perturbation``: decisions changed by a sensitive attribute alone."""
    res = report.check("robustness.perturbation")
    if res is None or res.status in (Status.SKIPPED, Status.ERROR) or not res.metrics.get("sensitive_flip_rate"):
        return
    m = res.metrics
    st.divider()
    st.subheader("Decisions changed by a sensitive attribute alone", anchor="counterfactual")
    st.caption("The counterfactual test: the same people, only the sensitive attribute changed (swapped, or set to "
               "each other value), re-scored by the model. A decision that changes is one the attribute made on its own.")
    warned = any(f.severity == "warn" and f.columns and f.columns[0] in m["sensitive_flip_rate"] for f in res.findings)
    st.markdown(status_text(Status.WARN if warned else Status.PASS) + " — " + (
        "the model treats otherwise identical people differently by a sensitive attribute" if warned else
        "no sensitive attribute changes decisions on its own beyond chance"))
    cols = st.columns(max(1, len(m["sensitive_flip_rate"])))
    for col, (attr, rate) in zip(cols, m["sensitive_flip_rate"].items(), strict=False):
        d = m["sensitive_detail"].get(attr)
        col.metric(f"'{esc(attr)}' alone changes", pct(rate),
                   help="Share of holdout rows whose decision changes when only this attribute changes"
                        + ("" if d else " (not a model input: 0 by construction; proxies are shown above)"))
        if d:
            col.caption(f"95% interval {pct(d['ci'][0])} – {pct(d['ci'][1])} · {d['rows']:,} rows")
    rows = [{"attribute": attr, "group": g, "changed to": to, "decisions that change": pct(rate)}
            for attr, d in m["sensitive_detail"].items() for g, moves in d["by_group"].items()
            for to, rate in moves.items()]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.page_link("pages/where_it_fails.py", label="All perturbations are on the Where it fails page",
                 icon=":material/troubleshoot:")
