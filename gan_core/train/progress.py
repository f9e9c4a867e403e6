"""The command line's progress bar, as an `on_step` hook of the training loop."""
from __future__ import annotations

from typing import Any

from tqdm import tqdm


class ProgressBar:
    """A tqdm bar over the steps budget with the latest losses and speed; off when `show` is False."""

    def __init__(self, total_steps: int | None, show: bool = True, world_size: int = 1) -> None:
        self.world_size = world_size  # images/s counts every rank's images
        self.bar = tqdm(total=total_steps, disable=not show, unit="step", dynamic_ncols=True, mininterval=0.5)

    def __call__(self, trainer: Any, row: dict[str, float] | None) -> None:
        self.bar.update(1)
        if row is not None:
            self.bar.set_postfix(d=f"{row['d_loss']:.3f}", g=f"{row['g_loss']:.3f}",
                                 img_s=f"{row['images_per_s'] * self.world_size:.0f}", refresh=False)

    def close(self) -> None:
        self.bar.close()
