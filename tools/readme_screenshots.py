"""The README's colour screenshots: Explore on emoji-cgan, and a drawing projected into it.

Usage: python -m tools.readme_screenshots [--out docs/screenshots]. Starts the app on a free 127.0.0.1 port
(always stopped), opens Explore in headless Chromium, waits for the live canvas, saves explore-colour.png;
then draws a yellow disc with two dark eyes on the drawing canvas, presses "Find it in the GAN", waits for
the projection and saves explore-colour-drawing.png (the sample, the drawing and its result).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from playwright.sync_api import sync_playwright

from tools.harness.streamlit_server import REPO, launch_chromium, running_server

HOST_JS = "[...document.querySelectorAll('[data-testid=\"stBidiComponentIsolated\"]')].find(h => h.shadowRoot)"
LIVE_JS = f"() => {{ const h = {HOST_JS}; const c = h && h.shadowRoot.querySelector('.gx-sample'); " \
          "return !!c && Number(c.dataset.frame) > 0; }"
FOUND_JS = f"() => {{ const h = {HOST_JS}; const r = h && h.shadowRoot.querySelector('.gx-draw-result'); " \
           "return !!r && r.textContent.startsWith('Found'); }"


def stroke(page, canvas, points: list[tuple[float, float]]) -> None:
    box = canvas.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


def draw_smiley(page) -> None:
    """A filled yellow disc (a spiral of thick strokes) with two dark eyes and a mouth."""
    canvas = page.get_by_test_id("gx-sketch")
    canvas.scroll_into_view_if_needed()
    size = page.locator("[data-testid='gx-draw'] input[type='range']")
    set_size = "(s, v) => { s.value = v === 'max' ? s.max : v; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    size.evaluate(set_size, "max")
    page.get_by_role("button", name="Pen colour #fdd835").click()
    spiral = [(0.5 + r * math.cos(t), 0.5 + r * math.sin(t))
              for r, t in ((0.36 * k / 60, k / 60 * 6 * math.pi) for k in range(1, 61))]
    stroke(page, canvas, spiral)
    page.get_by_role("button", name="Pen colour #202020").click()
    size.evaluate(set_size, "2.5")
    stroke(page, canvas, [(0.38, 0.38), (0.38, 0.42)])
    stroke(page, canvas, [(0.62, 0.38), (0.62, 0.42)])
    stroke(page, canvas, [(0.35, 0.62), (0.5, 0.7), (0.65, 0.62)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--model", default="emoji-cgan")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with running_server() as server, sync_playwright() as p:
        browser = launch_chromium(p, "readme_screenshots")
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(f"{server.url}/?model={args.model}&seed={args.seed}&class=0")
            page.wait_for_function(LIVE_JS, timeout=300_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "explore-colour.png"), full_page=False)
            draw_smiley(page)
            page.get_by_test_id("gx-draw-find").click()
            page.wait_for_function(FOUND_JS, timeout=300_000)
            page.wait_for_timeout(1500)
            page.get_by_test_id("gx-draw").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "explore-colour-drawing.png"), full_page=False)
        finally:
            browser.close()
    print(f"wrote {out / 'explore-colour.png'} and {out / 'explore-colour-drawing.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
