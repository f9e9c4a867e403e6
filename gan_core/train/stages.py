"""The sample grids a progressive run keeps, one per stage (7×7, 14×14, 28×28 for MNIST).

The trainer takes a few of its fixed-noise samples at each snapshot step (the latest grid of the stage in
progress) and once more as a stage ends, at the stage's own resolution: a growing generator's output is
its stage's image upsampled by nearest neighbour (gan_core.nn.progressive), so striding it gives that
image exactly. The Train page shows the grids side by side.
"""
from __future__ import annotations

import numpy as np

from gan_core.train.history import StageSample

GROWTH_EVENT = "growing: {size}×{size} fades in"  # the history event where a stage starts to fade in
GROWTH_EVENT_PREFIX = GROWTH_EVENT.split("{", 1)[0]
STAGE_GRID_MAX = 36  # samples per stage grid: cheap to keep, send and draw
UNCONDITIONAL_GRID = (32, 8)  # (samples, per row)


def stage_picks(n_fixed: int, num_classes: int | None) -> tuple[list[int], int]:
    """Which of the fixed samples a stage grid shows, and how many per row.

    Conditional (fixed labels in class order, n_fixed / num_classes each): a few rows, each with one sample
    of every class (the first classes only when there are more than STAGE_GRID_MAX). Else the first 32."""
    if not num_classes:
        count, nrow = UNCONDITIONAL_GRID
        return list(range(min(count, n_fixed))), nrow
    per_class = max(1, n_fixed // num_classes)
    classes = min(num_classes, STAGE_GRID_MAX)
    rows = max(1, min(per_class, STAGE_GRID_MAX // classes))
    return [c * per_class + j for j in range(rows) for c in range(classes)], classes


def stage_sample(step: int, full_size: np.ndarray, resolution: int, nrow: int, final: bool = False) -> StageSample:
    """A StageSample from uint8 (N, C, S, S) samples of a generator at a stage of `resolution` (S / stride)."""
    size = full_size.shape[-1]
    stride = size // resolution
    native = np.ascontiguousarray(full_size[..., ::stride, ::stride])
    return StageSample(resolution=resolution, step=step, samples=native, nrow=nrow, size=size, final=final)
