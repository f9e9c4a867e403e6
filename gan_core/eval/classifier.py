"""The project's own CNN classifiers, two per image dataset, used to measure GAN quality.

Their predictions give class accuracy and class coverage; their penultimate-layer features give
the classifier Fréchet distance (gan_core.eval.metrics). Each dataset has two: the "classifier"
(SmallCNN, 5x5 kernels) and an independent "judge" (VGGStyleCNN: 3x3 kernels, BatchNorm, global
average pooling) with another seed and another training split, so a generator is not graded only
by the network it may have learned to please. The classifier is also the feature space for the
Explore page's nearest-neighbour (memorisation) check. Weights are safetensors + JSON, like the
GAN checkpoints, and nothing is ever unpickled.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from gan_core.io.checkpoint import PRETRAINED_DIR, CheckpointError, atomic_write_bytes, checkpoint_paths

logger = logging.getLogger(__name__)

CLASSIFIER_FORMAT = "gan_core.classifier/1"
CLASSIFIER_DATASETS = ("mnist", "fashion", "emoji")
CLASSIFIER_ROLES = ("classifier", "judge")  # pretrained/{dataset}-{role}.*
FEATURE_DIM = 128
IMAGE_SIZE = 28  # the side a classifier sees unless told (MNIST, Fashion-MNIST); emoji's are 32


class ImageClassifier(nn.Module):
    """What both classifiers share: `body` maps image_size x image_size images to `feature_dim` features, `head`
    to class logits."""

    feature_dim: int
    image_size: int
    body: nn.Module
    dropout: nn.Module
    head: nn.Module

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """N x feature_dim features of N x C x H x W images in [-1, 1] (resized to the classifier's size first)."""
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


class SmallCNN(ImageClassifier):
    """conv5-pool-conv5-pool-fc128-fc: small enough to train in minutes on 2 CPU cores (its accuracy: the card)."""

    feature_dim = FEATURE_DIM

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = IMAGE_SIZE) -> None:
        super().__init__()
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (image_size // 4) ** 2, FEATURE_DIM), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, num_classes)



class VGGStyleCNN(ImageClassifier):
    """The independent judge: six 3x3 conv layers with BatchNorm (VGG-style), global average pooling, linear head.

    Unlike SmallCNN: 3x3 instead of 5x5 kernels, six conv layers instead of two, BatchNorm, no hidden
    fully connected layer, and its features (96 channels pooled over a 3x3 map) rather than a flattened 7x7 map.
    """

    feature_dim = 96

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = IMAGE_SIZE) -> None:
        super().__init__()
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(  # 28 -> 14 -> 7 -> 3 (32 -> 16 -> 8 -> 4): the last layer sees the whole image
            *block(in_channels, 24), *block(24, 24), nn.MaxPool2d(2),
            *block(24, 48), *block(48, 48), nn.MaxPool2d(2),
            *block(48, self.feature_dim), nn.MaxPool2d(2),
            *block(self.feature_dim, self.feature_dim), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(self.feature_dim, num_classes)



ARCHITECTURES: dict[str, type[nn.Module]] = {"SmallCNN": SmallCNN, "VGGStyleCNN": VGGStyleCNN}
Classifier = SmallCNN | VGGStyleCNN


def build_classifier(architecture: str, num_classes: int = 10, in_channels: int = 1,
                     image_size: int = IMAGE_SIZE) -> Classifier:
    """A fresh classifier of a registered architecture (raises ValueError for an unknown name or size)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown classifier architecture {architecture!r}; choose from {', '.join(ARCHITECTURES)}")
    if image_size % 4 or not 8 <= image_size <= 128:
        raise ValueError(f"a classifier's image size must be a multiple of 4 in 8..128, got {image_size}")
    return ARCHITECTURES[architecture](num_classes, in_channels, image_size)


def image_background(images: torch.Tensor) -> float:
    """The images' background in [-1, 1], for train_classifier's `background`: the median top-left pixel (-1 for
    MNIST's black, +1 for emoji's white)."""
    return float(images[:, :, 0, 0].median())


def _shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2, background: float = -1.0) -> torch.Tensor:
    """Random translation by up to max_shift pixels, padded with the background (-1 black, +1 white: emoji)."""
    n, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4, value=background)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h)).to(x.device)
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w)).to(x.device)
    idx = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[idx, rows.view(n, h, 1), cols.view(n, 1, w)]
    return out.permute(0, 3, 1, 2).contiguous()


def _photometric(x: torch.Tensor, generator: torch.Generator, background: float = -1.0) -> torch.Tensor:
    """Half the images get a greyer background and less contrast: x -> (x - bg) * c + bg + b toward grey, clamped.

    (bg is the background, -1 for MNIST's black, where this is (x + 1) * c - 1 + b; +1 for emoji's white.)
    GAN samples often have a grey background: a classifier meant to say whether a digit is recognisable
    must not fail on that alone (without this, the judge failed on most real digits whose background was
    raised by 0.2). Only global brightness and contrast change, never the shapes, and no pixel noise is
    added, so blotchy or speckled samples still look wrong to it (trained with noise as well, the Fashion
    judge accepted more of the blotchy fashion-cgan samples than the classifier did). The figures are in the
    model card, pretrained/README.md.
    """
    shape = (len(x), 1, 1, 1)
    lift = (torch.rand(shape, generator=generator) < 0.5).float()
    contrast = 1 - 0.3 * torch.rand(shape, generator=generator) * lift
    offset = 0.5 * torch.rand(shape, generator=generator) * lift
    toward_grey = -1.0 if background >= 0 else 1.0
    return ((x - background) * contrast.to(x.device) + background + toward_grey * offset.to(x.device)).clamp(-1, 1)


def _dropout(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Training-time dropout (what nn.Dropout computes on the CPU, draw for draw) from `generator`."""
    keep = torch.empty_like(x).bernoulli_(1 - p, generator=generator)
    return x * keep.div_(1 - p)


def train_classifier(images: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int = 2000,
                     batch_size: int = 128, lr: float = 1e-3, seed: int = 0, device: str | torch.device = "cpu",
                     augment: bool = False, architecture: str = "SmallCNN", photometric: bool = False,
                     background: float = -1.0) -> Classifier:
    """Train a classifier on in-memory images (N x C x H x W in [-1, 1]) by random index batches.

    `augment`: random shifts of up to 2 pixels, padded with `background`; `photometric`: background and
    contrast changes.

    Adam with a cosine learning-rate decay; returns the model in eval mode.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be at least 1")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    # Seeded weights and dropout without touching the process's RNG (this runs in a server thread): the
    # weights are drawn inside fork_rng, and dropout draws from its own generator, which on the CPU starts
    # where the global one would have been, so a seed gives the same classifier as before.
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        model = build_classifier(architecture, num_classes, images.shape[1], images.shape[-1])
        dropout_gen = torch.Generator()
        dropout_gen.set_state(torch.get_rng_state())
    if device.type != "cpu":
        dropout_gen = torch.Generator(device=device).manual_seed(seed)
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    images, labels = images.to(device), labels.to(device).long()
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(images), (min(batch_size, len(images)),), generator=gen).to(device)
        x = images[idx]
        if augment:
            x = _shift(x, gen, background=background)
        if photometric:
            x = _photometric(x, gen, background)
        logits = model.head(_dropout(model.features(x), model.dropout.p, dropout_gen))
        loss = F.cross_entropy(logits, labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.inference_mode()
def predict(model: Classifier, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """Predicted class per image (LongTensor on the CPU), in batches."""
    device = next(model.parameters()).device
    out = [model(images[i:i + batch].to(device)).argmax(1).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


@torch.inference_mode()
def features(model: Classifier, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """Penultimate-layer features (N x feature_dim, float64 on the CPU), in batches."""
    device = next(model.parameters()).device
    out = [model.features(images[i:i + batch].to(device)).double().cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0, model.feature_dim, dtype=torch.float64)


def accuracy(model: Classifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images whose predicted class equals its label."""
    if len(images) == 0:
        raise ValueError("accuracy of no images is undefined")
    return float((predict(model, images) == labels.cpu().long()).float().mean())


def save_classifier(model: Classifier, path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write PATH.safetensors + PATH.json atomically. The JSON says "kind": "classifier" (never a GAN "model")."""
    weights_path, json_path = checkpoint_paths(path)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    meta = dict(meta, kind="classifier", format=CLASSIFIER_FORMAT, architecture=type(model).__name__,
                num_classes=model.num_classes, in_channels=model.in_channels, image_size=model.image_size,
                feature_dim=model.feature_dim,
                tensors={k: list(v.shape) for k, v in tensors.items()})
    meta.pop("model", None)
    atomic_write_bytes(weights_path, save_safetensors_bytes(tensors, metadata={"format": CLASSIFIER_FORMAT}))
    atomic_write_bytes(json_path, (json.dumps(meta, indent=2) + "\n").encode())
    return weights_path


def load_classifier_file(path: str | os.PathLike, device: str | torch.device = "cpu") -> Classifier:
    """Load a classifier from PATH.safetensors + PATH.json, checking every shape; raises CheckpointError."""
    weights_path, json_path = checkpoint_paths(path)
    if not weights_path.is_file() or not json_path.is_file():
        raise CheckpointError(f"classifier {weights_path.with_suffix('')} is missing (needs .safetensors and .json); "
                              "train one with: python -m gan_core train-classifier")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{json_path.name} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("kind") != "classifier":
        raise CheckpointError(f"{json_path.name} does not describe a classifier")
    try:
        model = build_classifier(str(meta.get("architecture", "SmallCNN")), int(meta.get("num_classes", 10)),
                                 int(meta.get("in_channels", 1)), int(meta.get("image_size", IMAGE_SIZE)))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{json_path.name}: {exc}") from None
    try:
        tensors = load_safetensors_bytes(weights_path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types on a corrupt or truncated file
        raise CheckpointError(f"{weights_path.name} is not a valid safetensors file ({type(exc).__name__})") from None
    expected = model.state_dict()
    if set(tensors) != set(expected) or any(tensors[k].shape != expected[k].shape for k in expected):
        raise CheckpointError(f"{weights_path.name}: tensor shapes do not match a {type(model).__name__} "
                              f"with {model.num_classes} classes, {model.in_channels} channels and "
                              f"{model.image_size} x {model.image_size} images")
    model.load_state_dict(tensors, strict=True)
    model.meta = meta  # type: ignore[attr-defined]
    return model.to(torch.device(device)).eval()


def classifier_path(dataset: str, role: str = "classifier") -> Path:
    """pretrained/{dataset}-{role} (no suffix); role is "classifier" (SmallCNN) or "judge" (VGGStyleCNN)."""
    if dataset not in CLASSIFIER_DATASETS:
        raise ValueError(f"no project classifier for dataset {dataset!r}; there are: {', '.join(CLASSIFIER_DATASETS)}")
    if role not in CLASSIFIER_ROLES:
        raise ValueError(f"unknown classifier role {role!r}; choose from {', '.join(CLASSIFIER_ROLES)}")
    return PRETRAINED_DIR / f"{dataset}-{role}"


def load_classifier(dataset: str, device: str | torch.device = "cpu", role: str = "classifier") -> Classifier:
    """A shipped classifier for "mnist", "fashion" or "emoji" (pretrained/{dataset}-{role}.*), in eval mode."""
    return load_classifier_file(classifier_path(dataset, role), device)


@functools.lru_cache(maxsize=8)
def shipped_classifier(dataset: str, device: str = "cpu") -> Classifier | None:
    """The dataset's project classifier, loaded once per process, or None where none is shipped (a folder of
    the user's own images) or its files are unreadable (logged): projection then compares other features."""
    if dataset not in CLASSIFIER_DATASETS:
        return None
    try:
        return load_classifier(dataset, device)
    except (CheckpointError, OSError) as exc:
        logger.warning("no usable project classifier for %s: %s", dataset, exc)
        return None
