"""Which path draws Explore's images: the browser (the generator runs in the page) or the server.

The browser path is the default. The server path (Streamlit widgets, torch on the server) is used
when the link says `?render=server`, when the model cannot be exported for the browser, or when
the browser cannot start ONNX Runtime Web; the page then says why in one line. The choice is made
once per session (a fallback lasts for the session), and a forced `render=server` stays in the
links the page writes, so a shared link keeps it.
"""
from __future__ import annotations

import logging

import streamlit as st

logger = logging.getLogger(__name__)

BROWSER, SERVER = "browser", "server"
QUERY_KEY = "render"
ss = st.session_state


def mode() -> str:
    """BROWSER or SERVER for this session (read from the link on the first call)."""
    if "ex_render" not in ss:
        forced = st.query_params.get(QUERY_KEY) == SERVER
        ss.ex_render = SERVER if forced else BROWSER
        ss.ex_render_forced = forced
        ss.ex_render_notice = None
    return ss.ex_render


def fall_back(reason: str) -> None:
    """Use the server path for the rest of the session, and say why (one line on the page)."""
    logger.info("Explore falls back to server rendering: %s", reason)
    ss.ex_render = SERVER
    ss.ex_render_notice = reason


def notice() -> str | None:
    """The one line that says why the images are drawn on the server (None when chosen by the link)."""
    return ss.get("ex_render_notice")


def query_extra() -> dict[str, str]:
    """Query parameters the page's links keep: render=server when the link forced it."""
    return {QUERY_KEY: SERVER} if ss.get("ex_render_forced") else {}
