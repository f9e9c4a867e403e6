"""Explore's in-browser view in a real Chromium (one server for the module): the generator runs in the page.

What a visitor would see: a drag on a z slider redraws the canvas continuously and sends nothing to the
server until it is released; the link written after the release reopens the same pixels; the canvas
matches the server's image for every shipped model; with ONNX Runtime Web blocked, or with
?render=server, the page draws on the server (with a one-line notice when it fell back).
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception, screenshot
from tools.harness.browser_helpers import wait_image

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CANVAS_JS = """(selector) => {
  const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
  return host && host.shadowRoot ? host.shadowRoot.querySelector(selector) : null;
}"""
FRAME_JS = f"([n]) => {{ const c = ({CANVAS_JS})('.gx-sample'); return !!c && Number(c.dataset.frame) > n; }}"
PIXELS_JS = "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"


def open_explorer(new_page, app_server, query: str = "", on_page=None):
    """A fresh session on Explore with the in-browser view drawn once; on_page(page) runs before loading."""
    page = new_page()
    if on_page:
        on_page(page)
    page.goto(f"{app_server.url}/{query}")
    page.wait_for_function(FRAME_JS, arg=[0], timeout=180_000)
    return page


def frame(page) -> int:
    return int(page.locator("[data-testid=gx-sample]").get_attribute("data-frame"))


def wait_frame_after(page, n: int, timeout: float = 20_000) -> int:
    page.wait_for_function(FRAME_JS, arg=[n], timeout=timeout)
    return frame(page)


def canvas_pixels(page, testid: str = "gx-sample") -> np.ndarray:
    """The canvas's pixels as uint8 H x W x 4."""
    canvas = page.locator(f"[data-testid={testid}]")
    size = canvas.evaluate("c => [c.height, c.width]")
    return np.array(canvas.evaluate(PIXELS_JS), dtype=np.uint8).reshape(size[0], size[1], 4)


def count_frames_sent(page) -> list[int]:
    """A one-item list counting websocket frames the page sends (register before page.goto)."""
    sent = [0]

    def watch(ws):
        ws.on("framesent", lambda _payload: sent.__setitem__(0, sent[0] + 1))

    page.on("websocket", watch)
    return sent


def thumb_box(page, name: str) -> tuple[float, float, float, float]:
    """(left x, right x, centre y, thumb x) of a range slider, from its bounding box and value."""
    slider = page.get_by_role("slider", name=name, exact=True)
    box = slider.bounding_box()
    lo, hi, v = (float(slider.evaluate(f"s => s.{a}")) for a in ("min", "max", "value"))
    thumb = 8  # Chromium's range thumb is about 16 px wide: its centre travels width - 16
    x = box["x"] + thumb + (v - lo) / (hi - lo) * (box["width"] - 2 * thumb)
    return box["x"] + thumb, box["x"] + box["width"] - thumb, box["y"] + box["height"] / 2, x


def test_drag_redraws_continuously_sends_nothing_and_the_link_reproduces_it(app_server, new_page):
    page = new_page()
    sent = count_frames_sent(page)
    page.goto(f"{app_server.url}/?model=mnist-cgan&seed=3&class=5")
    page.wait_for_function(FRAME_JS, arg=[0], timeout=180_000)
    page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)  # D(x): the server followed the first state
    time.sleep(1.0)
    assert_no_exception(page, "Explore (in the browser)")
    left, right, y, x = thumb_box(page, "z[0]")

    page.mouse.move(x, y)
    page.mouse.down()
    before, seen = sent[0], set()
    n = frame(page)
    for i in range(1, 25):
        page.mouse.move(x + (right - x) * i / 24, y)
        n = wait_frame_after(page, n, timeout=5_000)
        seen.add(canvas_pixels(page).tobytes())
    page.wait_for_timeout(300)  # still held; Playwright reports frames while it is called, so count them now
    during = sent[0] - before
    drag_end = canvas_pixels(page)
    page.mouse.up()
    assert len(seen) >= 5, f"the canvas showed only {len(seen)} different images during the drag"
    assert during == 0, f"{during} websocket frames were sent while dragging"

    page.wait_for_function("() => location.search.includes('z=0')", timeout=20_000)  # the state reached Python
    assert sent[0] > before, "nothing was sent to the server after the release"
    released = canvas_pixels(page)
    assert np.array_equal(released, drag_end)
    time.sleep(1.0)
    assert_no_exception(page, "Explore after a drag")
    page.set_viewport_size({"width": 1400, "height": 2000})  # Streamlit scrolls inside the page: show it all
    page.wait_for_timeout(800)
    screenshot(page, "explore-browser")

    url = page.url
    other = open_explorer(new_page, app_server, url.split("/", 3)[3])
    assert np.array_equal(canvas_pixels(other), released), f"{url} reopened a different image"


def test_keyboard_steps_are_visible_and_psi_zero_disables_z(app_server, new_page):
    page = open_explorer(new_page, app_server, "?model=mnist-dcgan&seed=11")
    slider = page.get_by_role("slider", name="z[1]", exact=True)
    value = lambda: float(slider.evaluate("s => s.value"))  # noqa: E731
    start = value()
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert value() == pytest.approx(start + 8 / 50, abs=0.006), "an arrow key moves 1/50 of the range"
    page.keyboard.press("PageUp")
    assert value() == pytest.approx(start + 0.16 + 0.8, abs=0.011), "Page Up moves 1/10 of the range"

    psi = page.get_by_role("slider", name="Truncation ψ", exact=True)
    psi.focus()
    page.keyboard.press("Home")
    hint = page.get_by_text("At ψ = 0 every z gives the mean image")
    hint.wait_for(timeout=5_000)
    assert slider.is_disabled(), "at ψ = 0 the z sliders are off"
    page.keyboard.press("ArrowRight")
    assert not slider.is_disabled() and not hint.is_visible()


def test_strip_follows_class_and_z_and_the_animation_plays(app_server, new_page):
    page = open_explorer(new_page, app_server, "?model=mnist-cgan&seed=4&class=0")
    label = page.get_by_test_id("gx-interp-label")
    page.wait_for_function(f"() => ({CANVAS_JS})('.gx-interp-label').textContent.includes('class 0')")
    strip0 = canvas_pixels(page, "gx-strip")
    page.locator(".gx-class").select_option("3")
    page.wait_for_function(f"() => ({CANVAS_JS})('.gx-interp-label').textContent.includes('class 3')")
    strip3 = canvas_pixels(page, "gx-strip")
    assert not np.array_equal(strip0, strip3), "the strip did not follow the class"
    assert "seed 5" in label.inner_text()

    slider = page.get_by_role("slider", name="z[2]", exact=True)
    slider.focus()
    page.keyboard.press("PageUp")
    page.wait_for_function(f"() => ({CANVAS_JS})('.gx-interp-label').textContent.includes('1 z edit')")
    assert not np.array_equal(canvas_pixels(page, "gx-strip"), strip3), "the strip did not follow z"

    page.locator(".gx-mode").select_option("classes")
    page.wait_for_function(f"() => ({CANVAS_JS})('.gx-interp-label').textContent.startsWith('Class 3')")
    frames = set()
    for _ in range(12):
        frames.add(canvas_pixels(page, "gx-anim").tobytes())
        time.sleep(0.1)
    assert len(frames) >= 4, "the animation does not play"
    page.get_by_test_id("gx-play").click()
    time.sleep(0.3)
    still = canvas_pixels(page, "gx-anim")
    time.sleep(0.5)
    assert np.array_equal(still, canvas_pixels(page, "gx-anim")), "Pause did not stop the animation"


def server_image(gan, seed: int, cls: int, trunc: float, over: dict, dirs: dict) -> np.ndarray:
    """The server's picture for a state: the Explore page's own functions (compute.py) on the same model."""
    from app_pages.explore import compute as ec
    from app_pages.explore.state import N_DIRECTIONS
    from gan_core.explore.directions import find_directions
    directions = find_directions(gan, k=N_DIRECTIONS)
    z = ec.effective_latent(ec.current_latent(gan, seed, over), trunc, directions, dirs)
    x = ec.generate_one(gan, z, cls if gan.num_classes else None)
    return x.numpy()[0] if gan.kind == "points" else ec.image_array(x)


CASES = [(0, 0, 1.0, {}, {}), (1, 3, 1.0, {}, {}), (2, 7, 0.8, {0: 1.25, 5: -0.5}, {0: 1.5, 2: -2.0})]


def test_canvas_matches_the_server_for_every_shipped_model(app_server, new_page):
    from gan_core import PRETRAINED_DIR, list_pretrained, load_checkpoint
    page, compared = new_page(), 0  # one tab: the runtime and the models stay in its cache between loads
    for name in list_pretrained():
        gan = load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors", "cpu")
        for seed, cls, trunc, over, dirs in CASES:
            over = {d: v for d, v in over.items() if d < gan.z_dim}  # a toy's z has 2 entries
            dirs = {k: v for k, v in dirs.items() if k < gan.z_dim}
            query = (f"?model={name}&seed={seed}&class={cls}&trunc={trunc}"
                     + ("&z=" + ",".join(f"{d}:{v}" for d, v in over.items()) if over else "")
                     + ("&dir=" + ",".join(f"{k}:{v}" for k, v in dirs.items()) if dirs else ""))
            page.goto(f"{app_server.url}/{query}")
            page.wait_for_function(FRAME_JS, arg=[0], timeout=180_000)
            expected = server_image(gan, seed, cls, trunc, over, dirs)
            if expected.ndim == 1:  # a toy model: the caption names the point
                text = page.get_by_test_id("gx-caption").inner_text()
                got = np.array([float(v) for v in re.findall(r"-?\d+\.\d+", text)])
                assert np.abs(got - expected).max() <= 0.0051, f"{name} {query}: {text} vs {expected}"
                continue
            drawn = canvas_pixels(page)[..., :3] if expected.ndim == 3 else canvas_pixels(page)[..., 0]  # RGB: emoji
            assert drawn.shape == expected.shape, f"{name} {query}: canvas {drawn.shape}, server {expected.shape}"
            diff = int(np.abs(drawn.astype(int) - expected.astype(int)).max())
            assert diff <= 2, f"{name} {query}: canvas differs from the server's image by {diff} of 255"
            compared += 1
    assert compared >= 4 * len(CASES), "every shipped image model (emoji-cgan's colour too) was compared"


def test_blocked_runtime_falls_back_to_the_server_with_a_notice(app_server, new_page):
    page = new_page()
    page.route(re.compile(r".*/vendor/onnxruntime-web-.*"), lambda route: route.abort())
    page.goto(f"{app_server.url}/")
    page.get_by_text(re.compile("could not run the generator")).wait_for(timeout=180_000)
    src = wait_image(page, "sample*", timeout=60_000)
    assert src, "the server path shows its sample"
    assert page.get_by_role("slider", name="z[0]").count() == 1, "the server's sliders are there"
    assert page.locator('[data-testid="stBidiComponentIsolated"]').count() == 0
    assert_no_exception(page, "Explore after falling back")


def test_render_server_link_uses_the_server_path(app_server, new_page):
    page = new_page()
    page.goto(f"{app_server.url}/?render=server&seed=9")
    wait_image(page, "sample*", timeout=120_000)
    assert page.locator('[data-testid="stBidiComponentIsolated"]').count() == 0
    assert page.get_by_text(re.compile("could not run")).count() == 0, "a forced server path gives no notice"
    page.wait_for_function("() => location.search.includes('render=server')", timeout=20_000)


def test_a_refused_seed_names_what_was_typed_until_the_student_moves_on(app_server, new_page):
    """Walk item (issue 26): "abc" as a seed showed `"" is not a seed` (a number box hands the page "") and the
    message stayed after the student moved on. The explorer's modules are served as JavaScript (module imports
    need it)."""
    page = open_explorer(new_page, app_server, "?model=mnist-cgan&seed=12")
    for module in ("main.js", "explorer.js", "seed.js", "../common/base64.js"):
        response = page.request.get(f"{app_server.url}/app/static/js/explore/{module}")
        assert response.ok and "javascript" in response.headers["content-type"], (module, response.headers)
    seed = page.locator(".gx-seed")
    message = page.get_by_test_id("gx-message")
    seed.fill("abc")
    seed.press("Enter")
    message.wait_for(state="visible", timeout=5_000)
    assert message.inner_text().startswith('"abc" is not a seed'), message.inner_text()
    assert "Still showing seed 12." in message.inner_text() and seed.input_value() == "12"
    n = frame(page)
    slider = page.get_by_role("slider", name="z[0]", exact=True)
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_frame_after(page, n)
    message.wait_for(state="hidden", timeout=5_000)
    seed.fill("1,234")
    seed.press("Enter")
    page.wait_for_function("() => location.search.includes('seed=1234')", timeout=20_000)
    assert not message.is_visible()
