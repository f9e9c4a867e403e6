"""What a training job costs, what this machine holds, and when a queued job should start.

The job registry (app_shared/jobs.py) admits queued jobs first-in, first-out while the running ones
leave room. Room is measured, not counted: a job's `Cost` comes from its model family (a 2-D toy run
needs a fraction of a DCGAN's memory) and the device it trains on (cores and memory on the CPU; on a
GPU, one feeding core and the family's GPU memory), and the machine's `Capacity` from its cores, its
available memory and, where there is one, the GPU's free memory (torch.cuda.mem_get_info).
The family prices come from benchmarks/job_costs.py (RESULTS.md, "Job costs"). Nothing here touches
Streamlit or a process: the registry passes in what it knows, so the queue is tested with plain numbers.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gan_core import JobStatus, TrainConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cost:
    """A share of the machine: CPU cores, resident memory (MiB) and GPU memory (MiB)."""

    cores: float = 0.0
    memory_mib: float = 0.0
    gpu_mib: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.cores + other.cores, self.memory_mib + other.memory_mib, self.gpu_mib + other.gpu_mib)

    def __sub__(self, other: Cost) -> Cost:
        return Cost(self.cores - other.cores, self.memory_mib - other.memory_mib, self.gpu_mib - other.gpu_mib)

    def fits_in(self, capacity: Cost) -> bool:
        eps = 1e-9
        return (self.cores <= capacity.cores + eps and self.memory_mib <= capacity.memory_mib + eps
                and self.gpu_mib <= capacity.gpu_mib + eps)


@dataclass(frozen=True)
class FamilyPrice:
    """One model family's price on the CPU, its GPU memory, and its CPU speed (for the wait estimate)."""

    cpu: Cost
    gpu_mib: float
    steps_per_s: float  # at the default batch, one worker alone on the CPU


# The model families the Train page starts, priced from benchmarks/job_costs.py (worker RSS, CPU, steps/s;
# RESULTS.md "Job costs" says which figures were measured on this machine and which are set by hand).
FAMILY_OF_MODEL = {"toy": "toy", "mlp": "mlp", "cgan-mlp": "mlp", "cgan-mlp-proj": "mlp",
                   "dcgan": "dcgan", "cgan-dcgan": "dcgan", "progan": "progan", "cgan-progan": "progan"}
PRICES = {
    "toy": FamilyPrice(Cost(cores=0.5, memory_mib=750), gpu_mib=600, steps_per_s=35.0),
    "mlp": FamilyPrice(Cost(cores=1.0, memory_mib=850), gpu_mib=900, steps_per_s=17.0),
    "dcgan": FamilyPrice(Cost(cores=1.0, memory_mib=900), gpu_mib=1500, steps_per_s=2.0),
    "progan": FamilyPrice(Cost(cores=1.0, memory_mib=1000), gpu_mib=2000, steps_per_s=2.0),
}
EXPERIMENT_COST = Cost(cores=1.0, memory_mib=300)  # an Apply experiment: a thread of the server, one core busy
GPU_FEED_CORES = 0.5  # what a job on the GPU keeps busy on the CPU (data indexing, the Python loop)
MEMORY_SHARE = 0.6  # of the memory available when the server starts, what jobs may take (the pages keep the rest)
GPU_MEMORY_SHARE = 0.9  # of the GPU's free memory
WORKER_START_S = 5.0  # a queued job's first seconds: spawning the worker and loading its data
MIN_PROGRESS = 0.05  # below this share of its budget a job's own rate is not trusted yet


def family_of(config: TrainConfig) -> str:
    return FAMILY_OF_MODEL.get(config.resolved().model, "dcgan")


def on_gpu(config: TrainConfig) -> bool:
    return config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available())


def job_cost(config: TrainConfig) -> Cost:
    """The share of the machine a job of this config holds while it runs (paused included)."""
    price = PRICES[family_of(config)]
    if on_gpu(config):
        return Cost(cores=GPU_FEED_CORES, memory_mib=price.cpu.memory_mib, gpu_mib=price.gpu_mib)
    return price.cpu


def available_memory_mib() -> float:
    """MemAvailable from /proc/meminfo (Linux); elsewhere a figure that never limits."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux, or /proc hidden: memory then never limits
        logger.debug("no /proc/meminfo: memory does not limit the queue", exc_info=True)
    return float("inf")


def machine_capacity() -> Cost:
    """What jobs may hold on this machine: every core, a share of the free memory and of the GPU's."""
    gpu = 0.0
    if torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info()
        gpu = GPU_MEMORY_SHARE * free / 2**20
    return Cost(cores=float(os.cpu_count() or 1), memory_mib=MEMORY_SHARE * available_memory_mib(), gpu_mib=gpu)


def expected_seconds(config: TrainConfig, max_job_seconds: float) -> float:
    """How long a job of this config should run once started: its budget, at its family's measured speed."""
    if config.seconds is not None:
        run = config.seconds
    elif config.steps is not None:
        run = config.steps / PRICES[family_of(config)].steps_per_s
    else:
        run = max_job_seconds
    return WORKER_START_S + min(run, max_job_seconds)


def progress(status: JobStatus) -> float | None:
    """The share of its budget a job has done (steps, or training seconds); None without a budget."""
    if status.budget_steps:
        return min(1.0, status.step / status.budget_steps)
    if status.budget_seconds:
        if status.eta is None:  # its trainer is not built yet
            return 0.0
        return min(1.0, max(0.0, 1.0 - status.eta / status.budget_seconds))
    return None


def remaining_seconds(status: JobStatus, config: TrainConfig, max_job_seconds: float, pace: float = 1.0) -> float:
    """A running job's wall-clock time left, never past the server's length cap: its elapsed time scaled by
    the share of its budget still to do (its measured rate, start-up and a busy machine included); before
    it has done MIN_PROGRESS of it, its expected length times `pace` (how much longer than priced the
    recent jobs took); a run without a budget goes until the cap."""
    cap_left = max(0.0, max_job_seconds - status.elapsed)
    done = progress(status)
    if done is None:
        return cap_left
    if done < MIN_PROGRESS:
        left = pace * expected_seconds(config, max_job_seconds) - status.elapsed
    else:
        left = status.elapsed * (1.0 - done) / done
    return max(0.0, min(left, cap_left))


def slowdown(running: Sequence[tuple[JobStatus, TrainConfig]], max_job_seconds: float,
             default: float = 1.0) -> float:
    """How much longer than `expected_seconds` the running jobs take now (1: as priced; more on a busy
    machine), from their own progress; `default` (the recent jobs' pace) while none has progressed enough.
    Queued jobs' lengths are scaled by it."""
    ratios = []
    for status, config in running:
        done = progress(status)
        if done is not None and done >= MIN_PROGRESS:
            ratios.append(status.elapsed / (done * expected_seconds(config, max_job_seconds)))
    return max(1.0, sum(ratios) / len(ratios)) if ratios else default


def updated_pace(pace: float | None, wall_seconds: float, config: TrainConfig, max_job_seconds: float) -> float:
    """The pace after a job ran its whole budget in `wall_seconds`: its ratio to the priced length, averaged
    with the earlier jobs' (half weight each time, so the pace follows the machine's load)."""
    ratio = max(1.0, wall_seconds / expected_seconds(config, max_job_seconds))
    return ratio if pace is None else 0.5 * pace + 0.5 * ratio


def estimate_starts(capacity: Cost, running: Sequence[tuple[Cost, float]], queued: Sequence[tuple[Cost, float]],
                    max_jobs: int | None = None) -> list[float]:
    """Seconds from now until each queued job starts, admitted in order as the running ones end.

    `running`: (cost, seconds left) of each running job; `queued`: (cost, expected run seconds), in queue
    order. A job that fits nowhere starts alone once everything before it has ended."""
    live = sorted((left, cost) for cost, left in running)
    used = sum((cost for _left, cost in live), Cost())
    now, starts = 0.0, []
    for cost, duration in queued:
        while live and not ((used + cost).fits_in(capacity) and (max_jobs is None or len(live) < max_jobs)):
            end, freed = live.pop(0)
            now, used = max(now, end), used - freed
        starts.append(now)
        live.append((now + duration, cost))
        live.sort(key=lambda item: item[0])
        used = used + cost
    return starts
