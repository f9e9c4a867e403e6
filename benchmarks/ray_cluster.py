"""Throughput of N training jobs as local worker processes against the same N as Ray actors, on this machine.

Local: N WorkerJobs (the app's jobs without GAN_RAY_ADDRESS). Ray: a local cluster of a head with no CPUs and two
worker nodes (tools/harness/ray_cluster.py), N RayJobs of one CPU each. Every job has one torch thread and the same
config; once all have started, the steps done by all of them over `--seconds` are counted. Also reported: the time
from start() to the first step (a Ray actor is a new process on a node, like a worker). Writes
benchmarks/results/ray_cluster.json. Needs the cluster extra (pip install -e ".[cluster]").
"""
from __future__ import annotations

import argparse
import os
import time

import tools.harness.ray_cluster as ray_cluster  # before ray is imported: loopback-only Ray
from benchmarks.common import write_result
from gan_core import TrainConfig, WorkerJob
from gan_core.settings import settings


def measure(jobs: list, seconds: float) -> dict:
    """Start the jobs, wait until each has stepped, then count the steps of all over `seconds`."""
    t0 = time.monotonic()
    for job in jobs:
        job.start()
    first = []
    for job in jobs:
        if not job.wait_until(1, 300):
            raise RuntimeError(f"a job did not start: {job.status()}")
        first.append(time.monotonic() - t0)
    before = [job.trainer.step_count for job in jobs]
    start = time.monotonic()
    time.sleep(seconds)
    after = [job.trainer.step_count for job in jobs]
    window = time.monotonic() - start
    for job in jobs:
        job.close()
    steps = [a - b for a, b in zip(after, before, strict=True)]
    return {"steps_per_s_total": round(sum(steps) / window, 1),
            "steps_per_s_each": [round(s / window, 1) for s in steps],
            "seconds_to_first_step_max": round(max(first), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--dataset", default="ring8")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    config = TrainConfig(dataset=args.dataset, batch_size=args.batch_size, num_threads=1)
    local = measure([WorkerJob(config, name=f"local{i}") for i in range(args.jobs)], args.seconds)
    per_node = -(-args.jobs // 2)
    with ray_cluster.local_cluster(workers=2, worker_cpus=per_node) as cluster:
        os.environ["GAN_RAY_ADDRESS"] = cluster.address
        settings.cache_clear()
        from gan_core.train.ray_job import RayJob
        ray = measure([RayJob(config, name=f"ray{i}") for i in range(args.jobs)], args.seconds)
    write_result("ray_cluster", {
        "jobs": args.jobs, "seconds": args.seconds, "config": {"dataset": args.dataset, "batch_size": args.batch_size,
                                                               "num_threads": 1},
        "cluster": f"head 0 CPUs + 2 worker nodes x {per_node} CPUs, 127.0.0.1, no dashboard",
        "local_processes": local, "ray_actors": ray,
        "ray_over_local": round(ray["steps_per_s_total"] / local["steps_per_s_total"], 3),
        "note": "one run on a 2-core machine shared with other developers' work: compare within this run only"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
