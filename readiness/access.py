"""Who may see which reviews in the history: the operator's access rules (no streamlit here).

When the app is served to more than one person it runs behind an OpenID Connect login
(``st.login``); the signed-in person's ID-token claims become a :class:`Viewer`. The
operator maps people to projects in ``.streamlit/secrets.toml``::

    [access]
    operators = ["olga@ops.example"]              # see every review and the database location
    groups_claim = "groups"                       # the ID-token claim that lists a person's groups
    [access.projects]
    "Consumer lending" = ["alice@lending.example", "group:credit-risk"]
    "Fraud" = ["@fraud.example"]                  # everyone with a verified address at that domain

A person sees the reviews of the projects that name them (by verified email, email domain or
group) and nothing else; reviews without a project are the operators' only. Without
authentication (local use) there is a single viewer, :data:`LOCAL`, who sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness import errors as E


@dataclass(frozen=True)
class Viewer:
    """The person looking at the app. ``authenticated`` is False only for local, login-free use."""

    authenticated: bool
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    groups: frozenset[str] = frozenset()

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, groups_claim: str = "groups") -> Viewer:
        """A signed-in person from their ID-token claims (``st.user``)."""
        groups = claims.get(groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        email = claims.get("email")
        return cls(authenticated=True, email=str(email).strip().lower() if email else None,
                   # a provider that does not say is trusted to have verified (most enterprise IdPs omit it)
                   email_verified=claims.get("email_verified", True) is not False,
                   name=claims.get("name") or email, groups=frozenset(str(g) for g in groups))


LOCAL = Viewer(authenticated=False, name="local user")


def _principals(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise E.AccessConfigError(E.ACCESS_NOT_A_LIST.format(key=key, value=value))
    out = []
    for item in value:
        p = str(item).strip()
        if not (p.startswith("group:") and len(p) > 6 or "@" in p and " " not in p):
            raise E.AccessConfigError(E.ACCESS_BAD_PRINCIPAL.format(key=key, value=item))
        out.append(p if p.startswith("group:") else p.lower())
    return tuple(out)


@dataclass(frozen=True)
class AccessPolicy:
    """Operators and, per project, the people who may see its reviews."""

    operators: tuple[str, ...] = ()
    projects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups_claim: str = "groups"

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> AccessPolicy:
        """From the ``[access]`` section; an absent section gives a policy that lets no one see anything
        (operators must name themselves). Raises :class:`AccessConfigError` with one line."""
        config = dict(config or {})
        unknown = set(config) - {"operators", "projects", "groups_claim"}
        if unknown:
            raise E.AccessConfigError(E.ACCESS_UNKNOWN_KEY.format(key=sorted(unknown)[0]))
        projects = {str(name): _principals(f"projects.{name}", who)
                    for name, who in dict(config.get("projects") or {}).items()}
        return cls(operators=_principals("operators", config.get("operators", [])), projects=projects,
                   groups_claim=str(config.get("groups_claim", "groups")))

    @staticmethod
    def _matches(viewer: Viewer, principal: str) -> bool:
        if principal.startswith("group:"):
            return principal[6:] in viewer.groups
        if not viewer.email or not viewer.email_verified:
            return False
        if principal.startswith("@"):
            return viewer.email.endswith(principal)
        return viewer.email == principal

    def is_operator(self, viewer: Viewer) -> bool:
        """Operators see every review, reviews without a project and where the history is stored."""
        if not viewer.authenticated:
            return True  # local use: the person at the keyboard runs the server
        return any(self._matches(viewer, p) for p in self.operators)

    def may_see(self, viewer: Viewer, project: str | None) -> bool:
        if self.is_operator(viewer):
            return True
        return project is not None and any(self._matches(viewer, p) for p in self.projects.get(project, ()))

    def visible_projects(self, viewer: Viewer, known: Iterable[str]) -> list[str]:
        """The projects among ``known`` this viewer may see, sorted."""
        return sorted(p for p in set(known) if self.may_see(viewer, p))

    def visible(self, viewer: Viewer, rows: Iterable) -> list:
        """The history rows (anything with a ``project``) this viewer may see, in order."""
        return [r for r in rows if self.may_see(viewer, r.project)]
