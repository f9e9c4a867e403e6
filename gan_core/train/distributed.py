"""Distributed training under torchrun: `torchrun --nproc_per_node N -m gan_core train ...`.

PyTorch DistributedDataParallel does the work: gloo on CPU, nccl on CUDA (one GPU per rank,
`cuda:LOCAL_RANK`). Each rank trains on its own shard of the images (`Dataset.shard`) with its
own random stream; DDP averages the gradients of G and D, so every rank holds the same
weights after every step. Only rank 0 shows a progress bar and writes the checkpoint, whose
JSON records the world size and a hash of every rank's weights (`distributed.ranks_equal`).

How the trainer is wrapped: `Trainer.G_train` / `Trainer.D_train` (what `step()` calls for the
discriminator update) become DDP wrappers of G and D. The generator update calls the plain,
frozen D: its gradients reach G's parameters, whose DDP hooks average them. Penalties (R1,
WGAN-GP) call the plain D inside the same backward pass, so D's hooks still fire once per
parameter. Checkpoints and samples use the plain modules, so state-dict keys stay unprefixed.

BatchNorm in G: on CUDA it becomes SyncBatchNorm (batch statistics over all ranks); on CPU
(SyncBatchNorm needs a GPU) each rank normalises by its own batch and the running statistics
are averaged over ranks at the end, before saving.

Batch size is per rank: N ranks with --batch-size B see N x B images per step.

The steps run in the one training loop (gan_core.train.loop) with an `agree` hook: divergence and
the seconds budget (rank 0's clock) are checked on the same steps on every rank and all-reduced,
so all ranks stop at the same step.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_core.settings import settings
from gan_core.train.config import TrainConfig
from gan_core.train.loop import Agreement, Budget, LoopEnd, TrainingLoop
from gan_core.train.progress import ProgressBar

SEED_STRIDE = 104_729  # rank r draws from seed + r * SEED_STRIDE
DEBUG_DIR_ENV = "GAN_DDP_DEBUG_DIR"  # tests: each rank writes its final weights here (settings().ddp_debug_dir)


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun launch."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launch_info() -> Launch | None:
    """The torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK, ...) when WORLD_SIZE > 1, else None."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    return Launch(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")), local_world)


def device_and_backend(requested: str, local_rank: int) -> tuple[torch.device, str]:
    """cuda:LOCAL_RANK with nccl where CUDA is wanted and present, else cpu with gloo."""
    if requested in (None, "", "auto"):
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    kind = torch.device(requested).type
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {requested!r} requested but CUDA is not available on this machine")
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"local rank {local_rank} has no GPU: this machine has {torch.cuda.device_count()}; "
                             "use --nproc_per_node at most the number of GPUs")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank), "nccl"
    if kind == "cpu":
        return torch.device("cpu"), "gloo"
    raise ValueError(f"distributed training runs on cuda (nccl) or cpu (gloo), not {requested!r}")


def wrap_trainer(trainer, launch: Launch) -> None:
    """Make step() train through DDP: same initial weights everywhere, then averaged gradients."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    device = trainer.device
    if device.type == "cuda":
        trainer.G = torch.nn.SyncBatchNorm.convert_sync_batchnorm(trainer.G)  # shares the same Parameters
    ids = [device.index] if device.type == "cuda" else None
    # No buffer sync before each forward pass: BatchNorm running stats are averaged once at the
    # end (average_buffers) rather than overwritten from rank 0 every step.
    sync = _no_forward_buffer_sync()
    # A growing model (gan_core.nn.progressive) leaves its later stages without gradients until they fade in
    unused = {"find_unused_parameters": True} if trainer.grows else {}
    trainer.G_train = DDP(trainer.G, device_ids=ids, **sync, **unused)
    trainer.D_train = DDP(trainer.D, device_ids=ids, **sync, **unused)
    if trainer.ema is not None:  # DDP broadcast rank 0's weights; the EMA starts from them
        trainer.ema.load_state_dict(trainer.G.state_dict())
    seed = trainer.config.seed + SEED_STRIDE * launch.rank
    trainer.reseed(seed)  # this rank's real batches, z and penalty noise (the process RNG is left alone)
    trainer._save_good_state()


def _no_forward_buffer_sync() -> dict[str, bool]:
    """`forward_sync_buffers=False` where this torch has it (newer), else `broadcast_buffers=False`."""
    import inspect

    from torch.nn.parallel import DistributedDataParallel as DDP
    if "forward_sync_buffers" in inspect.signature(DDP.__init__).parameters:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}


def average_buffers(*modules: torch.nn.Module | None) -> None:
    """Average floating-point buffers (BatchNorm running stats) over all ranks."""
    import torch.distributed as dist

    world = dist.get_world_size()
    for module in modules:
        if module is None:
            continue
        for buf in module.buffers():
            if buf.is_floating_point():
                dist.all_reduce(buf)
                buf.div_(world)


def weights_hash(*modules: torch.nn.Module | None) -> str:
    """sha256 of every tensor (parameters and buffers) of the modules, in state-dict order."""
    h = hashlib.sha256()
    for module in modules:
        if module is None:
            continue
        for name, tensor in module.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _write_debug_weights(trainer, launch: Launch) -> None:
    folder = settings().ddp_debug_dir
    if folder is None:
        return
    from safetensors.torch import save_file
    tensors = {f"generator.{k}": v.detach().cpu().contiguous()
               for k, v in trainer.sampling_generator.state_dict().items()}
    tensors.update({f"discriminator.{k}": v.detach().cpu().contiguous() for k, v in trainer.D.state_dict().items()})
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / f"rank{launch.rank}.safetensors"))


def rank_agreement(launch: Launch, device: torch.device) -> Agreement:
    """The loop's `agree` hook: (any rank diverged, rank 0 out of time), all-reduced over the ranks."""
    import torch.distributed as dist

    def agree(diverged: bool, out_of_time: bool) -> tuple[bool, bool]:
        flags = torch.tensor([float(diverged), float(out_of_time and launch.is_main)], device=device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return bool(flags[0] > 0), bool(flags[1] > 0)
    return agree


def train_loop(trainer, launch: Launch, show_progress: bool = True) -> LoopEnd:
    """Step until the budget or a divergence on any rank; every rank ends at the same step."""
    bar = ProgressBar(trainer.config.steps, show=show_progress and launch.is_main, world_size=launch.world_size)
    try:
        return TrainingLoop(trainer, Budget.of(trainer.config), on_step=bar,
                            agree=rank_agreement(launch, trainer.device)).run()
    finally:
        bar.close()


def run_distributed(config: TrainConfig, launch: Launch, out: Path, name: str = "generator",
                    init_from: str | None = None, show_progress: bool = True) -> LoopEnd:
    """The `train` command on one rank of a torchrun launch; only rank 0 prints and writes files.

    Returns how the loop ended, the same on every rank (a divergence anywhere ends all of them)."""
    import torch.distributed as dist

    from gan_core.data.datasets import load_dataset
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint
    from gan_core.train.run_files import write_run_files
    from gan_core.train.trainer import Trainer

    device, backend = device_and_backend(config.device, launch.local_rank)
    torch.set_num_threads(config.num_threads or max(1, (os.cpu_count() or 1) // launch.local_world_size))
    dist.init_process_group(backend)
    try:
        full = load_dataset(config.dataset, config.data_dir, limit=config.data_limit, folder_rgb=config.folder_rgb)
        batch = config.resolved().batch_size
        if full.kind == "image" and batch > len(full) // launch.world_size:
            raise ValueError(f"batch size {batch} per rank is larger than each rank's share of the dataset "
                             f"({len(full)} images / {launch.world_size} ranks)")
        trainer = Trainer(config, full.shard(launch.rank, launch.world_size), device=device)
        if init_from:
            trainer.load_weights(load_checkpoint(resolve_checkpoint(init_from), device))
        wrap_trainer(trainer, launch)
        if launch.is_main and trainer.config.eval_every:
            from gan_core.eval.metrics import trainer_evaluator
            trainer.evaluator = trainer_evaluator(trainer)
        if launch.is_main:
            print(f"training {trainer.config.model} on {config.dataset} ({trainer.data.source}) with {config.loss} "
                  f"loss: {launch.world_size} ranks, {backend} on {device.type}, "
                  f"{trainer.config.batch_size} images per rank per step", file=sys.stderr)
        started = time.perf_counter()
        end = train_loop(trainer, launch, show_progress=show_progress)
        wall = time.perf_counter() - started
        average_buffers(trainer.G, trainer.ema)
        mine = weights_hash(trainer.sampling_generator, trainer.D)
        hashes: list[Any] = [None] * launch.world_size
        dist.all_gather_object(hashes, mine)
        _write_debug_weights(trainer, launch)
        if launch.is_main:
            info = {"world_size": launch.world_size, "backend": backend, "device": device.type,
                    "batch_size_per_rank": trainer.config.batch_size, "weight_hashes": hashes,
                    "ranks_equal": len(set(hashes)) == 1}
            command = "torchrun --nproc_per_node {} -m gan_core {}".format(launch.local_world_size,
                                                                           " ".join(sys.argv[1:]))
            path = write_run_files(trainer, Path(out), name, command, wall, end.diverged, distributed=info)
            if end.diverged:
                print(f"error: {end.message}; the last good weights are in {path}", file=sys.stderr)
            else:
                print(f"wrote {path} after {trainer.step_count} steps in {wall:.0f}s on {launch.world_size} ranks "
                      f"(weights equal on all ranks: {info['ranks_equal']})")
        dist.barrier()
        return end
    finally:
        dist.destroy_process_group()
