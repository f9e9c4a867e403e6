"""Per-browser-session storage: each session's checkpoints live in their own folder."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import streamlit as st

from gan_core.settings import settings

APP_RUNS_DIR: Path = settings().app_runs_dir  # GAN_APP_RUNS_DIR, checked by app.py before any page imports this


def session_id() -> str:
    """A stable id for this browser session (kept in session state)."""
    if "session_uid" not in st.session_state:
        st.session_state.session_uid = uuid.uuid4().hex[:12]
    return st.session_state.session_uid


def session_dir() -> Path:
    """This session's own folder for checkpoints and uploads (created on first use)."""
    path = APP_RUNS_DIR / session_id()
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(text: str, default: str = "checkpoint") -> str:
    """A file-name stem made only of letters, digits, '-' and '_' (never a path)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:48]
    return cleaned or default
