"""Shipped models for the Learn page's live examples (loaded once per process via app_shared.models)."""
from __future__ import annotations

import torch

from gan_core import GAN
from gan_core.images import grid
from gan_core.latent import sample_latents

from . import models as shared_models

RETRAIN = "python -m gan_core train --dataset mnist --model cgan-mlp --seconds 180 --out runs/c"


def shipped_model(name: str) -> GAN | None:
    """The shipped model `name` from pretrained/, or None when it is not there."""
    path = shared_models.PRETRAINED_DIR / f"{name}.safetensors"
    if not path.is_file() or not path.with_suffix(".json").is_file():
        return None
    return shared_models.load_model(path)


def class_z_grid(gan: GAN, columns: int, seed: int, truncation: float = 1.0) -> tuple[torch.Tensor, list[str]]:
    """Images for every class (rows) x `columns` latents (the same z down each column)."""
    k = gan.num_classes or 1
    z = sample_latents(columns, gan.z_dim, seed=seed, truncation=truncation)
    z_all = z.repeat(k, 1)
    labels = torch.arange(k).repeat_interleave(columns)
    return gan.generate(z_all, labels if gan.num_classes else None), gan.class_names or [""]


def grid_image(images: torch.Tensor, columns: int, scale: int = 2):
    return grid(images, nrow=columns, scale=scale)


def z_dimension_sweep(gan: GAN, dim: int, values: list[float], seed: int, label: int = 0,
                      direction: torch.Tensor | None = None) -> torch.Tensor:
    """One z moved along a direction (default: the unit vector of dimension `dim`), one image per value."""
    z = sample_latents(1, gan.z_dim, seed=seed)
    if direction is None:
        direction = torch.zeros(gan.z_dim)
        direction[dim] = 1.0
        z[0, dim] = 0.0  # values are absolute positions along a coordinate axis
    zs = z + torch.tensor(values, dtype=z.dtype).unsqueeze(1) * direction.unsqueeze(0)
    labels = torch.full((len(values),), int(label), dtype=torch.long) if gan.num_classes else None
    return gan.generate(zs, labels)
