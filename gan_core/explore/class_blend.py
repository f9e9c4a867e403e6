"""Interpolating between classes of a conditional generator by blending their label embeddings.

A conditional generator looks its class up in an embedding table and concatenates the vector
to z. Between two classes there is no integer label, but there is a straight line between the
two embedding vectors: feeding points on it shows how the generator morphs one class into the
other for a fixed z (style kept, content changed). Works on a private copy of the generator, so
a model shared by many sessions is never modified.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from gan_core.io.checkpoint import GAN


@torch.inference_mode()
def generate_blended(gan: GAN, z: torch.Tensor, class_a: int, class_b: int, t: torch.Tensor) -> torch.Tensor:
    """G(z_i, (1 - t_i) e_a + t_i e_b) for each row i: images (N x C x H x W) or points, on the CPU."""
    k = gan.num_classes
    if not k:
        raise ValueError("class interpolation needs a conditional model")
    for c in (class_a, class_b):
        if not 0 <= int(c) < k:
            raise ValueError(f"class {c} is out of range: this model has classes 0..{k - 1}")
    embed = getattr(gan.generator, "embed", None)
    if not isinstance(embed, nn.Embedding):
        raise ValueError("this generator has no label embedding to blend")
    t = torch.as_tensor(t, dtype=torch.float32).flatten()
    if len(t) != len(z):
        raise ValueError(f"{len(z)} latents but {len(t)} blend weights")
    generator = copy.copy(gan.generator)  # shallow: shares the weights, owns its module dict
    generator._modules = dict(generator._modules)
    weight = embed.weight.detach()
    blended = (1 - t).unsqueeze(1) * weight[int(class_a)] + t.unsqueeze(1) * weight[int(class_b)]

    class _Fixed(nn.Module):
        def forward(self, y: torch.Tensor) -> torch.Tensor:  # ignores the labels: returns the blend
            return blended.to(y.device)

    generator._modules["embed"] = _Fixed()
    labels = torch.full((len(z),), int(class_a), dtype=torch.long)
    return generator(z.to(gan.device), labels.to(gan.device)).float().cpu()
