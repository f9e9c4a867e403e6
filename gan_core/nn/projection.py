"""The projection discriminator's output (Miyato & Koyama 2018): an unconditional score plus <embed(y), h>.

Shared by every conditional discriminator here (DCGAN, progressive), so the class enters D one way.
"""
from __future__ import annotations

import torch
from torch import nn


def projection_logits(score: nn.Linear, embed: nn.Embedding | None, h: torch.Tensor,
                      y: torch.Tensor | None) -> torch.Tensor:
    """D's logit per sample from its features h (N x F); `embed` is None for an unconditional D."""
    out = score(h).squeeze(1)
    if embed is None:
        return out
    if y is None:
        raise ValueError("this model is conditional: pass class labels y")
    return out + (embed(y) * h).sum(1)
