"""The files a run leaves in its folder: the checkpoint and a sheet of its samples.

One writer for `gan train` in one process and for rank 0 under torchrun; `save_at_step` names an app save.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gan_core.io.checkpoint import atomic_write_bytes
from gan_core.io.images import samples_sheet_png
from gan_core.train.trainer import Trainer

REAL_POINTS = 1000  # real points drawn behind a toy run's samples


def write_sample_sheet(trainer: Trainer, path: Path) -> None:
    """PATH (a .png): the trainer's samples of its fixed noise, over real points for toy data."""
    samples = trainer.generate(trainer.fixed_z, trainer.fixed_labels).numpy()
    real = trainer.data.sample(REAL_POINTS)[0].cpu().numpy() if trainer.data.kind != "image" else None
    atomic_write_bytes(path, samples_sheet_png(samples, trainer.data.kind,
                                               trainer.num_classes if trainer.conditional else None, real))


def write_run_files(trainer: Trainer, out: Path, name: str, command: str, wall_seconds: float, diverged: bool,
                    **extra: Any) -> Path:
    """OUT/NAME.safetensors + OUT/NAME.json (the checkpoint) and OUT/NAME.png; returns the weights' path."""
    path = trainer.save(out / name, command=command, wall_time_s=round(wall_seconds, 1), diverged=diverged,
                        name=name if name != "generator" else None, **extra)
    write_sample_sheet(trainer, out / f"{name}.png")
    return path


def save_at_step(trainer: Trainer, folder: str | Path, stem: str) -> Path:
    """FOLDER/STEM-stepN, N the trainer's step as it saves: run between steps in the job's own process, so the name,
    the weights and the checkpoint's recorded step agree (the page's mirror of the step lags the worker)."""
    return trainer.save(Path(folder) / f"{stem}-step{trainer.step_count}")
