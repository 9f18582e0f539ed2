"""Who is using the app and what they may do: login with OpenID Connect, roles, the pages shown.

Without an ``[auth]`` section in ``.streamlit/secrets.toml`` the app runs in **local mode**: one
person on a private machine, no login, every page (the sidebar says so). With it, Streamlit's own
``st.login`` signs people in with the configured OpenID Connect provider, and the ``[roles]``
section gives each one a role:

* ``analyst``: uploads files, opens the server's data folder, fits segments, publishes runs;
* ``viewer``: opens published runs (read-only: RFM sliders, segments, projections, anomalies,
  overview, downloads), the list of runs and the segment history; cannot upload or read the data
  folder.

Each ``[roles]`` entry lists who has that role: an e-mail address (``alice@example.com``), a
domain
(``@example.com``), a group of the identity token's ``groups`` claim (``group:rfm-analysts``), or
``*`` (everyone the provider lets in). An analyst entry wins over a viewer entry; someone matching
no entry is signed in but may see nothing.

Pages a role may not see are not part of the navigation at all, so their URL leads nowhere; the
functions that open files check the role again (:func:`require_analyst`).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import streamlit as st

__all__ = [
    "ANALYST",
    "VIEWER",
    "User",
    "auth_configured",
    "current_user",
    "is_analyst",
    "login_note",
    "require_analyst",
    "role_for",
    "show_user",
    "visible_pages",
]

ANALYST, VIEWER = "analyst", "viewer"


@dataclass(frozen=True)
class User:
    """The person of this session.

    ``local``: no login is configured (local mode, analyst). ``signed_in``: a login is configured
    and the person has signed in. ``role``: ``"analyst"``, ``"viewer"`` or None (no role).
    """

    email: str
    name: str
    role: str | None
    local: bool = False
    signed_in: bool = False

    @property
    def may_enter(self) -> bool:
        """Whether the app shows this person anything but the login page."""
        return self.local or self.signed_in

    @property
    def label(self) -> str:
        """Who published, as runs record it."""
        return self.email or self.name


def _secrets_section(name: str) -> Mapping:
    """A section of the secrets, empty when there is none or no secrets file at all."""
    try:
        return st.secrets.get(name) or {}
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}


def auth_configured() -> bool:
    """Whether ``[auth]`` is configured in the secrets (else: local mode)."""
    return bool(_secrets_section("auth"))


def _matches(entry: str, email: str, groups: Iterable[str]) -> bool:
    entry = str(entry).strip().lower()
    if entry == "*":
        return True
    if entry.startswith("group:"):
        return entry.removeprefix("group:") in {str(g).strip().lower() for g in groups}
    if entry.startswith("@"):
        return bool(email) and email.endswith(entry)
    return bool(email) and email == entry


def role_for(email: str, groups: Iterable[str], roles: Mapping[str, Iterable[str]]) -> str | None:
    """The role of a signed-in person under the ``[roles]`` rules (analyst wins), or None."""
    email = (email or "").strip().lower()
    groups = [groups] if isinstance(groups, str) else list(groups or ())
    for role in (ANALYST, VIEWER):
        entries = roles.get(role) or ()
        entries = [entries] if isinstance(entries, str) else entries
        if any(_matches(entry, email, groups) for entry in entries):
            return role
    return None


def current_user() -> User:
    """The person of this session (local mode: the server's user, an analyst)."""
    if not auth_configured():
        return User(email="", name=getpass.getuser(), role=ANALYST, local=True)
    if not st.user.get("is_logged_in"):
        return User(email="", name="", role=None)
    email = str(st.user.get("email") or "")
    name = str(st.user.get("name") or email)
    groups = st.user.get("groups") or ()
    role = role_for(email, groups, _secrets_section("roles"))
    return User(email=email, name=name, role=role, signed_in=True)


def is_analyst() -> bool:
    """Whether this session may upload, read the data folder and publish."""
    return current_user().role == ANALYST


def require_analyst() -> None:
    """Stop the page unless this session is an analyst's (a second check behind the navigation)."""
    if not is_analyst():
        st.error("Only analysts can do this.", icon=":material/lock:")
        st.stop()


def login_note(user: User) -> str:
    """What the login page says: how to get in, or that this account has no role."""
    if user.signed_in:
        from ui.components import safe_md

        return (
            f"You are signed in as {safe_md(user.email or user.name)}, which has no role in "
            "this dashboard. Ask its administrator to add you to [roles] as an analyst or a "
            "viewer."
        )
    return (
        "Customer segments of the team's published runs. Log in with your company account to "
        "open them. A link to a run opens it once you are logged in: open the link again after "
        "logging in."
    )


def show_user(user: User) -> None:
    """The sidebar's note of who is signed in, with the logout button, or of local mode."""
    if user.local:
        st.caption(
            "Local mode: no login is configured, so whoever reaches this server works as an "
            "analyst. Configure [auth] and [roles] in .streamlit/secrets.toml to share it."
        )
        return
    from ui.components import safe_md

    role = user.role or "no role"
    st.caption(f"Signed in as {safe_md(user.name)} ({safe_md(user.email)}), {role}")
    if st.button("Log out", key="logout", icon=":material/logout:"):
        st.logout()


# every page, its section, and who sees it: "own" = an analyst working on their own data,
# "run" = anyone looking at a published run, "always" = whoever has a role
_PAGES = (
    ("Data", "pages/upload.py", "Upload", ":material/upload_file:", "own"),
    ("Data", "pages/cleaning.py", "Cleaning", ":material/cleaning_services:", "own"),
    ("Customers", "pages/overview.py", "Overview", ":material/monitoring:", "both"),
    ("Customers", "pages/rfm.py", "RFM", ":material/table_chart:", "both"),
    ("Customers", "pages/movement.py", "Movement", ":material/swap_horiz:", "own"),
    ("Customers", "pages/cohorts.py", "Cohorts", ":material/grid_on:", "own"),
    ("Segments", "pages/model_selection.py", "Model selection", ":material/tune:", "own"),
    ("Segments", "pages/segments.py", "Segments", ":material/groups:", "both"),
    ("Segments", "pages/projections.py", "Projections", ":material/scatter_plot:", "both"),
    ("Segments", "pages/anomalies.py", "Anomalies", ":material/crisis_alert:", "both"),
    ("Value", "pages/clv.py", "Lifetime value", ":material/savings:", "own"),
    ("Value", "pages/backtest.py", "Backtest", ":material/fact_check:", "own"),
    ("Export", "pages/export.py", "Export & score", ":material/download:", "both"),
    ("Published", "pages/runs.py", "Published runs", ":material/inventory_2:", "always"),
    ("Published", "pages/history.py", "Segment history", ":material/history:", "always"),
)


def visible_pages(user: User, *, in_run: bool) -> dict[str, list]:
    """The navigation of this session: by section, the pages its role may open.

    Looking at a published run shows the pages that read it; an analyst on their own data sees
    every page; a viewer without a run sees the list of runs and the history only.
    """
    if not user.may_enter:
        return {"": [st.Page("pages/login.py", title="Log in", icon=":material/login:")]}
    if user.role is None:
        return {"": [st.Page("pages/login.py", title="No access", icon=":material/lock:")]}
    own = user.role == ANALYST and not in_run
    wanted = {"own": own, "both": own or in_run, "run": in_run, "always": True}
    first = "pages/upload.py" if own else "pages/overview.py" if in_run else "pages/runs.py"
    sections: dict[str, list] = {}
    for section, path, title, icon, who in _PAGES:
        if wanted[who]:
            page = st.Page(path, title=title, icon=icon, default=path == first)
            sections.setdefault(section, []).append(page)
    return sections
