"""Overview: the verdict and the nine anti-patterns as a scorecard."""

import streamlit as st

from pages._ui import area_page, basis_line, esc, review, status_link, status_text
from readiness.antipatterns import ANTIPATTERNS
from readiness.fmt import basis_overview, byte_size
from readiness.registry import registered_checks
from readiness.results import DATA_REVIEW_NOTE, Status, worst_status
from readiness.style import overall_verdict

ctx, report = review()
specs = {s.id: s for s in registered_checks()}

st.title("Overview")
counts = {s: sum(c.status == s for c in report.checks) for s in Status}
overall = report.status
verdict = overall_verdict(overall, data_only=report.data_only) + {
    Status.PASS: " Read the evidence, then sign off on the Report page.",
    Status.FAIL: " See the failing checks below.",
    Status.ERROR: " See the errors below.",
}.get(overall, "")
st.markdown(f"### {status_text(overall)} — {verdict}")
if report.data_only:
    st.info(DATA_REVIEW_NOTE, icon=":material/dataset:")
if basis_overview(report.checks):  # a review an engine ran (a dataset on the server, or the CLI's --engine)
    st.caption(f":material/functions: {basis_overview(report.checks)}")
cols = st.columns(5)
for col, s, help_ in zip(cols, Status, [
    "checks that found nothing of concern", "checks that need judgement", "checks that found a blocking problem",
    "checks that did not apply to this model or data", "checks that could not run"], strict=True):
    col.metric(status_text(s, color=False), counts[s], help=help_)

st.markdown("## Anti-pattern scorecard")
st.caption("The nine MLOps anti-patterns (Muralidhar et al., 2021). Each card shows the worst status of the checks "
           "that give evidence on it.")
for row_start in range(0, len(ANTIPATTERNS), 3):
    row = st.columns(3)
    for col, ap in zip(row, ANTIPATTERNS[row_start:row_start + 3], strict=False):
        related = [c for c in report.checks if ap.id in c.antipatterns]
        with col.container(border=True):
            if related:
                st.markdown(f"#### {status_text(worst_status(c.status for c in related))}")
            else:
                st.markdown("#### :gray[:material/help: Not assessed]")
            st.markdown(f"**{ap.title}**")
            st.caption(ap.question)
            for c in related:
                page = area_page(specs[c.id].area) if c.id in specs else None
                short = c.title.split(":")[0].split(" (")[0]
                if page:
                    status_link(page, c, label=short)
                else:
                    st.markdown(f"{status_text(c.status)} · {short}")
            if not related:
                st.caption("No check in this review gives evidence on this; reviewers must judge it themselves.")

cats = report.check("bias.categories")
if cats is not None and cats.metrics.get("categories"):
    st.markdown("## Seven sources of harm")
    st.caption("Suresh & Guttag's harm categories, each with what the data shows (details on the Bias page).")
    order = cats.metrics["order"]
    per_row = 4  # seven cards in one row break words like "Representation" mid-word
    for start in range(0, len(order), per_row):
        cols = st.columns(per_row)
        for col, key in zip(cols, order[start:start + per_row], strict=False):
            card = cats.metrics["categories"][key]
            with col.container(border=True):
                st.markdown(f"**{status_text(card['status'])}**")
                st.markdown(f"**{cats.metrics['titles'][key].replace(' bias', '')}**")
    groups_res = report.check("bias.groups")  # who bears the harm, in the check's own words
    if groups_res is not None and groups_res.status not in (Status.SKIPPED, Status.ERROR):
        for head in list((groups_res.metrics.get("selection") or {}).values())[:2]:
            st.markdown(f":material/balance: {esc(head['message'])}")
        if groups_res.status in (Status.WARN, Status.FAIL):
            st.markdown(f"{status_text(groups_res.status)} · {esc(groups_res.summary)}")
    if area_page("bias"):
        status_link(area_page("bias"), cats)

st.markdown("## Every check")
for c in report.checks:
    with st.container(border=True):
        left, right = st.columns([2, 7])
        left.markdown(f"**{status_text(c.status)}**")
        right.markdown(f"**{c.title}** — {esc(c.summary)}")
        with right:
            basis_line(c)

with st.expander("Inputs and lineage"):
    # the same figures as the PDF's lineage table: sizes in KB/MB, "–" where a model file has no rows
    st.dataframe([{"role": f.role, "file": f.name, "rows": "–" if f.rows is None else f"{f.rows:,}",
                   "columns": "–" if f.columns is None else f"{f.columns:,}", "size": byte_size(f.size_bytes),
                   "sha256": f.sha256} for f in report.inputs], hide_index=True)
    st.caption(f"Model: {esc(report.model.name)} ({esc(report.model.estimator or report.model.kind)}) · task: {report.task} · "
               f"review ran {report.created_at} in {report.duration_s:.1f} s")
