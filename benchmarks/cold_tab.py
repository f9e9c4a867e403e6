"""A cold tab on Explore: how long until the explorer shows an image, and how many bytes came before it.

Each visit is a fresh Chromium profile (no HTTP cache, no IndexedDB) opening Explore's default view. In the
page, a check run on every animation frame notes `performance.now()` (milliseconds since the navigation
started) when the explorer's sample canvas first holds a picture (pixels that are not all one colour: the
still image the server sent, or the live generator's first frame) and when the live generator has drawn
its first frame (the canvas's data-frame > 0). Bytes are Chrome's own count over CDP: every response's
`encodedDataLength` (what crossed the wire, compressed or not) plus the websocket frames' payloads, each
counted when it finished, before or after the first image.

Two cases: the first visitor after a server start (the server's first page run: imports, the model, the
browser's model file), then `--visits` cold tabs on the warm server, each followed by a cold tab on the floor
app (benchmarks/floor_app.py: the smallest Streamlit page with one st.image), which is what Streamlit's own
start-up costs on this machine before any page can show anything. The report also says whether the
server compresses Streamlit's own frontend and the app's static files (Content-Encoding of a GET that
accepts gzip). Targets: the first image within 1 s and at most 4 MB before it, on the warm server.

Run: python -m benchmarks.cold_tab [--visits 5] [--query "?model=mnist-cgan"]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
import urllib.request

from benchmarks.common import hardware, write_result
from tools.harness.streamlit_server import launch_chromium, running_server

TARGET_FIRST_IMAGE_MS = 1000.0
TARGET_BYTES = 4_000_000
VIEWPORT = {"width": 1400, "height": 1000}

# JS: on every animation frame until both are seen, note when the sample canvas first holds a picture and when
# the live generator first drew (data-frame > 0). Runs before any of the page's own scripts (an init script).
WATCH_JS = """(() => {
  const marks = window.__coldTab = {firstImage: null, live: null};
  const sample = () => {
    const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
    return host && host.shadowRoot ? host.shadowRoot.querySelector('.gx-sample') : null;
  };
  const pictured = (c) => {
    if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 4; i < d.length; i += 4) {
      if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) return true;
    }
    return false;
  };
  const tick = () => {
    const c = sample();
    if (c) {
      if (marks.firstImage === null && pictured(c)) marks.firstImage = performance.now();
      if (marks.live === null && Number(c.dataset.frame) > 0) marks.live = performance.now();
    }
    if (marks.firstImage === null || marks.live === null) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


# JS: the same mark for the floor app (benchmarks/floor_app.py: one slider, one st.image): its image decoded.
FLOOR_WATCH_JS = """(() => {
  const marks = window.__coldTab = {firstImage: null, live: null};
  const tick = () => {
    const img = document.querySelector('[data-testid="stImage"] img');
    if (img && img.complete && img.naturalWidth > 0) { marks.firstImage = marks.live = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


class Traffic:
    """Bytes a tab received, from CDP's Network events, each with the (monotonic) time it finished."""

    def __init__(self, context, page) -> None:
        self.finished: list[tuple[float, int, str]] = []  # (CDP timestamp, bytes, url)
        self.urls: dict[str, str] = {}
        self.wall_minus_mono: float | None = None
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", lambda e: self.finished.append(
            (e["timestamp"], int(e["encodedDataLength"]), self.urls.get(e["requestId"], "?"))))
        cdp.on("Network.webSocketFrameReceived", lambda e: self.finished.append(
            (e["timestamp"], len(e["response"].get("payloadData", "")) * 3 // 4, "websocket")))
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def _sent(self, e: dict) -> None:
        self.urls[e["requestId"]] = e["request"]["url"]
        if self.wall_minus_mono is None:
            self.wall_minus_mono = e["wallTime"] - e["timestamp"]

    def before(self, wall_seconds: float | None) -> list[tuple[float, int, str]]:
        """Responses and frames that had finished by this wall-clock time (all of them for None)."""
        if wall_seconds is None or self.wall_minus_mono is None:
            return list(self.finished)
        mono = wall_seconds - self.wall_minus_mono
        return [f for f in self.finished if f[0] <= mono]


def kind_of(url: str) -> str:
    """Which part of the page a download belongs to."""
    path = re.sub(r"^\w+://[^/]+", "", url)
    if url == "websocket":
        return "websocket"
    if "/vendor/onnxruntime-web" in path:
        return "onnx_runtime"
    if "/app/static/models/" in path:
        return "model_file"
    if "/app/static/js/" in path:
        return "explorer_js"
    if path.startswith("/static/"):
        return "streamlit_frontend"
    return "other"


def breakdown(items: list[tuple[float, int, str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for _t, n, url in items:
        out[kind_of(url)] = out.get(kind_of(url), 0) + n
    return dict(sorted(out.items()))


def visit(browser, url: str, timeout_ms: float = 180_000, watch: str = WATCH_JS) -> dict:
    """One cold tab: ms from navigation to the first image and to the live canvas, and the bytes before each."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(timeout_ms)
    try:
        page = context.new_page()
        page.add_init_script(watch)
        traffic = Traffic(context, page)
        page.goto(url)
        page.wait_for_function("() => window.__coldTab && window.__coldTab.firstImage !== null", timeout=timeout_ms)
        first_image_only = page.evaluate("() => window.__coldTab.live !== window.__coldTab.firstImage")
        page.wait_for_function("() => window.__coldTab.live !== null", timeout=timeout_ms)
        marks = page.evaluate("() => ({...window.__coldTab, origin: performance.timeOrigin})")
        page.wait_for_timeout(300)  # late loadingFinished events of responses finished before the marks
        first_wall = (marks["origin"] + marks["firstImage"]) / 1000
        live_wall = (marks["origin"] + marks["live"]) / 1000
        before_first, before_live = traffic.before(first_wall), traffic.before(live_wall)
        biggest = sorted(before_first, key=lambda f: -f[1])[:5]
        return {
            "ms_to_first_image": round(marks["firstImage"], 1),
            "ms_to_live_canvas": round(marks["live"], 1),
            "first_image_before_live": bool(first_image_only),
            "bytes_before_first_image": sum(n for _t, n, _u in before_first),
            "bytes_before_live_canvas": sum(n for _t, n, _u in before_live),
            "by_kind_before_first_image": breakdown(before_first),
            "by_kind_before_live_canvas": breakdown(before_live),
            "largest_before_first_image": [{"bytes": n, "path": re.sub(r"^\w+://[^/]+", "", u)[:90]}
                                           for _t, n, u in biggest],
        }
    finally:
        context.close()


def content_encoding(url: str) -> str:
    """The Content-Encoding the server answers a gzip-accepting GET with ("identity" when none)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.headers.get("Content-Encoding") or "identity"


def compression(base: str, page_html: str) -> dict:
    """Whether Streamlit's frontend bundle and the app's static files come compressed."""
    bundle = re.search(r'src="\.?/?(static/js/index\.[^"]+\.js)"', page_html)
    out = {"app_static_js": content_encoding(f"{base}/app/static/js/explore/explorer.js")}
    if bundle:
        out["streamlit_frontend_js"] = content_encoding(f"{base}/{bundle.group(1)}")
    return out


def summary(visits: list[dict]) -> dict:
    keys = ("ms_to_first_image", "ms_to_live_canvas", "bytes_before_first_image", "bytes_before_live_canvas")
    return {f"median_{k}": statistics.median(v[k] for v in visits) for k in keys} | {
        f"max_{k}": max(v[k] for v in visits) for k in keys}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=5, help="cold tabs on the warm server")
    parser.add_argument("--query", default="", help="the Explore link's query string (default: the default view)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    load_before = hardware()["loadavg_1m"]
    started = time.perf_counter()
    with running_server("app.py", timeout=120) as app, running_server("benchmarks/floor_app.py") as floor, \
            sync_playwright() as pw:
        healthy_s = time.perf_counter() - started
        browser = launch_chromium(pw, "cold_tab")
        try:
            first = visit(browser, f"{app.url}/{args.query}")
            warm, floors = [], []
            for _ in range(args.visits):  # interleaved, so both see the same load
                warm.append(visit(browser, f"{app.url}/{args.query}"))
                floors.append(visit(browser, f"{floor.url}/", watch=FLOOR_WATCH_JS))
        finally:
            browser.close()
        with urllib.request.urlopen(f"{app.url}/", timeout=30) as response:
            encodings = compression(app.url, response.read().decode(errors="replace"))
    warm_summary, floor_summary = summary(warm), summary(floors)
    met = {"first_image_ms": warm_summary["median_ms_to_first_image"] <= TARGET_FIRST_IMAGE_MS,
           "bytes_before_first_image": warm_summary["max_bytes_before_first_image"] <= TARGET_BYTES}
    return write_result("cold_tab", {
        "query": args.query, "server_seconds_to_healthy": round(healthy_s, 2),
        "first_visitor_after_server_start": first, "warm_server": {"visits": warm, **warm_summary},
        "floor_app": {"visits": floors, **floor_summary},
        "first_image_over_floor_ms": round(warm_summary["median_ms_to_first_image"]
                                           - floor_summary["median_ms_to_first_image"], 1),
        "compression": encodings,
        "targets": {"ms_to_first_image": TARGET_FIRST_IMAGE_MS, "bytes_before_first_image": TARGET_BYTES},
        "targets_met": met, "target_met": all(met.values()),
        "loadavg_1m_before": load_before, "hardware": hardware()})


if __name__ == "__main__":
    main()
