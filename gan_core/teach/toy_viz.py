"""What the 2-D playground draws, as numpy arrays (no plotting, no Streamlit).

For a toy GAN (points in the plane) this computes GAN Lab's views: the discriminator's
decision surface on a grid, the generator's gradient on each fake point (the direction the
generator loss pushes it, -dLoss_G/dx at x = G(z)), and the image of a grid of z under G
(the generator's manifold). Callers holding a live job take `job.lock` around these calls.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_core.data.datasets import sample_toy
from gan_core.eval.metrics import toy_coverage
from gan_core.nn.losses import GANLoss

PROBABILITY_LOSSES = ("minimax", "nonsaturating")  # D outputs a logit; sigmoid gives D(x)
EXTENTS = {"ring8": 3.0, "grid25": 6.0, "spiral": 2.5, "moons": 2.0}


MANIFOLD_EXTENT = 2.5  # the manifold's z grid spans [-MANIFOLD_EXTENT, MANIFOLD_EXTENT] in each z dim


def view_extent(dataset: str) -> float:
    """Half-width of the square view that holds the dataset with a margin."""
    return EXTENTS.get(dataset, 3.0)


def _device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def decision_surface(discriminator: torch.nn.Module, extent: float = 3.0, resolution: int = 60,
                     probability: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D on a resolution x resolution grid over [-extent, extent]^2.

    Returns (xs, ys, values): values[i, j] is D at (xs[j], ys[i]) — row = y, so it can be drawn
    with imshow(origin="lower"). With probability=True the logit goes through a sigmoid (D(x) in
    [0, 1]); critics (WGAN, hinge) give raw scores.
    """
    if resolution < 2:
        raise ValueError("resolution must be at least 2")
    xs = np.linspace(-extent, extent, resolution, dtype=np.float32)
    ys = np.linspace(-extent, extent, resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1)).to(_device(discriminator))
    was_training = discriminator.training
    discriminator.eval()
    try:
        out = discriminator(pts).float()
    finally:
        discriminator.train(was_training)
    if probability:
        out = torch.sigmoid(out)
    return xs, ys, out.reshape(resolution, resolution).cpu().numpy()


def generator_gradients(generator: torch.nn.Module, discriminator: torch.nn.Module, loss: GANLoss,
                        z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Fake points G(z) and, for each, -dLoss_G/dx: where the generator's loss pushes that point.

    The loss is summed over points (not averaged), so each arrow is that point's own gradient
    and does not shrink when more points are drawn. Model parameters get no gradients.
    """
    device = _device(generator)
    with torch.no_grad():
        points = generator(z.to(device)).float()
    x = points.clone().requires_grad_(True)
    was_training = discriminator.training
    discriminator.eval()
    try:
        scores = discriminator(x)
        total = loss.g_loss(scores) * len(x)
        (grad,) = torch.autograd.grad(total, [x])
    finally:
        discriminator.train(was_training)
    return points.detach().cpu().numpy(), (-grad).detach().cpu().numpy()


@torch.no_grad()
def generator_manifold(generator: torch.nn.Module, z_dim: int, n: int = 15,
                       extent: float = MANIFOLD_EXTENT) -> np.ndarray:
    """G applied to an n x n grid of z over [-extent, extent]^2 (first two z dims; the rest 0).

    Returns an (n, n, 2) array: out[i, j] = G(z) for z = (u[j], u[i], 0, ...). Drawing its rows
    and columns as lines shows how G folds and stretches the latent plane onto the data.
    """
    if n < 2:
        raise ValueError("the manifold grid needs n >= 2")
    u = torch.linspace(-extent, extent, n)
    gy, gx = torch.meshgrid(u, u, indexing="ij")
    z = torch.zeros(n * n, z_dim)
    z[:, 0] = gx.reshape(-1)
    if z_dim > 1:
        z[:, 1] = gy.reshape(-1)
    was_training = generator.training
    generator.eval()
    try:
        out = generator(z.to(_device(generator))).float()
    finally:
        generator.train(was_training)
    return out.reshape(n, n, 2).cpu().numpy()


@dataclass
class ToyField:
    """Everything the playground plot shows at one moment of training."""

    step: int
    extent: float
    real: np.ndarray  # N x 2 real samples
    fake: np.ndarray  # M x 2 generated points (fixed noise)
    grads: np.ndarray  # M x 2, -dLoss_G/dx at each fake point
    xs: np.ndarray
    ys: np.ndarray
    surface: np.ndarray  # len(ys) x len(xs)
    probability: bool  # surface is D(x) in [0, 1] (else a critic score)
    manifold: np.ndarray | None  # n x n x 2, or None when not asked for
    coverage: dict | None  # gan_core.eval.metrics.toy_coverage of the fake points (None for continuous toys)


def toy_field(trainer, n_points: int = 256, resolution: int = 60, manifold_n: int = 15,
              n_real: int = 512, seed: int = 0) -> ToyField:
    """Compute every view for a toy Trainer. Take the job's lock around this when it is training."""
    if trainer.data.kind != "points":
        raise ValueError("the 2-D views need a toy dataset (ring8, grid25, spiral, moons)")
    cfg = trainer.config
    extent = view_extent(cfg.dataset)
    real = sample_toy(cfg.dataset, n_real, generator=torch.Generator().manual_seed(seed))
    z = trainer.fixed_z[:n_points]
    g = trainer.sampling_generator
    fake, grads = generator_gradients(g, trainer.D, trainer.loss, z)
    probability = cfg.loss in PROBABILITY_LOSSES
    xs, ys, surface = decision_surface(trainer.D, extent, resolution, probability)
    manifold = generator_manifold(g, cfg.z_dim, manifold_n) if manifold_n else None
    return ToyField(trainer.step_count, extent, real.numpy(), fake, grads, xs, ys, surface, probability,
                    manifold, toy_coverage(cfg.dataset, fake))
