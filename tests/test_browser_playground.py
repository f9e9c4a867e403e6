"""The 2-D playground animates in Chromium: while a toy GAN trains, its canvas changes at least 10 times a
second, only forward, and the page sends the server no more than the live fragment's one rerun a second."""
from __future__ import annotations

import itertools
import re
import time

import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception, screenshot
from tools.harness.browser_helpers import sample_canvas, wait_app_idle, wait_canvas_draws

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CANVAS = ".pg-field"


def start_training(page, url: str, preset: str = "ring8-nonsaturating") -> None:
    """Open the playground with a preset and press Start; returns once the canvas plays frames."""
    page.goto(f"{url}/playground?preset={preset}")
    page.get_by_role("button", name="Start", exact=True).wait_for()
    assert_no_exception(page, "playground before start")
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text(re.compile(r"^running · device")).wait_for(timeout=60_000)
    page.get_by_test_id("pg-field").wait_for(timeout=30_000)  # in the element's shadow root: locators pierce it
    wait_canvas_draws(page, CANVAS, 30)


def test_playground_canvas_changes_ten_times_a_second_while_training(app_server, new_page):
    page = new_page()
    sent: list[float] = []  # when the page sent a websocket frame (a rerun, a widget change)
    page.on("websocket", lambda ws: ws.on("framesent", lambda _payload: sent.append(time.monotonic())))
    start_training(page, app_server.url)
    t0 = time.monotonic()
    result = sample_canvas(page, CANVAS, 2.0)  # pixels every ~20 ms for 2 s
    sent_now = [t for t in sent if t >= t0]
    print(f"canvas: {result}; websocket frames sent: {len(sent_now)}")
    rate = result["changes"] / result["seconds"]
    assert rate >= 10, f"the canvas changed {result['changes']} times in {result['seconds']:.2f} s: {result}"
    assert result["last_step"] > result["first_step"] and result["backwards"] == 0, f"only forward: {result}"
    assert len(sent_now) <= result["seconds"] + 2, f"the fragment's ~1 rerun a second only: {len(sent_now)}"
    caption = page.get_by_test_id("pg-caption").inner_text()
    assert caption.startswith("running · step "), caption
    assert_no_exception(page, "playground while training")
    screenshot(page, "playground-live")

    page.get_by_test_id("stRadio").get_by_text("Slow motion", exact=True).click()  # 5 steps a second
    page.get_by_text(re.compile(r"^slow motion")).first.wait_for(timeout=30_000)
    time.sleep(2.5)  # the queued frames of full speed play out
    slow = sample_canvas(page, CANVAS, 3.0)
    print(f"slow motion: {slow}")
    values = slow["step_values"]
    assert len(values) >= 6 and slow["backwards"] == 0, f"slow motion plays on: {slow}"
    assert all(b - a == 1 for a, b in itertools.pairwise(values[1:])), f"one frame per step in slow motion: {values}"
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"^stopped · device")).wait_for(timeout=30_000)
    wait_app_idle(page)
    assert page.get_by_test_id("pg-field").count() == 0, "ended: the static plot replaces the canvas"
    assert page.get_by_test_id("stImage").count() >= 1
    assert_no_exception(page, "playground after stop")
