"""Shipped models for the Learn page's live examples: loading, the class x z grid, latent-direction sweeps."""
from __future__ import annotations

import streamlit as st
import torch

from app_shared import models as shared_models
from gan_core import GAN
from gan_core.explore.directions import (
    DirectionEffect,
    Directions,
    apply_directions,
    find_directions,
    measure_directions,
)
from gan_core.explore.latent import sample_latents
from gan_core.io.images import grid

RETRAIN = "python -m gan_core train --dataset mnist --seconds 180 --out runs/c"  # the default model: cgan-mlp-proj
# How each conditional model gives the label to G and D (gan_core.nn.models)
CONDITIONING = {
    "cgan-mlp": "a learned label embedding is concatenated to z in G and to the image in D",
    "cgan-mlp-proj": "a learned label embedding is concatenated to z in G and to the image in D, and D also scores "
                     "its last features against a second embedding of the label: a projection discriminator "
                     "(Miyato & Koyama 2018, *cGANs with Projection Discriminator*)",
    "cgan-dcgan": "a learned label embedding is concatenated to z in G (DCGAN's layers), and D is a projection "
                  "discriminator (Miyato & Koyama 2018)",
    "cgan-progan": "a learned label embedding is concatenated to z in G, which grows 7×7 → 28×28, and D is a "
                   "projection discriminator (Miyato & Koyama 2018)",
}


def conditioning_text(shipped: str, model: str) -> str:
    """One line naming the model on the page as its checkpoint records it, and how it is conditioned."""
    how = CONDITIONING.get(model, "the label is fed to G and D")
    return f"The model below, the shipped {shipped}, is `{model}`: {how}."


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


@st.cache_resource(show_spinner="Finding latent directions…", max_entries=4)
def ganspace_directions(_gan: GAN, content_hash: str, k: int = 5) -> Directions:
    """GANSpace directions of a model, computed once per process (keyed by the weights' hash)."""
    return find_directions(_gan, k=k, n_samples=1000, seed=0)


@st.cache_resource(show_spinner=False, max_entries=4)
def ganspace_effect(_gan: GAN, content_hash: str) -> DirectionEffect:
    """How much each direction changes the images at ±2σ against random directions (the claim section 6 makes)."""
    return measure_directions(_gan, ganspace_directions(_gan, content_hash))


def direction_sweep(gan: GAN, directions: Directions, index: int, amounts: list[float], seed: int,
                    label: int = 0) -> torch.Tensor:
    """One z moved along GANSpace direction `index` by each amount (in sigmas), one image per amount."""
    z = sample_latents(1, gan.z_dim, seed=seed)
    steps = torch.zeros(len(amounts), index + 1)
    steps[:, index] = torch.tensor(amounts)
    zs = torch.cat([apply_directions(z, directions, row) for row in steps])
    labels = torch.full((len(amounts),), int(label), dtype=torch.long) if gan.num_classes else None
    return gan.generate(zs, labels)
