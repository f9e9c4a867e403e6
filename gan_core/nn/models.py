"""Generators and discriminators, looked up by name.

Every generator is called as G(z, y=None) and returns images in [-1, 1] (N x C x H x W) or
2-D points (N x 2). Every discriminator is called as D(x, y=None) and returns one logit
(or critic score) per sample. Conditional models take `num_classes`; unconditional ones
ignore y. progan / cgan-progan grow from a quarter of the image size to the full size during
training, fading each new stage in (gan_core.nn.progressive).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.nn.progressive import ProDiscriminator, ProGenerator
from gan_core.nn.projection import projection_logits

MODEL_NAMES = ("mlp", "cgan-mlp", "cgan-mlp-proj", "dcgan", "cgan-dcgan", "progan", "cgan-progan", "toy")
CONDITIONAL_MODELS = ("cgan-mlp", "cgan-mlp-proj", "cgan-dcgan", "cgan-progan")
GROWING_MODELS = ("progan", "cgan-progan")  # progressive growing: gan_core.nn.progressive


LEAKY_SLOPE = 0.2  # every leaky ReLU here (the browser engine's toy D reads it: gan_core.teach.browser_spec)


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


class LabelledModule(nn.Module):
    """Holds the label embedding that conditional nets concatenate to their input."""

    def __init__(self, num_classes: int | None, embed_dim: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.embed_dim = embed_dim if num_classes else 0

    def with_label(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None:
            return h
        if y is None:
            raise ValueError("this model is conditional: pass class labels y")
        return torch.cat([h, self.embed(y)], 1)


# ------------------------------------------------------- MLP GAN (Goodfellow et al. 2014; Mirza & Osindero 2014)

class MLPGenerator(LabelledModule):
    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 hidden: tuple[int, ...] = (256, 512, 1024)) -> None:
        super().__init__(num_classes, num_classes or 0)
        self.z_dim, self.image_shape = z_dim, tuple(image_shape)
        layers, width = [], z_dim + self.embed_dim
        for i, h in enumerate(hidden):
            layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if i else []) + [_lrelu()]
            width = h
        layers += [nn.Linear(width, math.prod(image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.with_label(z, y)).view(-1, *self.image_shape)


class MLPDiscriminator(LabelledModule):
    """The label embedding is concatenated to the pixels; with `projection` the score also gets <embed(y), h>.

    The projection term (Miyato & Koyama 2018) conditions D's last features directly, so D learns to tell
    classes apart from the first steps: early in an MNIST run the independent judge recognises far more of the
    digits with it than without (the figures: benchmarks/RESULTS.md, "Recipes").
    """

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 hidden: tuple[int, ...] = (512, 256), dropout: float = 0.3, projection: bool = False) -> None:
        super().__init__(num_classes, num_classes or 0)
        layers, width = [], math.prod(image_shape) + self.embed_dim
        for h in hidden:
            layers += [nn.Linear(width, h), _lrelu(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)  # one Sequential, so cgan-mlp checkpoints keep their tensor names
        self.project = nn.Embedding(num_classes, width) if projection and num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.project is None:
            return self.net(self.with_label(x.flatten(1), y)).squeeze(1)
        h = self.net[:-1](self.with_label(x.flatten(1), y))
        return projection_logits(self.net[-1], self.project, h, y)


# ------------------------------------- DCGAN (Radford et al. 2015), version 1: loads checkpoints saved before v2

class DCGANGenerator(LabelledModule):
    """z -> 7x7 (or 8x8) -> x2 -> x2 with transposed convolutions; the label embedding is concatenated to z."""

    conv_arch = 1

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 width: int = 64) -> None:
        super().__init__(num_classes, 32 if num_classes else 0)
        self.z_dim, self.image_shape = z_dim, tuple(image_shape)
        channels, size = image_shape[0], image_shape[1]
        if size % 4:
            raise ValueError(f"dcgan needs an image size divisible by 4, got {size}")
        self.base = size // 4
        self.project = nn.Sequential(nn.Linear(z_dim + self.embed_dim, 2 * width * self.base ** 2, bias=False),
                                     nn.BatchNorm1d(2 * width * self.base ** 2), _lrelu())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), _lrelu(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())
        self.width = width

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(self.with_label(z, y)).view(-1, 2 * self.width, self.base, self.base)
        return self.net(h)


class DCGANDiscriminator(nn.Module):
    """Strided convolutions with LeakyReLU and Dropout (no BatchNorm, so real and fake can share one pass).

    The conditional version is a projection discriminator (Miyato & Koyama 2018): the score is
    psi(h) + <embed(y), h>. We pick it over label channels because it conditions the final
    features directly — label channels must survive every convolution and often get ignored —
    and it adds only one embedding table, no extra input channels.
    """

    conv_arch = 1

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 width: int = 64, dropout: float = 0.3) -> None:
        super().__init__()
        channels, size = image_shape[0], image_shape[1]
        self.num_classes = num_classes
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), _lrelu(), nn.Dropout(dropout),
            nn.Conv2d(width, 2 * width, 4, 2, 1), _lrelu(), nn.Dropout(dropout),
            nn.Flatten())
        feat = 2 * width * (size // 4) ** 2
        self.score = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        return projection_logits(self.score, self.embed, h, y)



# ------------------------------------------------- conv GAN, version 2: the dcgan / cgan-dcgan models built today

CONV_ARCH = 2  # the conv layout build_models makes; checkpoints record it (gan_core.io.checkpoint), absent = 1
CONV_ARCHS = (1, 2)
GRID_CHANNELS = 1024  # G's channels times its grid's side, at each resolution (ConvGenerator)


def _upsampling_steps(size: int) -> int:
    """How many x2 steps G takes from its base grid: halve while even and above 4 (28 -> 7, 32 -> 4, 64 -> 4)."""
    steps = 0
    while size % 2 == 0 and size > 4:
        size //= 2
        steps += 1
    if steps == 0:
        raise ValueError(f"the conv models need an image size divisible by 2 (e.g. 28 or 32), got {size}")
    return steps


class ConvGenerator(LabelledModule):
    """[z | embed(y)] -> wide base grid -> (x2 transposed conv, BatchNorm, ReLU) per step -> 3x3 conv -> tanh.

    Against version 1 it holds its capacity at the low resolutions (where the digit's shape is decided),
    halving the channels at each x2 step, and ends in a 3x3 convolution that smooths the transposed
    convolutions' checkerboard. The class embedding is concatenated to z, so the browser can feed the
    embedding vector as input (app_pages/explore/browser_model.py swaps `embed`).
    """

    conv_arch = 2

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 width: int | None = None, min_width: int = 32) -> None:
        super().__init__(num_classes, 32 if num_classes else 0)
        self.z_dim, self.image_shape = z_dim, tuple(image_shape)
        channels, size = image_shape[0], image_shape[1]
        steps = _upsampling_steps(size)
        self.base = size >> steps
        # channels x grid side ~ GRID_CHANNELS at every level (4x4x256 ... 32x32x32; 7x7x128 ... 28x28x32), so
        # each x2 step costs about the same and a 28x28 G is not wider than its 7x7 start needs
        self.width = width or 1 << int(math.log2(GRID_CHANNELS // self.base))
        width = self.width
        self.project = nn.Sequential(nn.Linear(z_dim + self.embed_dim, width * self.base ** 2, bias=False),
                                     nn.Unflatten(1, (width, self.base, self.base)), nn.BatchNorm2d(width),
                                     nn.ReLU(inplace=True))
        layers, c = [], width
        for _ in range(steps):
            out = max(min_width, c // 2)
            layers += [nn.ConvTranspose2d(c, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            c = out
        self.net = nn.Sequential(*layers, nn.Conv2d(c, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.project(self.with_label(z, y)))


class ConvDiscriminator(nn.Module):
    """Strided convolutions (each halves the grid) under spectral norm, LeakyReLU, no dropout or BatchNorm.

    Spectral norm (Miyato et al. 2018) keeps D Lipschitz-bounded, so its gradients to G stay informative
    without version 1's dropout noise. The conditional version is a projection discriminator, as in version 1.
    """

    conv_arch = 2

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int | None = None,
                 widths: tuple[int, ...] = (64, 128, 256)) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        channels, size = image_shape[0], image_shape[1]
        self.num_classes = num_classes
        layers, c = [], channels
        for i, w in enumerate(widths):
            last = i == len(widths) - 1  # a 3x3 last layer also halves an odd grid (7 -> 4)
            layers += [sn(nn.Conv2d(c, w, 3 if last else 4, 2, 1)), _lrelu()]
            c, size = w, (size + 1) // 2 if last else size // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        feat = c * size * size
        self.score = sn(nn.Linear(feat, 1))
        self.embed = sn(nn.Embedding(num_classes, feat)) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return projection_logits(self.score, self.embed, self.features(x), y)


# ---------------------------------------------------------------- toy 2-D GAN (GAN Lab's setting)

TOY_HIDDEN = 128  # the 2-D toy nets' default width and number of hidden layers (TrainConfig.toy_hidden/_depth)
TOY_DEPTH = 3
TOY_HIDDEN_RANGE = (4, 512)  # what a config or a checkpoint may ask for
TOY_DEPTH_RANGE = (1, 6)


class ToyGenerator(nn.Module):
    def __init__(self, z_dim: int, hidden: int = TOY_HIDDEN, depth: int = TOY_DEPTH) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.image_shape = z_dim, None, None
        layers, width = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]
            width = hidden
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    def __init__(self, hidden: int = TOY_HIDDEN, depth: int = TOY_DEPTH) -> None:
        super().__init__()
        self.num_classes = None
        layers, width = [], 2
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), _lrelu()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).squeeze(1)


# ---------------------------------------------------------------- registry

def build_models(name: str, z_dim: int, image_shape: tuple[int, ...] | None = None,
                 num_classes: int | None = None, toy_hidden: int = TOY_HIDDEN,
                 toy_depth: int = TOY_DEPTH, conv_arch: int = CONV_ARCH) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for a registered model name (toy_hidden/toy_depth size the 2-D toy;
    conv_arch picks the dcgan / cgan-dcgan layout, 1 only to load checkpoints saved before version 2)."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    if z_dim < 1:
        raise ValueError(f"z_dim must be at least 1, got {z_dim}")
    if name == "toy":
        return ToyGenerator(z_dim, toy_hidden, toy_depth), ToyDiscriminator(toy_hidden, toy_depth)
    if image_shape is None or len(image_shape) != 3:
        raise ValueError(f"model {name!r} needs an image dataset (C x H x W), got shape {image_shape}")
    conditional = name in CONDITIONAL_MODELS
    if conditional and not num_classes:
        raise ValueError(f"model {name!r} is conditional but the dataset has no class labels")
    classes = num_classes if conditional else None
    if name in ("mlp", "cgan-mlp", "cgan-mlp-proj"):
        g = MLPGenerator(z_dim, image_shape, classes)
        d = MLPDiscriminator(image_shape, classes, projection=name == "cgan-mlp-proj")
    elif name in GROWING_MODELS:
        g, d = ProGenerator(z_dim, image_shape, classes), ProDiscriminator(image_shape, classes)
    elif conv_arch == 1:
        g, d = DCGANGenerator(z_dim, image_shape, classes), DCGANDiscriminator(image_shape, classes)
    elif conv_arch == 2:
        g, d = ConvGenerator(z_dim, image_shape, classes), ConvDiscriminator(image_shape, classes)
    else:
        raise ValueError(f"unknown conv architecture {conv_arch!r}; known: {', '.join(map(str, CONV_ARCHS))}")
    init_weights(g)
    init_weights(d)
    return g, d


def init_weights(module: nn.Module) -> None:
    """DCGAN's N(0, 0.02) initialisation for conv layers and N(1, 0.02) for BatchNorm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
