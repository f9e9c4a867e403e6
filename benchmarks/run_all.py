"""`make bench`: run every benchmark in turn (under `nice`), then print a one-line summary of the targets.

Each benchmark prints its own JSON line and writes benchmarks/results/<name>.json. A benchmark that
crashes is reported and the others still run; the exit status is 1 if any crashed.
Total run time is about 10 minutes on 2 CPU cores. `--with recipes,presets_over_seeds` adds the long
ones: the recipe ablation (about 2 hours), the ring8 presets over 5 seeds (about 20 minutes) and the toy
defaults' promises over 10 seeds (`--with toy_defaults`, about 20 minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.common import REPO, RESULTS

BENCHMARKS = [
    ("train_throughput", ["--seconds", "4", "--rounds", "3"]),
    ("latency", ["--moves", "50"]),
    ("browser_explore", ["--events", "240", "--seeds", "20"]),
    ("cold_tab", ["--visits", "5"]),  # Explore's first image: time and bytes, first visitor after a start and warm
    ("burst", ["--sessions", "8", "--rounds", "20"]),
    ("memory", ["--sessions", "20"]),
    ("time_to_quality", ["--max-seconds", "140", "--eval-every", "10"]),
    ("playground_frames", ["--seconds", "5", "--train-seconds", "12"]),
    ("browser_playground", ["--seconds", "10", "--changes", "20", "--tabs", "8", "--class-seconds", "30"]),
    ("job_costs", ["--seconds", "8"]),  # what the job queue prices each model family at
    ("queue_burst", ["--students", "10", "--within", "5", "--budget", "20"]),  # a class pressing Start at once
    # the in-browser engine: steps/s by size, then two ring8 presets over 5 seeds x 60 s (about 12 minutes)
    ("browser_engine", ["--seconds", "4", "--seeds", "5", "--preset-seconds", "60"]),
    # mnist-dcgan's Fréchet distance as a multiple of mnist-cgan's (both feature spaces), and the conv layouts'
    # training steps/s (about 2 minutes)
    ("dcgan_vs_cgan", ["--n", "2000", "--seconds", "6"]),
    ("projection", ["--n", "200"]),  # draw -> latent: 200 MNIST digits (and emoji) kept by the judge, s per image
    # the shipped colour model: category accuracy in both classifiers as a share of their real accuracy (1 minute)
    ("emoji_cgan", ["--n", "2000"]),
]
# Long ones, only when asked for: `python -m benchmarks.run_all --with recipes,presets_over_seeds,toy_defaults`
OPT_IN = {
    "recipes": ["--budgets", "60,180,600"],  # about 2 hours: every recipe at every budget
    "presets_over_seeds": ["--seeds", "5"],  # about 20 minutes
    "toy_defaults": ["--seeds", "10"],  # about 20 minutes: each toy's `gan train --seconds 20` promise over seeds
    # need the cluster extra (Ray) and haproxy (make test-cluster installs both's Python side): a few minutes each
    "ray_cluster": ["--jobs", "4", "--seconds", "20"],  # 4 jobs as local processes vs 4 Ray actors
    "replicas": ["--sessions", "20", "--jobs", "2"],  # 20 sessions over 2 replicas, a replica killed
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="extra", default="", help=f"also run: {', '.join(OPT_IN)} (comma-separated)")
    extra = [name for name in parser.parse_args(argv).extra.split(",") if name]
    unknown = [name for name in extra if name not in OPT_IN]
    if unknown:
        parser.error(f"unknown opt-in benchmark(s) {', '.join(unknown)}; choose from {', '.join(OPT_IN)}")
    failed, summary = [], {}
    started = time.monotonic()
    for name, args in BENCHMARKS + [(name, OPT_IN[name]) for name in extra]:
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *args]
        if os.name == "posix" and os.nice(0) < 10:
            cmd = ["nice", "-n", "10", *cmd]
        print(f"== {name}", flush=True)
        result = subprocess.run(cmd, cwd=str(REPO))
        if result.returncode != 0:
            failed.append(name)
            continue
        try:
            data = json.loads((RESULTS / f"{name}.json").read_text())
            summary[name] = {"target_met": data.get("target_met"), "seconds": round(time.monotonic() - t0, 1)}
        except (OSError, json.JSONDecodeError):
            failed.append(name)
    summary["total_seconds"] = round(time.monotonic() - started, 1)
    summary["crashed"] = failed
    print(json.dumps({"benchmark": "run_all", **summary}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
