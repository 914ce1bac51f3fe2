"""Sign-in for a served app: Streamlit's st.login (OpenID Connect) and the operator's access rules.

Authentication is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
own configuration: redirect_uri, cookie_secret, client_id, client_secret,
server_metadata_url). Then every page needs a signed-in person, and ``[access]``
(:mod:`readiness.access`) says which projects' reviews each person may see. Without
``[auth]`` the app is for local use: one person, who sees everything, and the pages say so.
"""

from __future__ import annotations

import streamlit as st

from readiness.access import LOCAL, AccessPolicy, Viewer
from readiness.errors import AccessConfigError


def _section(name: str) -> dict:
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        value = st.secrets.get(name)
    except Exception:  # unreadable secrets: treated as absent; Streamlit reports the file itself
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value or {})


def auth_enabled() -> bool:
    return bool(_section("auth"))


def policy() -> AccessPolicy:
    """The operator's access rules; :class:`AccessConfigError` when they cannot be read."""
    return AccessPolicy.from_mapping(_section("access"))


def viewer() -> Viewer | None:
    """The person looking: :data:`LOCAL` without authentication, None when nobody is signed in."""
    if not auth_enabled():
        return LOCAL
    if not st.user.is_logged_in:
        return None
    try:
        claim = policy().groups_claim
    except AccessConfigError:
        claim = "groups"
    return Viewer.from_claims(st.user.to_dict(), groups_claim=claim)


def require_login() -> None:
    """app.py: with authentication on, nobody sees any page before signing in."""
    if not auth_enabled() or st.user.is_logged_in:
        return
    st.title("Model Readiness Review")
    st.markdown("This review workbench is shared by a team: **sign in** to see the reviews of your projects.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    st.stop()


def account_box() -> None:
    """Sidebar: who is signed in, and a way out."""
    if not auth_enabled() or not st.user.is_logged_in:
        return
    from pages._ui import esc

    me = viewer()
    st.caption(f"Signed in as **{esc(me.name or me.email or 'unknown')}**")
    st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="auth_sign_out")
