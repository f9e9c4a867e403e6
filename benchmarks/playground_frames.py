"""The 2-D playground's animation: frames per second shown in Chromium while a toy GAN trains, and what
recording those frames costs the training.

- Shown: Chromium on the playground with the "ring8 · non-saturating" preset, Start, then the canvas's
  pixels sampled every ~20 ms for --seconds: canvas changes per second (target >= 10), the frames the
  worker recorded per second of its own clock, the training steps per second meanwhile, and what the
  websocket carried: frames the page sent per second (the live fragment's reruns, ~1; the animation adds
  none) and bytes it received per second (the frames, in one message per refresh).
- Cost: one Trainer (one torch thread) on the same preset, stepped in interleaved 0.25 s blocks with and
  without the frame recorder after each step (as TrainingJob calls it), --train-seconds in all: steps per
  second, their ratio (target >= 0.9: recording slows training by at most ~10%), frames recorded per
  second, the mean cost of one frame and the share of the time spent making frames.

Run: python -m benchmarks.playground_frames [--seconds 5] [--train-seconds 12]
"""
from __future__ import annotations

import argparse
import re
import time

from benchmarks.common import hardware, write_result
from tools.harness.browser_helpers import sample_canvas, wait_canvas_draws
from tools.harness.streamlit_server import launch_chromium, running_server

PRESET = "ring8-nonsaturating"
TARGET_FPS = 10.0
TARGET_RATIO = 0.9
CANVAS = ".pg-field"


def recording_cost(seconds: float, block: float = 0.25) -> dict:
    """Steps per second of one toy Trainer with and without the frame recorder after each step (as a
    TrainingJob calls it), in interleaved blocks of `block` seconds for `seconds` in all: the machine's
    load drifts alike for both."""
    import torch

    from gan_core import Trainer
    from gan_core.teach.presets import PRESETS
    from gan_core.teach.toy_frames import toy_frame
    from gan_core.train.frames import FrameRecorder
    torch.set_num_threads(1)
    trainer = Trainer(PRESETS[PRESET].config(seed=0))
    for _ in range(30):  # warm-up
        trainer.step()
    recorder = FrameRecorder(toy_frame)
    totals = {False: [0, 0.0], True: [0, 0.0]}  # steps, seconds
    for i in range(max(2, int(seconds / block))):
        framed = bool(i % 2)
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < block:
            trainer.step()
            if framed:
                recorder.after_step(trainer)
            n += 1
        totals[framed][0] += n
        totals[framed][1] += time.perf_counter() - t0
    frames = recorder.buffer.latest().seq + 1
    base, rec = (totals[k][0] / totals[k][1] for k in (False, True))
    return {"seconds": round(totals[False][1] + totals[True][1], 1), "block_seconds": block,
            "steps_per_s_without": round(base, 1), "steps_per_s_with": round(rec, 1), "ratio": round(rec / base, 3),
            "frames_per_s": round(frames / totals[True][1], 1),
            "ms_per_frame": round(1000 * recorder.seconds / frames, 2),
            "share_of_time": round(recorder.seconds / totals[True][1], 3)}


def shown_in_chromium(seconds: float) -> dict:
    """The playground in Chromium while it trains: canvas changes, recorded frames, steps and traffic."""
    from playwright.sync_api import sync_playwright
    with running_server("app.py", timeout=120) as server, sync_playwright() as pw:
        browser = launch_chromium(pw, "playground_frames")
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            traffic = {"sent": [], "received": []}
            page.on("websocket", lambda ws: (
                ws.on("framesent", lambda p: traffic["sent"].append((time.monotonic(), len(p)))),
                ws.on("framereceived", lambda p: traffic["received"].append((time.monotonic(), len(p))))))
            page.goto(f"{server.url}/playground?preset={PRESET}&engine=server")  # the server path's frames
            page.get_by_role("button", name="Start", exact=True).click()
            page.get_by_text(re.compile(r"^running · device")).wait_for()
            wait_canvas_draws(page, CANVAS, 30, timeout=120_000)
            t0 = time.monotonic()
            canvas = sample_canvas(page, CANVAS, seconds)
            t1 = t0 + canvas["seconds"]
            sent = [n for t, n in traffic["sent"] if t0 <= t <= t1]
            received = [n for t, n in traffic["received"] if t0 <= t <= t1]
            page.get_by_role("button", name="Stop", exact=True).click()
        finally:
            browser.close()
    s = canvas["seconds"]
    return {"seconds": round(s, 2), "canvas_changes_per_s": round(canvas["changes"] / s, 1),
            "frames_shown_per_s": round(canvas["frames"] / s, 1),
            "frames_recorded_per_s": round(canvas["frames"] / max(canvas["recorded_seconds"], 1e-9), 1),
            "steps_per_s_while_shown": round((canvas["last_step"] - canvas["first_step"]) / s, 1),
            "went_backwards": canvas["backwards"], "websocket_frames_sent_per_s": round(len(sent) / s, 2),
            "websocket_kb_received_per_s": round(sum(received) / s / 1024, 1), "samples": canvas["samples"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of canvas sampling in Chromium")
    parser.add_argument("--train-seconds", type=float, default=12.0,
                        help="seconds of training, half with frames, in interleaved blocks")
    args = parser.parse_args()
    cost = recording_cost(args.train_seconds)
    shown = shown_in_chromium(args.seconds)
    met = shown["canvas_changes_per_s"] >= TARGET_FPS and shown["went_backwards"] == 0 \
        and cost["ratio"] >= TARGET_RATIO
    write_result("playground_frames", {
        "preset": PRESET, "shown": shown, "cost": cost,
        "targets": {"canvas_changes_per_s": f">= {TARGET_FPS:g}", "step_rate_ratio": f">= {TARGET_RATIO:g}"},
        "target_met": met, "hardware": hardware()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
