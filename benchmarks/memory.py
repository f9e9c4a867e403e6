"""Resident memory of the Streamlit server: one tab, a training job, and 20 sessions opened and closed.

Phases, one server: (1) one browser tab on Explore; (2) after one extra session opened and closed
(so per-process caches are warm) = the baseline; (3) 20 more sessions opened (5 at a time, each
shows an image and moves a slider) and closed, then a short settle = "after sessions" (target:
at most 10% above the baseline); (4) a cgan-mlp MNIST job started from the Train page in a second
session (RSS while it runs), then stopped.

Run: python -m benchmarks.memory [--sessions 20]
"""
from __future__ import annotations

import argparse
import re
import time

from benchmarks.common import hardware, write_result
from tools.harness.browser_helpers import wait_app_idle, wait_image
from tools.harness.streamlit_server import launch_chromium, rss_bytes, running_server

MB = 1024 * 1024


def open_explore(browser, url: str):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(f"{url}/?render=server")
    return context, page


def settle_rss(pid: int, seconds: float = 8.0) -> int:
    """RSS after a short settle: the minimum of readings over a few seconds (threads finish, buffers drop)."""
    readings = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        readings.append(rss_bytes(pid))
        time.sleep(0.5)
    return min(readings)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--batch", type=int, default=5, help="sessions open at the same time")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    readings: dict[str, float] = {}
    with running_server("app.py") as server, sync_playwright() as pw:
        pid = server.pid
        readings["server_started_mb"] = rss_bytes(pid) / MB
        browser = launch_chromium(pw, "memory")
        try:
            _, tab = open_explore(browser, server.url)
            wait_image(tab, "sample*", timeout=120_000)
            wait_app_idle(tab)
            readings["one_tab_mb"] = settle_rss(pid, 4) / MB

            warm, page = open_explore(browser, server.url)
            wait_image(page, "sample*", timeout=120_000)
            warm.close()
            baseline = settle_rss(pid)
            readings["baseline_mb"] = baseline / MB

            opened, peak = 0, 0
            while opened < args.sessions:
                batch = [open_explore(browser, server.url) for _ in range(min(args.batch, args.sessions - opened))]
                for _, page in batch:
                    wait_image(page, "sample*", timeout=120_000)
                    slider = page.get_by_role("slider", name="z[0]")
                    slider.focus()
                    page.keyboard.press("ArrowRight")
                    wait_app_idle(page)
                peak = max(peak, rss_bytes(pid))
                for context, _ in batch:
                    context.close()
                opened += len(batch)
            readings["peak_with_sessions_mb"] = peak / MB
            after = settle_rss(pid)
            readings["after_sessions_closed_mb"] = after / MB

            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(120_000)
            train = context.new_page()
            train.goto(f"{server.url}/train?preset=classic-cgan-mnist")
            train.get_by_role("button", name="Start", exact=True).click()
            train.get_by_text(re.compile(r"^running · ")).wait_for()
            time.sleep(10)
            readings["training_job_running_mb"] = rss_bytes(pid) / MB
            train.get_by_role("button", name="Stop", exact=True).click()
            train.get_by_text(re.compile(r"^stopped · ")).wait_for()
            context.close()
            readings["after_job_stopped_mb"] = settle_rss(pid) / MB
        finally:
            browser.close()
    growth = after / baseline - 1.0
    return write_result("memory", {
        "sessions": args.sessions, "rss_mb": {k: round(v, 1) for k, v in readings.items()},
        "growth_after_sessions": round(growth, 4), "target_growth": 0.10, "target_met": growth <= 0.10,
        "note": "RSS of the streamlit process from /proc; baseline = one tab open after one warm-up session",
        "hardware": hardware()})


if __name__ == "__main__":
    main()
