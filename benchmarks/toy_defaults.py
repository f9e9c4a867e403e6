"""Do the 2-D toys' defaults keep their promises? `gan train --dataset D --model toy --seconds 20`, per seed.

Every other setting is left at its default, as a new user types it (README, docs/cli.md). Each seed runs the
command line in its own process, one after the other (never two at once: the wall-clock budget is what is
measured, so parallel runs would steal each other's steps). The steps each run reached are recorded next to
the machine's load average, so a reader can judge how much CPU it got.

What each promise counts, on 2000 samples of the saved generator with noise seed 0 (what `gan eval` draws):
- ring8, grid25: modes covered, the one rule every page uses (gan_core.eval.metrics.MODES_COVERED_RULE).
- spiral, moons (no discrete modes): precision, the share of generated points within FIT_RADIUS of one of 2000
  real points, and recall, the share of those real points within FIT_RADIUS of a generated point
  (gan_core.eval.metrics.toy_fit_metrics, which `gan eval` reports for them).

`--nproc 2` runs the same command under torchrun with 2 processes (DDP on CPU, gloo) instead.

Writes benchmarks/results/toy_defaults.json (toy_defaults_ddp2.json with --nproc 2) and prints a Markdown table.
Run: python -m benchmarks.toy_defaults [--seeds 10] [--seconds 20] [--datasets ring8,grid25,spiral,moons]
About 4 datasets x 10 seeds x 25 s = 17 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, hardware, write_result
from gan_core.eval.metrics import FIT_RADIUS, evaluate
from gan_core.io.checkpoint import load_checkpoint

EVAL_POINTS = 2000
# What each dataset's defaults promise in 20 s on every seed (docs/cli.md, "Toy defaults and their promises"): ring8
# all of its modes; the others what every seed reached on the shared 2-core machine (benchmarks/RESULTS.md)
PROMISES: dict[str, dict[str, float]] = {
    "ring8": {"modes_covered": 8},
    "grid25": {"modes_covered": 4},
    "spiral": {"precision": 0.4, "recall": 0.4},
    "moons": {"precision": 0.65, "recall": 0.65},
}


def measure(path: Path, dataset: str) -> dict[str, Any]:
    """What `gan eval` reports for the run's checkpoint (2000 samples, noise seed 0), the promise's keys first."""
    result = evaluate(load_checkpoint(path, "cpu", with_discriminator=False), n=EVAL_POINTS, seed=0)
    keys = ("modes_covered", "num_modes", "high_quality") if dataset in ("ring8", "grid25") else ("precision", "recall")
    return {k: round(result[k], 4) if isinstance(result[k], float) else result[k] for k in keys}


def kept(dataset: str, measured: dict[str, Any]) -> bool:
    return all(measured.get(key, -1) >= bound for key, bound in PROMISES[dataset].items())


def command(dataset: str, seed: int, seconds: float, out: Path, nproc: int) -> list[str]:
    train = ["-m", "gan_core", "train", "--dataset", dataset, "--model", "toy", "--seconds", f"{seconds:g}",
             "--seed", str(seed), "--out", str(out), "--no-progress"]
    if nproc > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc), *train]
    return [sys.executable, *train]


def run_one(dataset: str, seed: int, seconds: float, nproc: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="toy_defaults_") as tmp:
        out = Path(tmp) / "run"
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        proc = subprocess.run(command(dataset, seed, seconds, out, nproc), cwd=str(REPO), capture_output=True,
                              text=True)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{dataset} seed {seed} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        meta = json.loads((out / "generator.json").read_text())
        row = {"dataset": dataset, "seed": seed, "steps": meta["steps"], "train_seconds": meta["train_seconds"],
               "process_wall_s": round(wall, 1), "loadavg_before": round(load_before, 2),
               "loadavg_after": round(os.getloadavg()[0], 2), **measure(out / "generator.safetensors", dataset)}
        row["kept"] = kept(dataset, row)
        return row


def _short(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| dataset | promise | seeds kept | per seed (steps reached) | load average |", "|---|---|---|---|---|"]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        these = [r for r in rows if r["dataset"] == dataset]
        promise = ", ".join(f"{k} ≥ {v:g}" for k, v in PROMISES[dataset].items())
        keys = list(PROMISES[dataset])
        per_seed = " · ".join(
            f"{r['seed']}: {'/'.join(_short(r[k]) for k in keys)} ({r['steps']})" + ("" if r["kept"] else " ✗")
            for r in these)
        loads = [r["loadavg_before"] for r in these]
        lines.append(f"| {dataset} | {promise} | {sum(r['kept'] for r in these)}/{len(these)} | {per_seed} | "
                     f"{min(loads):.1f}–{max(loads):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PROMISES))
    parser.add_argument("--seeds", default="10", help="a count N (seeds 0..N-1) or a comma-separated list")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--nproc", type=int, default=1, help="processes under torchrun (1 = plain command)")
    parser.add_argument("--name", help="result name (default: toy_defaults, or toy_defaults_ddpN)")
    args = parser.parse_args(argv)
    seeds = list(range(int(args.seeds))) if "," not in args.seeds else [int(s) for s in args.seeds.split(",") if s]
    datasets = [d for d in args.datasets.split(",") if d]
    unknown = [d for d in datasets if d not in PROMISES]
    if unknown:
        parser.error(f"unknown toy dataset(s) {', '.join(unknown)}; choose from {', '.join(PROMISES)}")
    machine = hardware()
    rows = []
    for dataset in datasets:
        for seed in seeds:
            rows.append(run_one(dataset, seed, args.seconds, args.nproc))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    name = args.name or ("toy_defaults" if args.nproc == 1 else f"toy_defaults_ddp{args.nproc}")
    kept_by = {d: sum(r["kept"] for r in rows if r["dataset"] == d) for d in datasets}
    write_result(name, {"seconds": args.seconds, "nproc": args.nproc, "seeds": seeds, "promises": PROMISES,
                        "fit_radius": FIT_RADIUS, "eval_points": EVAL_POINTS, "kept": kept_by,
                        "target_met": all(kept_by[d] == len(seeds) for d in datasets), "rows": rows,
                        "hardware": machine, "finished": time.strftime("%Y-%m-%d %H:%M:%S")})
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
