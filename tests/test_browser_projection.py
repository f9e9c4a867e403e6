"""Draw -> latent in a real Chromium: a drawing made with the mouse on Explore becomes the current image.

What a student does: draws a 7 on the explorer's drawing canvas with the mouse, presses "Find it in the
GAN", and the sample canvas changes to the projection (closer to the drawing than the seed's image was);
the link then carries the found z. Moving a z slider after that changes the image but stays near the
projection: nearer to it than to the seed's own image.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import ARTIFACTS, assert_no_exception, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(360)]

HOST_JS = "[...document.querySelectorAll('[data-testid=\"stBidiComponentIsolated\"]')].find(h => h.shadowRoot)"
FRAME_JS = (f"([n]) => {{ const h = {HOST_JS}; const c = h && h.shadowRoot.querySelector('.gx-sample'); "
            "return !!c && Number(c.dataset.frame) > n; }")
PIXELS_JS = "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
SEVEN = [(0.25, 0.22), (0.5, 0.22), (0.75, 0.22), (0.66, 0.42), (0.56, 0.62), (0.47, 0.82)]  # canvas fractions


def pixels(page, testid: str) -> np.ndarray:
    """A canvas's pixels as grey levels (H x W, float)."""
    canvas = page.get_by_test_id(testid)
    h, w = canvas.evaluate("c => [c.height, c.width]")
    rgba = np.array(canvas.evaluate(PIXELS_JS), dtype=np.float64).reshape(h, w, 4)
    return rgba[..., :3].mean(axis=2)


def frame(page) -> int:
    return int(page.get_by_test_id("gx-sample").get_attribute("data-frame"))


def draw(page, points: list[tuple[float, float]]) -> None:
    """One mouse stroke through `points` (fractions of the drawing canvas), with moves in between."""
    canvas = page.get_by_test_id("gx-sketch")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(at, at[1:], strict=False):
        for t in np.linspace(0, 1, 8)[1:]:
            page.mouse.move(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
    page.mouse.up()


def pooled(drawing: np.ndarray, size: int) -> np.ndarray:
    """The drawing canvas at the model's size (mean of each block of canvas pixels)."""
    k = drawing.shape[0] // size
    return drawing[: k * size, : k * size].reshape(size, k, size, k).mean(axis=(1, 3))


def test_a_drawing_becomes_the_current_image_and_the_sliders_move_around_it(app_server, new_page):
    page = new_page()
    page.goto(f"{app_server.url}/?model=mnist-cgan&seed=3&class=0")
    page.wait_for_function(FRAME_JS, arg=[0], timeout=180_000)
    page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)  # the server followed the first state
    seed_image = pixels(page, "gx-sample")
    assert seed_image.shape == (28, 28)

    find = page.get_by_test_id("gx-draw-find")
    assert find.is_disabled(), "nothing drawn yet: nothing to find"
    draw(page, SEVEN)
    drawing = pixels(page, "gx-sketch")
    assert drawing.shape == (224, 224) and (drawing > 200).mean() > 0.02, "the mouse stroke is on the canvas"
    before = frame(page)
    find.click()
    result = page.get_by_test_id("gx-draw-result")
    page.wait_for_function(f"() => {HOST_JS}.shadowRoot.querySelector('.gx-draw-result').textContent"
                           ".startsWith('Found')", timeout=180_000)
    page.wait_for_function(FRAME_JS, arg=[before], timeout=30_000)
    page.wait_for_function("() => location.search.includes('base=')", timeout=30_000)
    assert "around your drawing" in page.get_by_test_id("gx-caption").inner_text()
    text = result.inner_text()
    assert "class 7" in text and "D(x)" in text and "nearest training image is" in text, text
    assert page.get_by_test_id("gx-draw-reply").inner_text() == "", "no error"
    projected = pixels(page, "gx-sample")
    target = pooled(drawing, 28)
    assert not np.array_equal(projected, seed_image), "the canvas changed to the projection"
    assert np.abs(projected - target).mean() < np.abs(seed_image - target).mean(), "nearer the drawing than before"
    assert page.locator(".gx-class").input_value() == "7", "the class found is selected"
    assert_no_exception(page, "Explore after a projection")
    seen = pixels(page, "gx-draw-target")  # beside the drawing: the drawing as the model sees it ...
    assert seen.shape == (28, 28) and np.abs(seen - target).mean() < np.abs(seed_image - target).mean()
    nearest = pixels(page, "gx-draw-nearest")  # ... and the nearest training image
    assert nearest.shape == (28, 28) and nearest.max() > 200 and nearest.min() < 50
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("gx-draw").screenshot(path=str(ARTIFACTS / "explore-drawing-result.png"))

    slider = page.get_by_role("slider", name="z[0]", exact=True)
    slider.focus()
    before = frame(page)
    page.keyboard.press("PageUp")
    page.wait_for_function(FRAME_JS, arg=[before], timeout=20_000)
    moved = pixels(page, "gx-sample")
    assert not np.array_equal(moved, projected), "the z slider moves the image"
    assert np.abs(moved - projected).mean() < np.abs(moved - seed_image).mean(), "and it stays near the drawing"
    page.wait_for_function("() => location.search.includes('z=0')", timeout=20_000)  # the move reached Python
    assert "base=" in page.url, "the drawing's z stays the base under the edit"

    page.set_viewport_size({"width": 1400, "height": 2000})
    page.wait_for_timeout(800)
    screenshot(page, "explore-drawing")
