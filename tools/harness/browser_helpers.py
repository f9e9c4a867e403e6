"""Page helpers for driving the Streamlit app with Playwright (shared by browser tests, load test, benchmarks).

Images are found by their caption (st.image(..., caption=...)); "changed" means a new src that the
browser has fetched and decoded, checked in the page on every animation frame.
"""
from __future__ import annotations

import base64
import io

import numpy as np

EXCEPTION = '[data-testid="stException"]'

# JS: the <img> of the first st.image whose caption equals (or, with a trailing "*", starts with) `caption`.
FIND_IMAGE_JS = """
(caption) => {
  const prefix = caption.endsWith('*');
  const want = prefix ? caption.slice(0, -1) : caption;
  for (const box of document.querySelectorAll('[data-testid="stImage"]')) {
    const cap = box.querySelector('[data-testid="stImageCaption"]');
    const text = cap ? cap.innerText.trim() : '';
    if (prefix ? text.startsWith(want) : text === want) return box.querySelector('img');
  }
  return null;
}
"""

SRC_JS = f"(caption) => {{ const img = ({FIND_IMAGE_JS})(caption); return img ? img.src : null; }}"

CHANGED_JS = f"""
([caption, old]) => {{
  const img = ({FIND_IMAGE_JS})(caption);
  return !!(img && img.src && img.src !== old && img.complete && img.naturalWidth > 0);
}}
"""


def image_src(page, caption: str) -> str | None:
    """The src of the captioned image, or None when it is not on the page."""
    return page.evaluate(SRC_JS, caption)


def wait_image(page, caption: str, timeout: float = 60_000) -> str:
    """Wait until the captioned image is shown and decoded; returns its src."""
    return wait_src_change(page, caption, None, timeout)


def wait_src_change(page, caption: str, old_src: str | None, timeout: float = 30_000) -> str:
    """Wait until the captioned image has a src other than old_src and is decoded; returns the new src."""
    page.wait_for_function(CHANGED_JS, arg=[caption, old_src or ""], timeout=timeout, polling="raf")
    return image_src(page, caption)


def fetch_image(page, src: str) -> np.ndarray:
    """The pixels behind an image src, fetched like the browser does (same cookies), as grayscale uint8."""
    from PIL import Image
    if src.startswith("data:"):
        data = base64.b64decode(src.split(",", 1)[1])
    else:
        response = page.request.get(src)
        if not response.ok:
            raise AssertionError(f"GET {src} -> {response.status}")
        data = response.body()
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L"))


def exception_text(page) -> str | None:
    """The first Streamlit exception box's text, or None when the page shows none."""
    boxes = page.locator(EXCEPTION)
    return boxes.first.inner_text()[:800] if boxes.count() else None


def wait_app_idle(page, timeout: float = 60_000) -> None:
    """Wait until the script run finished: no running indicator, no stale (greyed) elements, no skeletons."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')
                 && document.querySelectorAll('[data-stale="true"]').length === 0
                 && !document.querySelector('[data-testid="stSkeleton"]')
                 && document.querySelector('[data-testid="stMain"]')""",
        timeout=timeout)


# JS: for `ms`, every ~`every` ms, hash the pixels of the canvas matching `selector` inside a components-v2
# element's shadow root and count how often they changed; also the canvas's data-step / data-frame. The
# pixels are read from a 160 x 160 copy, so that sampling stays cheap on a busy machine.
CANVAS_SAMPLE_JS = """async ([selector, ms, every]) => {
  const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(selector));
  const canvas = host.shadowRoot.querySelector(selector);
  const small = document.createElement('canvas'); small.width = small.height = 160;
  const ctx = small.getContext('2d', {willReadFrequently: true});
  const hash = () => { ctx.drawImage(canvas, 0, 0, 160, 160); const d = ctx.getImageData(0, 0, 160, 160).data;
    let h = 0; for (let i = 0; i < d.length; i += 1) h = (Math.imul(h, 31) + d[i]) | 0; return h; };
  const t0 = performance.now(); let last = hash(), changes = 0, samples = 0; const seen = new Set([last]);
  const steps = [Number(canvas.dataset.step)], firstFrame = Number(canvas.dataset.frame);
  const firstTime = Number(canvas.dataset.time);
  while (performance.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, every));
    const h = hash(); samples += 1;
    if (h !== last) { changes += 1; seen.add(h); last = h; }
    steps.push(Number(canvas.dataset.step));
  }
  return {seconds: (performance.now() - t0) / 1000, changes, distinct: seen.size, samples,
          first_step: steps[0], last_step: steps[steps.length - 1],
          frames: Number(canvas.dataset.frame) - firstFrame,
          recorded_seconds: Number(canvas.dataset.time) - firstTime,
          backwards: steps.slice(1).filter((s, i) => s < steps[i]).length,
          step_values: steps.filter((s, i) => i === 0 || s !== steps[i - 1])};
}"""

# JS: the canvas matching `selector` in a components-v2 element has been drawn at least `n` times (data-draws)
CANVAS_DRAWS_JS = """([selector, n]) => {
  const h = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(selector));
  const c = h && h.shadowRoot.querySelector(selector);
  return !!c && Number(c.dataset.draws) >= n;
}"""


def sample_canvas(page, selector: str, seconds: float = 2.0, every_ms: int = 20) -> dict:
    """How often a components-v2 canvas changed over `seconds` (pixels sampled every ~every_ms)."""
    return page.evaluate(CANVAS_SAMPLE_JS, [selector, int(seconds * 1000), every_ms])


def wait_canvas_draws(page, selector: str, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function(CANVAS_DRAWS_JS, arg=[selector, n], timeout=timeout)
