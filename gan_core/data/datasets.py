"""Training data: 2-D toy distributions and image datasets kept whole in one device tensor.

Batches are drawn by random index into the tensor, so a training step never decodes an
image in Python. Image files are looked up on disk before any download is tried.
"""
from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_core.settings import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

TOY_DATASETS = ("ring8", "grid25", "spiral", "moons")
IMAGE_DATASETS = ("mnist", "fashion", "emoji")
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MAX_FOLDER_IMAGES = 20000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class DataNotFoundError(FileNotFoundError):
    """An image dataset is neither on disk nor downloadable; the message says where to put it."""


@dataclass
class Dataset:
    """What the trainer, the metrics and the pages need to know about a dataset."""

    name: str
    kind: str  # "image" or "points"
    shape: tuple[int, ...]  # (C, H, W) for images, (2,) for points
    class_names: tuple[str, ...] | None = None
    source: str = ""  # where the data came from
    note: str = ""  # caveats worth telling a user, e.g. "test split used for training"
    images: torch.Tensor | None = None  # N x C x H x W in [-1, 1]
    labels: torch.Tensor | None = None  # N, int64
    modes: torch.Tensor | None = None  # toy: K x 2 mode centres
    mode_std: float = 0.0

    @property
    def num_classes(self) -> int | None:
        return len(self.class_names) if self.class_names else None

    def __len__(self) -> int:
        return len(self.images) if self.images is not None else 1 << 30

    def to(self, device: torch.device | str) -> Dataset:
        for name in ("images", "labels", "modes"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, value.to(device))
        return self

    @property
    def device(self) -> torch.device:
        tensor = self.images if self.images is not None else self.modes
        return tensor.device if tensor is not None else torch.device("cpu")

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A random batch (x, y); y is None for unlabelled data."""
        if self.kind == "points":
            return sample_toy(self.name, n, generator=generator, device=self.device), None
        idx = torch.randint(len(self.images), (n,), device=self.images.device, generator=generator)
        return self.images[idx], (self.labels[idx] if self.labels is not None else None)

    def shard(self, rank: int, world_size: int) -> Dataset:
        """This rank's share of the images (distributed training); toy data is infinite and not split."""
        if self.images is None or world_size <= 1:
            return self
        keep = slice(rank, None, world_size)
        return Dataset(self.name, self.kind, self.shape, self.class_names, self.source, self.note,
                       self.images[keep], None if self.labels is None else self.labels[keep],
                       self.modes, self.mode_std)


# ---------------------------------------------------------------- toy data

# The toy samplers' parameters (the browser engine samples with the same ones: gan_core.teach.browser_spec)
TOY_SAMPLERS: dict[str, dict[str, Any]] = {
    "ring8": {"kind": "ring", "modes": 8, "radius": 2.0, "std": 0.02},
    "grid25": {"kind": "grid", "low": -4.0, "high": 4.0, "spacing": 2.0, "std": 0.02},
    # t = sqrt(U) * turn, point = t (cos t, sin t) * scale + noise * N(0, I)
    "spiral": {"kind": "spiral", "turn": 3 * math.pi, "scale": 1 / (1.5 * math.pi), "noise": 0.05},
    # half the points on each moon, t ~ U(0, pi); point = ((x, y) - shift) * scale + noise * N(0, I)
    "moons": {"kind": "moons", "shift": (0.5, 0.25), "scale": 1.5, "noise": 0.05},
}


def toy_modes(name: str) -> tuple[torch.Tensor | None, float]:
    """Mode centres and std of the toy mixtures (None for the continuous ones)."""
    params = TOY_SAMPLERS.get(name, {})
    if params.get("kind") == "ring":
        angles = torch.arange(params["modes"]) * (2 * math.pi / params["modes"])
        r = params["radius"]
        return torch.stack([r * torch.cos(angles), r * torch.sin(angles)], 1), params["std"]
    if params.get("kind") == "grid":
        g = torch.arange(params["low"], params["high"] + params["spacing"] / 2, params["spacing"])
        return torch.cartesian_prod(g, g), params["std"]
    return None, 0.0


def sample_toy(name: str, n: int, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """n points of a 2-D toy distribution, drawn fresh (the toys are infinite)."""
    if name in ("ring8", "grid25"):
        modes, std = toy_modes(name)
        modes = modes.to(device)
        pick = torch.randint(len(modes), (n,), generator=generator, device=device)
        return modes[pick] + std * torch.randn(n, 2, generator=generator, device=device)
    if name == "spiral":
        p = TOY_SAMPLERS[name]
        t = torch.sqrt(torch.rand(n, generator=generator, device=device)) * p["turn"]
        pts = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) * p["scale"]
        return pts + p["noise"] * torch.randn(n, 2, generator=generator, device=device)
    if name == "moons":
        p = TOY_SAMPLERS[name]
        upper = torch.rand(n, generator=generator, device=device) < 0.5
        t = torch.rand(n, generator=generator, device=device) * math.pi
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([x - p["shift"][0], y - p["shift"][1]], 1) * p["scale"]
        return pts + p["noise"] * torch.randn(n, 2, generator=generator, device=device)
    raise ValueError(f"unknown toy dataset {name!r}; choose from {', '.join(TOY_DATASETS)}")


# ---------------------------------------------------------------- image data

def _read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (MNIST's format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: expected {int(np.prod(dims))} values, found {body.size}")
    return body.reshape(dims)


SUBFOLDERS = {"mnist": ("MNIST/raw", "mnist"), "fashion": ("FashionMNIST/raw", "fashion-mnist", "fashion")}


def _find_idx(folder: Path, name: str, prefix: str, kind: str) -> Path | None:
    bases = [folder / sub for sub in SUBFOLDERS[name]]
    if _folder_may_hold(folder, name):
        bases.insert(0, folder)
    for base in bases:
        for suffix in ("", ".gz"):
            path = base / f"{prefix}-{kind}{suffix}"
            if path.is_file():
                return path
    return None


def _folder_may_hold(folder: Path, name: str) -> bool:
    """MNIST and Fashion-MNIST share file names: don't take one for the other when the folder's name says which
    it is."""
    text = folder.name.lower()
    if "fashion" in text:
        return name == "fashion"
    if "mnist" in text:
        return name == "mnist"
    return True


def _idx_split(folder: Path, name: str, split: str) -> tuple[Path, Path] | None:
    prefix = "train" if split == "train" else "t10k"
    images = _find_idx(folder, name, prefix, "images-idx3-ubyte")
    labels = _find_idx(folder, name, prefix, "labels-idx1-ubyte")
    return (images, labels) if images and labels else None


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The one data lookup order: --data-dir, $GAN_DATA_DIR, ../shared/data/mnist, Debian's Fashion-MNIST,
    the download cache ($GAN_DOWNLOAD_DIR)."""
    dirs = []
    if data_dir:
        dirs.append(Path(data_dir))
    if settings().data_dir:
        dirs.append(settings().data_dir)
    if name == "mnist":
        dirs.append(SHARED_MNIST)
    if name == "fashion":
        dirs.append(DEBIAN_FASHION)
    dirs.append(settings().download_dir / name)
    return dirs


def locate_idx(name: str, data_dir: str | os.PathLike | None = None,
               split: str = "train") -> tuple[Path, Path, str]:
    """Find IDX files on disk for `name`; returns (images, labels, note). Falls back to the other split with a note."""
    for folder in candidate_dirs(name, data_dir):
        if not folder.is_dir():
            continue
        found = _idx_split(folder, name, split)
        if found:
            return found[0], found[1], ""
        other = "test" if split == "train" else "train"
        found = _idx_split(folder, name, other)
        if found:
            # users read this note on the pages: no server paths in it (the folder is in Dataset.source)
            note = (f"only the {'10k test' if other == 'test' else 'train'} split of {name} is on this machine; "
                    f"it is used as the {split} split here")
            return found[0], found[1], note
    raise DataNotFoundError("")


def _download(name: str, split: str) -> tuple[np.ndarray, np.ndarray, str]:
    from torchvision import datasets  # heavy import kept off the common path

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    root = settings().download_dir / name
    ds = cls(str(root), train=(split == "train"), download=True)
    return ds.data.numpy(), ds.targets.numpy(), str(root)


def load_image_dataset(name: str, data_dir: str | os.PathLike | None = None, split: str = "train",
                       limit: int | None = None) -> Dataset:
    """MNIST, Fashion-MNIST or emoji as one tensor in [-1, 1], found on disk first, downloaded only as a last resort."""
    if name not in IMAGE_DATASETS:
        raise ValueError(f"unknown image dataset {name!r}; choose from {', '.join(IMAGE_DATASETS)}")
    if name == "emoji":
        return load_emoji_dataset(split, limit)
    note = ""
    try:
        images_path, labels_path, note = locate_idx(name, data_dir, split)
        images, labels = _read_idx(images_path), _read_idx(labels_path)
        source = str(images_path.parent)
    except DataNotFoundError:
        try:
            images, labels, source = _download(name, split)
        except Exception as exc:  # no network, blocked host, ...
            places = ", ".join(str(d) for d in candidate_dirs(name, data_dir))
            files = "train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (or the t10k-* test files)"
            raise DataNotFoundError(
                f"{name}: no data on disk and the download failed ({type(exc).__name__}: {exc}). "
                f"Put {files} in one of: {places} — or pass --data-dir / set GAN_DATA_DIR.") from exc
    if len(images) != len(labels):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels")
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(np.array(images, dtype=np.uint8)).float().div_(127.5).sub_(1.0).unsqueeze(1)
    y = torch.from_numpy(np.array(labels)).long()
    classes = MNIST_CLASSES if name == "mnist" else FASHION_CLASSES
    return Dataset(name, "image", (1, 28, 28), classes, source, note, x, y)


def load_emoji_dataset(split: str = "train", limit: int | None = None) -> Dataset:
    """Colour emoji, 3 x 32 x 32 on white, their Unicode group as the class (gan_core.data.emoji)."""
    from gan_core.data.emoji import EMOJI_GROUPS, EmojiSourceError, load_emoji_arrays, split_index

    try:
        images, labels, codes, source = load_emoji_arrays()
    except EmojiSourceError as exc:
        raise DataNotFoundError(str(exc)) from exc
    keep = split_index(codes, split)[:limit] if limit else split_index(codes, split)
    x = torch.from_numpy(np.ascontiguousarray(images[keep].transpose(0, 3, 1, 2))).float().div_(127.5).sub_(1.0)
    y = torch.from_numpy(labels[keep]).long()
    return Dataset("emoji", "image", (3, 32, 32), EMOJI_GROUPS, source, "", x, y)


def load_folder_dataset(path: str | os.PathLike, size: int = 28, rgb: bool = False,
                        max_images: int = MAX_FOLDER_IMAGES) -> Dataset:
    """Any folder of images: class sub-folders become labels (torchvision ImageFolder), a flat folder is unlabelled."""
    from PIL import Image
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    root = Path(path)
    if not root.is_dir():
        raise DataNotFoundError(f"image folder {root} does not exist")
    channels = 3 if rgb else 1
    tf = transforms.Compose([
        transforms.Resize(size), transforms.CenterCrop(size),
        transforms.Grayscale(channels) if not rgb else transforms.Lambda(lambda im: im.convert("RGB")),
        transforms.PILToTensor(),
    ])
    subdirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if subdirs:
        ds = ImageFolder(str(root), transform=tf, is_valid_file=lambda p: p.lower().endswith(IMAGE_SUFFIXES))
        if len(ds) > max_images:
            raise ValueError(f"{root} holds {len(ds)} images; the limit is {max_images}")
        try:
            items = [ds[i] for i in range(len(ds))]
        except (OSError, Image.DecompressionBombError) as exc:  # a corrupt or oversized file among the images
            raise ValueError(f"{root}: an image could not be read ({str(exc)[:120]})") from None
        class_names = tuple(ds.classes)
    else:
        files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if len(files) > max_images:
            raise ValueError(f"{root} holds {len(files)} images; the limit is {max_images}")
        items = []
        for p in files:
            try:
                with Image.open(p) as im:
                    items.append((tf(im.convert("RGB")), 0))
            except (OSError, Image.DecompressionBombError) as exc:
                raise ValueError(f"{p.name} could not be read as an image ({str(exc)[:120]})") from None
        class_names = None
    if not items:
        raise ValueError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    x = torch.stack([img for img, _ in items]).float().div_(127.5).sub_(1.0)
    y = torch.tensor([label for _, label in items], dtype=torch.long) if class_names else None
    return Dataset(f"folder:{root.name}", "image", (channels, size, size), class_names, str(root), "", x, y)


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, split: str = "train",
                 limit: int | None = None, folder_rgb: bool = False) -> Dataset:
    """Any dataset by name: a toy, mnist, fashion, or folder:PATH."""
    if name in TOY_DATASETS:
        modes, std = toy_modes(name)
        return Dataset(name, "points", (2,), None, "built-in", "", modes=modes, mode_std=std)
    if name in IMAGE_DATASETS:
        return load_image_dataset(name, data_dir, split, limit)
    if name.startswith("folder:"):
        return load_folder_dataset(name[len("folder:"):], size=32 if folder_rgb else 28, rgb=folder_rgb)
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(TOY_DATASETS + IMAGE_DATASETS)} or folder:PATH")
