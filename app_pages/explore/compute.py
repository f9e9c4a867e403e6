"""The Explore page's computation, free of Streamlit: latents, images, grids, interpolations, verdicts.

Every function takes a loaded GAN and plain values, so tests call them directly and the page
stays a thin layer of widgets. Single images are generated on one torch thread: on a shared
2-core server, splitting a 1-ms forward pass over threads costs more in synchronisation than
it saves (measured: ~0.5 ms on one thread vs tens of ms on two under load).
"""
from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from gan_core import GAN
from gan_core.explore.class_blend import generate_blended
from gan_core.explore.directions import Directions
from gan_core.explore.latent import Z_LIMIT, interpolate, sample_latents
from gan_core.io.images import grid, to_uint8

DIR_LIMIT = 3.0  # direction sliders span [-DIR_LIMIT, DIR_LIMIT] sigmas
TRUNC_RANGE = (0.0, 2.0)
SEED_MAX = 2**31 - 1
RANDOM_SEEDS = 100_000  # Random picks a seed below this (short numbers to read out in class)
GRID_COLUMNS = 6  # the class grid: this sample, then the next seeds
IMAGE_SCALE = 8  # a 28x28 sample is shown as 224x224 with crisp pixels (a 32x32 emoji as 256x256)
LABEL_CHARS, LABEL_LINE = 14, 16  # a class grid's row label: characters per line, line height in pixels
GIF_MIN_SIZE = 256  # the animated interpolation is at least this many pixels high (28x28 -> 280x280, 32x32 -> 256)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch ops on one thread in this (script) thread only; other threads keep their setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def base_latent(gan: GAN, seed: int) -> torch.Tensor:
    """The seed's z (1-D), clipped to the slider range so every value can be shown on a slider (a fresh copy)."""
    return _base_latent(gan.z_dim, int(seed)).clone()


@functools.lru_cache(maxsize=256)
def _base_latent(z_dim: int, seed: int) -> torch.Tensor:
    return sample_latents(1, z_dim, seed=seed)[0].clamp(-Z_LIMIT, Z_LIMIT)


def current_latent(gan: GAN, seed: int, overrides: dict[int, float]) -> torch.Tensor:
    """The seed's z with the user's slider values written over it."""
    z = base_latent(gan, seed)
    for dim, value in overrides.items():
        z[int(dim)] = float(value)
    return z


def effective_latent(z: torch.Tensor, truncation: float, directions: Directions | None = None,
                     amounts: dict[int, float] | None = None) -> torch.Tensor:
    """psi * z, then moved along the chosen directions (moves are not shrunk by truncation)."""
    out = z * float(truncation)
    if directions is not None and amounts:
        for k, a in amounts.items():
            if 0 <= int(k) < len(directions):
                out = out + float(a) * directions.scales[int(k)] * directions.vectors[int(k)]
    return out


def _labels(gan: GAN, cls: int | None, n: int = 1) -> torch.Tensor | None:
    if not gan.num_classes:
        return None
    return torch.full((n,), int(cls or 0), dtype=torch.long)


def generate_one(gan: GAN, z: torch.Tensor, cls: int | None) -> torch.Tensor:
    """One generator output (1 x C x H x W image or 1 x 2 point) for a 1-D latent."""
    with single_thread():
        return gan.generate(z.unsqueeze(0), _labels(gan, cls))


def image_array(x: torch.Tensor, scale: int = 1) -> np.ndarray:
    """A generated batch of one image as uint8 H x W (gray) or H x W x 3, optionally upscaled with crisp pixels."""
    arr = to_uint8(x)[0]
    arr = arr[..., 0] if arr.shape[-1] == 1 else arr
    if scale > 1:
        arr = arr.repeat(scale, 0).repeat(scale, 1)
    return np.ascontiguousarray(arr)


def verdict(gan: GAN, x: torch.Tensor, cls: int | None) -> float | None:
    """D(x) as a probability for one generated sample, or None without a discriminator."""
    with single_thread():
        p = gan.discriminate(x, _labels(gan, cls, len(x)))
    return None if p is None else float(p.flatten()[0])


def verdict_words(p: float) -> str:
    """A plain reading of D(x) for students."""
    if p >= 0.7:
        return "the discriminator believes this is a real image"
    if p <= 0.3:
        return "the discriminator spots this as generated"
    return "the discriminator is unsure (near 0.5 is what a well-balanced GAN ends with)"


@dataclass
class ClassGrid:
    """Every class (rows) x the same latents (columns), as one picture."""

    image: np.ndarray
    row_names: list[str]
    images: torch.Tensor  # (classes * columns) x C x H x W, row-major


def other_columns(gan: GAN, seed: int, truncation: float, columns: int = GRID_COLUMNS) -> torch.Tensor:
    """The class grid's columns 1.. (seeds seed+1, seed+2, ...) for every class: classes x (columns-1) x C x H x W.

    They do not depend on the sliders, so the page caches them per (model, seed, truncation) and a
    latent move only generates column 0.
    """
    if not gan.num_classes:
        raise ValueError("a class grid needs a conditional model")
    k, n = gan.num_classes, columns - 1
    zs = torch.stack([sample_latents(1, gan.z_dim, seed=(int(seed) + j) % (SEED_MAX + 1), truncation=truncation)[0]
                      for j in range(1, columns)])
    with single_thread():
        images = gan.generate(zs.repeat(k, 1), torch.arange(k).repeat_interleave(n))
    return images.reshape(k, n, *images.shape[1:])


def class_grid(gan: GAN, z: torch.Tensor, seed: int, truncation: float, columns: int = GRID_COLUMNS,
               others: torch.Tensor | None = None) -> ClassGrid:
    """Column 0 is the current latent z (already effective); columns 1.. are seeds seed+1, seed+2, ...

    `others` is other_columns(gan, seed, truncation, columns), computed here when not given.
    """
    if not gan.num_classes:
        raise ValueError("a class grid needs a conditional model")
    k = gan.num_classes
    if others is None:
        others = other_columns(gan, seed, truncation, columns)
    with single_thread():  # the cat too: a 2-thread op wakes torch's worker thread, which then spins for ms
        first = gan.generate(z.unsqueeze(0).expand(k, -1), torch.arange(k))
        images = torch.cat([first.unsqueeze(1), others], dim=1).reshape(k * columns, *first.shape[1:])
    names = list(gan.class_names or [])
    pad, scale = 2, 2
    picture = grid(images, nrow=columns, pad=pad, scale=scale)
    return ClassGrid(row_labels(picture, names, (images.shape[-2] + pad) * scale, pad * scale), names, images)


def row_labels(picture: np.ndarray, names: list[str], pitch: int, top: int, width: int = 110) -> np.ndarray:
    """The picture with each row's name written in a margin on its left (so labels can never misalign).

    A gray picture stays gray (H x W): a third of the bytes to encode and send on every slider move."""
    margin = _label_margin(tuple(names), picture.shape[0], pitch, top, width)
    if picture.ndim == 3:
        margin = np.repeat(margin[..., None], picture.shape[2], axis=2)
    return np.concatenate([margin, picture], axis=1)


@functools.lru_cache(maxsize=16)
def _label_margin(names: tuple[str, ...], height: int, pitch: int, top: int, width: int) -> np.ndarray:
    """The white label column, gray (drawn once per layout; PIL text drawing costs more than the rest of the grid)."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # old Pillow: fixed-size bitmap font
        font = ImageFont.load_default()
    for r, name in enumerate(names):
        lines = textwrap.wrap(name, LABEL_CHARS)[:2] if pitch >= 2 * LABEL_LINE else [name[:LABEL_CHARS]]
        y = top + r * pitch + (pitch - LABEL_LINE * len(lines)) // 2
        for i, line in enumerate(lines):  # emoji's "Smileys & Emotion" on two lines, not cut to "Smileys & Emot"
            draw.text((6, y + i * LABEL_LINE), line[:LABEL_CHARS], fill=30, font=font)
    margin = np.asarray(canvas)
    margin.flags.writeable = False  # shared between calls
    return margin


def seed_frames(gan: GAN, z_start: torch.Tensor, seed_b: int, cls: int | None, truncation: float, steps: int,
                method: str) -> torch.Tensor:
    """Generator outputs along the lerp/slerp path from z_start (the sample's effective z) to seed B's z at the
    same ψ and class: the browser's interpolation strip, made on the server for its downloads."""
    z_b = sample_latents(1, gan.z_dim, seed=int(seed_b), truncation=truncation)[0]
    zs = interpolate(z_start, z_b, steps, method)
    with single_thread():
        return gan.generate(zs, _labels(gan, cls, steps))


def class_frames(gan: GAN, z: torch.Tensor, class_a: int, class_b: int, steps: int) -> torch.Tensor:
    """Generator outputs for one z while the class embedding moves from class A to class B."""
    t = torch.linspace(0, 1, steps)
    with single_thread():
        return generate_blended(gan, z.unsqueeze(0).expand(steps, -1), class_a, class_b, t)


def strip(frames: torch.Tensor, scale: int = 3) -> np.ndarray:
    """Frames side by side as one picture."""
    return grid(frames, nrow=len(frames), scale=scale)


def gif_frames(frames: torch.Tensor, scale: int | None = None) -> list[np.ndarray]:
    """Upscaled uint8 frames for an animated GIF, played forward then back (a smooth loop).

    By default each frame is scaled by a whole number to at least GIF_MIN_SIZE pixels (crisp pixels).
    """
    if scale is None:
        scale = max(1, -(-GIF_MIN_SIZE // int(frames.shape[-2])))
    arrays = [image_array(frames[i:i + 1], scale) for i in range(len(frames))]
    return arrays + arrays[-2:0:-1]


def point_cloud(gan: GAN, n: int = 1000, seed: int = 0, truncation: float = 1.0) -> np.ndarray:
    """n generated 2-D points (for toy models) as an n x 2 array."""
    z = sample_latents(n, gan.z_dim, seed=seed, truncation=truncation)
    with single_thread():
        return gan.generate(z).numpy()
