"""The browser training engine in headless Chromium: steps/s by network size and batch, and the ring8 presets.

Part 1 (size grid): for each hidden width and batch, the worker trains ring8 (non-saturating) for --seconds with
no frames asked, then for --seconds with one frame asked per animation frame (as the playground does); steps/s
and frames/s of both. The browser default (gan_core.teach.browser_spec: BROWSER_TOY_HIDDEN, BROWSER_BATCH) is
checked against the target, at least 60 steps/s with frames.
Part 2 (presets): each preset's engine config (browser_spec's presets) over --seeds seeds, --preset-seconds each,
modes covered (the frame's coverage: gan_core.eval.metrics' rule) every 5 s from 10 s. Promises: the
non-saturating preset reaches 8/8 and holds it to the end; the collapse preset stays at 2 modes or fewer.
Writes benchmarks/results/browser_engine.json. The machine is shared: the JSON records the load average.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from benchmarks.common import hardware, write_result
from gan_core.teach.browser_spec import BROWSER_BATCH, BROWSER_TOY_HIDDEN, browser_spec
from tools.harness.engine_page import engine_server
from tools.harness.streamlit_server import launch_chromium

TARGET_STEPS_PER_S = 60
HOLD_PRESET = "ring8-nonsaturating"
COLLAPSE_PRESET = "ring8-minimax-collapse"


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def _descendants(root: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found


def worker_cpu_seconds() -> float:
    """CPU seconds used so far by the Web Worker threads of the Chromium this process started (Linux /proc).

    Steps per worker CPU second is what the worker does with a core to itself: on this shared machine the wall
    rate depends on everyone else's load, the CPU rate much less."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in _descendants(os.getpid()):
        for task in Path(f"/proc/{pid}/task").glob("[0-9]*"):
            try:
                if (task / "comm").read_text().strip() != "DedicatedWorker":
                    continue
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _timed(page, expression: str, arg) -> tuple[dict, float]:
    before = worker_cpu_seconds()
    out = page.evaluate(expression, arg)
    return out, worker_cpu_seconds() - before


def measure_size(page, hidden: int, batch: int, seconds: float) -> dict:
    ready = page.evaluate("c => engineStart({config: c, seed: 0})", {"toy_hidden": hidden, "batch_size": batch})
    bare, bare_cpu = _timed(page, "s => engineMeasure({seconds: s, frames: false})", seconds)
    framed, framed_cpu = _timed(page, "s => engineMeasure({seconds: s})", seconds)
    return {"hidden": hidden, "batch": batch, "backend": ready["backend"],
            "steps_per_s_no_frames": round(bare["stepsPerSecond"], 1),
            "steps_per_s": round(framed["stepsPerSecond"], 1), "frames_per_s": round(framed["framesPerSecond"], 1),
            "steps_per_worker_cpu_s_no_frames": round(bare["steps"] / max(bare_cpu, 1e-3), 1),
            "steps_per_worker_cpu_s": round(framed["steps"] / max(framed_cpu, 1e-3), 1),
            "frames_per_worker_cpu_s": round(framed["frames"] / max(framed_cpu, 1e-3), 1),
            "worker_cpu_share": round(framed_cpu / framed["seconds"], 2),
            "loadavg_1m": round(os.getloadavg()[0], 2)}


def run_preset(page, preset: dict, seed: int, seconds: float) -> dict:
    checkpoints = list(range(10, int(seconds) + 1, 5))
    page.evaluate("a => engineStart({config: a.config, seed: a.seed})", {"config": preset["config"], "seed": seed})
    out = page.evaluate("a => engineMeasure({seconds: a.seconds, checkpoints: a.checkpoints})",
                        {"seconds": seconds + 0.2, "checkpoints": checkpoints})
    modes = [c["modes"] for c in out["coverage"]]
    return {"seed": seed, "steps": out["steps"], "steps_per_s": round(out["stepsPerSecond"], 1),
            "checkpoints": out["coverage"], "modes": modes, "loadavg_1m": round(os.getloadavg()[0], 2)}


def promise_kept(slug: str, modes: list[int], num_modes: int = 8) -> bool | None:
    if slug == HOLD_PRESET:  # reaches all modes and holds them at every later check
        first = next((i for i, m in enumerate(modes) if m == num_modes), None)
        return first is not None and all(m == num_modes for m in modes[first:])
    if slug == COLLAPSE_PRESET:
        return all(m is not None and m <= 2 for m in modes)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="16,32,64")
    parser.add_argument("--batches", default="64,128,256,512")
    parser.add_argument("--seconds", type=float, default=4.0, help="per size, with and without frames")
    parser.add_argument("--presets", default=f"{HOLD_PRESET},{COLLAPSE_PRESET}", help="slugs; empty: none")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--preset-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    spec = browser_spec()
    by_slug = {p["slug"]: p for p in spec["presets"]}
    started_load = round(os.getloadavg()[0], 2)
    grid, presets = [], {}
    with engine_server(spec) as url, sync_playwright() as pw:
        browser = launch_chromium(pw, "benchmarks/browser_engine.py")
        page = browser.new_page()
        page.goto(f"{url}/engine.html")
        page.wait_for_function("window.engineLoaded === true")
        for hidden in _ints(args.hidden):
            for batch in _ints(args.batches):
                grid.append(measure_size(page, hidden, batch, args.seconds))
                print(grid[-1], flush=True)
        for slug in [s for s in args.presets.split(",") if s]:
            runs = [run_preset(page, by_slug[slug], seed, args.preset_seconds) for seed in range(args.seeds)]
            kept = [promise_kept(slug, r["modes"]) for r in runs]
            presets[slug] = {"config": by_slug[slug]["config"], "runs": runs, "promise_kept": kept}
            print(slug, [r["modes"] for r in runs], kept, flush=True)
        errors = page.evaluate("window.engineErrors")
        browser.close()
    default = next((g for g in grid if g["hidden"] == BROWSER_TOY_HIDDEN and g["batch"] == BROWSER_BATCH), None)
    target_met = default is not None and default["steps_per_s"] >= TARGET_STEPS_PER_S
    if presets:
        target_met = target_met and all(all(k for k in p["promise_kept"] if k is not None) for p in presets.values())
    write_result("browser_engine", {
        "default": {"toy_hidden": BROWSER_TOY_HIDDEN, "batch_size": BROWSER_BATCH, "measured": default},
        "target_steps_per_s": TARGET_STEPS_PER_S, "grid": grid, "presets": presets, "errors": errors,
        "target_met": target_met, "loadavg_at_start": started_load,
        "note": "headless Chromium, one tab, WASM backend (SIMD, 1 thread); shared machine: see loadavg",
        "hardware": hardware()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
