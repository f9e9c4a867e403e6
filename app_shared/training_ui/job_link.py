"""A run you can come back to: the job's token in the page's link (?job=TOKEN) and in a cookie.

A reload, a new tab or a reconnect starts a new Streamlit session; the token brings it back to its
job (app_shared.jobs: the registry is keyed by token). The link's token is tried first, then the
cookie's; the page that finds the job becomes its holder. A link whose token reaches no job gets a
plain message and reaches nothing; a stale cookie (the job ended and was cleared) is dropped quietly.
Streamlit reads cookies (st.context.cookies) but has no call that writes one: a tiny components-v2
element writes it with document.cookie (SameSite=Strict, the app's path).
"""
from __future__ import annotations

import streamlit as st

from app_shared.jobs import JobTicket, browser_session_id, job_registry
from app_shared.session import session_id

QUERY_KEY = "job"  # ?job=TOKEN
COOKIE = "gan_job"
COOKIE_MAX_AGE_S = 24 * 3600
TOKEN_KEY = "job_token"  # this session's job token
TRIED_KEY = "_job_link_tried"  # the link / cookie tokens already looked up in this session
BAD_LINK_KEY = "_job_link_bad"

_COOKIE_JS = """
export default function ({ data }) {
  const value = data.token ? encodeURIComponent(data.token) : "";
  const age = data.token ? data.maxAge : 0;
  document.cookie = `${data.name}=${value}; path=/; max-age=${age}; SameSite=Strict`;
}
"""
_cookie_writer = st.components.v2.component("gan_job_cookie", js=_COOKIE_JS)


def session_token() -> str | None:
    return st.session_state.get(TOKEN_KEY)


def session_ticket() -> JobTicket | None:
    """This session's ticket (queued, running or ended), found by its token; reading it marks it watched."""
    token = session_token()
    if token is None:
        return None
    registry = job_registry()
    registry.touch(token)
    return registry.ticket(token)


def remember(token: str) -> None:
    """Keep a new job's token in the session and the page's link (the cookie follows on the next draw)."""
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(BAD_LINK_KEY, None)
    st.query_params[QUERY_KEY] = token


def _tried(token: str) -> bool:
    tried = st.session_state.setdefault(TRIED_KEY, set())
    seen = token in tried
    tried.add(token)
    return seen


def find_again() -> JobTicket | None:
    """Attach the job of the link's token (or, without one, the cookie's) once per token and session."""
    link = st.query_params.get(QUERY_KEY)
    if link and link != session_token() and not _tried(link):
        ticket = job_registry().attach(link, session_id(), browser_session_id())
        if ticket is None:
            st.session_state[BAD_LINK_KEY] = True
            return None
        remember(link)
        return ticket
    cookie = st.context.cookies.get(COOKIE)
    if not link and cookie and session_token() is None and not _tried(cookie):
        ticket = job_registry().attach(cookie, session_id(), browser_session_id())
        if ticket is not None:
            remember(cookie)
        return ticket
    return None


def show_link_notice() -> None:
    """The plain message for a link whose token reaches no job (it ended and was cleared, or is mistyped)."""
    if st.session_state.get(BAD_LINK_KEY):
        st.warning("This page's link names a training job that this server does not have: it ended and was "
                   "cleared, or the link is incomplete. Nothing was changed; press **Start** for a new run.")


def write_cookie() -> None:
    """Keep this session's token in the browser's cookie (refreshed with each page draw)."""
    token = session_token()
    if token is not None:
        _cookie_writer(key="job_cookie", data={"name": COOKIE, "token": token, "maxAge": COOKIE_MAX_AGE_S})
