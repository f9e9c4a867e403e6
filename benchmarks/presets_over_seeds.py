"""Do the ring8 presets keep their promises over seeds? Modes covered from 30 s to 60 s of training, per seed.

Promises (issue 19): the collapse preset covers at most 2 of the 8 modes; the non-saturating, R1 and
WGAN-GP presets hold 8/8. "Modes covered" is the one rule every page uses (gan_core.eval.metrics,
MODES_COVERED_RULE), on 1000 points of a fixed noise batch drawn from the sampling generator.

Seconds become steps, so a run is the same on a busy machine as on a quiet one: for each preset, a probe
of PROBE_STEPS steps measures its rate in steps per CPU-second of one torch thread (the thread count of
a job on 2 cores), and 30 s / 60 s become rate x 30 / rate x 60 steps. The rates are in the JSON;
`--rates slug=steps_per_s,...` fixes them instead (to repeat a run exactly). CPU time, not wall time,
because other users' processes on a shared machine slow the wall clock, not the work per step.

Writes benchmarks/results/presets_over_seeds.json and prints a Markdown table.
Run: python -m benchmarks.presets_over_seeds [--seeds 5] [--window 30,60] [--presets ring8-r1,...]
About 4 presets x 5 seeds x 60 s = 20 minutes of one core.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

import torch

from benchmarks.common import hardware, write_result
from gan_core.eval.metrics import toy_coverage
from gan_core.teach.presets import PRESETS
from gan_core.train.trainer import Trainer

PROBE_STEPS = 200
EVAL_POINTS = 1000


@dataclass(frozen=True)
class Promise:
    slug: str
    most: int | None = None  # at most this many modes at every check in the window ...
    least: int | None = None  # ... or at least this many


PROMISES = (Promise("ring8-minimax-collapse", most=2), Promise("ring8-nonsaturating", least=8),
            Promise("ring8-r1", least=8), Promise("ring8-wgan-gp", least=8))


def measure_rate(slug: str) -> float:
    """Steps per CPU-second of this preset (one torch thread), after a few warm-up steps."""
    trainer = Trainer(PRESETS[slug].config(seed=0, snapshot_every=10**9))
    for _ in range(20):
        trainer.step()
    started = time.process_time()
    for _ in range(PROBE_STEPS):
        trainer.step()
    return PROBE_STEPS / max(time.process_time() - started, 1e-9)


def modes_over_window(slug: str, seed: int, first: int, last: int, checks: int) -> list[tuple[int, int]]:
    """(step, modes covered) at `checks` evenly spaced steps from `first` to `last`."""
    trainer = Trainer(PRESETS[slug].config(seed=seed, snapshot_every=10**9))
    z = torch.randn(EVAL_POINTS, trainer.config.z_dim, generator=torch.Generator().manual_seed(3))
    at = sorted({round(first + i * (last - first) / max(checks - 1, 1)) for i in range(checks)})
    out = []
    for step in at:
        while trainer.step_count < step:
            trainer.step()
        out.append((step, toy_coverage(trainer.config.dataset, trainer.generate(z))["modes_covered"]))
    return out


def kept(promise: Promise, modes: list[int]) -> bool:
    if promise.most is not None and max(modes) > promise.most:
        return False
    return promise.least is None or min(modes) >= promise.least


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| preset | promise | seed | steps (window) | modes over the window | kept |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['promise']} | {r['seed']} | {r['first_step']} → {r['last_step']} | "
                     f"{' '.join(str(m) for _, m in r['modes'])} | {'yes' if r['kept'] else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--window", default="30,60", help="first,last second of training to check")
    parser.add_argument("--checks", type=int, default=13, help="checks spread over the window")
    parser.add_argument("--presets", default=",".join(p.slug for p in PROMISES))
    parser.add_argument("--rates", default="", help="slug=steps_per_s,... instead of measuring")
    parser.add_argument("--name", default="presets_over_seeds")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    promises = {p.slug: p for p in PROMISES}
    slugs = [s for s in args.presets.split(",") if s]
    unknown = [s for s in slugs if s not in promises]
    if unknown:
        parser.error(f"no promise for {', '.join(unknown)}; choose from {', '.join(promises)}")
    try:
        first_s, last_s = (float(v) for v in args.window.split(","))
        fixed = {k: float(v) for k, v in (item.split("=") for item in args.rates.split(",") if item)}
    except ValueError:
        parser.error("--window is FIRST,LAST seconds and --rates is slug=steps_per_s,...")
    if not 0 < first_s <= last_s or args.seeds < 1 or args.checks < 1:
        parser.error("need 0 < first <= last, --seeds >= 1 and --checks >= 1")
    rows, rates = [], {}
    for slug in slugs:
        promise = promises[slug]
        rates[slug] = round(fixed.get(slug) or measure_rate(slug), 1)
        first, last = max(1, round(rates[slug] * first_s)), max(1, round(rates[slug] * last_s))
        for seed in range(args.seeds):
            modes = modes_over_window(slug, seed, first, last, args.checks)
            counts = [m for _, m in modes]
            row = {"preset": slug, "seed": seed, "first_step": first, "last_step": last, "modes": modes,
                   "min_modes": min(counts), "max_modes": max(counts), "kept": kept(promise, counts),
                   "promise": f"≤ {promise.most} modes" if promise.most is not None else f"{promise.least}/8 modes"}
            rows.append(row)
            print(json.dumps(row), flush=True)
    table = markdown(rows)
    print(table)
    by_preset = {s: all(r["kept"] for r in rows if r["preset"] == s) for s in slugs}
    return write_result(args.name, {
        "window_s": [first_s, last_s], "seeds": args.seeds, "checks": args.checks,
        "rates_steps_per_cpu_s": rates, "kept_by_preset": by_preset, "target_met": all(by_preset.values()),
        "rows": rows, "markdown": table, "hardware": hardware()})


if __name__ == "__main__":
    main()
