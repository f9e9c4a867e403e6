"""What a teacher saw go wrong in Chromium on the Train page, checked in Chromium: where things are drawn.

A chart's toolbar (fullscreen, download) covered the end of the status line; after a zip error the panel
holding the uploader collapsed, so the uploader was hidden.
"""
from __future__ import annotations

import pytest

from tests.browser_fixtures import *  # noqa: F401,F403  (fixtures: app_server, chromium, new_page, ...)
from tests.browser_fixtures import assert_no_exception

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NARROW = {"width": 1000, "height": 900}  # a laptop window: the status line is wider than the charts' column


def overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


STATUS_TEXT_BOX = """() => {
  for (const p of document.querySelectorAll('[data-testid="stMarkdown"] p')) {
    if (!p.innerText.includes(' · device ')) continue;
    const range = document.createRange(); range.selectNodeContents(p);
    const r = range.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height};
  }
  return null;
}"""


def test_a_charts_toolbar_keeps_clear_of_the_status_line(new_page, app_server):
    page = new_page()
    page.set_viewport_size(NARROW)
    page.goto(f"{app_server.url}/train")
    page.get_by_role("button", name="Start").click()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for()
    page.wait_for_function(f"({STATUS_TEXT_BOX})() !== null")
    try:
        chart.hover()
        toolbar = page.locator('[data-testid="stElementToolbar"]').first
        toolbar.wait_for()
        page.wait_for_timeout(300)  # the toolbar fades in
        status = page.evaluate(STATUS_TEXT_BOX)
        box = toolbar.bounding_box()
        assert status["width"] > 400 and box["width"] > 50, (status, box)
        assert not overlap(status, box), f"the toolbar {box} covers the status text {status}"
        assert_no_exception(page, "Train page while training")
    finally:
        page.get_by_role("button", name="Stop").click()


def test_a_zip_error_leaves_the_uploader_open(new_page, app_server, tmp_path):
    page = new_page()
    page.goto(f"{app_server.url}/train")
    page.get_by_text("Budget, data and logging").click()
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Upload a zip of images")
    uploader.wait_for()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip")
    uploader.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_text("That zip was not used").wait_for()
    page.wait_for_timeout(1000)  # the rerun that drew the message has settled
    assert uploader.locator('[data-testid="stFileUploaderDropzone"]').is_visible(), \
        "the uploader is still visible, next to its message"
    assert page.get_by_text("That zip was not used").is_visible()
    assert_no_exception(page, "Train page after a zip error")
