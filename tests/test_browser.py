"""End-to-end flows in a real Chromium against `streamlit run app.py` (one server for the module).

Each flow asserts what a visitor would see change: image bytes differ after a control moves, a shared
URL reproduces the same pixels, training charts and samples advance, a saved checkpoint is offered on
Explore, and no page shows a Streamlit exception box. Screenshots land in tests/artifacts/
(UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/ for the README).
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception, screenshot
from tools.harness.browser_helpers import fetch_image, image_src, wait_app_idle, wait_image, wait_src_change

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SAMPLE = "sample*"  # caption of Explore's main image ("sample", or "sample — 7" for a class)
TRAIN_SAMPLES = "Samples from fixed noise*"  # caption prefix of the Train page's live samples


def open_page(new_page, app_server, path: str = ""):
    page = new_page()
    page.goto(f"{app_server.url}/{path}")
    page.get_by_test_id("stMain").wait_for()
    return page


def choose_option(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox / radio / segmented control labelled `label`."""
    widget = page.locator('[data-testid="stSelectbox"], [data-testid="stRadio"], [data-testid="stButtonGroup"]'
                          ).filter(has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)).first
    testid = widget.get_attribute("data-testid")
    if testid == "stSelectbox":
        widget.locator('[role="combobox"], input').first.click()
        page.get_by_role("option", name=option, exact=True).first.click()
    elif testid == "stRadio":
        widget.get_by_text(option, exact=True).click()
    else:
        widget.get_by_role("button", name=option, exact=True).click()


def digit_class(pixels: np.ndarray) -> int | None:
    """The project classifier's verdict on a (possibly upscaled) grayscale digit; None without a classifier."""
    import torch
    from PIL import Image

    from gan_core.eval.classifier import classifier_path, load_classifier
    if not classifier_path("mnist").with_suffix(".safetensors").is_file():
        return None
    small = np.asarray(Image.fromarray(pixels).resize((28, 28), Image.BOX), dtype=np.float32)
    x = torch.from_numpy(small / 127.5 - 1.0).view(1, 1, 28, 28)
    with torch.no_grad():
        return int(load_classifier("mnist")(x).argmax(1))


def test_explore_class_slider_and_shared_url(app_server, new_page):
    page = open_page(new_page, app_server, "?render=server")  # Explore (the default page), server-drawn
    src = wait_image(page, SAMPLE, timeout=90_000)
    first = fetch_image(page, src)
    assert first.std() > 10, "the first image is blank"
    wait_app_idle(page)
    assert_no_exception(page, "Explore")

    # a class -> the digit changes, and the classifier reads that class
    choose_option(page, "Class", "7")
    src = wait_src_change(page, SAMPLE, src)
    seven = fetch_image(page, src)
    assert not np.array_equal(seven, first)
    verdict = digit_class(seven)
    if verdict is not None:
        assert verdict == 7, f"chose class 7, the classifier sees {verdict}"

    # a latent slider moved with the keyboard -> a different image
    slider = page.get_by_role("slider", name="z[0]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    src = wait_src_change(page, SAMPLE, src)
    wait_app_idle(page)
    src = image_src(page, SAMPLE)
    moved = fetch_image(page, src)
    assert not np.array_equal(moved, seven)
    assert_no_exception(page, "Explore after moving controls")
    screenshot(page, "explore")

    # the URL carries the state: a fresh session opening it shows the same pixels
    page.wait_for_function("() => location.search.length > 1")
    time.sleep(0.5)  # query params are written after the rerun that drew the image
    url = page.url
    assert "?" in url
    other = new_page()
    other.goto(url)
    shared = fetch_image(other, wait_image(other, SAMPLE, timeout=60_000))
    assert np.array_equal(shared, moved), f"{url} reopened a different image"


def test_train_ring8_live_pause_stop_save_then_explore(app_server, new_page):
    page = open_page(new_page, app_server, "train?preset=nonsaturating-ring8")
    start = page.get_by_role("button", name="Start", exact=True)
    start.wait_for()
    assert_no_exception(page, "Train (before start)")
    start.click()

    status = page.get_by_text(re.compile(r"^(starting|running) · "))
    status.wait_for(timeout=30_000)
    step_of = lambda: int(re.search(r"step ([\d,]+)", page.get_by_text(re.compile(r" · step [\d,]+ · ")).first
                                    .inner_text()).group(1).replace(",", ""))
    page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=30_000)
    sample_src = wait_image(page, TRAIN_SAMPLES, timeout=30_000)
    first_step = step_of()
    # the live fragment redraws every second: steps advance and the sample plot is replaced
    wait_src_change(page, TRAIN_SAMPLES, sample_src, timeout=30_000)
    page.wait_for_function(
        "n => { const m = document.body.innerText.match(/ · step ([\\d,]+) · /); "
        "return m && parseInt(m[1].replace(/,/g, '')) > n; }", arg=first_step, timeout=20_000)
    page.wait_for_function(  # (a page rerun on the starting -> running change redraws them all)
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 4", timeout=20_000)
    wait_app_idle(page)
    screenshot(page, "train")

    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text(re.compile(r"^paused · ")).wait_for(timeout=20_000)
    paused_at = step_of()
    time.sleep(2.5)
    assert step_of() == paused_at, "steps advanced while paused"

    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"^stopped · ")).wait_for(timeout=30_000)
    assert_no_exception(page, "Train after stop")

    page.get_by_label("Checkpoint name", exact=True).fill("browser-ring8")
    page.get_by_role("button", name="Save checkpoint", exact=True).click()
    page.get_by_text("browser-ring8").first.wait_for(timeout=30_000)

    # same session: navigate with the sidebar, then the checkpoint is offered as a model on Explore
    page.get_by_test_id("stSidebarNav").get_by_text("Explore", exact=True).click()
    page.wait_for_function("() => !location.pathname.includes('train')")  # Explore is the default page: "/"
    wait_app_idle(page)
    assert_no_exception(page, "Explore after saving")
    model_box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text("Model", exact=True)).first
    model_box.locator('[role="combobox"], input').first.click()
    assert page.get_by_role("option", name=re.compile("browser-ring8")).count() >= 1


@pytest.mark.parametrize("path,name", [("playground", "playground"), ("learn", "learn"), ("apply", "apply")])
def test_page_renders_without_exceptions(app_server, new_page, path, name):
    page = open_page(new_page, app_server, path)
    page.get_by_test_id("stHeading").first.wait_for(timeout=60_000)
    wait_app_idle(page)
    time.sleep(1.0)  # late elements (charts, fragments) get a moment to raise
    assert_no_exception(page, name)
    assert page.get_by_test_id("stMain").inner_text().strip(), f"{name} page is empty"
    screenshot(page, name)
