"""The server's periodic chores (the job reaper, the session janitor) and the runtime facts they read.

Both need "every few seconds, in the background, never crash the server" and "is this browser
session still connected?"; this file is the one place either is done.
"""
from __future__ import annotations

import threading
from collections.abc import Callable


class Every:
    """Call `chore` every `seconds` on a daemon thread until `close()`. An exception in a pass is
    dropped: housekeeping must never take the server down, and the next pass tries again."""

    def __init__(self, seconds: float, chore: Callable[[], object], name: str) -> None:
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(seconds, chore), name=name, daemon=True)
        self._thread.start()

    def _loop(self, seconds: float, chore: Callable[[], object]) -> None:
        while not self._closed.wait(seconds):
            try:
                chore()
            except Exception:
                pass

    def close(self) -> None:
        self._closed.set()


def streamlit_runtime():
    """Streamlit's Runtime of this server, or None (AppTest, plain Python)."""
    try:
        from streamlit.runtime import Runtime
        return Runtime.instance() if Runtime.exists() else None
    except Exception:  # internal API moved
        return None


def session_connected(session_id: str | None, runtime=None) -> bool | None:
    """Whether a browser session is still connected; None when this cannot be known (no id, no runtime)."""
    runtime = runtime or streamlit_runtime()
    if not session_id or runtime is None:
        return None
    try:
        return bool(runtime.is_active_session(session_id))
    except Exception:  # internal API moved: callers fall back to their timeouts
        return None
