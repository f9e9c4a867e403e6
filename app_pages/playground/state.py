"""The playground page's state: one dataclass in session state, set from the link on the first visit (and
whenever the page opens with another link)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app_pages.playground import browser_element as be
from app_pages.playground.link import Setup, engine_of, parse_link
from gan_core.teach.presets import get_preset

STATE_KEY = "pg_page"
ENGINE_KEY = "pg_engine"  # the engine radio's widget key


@dataclass
class PlaygroundPage:
    setup: Setup  # the set-up the browser element starts from
    preset: str | None = None  # the preset it came from, if any
    setup_nonce: int = 0  # raised when Python replaces the element's set-up (a new link)
    notices: list[str] = field(default_factory=list)  # plain messages about the link
    query_seen: dict[str, str] | None = None
    saved: dict[str, Any] | None = None  # the last save's answer to the element: {nonce, ok, text}
    saved_label: str | None = None  # the model's name on Explore after a successful save
    failure: str | None = None  # why the browser could not train, if it said so


def from_link(params: dict[str, str]) -> tuple[Setup, str | None, str | None, list[str]]:
    """(set-up, preset slug, engine, notices) of a link's query string."""
    notices: list[str] = []
    slug = params.get("preset")
    preset = get_preset(slug)
    base = be.default_setup()
    if slug and preset is None:
        notices.append(f"The link names an unknown preset ({str(slug)[:40]!r}); the page's defaults are shown.")
    elif preset is not None:
        base = be.preset_setup(preset)
    setup, more = parse_link(params, base, be.limits())
    engine, notice = engine_of(params)
    notices += more + ([notice] if notice else [])
    same = preset is not None and setup == base  # a link that changes a preset's values shows "custom"
    return setup, preset.slug if same else None, engine, notices


def current() -> PlaygroundPage:
    """This session's page state; a new link in the address bar replaces its set-up."""
    params = st.query_params.to_dict()
    page = st.session_state.get(STATE_KEY)
    if page is not None and (params == page.query_seen or not params):
        return page
    setup, preset, engine, notices = from_link(params)
    if page is None:
        page = PlaygroundPage(setup, preset, notices=notices, query_seen=params)
    else:
        page.setup, page.preset, page.notices, page.query_seen = setup, preset, notices, params
        page.setup_nonce += 1
    if engine is not None:
        st.session_state[ENGINE_KEY] = engine
    st.session_state[STATE_KEY] = page
    return page
