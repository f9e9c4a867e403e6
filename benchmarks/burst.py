"""Simultaneous slider moves: k Explore sessions move z[0] at the same instant, with and without turns.

A class does not move its sliders evenly: moves bunch up. This measures the worst ordinary case
directly: k sessions (Streamlit's websocket protocol, tools/harness/streamlit_ws_client.py) send a move
at once, ROUNDS times, against two servers in one run, one with Explore's moves taking turns
(app_shared/cpu_turns.py) and one without (GAN_CPU_TURNS=0), and one session's moves alone as the
reference. A move's latency runs from sending the value to the new image fetched over HTTP.

Sharing the interpreter, all k moves finish after about k moves' work; taking turns, the i-th
after about i. Target: with turns, the mean latency in a burst is at most 0.75 x k x the solo p50.
Run: python -m benchmarks.burst [--sessions 8 --rounds 20]
"""
from __future__ import annotations

import argparse
import asyncio

from benchmarks.common import hardware, summary_ms, write_result
from tools.harness.streamlit_server import running_server
from tools.harness.streamlit_ws_client import StreamlitSession

SLIDER, CAPTION, STEP, WARM_ROUNDS = "z[0]", "sample", 0.05, 3


class Mover:
    """One Explore session moving z[0] back and forth."""

    def __init__(self) -> None:
        self.session = StreamlitSession(timeout=60, connect_timeout=60)
        self.sign = 1.0

    async def move(self) -> float:
        delta, self.sign = self.sign * STEP, -self.sign
        return await self.session.move_slider(SLIDER, delta, CAPTION)


async def measure(url: str, sessions: int, rounds: int) -> dict:
    movers = [Mover() for _ in range(sessions)]
    for m in movers:
        await m.session.open(url, "/", "render=server")
    try:
        solo = []
        for i in range(WARM_ROUNDS + rounds):
            took = await movers[0].move()
            solo += [took] if i >= WARM_ROUNDS else []
            await asyncio.sleep(0.3)
        burst = []
        for i in range(WARM_ROUNDS + rounds):
            took = await asyncio.gather(*(m.move() for m in movers))
            burst += list(took) if i >= WARM_ROUNDS else []
            await asyncio.sleep(1.0)
    finally:
        for m in movers:
            await m.session.close()
    return {"solo": summary_ms(solo), "burst": summary_ms(burst)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    results = {}
    for name, turns in (("turns", "1"), ("shared", "0")):
        with running_server("app.py", env={"GAN_CPU_TURNS": turns}, timeout=120) as server:
            results[name] = asyncio.run(measure(server.url, args.sessions, args.rounds))
    k = args.sessions
    ratio = {name: round(r["burst"]["mean_ms"] / r["solo"]["p50_ms"], 2) for name, r in results.items()}
    return write_result("burst", {
        "sessions": k, "rounds": args.rounds, **results,
        "burst_mean_vs_solo_p50": ratio, "target_turns_ratio": round(0.75 * k, 2),
        "target_met": ratio["turns"] <= 0.75 * k, "hardware": hardware()})


if __name__ == "__main__":
    main()
