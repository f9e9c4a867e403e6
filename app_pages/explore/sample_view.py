"""What Python draws for the sample, on both paths: D(x) with its reading, and the downloads.

The browser path calls these for the state the element last sent; the server path (the fallback) for
its sliders' state. Both compute the sample with `compute_sample`, inside a CPU turn.
"""
from __future__ import annotations

from functools import partial

import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore.cache import grid_columns
from app_pages.explore.state import ExploreState, Interpolation, Sample
from app_shared.cpu_turns import cpu_turn
from gan_core import GAN
from gan_core.explore.directions import Directions
from gan_core.io.images import gif_bytes, png_bytes

DX_HELP = ("**D(x)** is the discriminator's probability that the image is real. During training it is the "
           "generator's opponent; at the end of a balanced run it says about 0.5 for everything, so read it as "
           "a curiosity, not a quality score.")
GIF_FPS = 8


def compute_sample(gan: GAN, directions: Directions, view: ExploreState) -> Sample:
    """The view's effective z, image and D(x) (a few ms of torch: simultaneous moves take turns)."""
    cls = view.cls if gan.num_classes else None
    with cpu_turn():
        z = ec.current_latent(gan, view.seed, view.z)
        z_eff = ec.effective_latent(z, view.truncation, directions, dict(sorted(view.dirs.items())))
        x = ec.generate_one(gan, z_eff, cls)
        p = ec.verdict(gan, x, cls)
    return Sample(z_eff, cls, x, p)


def draw_verdict(sample: Sample, note: str) -> None:
    """D(x) and its plain reading, then `note` (where and when the sample was made)."""
    if sample.p is None:
        st.caption(note)
        return
    st.metric("D(x)", f"{sample.p:.2f}", help=DX_HELP)  # no columns around them: two elements per move, not five
    words = ec.verdict_words(sample.p)
    st.caption(f"{words[:1].upper()}{words[1:]}. {note}")


def strip_frames(gan: GAN, sample: Sample, view: ExploreState, interp: Interpolation) -> torch.Tensor:
    """The frames of the browser's interpolation strip, made on the server (for the downloads)."""
    if interp.mode == "classes" and gan.num_classes:
        b = interp.class_b if interp.class_b is not None else (view.cls + 1) % gan.num_classes
        return ec.class_frames(gan, sample.z, view.cls, b, interp.steps)
    seed_b = interp.seed_b if interp.seed_b is not None else (view.seed + 1) % (ec.SEED_MAX + 1)
    return ec.seed_frames(gan, sample.z, seed_b, sample.cls, view.truncation, interp.steps, interp.method)


def _grid_png(gan: GAN, sample: Sample, view: ExploreState) -> bytes:
    others = grid_columns(gan, view.seed, view.truncation)
    return png_bytes(ec.class_grid(gan, sample.z, view.seed, view.truncation, others=others).image)


def draw_downloads(gan: GAN, sample: Sample, view: ExploreState, interp: Interpolation) -> None:
    """Image, class grid, strip and animation as files, each encoded only when its button is clicked."""
    if gan.kind == "points":
        return
    name = f"{gan.name}-seed{view.seed}"
    row = st.container(horizontal=True)
    row.download_button("Download image (PNG)", partial(png_bytes, ec.image_array(sample.x, ec.IMAGE_SCALE)),
                        file_name=f"{name}.png", mime="image/png", on_click="ignore", key="ex_dl_image")
    if gan.num_classes:
        row.download_button("Download grid (PNG)", partial(_grid_png, gan, sample, view),
                            file_name=f"{name}-grid.png", mime="image/png", on_click="ignore", key="ex_dl_grid")
    frames = partial(strip_frames, gan, sample, view, interp)
    row.download_button("Download strip (PNG)", lambda: png_bytes(ec.strip(frames())), file_name=f"{name}-strip.png",
                        mime="image/png", on_click="ignore", key="ex_dl_strip")
    row.download_button("Download animation (GIF)", lambda: gif_bytes(ec.gif_frames(frames()), fps=GIF_FPS),
                        file_name=f"{name}-interpolation.gif", mime="image/gif", on_click="ignore", key="ex_dl_gif")
