"""A bare page that runs the browser training engine (static/js/engine/train_worker.js) in headless Chromium.

Serves static/ at /app/static/ as Streamlit does (same paths, `.js` as text/javascript, `.wasm` as
application/wasm), plus the page and the spec (gan_core.teach.browser_spec), from a thread on 127.0.0.1. The
page exposes `engineStart(init)`, `engineMeasure(options)` and `engineSend(message)` for Playwright. Used by
benchmarks/browser_engine.py and tests/test_engine_browser.py.
"""
from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>engine</title></head><body>
<script type="module">
let worker = null;
const waiting = [];
function next(type) {
  return new Promise((resolve, reject) => waiting.push({ type, resolve, reject }));
}
function onMessage(event) {
  const message = event.data;
  if (message.type === "error") {
    const i = waiting.findIndex((w) => w.type !== "frame" || message.during === "frame");
    if (i >= 0) waiting.splice(i, 1)[0].reject(new Error(message.message));
    window.engineErrors.push(message.message);
    return;
  }
  const i = waiting.findIndex((w) => w.type === message.type);
  if (i >= 0) waiting.splice(i, 1)[0].resolve(message);
}
window.engineErrors = [];
window.engineStart = async (init) => {
  if (worker) worker.terminate();
  worker = new Worker(`${window.location.origin}/app/static/js/engine/train_worker.js`, { type: "module" });
  worker.onmessage = onMessage;
  worker.onerror = (e) => window.engineErrors.push(String(e.message || e));
  const spec = await (await fetch("/spec.json")).json();
  const ready = next("ready");
  worker.postMessage({ type: "init", spec, ...init });
  return ready;
};
window.engineSend = async (message, reply) => {
  const answer = reply ? next(reply) : null;
  worker.postMessage(message);
  return answer;
};
window.engineFrame = async () => {
  const frame = next("frame");
  worker.postMessage({ type: "frame" });
  const f = await frame;
  return { step: f.step, dSteps: f.dSteps, gSteps: f.gSteps, coverage: f.coverage, losses: f.losses, extent: f.extent,
           scores: f.scores, stepsPerSecond: f.stepsPerSecond, running: f.running,
           fakeSum: f.fake.reduce((a, b) => a + b, 0), surfaceSum: f.surface.reduce((a, b) => a + b, 0),
           finite: [f.fake, f.arrows, f.surface, f.manifold].every((a) => a.every(Number.isFinite)),
           lengths: [f.fake.length, f.arrows.length, f.surface.length, f.manifold.length] };
};
// Train for `seconds`, asking for one frame per animation frame (as the playground does); records the
// modes covered at each of `checkpoints` (seconds since start).
window.engineMeasure = async ({ seconds, checkpoints = [], frames: withFrames = true }) => {
  const first = await window.engineFrame();
  await window.engineSend({ type: "run" });
  const started = performance.now();
  let frames = 0;
  let last = null;
  if (!withFrames) await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const coverage = [];
  const pending = [...checkpoints];
  while (performance.now() - started < seconds * 1000) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const f = next("frame");
    worker.postMessage({ type: "frame" });
    last = await f;
    frames += 1;
    const t = (performance.now() - started) / 1000;
    while (pending.length && t >= pending[0]) {
      pending.shift();
      const modes = last.coverage && last.coverage.modes_covered;
      coverage.push({ t: Math.round(t * 10) / 10, step: last.step, modes });
    }
  }
  if (!withFrames) {
    const f = next("frame");
    worker.postMessage({ type: "frame" });
    last = await f;
  }
  const elapsed = (performance.now() - started) / 1000;
  await window.engineSend({ type: "pause" });
  const steps = last.step - first.step;
  return { seconds: elapsed, steps, frames, stepsPerSecond: steps / elapsed,
           framesPerSecond: frames / elapsed, coverage, lastCoverage: last.coverage };
};
window.engineLoaded = true;
</script></body></html>"""


class _Handler(SimpleHTTPRequestHandler):
    spec_json = b"{}"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0]
        if path in ("/", "/engine.html"):
            return self._send(PAGE.encode(), "text/html")
        if path == "/spec.json":
            return self._send(self.spec_json, "application/json")
        if path.startswith("/app/static/"):
            self.path = path[len("/app"):]
            return super().do_GET()
        self.send_error(404)
        return None

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def engine_server(spec: dict) -> Iterator[str]:
    """Serve the engine page on a free port of 127.0.0.1; yields its base URL, shuts down on exit."""
    handler = functools.partial(type("Handler", (_Handler,), {"spec_json": json.dumps(spec).encode()}),
                                directory=str(REPO))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
