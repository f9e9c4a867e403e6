"""The widget-key namespace of one page's set-up form, controls and outputs.

The Train page and the 2-D playground draw the same form and buttons side by side in one session;
each page's widgets live under its own prefix ("tr_", "pg_"). A `FormScope` carries that prefix, so
no function builds keys by hand, and it queues the one-line message a callback leaves for the next run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

SHOWN_FLASH_KEY = "_flash_shown"  # (key, message) of the flash this run showed


@dataclass(frozen=True)
class FormScope:
    """One page's widget keys (`prefix` + name) in st.session_state."""

    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, default: Any = None) -> Any:
        return st.session_state.get(self.key(name), default)

    def has(self, name: str) -> bool:
        return self.key(name) in st.session_state

    def set(self, name: str, value: Any) -> None:
        st.session_state[self.key(name)] = value

    def flash(self, level: str, text: str) -> None:
        """Queue a message (st.success/info/warning/error) for the page's next run: callbacks run before it."""
        self.set("flash", (level, text))

    def show_flash(self) -> None:
        flash = st.session_state.pop(self.key("flash"), None)
        st.session_state[SHOWN_FLASH_KEY] = (self.key("flash"), flash) if flash else None
        if flash:
            getattr(st, flash[0])(flash[1])


def keep_flash_for_rerun() -> None:
    """Queue the message this run showed once more: call before st.rerun(), which would wipe it off the page."""
    shown = st.session_state.get(SHOWN_FLASH_KEY)
    if shown:
        st.session_state[shown[0]] = shown[1]
