"""GANSpace-style latent directions (Härkönen et al. 2020): PCA of a generator's early activations, mapped to z.

Why: single z dimensions rarely mean anything a person can name; the main axes along which the
generator's *features* vary (stroke width, slant, size, ...) usually do. We sample many z, record
the activations of one hidden layer of the generator, take their principal components, and map
each component back to z by linear regression (z ≈ U · coefficients), as GANSpace does for BigGAN.
Moving z along u_k then moves the features mostly along principal component k.

Two choices were made by measurement (`measure_directions`: mean pixel change at ±2σ along each
direction against random directions of the same length, on the shipped models):
- conditional models are analysed *within* each class (class means removed): otherwise the top
  components are the class embedding's variance, which z cannot move, and the regression maps
  them to short, random-like z directions (mnist-cgan's PC1 changed the image less than a random
  direction of the same length, fashion-cgan's PC1..PC5 no more than random: benchmarks/RESULTS.md);
- the layer is the generator's second activation (`FEATURE_LAYER_INDEX`), not the first: on the
  DCGAN generators the first is a plain projection of z whose components barely beat random ones.

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
FEATURE_LAYER_INDEX = 1  # the second activation module (the first when there is only one)


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


def feature_layer(generator: nn.Module, index: int = FEATURE_LAYER_INDEX) -> tuple[str, nn.Module]:
    """The generator's activation module number `index` (name, module): an early layer, as in GANSpace.

    A generator with fewer activations gets its last one.
    """
    found = [(name, module) for name, module in generator.named_modules() if isinstance(module, ACTIVATIONS)]
    if not found:
        raise ValueError("the generator has no activation layer to analyse")
    return found[min(index, len(found) - 1)]


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

    Conditional models are analysed over class-balanced labels with each class's mean removed, so
    the directions are shared by all classes (style, not content).
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
    if labels is not None:  # within-class variation only: z cannot move what the class embedding sets
        class_means = torch.zeros(gan.num_classes, acts.shape[1], dtype=acts.dtype).index_add_(0, labels, acts)
        class_means /= torch.bincount(labels, minlength=gan.num_classes).clamp_min(1).unsqueeze(1)
        centred = acts - class_means[labels]
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


@dataclass
class DirectionEffect:
    """How much moving along each direction changes the generator's output, against random directions.

    `along[k]` is the mean absolute change of the output when z moves ±`amount` sigmas along direction k;
    `random[k]` the same for random unit directions moved the same z-length. For images the change is a
    share of the pixel range (0.1 = a tenth of black-to-white on average over all pixels); for 2-D points
    it is in the plane's units.
    """

    amount: float
    along: list[float]
    random: list[float]
    unit: str  # "of the pixel range" or "in the plane"

    @property
    def ratios(self) -> list[float]:
        """along / random per direction: 1 means the direction does no more than a random one."""
        return [a / max(r, 1e-12) for a, r in zip(self.along, self.random, strict=True)]


@torch.inference_mode()
def measure_directions(gan: GAN, directions: Directions, amount: float = 2.0, k: int = 5, n: int = 32,
                       n_random: int = 4, seed: int = 0) -> DirectionEffect:
    """Mean output change at ±amount sigmas along the first k directions vs random directions of the same norm.

    Deterministic for a seed. Each direction k is compared with n_random random unit directions moved by
    the same z-length (amount x its scale), over the same n latents (class-balanced for conditional models).
    One batch per direction: about a second for a DCGAN on one CPU thread.
    """
    k = min(k, len(directions))
    z = sample_latents(n, gan.z_dim, seed=seed + 1)
    labels = torch.arange(n) % gan.num_classes if gan.num_classes else None
    base = gan.generate(z, labels)
    half_range = 2.0 if base.dim() == 4 else 1.0  # images live in [-1, 1]
    gen = torch.Generator().manual_seed(seed)
    randoms = torch.nn.functional.normalize(torch.randn(n_random, gan.z_dim, generator=gen), dim=1)
    along, random = [], []
    for i in range(k):
        vectors = torch.cat([directions.vectors[i:i + 1], randoms])  # (1 + n_random) x z_dim
        steps = amount * float(directions.scales[i]) * torch.cat([vectors, -vectors])  # 2 (1 + n_random) x z_dim
        moved = gan.generate((z.unsqueeze(0) + steps.unsqueeze(1)).flatten(0, 1),
                             None if labels is None else labels.repeat(len(steps)))
        change = (moved.reshape(len(steps), n, -1) - base.reshape(1, n, -1)).abs().mean((1, 2)) / half_range
        change = change.reshape(2, 1 + n_random).mean(0)  # + and - moves averaged
        along.append(float(change[0]))
        random.append(float(change[1:].mean()))
    return DirectionEffect(float(amount), along, random, "of the pixel range" if base.dim() == 4 else "in the plane")


def effect_summary(effect: DirectionEffect, name: str = "PC") -> str:
    """One line for students: how much each direction changes the output, and against a random direction."""
    image = effect.unit == "of the pixel range"
    size = [f"{100 * a:.1f}%" if image else f"{a:.2f}" for a in effect.along]
    what = "changes the pixels by {} of their range" if image else "moves the point by {}"
    text = (f"Measured on this model: a ±{effect.amount:g}σ move along {name}1 {what.format(size[0])} on average, "
            f"{effect.ratios[0]:.1f}× as much as a random direction of the same length")
    text += "".join(f"; {name}{i + 1} {size[i]} ({effect.ratios[i]:.1f}×)" for i in range(1, len(size))) + "."
    weak = [f"{name}{i + 1}" for i, r in enumerate(effect.ratios) if r < 1.5]
    if weak:
        text += f" On this model {', '.join(weak)} do little more than a random direction."
    return text
