"""Report & sign-off: who reviewed what, notes per check, the decision, the signed PDF."""

from __future__ import annotations

import re

import streamlit as st

from pages._ui import esc, state, status_text
from readiness.fmt import counted
from readiness.report.canonical import (
    DEFAULT_SIGNER_ROLES,
    OUTCOME_WORD,
    Outcome,
    RecordError,
    failing_without_rationale,
    model_display_name,
    new_record,
    outcome_word,
    parse_reviewers,
    parse_signer_roles,
    record_bytes,
    sha256_hex,
)
from readiness.results import Status

s = state()
ctx, report = s.ctx, s.report
so = s.extras.setdefault("signoff", {})
review_key = f"{ctx.digest}:{report.created_at}"
if so.get("for") != review_key:  # a new review: start a new sign-off (keys made in this session survive)
    keys = so.get("keys", {})
    so.clear()
    so.update({"for": review_key, "keys": keys, "form": {}})
form = so["form"]
built = so.get("pdf") is not None
signed = so.get("statements", [])

st.title("Report & sign-off")
st.caption("Record who reviewed which model version, a note on any check, and the decision; then build the PDF "
           "report and sign it, one signer after another. The first signature certifies the report; any later "
           "change to it is detected by **Verify**.")

# --- 1. identity ------------------------------------------------------------------------
st.header("1 · The review")
model_file = next((f for f in report.inputs if f.role == "model"), None)
c1, c2, c3 = st.columns([2, 2, 1])
form["project"] = c1.text_input("Project", value=form.get("project", s.title or ""), disabled=built,
                                help="What the model is for, e.g. 'Consumer lending – default risk'")
form["model_name"] = c2.text_input("Model name", value=form.get("model_name", model_display_name(report.model.name)),
                                   disabled=built)
form["model_version"] = c3.text_input(
    "Model version", value=form.get("model_version", f"sha256:{model_file.sha256[:12]}" if model_file else "1"),
    disabled=built, help="Defaults to the start of the model file's SHA-256")
form["reviewers"] = st.text_area(
    "Reviewers present (one per line: Name <email>, role)", value=form.get("reviewers", ""), height=90,
    disabled=built, placeholder="Ana Müller <ana@bank.example>, Data scientist\nLi Wei <li@bank.example>, Model risk")

# --- 2. notes ---------------------------------------------------------------------------------
st.header("2 · Notes per check")
notes = form.setdefault("notes", {})
attention = [c for c in report.checks if c.status in (Status.FAIL, Status.WARN, Status.ERROR)]
quiet = [c for c in report.checks if c not in attention]


def _note_row(c):
    with st.container(border=True):
        left, right = st.columns([2, 3])
        left.markdown(f"{status_text(c.status)}  \n**{c.title}**")
        left.caption(esc(c.summary))
        hint = ("Rationale — required to approve: why is this failure acceptable, and what follows?"
                if c.status == Status.FAIL else "Reviewer note (optional): judgement, context, follow-up")
        notes[c.id] = right.text_area(f"Note on {c.title}", value=notes.get(c.id, ""), height=80, disabled=built,
                                      key=f"so_note_{c.id}", label_visibility="collapsed", placeholder=hint)


st.caption(f"{counted(len(attention), 'check')} need{'s' if len(attention) == 1 else ''} judgement; their notes go into the report next to the evidence.")
for c in attention:
    _note_row(c)
if quiet:
    with st.expander(f"Checks that passed or did not apply ({len(quiet)})"):
        for c in quiet:
            _note_row(c)

# --- 3. decision -------------------------------------------------------------------------------
st.header("3 · Decision")
choices = [None, *Outcome]
labels = {None: "Leave to each signer", **OUTCOME_WORD}
d1, d2 = st.columns([1, 2])
form["decision"] = d1.radio("The review's decision", choices, index=choices.index(form.get("decision")),
                            format_func=lambda o: labels[o], disabled=built)
form["conditions"] = d2.text_area("Conditions (one per line)", value=form.get("conditions", ""), height=90,
                                  disabled=built, placeholder="e.g. Monitor drift monthly; re-review in 6 months",
                                  help="Required for 'Approve with conditions'")
form["rationale"] = d2.text_area("Rationale", value=form.get("rationale", ""), height=70, disabled=built)
if form["decision"] in (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS) and not built:
    unexplained = failing_without_rationale(report, notes)
    if unexplained:
        st.warning("Approving needs a written rationale for each failing check. Add a note above on: "
                   + "; ".join(f"**{esc(c.title)}**" for c in unexplained) + ".", icon=":material/rule:")
form["signers"] = st.text_area(
    "Planned signers, in signing order (one per line: Role = Name <email>, or a role alone)",
    value=form.get("signers", "\n".join(DEFAULT_SIGNER_ROLES)), height=90, disabled=built,
    placeholder="Data scientist = Ana Müller <ana@bank.example>\nModel-risk reviewer = Li Wei <li@bank.example>",
    help="One signature field per line, signed in this order. The first to sign certifies the report. When a line "
         "names a person, only a certificate with that name and email can sign the role; someone else can sign "
         "only by an explicit, recorded re-assignment.")


def _build() -> None:
    from pydantic import ValidationError

    from readiness.report.pdf import build_pdf
    from readiness.store import shared_store

    try:
        reviewers = parse_reviewers(form["reviewers"])
    except ValidationError as exc:
        st.error(f"A reviewer line cannot be read: {esc(exc.errors()[0].get('msg'))}", icon=":material/error:")
        return
    try:
        signers = parse_signer_roles(form["signers"])
    except RecordError as exc:
        st.error(esc(exc), icon=":material/error:")
        return
    if not signers:
        st.error("Plan at least one signer (one role per line).", icon=":material/error:")
        return
    conditions = [line.strip(" -•\t") for line in form["conditions"].splitlines() if line.strip(" -•\t")]
    try:
        record = new_record(report, project=form["project"], model_name=form["model_name"],
                            model_version=form["model_version"], title=s.title, reviewers=reviewers,
                            decision={"outcome": form["decision"], "conditions": conditions,
                                      "rationale": form["rationale"].strip()},
                            notes={k: v for k, v in notes.items() if v and v.strip()}, signer_roles=signers,
                            review_digest=ctx.digest)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = " › ".join(str(x) for x in err.get("loc", ()))
        msg = re.sub(r"^Value error, ", "", err.get("msg", ""))
        st.error(f"Cannot build the report: {esc(where + ': ' if where else '')}{esc(msg)}", icon=":material/error:")
        return
    except RecordError as exc:
        st.error(f"Cannot build the report: {esc(exc)}", icon=":material/error:")
        return
    data = record_bytes(record)
    with st.spinner("Building the PDF report…"):
        out = build_pdf(record, data)
    so.update({"record": record, "data": data, "pdf": out.pdf, "unsigned": out.pdf, "pages": out.pages,
               "statements": []})
    if s.is_sample:  # the bundled sample is a demonstration: never recorded in the history
        so["stored"] = "sample"
    else:
        try:
            shared_store().save_record(record, data)
            so["stored"] = True
        except Exception as exc:  # the report is built either way; the history says why it is missing
            so["stored"] = f"{type(exc).__name__}: {exc}"
    st.rerun()


# --- 4. build ----------------------------------------------------------------------------------------
st.header("4 · Build the report")
if so.get("supersede_failed"):
    st.warning("The discarded report could not be marked superseded in the review history "
               f"({esc(so['supersede_failed'])}); it still shows there as built.", icon=":material/warning:")
if not built:
    if not form["project"].strip():
        st.info("Name the project to build the report.")
    if st.button("Build the PDF report", type="primary", icon=":material/picture_as_pdf:",
                 disabled=not form["project"].strip()):
        _build()
else:
    rec = so["record"]
    st.success(f"Report built: {so['pages']} pages · record `{rec.record_id}` · SHA-256 "
               f"`{sha256_hex(so['data'])[:16]}…` · {counted(len(rec.signers), 'signature field')}.",
               icon=":material/task_alt:")
    if so.get("stored") == "sample":
        st.info("This is the bundled sample review: its report and signatures are not recorded in the review "
                "history, and it never counts as a use of a holdout.", icon=":material/info:")
    elif so.get("stored") is not True:
        st.warning(f"The report was not stored in the review history ({esc(so.get('stored'))}).", icon=":material/warning:")
    if st.button("Edit the review again", icon=":material/edit:",
                 help="Unlocks the fields above; the report is rebuilt and any signatures are discarded"):
        if so.get("stored") is True:  # a stored report never stands once discarded: superseded in the history
            from readiness.store import supersede_discarded_report

            so["supersede_failed"] = supersede_discarded_report(rec.record_id)
        for k in ("record", "data", "pdf", "unsigned", "pages", "statements", "stored"):
            so.pop(k, None)
        st.rerun()

# --- 5. sign -------------------------------------------------------------------------------------------
if built:
    from readiness.report.sign import SigningError, generate_key, sign_report
    from readiness.store import shared_store

    rec = so["record"]
    st.header("5 · Sign")
    done = {x.field: x for x in signed}
    rows = []
    for slot in rec.signers:
        x = done.get(slot.field)
        signed_by = ((x.signer_name + (f" (in place of {x.reassigned_from})" if x.reassigned_from else ""))
                     if x else "—")
        rows.append({"Order": slot.field, "Role": slot.role, "Planned": slot.planned or "anyone in the role",
                     "Signed by": signed_by, "Decision": outcome_word(x.decision) if x else "—",
                     "Note": x.note if x else "", "Signed at (UTC)": x.signed_at.replace("T", " ")[:16] if x else "open"})
    st.dataframe(rows, hide_index=True, width="stretch")
    open_slots = [slot for slot in rec.signers if slot.field not in done]
    if not open_slots:
        st.success("Every planned signer has signed.", icon=":material/verified:")
    else:
        slot = open_slots[0]  # signatures follow the planned order
        with st.container(border=True):
            st.markdown(f"**Next to sign: {esc(slot.role)}** ({slot.field})"
                        + (f" — planned for {esc(slot.planned)}" if slot.planned else " — anyone in this role"))
            a1, a2 = st.columns(2)
            decision = a1.selectbox("Your decision", list(Outcome), format_func=lambda o: OUTCOME_WORD[o],
                                    index=list(Outcome).index(rec.decision.outcome) if rec.decision.outcome else 0)
            note = a2.text_input("Your note (optional; signed with your decision)", max_chars=500,
                                 key=f"so_snote_{len(signed)}")
            unexplained = failing_without_rationale(rec.review, rec.notes)
            if decision in (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS) and unexplained:
                st.warning("This report cannot be approved: it records no rationale for "
                           + "; ".join(f"**{c.title}**" for c in unexplained)
                           + ". Decide 'Reject', or edit the review again and add a note on each failing check.",
                           icon=":material/rule:")
            step = len(signed)  # fresh key fields for each signer: nobody signs with the last signer's key
            reassign = None
            if slot.planned and st.checkbox(f"Sign in place of {esc(slot.planned)} (re-assign this role)",
                                            key=f"so_reassign_{step}",
                                            help="Only the planned person's certificate can sign this role. Someone "
                                                 "else may sign only by an explicit re-assignment: the reason is "
                                                 "signed with your statement and shown by every verification."):
                reassign = st.text_input("Why someone else signs (required)", key=f"so_reason_{step}",
                                         max_chars=500, placeholder="e.g. Li Wei is on leave; delegated by the CRO")
                if not reassign.strip():
                    st.info("Say why the planned person does not sign: the reason is part of the signed record.",
                            icon=":material/edit_note:")
            how = st.radio("Signing key", ["Generate a new key in this session", "Upload my key and certificate"],
                           horizontal=True, key=f"so_how_{step}")
            key = cert = passphrase = None
            if how.startswith("Generate"):
                k1, k2, k3 = st.columns([2, 2, 1])
                name = k1.text_input("Your name (in the certificate)", value=slot.name or "", key=f"so_name_{step}")
                email = k2.text_input("Your email", value=slot.email or "", key=f"so_email_{step}")
                algo = k3.selectbox("Key type", ["rsa", "p256"], format_func=lambda a: {"rsa": "RSA-2048",
                                                                                       "p256": "ECDSA P-256"}[a])
                made = so["keys"].get(name.strip()) if name.strip() else None
                if st.button("Generate key and certificate", icon=":material/key:", disabled=not name.strip(),
                             key=f"so_gen_{step}"):
                    try:
                        made = so["keys"][name.strip()] = generate_key(name, email or None, algorithm=algo)
                    except SigningError as err:
                        st.error(esc(err), icon=":material/error:")
                if made is not None:
                    key, cert = made.key_pem, made.cert_pem
                    st.caption(f"Key for **{esc(name.strip())}** · certificate SHA-256 `{made.fingerprint}`. Download "
                               "both now: the private key lives only in this browser session. Share the certificate "
                               "with whoever verifies the report (they pass it to `--trust`).")
                    base = re.sub(r"[^A-Za-z0-9]+", "-", name.strip()).strip("-").lower() or "signer"
                    b1, b2 = st.columns(2)
                    b1.download_button("Private key (.key.pem) — keep secret", made.key_pem,
                                       file_name=f"{base}.key.pem", mime="application/x-pem-file",
                                       icon=":material/lock:", on_click="ignore")
                    b2.download_button("Certificate (.cert.pem)", made.cert_pem, file_name=f"{base}.cert.pem",
                                       mime="application/x-pem-file", icon=":material/badge:", on_click="ignore")
            else:
                u1, u2, u3 = st.columns([2, 2, 1])
                up_key = u1.file_uploader("Private key (PEM or DER)", type=["pem", "key", "der"], key=f"so_up_key_{step}")
                up_cert = u2.file_uploader("Certificate (PEM or DER)", type=["pem", "crt", "cer", "der"],
                                           key=f"so_up_cert_{step}")
                pw = u3.text_input("Passphrase", type="password", help="Only if the key is encrypted",
                                   key=f"so_pw_{step}")
                key = up_key.getvalue() if up_key else None
                cert = up_cert.getvalue() if up_cert else None
                passphrase = pw.encode() if pw else None
            if st.button(f"Sign as {esc(slot.role)}", type="primary", icon=":material/draw:",
                         disabled=key is None or cert is None or (reassign is not None and not reassign.strip())):
                try:
                    with st.spinner("Signing…"):
                        result = sign_report(so["pdf"], key=key, cert=cert, role=slot.field, decision=decision.value,
                                             note=note, passphrase=passphrase, reassign=reassign)
                except SigningError as err:
                    st.error(esc(err), icon=":material/error:")
                else:
                    so["pdf"] = result.pdf
                    so["statements"] = [*signed, result.statement]
                    so.setdefault("certs", {})[result.statement.cert_sha256] = cert
                    if not s.is_sample:
                        try:
                            shared_store().add_signature(result.statement, certified=result.certified, record=rec,
                                                         data=so["data"])
                        except Exception as exc:
                            so["stored"] = f"signature not stored: {type(exc).__name__}: {exc}"
                    st.rerun()

    # --- 6. download ------------------------------------------------------------------------------------
    st.header("6 · Download")
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{rec.project}-{rec.model_version}").strip("-").lower() or "review"
    n = len(so.get("statements", []))
    d1, d2, d3 = st.columns(3)
    d1.download_button(f"{'Signed' if n else 'Unsigned'} PDF report ({n} of {len(rec.signers)} signatures)",
                       so["pdf"], file_name=f"{stem}-review{'-signed' if n else ''}.pdf", mime="application/pdf",
                       type="primary", icon=":material/download:", on_click="ignore")
    d2.download_button("Review record (signed JSON bytes)", so["data"], file_name="review-record.json",
                       mime="application/json", icon=":material/data_object:", on_click="ignore")
    certs = so.get("certs", {})
    if certs:
        d3.download_button("Signers' certificates (for --trust)", b"".join(certs.values()),
                           file_name=f"{stem}-signers.cert.pem", mime="application/x-pem-file",
                           icon=":material/badge:", on_click="ignore")
    st.caption("The JSON is the exact byte sequence each signer signed; it is also attached inside the PDF. "
               "Check a report any time on **Verify a report** or with `readiness verify REPORT.pdf --trust CERT`.")
