"""Explore's first image in a real Chromium: the server's picture of the state shows before ONNX Runtime Web
has loaded, the live canvas then takes over in place with the same pixels (within 2 of 255), and with the
runtime blocked the picture stays while a plain message says the live explorer could not load.

The runtime's and the model files' requests are held (Playwright routes) until the test lets them through,
so "before the runtime" is certain rather than a race. The colour case uploads a small untrained RGB
conditional DCGAN (the one checkpoint format, through Explore's own upload) and compares the browser's
canvas, still and live, with the server's image for the same state.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
import torch

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception
from tools.harness.browser_helpers import fetch_image, wait_image

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

RUNTIME = re.compile(r".*/vendor/onnxruntime-web-.*")
MODEL_FILES = re.compile(r".*/app/static/models/.*\.onnx$")
SAMPLE = "[data-testid=gx-sample]"
IN_ROOT = """(selector) => {
  const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
  return host && host.shadowRoot ? host.shadowRoot.querySelector(selector) : null;
}"""
STILL_JS = f"([n]) => {{ const c = ({IN_ROOT})('.gx-sample'); return !!c && Number(c.dataset.still || 0) > n; }}"
FRAME_JS = f"([n]) => {{ const c = ({IN_ROOT})('.gx-sample'); return !!c && Number(c.dataset.frame) > n; }}"
PIXELS_JS = "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
# the element's status says the live explorer could not load while its canvas still holds a picture
FAILED_WITH_PICTURE_JS = f"""() => {{
  const status = ({IN_ROOT})('.gx-status'), c = ({IN_ROOT})('.gx-sample');
  if (!status || !c || !status.textContent.includes('could not load')) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0]) return true;
  return false;
}}"""


class Gate:
    """Holds the page's requests matching `pattern` until opened; once blocked, aborts them."""

    def __init__(self, page, pattern: re.Pattern) -> None:
        self.page, self.held, self.state, self.seen = page, [], "hold", 0
        page.route(pattern, self._handle)

    def _handle(self, route) -> None:
        self.seen += 1
        if self.state == "open":
            route.continue_()
        elif self.state == "blocked":
            route.abort()
        else:
            self.held.append(route)

    def wait_held(self, timeout: float = 30.0) -> None:
        """Until the page has asked for at least one matching file (and been kept waiting)."""
        deadline = time.monotonic() + timeout
        while not self.held:
            assert time.monotonic() < deadline, "the page never asked for the held files"
            self.page.wait_for_timeout(50)  # lets Playwright deliver the route events

    def open(self) -> None:
        self.state = "open"
        for route in self.held:
            route.continue_()
        self.held.clear()

    def block(self) -> None:
        self.state = "blocked"
        for route in self.held:
            route.abort()
        self.held.clear()


def canvas_pixels(page) -> np.ndarray:
    """The sample canvas's pixels as uint8 H x W x 4."""
    canvas = page.locator(SAMPLE)
    h, w = canvas.evaluate("c => [c.height, c.width]")
    return np.array(canvas.evaluate(PIXELS_JS), dtype=np.uint8).reshape(h, w, 4)


def as_picture(pixels: np.ndarray, channels: int) -> np.ndarray:
    """RGBA canvas pixels in the server's layout: H x W (grey) or H x W x 3."""
    return pixels[..., 0] if channels == 1 else pixels[..., :3]


def frame(page) -> int:
    return int(page.locator(SAMPLE).get_attribute("data-frame"))


def still_count(page) -> int:
    return int(page.locator(SAMPLE).get_attribute("data-still") or 0)


def server_picture(gan, seed: int, cls: int) -> np.ndarray:
    """The server's image for a plain seed / class state, by the Explore page's own functions (compute.py)."""
    from app_pages.explore import compute as ec
    z = ec.effective_latent(ec.current_latent(gan, seed, {}), 1.0)
    return ec.image_array(ec.generate_one(gan, z, cls if gan.num_classes else None))


def max_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape, (a.shape, b.shape)
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def shipped(name: str):
    from gan_core import PRETRAINED_DIR, load_checkpoint
    return load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors", "cpu")


def test_a_cold_tab_shows_the_servers_image_before_the_runtime_then_the_canvas_takes_over_in_place(
        app_server, new_page):
    page = new_page()  # a fresh profile: nothing cached, no IndexedDB
    runtime = Gate(page, RUNTIME)
    page.goto(f"{app_server.url}/?model=mnist-cgan&seed=3&class=5")
    page.wait_for_function(STILL_JS, arg=[0], timeout=120_000, polling="raf")
    expected = server_picture(shipped("mnist-cgan"), 3, 5)
    still = canvas_pixels(page)
    assert frame(page) == 0, "the live generator cannot have drawn: its runtime is held"
    assert max_diff(as_picture(still, 1), expected) == 0, "the first image is the server's picture, pixel for pixel"
    assert still[..., 0].std() > 20, "a digit, not a blank canvas"
    box = page.locator(SAMPLE).bounding_box()
    assert page.get_by_test_id("gx-status").inner_text() == "", "no note above the image (it would move it)"

    runtime.wait_held()  # the runtime is asked for only after the first image was painted
    assert frame(page) == 0 and max_diff(canvas_pixels(page), still) == 0, "the image stays while it loads"
    assert "Loading the live explorer" in page.get_by_test_id("gx-timing").inner_text()

    runtime.open()
    page.wait_for_function(FRAME_JS, arg=[0], timeout=120_000)
    live = canvas_pixels(page)
    assert live.shape == still.shape and page.locator(SAMPLE).bounding_box() == box, "same size, same place"
    assert max_diff(live, still) <= 2, "the live frame replaces the still without a visible change"
    assert_no_exception(page, "Explore after the hand-over")


def test_with_the_runtime_blocked_the_first_image_stays_and_a_plain_message_says_why(app_server, new_page):
    page = new_page()
    runtime = Gate(page, RUNTIME)
    page.goto(f"{app_server.url}/?model=mnist-cgan&seed=8&class=2")
    page.wait_for_function(STILL_JS, arg=[0], timeout=120_000, polling="raf")
    expected = server_picture(shipped("mnist-cgan"), 8, 2)
    assert max_diff(as_picture(canvas_pixels(page), 1), expected) == 0
    runtime.wait_held()
    runtime.block()  # as if the runtime's files could not be fetched
    page.wait_for_function(FAILED_WITH_PICTURE_JS, timeout=60_000, polling="raf")
    # then the page draws on the server, the same picture (shown 8x with crisp pixels)
    page.get_by_text(re.compile("could not run the generator")).wait_for(timeout=60_000)
    served = fetch_image(page, wait_image(page, "sample*", timeout=60_000))
    scale = served.shape[0] // expected.shape[0]
    assert max_diff(served[::scale, ::scale], expected) == 0
    assert_no_exception(page, "Explore with the runtime blocked")


def rgb_checkpoint(folder) -> tuple[object, list[str]]:
    """A small untrained colour conditional DCGAN (3 x 32 x 32, 9 classes) in the one checkpoint format."""
    from gan_core.io.checkpoint import load_checkpoint, save_checkpoint
    from gan_core.nn.models import build_models
    torch.manual_seed(28)
    g, d = build_models("cgan-dcgan", 64, (3, 32, 32), 9)
    meta = {"model": "cgan-dcgan", "z_dim": 64, "image_shape": [3, 32, 32], "num_classes": 9, "dataset": "emoji",
            "name": "tiny-rgb", "class_names": [f"group {i}" for i in range(9)]}
    weights = save_checkpoint(folder / "tiny-rgb", g.eval(), meta, d.eval())
    return load_checkpoint(weights, "cpu"), [str(weights), str(weights.with_suffix(".json"))]


def test_a_colour_model_shows_the_servers_image_then_an_equal_live_canvas(app_server, new_page, tmp_path):
    gan, files = rgb_checkpoint(tmp_path)
    page = new_page()
    page.goto(f"{app_server.url}/?model=mnist-cgan&seed=6")
    page.wait_for_function(FRAME_JS, arg=[0], timeout=120_000)
    models = Gate(page, MODEL_FILES)  # the colour model's file waits: its still must show first
    before, stills = frame(page), still_count(page)
    page.get_by_text("Upload a model (.safetensors + .json)").click()
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Checkpoint files")
    uploader.locator('input[type="file"]').set_input_files(files)
    page.wait_for_function(STILL_JS, arg=[stills], timeout=120_000, polling="raf")
    seed = int(page.locator(".gx-seed").input_value())
    cls = int(page.locator(".gx-class").input_value())
    expected = server_picture(gan, seed, cls)
    still = canvas_pixels(page)
    assert still.shape == (32, 32, 4) and frame(page) == before, "the new model's still, before its file loaded"
    assert max_diff(as_picture(still, 3), expected) == 0
    assert np.abs(expected[..., 0].astype(int) - expected[..., 1].astype(int)).max() > 0, "a colour picture"

    models.wait_held()
    models.open()
    page.wait_for_function(FRAME_JS, arg=[before], timeout=120_000)
    live = canvas_pixels(page)
    assert max_diff(as_picture(live, 3), expected) <= 2, "the in-browser canvas matches the server's RGB image"
    assert_no_exception(page, "Explore with a colour model")


def test_the_warm_up_prepares_the_default_model_first_then_the_other_image_files_once(monkeypatch):
    """What app.py starts on its first run (no browser needed): the default model's directions and browser
    file first, then every other shipped image model's file; a second call starts nothing."""
    from app_pages.explore import browser_model, cache, warm_up
    from app_pages.explore.widgets import DEFAULT_MODEL
    from gan_core import list_pretrained
    done = []
    monkeypatch.setattr(cache, "directions_for", lambda gan: done.append(("directions", gan.name)))
    monkeypatch.setattr(browser_model, "browser_model", lambda gan: done.append(("file", gan.name)))
    monkeypatch.setattr(warm_up, "_thread", None)
    thread = warm_up.warm_up_once()
    assert warm_up.warm_up_once() is thread, "one warm-up per process"
    thread.join(120)
    assert not thread.is_alive() and thread.daemon
    assert done[:2] == [("directions", DEFAULT_MODEL), ("file", DEFAULT_MODEL)]
    images = {name for name in list_pretrained() if shipped(name).kind == "image"}
    assert {name for kind, name in done if kind == "file"} == images, "every shipped image model, no toy"
    assert len(done) == len(images) + 1
