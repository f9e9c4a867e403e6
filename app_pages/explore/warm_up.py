"""Explore's slow first steps, done once when the server starts instead of while the first visitor waits.

Streamlit runs no code before a browser connects, so app.py calls `warm_up_once()` on its first run: a
daemon thread then loads the default shipped model, finds its GANSpace directions and makes its browser
file, then makes the other shipped image models' browser files (an export only when none is remembered
on disk). Each goes through the same caches the page uses, whose per-key locks make a page that asks for
the same thing wait for it rather than compute it twice. Failures are logged; the page then tries again
and says what went wrong.
"""
from __future__ import annotations

import logging
import os
import threading

logger = logging.getLogger(__name__)

WARM_UP_NICE = 10  # after the default model: the other models' files yield the CPU to visitors
_lock = threading.Lock()
_thread: threading.Thread | None = None


def warm_up_once() -> threading.Thread:
    """Start the warm-up thread the first time this is called in the process; returns it."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="explore-warm-up", daemon=True)
            _thread.start()
        return _thread


def _warm_up() -> None:
    from app_pages.explore.browser_model import browser_model
    from app_pages.explore.cache import directions_for
    from app_pages.explore.widgets import default_model
    from app_shared.models import PRETRAINED_DIR, load_model
    from gan_core import list_pretrained

    shipped = {name: PRETRAINED_DIR / f"{name}.safetensors" for name in list_pretrained()}
    if not shipped:
        return
    first = default_model(shipped)
    for name in [first, *(n for n in shipped if n != first)]:
        try:
            gan = load_model(shipped[name])
            if name == first:
                directions_for(gan)
            elif gan.kind != "image":
                continue  # a toy model's file is a few KB: made when it is opened
            browser_model(gan)
        except Exception:  # the page retries and shows the error; here it is only logged
            logger.warning("warm-up of %s failed", name, exc_info=True)
        if name == first and hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARM_UP_NICE)  # this thread only
            except OSError as exc:
                logger.info("warm-up thread keeps its priority: %s", exc)
    logger.info("Explore warm-up done: %s", ", ".join(shipped))
