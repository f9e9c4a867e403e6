"""Slider-to-image latency in a real browser: the Explore page against the floor app, idle and while training.

A move is one ArrowRight (or ArrowLeft at the end of the range) on the focused latent slider z[0];
its latency runs from the keydown event to the new image being fetched and decoded, both read
in the page's own clock (performance.now(), checked every animation frame). Moves alternate in
blocks between the floor app (benchmarks/floor_app.py: one slider, one st.image — what Streamlit
itself costs) and the Explore page, so noise on the shared machine hits both alike. The "training"
phase runs a cgan-mlp MNIST job started from the Train page in a second browser session.
Also measured in-process: generating and PNG-encoding one Explore image (target p95 < 5 ms).

Targets: Explore p95 <= 1.3x floor p95 idle, <= 2x while a CPU training job runs.
Run: python -m benchmarks.latency [--moves 50]
"""
from __future__ import annotations

import argparse
import contextlib
import re
import time

from benchmarks.common import hardware, summary_ms, write_result
from tools.harness.browser_helpers import FIND_IMAGE_JS, exception_text, image_src, wait_app_idle, wait_image
from tools.harness.streamlit_server import launch_chromium, running_server

CAPTION = "sample*"  # Explore: "sample — 7"; the floor app: "sample"
SLIDER = "z[0]"

# Timestamps of websocket traffic in the page's clock, to split a move into client and server time.
WS_HOOK = """
(() => {
  window.__ws = {sent: [], recv: []};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    window.__ws.sent.push(performance.now());
    return send.call(this, data);
  };
  const Orig = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', () => window.__ws.recv.push(performance.now()));
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""
SPLIT_JS = """
([t0, t1]) => {
  const sent = window.__ws.sent.filter(t => t >= t0 && t <= t1);
  const recv = window.__ws.recv.filter(t => t >= t0 && t <= t1);
  return {send: sent.length ? sent[0] - t0 : null, first_recv: recv.length ? recv[0] - t0 : null,
          last_recv: recv.length ? recv[recv.length - 1] - t0 : null, messages: recv.length};
}
"""

KEYDOWN_HOOK = "() => { if (!window.__latHook) { window.__latHook = true; document.addEventListener('keydown', " \
               "() => { window.__keydown = performance.now(); }, true); } }"
ELAPSED_JS = f"""
([caption, old]) => {{
  const img = ({FIND_IMAGE_JS})(caption);
  if (img && img.src && img.src !== old && img.complete && img.naturalWidth > 0)
    return [window.__keydown, performance.now()];
  return false;
}}
"""


class SliderPage:
    """A page with a captioned image driven by a slider; `move()` returns one latency in seconds."""

    def __init__(self, page, url: str) -> None:
        self.page = page
        self.splits: list[dict] = []
        page.add_init_script(WS_HOOK)
        page.goto(url)
        wait_image(page, CAPTION, timeout=120_000)
        wait_app_idle(page)
        self.slider = page.get_by_role("slider", name=SLIDER)
        self.slider.focus()
        page.evaluate(KEYDOWN_HOOK)
        self.direction = "ArrowRight"

    def _at_end(self) -> bool:
        el = self.slider
        value, lo, hi = (float(el.evaluate(f"e => e.{a}")) for a in ("value", "min", "max"))
        step = float(el.evaluate("e => e.step") or 0.01)
        return value + step > hi + 1e-9 if self.direction == "ArrowRight" else value - step < lo - 1e-9

    def move(self) -> float:
        if self._at_end():
            self.direction = "ArrowLeft" if self.direction == "ArrowRight" else "ArrowRight"
        old = image_src(self.page, CAPTION)
        self.slider.focus()
        self.page.keyboard.press(self.direction)
        handle = self.page.wait_for_function(ELAPSED_JS, arg=[CAPTION, old], timeout=30_000, polling="raf")
        t0, t1 = handle.json_value()
        elapsed_ms = t1 - t0
        split = self.page.evaluate(SPLIT_JS, [t0, t1])
        if split["send"] is not None and split["last_recv"] is not None:
            self.splits.append(split)
        wait_app_idle(self.page, timeout=30_000)
        time.sleep(0.05)
        return elapsed_ms / 1000.0


def split_summary(splits: list[dict]) -> dict:
    """Medians of where a move's time goes: key->websocket send (client), send->last message (server and
    network), last message->image decoded (client: render, fetch /media, decode)."""
    import statistics
    if not splits:
        return {}
    return {"client_key_to_send_ms": round(statistics.median(s["send"] for s in splits), 1),
            "send_to_first_message_ms": round(statistics.median(s["first_recv"] - s["send"] for s in splits), 1),
            "send_to_last_message_ms": round(statistics.median(s["last_recv"] - s["send"] for s in splits), 1),
            "messages_per_move": statistics.median(s["messages"] for s in splits)}


def alternate(pages: dict[str, SliderPage], moves: int, block: int = 10) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in pages}
    while min(len(v) for v in out.values()) < moves:
        for name, page in pages.items():
            for _ in range(min(block, moves - len(out[name]))):
                out[name].append(page.move())
    return out


@contextlib.contextmanager
def training_in_second_session(browser, url: str):
    """Start the 'Classic CGAN on MNIST' preset on the Train page in its own session; stop it afterwards."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{url}/train?preset=classic-cgan-mnist")
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text(re.compile(r"^running · ")).wait_for(timeout=120_000)
    page.wait_for_function("() => / · step [1-9][\\d,]* · /.test(document.body.innerText)", timeout=60_000)
    try:
        yield page
    finally:
        text = page.get_by_text(re.compile(r" · step [\d,]+ · ")).first.inner_text()
        page.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_text(re.compile(r"^stopped · ")).wait_for(timeout=60_000)
        page.training_status = text  # type: ignore[attr-defined]
        context.close()


def server_side(reps: int = 200) -> dict:
    """Generate + PNG-encode one Explore image in-process (the work behind each slider move)."""
    import torch

    from gan_core import load_checkpoint, resolve_checkpoint, sample_latents
    from gan_core.io.images import grid, png_bytes
    torch.set_num_threads(1)
    gan = load_checkpoint(resolve_checkpoint("mnist-cgan"), "cpu")
    z = sample_latents(1, gan.z_dim, seed=0)
    label = torch.tensor([3])
    times = []
    for i in range(reps + 10):
        z[0, 0] = -3.0 + 6.0 * (i % 60) / 60
        t0 = time.perf_counter()
        png = png_bytes(grid(gan.generate(z, label), nrow=1, pad=0, scale=8))
        if i >= 10:
            times.append(time.perf_counter() - t0)
    return {**summary_ms(times), "png_bytes": len(png), "target_p95_ms": 5.0}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=50)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    server = server_side()
    with running_server("benchmarks/floor_app.py") as floor, running_server("app.py") as app, \
            sync_playwright() as pw:
        browser = launch_chromium(pw, "latency")
        try:
            pages = {"floor": SliderPage(browser.new_page(), floor.url),
                     "explore": SliderPage(browser.new_page(), f"{app.url}/?render=server")}
            idle = alternate(pages, args.moves)
            with training_in_second_session(browser, app.url) as train_page:
                busy = alternate(pages, args.moves)
            errors = {name: exception_text(p.page) for name, p in pages.items()}
            splits = {name: split_summary(p.splits) for name, p in pages.items()}
        finally:
            browser.close()
    s = {f"{name}_idle": summary_ms(v) for name, v in idle.items()}
    s.update({f"{name}_training": summary_ms(v) for name, v in busy.items()})
    ratio_idle = s["explore_idle"]["p95_ms"] / s["floor_idle"]["p95_ms"]
    ratio_busy = s["explore_training"]["p95_ms"] / s["floor_idle"]["p95_ms"]
    return write_result("latency", {
        "moves": args.moves, "browser": s, "server_generate_encode": server,
        "explore_vs_floor_p95_idle": round(ratio_idle, 3), "target_idle": 1.3,
        "explore_training_vs_floor_idle_p95": round(ratio_busy, 3), "target_training": 2.0,
        "explore_training_vs_floor_training_p95": round(
            s["explore_training"]["p95_ms"] / s["floor_training"]["p95_ms"], 3),
        "where_time_goes_median": splits,
        "training_status_at_stop": getattr(train_page, "training_status", ""),
        "page_exceptions": {k: v for k, v in errors.items() if v},
        "target_met": ratio_idle <= 1.3 and ratio_busy <= 2.0 and server["p95_ms"] < 5.0,
        "hardware": hardware()})


if __name__ == "__main__":
    main()
