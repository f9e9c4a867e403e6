"""What one training job of each model family costs on this machine: worker RSS, CPU cores used, steps/s.

The job queue (app_shared/queue.py, COSTS) prices a job by its family; this benchmark is where those
prices come from. Each family runs alone in a WorkerJob (the app's worker process, its default threads)
for `--seconds` after its trainer is ready; CPU is the worker's user+system time over that window
divided by the window, RSS the largest resident size seen. Run: python -m benchmarks.job_costs
"""
from __future__ import annotations

import argparse
import os
import time

from benchmarks.common import write_result
from gan_core import TrainConfig, WorkerJob
from tools.harness.streamlit_server import rss_bytes

FAMILIES = {  # family -> a typical run of it from the Train page
    "toy": TrainConfig(dataset="ring8"),
    "mlp": TrainConfig(dataset="mnist", model="mlp"),
    "dcgan": TrainConfig(dataset="mnist", model="dcgan"),
}


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def gpu_peak_mib(_trainer) -> float:
    """Run in the worker (WorkerJob.call): the most GPU memory its torch has reserved, MiB."""
    import torch
    return torch.cuda.max_memory_reserved() / 2**20 if torch.cuda.is_available() else 0.0


def measure(config: TrainConfig, seconds: float) -> dict[str, float]:
    job = WorkerJob(config, max_seconds=seconds + 120).start()
    try:
        if not job.wait_ready(120):
            raise RuntimeError(f"{config.dataset}: the worker did not get ready")
        job.wait_until(2, timeout=60)
        peak = rss_bytes(job.pid, include_children=False)
        t0, c0, s0 = time.monotonic(), cpu_seconds(job.pid), job.status().step
        while time.monotonic() - t0 < seconds:
            time.sleep(0.25)
            peak = max(peak, rss_bytes(job.pid, include_children=False))
        wall, cpu, steps = time.monotonic() - t0, cpu_seconds(job.pid) - c0, job.status().step - s0
        return {"rss_mib": round(peak / 2**20, 1), "cpu_cores": round(cpu / wall, 2),
                "steps_per_s": round(steps / wall, 2), "gpu_mib": round(job.call(gpu_peak_mib), 1),
                "device": job.status().device}
    finally:
        job.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    families = {name: measure(cfg, args.seconds) for name, cfg in FAMILIES.items()}
    return write_result("job_costs", {"seconds": args.seconds, "families": families})


if __name__ == "__main__":
    main()
