"""Latent-space tools: seeded sampling, truncation, interpolation, class labels."""
from __future__ import annotations

import torch

Z_LIMIT = 4.0  # the explorer's latent sliders span [-Z_LIMIT, Z_LIMIT]; projection keeps its z inside too


def sample_latents(n: int, z_dim: int, seed: int | None = None, truncation: float = 1.0,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """n latent vectors z ~ N(0, I), reproducible for a seed, scaled toward the mean by `truncation`.

    Truncation trades variety for fidelity: psi < 1 pulls z toward the centre of the prior,
    where the generator has seen the most samples (the StyleGAN form with mean latent 0).
    """
    if not 0.0 <= truncation <= 2.0:
        raise ValueError(f"truncation must be in [0, 2], got {truncation}")
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    z = torch.randn(n, z_dim, generator=gen)  # drawn on CPU so a seed gives the same z on every device
    return truncate(z, truncation).to(device)


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    return z * psi


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    return z0 + (z1 - z0) * t


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation: stays at the typical radius of a Gaussian latent, where lerp cuts through the
    low-density centre and gives washed-out midpoints."""
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    if t.dim() == 1:
        t = t.unsqueeze(-1)
    a = z0 / z0.norm(dim=-1, keepdim=True).clamp_min(eps)
    b = z1 / z1.norm(dim=-1, keepdim=True).clamp_min(eps)
    omega = torch.acos((a * b).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    out = torch.sin((1 - t) * omega) / so * z0 + torch.sin(t * omega) / so * z1
    nearly_parallel = omega.abs() < 1e-4
    return torch.where(nearly_parallel, lerp(z0, z1, t), out)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """`steps` latents from z0 to z1 inclusive (z0, z1 are 1-D); method is "lerp" or "slerp"."""
    if steps < 2:
        raise ValueError("interpolation needs at least 2 steps")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).unsqueeze(1)
    if method == "lerp":
        return lerp(z0.unsqueeze(0), z1.unsqueeze(0), t)
    if method == "slerp":
        return slerp(z0.unsqueeze(0).expand(steps, -1), z1.unsqueeze(0).expand(steps, -1), t)
    raise ValueError(f"unknown interpolation {method!r}; use lerp or slerp")


def class_labels(n: int, num_classes: int, labels: str | int | None = "balanced", seed: int | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Labels for n conditional samples: "balanced" (n / num_classes each, in class order), one class K, or "random"."""
    if labels in (None, "random"):
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        return torch.randint(num_classes, (n,), generator=gen).to(device)
    if labels == "balanced":
        return (torch.arange(n) * num_classes // max(n, 1)).to(device)
    k = int(labels)
    if not 0 <= k < num_classes:
        raise ValueError(f"label {k} is out of range: this model has classes 0..{num_classes - 1}")
    return torch.full((n,), k, dtype=torch.long, device=device)
