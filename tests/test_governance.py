"""Issue 9.5 and 10: signatures tied to their slot, and the sign-off rules a model-risk
function expects. Each rule: the deviation refused when signing (exit 2 / an error box) and,
when made anyway by a tool that checks nothing, reported invalid by `verify` with its reason;
plus the control that passes. Real keys, real pyHanko signatures."""

from __future__ import annotations

import re
from functools import cache

import pytest
from test_sign import keys, small

from readiness import errors as E
from readiness.report import sign as sign_mod
from readiness.report.canonical import RecordError, new_record, parse_signer, record_bytes
from readiness.report.pdf import build_pdf
from readiness.report.sign import SigningError, generate_key, sign_report
from readiness.report.verify import OUT_OF_ORDER, SAME_SIGNER, WRONG_SIGNER, verify_report
from readiness.results import Status

LI = "Li Wei <li@bank.example>"


@cache
def people():
    return {"li": generate_key("Li Wei", "li@bank.example", algorithm="p256"),
            "omar": generate_key("Omar Haddad", "omar@bank.example", algorithm="p256"),
            "ana2": generate_key("Ana Müller", "ana@example.org", algorithm="p256")}  # Ana's second key


@cache
def planned_report() -> bytes:
    """Three slots: anyone as data scientist, Li Wei as model-risk reviewer, anyone as owner."""
    _ctx, report = small()
    rec = new_record(report, project="Lending", model_version="4", signer_roles=[
        {"role": "Data scientist"}, parse_signer(f"Model-risk reviewer={LI}"), {"role": "Business owner"}])
    return build_pdf(rec, record_bytes(rec)).pdf


def sign(pdf, who, role, decision="approve", **kw):
    return sign_report(pdf, key=who.key_pem, cert=who.cert_pem, role=role, decision=decision, **kw).pdf


def _problems(res, prefix):
    return [r for r in res.reasons if r.startswith(prefix)]


# --- the plan is in the signed record ------------------------------------------------------------


def test_planned_signers_and_order_are_in_the_signed_record():
    from readiness.report.sign import read_record

    data, rec = read_record(planned_report())
    assert [(s.field, s.role, s.planned) for s in rec.signers] == [
        ("Sig1", "Data scientist", None), ("Sig2", "Model-risk reviewer", LI), ("Sig3", "Business owner", None)]
    assert b'"email":"li@bank.example"' in data and b'"field":"Sig2"' in data


# --- one key for every role -----------------------------------------------------------------------


def test_one_person_cannot_sign_two_roles():
    ana = keys()["ana"]
    one = sign(planned_report(), ana, "Data scientist")
    two = sign(one, people()["li"], "Model-risk reviewer")
    with pytest.raises(SigningError) as err:
        sign(two, ana, "Business owner")
    assert str(err.value) == E.SIGN_SAME_PERSON.format(actual="Ana Müller <ana@example.org>", role="Data scientist",
                                                       field="Sig1")
    with pytest.raises(SigningError, match="already signed as 'Data scientist'"):  # a second key, same person
        sign(two, people()["ana2"], "Business owner")
    control = sign(two, people()["omar"], "Business owner")
    res = verify_report(control, trust=[ana.cert_pem, people()["li"].cert_pem, people()["omar"].cert_pem])
    assert res.valid, res.reasons


def test_a_plan_that_names_one_person_for_two_roles_allows_it():
    _ctx, report = small()
    ana = keys()["ana"]
    rec = new_record(report, project="Lending", model_version="4", signer_roles=[
        parse_signer("Data scientist=Ana Müller <ana@example.org>"), parse_signer("Model owner=Ana Müller <ANA@example.org>")])
    pdf = sign(sign(build_pdf(rec, record_bytes(rec)).pdf, ana, "Data scientist"), ana, "Model owner")
    assert verify_report(pdf, trust=[ana.cert_pem]).valid


def test_verify_reports_one_key_signing_every_role(monkeypatch):
    """What a tool that checks nothing produces: verify VALID before this fix."""
    monkeypatch.setattr(sign_mod, "_check_governance", lambda *a, **k: None)
    ana = keys()["ana"]
    _ctx, report = small()
    rec = new_record(report, project="Lending", model_version="4")  # the three default roles, nobody named
    pdf = build_pdf(rec, record_bytes(rec)).pdf
    for role in ("Data scientist", "Model-risk reviewer", "Business owner"):
        pdf = sign(pdf, ana, role, check_existing=False)
    res = verify_report(pdf, trust=[ana.cert_pem])
    assert res.status == "invalid"
    same = _problems(res, SAME_SIGNER)
    assert len(same) == 3 and all("with one certificate" in r for r in same), res.reasons
    assert "signed both Sig1 (Data scientist) and Sig2 (Model-risk reviewer)" in same[0]


# --- order ----------------------------------------------------------------------------------------------


def test_signers_sign_in_the_planned_order():
    with pytest.raises(SigningError) as err:
        sign(planned_report(), people()["li"], "Model-risk reviewer")
    assert str(err.value).startswith("Signing order: 'Model-risk reviewer' (Sig2) signs after 'Data scientist' "
                                     "(Sig1), not signed yet.")


def test_verify_reports_signatures_out_of_order(monkeypatch):
    monkeypatch.setattr(sign_mod, "_check_governance", lambda *a, **k: None)
    k, li = keys(), people()["li"]
    pdf = sign(sign(planned_report(), li, "Model-risk reviewer"), k["ana"], "Data scientist", check_existing=False)
    res = verify_report(pdf, trust=[k["ana"].cert_pem, li.cert_pem])
    assert res.status == "invalid"
    [first, second] = _problems(res, OUT_OF_ORDER)
    assert "Sig2" in first and "made before Sig1" in first and "the plan signs in the order Sig1, Sig2, Sig3" in first
    assert "Sig1" in second


# --- the planned person --------------------------------------------------------------------------


def test_a_slot_planned_for_one_person_cannot_be_signed_by_another():
    k = keys()
    one = sign(planned_report(), k["ana"], "Data scientist")
    with pytest.raises(SigningError) as err:
        sign(one, people()["omar"], "Model-risk reviewer")
    assert str(err.value) == E.SIGN_WRONG_PERSON.format(role="Model-risk reviewer", field="Sig2", planned=LI,
                                                        actual="Omar Haddad <omar@bank.example>")
    same_name_other_mail = generate_key("Li Wei", "li.wei@elsewhere.example", algorithm="p256")
    with pytest.raises(SigningError, match="is planned for Li Wei <li@bank.example>"):
        sign(one, same_name_other_mail, "Model-risk reviewer")
    # the planned person, whatever the case and spacing of their name and email
    li_again = generate_key("li  WEI", "LI@bank.example", algorithm="p256")
    ok = sign(one, li_again, "Model-risk reviewer")
    assert verify_report(ok, trust=[k["ana"].cert_pem, li_again.cert_pem]).valid


def test_reassignment_is_explicit_recorded_and_shown():
    k, omar = keys(), people()["omar"]
    one = sign(planned_report(), k["ana"], "Data scientist")
    with pytest.raises(SigningError, match="Nothing to re-assign"):  # Li is the planned person: nothing to re-assign
        sign(one, people()["li"], "Model-risk reviewer", reassign="just because")
    with pytest.raises(SigningError, match="not planned for a named person"):
        sign(planned_report(), k["ana"], "Data scientist", reassign="x")
    result = sign_report(one, key=omar.key_pem, cert=omar.cert_pem, role="Model-risk reviewer", decision="approve",
                         reassign="Li Wei is on leave;  delegated by the CRO")
    st = result.statement
    assert (st.reassigned_from, st.reassign_reason) == (LI, "Li Wei is on leave; delegated by the CRO")
    res = verify_report(result.pdf, trust=[k["ana"].cert_pem, omar.cert_pem])
    assert res.valid, res.reasons
    [r] = res.reassignments
    assert (r.field, r.signer_name, r.reassigned_from, r.planned) == ("Sig2", "Omar Haddad", LI, LI)
    assert "re-assigned: Sig2 Model-risk reviewer signed by Omar Haddad in place of Li Wei <li@bank.example> " \
           "(Li Wei is on leave; delegated by the CRO)" in res.headline
    import subprocess

    text = subprocess.run(["pdftotext", "-", "-"], input=result.pdf, capture_output=True).stdout.decode()
    assert "in place of Li Wei" in text  # on the visible stamp too


def test_verify_reports_a_slot_signed_by_another_person(monkeypatch):
    monkeypatch.setattr(sign_mod, "_check_governance", lambda *a, **k: None)
    k, omar = keys(), people()["omar"]
    pdf = sign(sign(planned_report(), k["ana"], "Data scientist"), omar, "Model-risk reviewer")
    res = verify_report(pdf, trust=[k["ana"].cert_pem, omar.cert_pem])
    assert res.status == "invalid"
    assert _problems(res, WRONG_SIGNER) == [
        f"{WRONG_SIGNER}: Sig2 (Model-risk reviewer) is planned for {LI}, but was signed by "
        "Omar Haddad <omar@bank.example>."]


def test_verify_refuses_a_forged_reassignment(monkeypatch):
    """A re-assignment must name exactly the planned person; otherwise it is a wrong signer."""
    k, omar = keys(), people()["omar"]
    real = sign_mod._check_governance
    monkeypatch.setattr(sign_mod, "_check_governance", lambda *a, **kw: "Somebody Else <x@bank.example>"
                        if real(*a, **{**kw, "reassign": kw.get("reassign")}) else None)
    pdf = sign(sign(planned_report(), k["ana"], "Data scientist"), omar, "Model-risk reviewer", reassign="r")
    res = verify_report(pdf, trust=[k["ana"].cert_pem, omar.cert_pem])
    assert any(r.startswith(WRONG_SIGNER) and "a re-assignment without the planned person" in r
               for r in res.reasons), res.reasons


# --- approving a review with failing checks -----------------------------------------------------------


@cache
def failing_review():
    """The small review with its holdout check marked failed (the rule is about statuses)."""
    _ctx, report = small()
    checks = [c.model_copy(update={"status": Status.FAIL}) if c.id == "evaluation.holdout" else c
              for c in report.checks]
    return report.model_copy(update={"checks": checks})


def test_approval_of_a_failing_review_needs_a_rationale_per_failing_check():
    report = failing_review()
    for outcome, extra in (("approve", {}), ("approve_with_conditions", {"conditions": ["Monitor"]})):
        with pytest.raises(RecordError) as err:
            new_record(report, project="P", model_version="1", decision={"outcome": outcome, **extra})
        assert str(err.value) == E.APPROVAL_NEEDS_RATIONALE.format(
            checks="Holdout performance: how good is the model? (evaluation.holdout)".replace(
                "Holdout performance: how good is the model?", report.check("evaluation.holdout").title))
    new_record(report, project="P", model_version="1", decision={"outcome": "reject"})  # no rationale needed
    new_record(report, project="P", model_version="1")  # left to each signer
    with pytest.raises(RecordError):  # a blank note is no rationale
        new_record(report, project="P", model_version="1", decision={"outcome": "approve"},
                   notes={"evaluation.holdout": "   "})
    rec = new_record(report, project="P", model_version="1", decision={"outcome": "approve"},
                     notes={"evaluation.holdout": "Accepted: the drop is seasonal; re-review in Q3."})
    assert rec.notes["evaluation.holdout"].startswith("Accepted")


def test_a_signer_cannot_approve_a_failing_review_without_rationale():
    report = failing_review()
    rec = new_record(report, project="P", model_version="1", signer_roles=["Owner", "Risk"])
    pdf = build_pdf(rec, record_bytes(rec)).pdf
    with pytest.raises(SigningError, match=re.escape("Approving needs a written rationale for each failing check")):
        sign(pdf, keys()["ana"], "Owner", decision="approve_with_conditions")
    rejected = sign(pdf, keys()["ana"], "Owner", decision="reject")
    assert verify_report(rejected, trust=[keys()["ana"].cert_pem]).valid


# --- people in the record ------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("Model-risk reviewer=Li Wei <li@bank.example>", {"role": "Model-risk reviewer", "name": "Li Wei",
                                                       "email": "li@bank.example"}),
    ("Model-risk reviewer: Li Wei <li@bank.example>", {"role": "Model-risk reviewer", "name": "Li Wei",
                                                        "email": "li@bank.example"}),
    ("Business owner", {"role": "Business owner"}),
])
def test_parse_signer(text, expected):
    assert parse_signer(text) == expected


@pytest.mark.parametrize("text", ["Risk=Li Wei", "Risk=<li@bank.example>", "Risk=Li <li@bank>", "=Li <li@b.example>"])
def test_parse_signer_refuses_a_person_without_a_valid_email(text):
    with pytest.raises(RecordError) as err:
        parse_signer(text)
    assert "must be 'ROLE=Name <name@domain.example>'" in str(err.value)


def test_reviewers_need_a_valid_email():
    _ctx, report = small()
    for reviewer in ({"name": "Ana"}, {"name": "Ana", "email": "ana@"}):
        with pytest.raises(RecordError, match="needs a valid email"):
            new_record(report, project="P", model_version="1", reviewers=[reviewer])
    new_record(report, project="P", model_version="1", reviewers=[{"name": "Ana", "email": "ana@bank.example"}])


# --- CLI -----------------------------------------------------------------------------------------------


def _main(argv):
    from readiness.cli import main

    try:
        return main(argv)
    except SystemExit as exc:  # argparse type errors exit from the parser
        return exc.code


@pytest.fixture(scope="module")
def review_args(tmp_path_factory) -> list[str]:
    """A small review from files (vendor scores, no model) in which leakage.train_test_overlap
    fails: 30 holdout rows are copies of training rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=300), "target": (x + rng.normal(size=300) > 0).astype(int),
                          "score": 1 / (1 + np.exp(-2 * x))})
    d = tmp_path_factory.mktemp("gov")
    frame.iloc[:200].to_csv(d / "train.csv", index=False)
    pd.concat([frame.iloc[200:], frame.iloc[:30]]).to_csv(d / "test.csv", index=False)
    return ["review", "--train", str(d / "train.csv"), "--test", str(d / "test.csv"), "--target", "target",
            "--prediction-column", "score", "--check", "leakage.train_test_overlap", "--check", "evaluation.holdout",
            "--no-history"]


def test_cli_signer_pairs_and_roles_keep_their_order(tmp_path, capsys, review_args):
    from readiness.report.sign import read_record

    out = tmp_path / "r.pdf"
    assert _main([*review_args, "--pdf", str(out), "--signer", "Data scientist=Ana Müller <ana@bank.example>",
                  "--signer-role", "Business owner", "--signer", f"Model-risk reviewer={LI}"]) == 0
    _data, rec = read_record(out.read_bytes())
    assert [(s.field, s.role, s.planned) for s in rec.signers] == [
        ("Sig1", "Data scientist", "Ana Müller <ana@bank.example>"), ("Sig2", "Business owner", None),
        ("Sig3", "Model-risk reviewer", LI)]
    capsys.readouterr()


@pytest.mark.parametrize("args,fragment", [
    (["--signer", "Data scientist"], "--signer must look like 'ROLE=Name <email>'"),
    (["--signer", "Data scientist=Ana"], "must be 'ROLE=Name <name@domain.example>'"),
    (["--reviewer", "Ana Müller"], "needs a valid email"),
    (["--reviewer", "Ana <ana@bank>"], "needs a valid email"),
])
def test_cli_bad_people_are_one_line_before_the_review(tmp_path, capsys, review_args, args, fragment):
    assert _main([*review_args, "--pdf", str(tmp_path / "r.pdf"), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and fragment in captured.err and "Traceback" not in captured.err
    assert "PASS" not in captured.out + captured.err  # refused before the review ran
    assert not (tmp_path / "r.pdf").exists()


def test_cli_approval_of_failing_checks_needs_a_rationale(tmp_path, capsys, review_args):
    out = tmp_path / "r.pdf"
    assert _main([*review_args, "--pdf", str(out), "--decision", "approve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("readiness: error: Approving a review in which checks failed needs a written rationale")
    assert "(leakage.train_test_overlap)" in err and "evaluation.holdout" not in err  # only the failing one
    assert not out.exists()
    assert _main([*review_args, "--pdf", str(out), "--decision", "approve", "--note",
                  "leakage.train_test_overlap=Accepted: the copies are re-applications; re-split before Q3."]) == 0
    assert out.exists()


def test_cli_sign_wrong_person_and_reassign(tmp_path, capsys):
    from readiness.cli import main

    k, omar = keys(), people()["omar"]
    files = {}
    for who, pair in (("ana", k["ana"]), ("omar", omar)):
        files[who] = (tmp_path / f"{who}.key.pem", tmp_path / f"{who}.cert.pem")
        files[who][0].write_bytes(pair.key_pem)
        files[who][1].write_bytes(pair.cert_pem)
    report = tmp_path / "r.pdf"
    report.write_bytes(planned_report())

    def sign_cli(who, role, out, *extra):
        key, cert = files[who]
        return main(["sign", str(report if out.name == "one.pdf" else tmp_path / "one.pdf"), "--key", str(key),
                     "--cert", str(cert), "--role", role, "--decision", "approve", "-o", str(out), "--no-history",
                     *extra])

    assert sign_cli("ana", "Data scientist", tmp_path / "one.pdf") == 0
    assert sign_cli("omar", "Model-risk reviewer", tmp_path / "two.pdf") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is planned for Li Wei <li@bank.example>" in err
    assert sign_cli("omar", "Model-risk reviewer", tmp_path / "two.pdf", "--reassign", "Li Wei is on leave") == 0
    assert "in place of Li Wei <li@bank.example> (Li Wei is on leave)" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "two.pdf"), "--trust", str(files["ana"][1]), "--trust",
                 str(files["omar"][1])]) == 0
    out = capsys.readouterr().out
    assert "re-assigned: signed in place of Li Wei <li@bank.example> — Li Wei is on leave" in out
    assert "Sig3 Business owner: not signed yet" in out
