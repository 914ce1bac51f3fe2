"""The signed review record and its canonical JSON bytes.

The review JSON (:class:`~readiness.results.ReviewReport`) is what the checks produce.
The *review record* wraps it with what the people in the room add: who reviewed which
model version, per-check notes, the decision with its conditions, and the planned
signers. Its canonical serialisation (sorted keys, no whitespace, UTF-8, no NaN) is
produced **once**; those exact bytes are attached to the PDF, signed, and stored in the
history. Nothing ever re-serialises a record to compare it: verification compares bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from readiness import errors as E
from readiness.errors import ReadinessError
from readiness.results import ReviewReport, Status

RECORD_FILENAME = "review-record.json"
RECORD_MIME = "application/json"
STATEMENT_VERSION = "1"
DEFAULT_SIGNER_ROLES = ("Data scientist", "Model-risk reviewer", "Business owner")


class Outcome(StrEnum):
    APPROVE = "approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions"
    REJECT = "reject"


OUTCOME_WORD = {Outcome.APPROVE: "Approve", Outcome.APPROVE_WITH_CONDITIONS: "Approve with conditions",
                Outcome.REJECT: "Reject"}
# print-safe marks (DejaVu Sans has them; colour is never the only signal)
OUTCOME_MARK = {Outcome.APPROVE: "✔", Outcome.APPROVE_WITH_CONDITIONS: "◐", Outcome.REJECT: "✖"}


def outcome_word(value: str | None) -> str:
    if not value:
        return "Pending"
    try:
        return OUTCOME_WORD[Outcome(value)]
    except ValueError:
        return str(value)


class RecordError(ReadinessError):
    """The record cannot be built as asked: a governance rule or a malformed person (exit 2)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _clean(text: str) -> str:
    return " ".join(str(text).split())


class Person(_Frozen):
    """A reviewer present at the review."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=200)
    role: str | None = Field(None, max_length=100)

    @field_validator("name", "role", mode="before")
    @classmethod
    def _one_line(cls, v):
        return None if v is None else _clean(v)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v):
        v = None if v is None else str(v).strip()
        return v or None


def _norm_name(name: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((name or "").split())).casefold()


def person_label(name: str | None, email: str | None) -> str:
    """'Ana Müller <ana@bank.example>', 'Ana Müller' or '<ana@bank.example>'."""
    name = " ".join((name or "").split())
    return f"{name} <{email}>".strip() if email else (name or "an unnamed signer")


def same_identity(name_a: str | None, email_a: str | None, name_b: str | None, email_b: str | None) -> bool:
    """One person: the same email when both have one, else the same name (case and spacing aside)."""
    if email_a and email_b:
        return email_a.casefold() == email_b.casefold()
    return bool(_norm_name(name_a)) and _norm_name(name_a) == _norm_name(name_b)


class SignerSlot(_Frozen):
    """A planned signature: one pre-created PDF signature field per slot, in signing order
    (``Sig1`` signs first). ``name`` and ``email`` name the person planned for the role."""

    field: str = Field(pattern=r"^Sig[0-9]{1,2}$")
    role: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=200)  # who is expected to sign (optional)
    email: str | None = Field(None, max_length=200)

    @field_validator("name", "email", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        v = None if v is None else " ".join(str(v).split())
        return v or None

    @property
    def statement_field(self) -> str:
        return statement_field_name(self.field)

    @property
    def planned(self) -> str | None:
        """The planned person as 'Name <email>', or None for a role without a named person."""
        return person_label(self.name, self.email) if (self.name or self.email) else None

    def accepts(self, name: str | None, email: str | None) -> bool:
        """Whether a certificate naming ``name`` / ``email`` is the planned person: the
        planned email must match (case-insensitive) and the planned name too (case, spacing
        and Unicode normal form aside). A role without a named person accepts anyone."""
        if self.email and (email or "").casefold() != self.email.casefold():
            return False
        return not (self.name and _norm_name(name) != _norm_name(self.name))

    def same_person_as(self, other: SignerSlot) -> bool:
        """Both slots are planned for one person (the plan lets them sign both roles)."""
        return bool(self.planned and other.planned) and same_identity(self.name, self.email, other.name, other.email)


def statement_field_name(sig_field: str) -> str:
    """The hidden text field that carries a signer's statement and JSON signature."""
    return f"{sig_field}Statement"


class Decision(_Frozen):
    """The review's decision; ``outcome`` None means it is left to each signer."""

    outcome: Outcome | None = None
    conditions: list[str] = Field(default_factory=list)
    rationale: str = Field("", max_length=5000)

    @field_validator("conditions", mode="before")
    @classmethod
    def _conds(cls, v):
        return [c.strip() for c in (v or []) if str(c).strip()]

    @model_validator(mode="after")
    def _conditions_needed(self):
        if self.outcome == Outcome.APPROVE_WITH_CONDITIONS and not self.conditions:
            raise ValueError("'approve with conditions' needs at least one condition")
        return self


class ReviewRecord(_Frozen):
    """What the signers sign: the review JSON plus identity, notes, decision and signers."""

    record_version: Literal["1"] = "1"
    record_id: str
    created_at: str
    project: str = Field(min_length=1, max_length=200)
    model_name: str = Field(min_length=1, max_length=200)
    model_version: str = Field(min_length=1, max_length=100)
    title: str = Field("", max_length=300)
    reviewers: list[Person] = Field(default_factory=list)
    decision: Decision = Field(default_factory=Decision)
    notes: dict[str, str] = Field(default_factory=dict)  # check id -> reviewer note
    signers: list[SignerSlot] = Field(min_length=1, max_length=20)
    review_digest: str | None = None  # ReviewContext.digest (inputs + roles + settings)
    review: ReviewReport

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, v):
        return {str(k): str(t).strip() for k, t in (v or {}).items() if str(t).strip()}

    @model_validator(mode="after")
    def _consistent(self):
        fields = [s.field for s in self.signers]
        if len(set(fields)) != len(fields):
            raise ValueError("signature field names must be unique")
        ids = {c.id for c in self.review.checks}
        unknown = sorted(set(self.notes) - ids)
        if unknown:
            raise ValueError(f"notes refer to checks not in the review: {unknown}")
        return self

    def slot(self, field: str) -> SignerSlot | None:
        return next((s for s in self.signers if s.field == field), None)


MODEL_FILE_SUFFIXES = (".skops", ".joblib", ".pkl", ".pickle", ".onnx", ".json", ".ubj", ".txt", ".cbm", ".model")


def model_display_name(name: str | None) -> str:
    """A model's name for people: 'credit_model.skops' -> 'credit_model' (a name, not a file)."""
    name = " ".join((name or "").split()) or "model"
    for suffix in MODEL_FILE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def new_record(
    report: ReviewReport,
    *,
    project: str,
    model_name: str | None = None,
    model_version: str,
    title: str = "",
    reviewers: list[Person] | list[dict] | None = None,
    decision: Decision | dict | None = None,
    notes: dict[str, str] | None = None,
    signer_roles: list[str] | list[dict] | None = None,
    review_digest: str | None = None,
    created_at: str | None = None,
) -> ReviewRecord:
    """Build a record; signer slots ``Sig1..SigN`` follow ``signer_roles`` in order.

    Raises :class:`pydantic.ValidationError` (a ``ValueError``) on bad values.
    """
    roles = list(signer_roles or DEFAULT_SIGNER_ROLES)
    slots = []
    for i, r in enumerate(roles, start=1):
        spec = {"role": r} if isinstance(r, str) else dict(r)
        spec["role"] = _clean(spec.get("role") or "")
        slots.append(SignerSlot(field=f"Sig{i}", **spec))
    for slot in slots:
        if slot.planned and not (slot.name and valid_email(slot.email)):
            raise RecordError(E.SIGNER_PERSON.format(text=f"{slot.role}={slot.planned}"))
    people = [p if isinstance(p, Person) else Person(**p) for p in (reviewers or [])]
    for person in people:
        if not valid_email(person.email):
            raise RecordError(E.REVIEWER_EMAIL.format(line=person_label(person.name, person.email)))
    decision = decision if isinstance(decision, Decision) else Decision(**(decision or {}))
    notes = notes or {}
    if decision.outcome in (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS):
        missing = failing_without_rationale(report, notes)
        if missing:
            raise RecordError(E.APPROVAL_NEEDS_RATIONALE.format(checks=_check_list(missing)))
    return ReviewRecord(
        record_id=uuid.uuid4().hex,
        created_at=created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        project=_clean(project),
        model_name=_clean(model_name or model_display_name(report.model.name)),
        model_version=_clean(model_version),
        title=_clean(title),
        reviewers=people,
        decision=decision,
        notes=notes,
        signers=slots,
        review_digest=review_digest,
        review=report,
    )


def failing_without_rationale(report: ReviewReport, notes: dict[str, str]) -> list:
    """Failing checks with no written note: an approval needs a rationale for each."""
    return [c for c in report.checks if c.status == Status.FAIL and not str(notes.get(c.id) or "").strip()]


def _check_list(checks) -> str:
    return "; ".join(f"{c.title} ({c.id})" for c in checks)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, NaN/Infinity refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def record_bytes(record: ReviewRecord) -> bytes:
    """The canonical bytes of a record. Call once; keep and sign exactly these bytes."""
    return canonical_json(record.model_dump(mode="json"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_record(data: bytes) -> ReviewRecord:
    """Parse signed record bytes (for display; verification works on the bytes)."""
    return ReviewRecord.model_validate_json(data)


def record_dict(data: bytes) -> dict:
    """Lenient parse: a plain dict, for records written by other schema versions."""
    return json.loads(data.decode("utf-8"))


class Statement(_Frozen):
    """What one signer adds when signing: their decision, note and a JSON signature.

    Stored, canonical, in the hidden text field ``<SigN>Statement`` in the same
    incremental update as the PDF signature (so the PDF signature covers it; the
    field is locked by that signature). ``record_cms`` is a detached CMS (PKCS#7)
    signature over the exact record bytes, base64 of DER.
    """

    statement_version: Literal["1"] = "1"
    field: str
    role: str
    signer_name: str
    signer_email: str | None = None
    decision: Outcome
    note: str = ""
    signed_at: str
    record_id: str
    record_sha256: str
    cert_sha256: str
    record_cms: str
    # an explicit re-assignment: the person the role was planned for, and why someone else signs
    reassigned_from: str | None = None
    reassign_reason: str | None = Field(None, max_length=500)

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))


# WHATWG HTML's "valid e-mail address" (what browsers accept in <input type=email>), with a dot
# required in the domain: local@example.org. ASCII only, as X.509 rfc822Name is.
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
EMAIL_MAX = 254


def valid_email(text: str | None) -> bool:
    """True for an address like ``ana@bank.example`` (see :data:`EMAIL_RE`)."""
    return bool(text) and len(text) <= EMAIL_MAX and EMAIL_RE.match(text) is not None


_EMAIL_IN_NAME = re.compile(r"^\s*(?P<name>[^<]+?)\s*<(?P<email>[^>]+)>\s*$")


def parse_person(text: str, role: str | None = None) -> Person:
    """'Ana Müller <ana@x.org>' or 'Ana Müller' -> Person."""
    m = _EMAIL_IN_NAME.match(text or "")
    if m:
        return Person(name=m["name"], email=m["email"], role=role)
    return Person(name=text, role=role)


def parse_reviewers(text: str) -> list[Person]:
    """One reviewer per line: ``Name <email>, role`` (email and role optional)."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip(" -•\t")
        if not line:
            continue
        if ">" in line:
            head, _, tail = line.partition(">")
            who, role = head + ">", tail.lstrip(" ,")
        else:
            who, _, role = line.partition(",")
        out.append(parse_person(who.strip(), role.strip() or None))
    return out


def parse_signer(text: str) -> dict:
    """A planned signer: ``ROLE=Name <email>`` (a person in a role) or ``ROLE`` alone (a role
    without a named person). ``Role: Name <email>`` is read the same way. Raises
    :class:`RecordError` when a person is named without a valid email."""
    text = " ".join((text or "").split())
    sep = "=" if "=" in text else ":" if ":" in text else None
    role, person = (text.split(sep, 1) if sep else (text, ""))
    role, person = role.strip(), person.strip()
    if not role:
        raise RecordError(E.SIGNER_PERSON.format(text=text))
    if not person:
        return {"role": role}
    m = _EMAIL_IN_NAME.match(person)
    if not m or not valid_email(m["email"].strip()):
        raise RecordError(E.SIGNER_PERSON.format(text=text))
    return {"role": role, "name": m["name"], "email": m["email"].strip()}


def parse_signer_roles(text: str) -> list[dict]:
    """One planned signer per line, in signing order (see :func:`parse_signer`)."""
    return [parse_signer(line.strip(" -•\t")) for line in (text or "").splitlines() if line.strip(" -•\t")]
