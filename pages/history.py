"""Review history: which model versions were reviewed, by whom, with which outcome."""

from __future__ import annotations

import streamlit as st

from pages._ui import state
from readiness.report.canonical import outcome_word
from readiness.report.pdf import PDF_STATUS_MARK
from readiness.results import Status
from readiness.store import StoreError, display_url, holdout_key_for, last_error, shared_store
from readiness.style import STATUS_WORD

s = state()
st.title("Review history")

try:
    store = shared_store()
except StoreError as err:
    st.error(f"{err} Set the `READINESS_DB` environment variable to a writable SQLite file or a database URL, "
             "then restart the app.", icon=":material/error:")
    st.stop()
st.caption(f"Every completed review, report and signature, stored in `{display_url(store.url)}` "
           "(set `READINESS_DB` to use another file or a database URL such as PostgreSQL).")
if last_error():
    st.warning(f"The last write to the history failed: {last_error()}", icon=":material/warning:")

projects = store.projects()
flt = st.selectbox("Project", ["All projects", *projects]) if projects else "All projects"
rows = store.history(project=None if flt == "All projects" else flt)
if not rows:
    st.info("No review is recorded yet. Reviews run in **Setup** (or with `readiness review`) and reports built on "
            "**Report & sign-off** appear here. The sample review is not recorded.", icon=":material/history:")
else:
    reviewed = sum(1 for r in rows if r.record_id)
    c = st.columns(3)
    c[0].metric("Reviews", len(rows))
    c[1].metric("Reports built", reviewed)
    c[2].metric("Signatures", sum(len(r.signatures) for r in rows))
    table = []
    for r in rows:
        who = "; ".join(f"{x['signer_name']} ({x['role']}: {outcome_word(x['decision'])})" for x in r.signatures)
        open_ = len(r.signers_planned) - len(r.signatures) if r.record_id else 0
        table.append({
            "When (UTC)": (r.created_at or "")[:16].replace("T", " "),
            "Project": r.project or "—",
            "Model": r.model_name or "—",
            "Version": r.model_version or "—",
            "Checks": f"{PDF_STATUS_MARK[Status(r.status)]} {STATUS_WORD[Status(r.status)]}" if r.status else "—",
            "Decision": outcome_word(r.decision) if r.record_id else "no report",
            "Signed by": who or ("—" if r.record_id else ""),
            "Open signatures": open_ if r.record_id else None,
            "Source": r.source or "",
            "Record": r.record_id or "",
        })
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Checks": st.column_config.TextColumn(help="worst status of the review's checks"),
        "Open signatures": st.column_config.NumberColumn(help="planned signers who have not signed yet")})
    with st.expander("Download a stored review record (the exact signed JSON bytes)"):
        ids = [r.record_id for r in rows if r.record_id]
        if ids:
            pick = st.selectbox("Record", ids, format_func=lambda i: next(
                f"{r.created_at[:16].replace('T', ' ')} · {r.project} · {r.model_name} {r.model_version}"
                for r in rows if r.record_id == i))
            data = store.record_data(pick)
            if data:
                st.download_button("Download review-record.json", data, file_name=f"review-record-{pick}.json",
                                   mime="application/json", on_click="ignore")
        else:
            st.caption("No report has been built yet.")

st.subheader("Holdout reuse")
st.caption("Each distinct evaluation of a holdout file spends some of its reuse budget (see Feasibility / "
           "Grade-your-own-exam). Re-running the identical review counts once.")
counts = store.holdout_counts()
key = holdout_key_for(s.ctx) if s.ctx is not None else None
if key and not s.is_sample:
    n = next((c["evaluations"] for c in counts if c["test_sha256"] == key), 0)
    st.markdown(f"This review's holdout (`{key[:16]}…`) has **{n}** recorded evaluation(s), this one included.")
if counts:
    st.dataframe([{"Holdout SHA-256": c["test_sha256"], "Evaluations": c["evaluations"],
                   "First (UTC)": (c["first"] or "")[:16].replace("T", " "),
                   "Last (UTC)": (c["last"] or "")[:16].replace("T", " ")} for c in counts],
                 hide_index=True, width="stretch")
else:
    st.caption("No holdout evaluation recorded yet.")
