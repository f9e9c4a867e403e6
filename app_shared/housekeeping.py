"""The server's periodic chores (the job reaper, the session janitor, the heap freeze) and the runtime facts they read.

The reaper and the janitor need "every few seconds, in the background, never crash the server" and "is this
browser session still connected?"; this file is the one place either is done.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)
_moved_apis_told: set[str] = set()


class Every:
    """Call `chore` every `seconds` on a daemon thread until `close()`. An exception in a pass is
    logged and the thread goes on: housekeeping must never take the server down, and the next pass tries again."""

    def __init__(self, seconds: float, chore: Callable[[], object], name: str) -> None:
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(seconds, chore), name=name, daemon=True)
        self._thread.start()

    def _loop(self, seconds: float, chore: Callable[[], object]) -> None:
        while not self._closed.wait(seconds):
            try:
                chore()
            except Exception:  # logged; the next pass tries again
                logger.exception("%s: a pass failed", self._thread.name)

    def close(self) -> None:
        self._closed.set()


def streamlit_runtime():
    """Streamlit's Runtime of this server, or None (AppTest, plain Python)."""
    try:
        from streamlit.runtime import Runtime
        return Runtime.instance() if Runtime.exists() else None
    except (ImportError, AttributeError) as exc:
        _api_moved("streamlit.runtime.Runtime", exc)
        return None


def session_connected(session_id: str | None, runtime=None) -> bool | None:
    """Whether a browser session is still connected; None when this cannot be known (no id, no runtime)."""
    runtime = runtime or streamlit_runtime()
    if not session_id or runtime is None:
        return None
    try:
        return bool(runtime.is_active_session(session_id))
    except (AttributeError, TypeError) as exc:
        _api_moved("Runtime.is_active_session", exc)
        return None


def _api_moved(what: str, exc: BaseException) -> None:
    """Say once per process, with the error, that an internal Streamlit API has moved (asked every few seconds)."""
    if what in _moved_apis_told:
        return
    _moved_apis_told.add(what)
    logger.warning("Streamlit's internal %s is not usable in this version: closed tabs are noticed only by their "
                   "timeouts, and closed sessions are not released early", what, exc_info=exc)


FREEZE_EVERY_S = 600.0
_freeze_lock = threading.Lock()
_frozen_at: list[float] = []  # monotonic time of the last freeze in this process


def keep_heap_frozen(now: float | None = None) -> bool:
    """Freeze what is alive (modules, torch, models) at most every FREEZE_EVERY_S; True when it froze now.

    app.py calls this after each page run. Python's collector walks every tracked object on a full
    collection, and with torch, pandas and altair loaded that is most of the heap; objects moved into the
    permanent generation (`gc.freeze`) are skipped, so a collection walks only what was made since (the
    cost with and without: benchmarks/RESULTS.md, load test). Objects frozen while a session was open are
    not collected when that session ends, so the freeze is renewed: unfreeze, one full collection frees
    what died since, then freeze again. Leftovers of closed sessions live at most one period longer.
    """
    now = time.monotonic() if now is None else now
    with _freeze_lock:
        if _frozen_at and now - _frozen_at[-1] < FREEZE_EVERY_S:
            return False
        _frozen_at[:] = [now]
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return True
