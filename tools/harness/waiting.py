"""Waiting helpers shared by tests and benchmarks: poll a predicate, run a coroutine in its own thread."""
from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll predicate until it is true (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def run_async(coro: Coroutine[Any, Any, T], timeout: float = 90.0) -> T:
    """Run a coroutine to the end in a fresh thread and event loop.

    Sync Playwright (the browser tests) leaves an event loop running in the main thread, where
    `asyncio.run` then refuses to start; a thread of its own always can."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()
