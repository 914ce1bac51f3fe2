"""The signed review report: canonical record JSON, PDF, signing and verification.

Heavy libraries (reportlab, matplotlib, pyHanko) are imported inside the functions
that need them, so importing this package stays cheap.

Typical use::

    from readiness.report import new_record, record_bytes, build_pdf, sign_report, verify_report
    record = new_record(report, project="Lending", model_version="3.1", review_digest=ctx.digest)
    data = record_bytes(record)              # once: these exact bytes are attached and signed
    pdf = build_pdf(record, data).pdf        # unsigned report with one field per planned signer
    pdf = sign_report(pdf, key=key_pem, cert=cert_pem, role="Data scientist", decision="approve").pdf
    result = verify_report(pdf, trust=[cert_pem])
"""

from readiness.report.canonical import (
    DEFAULT_SIGNER_ROLES,
    RECORD_FILENAME,
    Decision,
    Outcome,
    Person,
    ReviewRecord,
    SignerSlot,
    Statement,
    canonical_json,
    new_record,
    parse_person,
    parse_record,
    record_bytes,
)


def build_pdf(record, data):
    from readiness.report.pdf import build_pdf as _build

    return _build(record, data)


def sign_report(pdf, **kwargs):
    from readiness.report.sign import sign_report as _sign

    return _sign(pdf, **kwargs)


def verify_report(pdf, **kwargs):
    from readiness.report.verify import verify_report as _verify

    return _verify(pdf, **kwargs)


def generate_key(name, email=None, **kwargs):
    from readiness.report.sign import generate_key as _gen

    return _gen(name, email, **kwargs)


__all__ = [
    "DEFAULT_SIGNER_ROLES",
    "RECORD_FILENAME",
    "Decision",
    "Outcome",
    "Person",
    "ReviewRecord",
    "SignerSlot",
    "Statement",
    "build_pdf",
    "canonical_json",
    "generate_key",
    "new_record",
    "parse_person",
    "parse_record",
    "record_bytes",
    "sign_report",
    "verify_report",
]
