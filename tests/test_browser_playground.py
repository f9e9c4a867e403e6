"""The 2-D playground trains in Chromium (TensorFlow.js in a Web Worker) and draws every frame from it: the canvas
changes at least 30 times a second with nothing sent to the server; a new lr shows in the next frame; Step D
moves only D's heat map and Step G only the points; drawn points become the real data; Save puts the browser's
G on Explore (the same numbers in Python to 1e-4); the collapse preset collapses; and with TensorFlow.js
blocked the page says so and offers the server, with the same set-up."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
import torch

from app_pages.playground import browser_element as be
from gan_core.io.checkpoint import load_checkpoint
from gan_core.teach.toy_viz import generator_manifold
from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception, screenshot
from tools.harness.browser_helpers import sample_canvas, wait_app_idle, wait_canvas_draws

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CANVAS = ".pg-field"
# JS: a property of the playground's canvas (inside the element's shadow root): its dataset, or the frame on screen
CANVAS_JS = """([what]) => {
  const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.pg-field'));
  const c = host.shadowRoot.querySelector('.pg-field');
  if (what === 'dataset') return {...c.dataset};
  const f = c.pgFrame;
  return f ? {step: f.step, running: f.running, manifold: Array.from(f.manifold), fake: Array.from(f.fake)} : null;
}"""


def canvas_state(page) -> dict:
    return page.evaluate(CANVAS_JS, ["dataset"])


def wait_state(page, test: str, timeout: float = 30_000) -> dict:
    """Wait until the canvas's dataset `c` satisfies the JS expression `test`; returns the dataset."""
    page.wait_for_function(f"""() => {{
      const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
        .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.pg-field'));
      const c = host && host.shadowRoot.querySelector('.pg-field');
      return !!c && ({test.replace('c.', 'c.dataset.')});
    }}""", timeout=timeout)
    return canvas_state(page)


def open_playground(page, url: str, query: str = "") -> None:
    page.goto(f"{url}/playground{query}")
    page.get_by_text(re.compile(r"^Training in your browser \(TensorFlow\.js, \w+\)$")).wait_for(timeout=90_000)
    assert_no_exception(page, "playground")


def set_number(page, test_id: str, value: str) -> None:
    box = page.get_by_test_id(test_id)
    box.fill(value)
    box.press("Enter")
    box.dispatch_event("change")


def test_trains_in_the_browser_and_controls_act_on_the_next_frame(app_server, new_page):
    page = new_page()
    sent: list[float] = []  # when the page sent the server a websocket frame
    page.on("websocket", lambda ws: ws.on("framesent", lambda _payload: sent.append(time.monotonic())))
    open_playground(page, app_server.url)  # ring8 at the browser's default size
    page.get_by_test_id("pg-run").click()
    wait_canvas_draws(page, CANVAS, 30)
    t0 = time.monotonic()
    result = sample_canvas(page, CANVAS, 2.0, every_ms=10)
    sent_now = [t for t in sent if t >= t0]
    print(f"canvas: {result}; websocket frames sent: {len(sent_now)}")
    assert result["changes"] / result["seconds"] >= 30, f"the canvas changed too rarely: {result}"
    assert result["last_step"] > result["first_step"] and result["backwards"] == 0, result
    assert sent_now == [], f"nothing goes to the server while training: {len(sent_now)} frames"
    status = page.get_by_test_id("pg-status").inner_text()
    assert re.match(r"^step \d+ · modes covered \d/8 · running", status), status
    screenshot(page, "playground")

    ctl = canvas_state(page)["ctl"]
    set_number(page, "pg-lr-g", "0.003")
    page.get_by_test_id("pg-status").filter(has_text="lr G 3e-3").wait_for(timeout=5_000)
    after = wait_state(page, f"c.ctl !== '{ctl}'", timeout=5_000)
    # the first frame asked for after the change shows it; while training, the element keeps FRAMES_IN_FLIGHT (2)
    # requests out, so up to two frames asked for before the change can still be drawn first: at most the third
    assert int(after["ctlFrames"]) <= 3, f"the new lr shows in the first frame asked for after it: {after}"
    print(f"lr change to frame: {after['ctlMs']} ms, {after['ctlFrames']} frame(s)")

    page.get_by_test_id("pg-run").click()  # Pause
    paused = wait_state(page, "c.running === '0'")
    time.sleep(0.3)
    paused = canvas_state(page)
    page.get_by_role("button", name="Step D", exact=True).click()
    stepped = wait_state(page, f"c.surfaceSum !== '{paused['surfaceSum']}'", timeout=10_000)
    assert stepped["fakeSum"] == paused["fakeSum"], "Step D moves D's heat map only, not G's points"
    page.get_by_role("button", name="Step G", exact=True).click()
    moved = wait_state(page, f"c.fakeSum !== '{stepped['fakeSum']}'", timeout=10_000)
    assert moved["surfaceSum"] == stepped["surfaceSum"], "Step G moves the points only, not D's heat map"
    assert_no_exception(page, "playground after stepping")


def test_drawn_points_become_the_data_and_save_puts_gs_numbers_on_explore(app_server, new_page):
    page = new_page()
    open_playground(page, app_server.url, "?data=drawn&lr_g=0.003&lr_d=0.003")
    canvas = page.get_by_test_id("pg-field")
    box = canvas.bounding_box()
    extent = be.spec()["drawn"]["extent"]
    target = np.array([0.5 * extent, 0.5 * extent])  # a cluster in the upper right, far from G's start at 0
    for dx, dy in [(0, 0), (8, 0), (0, 8), (-8, 0), (0, -8), (8, 8)]:
        x = box["x"] + box["width"] * (target[0] + extent) / (2 * extent) + dx
        y = box["y"] + box["height"] * (extent - target[1]) / (2 * extent) + dy
        page.mouse.click(x, y)
    page.get_by_test_id("pg-draw-count").filter(has_text="6 points").wait_for()
    page.get_by_test_id("pg-run").click()
    page.wait_for_function(f"""() => {{
      const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
        .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.pg-field'));
      const m = host.shadowRoot.querySelector('.pg-field').dataset.fakeMean;
      if (!m) return false;
      const [x, y] = m.split(',').map(Number);
      return Math.hypot(x - {target[0]}, y - {target[1]}) < {0.15 * extent};
    }}""", timeout=60_000)  # G's points gather where the student drew
    page.get_by_test_id("pg-run").click()  # Pause: the weights hold still
    wait_state(page, "c.running === '0'")
    time.sleep(0.3)
    frame = page.evaluate(CANVAS_JS, ["frame"])
    page.locator(".pg-save-name").fill("drawn")
    page.get_by_test_id("pg-save").click()
    page.get_by_test_id("pg-save-text").filter(has_text="Saved as").wait_for(timeout=30_000)
    link = page.get_by_role("link", name=re.compile("Open session: playground-drawn on Explore"))
    link.wait_for()
    saved = list(app_server.runs_dir.glob("*/playground-drawn.safetensors"))
    assert len(saved) == 1, "the checkpoint is in the session's folder"
    gan = load_checkpoint(saved[0])
    ours = generator_manifold(gan.generator, gan.z_dim, be.spec()["frame"]["manifold"],
                              extent=be.spec()["frame"]["manifold_extent"]).reshape(-1)
    assert np.abs(ours - np.array(frame["manifold"])).max() <= 1e-4, "Python's G is the browser's G"
    assert gan.meta["dataset"] == "drawn" and len(gan.meta["drawn_points"]) == 6
    link.click()
    page.get_by_text(re.compile(r"^this z gives the point")).first.wait_for(timeout=90_000)  # Explore draws its G
    assert "model=session%3A+playground-drawn" in page.url, page.url
    assert_no_exception(page, "Explore with the browser's model")
    assert torch.isfinite(gan.generator(torch.zeros(1, gan.z_dim))).all()


def test_collapse_preset_collapses_in_the_browser(app_server, new_page):
    page = new_page()
    open_playground(page, app_server.url, "?preset=ring8-minimax-collapse")
    page.get_by_test_id("pg-run").click()
    wait_state(page, "Number(c.step) >= 600", timeout=120_000)
    counts = []
    for _ in range(6):
        status = page.get_by_test_id("pg-status").inner_text()
        counts.append(int(re.search(r"modes covered (\d)/8", status).group(1)))
        time.sleep(0.5)
    assert max(counts) <= 2, f"the collapse preset stays on 2 modes or fewer: {counts}"
    warning = page.get_by_test_id("pg-warnings")
    warning.filter(has_text="Mode collapse").wait_for(timeout=10_000)
    top = warning.bounding_box()["y"]
    field_top = page.get_by_test_id("pg-field").bounding_box()["y"]
    time.sleep(1.5)
    assert page.get_by_test_id("pg-field").bounding_box()["y"] == field_top, "a warning never moves the picture"
    assert warning.bounding_box()["y"] == top


def test_library_blocked_says_so_and_offers_the_server(app_server, new_page):
    page = new_page()
    page.route(re.compile(r".*/static/vendor/tfjs[^/]*/.*"), lambda route: route.abort())
    page.goto(f"{app_server.url}/playground?preset=ring8-nonsaturating")
    failed = page.get_by_test_id("pg-failed")
    failed.wait_for(timeout=90_000)
    assert "TensorFlow.js could not start in your browser" in failed.inner_text()
    page.get_by_role("button", name="Train on the server instead").click()
    page.get_by_text("Training on the server.").wait_for(timeout=30_000)
    wait_app_idle(page)
    # the server's form holds the same set-up (its job, frames and charts: tests/test_playground.py)
    page.get_by_role("button", name="Start", exact=True).wait_for()
    page.get_by_text("Set-up").click()
    assert page.get_by_label("lr G", exact=True).first.input_value() == "1.0e-3", "the preset's lr G"
    assert_no_exception(page, "playground on the server")
