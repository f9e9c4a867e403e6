"""A class presses Start at once: N students start short MNIST runs within a few seconds on one server.

Each student is a Train page tab (Streamlit's websocket protocol, tools/harness/streamlit_ws_client.py,
following the live fragments as a browser does). They load the CGAN-on-MNIST preset with a seconds
budget and press Start at random moments within `--within` seconds. The benchmark records, per student:
whether the page refused (an error box), the place and estimated wait shown right after Start, when the
run was seen to start (its status line) and whether it reached "finished". Meanwhile two other students
move Explore's z[0] slider (server render, as benchmarks/burst.py) and their move latencies are taken
before the burst (the reference) and during it.
Targets: no refusals and every job finished. Run: python -m benchmarks.queue_burst [--students 10]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time

from benchmarks.burst import Mover
from benchmarks.common import hardware, percentile, summary_ms, write_result
from tools.harness.streamlit_server import running_server
from tools.harness.streamlit_ws_client import StreamlitSession

PRESET = "classic-cgan-mnist"
PLACE = re.compile(r"Queued: place (\d+) of (\d+).*estimated start in about (\d+):(\d\d)")
STATUS = re.compile(r"^\*\*(starting|running|paused|finished|stopped|failed|diverged)\*\* · ")


class Student:
    """One Train tab: loads the preset, sets the budget, presses Start, and watches what the page says."""

    def __init__(self, index: int, budget_s: float) -> None:
        self.index, self.budget_s = index, budget_s
        self.session = StreamlitSession(timeout=120, connect_timeout=60, follow_auto_reruns=True)
        self.record: dict = {"student": index}

    async def open(self, url: str) -> None:
        await self.session.open(url, "/train", f"preset={PRESET}")
        await self.session.set_widget("Seconds budget", float(self.budget_s))
        await self.session.set_widget("Quality metrics every N steps (0 = off)", 0)

    def _status(self) -> str | None:
        for text in self.session.texts():
            m = STATUS.match(text)
            if m:
                return m.group(1)
        return None

    async def start_and_watch(self, delay: float, t0: float, deadline: float) -> dict:
        await asyncio.sleep(delay)
        pressed = time.monotonic()
        await self.session.click("Start")
        rec = self.record
        rec["pressed_s"] = round(pressed - t0, 2)
        rec["refusals"] = [t for t in self.session.texts() if "busy" in t.lower() or t.startswith("Not started")]
        rec["exceptions"] = self.session.exceptions()
        place = None
        while time.monotonic() < deadline:
            for text in self.session.texts():
                m = PLACE.search(text)
                if m and place is None:
                    place = m
                    rec["place"], rec["queue_len"] = int(m.group(1)), int(m.group(2))
                    rec["estimated_wait_s"] = int(m.group(3)) * 60 + int(m.group(4))
            status = self._status()
            if status in ("starting", "running") and "started_s" not in rec:
                rec["started_s"] = round(time.monotonic() - t0, 2)
                rec["waited_s"] = round(time.monotonic() - pressed, 2)
            if status in ("finished", "stopped", "failed", "diverged"):
                rec.setdefault("started_s", None)
                rec["ended_s"], rec["end_state"] = round(time.monotonic() - t0, 2), status
                break
            await asyncio.sleep(0.25)
        rec.setdefault("place", 0)  # started at once: never saw a place
        rec.setdefault("estimated_wait_s", 0)
        rec.setdefault("end_state", "timeout")
        return rec


async def move_until(movers: list[Mover], stop: asyncio.Event, pause: float = 0.3) -> list[float]:
    taken: list[float] = []

    async def one(m: Mover) -> None:
        while not stop.is_set():
            try:
                taken.append(await m.move())
            except Exception as exc:  # noqa: BLE001 - a failed move is counted, the run goes on
                taken.append(float("nan"))
                print(f"move failed: {exc}", flush=True)
            await asyncio.sleep(pause)
    await asyncio.gather(*(one(m) for m in movers))
    return taken


async def measure(url: str, students: int, within: float, budget_s: float, timeout_s: float) -> dict:
    movers = [Mover() for _ in range(2)]
    for m in movers:
        await m.session.open(url, "/", "render=server")
    class_ = [Student(i, budget_s) for i in range(students)]
    for s in class_:
        await s.open(url)
    stop = asyncio.Event()
    reference = asyncio.create_task(move_until(movers, stop))
    await asyncio.sleep(15)
    stop.set()
    before = await reference
    stop = asyncio.Event()
    during_task = asyncio.create_task(move_until(movers, stop))
    rng = random.Random(0)
    t0 = time.monotonic()
    records = await asyncio.gather(*(s.start_and_watch(rng.uniform(0, within), t0, t0 + timeout_s)
                                     for s in class_))
    stop.set()
    during = await during_task
    for s in class_ + [m for m in movers]:
        await s.session.close()
    return {"records": sorted(records, key=lambda r: r["pressed_s"]), "before": before, "during": during,
            "seconds": round(time.monotonic() - t0, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--within", type=float, default=5.0, help="seconds over which the Starts are spread")
    parser.add_argument("--budget", type=float, default=20.0, help="each run's seconds budget")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    runs = tempfile.mkdtemp(prefix="gan-queue-burst-")
    with running_server("app.py", env={"GAN_APP_RUNS_DIR": runs}, timeout=120) as server:
        out = asyncio.run(measure(server.url, args.students, args.within, args.budget, args.timeout))
    records = out["records"]
    ok = [r for r in records if r["end_state"] == "finished"]
    queued = [r for r in records if r["place"] and r.get("waited_s") is not None]
    errors = [abs(r["waited_s"] - r["estimated_wait_s"]) for r in queued]
    clean = lambda xs: [x for x in xs if x == x]  # noqa: E731 - drop failed moves (NaN)
    return write_result("queue_burst", {
        "students": args.students, "within_s": args.within, "budget_s": args.budget, "preset": PRESET,
        "refusals": sum(len(r["refusals"]) for r in records),
        "exceptions": sum(len(r["exceptions"]) for r in records),
        "finished": len(ok), "queued": len(queued),
        "queue_waits": [{k: r.get(k) for k in ("student", "place", "estimated_wait_s", "waited_s")} for r in queued],
        "estimate_abs_error_s": {"mean": round(sum(errors) / len(errors), 1) if errors else None,
                                 "p95": round(percentile(errors, 95), 1) if errors else None},
        "last_end_s": max((r.get("ended_s") or 0) for r in records),
        "slider_before": summary_ms(clean(out["before"])), "slider_during": summary_ms(clean(out["during"])),
        "failed_moves": sum(1 for x in out["before"] + out["during"] if x != x),
        "records": records,
        "target_met": len(ok) == args.students and not any(r["refusals"] for r in records),
        "hardware": hardware()})


if __name__ == "__main__":
    main()
