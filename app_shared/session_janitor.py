"""Give a closed tab's memory back: shut down Streamlit sessions whose tab has been gone a while.

Streamlit keeps a closed tab's session (its state and media files) so a tab that lost its
connection for a moment can resume it, for `server.disconnectedSessionTTL` seconds (120). After that
the session is only dropped lazily, at a later write to Streamlit's session store, and without being
shut down, so its media files stay referenced. On a class server the class's memory then stays
after the class has left. The janitor notes every session that runs a page and, once one has been
disconnected for RELEASE_MARGIN seconds less than that TTL, closes it through `Runtime.close_session`
(Streamlit's own shutdown: state, uploads and media files are released), then runs the garbage
collector and asks the C allocator to return free pages to the OS. It also caps the C allocator's
arenas when the server starts (see `limit_malloc_arenas`).
"""
from __future__ import annotations

import ctypes
import gc
import threading
import time

import streamlit as st

from app_shared.housekeeping import Every, session_connected, streamlit_runtime

PASS_EVERY = 5.0  # seconds between passes
MALLOC_ARENAS = 2  # glibc makes up to 8 per core for the page threads; each keeps its own free memory
M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h
RELEASE_MARGIN = 10.0  # close this long before Streamlit's TTL (after it, the session can no longer be found)


def release_free_memory() -> bool:
    """glibc's malloc_trim(0): hand free heap pages back to the OS. False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas. Each page run is a new thread; with 30 tabs at once glibc spreads
    them over up to 16 arenas whose free memory it rarely gives back (a class of 30 left about twice as
    much memory behind with the default as with 2: benchmarks/RESULTS.md). False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):
        return False


class SessionJanitor:
    """Tracks the sessions that ran a page; closes those disconnected for longer than `release_after`."""

    def __init__(self, release_after: float | None = None, pass_every: float = PASS_EVERY) -> None:
        if release_after is None:
            ttl = float(st.get_option("server.disconnectedSessionTTL") or 120)
            release_after = max(0.0, ttl - RELEASE_MARGIN)
        self.release_after = release_after
        self._lock = threading.Lock()
        self._sessions: dict[str, float | None] = {}  # session id -> when it was first seen disconnected
        self.released = 0
        self._passes = Every(pass_every, self.sweep, name="SessionJanitor")

    def seen(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions[session_id] = None

    def tracked(self) -> int:
        with self._lock:
            return len(self._sessions)

    def sweep(self, now: float | None = None, runtime=None) -> list[str]:
        """One pass: close what has been disconnected too long. Returns the ids closed."""
        runtime = runtime or streamlit_runtime()
        if runtime is None:
            return []
        now = time.monotonic() if now is None else now
        closing = []
        with self._lock:
            for sid, since in list(self._sessions.items()):
                connected = session_connected(sid, runtime)
                if connected is None:  # cannot tell: never close what may be a live tab
                    continue
                if connected:
                    self._sessions[sid] = None
                elif since is None:
                    self._sessions[sid] = now
                elif now - since >= self.release_after:
                    closing.append(sid)
                    del self._sessions[sid]
        for sid in closing:
            runtime.close_session(sid)  # a no-op for a session Streamlit already dropped
        if closing:
            gc.collect()
            release_free_memory()
            self.released += len(closing)
        return closing

    def close(self) -> None:
        self._passes.close()


@st.cache_resource(show_spinner=False)
def session_janitor() -> SessionJanitor:
    """The one janitor of this server process (created on the first page run, with the arena cap)."""
    limit_malloc_arenas()
    return SessionJanitor()
