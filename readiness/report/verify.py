"""Verify a signed review report: every signature, the JSON signatures, and input hashes.

A report is **valid** only when every one of these holds:

- it parses as a PDF and carries the attached ``review-record.json``;
- it carries at least one signature, each in a planned signer field;
- every PDF signature is intact (digest of the signed bytes matches) and
  cryptographically valid, and pyHanko's difference analysis finds no change after
  it beyond what the certification allows (filling the pre-created signature and
  statement fields; a signer's statement is locked by their signature);
- the last signature covers the file to its last byte, and each signature's
  ``/Contents`` hole holds exactly the canonical hex of its CMS and zero padding
  (those bytes are outside every byte range, so they are checked separately);
- each signer's statement is present, unchanged since that signer signed, names the
  record's SHA-256, and its detached CMS signature verifies over the exact attached
  record bytes with the same certificate as the PDF signature;
- the record attached now is byte-identical to the one the first signer signed;
- every signer certificate allows signing (key usage) and was valid at the time the
  signature states, even when it is itself the ``--trust`` anchor;
- every signer certificate chains to a ``--trust`` certificate (without one, the
  report is *intact but untrusted*, which is not valid: anyone can make a
  self-signed certificate with any name);
- each input file given has the SHA-256 the report recorded for its role.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from readiness.errors import ReadinessError
from readiness.report.canonical import (
    RECORD_FILENAME,
    Statement,
    outcome_word,
    record_dict,
    sha256_hex,
)

# reason prefixes: stable words tests and scripts can match on
TAMPERED = "TAMPERED"
BAD_SIGNATURE = "BAD SIGNATURE"
MODIFIED = "MODIFIED"
UNSIGNED_CHANGES = "UNSIGNED CHANGES"
JSON_SIGNATURE = "JSON SIGNATURE"
RECORD_REPLACED = "RECORD REPLACED"
UNTRUSTED = "UNTRUSTED"
INPUT_MISMATCH = "INPUT MISMATCH"
NOT_SIGNED = "NOT SIGNED"
DAMAGED = "DAMAGED"
NO_RECORD = "NO RECORD"
UNPLANNED = "UNPLANNED SIGNATURE"
BAD_CERTIFICATE = "BAD CERTIFICATE"
OUT_OF_ORDER = "OUT OF ORDER"
WRONG_SIGNER = "WRONG SIGNER"
SAME_SIGNER = "SAME SIGNER"


class VerifyInputError(ReadinessError):
    """The file given is not a PDF, or a --trust / input file cannot be read (exit 2)."""


@dataclass
class SignatureCheck:
    field: str
    role: str | None = None
    signer_name: str = ""
    signer_email: str | None = None
    cert_sha256: str = ""
    certifies: bool = False
    decision: str | None = None
    note: str = ""
    signed_at: str | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool | None = None  # None: no trust roots given
    trust_anchor: str | None = None  # the --trust certificate that vouched for it: "Name <email>"
    trust_anchor_sha256: str | None = None
    changes_after: str = ""  # none | form filling | other (pyHanko's modification level)
    json_signature_ok: bool = False
    planned: str | None = None  # the person the plan names for this slot ("Name <email>")
    reassigned_from: str | None = None  # an explicit re-assignment recorded in the signed statement
    reassign_reason: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def decision_word(self) -> str:
        return outcome_word(self.decision) if self.decision else "–"


@dataclass
class InputCheck:
    role: str
    file: str
    expected: str | None
    actual: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class Verification:
    reasons: list[str] = field(default_factory=list)
    signatures: list[SignatureCheck] = field(default_factory=list)
    record_bytes: bytes | None = None
    record: dict | None = None
    missing_signers: list[dict] = field(default_factory=list)  # planned slots not signed yet
    inputs: list[InputCheck] = field(default_factory=list)
    trust_given: bool = False

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def intact(self) -> bool:
        """Nothing changed since signing (trust aside)."""
        return bool(self.signatures) and all(r.startswith(UNTRUSTED) for r in self.reasons)

    @property
    def status(self) -> str:
        if self.valid:
            return "valid"
        return "untrusted" if self.intact else "invalid"

    @property
    def reassignments(self) -> list[SignatureCheck]:
        """Signatures made, by explicit re-assignment, by someone other than the planned person."""
        return [s for s in self.signatures if s.reassigned_from]

    @property
    def record_sha256(self) -> str | None:
        return sha256_hex(self.record_bytes) if self.record_bytes is not None else None

    @property
    def headline(self) -> str:
        n = len(self.signatures)
        if self.status == "valid":
            more = f"; {len(self.missing_signers)} planned signature(s) still open" if self.missing_signers else ""
            if self.reassignments:
                more += "; re-assigned: " + "; ".join(
                    f"{s.field} {s.role} signed by {s.signer_name} in place of {s.reassigned_from} "
                    f"({s.reassign_reason})" for s in self.reassignments)
            return f"VALID: {n} signature(s), all intact and trusted; nothing changed since signing{more}."
        if self.status == "untrusted":
            return (f"INTACT BUT NOT TRUSTED: {n} signature(s) intact and nothing changed since signing, "
                    "but the signers' identity is not established by a trusted certificate.")
        return f"INVALID: {self.reasons[0]}"

    def to_dict(self) -> dict:
        return {
            "status": self.status, "valid": self.valid, "intact": self.intact, "reasons": self.reasons,
            "record_sha256": self.record_sha256,
            "signatures": [{k: v for k, v in s.__dict__.items()} for s in self.signatures],
            "missing_signers": self.missing_signers,
            "inputs": [{**i.__dict__, "ok": i.ok} for i in self.inputs],
            "trust_given": self.trust_given,
        }


@contextmanager
def _quiet_pyhanko():
    """pyHanko logs every untrusted self-signed certificate with a traceback; we report it."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, levels, strict=True):
            lg.setLevel(lvl)


@dataclass(frozen=True)
class CertInfo:
    """One certificate of a --trust file: who it names and its SHA-256 (of the DER)."""

    subject: str
    sha256: str


def read_certificates(data: bytes) -> list:
    """Every certificate of a PEM bundle (one or more ``BEGIN CERTIFICATE`` blocks) or a DER file."""
    from readiness.report.sign import SigningError, load_certificates

    try:
        return load_certificates(data)
    except SigningError as exc:
        raise VerifyInputError(f"A --trust file is not usable: {exc}") from None


def describe_certificates(data: bytes) -> list[CertInfo]:
    """Who each certificate of a --trust file names, to show where trust comes from."""
    from readiness.report.sign import _who_cert

    return [CertInfo(_who_cert(c), hashlib.sha256(c.dump()).hexdigest()) for c in read_certificates(data)]


def load_trust_certs(files: Iterable[bytes]) -> list:
    """Every certificate of every --trust file; each one is a trust anchor of its own."""
    out, seen = [], set()
    for data in files:
        for cert in read_certificates(data):
            digest = hashlib.sha256(cert.dump()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                out.append(cert)
    return out


def _anchor_of(status):
    """The trust anchor certificate pyHanko's path validation ended at, or None."""
    path = getattr(status, "validation_path", None)
    if path is None:
        return None
    try:
        return path.trust_anchor.authority.certificate
    except Exception:
        return None


def _der_length(data: bytes) -> int | None:
    """Total length of the DER object at the start of ``data`` (None if malformed)."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(data) < 2 + n:
        return None
    return 2 + n + int.from_bytes(data[2:2 + n], "big")


def _contents_hole_ok(pdf: bytes, byte_range) -> str | None:
    """The bytes outside the byte range must be exactly what the signer wrote: '<' + the
    upper-case hex of the DER CMS (pyHanko's form) + '0' padding + '>'. Returns a problem, or None.

    No signature covers these bytes (a PDF reader decodes the hex, so every re-cased or
    re-padded variant decodes to the same signature value); the hole of the last signature
    is covered by nothing else, so only this exact comparison catches a change there."""
    try:
        a, b = int(byte_range[0]) + int(byte_range[1]), int(byte_range[2])
    except Exception:
        return "its /ByteRange is malformed"
    hole = pdf[a:b]
    if len(hole) < 2 or hole[:1] != b"<" or hole[-1:] != b">":
        return "the bytes outside its byte range are not a single hex string"
    hexs = hole[1:-1]
    try:
        raw = binascii.unhexlify(hexs)
    except (binascii.Error, ValueError):
        return "its signature hex string is malformed"
    n = _der_length(raw)
    if n is None or n > len(raw):
        return "its signature value is malformed"
    if any(raw[n:]):
        return "bytes in the padding after its signature value were changed"
    written = binascii.hexlify(raw[:n]).upper() + b"0" * (len(hexs) - 2 * n)
    if hexs != written:
        changed = sum(a != b for a, b in zip(hexs, written, strict=True))
        return (f"the hex encoding of its signature value was changed ({changed:,} byte(s) differ from the "
                "upper-case hex the signature was written in)")
    return None


def _hash_file(path_or_bytes) -> str:
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return hashlib.sha256(path_or_bytes).hexdigest()
    h = hashlib.sha256()
    try:
        with open(path_or_bytes, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise VerifyInputError(f"Cannot read {path_or_bytes}: {exc.strerror}.") from None
    return h.hexdigest()


def _who(sc: SignatureCheck) -> str:
    role = f"{sc.role}, " if sc.role else ""
    return f"signature {sc.field} ({role}{sc.signer_name or 'unknown signer'})"


def _certificate_problems(sc: SignatureCheck, emb) -> list[str]:
    """The signer's certificate must allow signing and be valid when the signature was made,
    whether or not it is itself a --trust anchor (pyHanko checks neither for an anchor)."""
    from datetime import UTC, datetime

    from readiness.report.sign import signing_usage_problem, validity_problem

    out = []
    try:
        cert = emb.signer_cert
        usage = signing_usage_problem(cert)
        if usage is not None:
            out.append(f"{BAD_CERTIFICATE}: {_who(sc)}: its certificate is not for signing (key usage: {usage}); a "
                       "signing certificate must allow 'digital signature' or 'non-repudiation'.")
        when = emb.self_reported_timestamp or datetime.now(UTC)
        bad = validity_problem(cert, when)
        if bad is not None:
            kind, bound = bad
            word = f"had expired on {bound:%Y-%m-%d}" if kind == "expired" else f"was not valid before {bound:%Y-%m-%d}"
            out.append(f"{BAD_CERTIFICATE}: {_who(sc)}: its certificate {word}, but the signature says it was made "
                       f"on {when:%Y-%m-%d %H:%M} UTC.")
    except Exception as exc:
        out.append(f"{BAD_CERTIFICATE}: {_who(sc)}: its certificate cannot be read ({type(exc).__name__}).")
    return out


def _check_plan(out: Verification, slots: dict[str, dict]) -> None:
    """Each planned person signed their own slot, in the planned order, one person per role.

    The plan (``record.signers``, in signing order) is part of the signed record. A slot
    signed by someone else is valid only when the signer's statement records an explicit
    re-assignment from exactly the planned person, with a reason."""
    from readiness.report.canonical import SignerSlot, person_label, same_identity

    plan = []
    for raw in slots.values():
        try:
            plan.append(SignerSlot.model_validate(raw))
        except Exception:
            continue
    order = [s.field for s in plan]
    by_field = {s.field: s for s in plan}
    made = [sc for sc in out.signatures if sc.field in by_field]
    for i, sc in enumerate(made):
        expected = order[i] if i < len(order) else None
        if sc.field != expected:
            before = [f for f in order[:order.index(sc.field)] if f not in {x.field for x in made[:i]}]
            sc.problems.append(f"{OUT_OF_ORDER}: {_who(sc)} was made before {', '.join(before)}; the plan signs in "
                               f"the order {', '.join(order)}.")
    for sc in made:
        slot = by_field[sc.field]
        sc.planned = slot.planned
        if slot.accepts(sc.signer_name, sc.signer_email):
            if sc.reassigned_from:
                sc.problems.append(f"{WRONG_SIGNER}: {_who(sc)} claims a re-assignment from {sc.reassigned_from}, "
                                   "but the slot was not planned for anyone else.")
            continue
        actual = person_label(sc.signer_name, sc.signer_email)
        if sc.reassigned_from and sc.reassigned_from == slot.planned and sc.reassign_reason:
            continue  # explicit, signed and shown: see Verification.reassignments
        sc.problems.append(f"{WRONG_SIGNER}: {sc.field} ({slot.role}) is planned for {slot.planned}, but was signed "
                           f"by {actual}" + (" (a re-assignment without the planned person or a reason)"
                                             if sc.reassigned_from else "") + ".")
    for i, a in enumerate(made):
        for b in made[i + 1:]:
            one = a.cert_sha256 and a.cert_sha256 == b.cert_sha256
            if not (one or same_identity(a.signer_name, a.signer_email, b.signer_name, b.signer_email)):
                continue
            if by_field[a.field].same_person_as(by_field[b.field]):
                continue
            b.problems.append(f"{SAME_SIGNER}: {person_label(b.signer_name, b.signer_email)} signed both {a.field} "
                              f"({a.role}) and {b.field} ({b.role})" + (" with one certificate" if one else "")
                              + "; one person signs one role unless the plan names them for both.")


def _validate_cms(record: bytes, cms_b64: str, vc, kus):
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    ci = cms.ContentInfo.load(base64.b64decode(cms_b64, validate=True))
    sd = ci["content"]
    status = asyncio.run(async_validate_detached_cms(record, sd, signer_validation_context=vc,
                                                     key_usage_settings=kus))
    return status


def verify_report(
    pdf: bytes,
    *,
    trust: Iterable[bytes] = (),
    inputs: dict[str, Path | bytes] | None = None,
) -> Verification:
    """Verify a report; ``trust`` holds PEM/DER certificates, ``inputs`` maps a role
    (train / test / model) to a file path or its bytes. Never raises for a tampered
    report (that is a result); raises :class:`VerifyInputError` for bad input."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from readiness.report.sign import cert_subject, embedded_files, field_value, form_fields

    if not pdf[:1024].lstrip().startswith(b"%PDF-"):
        raise VerifyInputError("Not a PDF file (it does not start with %PDF-).")
    roots = load_trust_certs(trust)
    out = Verification(trust_given=bool(roots))
    kus = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)

    def vc():
        return ValidationContext(trust_roots=list(roots), allow_fetching=False, revocation_mode="soft-fail")

    with _quiet_pyhanko():
        try:
            reader = PdfFileReader(BytesIO(pdf), strict=False)
            root = reader.root
            files = embedded_files(root)
            sigs = list(reader.embedded_regular_signatures)
            latest_fields = form_fields(root)
        except Exception as exc:
            out.reasons.append(f"{DAMAGED}: the PDF cannot be read: {type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:200]}")
            return out
        data = files.get(RECORD_FILENAME)
        if data is None:
            out.reasons.append(f"{NO_RECORD}: the PDF has no attached {RECORD_FILENAME}; it is not a readiness "
                               "review report, or the attachment was removed.")
        else:
            out.record_bytes = data
            try:
                out.record = record_dict(data)
            except Exception:
                out.reasons.append(f"{NO_RECORD}: the attached {RECORD_FILENAME} is not JSON.")
        record = out.record or {}
        slots = {s.get("field"): s for s in record.get("signers", []) if isinstance(s, dict)}
        if not sigs:
            out.reasons.append(f"{NOT_SIGNED}: the report carries no signature.")

        for i, emb in enumerate(sigs):
            sc = SignatureCheck(field=str(emb.field_name))
            out.signatures.append(sc)
            slot = slots.get(sc.field)
            sc.role = slot.get("role") if slot else None
            try:
                cert = emb.signer_cert
                sc.signer_name, sc.signer_email = cert_subject(cert)
                sc.cert_sha256 = hashlib.sha256(cert.dump()).hexdigest()
            except Exception:
                pass
            try:
                sc.certifies = emb.docmdp_level is not None
            except Exception:
                sc.certifies = False
            if slot is None and out.record is not None:
                sc.problems.append(f"{UNPLANNED}: {_who(sc)} is not in a field planned for a signer of this review.")
            hole = _contents_hole_ok(pdf, emb.byte_range)
            if hole:
                sc.problems.append(f"{TAMPERED}: {_who(sc)}: {hole}.")
            try:
                st = validate_pdf_signature(emb, vc(), key_usage_settings=kus)
            except Exception as exc:
                sc.problems.append(f"{TAMPERED}: {_who(sc)} cannot be validated ({type(exc).__name__}: "
                                   f"{' '.join(str(exc).split())[:160]}).")
                continue
            sc.intact, sc.valid = bool(st.intact), bool(st.valid)
            level = st.modification_level
            sc.changes_after = {0: "none", 1: "timestamps/validation data", 2: "form filling",
                                3: "annotations"}.get(getattr(level, "value", -1), "other") if level else "unknown"
            if not st.intact:
                sc.problems.append(f"{TAMPERED}: {_who(sc)}: the signed bytes were changed after signing "
                                   "(their digest no longer matches the signature).")
            elif not st.valid:
                sc.problems.append(f"{BAD_SIGNATURE}: {_who(sc)}: the signature value does not verify with the "
                                   "certificate it carries.")
            last = i == len(sigs) - 1
            if last and st.coverage != SignatureCoverageLevel.ENTIRE_FILE:
                extra = len(pdf) - (int(emb.byte_range[2]) + int(emb.byte_range[3]))
                sc.problems.append(f"{UNSIGNED_CHANGES}: {max(extra, 0):,} byte(s) after the last signature "
                                   f"({sc.field}) are not covered by any signature.")
            elif not last and st.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
                sc.problems.append(f"{TAMPERED}: {_who(sc)} does not cover its whole revision.")
            if st.intact and (not st.docmdp_ok or level is None or getattr(level, "value", 99) > 2):
                detail = ""
                if st.diff_result is not None and not hasattr(st.diff_result, "modification_level"):
                    detail = ": " + " ".join(str(st.diff_result).split())[:240]
                sc.problems.append(f"{MODIFIED}: after {_who(sc)} the document was changed in a way its "
                                   f"certification does not allow{detail}.")
            if st.intact and st.valid:
                sc.problems += _certificate_problems(sc, emb)
                if roots:
                    sc.trusted = bool(st.trusted)
                    anchor = _anchor_of(st) if st.trusted else None
                    if anchor is not None:
                        from readiness.report.sign import _who_cert

                        sc.trust_anchor = _who_cert(anchor)
                        sc.trust_anchor_sha256 = hashlib.sha256(anchor.dump()).hexdigest()
                    if not st.trusted:
                        sc.problems.append(f"{UNTRUSTED}: {_who(sc)} is intact, but its certificate (SHA-256 "
                                           f"{sc.cert_sha256[:16]}…) does not chain to any --trust certificate.")
            # the signer's statement and the signature over the JSON
            if slot is None:
                continue
            stmt_name = f"{sc.field}Statement"
            text = field_value(latest_fields.get(stmt_name, {})) if stmt_name in latest_fields else None
            try:
                then_fields = form_fields(reader.get_historical_resolver(emb.signed_revision).root)
                then_text = field_value(then_fields.get(stmt_name, {})) if stmt_name in then_fields else None
            except Exception:
                then_text = None
            if text is None:
                sc.problems.append(f"{JSON_SIGNATURE}: {_who(sc)} has no signed statement ({stmt_name} is empty).")
                continue
            if then_text != text:
                sc.problems.append(f"{MODIFIED}: the statement of {_who(sc)} was changed after it was signed.")
            try:
                stmt = Statement.model_validate_json(text)
            except Exception:
                sc.problems.append(f"{JSON_SIGNATURE}: the statement of {_who(sc)} is not a valid statement.")
                continue
            sc.decision, sc.note, sc.signed_at = stmt.decision.value, stmt.note, stmt.signed_at
            sc.reassigned_from, sc.reassign_reason = stmt.reassigned_from, stmt.reassign_reason
            if stmt.field != sc.field or (sc.role and stmt.role != sc.role):
                sc.problems.append(f"{JSON_SIGNATURE}: the statement of {_who(sc)} names another field or role "
                                   f"({stmt.field}, {stmt.role}).")
            if stmt.cert_sha256 != sc.cert_sha256:
                sc.problems.append(f"{JSON_SIGNATURE}: the statement of {_who(sc)} names another certificate.")
            if data is None:
                continue
            if stmt.record_sha256 != sha256_hex(data) or stmt.record_id != record.get("record_id"):
                sc.problems.append(f"{JSON_SIGNATURE}: {_who(sc)} signed a review record with SHA-256 "
                                   f"{stmt.record_sha256[:16]}…, but the attached {RECORD_FILENAME} has "
                                   f"{sha256_hex(data)[:16]}…: the attachment was swapped or altered.")
            try:
                cms_status = _validate_cms(data, stmt.record_cms, vc(), kus)
                cms_cert = hashlib.sha256(cms_status.signing_cert.dump()).hexdigest()
                sc.json_signature_ok = bool(cms_status.intact and cms_status.valid and cms_cert == sc.cert_sha256)
                if not cms_status.intact:
                    sc.problems.append(f"{JSON_SIGNATURE}: the signature of {_who(sc)} over {RECORD_FILENAME} "
                                       "does not match the attached bytes.")
                elif not cms_status.valid:
                    sc.problems.append(f"{JSON_SIGNATURE}: the signature of {_who(sc)} over {RECORD_FILENAME} "
                                       "is not a valid signature.")
                elif cms_cert != sc.cert_sha256:
                    sc.problems.append(f"{JSON_SIGNATURE}: the signature of {_who(sc)} over {RECORD_FILENAME} was "
                                       "made with another certificate than the PDF signature.")
            except Exception as exc:
                sc.problems.append(f"{JSON_SIGNATURE}: the signature of {_who(sc)} over {RECORD_FILENAME} cannot be "
                                   f"read ({type(exc).__name__}).")

        # the record must be the one the first signer signed
        if sigs and data is not None:
            try:
                first_files = embedded_files(reader.get_historical_resolver(sigs[0].signed_revision).root)
                if first_files.get(RECORD_FILENAME) != data:
                    out.reasons.append(f"{RECORD_REPLACED}: the attached {RECORD_FILENAME} differs from the one "
                                       "present when the first signature was made.")
            except Exception:
                out.reasons.append(f"{RECORD_REPLACED}: the record present at the first signature cannot be read.")
        _check_plan(out, slots)
        # statements without a signature; planned slots still open
        signed_fields = {s.field for s in out.signatures}
        for f, slot in slots.items():
            if f in signed_fields:
                continue
            stmt_name = f"{f}Statement"
            if stmt_name in latest_fields and field_value(latest_fields[stmt_name]) is not None:
                out.reasons.append(f"{MODIFIED}: the statement field of '{slot.get('role')}' ({f}) was filled "
                                   "without a signature.")
            out.missing_signers.append({"field": f, "role": slot.get("role"), "name": slot.get("name"),
                                        "email": slot.get("email")})

    for sc in out.signatures:
        out.reasons.extend(sc.problems)
    # inputs
    recorded = {}
    for f in (record.get("review") or {}).get("inputs", []) if isinstance(record, dict) else []:
        recorded.setdefault(f.get("role"), f)
    for role, src in (inputs or {}).items():
        actual = _hash_file(src)
        name = src.name if isinstance(src, Path) else role
        exp = recorded.get(role, {}).get("sha256")
        out.inputs.append(InputCheck(role=role, file=str(name), expected=exp, actual=actual))
        if exp is None:
            out.reasons.append(f"{INPUT_MISMATCH}: the report records no {role} file, but one was given ({name}).")
        elif exp != actual:
            out.reasons.append(f"{INPUT_MISMATCH}: {role} file {name} has SHA-256 {actual[:16]}…, but the report "
                               f"recorded {exp[:16]}… for {recorded[role].get('name')}.")
    if out.signatures and not roots and not any(not r.startswith(UNTRUSTED) for r in out.reasons):
        n = len(out.signatures)
        out.reasons.append(f"{UNTRUSTED}: no --trust certificate given: {'the signature is' if n == 1 else f'all {n} signatures are'} "
                           "intact and nothing changed since signing, but who signed is not established "
                           "(anyone can make a self-signed certificate with any name).")
    elif out.signatures and not roots:
        out.reasons.append(f"{UNTRUSTED}: no --trust certificate given, so the signers' identity is not established.")
    out.reasons.sort(key=lambda r: r.startswith(UNTRUSTED))  # what changed first; trust last
    return out
