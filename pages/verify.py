"""Verify a report: who signed what, and whether anything changed since."""

from __future__ import annotations

import streamlit as st

from pages._ui import esc, state
from readiness.report.canonical import outcome_word
from readiness.report.verify import (
    UNTRUSTED,
    VerifyInputError,
    describe_certificates,
    verify_report,
)

s = state()
so = s.extras.get("signoff", {})
ve = s.extras.setdefault("verify", {})

st.title("Verify a report")
st.caption("Upload a signed review report (PDF). Every signature is checked: the signed bytes are unchanged, no "
           "later change beyond the planned signatures, each signer's signature over the attached review record, "
           "and — with the signers' certificates — who signed. Nothing is uploaded anywhere else.")

c1, c2 = st.columns([3, 2])
up = c1.file_uploader("Signed report (PDF)", type=["pdf"], key="verify_pdf")
certs = c2.file_uploader("Trusted signer certificates (PEM or DER)", type=["pem", "crt", "cer", "der"],
                         accept_multiple_files=True, key="verify_certs",
                         help="The certificates the signers shared with you. Without them, the report can be shown "
                              "intact, but not who signed it: anyone can make a certificate with any name.")
session_certs = list(so.get("certs", {}).values())
use_session = False
if session_certs:
    use_session = c2.checkbox(
        f"Also trust the {len(session_certs)} certificate(s) that signed in this browser session", value=False,
        help="Tick this only if you saw these people sign here. A key made in this session proves only that "
             "someone using this browser made it, not who they are.")
with st.expander("Also check the input files (their SHA-256 must match the report)"):
    i1, i2, i3 = st.columns(3)
    inputs = {}
    for col, role, label in ((i1, "train", "Training data"), (i2, "test", "Holdout data"), (i3, "model", "Model")):
        f = col.file_uploader(label, key=f"verify_{role}")
        if f is not None:
            inputs[role] = f.getvalue()

pdf = up.getvalue() if up is not None else None
source = up.name if up is not None else None
if pdf is None and so.get("pdf") is not None:
    if st.button("Verify the report built on the sign-off page in this session", icon=":material/fact_check:"):
        ve["session"] = True
    if ve.get("session"):
        pdf, source = so["pdf"], "this session's report"

if pdf is None:
    st.info("Upload a report to verify it.", icon=":material/upload_file:")
    st.stop()

# where trust comes from: certificate SHA-256 -> the file (or the session) that holds it
trust, sources = [], {}
for f in certs or []:
    try:
        infos = describe_certificates(f.getvalue())
    except VerifyInputError as err:
        st.error(esc(f"{f.name}: {err}"), icon=":material/error:")
        st.stop()
    trust.append(f.getvalue())
    for info in infos:
        sources.setdefault(info.sha256, (f"file {f.name}", info.subject))
if use_session:
    for c in session_certs:
        trust.append(c)
        for info in describe_certificates(c):
            sources.setdefault(info.sha256, ("signed in this browser session", info.subject))
try:
    res = verify_report(pdf, trust=trust, inputs=inputs)
except VerifyInputError as err:
    st.error(esc(err), icon=":material/error:")
    st.stop()

# --- verdict ---------------------------------------------------------------------------------
if res.status == "valid":
    st.success(f"**Valid.** {esc(res.headline.split(': ', 1)[1])}", icon=":material/verified:")
elif res.status == "untrusted":
    st.warning("**Intact, but who signed is not established.** Every signature is intact and nothing changed since "
               "signing, but " + ("no trusted certificate was given: upload the signers' certificates to confirm "
                                  "who signed." if not res.trust_given else
                                  "a signer's certificate is not among the trusted ones."),
               icon=":material/gpp_maybe:")
else:
    st.error(f"**Invalid.** {esc(res.reasons[0])}", icon=":material/gpp_bad:")
if sources:
    st.caption("Trust comes from: " + "; ".join(
        f"**{esc(who)}** ({esc(where)})" for where, who in dict.fromkeys(sources.values())))
else:
    st.caption("Trust comes from: nothing yet. No certificate was given, so the signatures can be shown intact but "
               "not who made them.")
if len(res.reasons) > 1 or (res.reasons and res.status != "invalid"):
    with st.expander(f"All reasons ({len(res.reasons)})", expanded=res.status == "invalid"):
        for r in res.reasons:
            st.markdown(f"- {esc(r)}")

rec = res.record or {}
if rec:
    st.subheader(esc(f"{rec.get('model_name')} {rec.get('model_version')} · {rec.get('project')}"))
    dec = rec.get("decision") or {}
    cols = st.columns(3)
    cols[0].metric("Signatures", f"{len(res.signatures)} of {len(rec.get('signers', []))}")
    cols[1].metric("Checks", len((rec.get("review") or {}).get("checks", [])))
    cols[2].metric("Reviewed", str(rec.get("created_at", ""))[:10])
    line = f"**Review decision:** {outcome_word(dec.get('outcome'))}"
    if dec.get("conditions"):
        line += " — conditions: " + esc("; ".join(map(str, dec["conditions"])))
    st.markdown(line)
    st.caption(f"Source: {esc(source)} · record `{esc(rec.get('record_id'))}` · record SHA-256 `{res.record_sha256}`")

# the history may know signatures this file does not carry (a file cut back to an earlier revision
# is an earlier, still valid, version of the report)
try:
    from readiness.store import shared_store

    known = shared_store().signatures_of(rec.get("record_id", "")) if rec else []
    withdrawn = shared_store().superseded(rec.get("record_id", "")) if rec else None
except Exception:
    known, withdrawn = [], None
if withdrawn:
    st.warning(f"The review history marks this report **superseded** on {withdrawn[0][:16].replace('T', ' ')} UTC "
               f"({esc(withdrawn[1])}). Its decision is not in force, however valid its signatures; ask for the "
               "current report.", icon=":material/history:")
have = {x.field for x in res.signatures}
absent = [k for k in known if k["field"] not in have]
if absent:
    st.warning("The review history records signature(s) this file does not carry: "
               + esc("; ".join(f"{k['signer_name']} as {k['role']} ({k['field']}, {k['signed_at'][:16].replace('T', ' ')})"
                           for k in absent))
               + ". This may be an earlier copy of the report; ask for the latest signed file.",
               icon=":material/history:")

st.markdown("#### Signatures")


def _verdict(x) -> str:
    if x.ok:
        return "✔ valid"
    if all(p.startswith(UNTRUSTED) for p in x.problems):
        return "⚠ intact, not trusted"
    return "✖ invalid"


def _vouched(x) -> str:
    if x.trust_anchor_sha256:
        where, _who = sources.get(x.trust_anchor_sha256, ("a trusted certificate", ""))
        if x.trust_anchor_sha256 == x.cert_sha256:
            return f"own certificate · {where}"
        return f"issuer {x.trust_anchor} · {where}"
    return "nobody: no trusted certificate given" if x.trusted is None else "nobody: not among the trusted"


rows = [{"Slot": f"{x.field} · {x.role or '?'}",
         "Signer": x.signer_name + (f" <{x.signer_email}>" if x.signer_email else "")
         + (f" — in place of {x.reassigned_from} ({x.reassign_reason})" if x.reassigned_from else ""),
         "Decision": x.decision_word, "Signed at (UTC)": (x.signed_at or "").replace("T", " ")[:16],
         "Result": _verdict(x), "Vouched for by": _vouched(x)} for x in res.signatures]
rows += [{"Slot": f"{m['field']} · {m['role']}", "Signer": "— not signed yet —" + (
    f" (planned: {m['name']})" if m.get("name") else ""), "Decision": "", "Signed at (UTC)": "", "Result": "open",
          "Vouched for by": ""} for m in res.missing_signers]
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
else:
    st.caption("No signatures.")
if res.signatures:
    with st.expander("Signature details"):
        st.dataframe([{"Slot": f"{x.field} · {x.role or '?'}", "Intact": "✔ yes" if x.intact else "✖ no",
                       "Signed the review record": "✔ yes" if x.json_signature_ok else "✖ no",
                       "Certifies": "yes (first signature)" if x.certifies else "", "Note": x.note,
                       "Certificate SHA-256": x.cert_sha256, "Problems": " · ".join(x.problems)}
                      for x in res.signatures], hide_index=True, width="stretch")

if res.inputs:
    st.markdown("#### Input files")
    st.dataframe([{"Role": i.role, "SHA-256 of the file given": i.actual, "Recorded in the report": i.expected or "—",
                   "Match": "✔ yes" if i.ok else "✖ no"} for i in res.inputs], hide_index=True, width="stretch")

if res.record_bytes is not None:
    st.download_button("Attached review record (exact signed bytes)", res.record_bytes, file_name="review-record.json",
                       mime="application/json", icon=":material/data_object:", on_click="ignore")
with st.expander("How this is checked"):
    st.markdown(
        "- **Intact**: each PDF signature's digest matches the bytes it covers; the last signature covers the file "
        "to its last byte, and the bytes of each signature value hold nothing else.\n"
        "- **No disallowed change**: after the first (certifying) signature, only the planned signature fields may "
        "be filled; each signer's statement is locked by their own signature.\n"
        "- **JSON signature**: each signer also signed the attached `review-record.json` (detached CMS); it must "
        "match those exact bytes and the PDF signature's certificate.\n"
        "- **Trusted**: each signer's certificate must be one of (or chain to) the certificates you trust.\n"
        "- Same checks on the command line: `readiness verify REPORT.pdf --trust CERT.pem`.")
