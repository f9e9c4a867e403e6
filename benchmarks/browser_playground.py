"""The 2-D playground training in Chromium (TensorFlow.js in each tab's Web Worker): frames, controls, a class.

- One tab, ring8 at the browser's default size: distinct frames drawn per second (draws of a new training
  state, the element's data-distinct; also all draws, and how often the canvas's pixels changed, sampled every
  10 ms) and training steps per second, over --seconds. Targets: >= 30 frames/s headless here; >= 60 steps/s.
- Control to frame: a new lr typed into the box, and Pause / Run, each timed by the element from the
  control's change event to the draw of the first frame asked for after it (the canvas's data-ctl-ms).
  Target: p95 <= 50 ms.
- A class: --tabs tabs, each in its own browser context (its own Streamlit session), all training at once for
  --class-seconds: the Streamlit server's CPU time (utime + stime of its process, from /proc), the websocket
  frames each tab sent, and each tab's frame and step rate. Targets: server CPU <= 5% of one core; 0 frames.

Run: python -m benchmarks.browser_playground [--seconds 10] [--changes 20] [--tabs 8] [--class-seconds 30]
"""
from __future__ import annotations

import argparse
import os
import re
import time

from benchmarks.common import hardware, percentile, write_result
from tools.harness.browser_helpers import sample_canvas, wait_canvas_draws
from tools.harness.streamlit_server import launch_chromium, running_server

CANVAS = ".pg-field"
DATASET_JS = """() => {
  const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.pg-field'));
  return host ? {...host.shadowRoot.querySelector('.pg-field').dataset} : null;
}"""
CTL_JS = """([old]) => {
  const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.pg-field'));
  return host && host.shadowRoot.querySelector('.pg-field').dataset.ctl !== old;
}"""
TARGET_FPS, TARGET_STEPS, TARGET_CTL_P95_MS, TARGET_SERVER_CPU = 30.0, 60.0, 50.0, 0.05


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (its own, not its children's)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_and_run(page, url: str) -> None:
    page.goto(f"{url}/playground")
    page.get_by_text(re.compile(r"^Training in your browser \(TensorFlow\.js")).wait_for(timeout=120_000)
    page.get_by_test_id("pg-run").click()
    wait_canvas_draws(page, CANVAS, 10, timeout=120_000)


def rates(page, seconds: float) -> dict:
    a, t0 = page.evaluate(DATASET_JS), time.monotonic()
    time.sleep(seconds)
    b, t1 = page.evaluate(DATASET_JS), time.monotonic()
    dt = t1 - t0
    return {"frames_per_s": round((int(b["distinct"]) - int(a["distinct"])) / dt, 1),
            "draws_per_s": round((int(b["draws"]) - int(a["draws"])) / dt, 1),
            "steps_per_s": round((int(b["step"]) - int(a["step"])) / dt, 1)}


def control_latencies(page, changes: int) -> dict:
    """ms from each control's change event to the first frame drawn that was asked for after it."""
    lr_ms, pause_ms = [], []
    box = page.get_by_test_id("pg-lr-g")
    for i in range(changes):
        old = page.evaluate(DATASET_JS)["ctl"]
        box.fill("0.002" if i % 2 else "0.001")
        box.dispatch_event("change")
        page.wait_for_function(CTL_JS, arg=[old], timeout=10_000)
        lr_ms.append(float(page.evaluate(DATASET_JS)["ctlMs"]))
        time.sleep(0.1)
        old = page.evaluate(DATASET_JS)["ctl"]
        page.get_by_test_id("pg-run").click()  # Pause, then Run on the next round
        page.wait_for_function(CTL_JS, arg=[old], timeout=10_000)
        pause_ms.append(float(page.evaluate(DATASET_JS)["ctlMs"]))
        time.sleep(0.1)
    both = lr_ms + pause_ms
    def stats(ms: list[float]) -> dict:
        return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1)}
    return {"lr": stats(lr_ms), "pause_run": stats(pause_ms), "p95_ms": round(percentile(both, 95), 1)}


def one_class(browser, url: str, server_pid: int, tabs: int, seconds: float) -> dict:
    contexts, pages, sent = [], [], []
    try:
        for _ in range(tabs):
            context = browser.new_context(viewport={"width": 1300, "height": 1000})
            contexts.append(context)
            page = context.new_page()
            count = [0]
            page.on("websocket", lambda ws, c=count: ws.on("framesent", lambda _p, c=c: c.__setitem__(0, c[0] + 1)))
            open_and_run(page, url)
            pages.append(page)
            sent.append(count)
        time.sleep(2.0)  # every tab trains
        before = [page.evaluate(DATASET_JS) for page in pages]
        sent_before = [c[0] for c in sent]
        cpu0, t0 = cpu_seconds(server_pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = cpu_seconds(server_pid), time.monotonic()
        after = [page.evaluate(DATASET_JS) for page in pages]
        dt = t1 - t0
        per_tab = [{"frames_per_s": round((int(b["distinct"]) - int(a["distinct"])) / dt, 1),
                    "steps_per_s": round((int(b["step"]) - int(a["step"])) / dt, 1),
                    "websocket_frames_sent": c[0] - s0}
                   for a, b, c, s0 in zip(before, after, sent, sent_before, strict=True)]
        return {"tabs": tabs, "seconds": round(dt, 1), "server_cpu_seconds": round(cpu1 - cpu0, 3),
                "server_cpu_share_of_one_core": round((cpu1 - cpu0) / dt, 4), "per_tab": per_tab,
                "websocket_frames_sent_max": max(t["websocket_frames_sent"] for t in per_tab),
                "frames_per_s_min": min(t["frames_per_s"] for t in per_tab),
                "frames_per_s_mean": round(sum(t["frames_per_s"] for t in per_tab) / tabs, 1)}
    finally:
        for context in contexts:
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="one tab's measuring window")
    parser.add_argument("--changes", type=int, default=20, help="lr changes and Pause/Run toggles to time")
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--class-seconds", type=float, default=30.0)
    parser.add_argument("--screenshot", default=None, help="also save a screenshot of the training tab here")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with running_server("app.py", timeout=120) as server, sync_playwright() as pw:
        browser = launch_chromium(pw, "benchmarks.browser_playground")
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 1100})
            page = context.new_page()
            open_and_run(page, server.url)
            time.sleep(2.0)
            one = rates(page, args.seconds)
            pixels = sample_canvas(page, CANVAS, 3.0, every_ms=10)
            one["pixel_changes_per_s"] = round(pixels["changes"] / pixels["seconds"], 1)
            one["backend"] = page.get_by_test_id("pg-engine").inner_text()
            if args.screenshot:
                page.screenshot(path=args.screenshot, full_page=True)
            latency = control_latencies(page, args.changes)
            context.close()
            crowd = one_class(browser, server.url, server.pid, args.tabs, args.class_seconds)
        finally:
            browser.close()
    targets = {"frames_per_s": one["frames_per_s"] >= TARGET_FPS, "steps_per_s": one["steps_per_s"] >= TARGET_STEPS,
               "control_p95_ms": latency["p95_ms"] <= TARGET_CTL_P95_MS,
               "server_cpu": crowd["server_cpu_share_of_one_core"] <= TARGET_SERVER_CPU,
               "websocket_frames": crowd["websocket_frames_sent_max"] == 0}
    write_result("browser_playground", {
        "one_tab": one, "control_to_frame": latency, "class": crowd, "targets": targets,
        "target_met": all(targets.values()), "hardware": hardware(),
        "note": "headless Chromium (software rendering) on the same machine as the server; the machine is shared"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
