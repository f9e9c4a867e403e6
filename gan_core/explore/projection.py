"""Draw -> latent: find the z (and, for a conditional model, the class) whose image is closest to a given one.

A student draws a digit or uploads a picture; the explorer then starts from the generator's nearest image, so
the sliders move around the student's own drawing (iGAN, Zhu et al. 2016, did this on Theano and a GPU).

How (all of it batched, on whatever device the GAN is on):
1. Search: many random starts per image (`restarts`), times every class tried for a conditional model, are
   optimised at once with Adam on z, on the pixel distance only (cheap: the generator alone).
2. Rank every candidate by the full distance: mean squared pixel error plus `feature_weight` times the
   feature distance (below), and keep the best `refine_top` per image.
3. Refine those on the full distance for `refine_steps` more Adam steps, and keep the best per image.

The feature distance compares what a network sees rather than pixels, so a "7" drawn a little thicker or
shifted is still near a generated "7": the penultimate features of the classifier the caller passes (the
dataset's project classifier: gan_core.eval.classifier.shipped_classifier, which this module may not import:
eval imports explore), else the discriminator's last features, else pixels only.
The independent judge is never used: the projection benchmark grades with it. Feature distances are mean
squared differences divided by the target's mean squared feature, so the weight means the same in every space.

z stays where the generator was trained: a small penalty on mean(z^2) (the prior) during the search, and
every z is clamped to [-Z_LIMIT, Z_LIMIT], the explorer's slider range. Nothing here touches the process's
RNG: the starts come from a torch.Generator seeded with `seed`, so a seed gives the same result.
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image, ImageOps

from gan_core.explore.latent import Z_LIMIT
from gan_core.io.checkpoint import GAN

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 4096  # z candidates optimised in one batch; more images are projected in chunks of images
MAX_IMAGES = 10_000  # per call
MNIST_FILL = 20 / 28  # MNIST's digits fit a 20 x 20 box in the 28 x 28 image, centred by their centre of mass


@dataclass
class Projection:
    """What project_images found, one row per target image."""

    z: torch.Tensor  # N x z_dim, the found latents (on the CPU)
    labels: torch.Tensor | None  # N int64 classes found (conditional models), else None
    images: torch.Tensor  # N x C x H x W in [-1, 1]: G(z, labels)
    distance: torch.Tensor  # N: the final pixel + feature distance (lower is closer)
    pixel_distance: torch.Tensor  # N: mean squared pixel error in [-1, 1] units
    seconds: float
    feature_space: str = "pixels"  # "classifier features", "discriminator features" or "pixels"


@dataclass(frozen=True)
class ProjectionConfig:
    """The search's settings; DEFAULT_CONFIG holds the values chosen by benchmarks/projection.py."""

    steps: int = 20  # Adam steps of the search over every start (and class)
    restarts: int = 8  # random starts per image (per class, for a conditional model)
    lr: float = 0.1
    prior_weight: float = 0.01  # times mean(z^2), in the search and the refinement
    feature_weight: float = 0.5  # the feature distance's weight in the full distance
    refine_top: int = 2  # candidates per image refined on the full distance
    refine_steps: int = 15
    refine_lr: float = 0.03

    def validate(self) -> ProjectionConfig:
        if not 0 <= self.steps <= 5000 or not 0 <= self.refine_steps <= 5000:
            raise ValueError(f"steps must be in 0..5000, got {self.steps} and {self.refine_steps}")
        if not 1 <= self.restarts <= 256 or not 1 <= self.refine_top <= 256:
            raise ValueError(f"restarts must be in 1..256, got {self.restarts} (refine_top {self.refine_top})")
        for name in ("lr", "refine_lr"):
            if not 0 < getattr(self, name) <= 10:
                raise ValueError(f"{name} must be in (0, 10], got {getattr(self, name)}")
        for name in ("prior_weight", "feature_weight"):
            if not 0 <= getattr(self, name) <= 1000 or not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be in [0, 1000], got {getattr(self, name)}")
        return self


DEFAULT_CONFIG = ProjectionConfig()


# ---------------------------------------------------------------- feature spaces

class FeatureSpace:
    """Features of images (given the candidate's class, which a conditional discriminator's features need)."""

    name = "pixels"
    needs_labels = False

    def embed(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError


class ClassifierFeatures(FeatureSpace):
    """The project classifier's penultimate features (label-free)."""

    name = "classifier features"

    def __init__(self, classifier: torch.nn.Module) -> None:
        self.classifier = classifier

    def embed(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.classifier.features(images)


class DiscriminatorFeatures(FeatureSpace):
    """The discriminator's input to its final score layer (the one Linear with one output), caught by a hook.

    Every discriminator here ends in such a layer (the MLP's last layer, the conv models' `score`), so this
    works for each without knowing its structure. A conditional MLP discriminator sees the class with the
    pixels, so its features depend on the candidate's class."""

    name = "discriminator features"

    def __init__(self, discriminator: torch.nn.Module) -> None:
        scores = [m for m in discriminator.modules() if isinstance(m, torch.nn.Linear) and m.out_features == 1]
        if not scores:
            raise ValueError("the discriminator has no final one-output Linear layer")
        self.discriminator, self.score = discriminator, scores[-1]
        self.needs_labels = bool(getattr(discriminator, "num_classes", None))

    def embed(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        caught: list[torch.Tensor] = []
        me = threading.get_ident()  # the model is shared by a server's sessions: catch only this thread's call

        def catch(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            if threading.get_ident() == me:
                caught.append(args[0])
        handle = self.score.register_forward_pre_hook(catch)
        try:
            self.discriminator(images, labels if self.needs_labels else None)
        finally:
            handle.remove()
        return caught[-1].flatten(1)


def feature_space_for(gan: GAN, classifier: torch.nn.Module | None = None) -> FeatureSpace | None:
    """The given classifier's features (when it reads the GAN's channels), else the GAN's discriminator's,
    else None (pixels only)."""
    if classifier is not None and getattr(classifier, "in_channels", None) == gan.image_shape[0]:
        return ClassifierFeatures(classifier)
    if gan.discriminator is not None:
        try:
            return DiscriminatorFeatures(gan.discriminator)
        except ValueError as exc:
            logger.warning("projection: %s; comparing pixels only", exc)
    return None


# ---------------------------------------------------------------- the search

@contextlib.contextmanager
def _eval_mode(*modules: torch.nn.Module | None) -> Iterator[None]:
    """Eval mode (BatchNorm's running statistics, no dropout) for the call; loaded models already are."""
    flipped = [m for m in modules if m is not None and m.training]
    for m in flipped:
        m.eval()
    try:
        yield
    finally:
        for m in flipped:
            m.train()


class _Objective:
    """The distance of candidates (z, y) to their targets: pixel MSE + weight * relative feature MSE."""

    def __init__(self, gan: GAN, targets: torch.Tensor, labels: torch.Tensor | None,
                 space: FeatureSpace | None, feature_weight: float) -> None:
        self.gan, self.targets, self.labels = gan, targets, labels
        self.space = space if feature_weight > 0 else None
        self.feature_weight = feature_weight
        self.target_feats = None
        if self.space is not None:
            with torch.no_grad():
                self.target_feats = self.space.embed(targets, labels).detach()
                self.feature_scale = self.target_feats.pow(2).mean(1).clamp_min(1e-6)

    def subset(self, index: torch.Tensor) -> _Objective:
        out = object.__new__(_Objective)
        out.gan, out.space, out.feature_weight = self.gan, self.space, self.feature_weight
        out.targets = self.targets[index]
        out.labels = None if self.labels is None else self.labels[index]
        out.target_feats = None if self.target_feats is None else self.target_feats[index]
        if self.target_feats is not None:
            out.feature_scale = self.feature_scale[index]
        return out

    def images(self, z: torch.Tensor) -> torch.Tensor:
        return self.gan.generator(z, self.labels)

    def pixel(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.targets).pow(2).flatten(1).mean(1)

    def full(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(full distance, pixel distance) per candidate."""
        pixel = self.pixel(images)
        if self.space is None:
            return pixel, pixel
        feats = self.space.embed(images, self.labels)
        feature = (feats - self.target_feats).pow(2).mean(1) / self.feature_scale
        return pixel + self.feature_weight * feature, pixel


def _descend(objective: _Objective, z: torch.Tensor, steps: int, lr: float, prior_weight: float,
             full: bool) -> torch.Tensor:
    """Adam on z for `steps` steps; returns each candidate's best z seen (by the distance being minimised)."""
    z = z.detach().clone().requires_grad_(True)
    best_z, best_d = z.detach().clone(), torch.full((len(z),), math.inf, device=z.device)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        images = objective.images(z)
        distance = objective.full(images)[0] if full else objective.pixel(images)
        with torch.no_grad():
            better = distance < best_d
            best_d = torch.where(better, distance, best_d)
            best_z[better] = z[better]
        loss = (distance + prior_weight * z.pow(2).mean(1)).sum()
        (z.grad,) = torch.autograd.grad(loss, [z])  # gradients for z only: the model's weights stay untouched
        opt.step()
        with torch.no_grad():
            z.clamp_(-Z_LIMIT, Z_LIMIT)
    with torch.no_grad():
        distance = objective.full(objective.images(z))[0] if full else objective.pixel(objective.images(z))
        better = distance < best_d
        best_z[better] = z.detach()[better]
    return best_z


def _project_chunk(gan: GAN, targets: torch.Tensor, starts: torch.Tensor, classes: torch.Tensor | None,
                   space: FeatureSpace | None, cfg: ProjectionConfig) -> tuple[torch.Tensor, ...]:
    """Project n targets from their starts (n x K x R x z_dim, K = len(classes) or 1)."""
    n, k, r, z_dim = starts.shape
    device = gan.device
    owner = torch.arange(n, device=device).repeat_interleave(k * r)  # which target each candidate belongs to
    labels = None if classes is None else classes.to(device).repeat_interleave(r).repeat(n)
    objective = _Objective(gan, targets[owner], labels, space, cfg.feature_weight)
    z = _descend(objective, starts.reshape(-1, z_dim).to(device), cfg.steps, cfg.lr, cfg.prior_weight, full=False)
    with torch.no_grad():
        distance = torch.cat([objective.subset(part).full(objective.subset(part).images(z[part]))[0]
                              for part in torch.arange(len(z), device=device).split(512)])
    top = min(cfg.refine_top, k * r)
    keep = distance.view(n, k * r).topk(top, dim=1, largest=False).indices  # n x top, within each image's block
    keep = (keep + torch.arange(n, device=device).unsqueeze(1) * (k * r)).flatten()
    refined = objective.subset(keep)
    z = _descend(refined, z[keep], cfg.refine_steps, cfg.refine_lr, cfg.prior_weight, full=True)
    with torch.no_grad():
        images = refined.images(z)
        distance, pixel = refined.full(images)
    best = distance.view(n, top).argmin(1) + torch.arange(n, device=device) * top
    best_labels = None if refined.labels is None else refined.labels[best]
    return z[best], best_labels, images[best], distance[best], pixel[best]


def project_images(gan: GAN, targets: torch.Tensor, *, steps: int | None = None, restarts: int | None = None,
                   classes: Sequence[int] | None = None, seed: int = 0,
                   config: ProjectionConfig | None = None, features: str = "auto",
                   classifier: torch.nn.Module | None = None) -> Projection:
    """The generator's closest image to each target (N x C x H x W in [-1, 1], the model's own shape).

    `steps` / `restarts` override the search's settings in `config` (DEFAULT_CONFIG); `classes` restricts the
    classes tried for a conditional model (default: all); `features` is "auto" (`classifier`'s features, else
    the discriminator's, else pixels) or "pixels". Deterministic for a seed on a given device.
    """
    started = time.perf_counter()
    cfg = config or DEFAULT_CONFIG
    cfg = replace(cfg, **{k: v for k, v in (("steps", steps), ("restarts", restarts)) if v is not None}).validate()
    targets = _checked_targets(gan, targets)
    class_list = _checked_classes(gan, classes)
    if features not in ("auto", "pixels"):
        raise ValueError(f"features must be auto or pixels, got {features!r}")
    space = feature_space_for(gan, classifier) if features == "auto" and cfg.feature_weight > 0 else None
    n, k = len(targets), len(class_list) if class_list is not None else 1
    gen = torch.Generator().manual_seed(int(seed))  # drawn on the CPU: the same starts on every device
    starts = torch.randn(n, k, cfg.restarts, gan.z_dim, generator=gen).clamp_(-Z_LIMIT, Z_LIMIT)
    per_chunk = max(1, MAX_CANDIDATES // (k * cfg.restarts))
    results = []
    with _eval_mode(gan.generator, gan.discriminator), torch.enable_grad():
        for lo in range(0, n, per_chunk):
            part = slice(lo, lo + per_chunk)
            results.append(_project_chunk(gan, targets[part].to(gan.device), starts[part], class_list, space, cfg))
    z, labels, images, distance, pixel = (
        None if parts[0] is None else torch.cat(parts).detach().cpu() for parts in zip(*results, strict=True))
    return Projection(z, labels, images.float(), distance.float(), pixel.float(), time.perf_counter() - started,
                      space.name if space is not None else "pixels")


def _checked_targets(gan: GAN, targets: torch.Tensor) -> torch.Tensor:
    if gan.kind != "image" or gan.image_shape is None:
        raise ValueError(f"{gan.name} makes 2-D points, not images: there is nothing to draw into its latent space")
    if not isinstance(targets, torch.Tensor) or targets.dim() != 4 or tuple(targets.shape[1:]) != gan.image_shape:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be N x {' x '.join(map(str, gan.image_shape))} (this model's images), "
                         f"got {shape}")
    if not 1 <= len(targets) <= MAX_IMAGES:
        raise ValueError(f"project 1..{MAX_IMAGES} images at a time, got {len(targets)}")
    targets = targets.detach().float()
    if not torch.isfinite(targets).all():
        raise ValueError("targets hold NaN or infinite values")
    return targets.clamp(-1.0, 1.0)


def _checked_classes(gan: GAN, classes: Sequence[int] | None) -> torch.Tensor | None:
    if not gan.num_classes:
        if classes is not None:
            raise ValueError(f"{gan.name} is unconditional: it has no classes to choose from")
        return None
    chosen = list(range(gan.num_classes)) if classes is None else sorted({int(c) for c in classes})
    if not chosen:
        raise ValueError("classes is empty: give at least one class to try")
    bad = [c for c in chosen if not 0 <= c < gan.num_classes]
    if bad:
        raise ValueError(f"class {bad[0]} is out of range: this model has classes 0..{gan.num_classes - 1}")
    return torch.tensor(chosen, dtype=torch.long)


def verdicts(gan: GAN, projection: Projection) -> torch.Tensor | None:
    """D(x) of each projected image as a probability (as Explore shows it), or None without a discriminator."""
    return gan.discriminate(projection.images, projection.labels)


# ---------------------------------------------------------------- pictures -> targets

def image_to_target(image: Image.Image, image_shape: tuple[int, int, int], *,
                    dataset: str | None = None) -> torch.Tensor:
    """Any drawn or uploaded picture as a 1 x C x H x W target in [-1, 1] in the model's own format.

    - Transparency (a canvas drawing, an RGBA upload) is composed on a background: for colour models the
      emoji dataset's white; for greyscale models black or white, whichever the strokes stand out from.
    - Greyscale models (MNIST, Fashion-MNIST) learned light strokes on a black ground. A picture whose border
      is mostly light (dark strokes on a white canvas or paper) is inverted; its background is then pulled to
      black and its strongest ink to white, so a pencil photo reads like a drawing.
    - Resized with antialiasing (Lanczos). For MNIST-like greyscale models the ink's bounding box is scaled
      to fit 20 x 20 of 28 x 28 and centred by its centre of mass, as MNIST's own preprocessing did;
      Fashion-MNIST's items fill the frame (`dataset="fashion"`). Colour pictures are fitted whole into the
      square and padded with the background.
    """
    channels, height, width = (int(s) for s in image_shape)
    if channels not in (1, 3) or height != width:
        raise ValueError(f"image_shape must be (1 or 3, S, S), got {tuple(image_shape)}")
    rgba = _as_rgba(image)
    if channels == 3:
        picture = _fit(_compose(rgba, (255, 255, 255)), height, (255, 255, 255))
        array = np.asarray(picture, dtype=np.float32).transpose(2, 0, 1)
    else:
        array = _greyscale_target(rgba, height, fill=1.0 if dataset == "fashion" else MNIST_FILL)[None]
    return torch.from_numpy(np.ascontiguousarray(array)).div(127.5).sub(1.0).unsqueeze(0)


def _as_rgba(image: Image.Image) -> Image.Image:
    """RGBA of the first frame of any PIL mode (16-bit and float greys are scaled to 0..255 first)."""
    if not isinstance(image, Image.Image):
        raise ValueError(f"expected a PIL image, got {type(image).__name__}")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        values = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        image = Image.fromarray(values.astype(np.uint8), "L")
    return image.convert("RGBA")


def _compose(rgba: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    ground = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(ground, rgba).convert("RGB")


def _fit(picture: Image.Image, size: int, background: tuple[int, ...] | int) -> Image.Image:
    """The whole picture scaled (aspect kept, antialiased) into size x size, padded with the background."""
    return ImageOps.pad(picture, (size, size), method=Image.Resampling.LANCZOS, color=background)


def _greyscale_target(rgba: Image.Image, size: int, fill: float) -> np.ndarray:
    """size x size float32 in 0..255: light ink on black, scaled and centred as described above."""
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32)
    grey = np.asarray(rgba.convert("L"), dtype=np.float32)
    if alpha.min() < 250:  # transparency: compose on whichever of black / white the visible strokes stand out from
        opaque = alpha > 127
        ink_is_dark = opaque.any() and float(grey[opaque].mean()) < 128
        ground = (255, 255, 255) if ink_is_dark else (0, 0, 0)
        grey = np.asarray(_compose(rgba, ground).convert("L"), dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if float(np.median(border)) > 127:
        grey = 255.0 - grey
        border = 255.0 - border
    ground_level = float(np.median(border))
    ink = np.clip(grey - ground_level, 0, None)
    peak = float(np.percentile(ink[ink > 0], 99)) if (ink > 0).any() else 0.0
    if peak < 1.0:  # a blank picture: nothing to centre
        return np.zeros((size, size), dtype=np.float32)
    ink = np.clip(ink * (255.0 / peak), 0, 255)
    rows, cols = np.nonzero(ink > 0.1 * 255)
    box = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    inner = max(1, round(size * fill))
    scale = inner / max(box.shape)
    shape = (max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))  # PIL: (width, height)
    glyph = np.asarray(Image.fromarray(box.astype(np.uint8), "L").resize(shape, Image.Resampling.LANCZOS),
                       dtype=np.float32)
    out = np.zeros((size, size), dtype=np.float32)
    h, w = glyph.shape
    top, left = (size - h) // 2, (size - w) // 2
    if fill < 1.0 and glyph.sum() > 0:  # MNIST: centre of mass at the centre, as long as the glyph stays inside
        ys, xs = np.indices(glyph.shape)
        cy, cx = float((ys * glyph).sum() / glyph.sum()), float((xs * glyph).sum() / glyph.sum())
        top = int(np.clip(round(size / 2 - cy - 0.5), 0, size - h))
        left = int(np.clip(round(size / 2 - cx - 0.5), 0, size - w))
    out[top: top + h, left: left + w] = glyph
    return out
