"""Issue 9 attacks on signing: unusable certificates, bad keygen input, a re-cased signature
hex, and a note long enough to make signing quadratic. Real certificates from `cryptography`,
real pyHanko signatures; each test fails on the code before its fix."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from test_sign import trusted, two_signed, unsigned

from readiness import errors as E
from readiness.report import sign as sign_mod
from readiness.report.sign import NOTE_MAX, SigningError, generate_key, sign_report
from readiness.report.verify import BAD_CERTIFICATE, TAMPERED, verify_report


def make_cert(name: str, *, valid_from: timedelta, valid_to: timedelta, key_usage: dict | None = None,
              email: str | None = None) -> tuple[bytes, bytes]:
    """A P-256 key and a self-signed certificate valid from now+valid_from to now+valid_to, with
    the given key usage flags (None: no key usage extension at all)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(attrs)
    now = datetime.now(UTC)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now + valid_from)
         .not_valid_after(now + valid_to))
    if key_usage is not None:
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                     encipher_only=False, decipher_only=False)
        b = b.add_extension(x509.KeyUsage(**{**flags, **key_usage}), critical=True)
    cert = b.sign(key, hashes.SHA256())
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


DAY = timedelta(days=1)
SIGNING = {"digital_signature": True}


@cache
def bad_certs() -> dict[str, tuple[bytes, bytes]]:
    return {
        "expired": make_cert("Old Key", valid_from=-400 * DAY, valid_to=-10 * DAY, key_usage=SIGNING),
        "not yet valid": make_cert("Future Key", valid_from=10 * DAY, valid_to=400 * DAY, key_usage=SIGNING),
        "key agreement only": make_cert("Agreement Key", valid_from=-DAY, valid_to=400 * DAY,
                                        key_usage={"key_agreement": True}),
        "encipherment only": make_cert("Cipher Key", valid_from=-DAY, valid_to=400 * DAY,
                                       key_usage={"key_encipherment": True}),
        "no key usage": make_cert("Plain Key", valid_from=-DAY, valid_to=400 * DAY, key_usage=None),
    }


EXPECTED_SIGN_ERROR = {"expired": "expired on", "not yet valid": "is not valid before",
                       "key agreement only": "not for signing (key usage: key agreement)",
                       "encipherment only": "not for signing (key usage: key encipherment)",
                       "no key usage": "not for signing (key usage: none stated)"}


@pytest.mark.parametrize("kind", list(EXPECTED_SIGN_ERROR))
def test_sign_refuses_unusable_certificates(kind):
    key, cert = bad_certs()[kind]
    with pytest.raises(SigningError, match=re.escape(EXPECTED_SIGN_ERROR[kind])):
        sign_report(unsigned()[0], key=key, cert=cert, role="Data scientist", decision="approve")


def test_sign_accepts_non_repudiation_alone_and_the_control():
    for usage in ({"content_commitment": True}, {"digital_signature": True}):
        key, cert = make_cert("Good Key", valid_from=-DAY, valid_to=400 * DAY, key_usage=usage)
        out = sign_report(unsigned()[0], key=key, cert=cert, role="Data scientist", decision="approve")
        res = verify_report(out.pdf, trust=[cert])
        assert res.valid, (usage, res.reasons)


def _signed_without_checks(monkeypatch, key: bytes, cert: bytes) -> bytes:
    """What another signing tool (one that checks nothing) would produce with this certificate."""
    monkeypatch.setattr(sign_mod, "check_signing_certificate", lambda *_a, **_k: None)
    return sign_report(unsigned()[0], key=key, cert=cert, role="Data scientist", decision="approve").pdf


@pytest.mark.parametrize("kind,reason", [("expired", "had expired on"), ("not yet valid", "was not valid before"),
                                         ("key agreement only", "not for signing (key usage: key agreement)"),
                                         ("no key usage", "not for signing (key usage: none stated)")])
def test_verify_catches_unusable_certificates_even_as_their_own_trust_anchor(monkeypatch, kind, reason):
    key, cert = bad_certs()[kind]
    pdf = _signed_without_checks(monkeypatch, key, cert)
    res = verify_report(pdf, trust=[cert])  # the documented workflow: the signer's own certificate is the anchor
    assert res.status == "invalid", res.reasons
    assert any(r.startswith(BAD_CERTIFICATE) and reason in r for r in res.reasons), res.reasons
    # pyHanko alone calls it valid: the check is ours
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from readiness.report.sign import _load_cert_asn1

    emb = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    st = validate_pdf_signature(emb, ValidationContext(trust_roots=[_load_cert_asn1(cert)]))
    assert st.intact and st.valid


def test_a_certificate_expired_now_but_valid_when_it_signed_still_verifies():
    """Documents outlive certificates: validity is judged at the signing time, not today."""
    import time

    key, cert = make_cert("Short Key", valid_from=-DAY, valid_to=timedelta(seconds=2), key_usage=SIGNING)
    pdf = sign_report(unsigned()[0], key=key, cert=cert, role="Data scientist", decision="approve").pdf
    time.sleep(2.5)
    with pytest.raises(SigningError, match="expired on"):  # too late to sign with it now
        sign_report(unsigned()[0], key=key, cert=cert, role="Data scientist", decision="approve")
    res = verify_report(pdf, trust=[cert])
    assert res.valid, res.reasons


# --- keygen ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,message", [
    ({"days": -5}, E.CERT_DAYS_RANGE.format(limit=3650, days=-5)),
    ({"days": 0}, E.CERT_DAYS_RANGE.format(limit=3650, days=0)),
    ({"days": 10**9}, E.CERT_DAYS_RANGE.format(limit=3650, days=10**9)),
    ({"name": "A" * 65}, E.SIGNER_NAME_TOO_LONG.format(length=65, limit=64)),
    ({"email": "ana@"}, E.EMAIL_INVALID.format(what="The signer's email", email="ana@")),
    ({"email": "ana bank.example"}, E.EMAIL_INVALID.format(what="The signer's email", email="ana bank.example")),
    ({"email": "ana@localhost"}, E.EMAIL_INVALID.format(what="The signer's email", email="ana@localhost")),
    ({"name": "   "}, E.SIGNER_NAME_MISSING),
])
def test_generate_key_refuses_bad_input(kwargs, message):
    args = {"name": "Ana Müller", "email": "ana@bank.example", **kwargs}
    with pytest.raises(SigningError) as err:
        generate_key(args.pop("name"), args.pop("email"), algorithm="p256", **args)
    assert str(err.value) == message


def test_generate_key_accepts_the_limits():
    pair = generate_key("B" * 64, "b.c+tag@sub.bank.example", algorithm="p256", days=3650)
    from readiness.report.sign import _load_cert_asn1, cert_subject

    assert cert_subject(_load_cert_asn1(pair.cert_pem)) == ("B" * 64, "b.c+tag@sub.bank.example")
    generate_key("C", None, algorithm="p256", days=1)


@pytest.mark.parametrize("args,fragment", [
    (["--days", "-5"], "--days) must be a whole number of days from 1 to 3,650; got -5"),
    (["--days", "99999999999"], "got 99999999999"),
    (["--name", "N" * 80], "a certificate name holds at most 64"),
    (["--email", "not-an-email"], "'not-an-email' is not a valid email address"),
    (["--days", "ten"], "invalid int value"),
])
def test_cli_keygen_bad_input_is_one_line_exit_2(tmp_path, capsys, args, fragment):
    from readiness.cli import main

    base = {"--name": "Ana", "--out": str(tmp_path / "k"), "--algorithm": "p256"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    argv = ["keygen"] + [x for kv in base.items() for x in kv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own type errors exit from the parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and fragment in err, err
    assert not (tmp_path / "k").exists() or not any((tmp_path / "k").iterdir())


# --- the /Contents hex ---------------------------------------------------------------------------


def _recase_last_signature(pdf: bytes) -> tuple[bytes, int]:
    m = list(re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf))[-1]
    new = m.group(1).lower()
    changed = sum(a != b for a, b in zip(m.group(1), new, strict=True))
    return pdf[:m.start(1)] + new + pdf[m.end(1):], changed


def test_whole_signature_hex_recased_is_caught():
    """pyHanko decodes '<0A..>' and '<0a..>' to the same bytes and the hole is outside every
    byte range, so only an exact comparison with the written form catches it."""
    bad, changed = _recase_last_signature(two_signed())
    assert changed > 100  # hundreds of bytes changed, none of them covered by a signature
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from readiness.report.sign import _load_cert_asn1

    emb = PdfFileReader(io.BytesIO(bad)).embedded_signatures[-1]
    st = validate_pdf_signature(emb, ValidationContext(trust_roots=[_load_cert_asn1(c) for c in trusted()]))
    assert st.intact and st.valid  # pyHanko alone accepts it
    res = verify_report(bad, trust=trusted())
    assert res.status == "invalid"
    assert any(r.startswith(TAMPERED) and "hex encoding" in r and f"{changed:,} byte(s)" in r
               for r in res.reasons), res.reasons
    assert verify_report(two_signed(), trust=trusted()).valid  # the control


def test_earlier_signature_hex_recased_breaks_the_later_signature():
    pdf = two_signed()
    m = list(re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf))[0]
    bad = pdf[:m.start(1)] + m.group(1).lower() + pdf[m.end(1):]
    res = verify_report(bad, trust=trusted())
    assert res.status == "invalid" and any(r.startswith(TAMPERED) for r in res.reasons), res.reasons


# --- the note ------------------------------------------------------------------------------------


def test_long_note_is_refused_with_its_length_and_a_full_length_note_signs():
    key = generate_key("Ana Müller", "ana@bank.example", algorithm="p256")
    pdf = unsigned()[0]
    with pytest.raises(SigningError) as err:
        sign_report(pdf, key=key.key_pem, cert=key.cert_pem, role="Data scientist", decision="approve",
                    note="x" * (NOTE_MAX + 1))
    assert str(err.value) == E.NOTE_TOO_LONG.format(length=NOTE_MAX + 1, limit=NOTE_MAX)
    note = ("Reviewed with the data owner. " * 100)[:NOTE_MAX]
    out = sign_report(pdf, key=key.key_pem, cert=key.cert_pem, role="Data scientist", decision="approve", note=note)
    assert out.statement.note == " ".join(note.split())
    assert verify_report(out.pdf, trust=[key.cert_pem]).valid


def test_stamp_text_fits_by_bisection():
    """The stamp's line fitting: the longest prefix that fits, found in O(log n) width computations."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from readiness.report.fonts import REGULAR, register_fonts

    register_fonts()
    calls = []
    real = stringWidth

    def counting(text, font, size, *a):
        calls.append(len(text))
        return real(text, font, size, *a)

    import reportlab.pdfbase.pdfmetrics as pm

    pm_before = pm.stringWidth
    try:
        pm.stringWidth = counting
        text = "word " * 20_000
        out = sign_mod._fit_line(text, REGULAR, 7.5, 250)
    finally:
        pm.stringWidth = pm_before
    assert out.endswith("…") and real(out, REGULAR, 7.5) <= 250
    assert real(text[:len(out)] + "…", REGULAR, 7.5) > 250  # one more character would not fit
    assert len(calls) < 20 and sorted(calls)[-2] < 2000  # the whole text is measured once, then short prefixes
