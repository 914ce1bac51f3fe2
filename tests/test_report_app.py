"""AppTest: the sign-off pages render, and a whole sign-off works in the app.

A small review (two fast checks on synthetic data) keeps these tests quick; the pages
only read the session's report, so any report exercises them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_ctx
from sklearn.linear_model import LogisticRegression
from streamlit.testing.v1 import AppTest

from readiness.review import run_review

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_review():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "target": y})
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["target"])
    ctx = make_ctx(train, test, target="target", model=model)
    report = run_review(ctx, checks=["data_quality.completeness", "evaluation.holdout"])
    return ctx, report


@pytest.fixture
def db(history_url, monkeypatch):
    """A fresh review history, on SQLite and on PostgreSQL (conftest's history_url)."""
    monkeypatch.setenv("READINESS_DB", history_url)
    return history_url


def _page(path, small_review, state=None):
    from pages._ui import SESSION_KEY, AppState

    at = AppTest.from_file(str(ROOT / path), default_timeout=120)
    ctx, report = small_review
    at.session_state[SESSION_KEY] = state or AppState(ctx=ctx, report=report, title="Scorecard review ✓",
                                                      is_sample=False)
    return at.run()


def _button(at, label_start):
    return next(b for b in at.button if b.label.startswith(label_start))


def test_signoff_flow_in_the_app(small_review, db):
    from pages._ui import SESSION_KEY
    from readiness.report.verify import verify_report
    from readiness.store import ReviewStore

    at = _page("pages/report.py", small_review)
    assert not at.exception, at.exception
    assert at.title[0].value == "Report & sign-off"
    next(t for t in at.text_input if t.label == "Project").set_value("Lending — Zürich 支店")
    next(t for t in at.text_area if t.label.startswith("Reviewers")).set_value("Zoë Müller <zoe@example.org>, Data scientist")
    at.radio[0].set_value(at.radio[0].options[2])  # Approve with conditions
    next(t for t in at.text_area if t.label.startswith("Conditions")).set_value("Monitor drift monthly")
    note = next(t for t in at.text_area if t.label == "Note on Holdout performance")
    note.set_value("AUC is fine for this use.")
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Report built" in x.value for x in at.success)
    so = at.session_state[SESSION_KEY].extras["signoff"]
    assert so["record"].notes == {"evaluation.holdout": "AUC is fine for this use."}
    assert so["record"].decision.conditions == ["Monitor drift monthly"]

    # generate a key in the app, then sign as the first planned signer
    next(t for t in at.text_input if t.label.startswith("Your name")).set_value("Zoë Müller")
    at.run()
    _button(at, "Generate key and certificate").click().run()
    assert not at.exception, at.exception
    _button(at, "Sign as Data scientist").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    so = at.session_state[SESSION_KEY].extras["signoff"]
    assert [x.signer_name for x in so["statements"]] == ["Zoë Müller"]
    # the download data is the signed PDF; it verifies with the session's certificate
    res = verify_report(so["pdf"], trust=list(so["certs"].values()))
    assert res.valid, res.reasons
    assert len(res.signatures) == 1 and res.signatures[0].certifies
    assert so["data"] == res.record_bytes

    # the history has the record and the signature
    store = ReviewStore(db)
    rows = store.history()
    assert rows[0].project == "Lending — Zürich 支店"
    assert rows[0].signatures[0]["signer_name"] == "Zoë Müller"
    store.close()

    # Verify page: the session's report; the session's certificates are trusted only when ticked
    state = at.session_state[SESSION_KEY]
    vt = _page("pages/verify.py", small_review, state)
    assert not vt.exception, vt.exception
    _button(vt, "Verify the report built").click().run()
    assert not vt.exception, vt.exception
    session_box = next(c for c in vt.checkbox if "signed in this browser session" in c.label)
    assert session_box.value is False
    assert not vt.success and any("Intact, but who signed is not established" in w.value for w in vt.warning)
    assert any("Trust comes from: nothing yet" in c.value for c in vt.caption)
    session_box.check().run()
    assert not vt.exception, vt.exception
    assert any(x.value.startswith("**Valid.**") for x in vt.success), [x.value for x in vt.success]
    assert any("Trust comes from: **Zoë Müller** (signed in this browser session)" in c.value
               for c in vt.caption), [c.value for c in vt.caption]
    assert vt.dataframe[0].value["Vouched for by"][0] == "own certificate · signed in this browser session"

    # an earlier copy of the report (before the signature): the history knows better
    vt2 = _page("pages/verify.py", small_review)
    next(u for u in vt2.get("file_uploader") if u.label.startswith("Signed report")).set_value(
        ("old.pdf", so["unsigned"], "application/pdf"))
    vt2.run()
    assert not vt2.exception, vt2.exception
    assert any("NOT SIGNED" in e.value for e in vt2.error)
    assert any("does not carry: Zoë Müller as Data scientist" in w.value for w in vt2.warning)

    ht = _page("pages/history.py", small_review, state)
    assert not ht.exception, ht.exception
    assert ht.title[0].value == "Review history"


def test_verify_page_says_untrusted_without_certificates(small_review, db, signed_pair):
    pdf, _certs = signed_pair
    vt = _page("pages/verify.py", small_review)
    next(u for u in vt.get("file_uploader") if u.label.startswith("Signed report")).set_value(
        ("report.pdf", pdf, "application/pdf"))
    vt.run()
    assert not vt.exception, vt.exception
    assert any("Intact, but who signed is not established" in w.value for w in vt.warning), [w.value for w in vt.warning]


def test_build_refuses_conditions_missing(small_review, db):
    at = _page("pages/report.py", small_review)
    next(t for t in at.text_input if t.label == "Project").set_value("P")
    at.radio[0].set_value(at.radio[0].options[2])  # Approve with conditions, none given
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception, at.exception
    assert any("needs at least one condition" in e.value for e in at.error), [e.value for e in at.error]


@pytest.fixture
def signed_pair(small_review):
    from readiness.report.canonical import new_record, record_bytes
    from readiness.report.pdf import build_pdf
    from readiness.report.sign import generate_key, sign_report

    _, report = small_review
    rec = new_record(report, project="P", model_version="1", signer_roles=["Data scientist"])
    data = record_bytes(rec)
    key = generate_key("Ana", algorithm="p256")
    pdf = sign_report(build_pdf(rec, data).pdf, key=key.key_pem, cert=key.cert_pem, role="Data scientist",
                      decision="approve").pdf
    return pdf, [key.cert_pem]


def test_key_generation_bad_input_is_an_error_box_not_a_traceback(small_review, db):
    at = _page("pages/report.py", small_review)
    next(t for t in at.text_input if t.label == "Project").set_value("P")
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception, at.exception
    for name, email, message in (("N" * 70, "", "a certificate name holds at most 64"),
                                 ("Ana", "ana@", "'ana@' is not a valid email address")):
        next(t for t in at.text_input if t.label.startswith("Your name")).set_value(name)
        next(t for t in at.text_input if t.label.startswith("Your email")).set_value(email)
        at.run()
        _button(at, "Generate key and certificate").click().run()
        assert not at.exception, at.exception
        assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_verify_page_trusts_each_certificate_of_an_uploaded_bundle(small_review, db):
    """What a second party does: the signed PDF plus the one certificate file the app hands out."""
    from test_sign import keys, two_signed

    k = keys()
    vt = _page("pages/verify.py", small_review)
    next(u for u in vt.get("file_uploader") if u.label.startswith("Signed report")).set_value(
        ("report.pdf", two_signed(), "application/pdf"))
    next(u for u in vt.get("file_uploader") if u.label.startswith("Trusted signer certificates")).set_value(
        [("signers.cert.pem", k["ana"].cert_pem + k["li"].cert_pem, "application/x-pem-file")])
    vt.run()
    assert not vt.exception, vt.exception
    assert any(x.value.startswith("**Valid.**") for x in vt.success), [x.value for x in vt.success + vt.warning]
    table = vt.dataframe[0].value
    assert list(table["Vouched for by"][:2]) == ["own certificate · file signers.cert.pem"] * 2
    trust_line = next(c.value for c in vt.caption if c.value.startswith("Trust comes from:"))
    # each signer by name, the '<' of the email escaped so Markdown shows it as text (pages._ui.esc)
    assert "**Ana Müller \\<ana@example.org\\>** (file signers.cert.pem)" in trust_line, trust_line
    assert "**李小龍 \\<li@example.cn\\>** (file signers.cert.pem)" in trust_line, trust_line


def _shown(element) -> str:
    """The text a reader sees: the page's Markdown with its backslash escapes (pages._ui.esc) removed."""
    return re.sub(r"\\(.)", r"\1", element.value)


def _build_with(at, **fields):
    next(t for t in at.text_input if t.label == "Project").set_value("Lending")
    for label, value in fields.items():
        next(t for t in at.text_area if t.label.startswith(label)).set_value(value)
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception, at.exception


def test_app_refuses_a_signer_other_than_the_planned_person_unless_reassigned(small_review, db):
    from pages._ui import SESSION_KEY
    from readiness.report.verify import verify_report

    at = _page("pages/report.py", small_review)
    _build_with(at, **{"Planned signers": "Model-risk reviewer = Li Wei <li@bank.example>\nBusiness owner"})
    assert not at.error, [e.value for e in at.error]
    assert any("Next to sign: Model-risk reviewer" in m.value and "Li Wei" in m.value for m in at.markdown)
    # the key form starts with the planned person; someone else generates their own key
    assert next(t for t in at.text_input if t.label.startswith("Your name")).value == "Li Wei"
    next(t for t in at.text_input if t.label.startswith("Your name")).set_value("Omar Haddad")
    next(t for t in at.text_input if t.label.startswith("Your email")).set_value("omar@bank.example")
    at.run()
    _button(at, "Generate key and certificate").click().run()
    _button(at, "Sign as Model-risk reviewer").click().run()
    assert not at.exception, at.exception
    assert any("is planned for Li Wei <li@bank.example>, but this certificate is Omar Haddad" in _shown(e)
               for e in at.error), [e.value for e in at.error]
    so = at.session_state[SESSION_KEY].extras["signoff"]
    assert so["statements"] == []  # blocked: nothing signed
    next(c for c in at.checkbox if c.label.startswith("Sign in place of Li Wei")).check().run()
    assert _button(at, "Sign as Model-risk reviewer").disabled  # a reason is required
    next(t for t in at.text_input if t.label.startswith("Why someone else signs")).set_value("Li is on leave")
    at.run()
    _button(at, "Sign as Model-risk reviewer").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    so = at.session_state[SESSION_KEY].extras["signoff"]
    [st] = so["statements"]
    assert (st.signer_name, st.reassigned_from, st.reassign_reason) == ("Omar Haddad", "Li Wei <li@bank.example>",
                                                                        "Li is on leave")
    res = verify_report(so["pdf"], trust=list(so["certs"].values()))
    assert res.valid and res.reassignments, res.reasons


def test_app_blocks_approval_of_failing_checks_without_rationale(small_review, db):
    from pages._ui import SESSION_KEY, AppState
    from readiness.results import Status

    ctx, report = small_review
    failing = report.model_copy(update={"checks": [c.model_copy(update={"status": Status.FAIL})
                                                   if c.id == "evaluation.holdout" else c for c in report.checks]})
    at = _page("pages/report.py", small_review, AppState(ctx=ctx, report=failing, title="t", is_sample=False))
    at.radio[0].set_value(at.radio[0].options[1])  # Approve
    at.run()
    assert any("Approving needs a written rationale for each failing check" in w.value for w in at.warning)
    _build_with(at)
    assert any("needs a written rationale for each failing check" in e.value and "(evaluation.holdout)" in e.value
               for e in at.error), [e.value for e in at.error]
    assert at.session_state[SESSION_KEY].extras["signoff"].get("pdf") is None
    title = failing.check("evaluation.holdout").title
    next(t for t in at.text_area if t.label == f"Note on {title}").set_value("Accepted: seasonal dip; re-review in Q3.")
    at.run()
    _button(at, "Build the PDF report").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state[SESSION_KEY].extras["signoff"]["pdf"] is not None


def test_app_reviewer_and_signer_lines_need_valid_emails(small_review, db):
    at = _page("pages/report.py", small_review)
    _build_with(at, **{"Reviewers": "Ana Müller, Data scientist"})
    assert any("Reviewer 'Ana Müller' needs a valid email" in e.value for e in at.error), [e.value for e in at.error]
    at = _page("pages/report.py", small_review)
    _build_with(at, **{"Planned signers": "Model-risk reviewer = Li Wei"})
    assert any("must be 'ROLE=Name <name@domain.example>'" in _shown(e) for e in at.error), [e.value for e in at.error]


def test_verify_page_shows_a_reassignment_and_a_wrong_signer(small_review, db, monkeypatch):
    from test_governance import LI, people, planned_report, sign
    from test_sign import keys

    from readiness.report import sign as sign_mod

    k, omar = keys(), people()["omar"]
    one = sign(planned_report(), k["ana"], "Data scientist")
    reassigned = sign(one, omar, "Model-risk reviewer", reassign="Li Wei is on leave")
    monkeypatch.setattr(sign_mod, "_check_governance", lambda *a, **kw: None)  # a tool that checks nothing
    wrong = sign(one, omar, "Model-risk reviewer")
    certs = [("signers.cert.pem", k["ana"].cert_pem + omar.cert_pem, "application/x-pem-file")]
    for pdf, expect_valid in ((reassigned, True), (wrong, False)):
        vt = _page("pages/verify.py", small_review)
        next(u for u in vt.get("file_uploader") if u.label.startswith("Signed report")).set_value(
            ("report.pdf", pdf, "application/pdf"))
        next(u for u in vt.get("file_uploader") if u.label.startswith("Trusted signer")).set_value(certs)
        vt.run()
        assert not vt.exception, vt.exception
        signer = vt.dataframe[0].value["Signer"][1]
        if expect_valid:
            assert any(x.value.startswith("**Valid.**") for x in vt.success)
            assert signer == f"Omar Haddad <omar@bank.example> — in place of {LI} (Li Wei is on leave)"
        else:
            assert any("WRONG SIGNER" in e.value and "is planned for Li Wei" in e.value for e in vt.error), \
                [e.value for e in vt.error]
            assert vt.dataframe[0].value["Result"][1] == "✖ invalid"
