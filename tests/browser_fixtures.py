"""Fixtures for tests that drive the app in a real Chromium (Debian's package, not a Playwright download).

Import them into a test module (`from tests.browser_fixtures import *`) or list the module in
`pytest_plugins`. One Streamlit server per test module; it is always shut down. Under CI=true a
missing chromium fails the test instead of skipping it (require() from conftest).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tools.harness.browser_helpers import exception_text
from tools.harness.streamlit_server import CHROMIUM_ARGS, AppServer, find_chromium, running_server

__all__ = ["chromium_path", "browser_type_launch_args", "app_server", "chromium", "new_page", "screenshot",
           "assert_no_exception", "ARTIFACTS", "SCREENSHOTS"]

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
SCREENSHOTS = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    require(path is not None, "Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(chromium_path: str) -> dict:
    """For pytest-playwright's own `browser`/`page` fixtures: launch Debian chromium, never a download."""
    return {"executable_path": chromium_path, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="module")
def app_server() -> Iterator[AppServer]:
    """`streamlit run app.py` on a free port with its own runs folder (`server.runs_dir`), for this test module."""
    runs = tempfile.mkdtemp(prefix="gan-browser-runs-")
    try:
        with running_server("app.py", env={"GAN_APP_RUNS_DIR": runs}, timeout=90) as server:
            server.runs_dir = Path(runs)  # the sessions' folders: tests read what a page saved
            yield server
    finally:
        shutil.rmtree(runs, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium(playwright, chromium_path: str):
    """One headless Chromium for the module (uses pytest-playwright's `playwright` instance)."""
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def new_page(chromium):
    """Factory: a page in a fresh browser context (a fresh Streamlit session); all closed after the test."""
    contexts = []

    def make():
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to tests/artifacts/NAME.png; with UPDATE_SCREENSHOTS=1 also to docs/screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")
    return path


def assert_no_exception(page, where: str) -> None:
    text = exception_text(page)
    if text is not None:
        raise AssertionError(f"Streamlit exception on {where}: {text}")
