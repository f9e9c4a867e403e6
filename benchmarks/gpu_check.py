"""make gpu-check: one short run of the CUDA path, for a machine that has only the engine's packages.

    python -m benchmarks.gpu_check --out DIR            # on a CUDA machine, under 10 minutes on an H200
    python -m benchmarks.gpu_check --out DIR --dry-run-cpu   # the same steps, tiny, on the CPU (tests)

It needs torch, safetensors, numpy, pillow and tqdm only: no Streamlit, no app code, no network. The
data it needs travels in the working tree: the toy datasets are built in, MNIST (the 10k images this
project has) is benchmarks/data/mnist-10k.npz, and Fashion-MNIST is used only where the usual lookup
finds it (gan_core.data.datasets); otherwise fashion models are reported as skipped. In order:

1. throughput: every model type trains on the device for a few seconds; img/s at two batch sizes;
2. worker job: a WorkerJob (its own process) trains on the device: start, pause, resume, stop, save;
3. torchrun: `torchrun --nproc_per_node 1` runs the DDP trainer on a toy with NCCL
   (benchmarks/gpu_ddp_probe.py, since `gan train` only turns DDP on for more than one rank);
4. retrain: every shipped model (pretrained/*.json) is trained again from its own recorded config,
   for at least as many steps as it was shipped with (image models at least MIN_IMAGE_STEPS), each
   under a time cap so the whole run ends by --time-limit, then measured by both metric classifiers
   beside the shipped model.

What comes back: DIR/gpu-check.json (the report) and DIR/models-N.tar (the new checkpoints, their
sample sheets and JSON, each archive at most ARCHIVE_BYTES: the device tool returns at most 8 files).
Exit status: 0 all good, 1 a step failed (the report says which and why), 2 no CUDA device.
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import tarfile
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.gpu_ddp_probe import Torchrun  # noqa: E402  (after the path is set)

logger = logging.getLogger(__name__)
MNIST_NPZ = REPO / "benchmarks" / "data" / "mnist-10k.npz"
MIN_IMAGE_STEPS = 20000  # retrained image models train at least this long (the shipped CPU runs were shorter)
ARCHIVE_BYTES = 15 * 2**20
NOT_ALLOWED = ("streamlit", "app_pages", "app_shared", "torchvision", "onnx", "onnxruntime", "altair", "pyarrow")
EXIT_NO_CUDA = 2


@dataclass(frozen=True)
class Sizes:
    """How big each step is: full on a GPU, tiny for --dry-run-cpu."""

    throughput_seconds: float
    throughput_batches: tuple[int, ...]
    warmup_steps: int
    data_limit: int | None
    worker_steps: int
    ddp_steps: int
    eval_n: int
    retrain_cap_s: float  # at most this long per model
    retrain_steps: Callable[[dict[str, Any]], int]  # steps for a shipped model, from its JSON


def full_steps(meta: dict[str, Any]) -> int:
    steps = int(meta.get("steps") or 0)
    return steps if meta.get("model") == "toy" else max(steps, MIN_IMAGE_STEPS)


GPU = Sizes(3.0, (64, 512), 20, None, 200, 2000, 2000, 150.0, full_steps)
DRY = Sizes(0.1, (16,), 1, 256, 4, 10, 100, 10.0, lambda meta: min(int(meta.get("steps") or 1), 4))


# ---------------------------------------------------------------- data in the working tree

def write_mnist_idx(folder: Path, limit: int | None = None) -> Path:
    """benchmarks/data/mnist-10k.npz as FOLDER/mnist/t10k-*.gz, where gan_core's data lookup reads it."""
    with np.load(MNIST_NPZ) as data:
        images, labels = data["images"][:limit], data["labels"][:limit]
    target = folder / "mnist"
    target.mkdir(parents=True, exist_ok=True)
    header = (b"\x00\x00\x08\x03" + len(images).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
    (target / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.astype(np.uint8).tobytes(), 1))
    header = b"\x00\x00\x08\x01" + len(labels).to_bytes(4, "big")
    (target / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + labels.astype(np.uint8).tobytes(), 1))
    return target


def data_dir_for(dataset: str, mnist_dir: Path) -> str | None:
    return str(mnist_dir) if dataset == "mnist" else None


# ---------------------------------------------------------------- the steps

def environment(device) -> dict[str, Any]:
    import torch
    import torch.distributed as dist

    info: dict[str, Any] = {"torch": torch.__version__, "python": sys.version.split()[0], "device": str(device),
                            "cuda_available": torch.cuda.is_available(), "nccl_available": dist.is_nccl_available()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, capability=f"{props.major}.{props.minor}", gpu_memory_gib=round(
            props.total_memory / 2**30, 1), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    return info


def _sync(device) -> None:
    import torch
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def throughput(device, sizes: Sizes, mnist_dir: Path) -> list[dict[str, Any]]:
    """Each model type for a few seconds per batch size: steps/s and images/s (D's real + fake counted once)."""
    import torch

    from gan_core.nn.models import GROWING_MODELS, MODEL_NAMES
    from gan_core.train.config import TrainConfig
    from gan_core.train.trainer import Trainer

    rows = []
    for model in MODEL_NAMES:
        dataset = "ring8" if model == "toy" else "mnist"
        for batch in sizes.throughput_batches:
            config = TrainConfig(dataset=dataset, model=model, batch_size=batch, device=str(device), seed=0,
                                 data_dir=data_dir_for(dataset, mnist_dir), data_limit=sizes.data_limit,
                                 snapshot_every=10**9, log_every=100,
                                 steps=1 if model in GROWING_MODELS else None)  # growing: full size after step 1
            trainer = Trainer(config)
            for _ in range(sizes.warmup_steps):
                trainer.step()
            _sync(device)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            started, steps, images = time.perf_counter(), trainer.step_count, trainer.images_seen
            while time.perf_counter() - started < sizes.throughput_seconds:
                for _ in range(10):
                    trainer.step()
                _sync(device)
            seconds = time.perf_counter() - started
            row = {"model": model, "dataset": dataset, "batch_size": batch,
                   "steps_per_s": round((trainer.step_count - steps) / seconds, 1),
                   "images_per_s": round((trainer.images_seen - images) / seconds),
                   "ok": bool(all(np.isfinite(r["d_loss"]) for r in trainer.history.rows()))}
            if device.type == "cuda":
                row["peak_memory_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
            rows.append(row)
            print(f"  {model:12s} batch {batch:4d}: {row['images_per_s']:>9,} img/s", flush=True)
    return rows


def start_worker_job(device, sizes: Sizes, mnist_dir: Path):
    """A WorkerJob started paused: its process boots (imports, data, the device) while other steps run."""
    from gan_core.train.config import TrainConfig
    from gan_core.train.worker import WorkerJob

    config = TrainConfig(dataset="mnist", model="cgan-dcgan", device=str(device), data_dir=str(mnist_dir),
                         data_limit=sizes.data_limit, batch_size=sizes.throughput_batches[0], seed=0, log_every=2,
                         snapshot_every=50)
    return WorkerJob(config, num_threads=1, max_seconds=300, name="gpu-check").start(paused=True)


def worker_job(job, started: float, scratch: Path, sizes: Sizes) -> dict[str, Any]:
    """The WorkerJob on the device: (started paused) resume, pause (no steps while paused), resume, stop, save,
    and reload the save."""
    import torch

    from gan_core.io.checkpoint import load_checkpoint
    from gan_core.train.records import JobState

    config = job.config
    device = torch.device(config.device)
    out: dict[str, Any] = {"config": f"{config.model} on {config.dataset}, batch {config.batch_size}"}
    try:
        if not job.wait_ready(180):
            raise RuntimeError(f"the worker did not get ready in 180 s (state {job.state}: {job.message})")
        out["ready_s"] = round(time.perf_counter() - started, 1)
        out["started_paused"] = _wait_for(lambda: job.state == JobState.PAUSED, 30) and job.trainer.step_count == 0
        job.resume()
        out["worker_device"] = job.trainer.device
        if not job.wait_until(sizes.worker_steps, timeout=120):
            raise RuntimeError(f"the worker did not reach step {sizes.worker_steps} (state {job.state}: {job.message})")
        job.pause()
        _wait_for(lambda: job.state == JobState.PAUSED, 60)  # the step in flight ends first
        time.sleep(0.6)  # the mirror catches up (updates every 0.25 s)
        paused_at = job.trainer.step_count
        time.sleep(1.0)
        out.update(paused_state=str(job.state), paused_at=paused_at,
                   steps_while_paused=job.trainer.step_count - paused_at)
        job.resume()
        out["resumed"] = job.wait_until(paused_at + sizes.worker_steps, timeout=120)
        out["stopped"] = job.stop(timeout=60)
        out["stopped_state"] = str(job.state)
        path = Path(job.save(scratch / "worker-job"))
        gan = load_checkpoint(path, device)
        z = torch.randn(16, gan.z_dim)
        samples = gan.generate(z, torch.arange(16) % gan.num_classes)
        rates = [r["images_per_s"] for r in job.history.rows()[-10:]]
        out.update(steps=job.trainer.step_count, saved=path.name, saved_steps=gan.meta["steps"],
                   saved_hardware=gan.meta.get("hardware"), samples_finite=bool(torch.isfinite(samples).all()),
                   images_per_s=round(float(np.median(rates))) if rates else None)
        out["ok"] = (out["worker_device"].startswith(device.type) and out["started_paused"]
                     and out["paused_state"] == JobState.PAUSED
                     and out["steps_while_paused"] == 0 and out["resumed"] and out["stopped"]
                     and out["stopped_state"] == JobState.STOPPED and out["samples_finite"])
    finally:
        job.close()
    out["seconds_since_start"] = round(time.perf_counter() - started, 1)
    return out


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def retrain_shipped(device, sizes: Sizes, mnist_dir: Path, scratch: Path, deadline: float,
                    dry_run: bool) -> list[dict[str, Any]]:
    """Each shipped model again from its recorded config, capped in time; both classifiers' metrics, old and new."""
    from gan_core.data.datasets import TOY_DATASETS, DataNotFoundError, locate_idx
    from gan_core.eval.metrics import evaluate
    from gan_core.io.checkpoint import (
        PRETRAINED_DIR,
        list_pretrained,
        load_checkpoint,
        read_meta,
        update_checkpoint_meta,
    )
    from gan_core.train.config import TrainConfig
    from gan_core.train.loop import Budget, TrainingLoop
    from gan_core.train.run_files import write_run_files
    from gan_core.train.trainer import Trainer

    names = list_pretrained()
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        shipped = read_meta(PRETRAINED_DIR / f"{name}.json")
        row: dict[str, Any] = {"name": name, "model": shipped["model"], "dataset": shipped["dataset"],
                               "shipped_steps": shipped.get("steps")}
        rows.append(row)
        dataset = shipped["dataset"]
        data_dir = data_dir_for(dataset, mnist_dir)
        if dataset != "mnist" and dataset not in TOY_DATASETS:
            if dry_run:
                row.update(ok=True, skipped="not in a dry run (only the data in the working tree is used)")
                continue
            try:
                locate_idx(dataset, split="train")  # on disk only: never a download (no network, no torchvision)
            except DataNotFoundError:
                row.update(ok=True, skipped=f"no {dataset} data on this machine (the usual lookup found none)")
                continue
        steps = sizes.retrain_steps(shipped)
        share = _cost(shipped) / sum(_cost(read_meta(PRETRAINED_DIR / f"{n}.json")) for n in names[i:])
        cap = max(5.0, min(sizes.retrain_cap_s, (deadline - time.monotonic()) * share))
        config = replace(TrainConfig.from_dict(shipped["config"]), device=str(device), data_dir=data_dir,
                         steps=steps, seconds=None, num_threads=None, data_limit=sizes.data_limit,
                         eval_every=0, snapshot_every=max(steps // 20, 1)).validate()
        trainer = Trainer(config)
        started = time.perf_counter()
        end = TrainingLoop(trainer, Budget(steps=steps, wall_seconds=cap)).run()
        wall = time.perf_counter() - started
        command = replace(config, data_dir=None).command(f"pretrained --name {name}")
        path = write_run_files(trainer, scratch / "models", name, command, wall, end.diverged,
                               gpu_check={"budget_steps": steps, "cap_seconds": round(cap, 1), "ended_by": end.reason,
                                          "shipped_steps": shipped.get("steps")})
        row.update(steps=trainer.step_count, budget_steps=steps, ended_by=end.reason, train_seconds=round(wall, 1),
                   steps_per_s=round(trainer.step_count / max(wall, 1e-9), 1), command=command)
        for label, gan in (("new", load_checkpoint(path, device)),
                           ("shipped", load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors", device))):
            row[f"{label}_metrics"] = evaluate(gan, n=sizes.eval_n, seed=0, device=str(device), data_dir=data_dir)
        update_checkpoint_meta(path, metrics=row["new_metrics"],
                               eval_command=f"python -m gan_core eval --model {name} --n {sizes.eval_n} --seed 0")
        row["ok"] = not end.diverged
        print(f"  {name}: {trainer.step_count} steps in {wall:.0f}s ({end.reason}); "
              f"{_headline(row['new_metrics'])} (shipped: {_headline(row['shipped_metrics'])})", flush=True)
    return rows


def _cost(meta: dict[str, Any]) -> float:
    """A model's share of the retraining time: the toys train far faster than the image models."""
    return 0.1 if meta.get("model") == "toy" else 1.0


def _headline(metrics: dict[str, Any]) -> str:
    if "modes_covered" in metrics:
        return f"{metrics['modes_covered']}/{metrics['num_modes']} modes"
    parts = [f"FD {metrics.get('classifier_frechet_distance', float('nan')):.1f}"]
    if "judged_class_accuracy" in metrics:
        parts.append(f"judged accuracy {100 * metrics['judged_class_accuracy']:.1f}%")
    return ", ".join(parts)


# ---------------------------------------------------------------- running and packing

def run_step(report: dict[str, Any], key: str, fn: Callable[[], Any]) -> None:
    """One step; a failure is recorded (with its trace) and printed, and the other steps still run."""
    print(f"== {key}", flush=True)
    started = time.perf_counter()
    try:
        report[key] = fn()
    except Exception as exc:  # noqa: BLE001 - every failure is reported in the JSON and on stderr, not hidden
        logger.error("gpu-check step %s failed: %s", key, exc)
        report[key] = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-4000:]}
    report.setdefault("step_seconds", {})[key] = round(time.perf_counter() - started, 1)


def step_ok(value: Any) -> bool:
    if isinstance(value, list):
        return all(step_ok(v) for v in value)
    if isinstance(value, dict):
        return value.get("ok", True) is True
    return True


def pack(folder: Path, out: Path) -> list[dict[str, Any]]:
    """FOLDER's files into OUT/models-N.tar archives of at most ARCHIVE_BYTES each (a file stays whole)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    groups: list[list[Path]] = []
    size = ARCHIVE_BYTES + 1
    for path in files:
        if size + path.stat().st_size > ARCHIVE_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(path)
        size += path.stat().st_size
    archives = []
    for n, group in enumerate(groups, 1):
        target = out / f"models-{n}.tar"
        with tarfile.open(target, "w") as tar:
            for path in group:
                tar.add(path, arcname=path.name)
        archives.append({"archive": target.name, "files": [p.name for p in group], "bytes": target.stat().st_size})
    return archives


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the CUDA path: throughput, a worker job, torchrun with "
                                     "NCCL, and the shipped models retrained. Writes a JSON report to --out.")
    parser.add_argument("--out", required=True, help="folder for gpu-check.json and models-N.tar")
    parser.add_argument("--dry-run-cpu", action="store_true", help="the same steps, tiny, on the CPU")
    parser.add_argument("--time-limit", type=float, default=540.0, help="seconds the whole run aims to end within")
    parser.add_argument("--skip", action="append", default=[], choices=("throughput", "worker_job", "torchrun",
                                                                         "retrain"), help="leave a step out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import torch

    if not args.dry_run_cpu and not torch.cuda.is_available():
        print("gpu-check: no CUDA device here (torch.cuda.is_available() is False, torch "
              f"{torch.__version__}). Run it on a machine with an NVIDIA GPU, or add --dry-run-cpu to run the same "
              "steps tiny on the CPU.", file=sys.stderr)
        return EXIT_NO_CUDA
    deadline = time.monotonic() + args.time_limit
    device = torch.device("cpu" if args.dry_run_cpu else "cuda")
    sizes = DRY if args.dry_run_cpu else GPU
    if args.dry_run_cpu:
        torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {"mode": "dry-run-cpu" if args.dry_run_cpu else "cuda", "environment": environment(device)}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        scratch = Path(tmp)
        mnist_dir = write_mnist_idx(scratch / "data", limit=500 if args.dry_run_cpu else None)
        # Two steps start early in their own processes: the worker job (paused, so it adds no load) during
        # the throughput step, and torchrun during the worker job (on the CPU, at once: its load does not matter).
        launch = Torchrun(device.type, sizes.ddp_steps, scratch / "ddp")
        job_started = time.perf_counter()
        job = start_worker_job(device, sizes, mnist_dir) if "worker_job" not in args.skip else None
        if args.dry_run_cpu and "torchrun" not in args.skip:
            launch.start()
        steps = {"throughput": lambda: throughput(device, sizes, mnist_dir),
                 "worker_job": lambda: worker_job(job, job_started, scratch, sizes),
                 "torchrun": lambda: launch.result(),
                 "retrain": lambda: retrain_shipped(device, sizes, mnist_dir, scratch, deadline, args.dry_run_cpu)}
        try:
            for key, fn in steps.items():
                if key in args.skip:
                    continue
                if key in ("worker_job", "torchrun") and "torchrun" not in args.skip and launch.process is None:
                    launch.start()
                run_step(report, key, fn)
        finally:
            if job is not None and job.worker_alive():  # a step failed before the worker job's own close
                job.close()
        report["archives"] = pack(scratch / "models", out)
    report["not_allowed_modules_imported"] = sorted({name.split(".")[0] for name, module in sys.modules.items()
                                                     if module is not None} & set(NOT_ALLOWED))
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["ok"] = (all(step_ok(report[k]) for k in ("throughput", "worker_job", "torchrun", "retrain") if k in report)
                    and not report["not_allowed_modules_imported"])
    (out / "gpu-check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"gpu-check {'passed' if report['ok'] else 'FAILED'} in {report['seconds']:.0f}s: {out / 'gpu-check.json'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
