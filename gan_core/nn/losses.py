"""GAN objectives on raw discriminator outputs (logits / critic scores), plus penalties.

Each loss gives d_loss(real, fake) and g_loss(fake). Working on logits with softplus keeps
the log-terms numerically stable: log D(x) = -softplus(-l), log(1 - D(x)) = -softplus(l).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LOSS_NAMES = ("minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp")


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], real target 1 - smoothing (one-sided label smoothing)."""
    target = 1.0 - smoothing
    real_term = target * F.softplus(-real) + (1 - target) * F.softplus(real)
    return real_term.mean() + F.softplus(fake).mean()


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """The original, saturating objective: minimise E[log(1 - D(G(z)))]; its gradient vanishes when D wins."""
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Maximise E[log D(G(z))] instead: same fixed point, strong gradients early in training."""
    return F.softplus(-fake).mean()


def lsgan_d_loss(real: torch.Tensor, fake: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    return 0.5 * ((real - (1.0 - smoothing)) ** 2).mean() + 0.5 * (fake ** 2).mean()


def lsgan_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    return fake.mean() - real.mean()


def critic_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss of hinge and WGAN: raise the critic's score of fakes."""
    return -fake.mean()


@dataclass(frozen=True)
class GANLoss:
    name: str
    d_loss: Callable[..., torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    uses_gradient_penalty: bool = False
    default_n_critic: int = 1


LOSSES = {
    "minimax": GANLoss("minimax", bce_d_loss, minimax_g_loss),
    "nonsaturating": GANLoss("nonsaturating", bce_d_loss, nonsaturating_g_loss),
    "lsgan": GANLoss("lsgan", lsgan_d_loss, lsgan_g_loss),
    "hinge": GANLoss("hinge", hinge_d_loss, critic_g_loss),
    "wgan-gp": GANLoss("wgan-gp", wasserstein_d_loss, critic_g_loss, uses_gradient_penalty=True, default_n_critic=5),
}


def get_loss(name: str) -> GANLoss:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSS_NAMES)}")
    return LOSSES[name]


def gradient_penalty(discriminator: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     y: torch.Tensor | None = None, alpha: torch.Tensor | None = None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)|| - 1)^2] on random interpolates.

    `alpha` (one mixing weight per sample, shape [N]) is drawn from `generator` unless given (the browser
    engine's parity test gives it)."""
    if alpha is None:
        alpha = torch.rand(real.size(0), device=real.device, dtype=real.dtype, generator=generator)
    alpha = alpha.reshape(real.size(0), *([1] * (real.dim() - 1))).to(real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = discriminator(x_hat, y)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(discriminator: torch.nn.Module, real: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad D(x)||^2] on real data; multiply by gamma / 2."""
    x = real.detach().requires_grad_(True)
    scores = discriminator(x, y)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()
