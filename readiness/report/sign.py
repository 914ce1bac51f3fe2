"""Keys, certificates, document preparation and PAdES signing (pyHanko).

Order of operations (see docs/report.md):

1. :func:`prepare_document` turns the rendered PDF into the *unsigned report*: the
   canonical record JSON attached as ``review-record.json``, and per planned signer a
   visible signature field ``SigN`` (locking its statement field when signed) and a
   hidden text field ``SigNStatement``.
2. :func:`sign_report`: the first signer *certifies* the document (DocMDP level 2:
   only form filling and signatures allowed afterwards); later signers sign their own
   pre-created field as an incremental update. In the same update each signer fills
   their statement field with a canonical JSON :class:`~readiness.report.canonical.Statement`
   (decision, note, and a detached CMS signature over the exact record bytes).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from readiness import errors as E
from readiness.errors import ReadinessError
from readiness.report.canonical import (
    RECORD_FILENAME,
    RECORD_MIME,
    Outcome,
    ReviewRecord,
    Statement,
    outcome_word,
    parse_record,
    sha256_hex,
    valid_email,
)


class SigningError(ReadinessError):
    """A key, certificate or report cannot be used for signing (bad input, exit 2)."""


KEY_ALGORITHMS = ("rsa", "p256")
CERT_VALID_DAYS = 3650
CERT_MAX_DAYS = 3650  # ten years: a signing certificate longer-lived than that is a key nobody rotates
CN_MAX = 64  # X.509 upper bound of a common name (RFC 5280, ub-common-name)
NOTE_MAX = 2000  # a signer's note is a sentence or two on the stamp; longer text goes into the review's notes


# --- keys and certificates -------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    key_pem: bytes
    cert_pem: bytes

    @property
    def fingerprint(self) -> str:
        return cert_fingerprint(self.cert_pem)


def generate_key(name: str, email: str | None = None, *, algorithm: str = "rsa", days: int = CERT_VALID_DAYS,
                 passphrase: bytes | None = None) -> KeyPair:
    """A new RSA-2048 or P-256 key and a self-signed X.509 certificate for document signing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = " ".join((name or "").split())
    email = (email or "").strip() or None
    if not name:
        raise SigningError(E.SIGNER_NAME_MISSING)
    if len(name) > CN_MAX:
        raise SigningError(E.SIGNER_NAME_TOO_LONG.format(length=len(name), limit=CN_MAX))
    if email is not None and not valid_email(email):
        raise SigningError(E.EMAIL_INVALID.format(what="The signer's email", email=email))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= CERT_MAX_DAYS:
        raise SigningError(E.CERT_DAYS_RANGE.format(limit=CERT_MAX_DAYS, days=days))
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise SigningError(f"Key algorithm must be one of {', '.join(KEY_ALGORITHMS)}; got {algorithm!r}.")
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(attrs)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                              x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]),  # documentSigning
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    enc = (serialization.BestAvailableEncryption(passphrase) if passphrase
           else serialization.NoEncryption())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    return KeyPair(key_pem=key_pem, cert_pem=cert.public_bytes(serialization.Encoding.PEM))


def slug(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return s or "signer"


def write_keypair(pair: KeyPair, out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write ``<slug>.key.pem`` (mode 600) and ``<slug>.cert.pem``; never overwrite."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = slug(name)
    key_path, cert_path = out_dir / f"{base}.key.pem", out_dir / f"{base}.cert.pem"
    for p in (key_path, cert_path):
        if p.exists():
            raise SigningError(f"{p} already exists; choose another --out directory or remove it.")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pair.key_pem)
    cert_path.write_bytes(pair.cert_pem)
    return key_path, cert_path


def load_certificates(cert_data: bytes) -> list:
    """Every certificate of a PEM file (one or more blocks, e.g. a chain or a bundle) or a DER file."""
    from pyhanko.keys import load_certs_from_pemder_data

    try:
        certs = list(load_certs_from_pemder_data(cert_data))
    except Exception as exc:
        raise SigningError(f"Not an X.509 certificate (PEM or DER): {type(exc).__name__}.") from None
    if not certs:
        raise SigningError("No X.509 certificate found in the certificate file (expected PEM or DER).")
    return certs


def _load_cert_asn1(cert_data: bytes):
    return load_certificates(cert_data)[0]


def cert_fingerprint(cert_data: bytes) -> str:
    """SHA-256 of the certificate's DER encoding (hex)."""
    return hashlib.sha256(_load_cert_asn1(cert_data).dump()).hexdigest()


def cert_subject(cert) -> tuple[str, str | None]:
    """(common name, email) of an asn1crypto certificate."""
    native = cert.subject.native
    name = native.get("common_name") or cert.subject.human_friendly
    email = native.get("email_address")
    if not email:
        try:
            san = cert.subject_alt_name_value
            if san is not None:
                email = next((g.native for g in san if g.name == "rfc822_name"), None)
        except Exception:
            email = None
    if isinstance(name, list):
        name = name[0]
    if isinstance(email, list):
        email = email[0]
    return str(name), (str(email) if email else None)


KEY_USAGE_WORDS = {"digital_signature": "digital signature", "content_commitment": "non-repudiation",
                   "key_encipherment": "key encipherment", "data_encipherment": "data encipherment",
                   "key_agreement": "key agreement", "key_cert_sign": "certificate signing", "crl_sign": "CRL signing"}


def _x509(cert):
    """The ``cryptography`` view of an asn1crypto certificate."""
    from cryptography import x509

    return x509.load_der_x509_certificate(cert.dump())


def signing_usage_problem(cert) -> str | None:
    """None when the certificate's key usage allows signing documents (digital signature or
    non-repudiation); otherwise the usages it does state. A certificate without a key usage
    extension is refused too: a certificate made for signing says so."""
    from cryptography import x509

    try:
        ku = _x509(cert).extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "none stated"
    except Exception as exc:  # an extension cryptography cannot parse
        return f"unreadable ({type(exc).__name__})"
    if ku.digital_signature or ku.content_commitment:
        return None
    return ", ".join(w for attr, w in KEY_USAGE_WORDS.items() if getattr(ku, attr)) or "none"


def validity_problem(cert, at: datetime) -> tuple[str, datetime] | None:
    """('expired' | 'not yet valid', the bound) when ``at`` is outside the certificate's validity."""
    c = _x509(cert)
    if at < c.not_valid_before_utc:
        return "not yet valid", c.not_valid_before_utc
    if at > c.not_valid_after_utc:
        return "expired", c.not_valid_after_utc
    return None


def _who_cert(cert) -> str:
    name, email = cert_subject(cert)
    return f"{name} <{email}>" if email else name


def check_signing_certificate(cert, at: datetime) -> None:
    """Refuse (:class:`SigningError`) a certificate that is not valid at ``at`` or not for signing."""
    try:
        bad = validity_problem(cert, at)
    except Exception as exc:
        raise SigningError(f"The certificate cannot be read ({type(exc).__name__}).") from None
    if bad is not None:
        kind, when = bad
        template = E.CERT_EXPIRED if kind == "expired" else E.CERT_NOT_YET_VALID
        raise SigningError(template.format(subject=_who_cert(cert), date=when.strftime("%Y-%m-%d %H:%M UTC")))
    usage = signing_usage_problem(cert)
    if usage is not None:
        raise SigningError(E.CERT_NOT_FOR_SIGNING.format(subject=_who_cert(cert), usage=usage))


def load_signer(key_data: bytes, cert_data: bytes, passphrase: bytes | None = None):
    """A pyHanko SimpleSigner from PEM/DER bytes; refuses Ed25519 and key/cert mismatch."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = _load_cert_asn1(cert_data)
    try:
        key_obj = (serialization.load_pem_private_key(key_data, password=passphrase) if b"-----BEGIN" in key_data
                   else serialization.load_der_private_key(key_data, password=passphrase))
    except TypeError:
        raise SigningError("The private key is encrypted: give its passphrase (--passphrase-env).") from None
    except ValueError as exc:
        msg = str(exc).lower()
        if "password" in msg or "decrypt" in msg or "bad decrypt" in msg:
            raise SigningError("The passphrase does not decrypt the private key.") from None
        raise SigningError("Not a private key (expected PEM or DER, PKCS#8 or traditional).") from None
    if not isinstance(key_obj, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise SigningError(f"Use an RSA or P-256 key; {type(key_obj).__name__.lstrip('_')} PDF signatures are not "
                           "recognised by common PDF readers.")
    if isinstance(key_obj, ec.EllipticCurvePrivateKey) and key_obj.curve.name != "secp256r1":
        raise SigningError(f"Use a P-256 elliptic-curve key; got {key_obj.curve.name}.")
    pub_der = key_obj.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    if pub_der != cert.public_key.dump():
        raise SigningError("The private key does not belong to the certificate (their public keys differ).")
    key_asn1 = load_private_key_from_pemder_data(
        key_obj.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()), passphrase=None)
    chain = list(load_certs_from_pemder_data(cert_data))  # a PEM file may carry intermediates after the cert
    return signers.SimpleSigner(signing_cert=cert, signing_key=key_asn1,
                                cert_registry=SimpleCertificateStore.from_certs(chain or [cert]))


# --- preparing the unsigned report -------------------------------------------------------


@dataclass(frozen=True)
class SigBox:
    """Where a signature field sits: page index (0-based) and (x1, y1, x2, y2) in points."""

    field: str
    page: int
    box: tuple[int, int, int, int]


def prepare_document(pdf_body: bytes, data: bytes, record: ReviewRecord, boxes: list[SigBox]) -> bytes:
    """Attach the record bytes and create the signature and statement fields (one revision)."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer
    from pyhanko.sign import fields

    writer = copy_into_new_writer(PdfFileReader(BytesIO(pdf_body)))
    created = datetime.fromisoformat(record.created_at)
    writer.document_meta.created = created  # the real creation time (the renderer writes a fixed one)
    ef = embed.EmbeddedFileObject.from_file_data(
        writer, data=data, mime_type=RECORD_MIME,
        params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True, creation_date=created,
                                        modification_date=created))
    embed.embed_file(writer, embed.FileSpec(
        file_spec_string=RECORD_FILENAME, file_name=RECORD_FILENAME, embedded_data=ef,
        description=f"Canonical review record (SHA-256 {sha256_hex(data)}); the signed bytes"))
    by_field = {b.field: b for b in boxes}
    for slot in record.signers:
        b = by_field.get(slot.field)
        spec = fields.SigFieldSpec(
            sig_field_name=slot.field,
            on_page=b.page if b else 0,
            box=b.box if b else None,
            readable_field_name=f"Signature: {slot.role}",
            field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, [slot.statement_field]),
        )
        fields.append_signature_field(writer, spec)
        # hidden text field for the signer's statement; no widget, read-only for viewers
        text_field = generic.DictionaryObject({
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject(slot.statement_field),
            pdf_name("/TU"): generic.TextStringObject(f"Signed statement: {slot.role}"),
            pdf_name("/Ff"): generic.NumberObject(1),
        })
        ref = writer.add_object(text_field)
        form = writer.root["/AcroForm"]
        form["/Fields"].append(ref)
    writer.root["/PageMode"] = pdf_name("/UseOutlines")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# --- reading what a report holds ----------------------------------------------------------


def _reader(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(pdf), strict=False)


def embedded_files(root) -> dict[str, bytes]:
    """name -> bytes of the files in the (flat or nested) EmbeddedFiles name tree."""
    out: dict[str, bytes] = {}
    try:
        tree = root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return out

    def walk(node, depth=0):
        if depth > 10:
            return
        node = node.get_object()
        if "/Names" in node:
            arr = node["/Names"]
            for i in range(0, len(arr) - 1, 2):
                name = str(arr[i])
                spec = arr[i + 1].get_object()
                ef = spec.get("/EF")
                if ef is None:
                    continue
                stream = ef.get("/UF") or ef.get("/F")
                if stream is not None:
                    out.setdefault(name, stream.get_object().data)
        for kid in node.get("/Kids", []):
            walk(kid, depth + 1)

    walk(tree)
    return out


def form_fields(root) -> dict[str, object]:
    """Fully qualified name -> field dictionary (terminal fields of the AcroForm)."""
    out: dict[str, object] = {}
    try:
        top = root["/AcroForm"]["/Fields"]
    except KeyError:
        return out

    def walk(ref, prefix, depth=0):
        if depth > 10:
            return
        f = ref.get_object()
        name = str(f.get("/T", ""))
        fq = f"{prefix}.{name}" if prefix and name else (name or prefix)
        kids = f.get("/Kids")
        if kids and any("/T" in k.get_object() for k in kids):
            for k in kids:
                walk(k, fq, depth + 1)
        else:
            out[fq] = f

    for ref in top:
        walk(ref, "")
    return out


def read_record(pdf: bytes) -> tuple[bytes, ReviewRecord]:
    """The attached record bytes and parsed record of a (signed or unsigned) report."""
    try:
        r = _reader(pdf)
        files = embedded_files(r.root)
    except Exception as exc:
        raise SigningError(f"Not a readable PDF report: {type(exc).__name__}: {exc}") from None
    data = files.get(RECORD_FILENAME)
    if data is None:
        raise SigningError(f"This PDF has no attached {RECORD_FILENAME}: it is not a readiness review report.")
    try:
        return data, parse_record(data)
    except Exception as exc:
        raise SigningError(f"The attached {RECORD_FILENAME} is not a valid review record: "
                           f"{' '.join(str(exc).split())[:300]}") from None


def field_value(field) -> str | None:
    v = field.get("/V")
    if v is None:
        return None
    v = v.get_object()
    return v if isinstance(v, str) else None


# --- signing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignResult:
    pdf: bytes
    statement: Statement
    certified: bool


def _fit_line(text: str, font: str, size: float, room: float) -> str:
    """The longest prefix of ``text`` (plus '…') that fits ``room`` points: bisection, so the
    cost is linear in the text (a character-by-character loop made long notes quadratic)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= room:
        return text
    lo, hi = 0, min(len(text), int(room / (0.2 * size)) + 1)  # no glyph is narrower than 0.2 em
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid] + "…", font, size) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _stamp_pdf(statement: Statement, width: float, height: float, fingerprint: str) -> bytes:
    """The visible signature appearance, drawn with the shipped fonts (any name renders)."""
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen import canvas

    from readiness.report.fonts import BOLD, REGULAR, register_fonts, text_runs

    register_fonts()
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), initialFontName=REGULAR, invariant=1)
    c.setFillColor(HexColor("#f4f6f8"))
    c.setStrokeColor(HexColor("#1f2d3d"))
    c.setLineWidth(1.2)
    c.rect(0.6, 0.6, width - 1.2, height - 1.2, fill=1, stroke=1)
    c.setFillColor(HexColor("#111111"))
    mark = {"approve": "✔", "approve_with_conditions": "◐", "reject": "✖"}[statement.decision.value]

    def line(y, text, font, size):
        x = 6
        for run_font, run in text_runs(text, font):
            c.setFont(run_font, size)
            c.drawString(x, y, run)
            x += c.stringWidth(run, run_font, size)

    fit = _fit_line

    room = width - 12
    top = height - 13
    line(top, fit(f"Digitally signed by {statement.signer_name}", REGULAR, 9, room - 10), BOLD, 9)
    line(top - 12, fit(f"{statement.role} · {mark} {outcome_word(statement.decision)}", REGULAR, 8.5, room),
         REGULAR, 8.5)
    y = top - 23
    if statement.reassigned_from:
        line(y, fit(f"in place of {statement.reassigned_from}", REGULAR, 7.5, room), REGULAR, 7.5)
        y -= 10
    if statement.note:
        line(y, fit(f"Note: {statement.note}", REGULAR, 7.5, room), REGULAR, 7.5)
        y -= 10
    line(y, statement.signed_at.replace("T", " ").replace("+00:00", " UTC"), REGULAR, 7.5)
    line(5, f"certificate SHA-256 {fingerprint[:32]}…", REGULAR, 6.3)
    c.showPage()
    c.save()
    return buf.getvalue()


def _open_slots(pdf: bytes, record: ReviewRecord) -> dict[str, bool]:
    """signature field -> already signed?"""
    r = _reader(pdf)
    fields_ = form_fields(r.root)
    out = {}
    for slot in record.signers:
        f = fields_.get(slot.field)
        out[slot.field] = f is not None and "/V" in f
    return out


def _statements(pdf: bytes, record: ReviewRecord) -> dict[str, Statement]:
    """signature field -> the statement its signer left (signed slots only)."""
    fields_ = form_fields(_reader(pdf).root)
    out = {}
    for slot in record.signers:
        text = field_value(fields_[slot.statement_field]) if slot.statement_field in fields_ else None
        if text:
            try:
                out[slot.field] = Statement.model_validate_json(text)
            except Exception:
                continue
    return out


def _check_governance(record: ReviewRecord, slot, signed: dict[str, bool], done: dict[str, Statement], *,
                      name: str, email: str | None, fingerprint: str, outcome: Outcome,
                      reassign: str | None) -> str | None:
    """The sign-off rules a model-risk function expects; raises :class:`SigningError`.
    Returns the planned person this signature re-assigns the role from (or None)."""
    from readiness.report.canonical import failing_without_rationale, person_label, same_identity

    index = record.signers.index(slot)
    waiting = [s for s in record.signers[:index] if not signed[s.field]]
    if waiting:
        raise SigningError(E.SIGN_OUT_OF_ORDER.format(
            role=slot.role, field=slot.field, waiting=", ".join(f"'{s.role}' ({s.field})" for s in waiting),
            order=" → ".join(f"{s.field} {s.role}" for s in record.signers)))
    actual = person_label(name, email)
    for other in record.signers[:index]:
        st = done.get(other.field)
        if st is None:
            continue
        if (st.cert_sha256 == fingerprint or same_identity(st.signer_name, st.signer_email, name, email)) \
                and not slot.same_person_as(other):
            raise SigningError(E.SIGN_SAME_PERSON.format(actual=actual, role=other.role, field=other.field))
    reassigned_from = None
    if not slot.accepts(name, email):
        if not reassign:
            raise SigningError(E.SIGN_WRONG_PERSON.format(role=slot.role, field=slot.field, planned=slot.planned,
                                                          actual=actual))
        reassigned_from = slot.planned
    elif reassign:
        why = f"planned for {slot.planned}, who holds this certificate" if slot.planned else \
            "not planned for a named person"
        raise SigningError(E.REASSIGN_NOT_NEEDED.format(role=slot.role, field=slot.field, why=why))
    if outcome in (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS):
        missing = failing_without_rationale(record.review, record.notes)
        if missing:
            raise SigningError(E.SIGN_APPROVE_NEEDS_RATIONALE.format(
                checks="; ".join(f"{c.title} ({c.id})" for c in missing)))
    return reassigned_from


def sign_report(
    pdf: bytes,
    *,
    key: bytes,
    cert: bytes,
    role: str,
    decision: str,
    note: str = "",
    passphrase: bytes | None = None,
    check_existing: bool = True,
    reassign: str | None = None,
) -> SignResult:
    """Sign the slot planned for ``role`` (the first unsigned one; case-insensitive).

    The first signature of a report certifies it. Raises :class:`SigningError` for bad
    input: unknown role, no open slot, unreadable key, a certificate that may not sign,
    or a report that no longer verifies as intact (``check_existing``; nobody should sign
    a tampered report); and for the sign-off rules: slots are signed in the planned order,
    by the planned person (or with ``reassign``, the reason another person signs, recorded
    in the signed statement), one person per role unless the plan names them for several,
    and an approval needs the record's rationale for every failing check.
    """
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.generic import TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    try:
        outcome = Outcome(decision)
    except ValueError:
        raise SigningError(f"Decision must be one of {', '.join(o.value for o in Outcome)}; got {decision!r}.") from None
    note = " ".join(note.split()) if note else ""
    if len(note) > NOTE_MAX:
        raise SigningError(E.NOTE_TOO_LONG.format(length=len(note), limit=NOTE_MAX))
    signer = load_signer(key, cert, passphrase)
    check_signing_certificate(signer.signing_cert, datetime.now(UTC))
    data, record = read_record(pdf)
    signed = _open_slots(pdf, record)
    wanted = " ".join(role.split()).casefold()
    candidates = [s for s in record.signers if s.role.casefold() == wanted or s.field.casefold() == wanted]
    if not candidates:
        roles = ", ".join(f"'{s.role}'" for s in record.signers)
        raise SigningError(f"No signer role '{role}' in this report; planned roles: {roles}.")
    slot = next((s for s in candidates if not signed[s.field]), None)
    if slot is None:
        raise SigningError(f"The '{candidates[0].role}' signature of this report is already signed.")
    if check_existing and any(signed.values()):
        from readiness.report.verify import verify_report

        pre = verify_report(pdf)
        broken = [r for r in pre.reasons if not r.startswith(("UNTRUSTED", "INCOMPLETE"))]
        if broken:
            raise SigningError(f"Refusing to sign: the report does not verify as intact ({broken[0]})")
    certify = not any(signed.values())

    cert_asn1 = signer.signing_cert
    fingerprint = hashlib.sha256(cert_asn1.dump()).hexdigest()
    signer_name, signer_email = cert_subject(cert_asn1)
    reassign = " ".join((reassign or "").split()) or None
    if reassign is not None and len(reassign) > 500:
        raise SigningError("The re-assignment reason is longer than 500 characters; say it in a sentence.")
    reassigned_from = _check_governance(record, slot, signed, _statements(pdf, record), name=signer_name,
                                        email=signer_email, fingerprint=fingerprint, outcome=outcome,
                                        reassign=reassign)
    cms = asyncio.run(signer.async_sign_general_data(data, "sha256", detached=True))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    statement = Statement(
        field=slot.field, role=slot.role, signer_name=signer_name, signer_email=signer_email, decision=outcome,
        note=note, signed_at=now, record_id=record.record_id,
        record_sha256=sha256_hex(data), cert_sha256=fingerprint,
        record_cms=base64.b64encode(cms.dump()).decode("ascii"),
        reassigned_from=reassigned_from, reassign_reason=reassign if reassigned_from else None)

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    target = form_fields(writer.root).get(slot.statement_field)
    if target is None:
        raise SigningError(f"This report has no statement field {slot.statement_field}; rebuild it with this version.")
    target["/V"] = TextStringObject(statement.to_bytes().decode("utf-8"))
    writer.update_container(target)

    # signature appearance sized to the field's widget
    sig_field = form_fields(writer.root)[slot.field]
    rect = [float(x) for x in sig_field.get("/Rect", [0, 0, 0, 0])]
    w, h = abs(rect[2] - rect[0]), abs(rect[3] - rect[1])
    style = None
    if w > 20 and h > 20:
        with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as tmp:
            tmp.write(_stamp_pdf(statement, w, h, fingerprint))
            stamp_path = tmp.name
        style = StaticStampStyle.from_pdf_file(
            stamp_path, border_width=0, background_opacity=1.0,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN,
                margins=layout.Margins.uniform(0), inner_content_scaling=layout.InnerScaling.STRETCH_FILL))
    reason = (f"{slot.role}: {outcome_word(outcome)}"
              + (f" (in place of {reassigned_from}: {reassign})" if reassigned_from else "")
              + (f" — {statement.note}" if statement.note else ""))
    meta = signers.PdfSignatureMetadata(
        field_name=slot.field, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify, docmdp_permissions=fields.MDPPerm.FILL_FORMS, reason=reason[:500],
        name=signer_name, contact_info=signer_email)
    try:
        pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style)
        out = BytesIO()
        pdf_signer.sign_pdf(writer, output=out)
    finally:
        if style is not None:
            Path(stamp_path).unlink(missing_ok=True)
    return SignResult(pdf=out.getvalue(), statement=statement, certified=certify)
