"""The sign-off subcommands of ``readiness`` (keygen, sign, verify, history) and the
review-history / PDF options of ``readiness review``. Wired into :mod:`readiness.cli`.

Exit codes follow the CLI contract: 0 done (verify: valid), 1 verify: invalid (with
the reason), 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from readiness import errors as E

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2
DECISIONS = ("approve", "approve_with_conditions", "reject")


def _decision(text: str) -> str:
    t = text.strip().lower().replace("-", "_").replace(" ", "_")
    if t in ("approve_with_condition", "conditional", "approve_conditionally"):
        t = "approve_with_conditions"
    if t not in DECISIONS:
        raise argparse.ArgumentTypeError(f"decision must be one of {', '.join(DECISIONS)}, got {text!r}")
    return t


def _note(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--note must look like CHECK_ID=TEXT, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def _signer(text: str) -> dict:
    from readiness.report.canonical import RecordError, parse_signer

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--signer must look like 'ROLE=Name <email>', got {text!r} "
                                         "(a role without a named person: --signer-role ROLE)")
    try:
        return parse_signer(text)
    except RecordError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _signer_role(text: str) -> dict:
    role = " ".join(text.split())
    if not role:
        raise argparse.ArgumentTypeError("--signer-role needs a role name")
    return {"role": role}


# --- review options ----------------------------------------------------------------------------


def add_review_options(r: argparse.ArgumentParser) -> None:
    """``readiness review`` options for the signed report and the review history."""
    g = r.add_argument_group("signed report (PDF) and review history")
    g.add_argument("--pdf", type=Path, metavar="OUT.pdf",
                   help="write the unsigned PDF review report (record JSON attached, one signature field per signer)")
    g.add_argument("--project", help="project the model belongs to (in the report and the history)")
    g.add_argument("--model-name", help="model name in the report (default: the model file name)")
    g.add_argument("--model-version", help="model version (default: sha256:<first 12 hex of the model file>)")
    g.add_argument("--reviewer", action="append", default=[], metavar="'NAME <EMAIL>'",
                   help="a reviewer present at the review (repeat)")
    g.add_argument("--signer", action="append", dest="signers", type=_signer, metavar="'ROLE=NAME <EMAIL>'",
                   help="a planned signer: the person who signs ROLE (repeat, in signing order; mixes with "
                        "--signer-role). Only that person's certificate can sign the role.")
    g.add_argument("--signer-role", action="append", dest="signers", type=_signer_role, metavar="ROLE",
                   help="a planned signer role without a named person (repeat, in signing order; default: "
                        "Data scientist, Model-risk reviewer, Business owner)")
    g.add_argument("--decision", type=_decision, help=f"the review's decision: {' | '.join(DECISIONS)}")
    g.add_argument("--condition", action="append", default=[], metavar="TEXT", help="a condition of approval (repeat)")
    g.add_argument("--note", action="append", default=[], type=_note, metavar="CHECK_ID=TEXT",
                   help="a reviewer note on one check (repeat)")
    g.add_argument("--db", metavar="URL", help="review history: SQLAlchemy URL or SQLite file "
                                             "(default: $READINESS_DB or ./reviews.db)")
    g.add_argument("--no-history", action="store_true", help="do not read or write the review history")


def _warn(msg: str) -> None:
    print(f"readiness: warning: {' '.join(msg.split())}", file=sys.stderr)


def _validation_message(exc) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ()))
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _check_report_options(a) -> None:
    """Fail before the review runs when the --pdf options cannot make a record."""
    from pydantic import ValidationError

    from readiness.registry import registered_checks
    from readiness.report.canonical import Decision, parse_person, valid_email

    try:
        Decision(outcome=a.decision, conditions=a.condition)
    except ValidationError as exc:
        raise E.ReadinessError(f"cannot build the report: {_validation_message(exc)}") from None
    for text in a.reviewer:
        if not valid_email(parse_person(text).email):
            raise E.ReadinessError(f"--reviewer: {E.REVIEWER_EMAIL.format(line=text)}")
    known = {s.id for s in registered_checks()}
    unknown = sorted({k for k, _ in a.note} - known)
    if unknown:
        raise E.ReadinessError(f"--note names unknown check ids {unknown}; see 'readiness checks'.")


def before_review(a, ctx):
    """Validate the report options, open the history (bad explicit --db: exit 2) and set
    the holdout's prior evaluations."""
    if a.pdf is not None:
        _check_report_options(a)
    if getattr(a, "no_history", False):
        return None
    if getattr(a, "sample", False):  # a demonstration: never recorded, never a use of a holdout
        if not getattr(a, "quiet", False):
            _warn("the bundled sample is not recorded in the review history.")
        return None
    from readiness.store import SchemaError, StoreError, holdout_key_for, open_store

    try:
        store = open_store(a.db)
    except StoreError as exc:
        if a.db or isinstance(exc, SchemaError):  # a schema not ours: never review around it
            raise
        _warn(f"{exc} The review is not recorded in the history.")
        return None
    try:
        ctx.prior_holdout_evaluations = store.holdout_evaluation_count(holdout_key_for(ctx),
                                                                   exclude_digest=ctx.evaluation_digest)
    except Exception as exc:
        _warn(f"cannot read the review history: {type(exc).__name__}: {exc}")
    from readiness.checks.comparison_history import champion_review_for

    ctx.champion_review = champion_review_for(ctx, store=store)  # the champion's signed review, if any
    return store


def _identity(a, ctx, report) -> dict:
    model_file = next((f for f in report.inputs if f.role == "model"), None)
    version = a.model_version or (f"sha256:{model_file.sha256[:12]}" if model_file else "unversioned")
    project = a.project
    if not project and getattr(a, "sample", False):
        from readiness.sample import sample_config

        project = sample_config().get("title", "Sample review")
    from readiness.report.canonical import model_display_name

    return {"project": project or "Unnamed project", "model_name": a.model_name or model_display_name(report.model.name),
            "model_version": version}


def after_review(a, ctx, report, store) -> None:
    """Record the completed review; write the PDF when asked. Store errors warn (the
    review itself completed); PDF errors are bad input (exit 2)."""
    try:
        _after_review(a, ctx, report, store)
    finally:
        if store is not None:
            store.close()


def _after_review(a, ctx, report, store) -> None:
    ident = _identity(a, ctx, report)
    review_id = None
    if store is not None:
        from readiness.store import holdout_key_for

        try:  # the record below is linked to this review's own id
            review_id = store.record_review(report, review_digest=ctx.digest, source="cli",
                                            test_sha256=holdout_key_for(ctx),
                                            evaluation_digest=ctx.evaluation_digest, **ident)
        except Exception as exc:
            _warn(f"the review could not be recorded in the history: {type(exc).__name__}: {exc}")
    if a.pdf is None:
        return
    from pydantic import ValidationError

    from readiness.report.canonical import new_record, parse_person, record_bytes
    from readiness.report.pdf import build_pdf

    try:
        record = new_record(
            report, **ident, reviewers=[parse_person(t) for t in a.reviewer],
            decision={"outcome": a.decision, "conditions": a.condition},
            notes=dict(a.note), signer_roles=a.signers, review_digest=ctx.digest,
            title=ident["project"] if getattr(a, "sample", False) else "")
    except ValidationError as exc:
        raise E.ReadinessError(f"cannot build the report: {_validation_message(exc)}") from None
    data = record_bytes(record)
    built = build_pdf(record, data)
    try:
        a.pdf.parent.mkdir(parents=True, exist_ok=True)
        a.pdf.write_bytes(built.pdf)
    except OSError as exc:
        raise E.ReadinessError(f"cannot write the PDF report to {a.pdf}: {exc.strerror}") from None
    if store is not None:
        try:
            store.save_record(record, data, review_id=review_id)
        except Exception as exc:
            _warn(f"the review record could not be stored in the history: {type(exc).__name__}: {exc}")
    if not a.quiet:
        print(f"Wrote {a.pdf} ({built.pages} pages; record {record.record_id}; signers: "
              f"{', '.join(s.role for s in record.signers)}).", file=sys.stderr)


# --- subcommands ------------------------------------------------------------------------------------


def add_subcommands(sub) -> None:
    k = sub.add_parser("keygen", help="make a signing key and a self-signed X.509 certificate")
    k.add_argument("--name", required=True, help="signer's name (certificate common name)")
    k.add_argument("--email", help="signer's email")
    k.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for <name>.key.pem and <name>.cert.pem")
    k.add_argument("--algorithm", choices=("rsa", "p256"), default="rsa", help="RSA-2048 (default) or ECDSA P-256")
    k.add_argument("--days", type=int, default=3650, help="certificate validity in days (default 3650)")
    k.add_argument("--passphrase-env", metavar="VAR", help="encrypt the key with the passphrase in this variable")

    s = sub.add_parser("sign", help="sign a review report PDF (the first signer certifies it)")
    s.add_argument("report", type=Path, metavar="REPORT.pdf")
    s.add_argument("--key", type=Path, required=True, help="private key (PEM or DER; RSA or P-256)")
    s.add_argument("--cert", type=Path, required=True, help="the key's X.509 certificate (PEM or DER)")
    s.add_argument("--role", required=True, help="the planned signer role to sign as (e.g. 'Model-risk reviewer')")
    s.add_argument("--decision", type=_decision, required=True, help=" | ".join(DECISIONS))
    s.add_argument("--note", default="", help="the signer's note, at most 2,000 characters (signed with the decision)")
    s.add_argument("-o", "--output", type=Path, required=True, metavar="SIGNED.pdf")
    s.add_argument("--passphrase-env", metavar="VAR", help="variable holding the key's passphrase")
    s.add_argument("--reassign", metavar="REASON",
                   help="sign a role the report plans for another person, recording why (signed with the "
                        "statement, shown by verify), e.g. 'Li Wei is on leave; delegated by the CRO'")
    s.add_argument("--db", metavar="URL", help="review history to record the signature in "
                                             "(default: $READINESS_DB or ./reviews.db)")
    s.add_argument("--no-history", action="store_true", help="do not record the signature")

    v = sub.add_parser("verify", help="verify every signature, the signed JSON and (optionally) the input files")
    v.add_argument("report", type=Path, metavar="REPORT.pdf")
    v.add_argument("--trust", type=Path, action="append", default=[], metavar="CERT",
                   help="a trusted signer (or CA) certificate file, PEM or DER; a PEM bundle trusts each "
                        "certificate in it (repeat); without one, signers are not trusted")
    v.add_argument("--train", type=Path, help="training file: its SHA-256 must match the report")
    v.add_argument("--test", type=Path, help="holdout file: its SHA-256 must match the report")
    v.add_argument("--model", type=Path, help="model file: its SHA-256 must match the report")
    v.add_argument("--json", action="store_true", help="print the verification result as JSON")
    v.add_argument("--extract", type=Path, metavar="OUT.json", help="write the attached signed record bytes here")

    h = sub.add_parser("history", help="list reviewed model versions, signers and outcomes")
    h.add_argument("--db", metavar="URL", help="review history (default: $READINESS_DB or ./reviews.db)")
    h.add_argument("--project", help="only this project")
    h.add_argument("--limit", type=int, default=50)
    h.add_argument("--json", action="store_true", help="print JSON")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise E.ReadinessError(f"{what} not found: {path}.") from None
    except IsADirectoryError:
        raise E.ReadinessError(f"{what} is a folder, not a file: {path}.") from None
    except OSError as exc:
        raise E.ReadinessError(f"cannot read {what} {path}: {exc.strerror}.") from None


def _passphrase(var: str | None) -> bytes | None:
    if not var:
        return None
    value = os.environ.get(var)
    if value is None:
        raise E.ReadinessError(f"--passphrase-env {var}: the variable is not set.")
    return value.encode("utf-8")


def cmd_keygen(a) -> int:
    from readiness.report.sign import generate_key, write_keypair

    pair = generate_key(a.name, a.email, algorithm=a.algorithm, days=a.days, passphrase=_passphrase(a.passphrase_env))
    try:
        key_path, cert_path = write_keypair(pair, a.out, a.name)
    except OSError as exc:
        raise E.ReadinessError(f"cannot write the key to {a.out}: {exc.strerror}.") from None
    print(f"key:         {key_path}  (private: keep it secret; mode 600)")
    print(f"certificate: {cert_path}  (share it: verifiers pass it to --trust)")
    print(f"SHA-256 fingerprint: {pair.fingerprint}")
    return EXIT_OK


def cmd_sign(a) -> int:
    from readiness.report.sign import sign_report

    pdf = _read(a.report, "report")
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise E.ReadinessError(f"{a.report} is not a PDF file.")
    store = None if a.no_history else _open_history_for_signing(a)  # a bad history: exit 2 before signing
    result = sign_report(pdf, key=_read(a.key, "key file"), cert=_read(a.cert, "certificate file"), role=a.role,
                         decision=a.decision, note=a.note, passphrase=_passphrase(a.passphrase_env),
                         reassign=a.reassign)
    try:
        a.output.parent.mkdir(parents=True, exist_ok=True)
        a.output.write_bytes(result.pdf)
    except OSError as exc:
        raise E.ReadinessError(f"cannot write {a.output}: {exc.strerror}.") from None
    st = result.statement
    print(f"Signed {a.output}: {st.signer_name} as {st.role} ({st.decision.value})"
          + (f" in place of {st.reassigned_from} ({st.reassign_reason})" if st.reassigned_from else "")
          + (" — certified the document (first signature)" if result.certified else ""))
    if store is not None:
        from readiness.report.sign import read_record
        from readiness.store import StoreError

        try:
            data, record = read_record(result.pdf)
            store.add_signature(st, certified=result.certified, record=record, data=data)
        except StoreError as exc:
            if a.db:
                raise
            _warn(f"{exc} The signature is in the PDF but not recorded in the history.")
        finally:
            store.close()
    return EXIT_OK


def _open_history_for_signing(a):
    from readiness.store import SchemaError, StoreError, open_store

    try:
        return open_store(a.db)
    except StoreError as exc:
        if a.db or isinstance(exc, SchemaError):
            raise
        _warn(f"{exc} The signature will be in the PDF but not recorded in the history.")
        return None


def cmd_verify(a) -> int:
    from readiness.report.verify import VerifyInputError, describe_certificates, verify_report

    pdf = _read(a.report, "report")
    trust = [_read(p, "--trust certificate") for p in a.trust]
    anchors: dict[str, str] = {}  # certificate SHA-256 -> the --trust file it came from
    for path, data in zip(a.trust, trust, strict=True):
        try:
            infos = describe_certificates(data)
        except VerifyInputError as exc:
            raise E.ReadinessError(f"--trust {path}: {exc}") from None
        for info in infos:
            anchors.setdefault(info.sha256, str(path))
    inputs = {role: p for role, p in (("train", a.train), ("test", a.test), ("model", a.model)) if p is not None}
    for role, p in inputs.items():
        if not p.is_file():
            raise E.ReadinessError(f"--{role} file not found: {p}.")
    res = verify_report(pdf, trust=trust, inputs=inputs)
    if a.extract is not None and res.record_bytes is not None:
        try:
            a.extract.write_bytes(res.record_bytes)
        except OSError as exc:
            raise E.ReadinessError(f"cannot write {a.extract}: {exc.strerror}.") from None
    if a.json:
        d = res.to_dict()
        for sig in d["signatures"]:
            sig["trust_anchor_file"] = anchors.get(sig.get("trust_anchor_sha256") or "")
        print(json.dumps(d, indent=2, ensure_ascii=False))
    else:
        _print_verification(res, anchors)
    if not res.valid:
        print(f"readiness: invalid: {res.reasons[0]}", file=sys.stderr)
    return EXIT_OK if res.valid else EXIT_INVALID


def _print_verification(res, anchors: dict[str, str] | None = None) -> None:
    from readiness.report.canonical import person_label

    rec = res.record or {}
    print(res.headline)
    if rec:
        dec = (rec.get("decision") or {}).get("outcome")
        from readiness.report.canonical import outcome_word

        print(f"Review: {rec.get('project')} · {rec.get('model_name')} {rec.get('model_version')} · "
              f"record {rec.get('record_id')} · decision {outcome_word(dec)}")
        print(f"Record SHA-256: {res.record_sha256}")
    for s in res.signatures:
        mark = "OK " if s.ok else ("?? " if all(p.startswith("UNTRUSTED") for p in s.problems) else "BAD")
        trust = {True: "trusted", False: "NOT trusted", None: "trust not checked"}[s.trusted]
        print(f"  [{mark}] {s.field} {s.role or '?'}: {s.signer_name}"
              + (f" <{s.signer_email}>" if s.signer_email else "")
              + f" — {s.decision_word}" + (f" — “{s.note}”" if s.note else "")
              + f" — {s.signed_at or '?'} — {'intact' if s.intact else 'NOT intact'}, {trust}, "
              f"JSON signature {'ok' if s.json_signature_ok else 'NOT ok'}"
              + (" — certifies the document" if s.certifies else ""))
        if s.reassigned_from:
            print(f"        re-assigned: signed in place of {s.reassigned_from} — {s.reassign_reason}")
        print(f"        certificate SHA-256 {s.cert_sha256}")
        if s.trust_anchor:
            where = (anchors or {}).get(s.trust_anchor_sha256 or "")
            print(f"        trusted because: --trust {where or 'certificate'} holds {s.trust_anchor} "
                  f"(SHA-256 {(s.trust_anchor_sha256 or '')[:16]}…)"
                  + (" — the signer's own certificate" if s.trust_anchor_sha256 == s.cert_sha256 else
                     " — the authority that issued the signer's certificate"))
    for m in res.missing_signers:
        planned = person_label(m.get("name"), m.get("email")) if m.get("name") or m.get("email") else None
        print(f"  [ - ] {m['field']} {m['role']}: not signed yet" + (f" (planned: {planned})" if planned else ""))
    for i in res.inputs:
        print(f"  [{'OK ' if i.ok else 'BAD'}] {i.role} file {i.file}: SHA-256 {i.actual[:16]}… "
              + ("matches the report" if i.ok else f"but the report recorded {(i.expected or 'nothing')[:16]}…"))
    for r in res.reasons:
        print(f"  - {r}")


def cmd_history(a) -> int:
    from readiness.report.canonical import outcome_word
    from readiness.store import display_url, open_store

    with open_store(a.db) as store:
        rows = store.history(project=a.project, limit=a.limit)
        counts = store.holdout_counts()
        url = store.url
    if a.json:
        print(json.dumps({"reviews": [r.as_dict() for r in rows], "holdout_evaluations": counts}, indent=2,
                         ensure_ascii=False, default=str))
        return EXIT_OK
    print(f"Review history: {display_url(url)}")
    if not rows:
        print("  (no reviews recorded yet)")
    for r in rows:
        who = "; ".join(f"{s['signer_name']} ({s['role']}: {outcome_word(s['decision'])})" for s in r.signatures)
        left = len(r.signers_planned) - len(r.signatures)
        sign = (who or "not signed") + (f"; {left} signature(s) open" if r.record_id and left > 0 else "")
        why = f" ({r.superseded_reason})" if r.superseded_at and r.superseded_reason else ""
        print(f"  {r.created_at[:16].replace('T', ' ')}  {r.project or '–'} · {r.model_name or '–'} "
              f"{r.model_version or ''} · checks {r.status or '–'} · decision {r.decision_text()}{why} · {sign}")
    if counts:
        print("Holdout evaluations (distinct reviews per holdout file):")
        for c in counts:
            print(f"  {c['test_sha256'][:16]}…  {c['evaluations']} evaluation(s), last {c['last'][:16]}")
    return EXIT_OK


HANDLERS = {"keygen": cmd_keygen, "sign": cmd_sign, "verify": cmd_verify, "history": cmd_history}
