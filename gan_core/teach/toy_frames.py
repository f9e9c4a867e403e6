"""One frame of the 2-D playground's animation: the toy views of toy_viz, small and quantised.

A frame is recorded FRAME_RATE times a second while a toy GAN trains (gan_core.train.frames), so it is made
cheaply (a fixed batch of FRAME_POINTS points, D on a FRAME_GRID x FRAME_GRID grid, a FRAME_MANIFOLD^2
manifold) and kept small (~3 KB): positions are int16 over +-POSITION_SPAN view half-widths, arrows
int16 relative to the longest, D's surface uint8 over its range. The browser reads the same typed
arrays; the methods below give the values back in data units for Python (tests, benchmarks).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_core.data.datasets import TOY_DATASETS
from gan_core.teach.toy_viz import (
    PROBABILITY_LOSSES,
    decision_surface,
    generator_gradients,
    generator_manifold,
    view_extent,
)
from gan_core.train.frames import FrameMaker

FRAME_POINTS = 256  # generated points per frame (the first of the trainer's fixed z)
FRAME_ARROWS = 64  # of which this many carry G's gradient arrow (the static plot draws 64 too)
FRAME_GRID = 24  # D is drawn on a FRAME_GRID x FRAME_GRID grid (the browser smooths it)
FRAME_MANIFOLD = 13  # the manifold: the image of a FRAME_MANIFOLD x FRAME_MANIFOLD grid of z
POSITION_SPAN = 4.0  # positions are kept within +-POSITION_SPAN x the view's half-width (farther: clipped)
INT16_MAX = 32767


@dataclass(frozen=True)
class ToyFrame:
    """The playground's views at one step, quantised (see the module docstring)."""

    seq: int
    step: int
    time: float  # seconds since the job's recorder started (the worker's clock)
    extent: float  # the view's half-width
    fake: np.ndarray  # int16 (N, 2): position / position_unit
    arrows: np.ndarray  # int16 (K, 2): -dLoss_G/dx at the first K fake points, / arrow_length * INT16_MAX
    arrow_length: float  # the longest arrow's length in data units (0: all arrows are zero)
    surface: np.ndarray  # uint8 (R, R), row = y from the bottom: 0..255 over [surface_lo, surface_hi]
    surface_lo: float
    surface_hi: float
    probability: bool  # the surface is D(x) in [0, 1] (else a critic's score)
    manifold: np.ndarray  # int16 (n, n, 2), like `fake`

    @property
    def position_unit(self) -> float:
        return POSITION_SPAN * self.extent / INT16_MAX

    def fake_points(self) -> np.ndarray:
        return self.fake.astype(np.float32) * self.position_unit

    def manifold_points(self) -> np.ndarray:
        return self.manifold.astype(np.float32) * self.position_unit

    def arrow_vectors(self) -> np.ndarray:
        return self.arrows.astype(np.float32) * (self.arrow_length / INT16_MAX)

    def surface_values(self) -> np.ndarray:
        return self.surface_lo + self.surface.astype(np.float32) * ((self.surface_hi - self.surface_lo) / 255.0)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.fake, self.arrows, self.surface, self.manifold))


def quantise_positions(points: np.ndarray, extent: float) -> np.ndarray:
    """int16 positions in units of POSITION_SPAN * extent / INT16_MAX; NaN becomes 0, far points the edge."""
    unit = POSITION_SPAN * extent / INT16_MAX
    q = np.nan_to_num(np.asarray(points, dtype=np.float64) / unit, nan=0.0, posinf=INT16_MAX, neginf=-INT16_MAX)
    return np.clip(np.rint(q), -INT16_MAX, INT16_MAX).astype(np.int16)


def quantise_arrows(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """int16 arrows relative to the longest one, and that length (the shape of the field is what is drawn)."""
    v = np.nan_to_num(np.asarray(vectors, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    longest = float(np.hypot(v[:, 0], v[:, 1]).max()) if len(v) else 0.0
    if longest == 0.0:
        return np.zeros(v.shape, np.int16), 0.0
    return np.rint(v / longest * INT16_MAX).astype(np.int16), longest


def quantise_surface(values: np.ndarray, probability: bool) -> tuple[np.ndarray, float, float]:
    """uint8 levels over [0, 1] for a probability, else over the surface's own range (as the static plot)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    lo, hi = (0.0, 1.0) if probability else (float(v.min()), float(v.max()))
    span = hi - lo if hi > lo else 1.0
    return np.clip(np.rint((v - lo) / span * 255.0), 0, 255).astype(np.uint8), lo, hi


def toy_frame(trainer, seq: int, time: float) -> ToyFrame:
    """The frame of a toy Trainer now (a gan_core.train.frames.FrameMaker); call it between steps."""
    cfg = trainer.config
    extent = view_extent(cfg.dataset)
    g = trainer.sampling_generator
    fake, grads = generator_gradients(g, trainer.D, trainer.loss, trainer.fixed_z[:FRAME_POINTS])
    probability = cfg.loss in PROBABILITY_LOSSES
    _, _, surface = decision_surface(trainer.D, extent, FRAME_GRID, probability)
    manifold = generator_manifold(g, cfg.z_dim, FRAME_MANIFOLD)
    arrows, arrow_length = quantise_arrows(grads[:FRAME_ARROWS])
    levels, lo, hi = quantise_surface(surface, probability)
    return ToyFrame(seq=seq, step=trainer.step_count, time=time, extent=extent,
                    fake=quantise_positions(fake, extent), arrows=arrows, arrow_length=arrow_length,
                    surface=levels, surface_lo=lo, surface_hi=hi, probability=probability,
                    manifold=quantise_positions(manifold, extent))


def frame_maker_for(config) -> FrameMaker | None:
    """What frames a run of this TrainConfig records for a browser to animate (gan_core.train.frames): a toy
    (2-D) run records toy frames; an image run records none."""
    return toy_frame if config.dataset in TOY_DATASETS else None
