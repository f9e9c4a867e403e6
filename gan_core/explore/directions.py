"""GANSpace-style latent directions (Härkönen et al. 2020): PCA of a generator's early activations, mapped to z.

Why: single z dimensions rarely mean anything a person can name; the main axes along which the
generator's *features* vary (stroke width, slant, size, ...) usually do. We sample many z, record
the activations of the generator's first hidden layer, take their principal components, and map
each component back to z by linear regression (z ≈ U · coefficients), as GANSpace does for BigGAN.
Moving z along u_k then moves the features mostly along principal component k.

The activations are read from a private copy of the generator, so a model shared by many
browser sessions is never touched (no hooks on the shared module).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from gan_core.explore.latent import sample_latents
from gan_core.io.checkpoint import GAN

ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh)


@dataclass
class Directions:
    """k unit directions in z (rows of `vectors`), strongest first, with what they explain."""

    vectors: torch.Tensor  # k x z_dim, each of unit norm
    explained: torch.Tensor  # k, share of the activation variance each principal component explains
    scales: torch.Tensor  # k, std of the regression coordinates: the z-length of a "1 sigma" move
    layer: str  # which generator module's output was analysed
    components: torch.Tensor  # k x F principal components of the activations (unit rows)
    mean: torch.Tensor  # F, mean activation

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


class _Stop(Exception):
    """Raised by the capture hook so the rest of the generator need not run."""


def feature_layer(generator: nn.Module) -> tuple[str, nn.Module]:
    """The generator's first hidden activation module (name, module): GANSpace's early-layer choice."""
    for name, module in generator.named_modules():
        if isinstance(module, ACTIVATIONS):
            return name, module
    raise ValueError("the generator has no activation layer to analyse")


@torch.inference_mode()
def capture_activations(gan: GAN, z: torch.Tensor, labels: torch.Tensor | None = None,
                        batch: int = 512) -> tuple[torch.Tensor, str]:
    """Flattened first-hidden-layer activations (N x F, float64) for latents z, from a private copy of G."""
    generator = copy.deepcopy(gan.generator).cpu().eval()
    name, module = feature_layer(generator)
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        captured.append(output.detach().flatten(1).double().clone())
        raise _Stop

    module.register_forward_hook(hook)
    for i in range(0, len(z), batch):
        y = labels[i:i + batch] if labels is not None else None
        try:
            generator(z[i:i + batch], y)
        except _Stop:
            pass
    return torch.cat(captured), name


def find_directions(gan: GAN, k: int = 8, n_samples: int = 1000, seed: int = 0) -> Directions:
    """The k strongest GANSpace directions of a generator, deterministic for a seed.

    Conditional models are analysed over class-balanced labels, so the directions are shared
    by all classes (style, not content).
    """
    if k < 1:
        raise ValueError("need at least one direction")
    if n_samples < 2 * k:
        raise ValueError(f"need at least {2 * k} samples for {k} directions")
    k = min(k, gan.z_dim)
    z = sample_latents(n_samples, gan.z_dim, seed=seed)
    labels = None
    if gan.num_classes:
        labels = torch.arange(n_samples) % gan.num_classes
    acts, layer = capture_activations(gan, z, labels)
    centred = acts - acts.mean(0, keepdim=True)
    # Top-k principal components by randomized SVD (Halko et al.): the early layers of a DCGAN have
    # thousands of features, and a full SVD of N x F costs seconds where this costs milliseconds.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, s, v = torch.svd_lowrank(centred, q=min(k + 10, *centred.shape), niter=3, M=None)
    components = v[:, :k].T  # k x F
    signs = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
    components = components * signs  # a fixed sign per component, so results are reproducible
    explained = (s[:k] ** 2) / centred.pow(2).sum().clamp_min(1e-12)
    coords = centred @ components.T  # N x k coordinates along the top components
    coords = coords / coords.std(0, keepdim=True).clamp_min(1e-12)
    # Regression back to z: z ≈ coords @ U (U: k x z_dim), least squares.
    u = torch.linalg.lstsq(coords, z.double() - z.double().mean(0, keepdim=True)).solution
    norms = u.norm(dim=1, keepdim=True).clamp_min(1e-12)
    vectors = (u / norms).float()
    return Directions(vectors, explained.float(), norms.squeeze(1).float(), layer, components.float(),
                      acts.mean(0).float())


def apply_directions(z: torch.Tensor, directions: Directions, amounts: list[float] | torch.Tensor,
                     in_sigmas: bool = True) -> torch.Tensor:
    """z moved along each direction by its amount (in units of that direction's 1-sigma z-length by default)."""
    amounts = torch.as_tensor(amounts, dtype=z.dtype).flatten()
    if len(amounts) > len(directions):
        raise ValueError(f"{len(amounts)} amounts for {len(directions)} directions")
    vecs = directions.vectors[: len(amounts)].to(z.dtype)
    steps = amounts * directions.scales[: len(amounts)].to(z.dtype) if in_sigmas else amounts
    return z + steps @ vecs
