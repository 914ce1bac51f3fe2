"""Signing and verification with real pyHanko signatures, and the attacks verify must catch."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression

from readiness.inputs import Settings
from readiness.report.canonical import new_record, record_bytes
from readiness.report.pdf import build_pdf
from readiness.report.sign import SigningError, generate_key, read_record, sign_report
from readiness.report.verify import (
    BAD_SIGNATURE,
    DAMAGED,
    INPUT_MISMATCH,
    JSON_SIGNATURE,
    MODIFIED,
    NOT_SIGNED,
    RECORD_REPLACED,
    TAMPERED,
    UNSIGNED_CHANGES,
    UNTRUSTED,
    VerifyInputError,
    verify_report,
)
from readiness.review import run_review

TAMPER_REASONS = (TAMPERED, BAD_SIGNATURE, MODIFIED, UNSIGNED_CHANGES, JSON_SIGNATURE, RECORD_REPLACED, DAMAGED,
                  NOT_SIGNED)


@cache
def small():
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "target": y})
    train, test = frame.iloc[:200].reset_index(drop=True), frame.iloc[200:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["target"])
    ctx = make_ctx(train, test, target="target", model=model, settings=Settings(bootstrap=20))
    return ctx, run_review(ctx, checks=["data_quality.completeness", "evaluation.holdout"])


@cache
def keys():
    return {"ana": generate_key("Ana Müller", "ana@example.org"),  # RSA-2048
            "li": generate_key("李小龍", "li@example.cn", algorithm="p256"),
            "mallory": generate_key("Ana Müller", "ana@example.org")}  # same name, different key


@cache
def unsigned():
    _ctx, report = small()
    rec = new_record(report, project="Lending", model_version="3.1",
                     signer_roles=["Data scientist", "Model-risk reviewer", "Business owner"])
    data = record_bytes(rec)
    return build_pdf(rec, data).pdf, data


@cache
def two_signed() -> bytes:
    pdf, _ = unsigned()
    k = keys()
    one = sign_report(pdf, key=k["ana"].key_pem, cert=k["ana"].cert_pem, role="Data scientist", decision="approve",
                      note="Fine by me ✓")
    assert one.certified
    two = sign_report(one.pdf, key=k["li"].key_pem, cert=k["li"].cert_pem, role="model-risk reviewer",
                      decision="approve_with_conditions", note="Monitor drift")
    assert not two.certified
    return two.pdf


def trusted():
    return [keys()["ana"].cert_pem, keys()["li"].cert_pem]


def _kinds(res) -> set[str]:
    return {r.split(":")[0] for r in res.reasons}


def test_two_signers_both_validate_with_pyhanko():
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    roots = [c for pem in trusted() for c in load_certs_from_pemder_data(pem)]
    r = PdfFileReader(io.BytesIO(two_signed()))
    sigs = r.embedded_signatures
    assert [s.field_name for s in sigs] == ["Sig1", "Sig2"]
    assert sigs[0].docmdp_level == MDPPerm.FILL_FORMS  # the first signer certified the document
    for s in sigs:
        status = validate_pdf_signature(s, ValidationContext(trust_roots=roots))
        assert status.bottom_line and status.intact and status.valid and status.trusted and status.docmdp_ok, s
    res = verify_report(two_signed(), trust=trusted())
    assert res.valid, res.reasons
    assert [(s.signer_name, s.role, s.decision) for s in res.signatures] == [
        ("Ana Müller", "Data scientist", "approve"), ("李小龍", "Model-risk reviewer", "approve_with_conditions")]
    assert all(s.json_signature_ok and s.intact and s.trusted for s in res.signatures)
    assert [m["role"] for m in res.missing_signers] == ["Business owner"]
    assert res.record_bytes == unsigned()[1]


def _positions(pdf: bytes) -> dict[str, int]:
    """Byte positions in every region of a two-signature file."""
    holes = [m for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf)]
    assert len(holes) == 2
    pos = {"header": 3, "first page content": pdf.index(b"stream") + 40, "end of file": len(pdf) - 3,
           "last xref": pdf.rindex(b"xref") + 8, "last trailer": pdf.rindex(b"trailer") + 12,
           "middle": len(pdf) // 2}
    for i, m in enumerate(holes, 1):
        hexs = m.group(1)
        der = len(hexs.rstrip(b"0"))
        pos[f"signature {i} value"] = m.start(1) + der // 2
        pos[f"signature {i} padding"] = m.start(1) + der + (len(hexs) - der) // 2
        pos[f"signature {i} dictionary"] = m.start() - 30
    attach = pdf.index(b"/EmbeddedFile")
    pos["attachment stream"] = pdf.index(b"stream", attach) + 20
    for k in range(12):  # and evenly spread ones
        pos[f"spread {k}"] = 7 + k * (len(pdf) - 14) // 11
    return pos


def test_one_changed_byte_anywhere_is_caught():
    pdf = two_signed()
    for where, p in _positions(pdf).items():
        old = pdf[p:p + 1]
        new = b"0" if old != b"0" else b"1"
        if where.endswith("value"):  # keep it a hex digit so the damage is subtle
            new = b"A" if old != b"A" else b"B"
        bad = pdf[:p] + new + pdf[p + 1:]
        try:
            res = verify_report(bad, trust=trusted())
        except VerifyInputError:
            assert where == "header"  # '%PDF-' itself destroyed: not a PDF any more (exit 2)
            continue
        assert not res.valid and res.status == "invalid", where
        assert _kinds(res) & set(TAMPER_REASONS), (where, res.reasons)
        if where.endswith("padding"):
            assert any("padding" in r for r in res.reasons), (where, res.reasons)


def test_case_change_in_signature_hex_is_caught():
    pdf = two_signed()
    m = list(re.finditer(rb"/Contents\s*<([0-9A-F]+)>", pdf))[-1]
    i = m.start(1) + next(j for j, ch in enumerate(m.group(1)) if chr(ch) in "ABCDEF")
    res = verify_report(pdf[:i] + pdf[i:i + 1].lower() + pdf[i + 1:], trust=trusted())
    assert not res.valid and any(r.startswith(TAMPERED) and "hex encoding" in r for r in res.reasons), res.reasons


def test_bytes_appended_after_the_last_signature_are_caught():
    res = verify_report(two_signed() + b"% a note appended later\n", trust=trusted())
    assert not res.valid and UNSIGNED_CHANGES in _kinds(res), res.reasons
    res = verify_report(two_signed() + b"\n%%EOF\n", trust=trusted())  # confuses the reader: still invalid
    assert not res.valid and _kinds(res) & {UNSIGNED_CHANGES, DAMAGED}, res.reasons


def _swap_attachment(pdf: bytes, new: bytes, *, sign_with=None) -> bytes:
    """An attacker's incremental update that replaces the attached record (optionally signing Sig3)."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from readiness.report.sign import load_signer

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    arr = w.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = arr[1].get_object()
    ef = embed.EmbeddedFileObject.from_file_data(w, data=new, mime_type="application/json")
    ref = w.add_object(ef)
    spec["/EF"] = generic.DictionaryObject({generic.pdf_name("/F"): ref, generic.pdf_name("/UF"): ref})
    w.update_container(spec)
    out = io.BytesIO()
    if sign_with is None:
        w.write(out)
    else:
        signer = load_signer(sign_with.key_pem, sign_with.cert_pem)
        signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Sig3"), signer=signer).sign_pdf(w, output=out)
    return out.getvalue()


def test_swapped_attachment_is_caught():
    pdf, data = unsigned()
    forged = data.replace(b'"model_version":"3.1"', b'"model_version":"9.9"')
    assert forged != data
    res = verify_report(_swap_attachment(two_signed(), forged), trust=trusted())
    assert not res.valid
    kinds = _kinds(res)
    assert {MODIFIED, JSON_SIGNATURE, RECORD_REPLACED, UNSIGNED_CHANGES} <= kinds, res.reasons
    assert any("attachment was swapped" in r for r in res.reasons)
    # ... even when the attacker signs the open third field with their own key
    mallory = keys()["mallory"]
    res = verify_report(_swap_attachment(two_signed(), forged, sign_with=mallory),
                        trust=[*trusted(), mallory.cert_pem])
    assert not res.valid and {MODIFIED, JSON_SIGNATURE} <= _kinds(res), res.reasons


def test_wrong_trust_root_fails_as_untrusted():
    k = keys()
    res = verify_report(two_signed(), trust=[k["mallory"].cert_pem])  # same name, other key
    assert res.status == "untrusted" and not res.valid
    assert _kinds(res) == {UNTRUSTED}
    assert all("does not chain to any --trust certificate" in r for r in res.reasons)
    res = verify_report(two_signed(), trust=[k["ana"].cert_pem])  # only one of two signers trusted
    assert res.status == "untrusted" and [s.trusted for s in res.signatures] == [True, False]
    res = verify_report(two_signed())
    assert res.status == "untrusted" and "no --trust certificate given" in res.reasons[0]
    assert res.intact


def test_statement_changed_by_a_later_signer_is_caught():
    """Signer 1's decision, rewritten in a later update that an attacker signs: the
    statement field was locked by signature 1."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from readiness.report.sign import form_fields, load_signer

    mallory = keys()["mallory"]
    w = IncrementalPdfFileWriter(io.BytesIO(two_signed()))
    f = form_fields(w.root)["Sig1Statement"]
    f["/V"] = generic.TextStringObject(str(f["/V"]).replace('"decision":"approve"', '"decision":"reject"'))
    w.update_container(f)
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Sig3"),
                      signer=load_signer(mallory.key_pem, mallory.cert_pem)).sign_pdf(w, output=out)
    res = verify_report(out.getvalue(), trust=[*trusted(), mallory.cert_pem])
    assert not res.valid and MODIFIED in _kinds(res), res.reasons
    assert any("Sig1" in r for r in res.reasons)


def test_input_files_must_match(tmp_path):
    ctx, _ = small()
    res = verify_report(two_signed(), trust=trusted(), inputs={"train": b"not the training data"})
    assert INPUT_MISMATCH in _kinds(res) and not res.valid
    test_sha = next(f.sha256 for f in ctx.input_files if f.role == "test")
    from helpers import csv_bytes

    data = csv_bytes(ctx.test)
    import hashlib

    if hashlib.sha256(data).hexdigest() == test_sha:
        res = verify_report(two_signed(), trust=trusted(), inputs={"test": data})
        assert res.valid, res.reasons


def test_json_signature_verifies_outside_the_pdf():
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    from readiness.report.canonical import Statement
    from readiness.report.sign import _reader, field_value, form_fields

    data = read_record(two_signed())[0]
    stmt = Statement.model_validate_json(field_value(form_fields(_reader(two_signed()).root)["Sig2Statement"]))
    sd = cms.ContentInfo.load(base64.b64decode(stmt.record_cms))["content"]
    vc = ValidationContext(trust_roots=[])
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    ok = asyncio.run(async_validate_detached_cms(data, sd, signer_validation_context=vc))
    bad = asyncio.run(async_validate_detached_cms(data + b" ", sd, signer_validation_context=vc))
    assert ok.intact and ok.valid and not bad.intact


def test_sign_refuses_bad_input():
    pdf, _ = unsigned()
    k = keys()
    with pytest.raises(SigningError, match="planned roles: 'Data scientist', 'Model-risk reviewer'"):
        sign_report(pdf, key=k["ana"].key_pem, cert=k["ana"].cert_pem, role="CEO", decision="approve")
    with pytest.raises(SigningError, match="does not belong to the certificate"):
        sign_report(pdf, key=k["ana"].key_pem, cert=k["li"].cert_pem, role="Data scientist", decision="approve")
    with pytest.raises(SigningError, match="Decision must be one of"):
        sign_report(pdf, key=k["ana"].key_pem, cert=k["ana"].cert_pem, role="Data scientist", decision="maybe")
    with pytest.raises(SigningError, match="already signed"):
        sign_report(two_signed(), key=k["ana"].key_pem, cert=k["ana"].cert_pem, role="Data scientist",
                    decision="approve")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(SigningError, match="RSA or P-256"):
        sign_report(pdf, key=ed, cert=k["ana"].cert_pem, role="Data scientist", decision="approve")
    locked = generate_key("Eve", passphrase=b"s3cret")
    with pytest.raises(SigningError, match="encrypted"):
        sign_report(pdf, key=locked.key_pem, cert=locked.cert_pem, role="Data scientist", decision="approve")
    # a tampered report is not signed on top of
    bad = two_signed() + b"% appended\n"
    with pytest.raises(SigningError, match="Refusing to sign"):
        sign_report(bad, key=k["ana"].key_pem, cert=k["ana"].cert_pem, role="Business owner", decision="approve")
    with pytest.raises(VerifyInputError, match="Not a PDF"):
        verify_report(b"hello")


def test_unsigned_report_is_not_valid():
    res = verify_report(unsigned()[0])
    assert not res.valid and NOT_SIGNED in _kinds(res)


# --- CLI -----------------------------------------------------------------------------------------------


def test_cli_keygen_sign_verify_exit_codes(tmp_path, capsys):
    from readiness.cli import main

    report = tmp_path / "report.pdf"
    report.write_bytes(unsigned()[0])
    keydir = tmp_path / "keys"
    assert main(["keygen", "--name", "Zoë Müller", "--email", "zoe@example.org", "--out", str(keydir)]) == 0
    key, cert = keydir / "zoe-muller.key.pem", keydir / "zoe-muller.cert.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and cert.exists()
    assert main(["keygen", "--name", "Zoë Müller", "--out", str(keydir)]) == 2  # never overwrite
    capsys.readouterr()
    signed = tmp_path / "signed.pdf"
    args = ["sign", str(report), "--key", str(key), "--cert", str(cert), "--role", "Data scientist",
            "--decision", "approve", "--note", "ok", "-o", str(signed), "--db", str(tmp_path / "h.db")]
    assert main(args) == 0
    assert "certified the document" in capsys.readouterr().out
    assert main(["verify", str(signed), "--trust", str(cert)]) == 0
    assert capsys.readouterr().out.startswith("VALID")
    assert main(["verify", str(signed)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("readiness: invalid: UNTRUSTED: no --trust certificate given")
    tampered = tmp_path / "tampered.pdf"
    data = signed.read_bytes()
    i = data.index(b"stream") + 50
    tampered.write_bytes(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:])
    assert main(["verify", str(tampered), "--trust", str(cert)]) == 1
    assert "TAMPERED" in capsys.readouterr().err
    (tmp_path / "x.pdf").write_text("not a pdf")
    assert main(["verify", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "Not a PDF" in err
    assert main(["sign", str(report), "--key", str(key), "--cert", str(cert), "--role", "CEO", "--decision",
                 "approve", "-o", str(tmp_path / "o.pdf"), "--no-history"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "planned roles" in err
    out = tmp_path / "record.json"
    assert main(["verify", str(signed), "--trust", str(cert), "--extract", str(out), "--json"]) == 0
    assert out.read_bytes() == unsigned()[1]
