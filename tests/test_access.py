"""readiness.access: who sees which project's reviews (known answers, no streamlit)."""

from types import SimpleNamespace

import pytest

from readiness import errors as E
from readiness.access import LOCAL, AccessPolicy, Viewer

RULES = AccessPolicy.from_mapping({
    "operators": ["Olga@Ops.example"],
    "projects": {"Lending": ["alice@lending.example", "group:credit-risk"], "Fraud": ["@fraud.example"]},
})


def person(email, *, groups=(), verified=True):
    return Viewer.from_claims({"email": email, "email_verified": verified, "groups": list(groups)})


@pytest.mark.parametrize("who, lending, fraud, unfiled", [
    (person("alice@lending.example"), True, False, False),          # named by email
    (person("ALICE@lending.example"), True, False, False),          # emails compare case-insensitively
    (person("carl@x.example", groups=["credit-risk"]), True, False, False),  # by group
    (person("fred@fraud.example"), False, True, False),              # by domain
    (person("fred@notfraud.example"), False, False, False),         # a suffix is not the domain
    (person("fred@fraud.example", verified=False), False, False, False),  # unverified email counts for nothing
    (person("olga@ops.example"), True, True, True),                 # operator
    (person("eve@elsewhere.example"), False, False, False),         # named nowhere
    (LOCAL, True, True, True),                                      # no authentication: local use
])
def test_who_sees_which_project(who, lending, fraud, unfiled):
    assert [RULES.may_see(who, "Lending"), RULES.may_see(who, "Fraud"), RULES.may_see(who, None)] == [
        lending, fraud, unfiled]


def test_visible_rows_and_projects_filter_the_history():
    rows = [SimpleNamespace(project=p) for p in ["Lending", "Fraud", None, "Lending"]]
    alice = person("alice@lending.example")
    assert [r.project for r in RULES.visible(alice, rows)] == ["Lending", "Lending"]
    assert RULES.visible_projects(alice, ["Fraud", "Lending", "Other"]) == ["Lending"]
    assert RULES.is_operator(person("olga@ops.example")) and not RULES.is_operator(alice)


def test_without_rules_a_signed_in_person_sees_nothing():
    assert not AccessPolicy.from_mapping(None).may_see(person("alice@lending.example"), "Lending")


@pytest.mark.parametrize("config, message", [
    ({"operators": "olga@ops.example"}, E.ACCESS_NOT_A_LIST.split("{")[0]),
    ({"projects": {"Lending": ["alice"]}}, "is neither an email"),
    ({"operator": []}, "unknown setting 'operator'"),
])
def test_bad_rules_get_one_line(config, message):
    with pytest.raises(E.AccessConfigError, match=message.replace("[", r"\[")):
        AccessPolicy.from_mapping(config)


def test_groups_claim_is_configurable():
    v = Viewer.from_claims({"email": "x@y.example", "roles": "credit-risk"}, groups_claim="roles")
    assert v.groups == {"credit-risk"}
