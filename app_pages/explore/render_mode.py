"""Which path draws Explore's images: the browser (the generator runs in the page) or the server.

The browser path is the default. The server path (Streamlit widgets, torch on the server) is used
when the link says `?render=server`, when the model cannot be exported for the browser, or when
the browser cannot start ONNX Runtime Web; the page then says why in one line. The choice is made
once per session (a fallback lasts for the session), and a forced `render=server` stays in the
links the page writes, so a shared link keeps it. The choice lives in the page's state (ExplorePage).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from app_pages.explore.state import BROWSER, SERVER, ExplorePage

logger = logging.getLogger(__name__)

QUERY_KEY = "render"
__all__ = ["BROWSER", "SERVER", "QUERY_KEY", "choose", "fall_back", "query_extra"]


def choose(page: ExplorePage, query: Mapping[str, str]) -> None:
    """The session's first choice, from its first link: the server path when it says render=server."""
    page.render_forced = query.get(QUERY_KEY) == SERVER
    page.render = SERVER if page.render_forced else BROWSER
    page.render_notice = None


def fall_back(page: ExplorePage, reason: str) -> None:
    """Use the server path for the rest of the session, and say why (one line on the page)."""
    logger.info("Explore falls back to server rendering: %s", reason)
    page.render = SERVER
    page.render_notice = reason


def query_extra(page: ExplorePage) -> dict[str, str]:
    """Query parameters the page's links keep: render=server when the link forced it."""
    return {QUERY_KEY: SERVER} if page.render_forced else {}
