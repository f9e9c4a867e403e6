"""Distributed training with torchrun (filled in by the scaling issue)."""
from __future__ import annotations

import os


def maybe_run_distributed(config, args) -> int | None:
    """Under torchrun (WORLD_SIZE > 1) run the DDP trainer and return its exit code; else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    raise NotImplementedError("distributed training is not wired up yet")
