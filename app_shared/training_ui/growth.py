"""A progressive run on the Train page: its resolution and fade-in alpha for the status line, and its sample
grid of each stage (gan_core.train.stages), enlarged to one size so the stages compare, with their captions.
Other runs have no resolution in their records and no stage grids: nothing here shows for them."""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from gan_core.io.images import grid, png_bytes
from gan_core.train.history import StageSample

STAGE_PNG_KEY = "_stage_png"


def growth_status(rows: list[dict[str, Any]]) -> str | None:
    """"resolution 14×14, α 0.43 (fading in)" from the latest record of a growing run; None for other runs."""
    last = next((r for r in reversed(rows) if r.get("resolution") is not None), None)
    if last is None:
        return None
    resolution, alpha = int(last["resolution"]), float(last["fade_alpha"])
    return f"resolution {resolution}×{resolution}, α {alpha:.2f} ({'fading in' if alpha < 1 else 'stable'})"


def stage_caption(sample: StageSample) -> str:
    r = sample.resolution
    return f"{r}×{r}, step {sample.step:,} ({'end of the stage' if sample.final else 'latest'})"


def stage_image(sample: StageSample, presenter: bool = False) -> np.ndarray:
    """The stage's grid, each sample enlarged (nearest neighbour) to the run's full image size."""
    factor = sample.size // sample.resolution
    tiles = sample.samples.repeat(factor, -1).repeat(factor, -2)
    return grid(tiles, nrow=sample.nrow, scale=2 if presenter else 1)


def _stage_png(sample: StageSample, job_id: int, presenter: bool) -> bytes:
    """PNG bytes of a stage grid, made once per grid (cached in session state, one per resolution)."""
    cache = st.session_state.setdefault(STAGE_PNG_KEY, {})
    key = (job_id, sample.step, sample.final, presenter)
    if sample.resolution not in cache or cache[sample.resolution][0] != key:
        cache[sample.resolution] = (key, png_bytes(stage_image(sample, presenter), compress_level=1))
    return cache[sample.resolution][1]


def draw_stage_samples(stages: list[StageSample], job_id: int, presenter: bool = False) -> None:
    """One grid per stage reached, smallest first; nothing for a run that does not grow."""
    if not stages:
        return
    st.markdown("**Samples at each stage**")
    st.caption("The same noise at each resolution the generator has reached, each stage's pixels enlarged to "
               "full size: a stage's grid as it ended, or the latest one of the stage in progress.")
    for sample in stages:
        st.image(_stage_png(sample, job_id, presenter), caption=stage_caption(sample), width="stretch",
                 output_format="PNG")
