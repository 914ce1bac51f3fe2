"""Review history: which model versions were reviewed, by whom, with which outcome."""

from __future__ import annotations

import streamlit as st

from pages._auth import auth_enabled, policy, viewer
from pages._ui import esc, state
from readiness.errors import AccessConfigError
from readiness.fmt import counted
from readiness.report.canonical import outcome_word
from readiness.report.pdf import PDF_STATUS_MARK
from readiness.results import Status
from readiness.store import (
    SchemaError,
    StoreError,
    display_url,
    holdout_key_for,
    last_error,
    shared_store,
)
from readiness.style import STATUS_WORD

st.title("Review history")
me = viewer()
if me is None:  # app.py asks for a sign-in first; this page never relies on that alone
    st.info("Sign in to see the reviews of your projects.", icon=":material/lock:")
    st.stop()
try:
    rules = policy()
except AccessConfigError as err:
    st.error(esc(err), icon=":material/error:")
    st.stop()
operator = rules.is_operator(me)
s = state()
if not auth_enabled():
    st.info("**Authentication is off**: anyone who can open this app sees every review, report and signature "
            "below. That suits one person on their own machine (the app listens on localhost only). To serve it "
            "to a team, turn on sign-in and per-project access first (SECURITY.md).", icon=":material/lock_open:")

try:
    store = shared_store()
except StoreError as err:  # a SchemaError names its own fix (readiness db upgrade); the next visit retries
    fix = "" if isinstance(err, SchemaError) else (" Set the `READINESS_DB` environment variable to a writable "
                                                  "SQLite file or a database URL, then restart the app.")
    st.error(f"{esc(err) if operator else 'The review history is unavailable.'}{fix}", icon=":material/error:")
    st.stop()
if operator:
    st.caption(f"Every completed review, report and signature, stored in `{display_url(store.url)}` "
               "(set `READINESS_DB` to use another file or a database URL such as PostgreSQL).")
    if last_error():
        st.warning(f"The last write to the history failed: {esc(last_error())}", icon=":material/warning:")
else:
    st.caption(f"Reviews, reports and signatures of the projects you may see, as **{esc(me.name or me.email)}**. "
               "Ask the app's operator for access to another project.")

projects = rules.visible_projects(me, store.projects())
if not operator and not projects:
    st.info("You have access to no project's reviews yet. Ask the app's operator to add you (SECURITY.md, "
            "per-project access).", icon=":material/lock:")
    st.stop()
everything = "All projects" if operator else "All my projects"
flt = st.selectbox("Project", [everything, *projects]) if projects else everything
if flt != everything:
    rows = store.history(project=flt)
elif operator:
    rows = store.history()
else:
    rows = sorted((r for p in projects for r in store.history(project=p)), key=lambda r: r.created_at or "",
                  reverse=True)
rows = rules.visible(me, rows)
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
            "Decision": r.decision_text(),
            "Signed by": who or ("—" if r.record_id else ""),
            "Open signatures": open_ if r.record_id else None,
            "Source": r.source or "",
            "Record": r.record_id or "",
        })
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Checks": st.column_config.TextColumn(help="worst status of the review's checks"),
        "Open signatures": st.column_config.NumberColumn(help="planned signers who have not signed yet")})
    for r in rows:
        if r.superseded_at:
            st.caption(f"Superseded {r.superseded_at[:16].replace('T', ' ')} UTC: {esc(r.project or '—')} · "
                       f"{esc(r.model_name or '—')} {esc(r.model_version or '')} (record `{esc(r.record_id)}`) — "
                       f"{esc(r.superseded_reason or 'no reason recorded')}.")
    with st.expander("Download a stored review record (the exact signed JSON bytes)"):
        ids = [r.record_id for r in rows if r.record_id]
        if ids:
            pick = st.selectbox("Record", ids, format_func=lambda i: next(
                f"{r.created_at[:16].replace('T', ' ')} · {r.project} · {r.model_name} {r.model_version}"
                for r in rows if r.record_id == i))
            allowed = any(r.record_id == pick for r in rows)  # the rows are this viewer's only
            data = store.record_data(pick) if allowed else None
            if data:
                st.download_button("Download review-record.json", data, file_name=f"review-record-{pick}.json",
                                   mime="application/json", on_click="ignore")
        else:
            st.caption("No report has been built yet.")

if not operator:
    st.stop()  # holdout digests and counts across every project are the operator's view

st.subheader("Holdout reuse")
st.caption("Each distinct evaluation of a holdout file spends some of its reuse budget (see Feasibility / "
           "Grade-your-own-exam). Re-running the identical review counts once.")
counts = store.holdout_counts()
key = holdout_key_for(s.ctx) if s.ctx is not None else None
if key and not s.is_sample:
    n = next((c["evaluations"] for c in counts if c["test_sha256"] == key), 0)
    st.markdown(f"This review's holdout (`{key[:16]}…`) has **{counted(n, 'recorded evaluation')}**, this one included.")
if counts:
    st.dataframe([{"Holdout SHA-256": c["test_sha256"], "Evaluations": c["evaluations"],
                   "First (UTC)": (c["first"] or "")[:16].replace("T", " "),
                   "Last (UTC)": (c["last"] or "")[:16].replace("T", " ")} for c in counts],
                 hide_index=True, width="stretch")
else:
    st.caption("No holdout evaluation recorded yet.")
