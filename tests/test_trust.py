"""Issue 10: verification by anyone. A PEM bundle trusts each of its certificates, the result
names which certificate vouched for which signature, CA-issued signers name their CA, and
the Verify page trusts nothing from the browser session unless the user ticks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from test_sign import keys, two_signed, unsigned

from readiness.report.sign import sign_report
from readiness.report.verify import (
    UNTRUSTED,
    VerifyInputError,
    describe_certificates,
    verify_report,
)


def bundle(*pems: bytes) -> bytes:
    return b"".join(pems)


def test_a_two_certificate_bundle_trusts_both_signers_and_names_each_anchor():
    k = keys()
    res = verify_report(two_signed(), trust=[bundle(k["ana"].cert_pem, k["li"].cert_pem)])
    assert res.valid, res.reasons
    assert [s.trust_anchor for s in res.signatures] == ["Ana Müller <ana@example.org>", "李小龍 <li@example.cn>"]
    assert [s.trust_anchor_sha256 for s in res.signatures] == [k["ana"].fingerprint, k["li"].fingerprint]
    assert all(s.trust_anchor_sha256 == s.cert_sha256 for s in res.signatures)  # self-signed: their own certificate
    # the bundle in the other order, and with a third, unrelated certificate, changes nothing
    res = verify_report(two_signed(), trust=[bundle(k["mallory"].cert_pem, k["li"].cert_pem, k["ana"].cert_pem)])
    assert res.valid and [s.trust_anchor_sha256 for s in res.signatures] == [k["ana"].fingerprint,
                                                                             k["li"].fingerprint]


def test_a_bundle_missing_one_signer_leaves_that_one_untrusted():
    k = keys()
    res = verify_report(two_signed(), trust=[bundle(k["mallory"].cert_pem, k["ana"].cert_pem)])
    assert res.status == "untrusted"
    assert [s.trusted for s in res.signatures] == [True, False]
    assert res.signatures[1].trust_anchor is None
    assert any(r.startswith(UNTRUSTED) and "Sig2" in r for r in res.reasons)


def test_describe_and_bad_trust_files():
    k = keys()
    infos = describe_certificates(bundle(k["ana"].cert_pem, k["li"].cert_pem))
    assert [(i.subject, i.sha256) for i in infos] == [("Ana Müller <ana@example.org>", k["ana"].fingerprint),
                                                      ("李小龍 <li@example.cn>", k["li"].fingerprint)]
    with pytest.raises(VerifyInputError, match="A --trust file is not usable"):
        verify_report(two_signed(), trust=[b"-----BEGIN NOTHING-----\n"])
    with pytest.raises(VerifyInputError):
        verify_report(two_signed(), trust=[k["ana"].key_pem])  # a private key is not a certificate


def key_usage(**on):
    from cryptography import x509

    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    return x509.KeyUsage(**{**flags, **on})


@cache
def ca_signed() -> tuple[bytes, bytes, bytes]:
    """A report signed by a certificate a CA issued; the signer's file carries the chain.
    Returns (pdf, ca_cert_pem, signer_cert_file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def issue(subject, issuer, public_key, issuer_key, days, *, ca: bool, usage: dict, link):
        now = datetime.now(UTC)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
                .add_extension(key_usage(**usage), critical=True).add_extension(link, critical=False)
                .sign(issuer_key, hashes.SHA256()))

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bank Signing CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bank")])
    ca = issue(ca_name, ca_name, ca_key.public_key(), ca_key, 3000, ca=True,
               usage={"key_cert_sign": True, "crl_sign": True},
               link=x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Omar Haddad"),
                         x509.NameAttribute(NameOID.EMAIL_ADDRESS, "omar@bank.example")])
    leaf = issue(subject, ca_name, key.public_key(), ca_key, 300, ca=False,
                 usage={"digital_signature": True, "content_commitment": True},
                 link=x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()))
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pdf = sign_report(unsigned()[0], key=key_pem, cert=chain, role="Data scientist", decision="approve").pdf
    return pdf, ca.public_bytes(pem), chain


def test_a_ca_issued_signer_is_vouched_for_by_the_ca():
    pdf, ca_pem, _chain = ca_signed()
    res = verify_report(pdf, trust=[ca_pem])
    assert res.valid, res.reasons
    [sig] = res.signatures
    assert sig.signer_name == "Omar Haddad" and sig.trust_anchor == "Bank Signing CA"
    assert sig.trust_anchor_sha256 == describe_certificates(ca_pem)[0].sha256 != sig.cert_sha256


def test_cli_verify_with_a_bundle_names_the_file_that_vouched(tmp_path, capsys):
    from readiness.cli import main

    k = keys()
    report, certs = tmp_path / "signed.pdf", tmp_path / "signers.cert.pem"
    report.write_bytes(two_signed())
    certs.write_bytes(bundle(k["ana"].cert_pem, k["li"].cert_pem))
    assert main(["verify", str(report), "--trust", str(certs)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID")
    assert f"trusted because: --trust {certs} holds Ana Müller <ana@example.org>" in out
    assert f"trusted because: --trust {certs} holds 李小龍 <li@example.cn>" in out
    assert main(["verify", str(report), "--trust", str(certs), "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert [s["trust_anchor_file"] for s in d["signatures"]] == [str(certs), str(certs)]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    assert main(["verify", str(report), "--trust", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err
