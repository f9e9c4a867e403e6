"""`project`: find the latent (and class) whose generated image is closest to a picture or to a batch of arrays.

The command-line twin of Explore's "draw -> latent": `--image FILE` takes any PNG/JPEG/GIF/BMP/WebP (checked
like every upload: gan_core.io.safety) and converts it as a drawing (gan_core.explore.projection.image_to_target);
`--images X.npy` takes N x H x W or N x C x H x W arrays already in the model's format, uint8 (0..255) or float
([-1, 1], or [0, 1] when no value is negative). For each image it reports the class and z found, the distance,
D(x) of the projected image and the nearest training image; `--out` writes target | projection | nearest rows.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_core.cli.common import Command, UsageError

logger = logging.getLogger(__name__)
MAX_BATCH_IMAGES = 1000  # --images: at most this many per call


def add_project_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a shipped model's name (e.g. mnist-cgan) or a checkpoint path")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="one picture (PNG, JPEG, GIF, BMP or WebP): a drawing, a photo, a sample")
    source.add_argument("--images", help="X.npy: N x H x W or N x C x H x W, uint8 or float, in the model's size")
    parser.add_argument("--out", help="FILE.png: each image's row of target | projection | nearest training image")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--classes", help="conditional models: only try these classes (comma-separated indices)")
    parser.add_argument("--steps", type=int, help="Adam steps of the search (default: the tuned setting)")
    parser.add_argument("--restarts", type=int, help="random starts per image and class (default: the tuned setting)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-nearest", action="store_true", help="skip the nearest training image (faster)")


def run_project(args: argparse.Namespace) -> int:
    from gan_core.device import pick_device
    from gan_core.eval.classifier import shipped_classifier
    from gan_core.explore.projection import image_to_target, project_images, verdicts
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint

    if args.out and Path(args.out).suffix.lower() != ".png":
        raise UsageError(f"--out must end in .png, got {Path(args.out).name}")
    gan = load_checkpoint(resolve_checkpoint(args.model), pick_device(args.device))
    if gan.kind != "image":
        raise UsageError(f"{gan.name} makes 2-D points, not images: projection needs an image model")
    if args.image:
        from gan_core.io.safety import MAX_IMAGE_BYTES, open_uploaded_image
        picture = open_uploaded_image(_read_capped(args.image, MAX_IMAGE_BYTES, "--image"))
        targets = image_to_target(picture, gan.image_shape, dataset=gan.meta.get("dataset"))
        names = [Path(args.image).name]
    else:
        from gan_core.io.safety import MAX_ARRAY_BYTES, load_uploaded_array
        targets = array_to_targets(load_uploaded_array(_read_capped(args.images, MAX_ARRAY_BYTES, "--images")),
                                   gan.image_shape)
        names = [f"{Path(args.images).name}[{i}]" for i in range(len(targets))]
    found = project_images(gan, targets, steps=args.steps, restarts=args.restarts,
                           classes=_class_list(args.classes), seed=args.seed,
                           classifier=shipped_classifier(str(gan.meta.get("dataset") or ""), str(gan.device)))
    d_x = verdicts(gan, found)
    nearest = None if args.no_nearest else nearest_training_images(gan, found.images)
    rows = [_row(gan, found, i, name, d_x, nearest) for i, name in enumerate(names)]
    if args.out:
        _write_sheet(Path(args.out), targets, found.images, nearest)
    if args.json:
        print(json.dumps({"model": gan.name, "feature_space": found.feature_space, "seconds": round(found.seconds, 3),
                          "nearest_space": nearest["space"] if nearest else None, "images": rows}))
    else:
        for row in rows:
            print(_describe(row))
        print(f"projected {len(rows)} image(s) into {gan.name} in {found.seconds:.2f} s"
              + (f"; wrote {args.out}" if args.out else ""))
    return 0


def _read_capped(path_text: str, limit: int, flag: str) -> bytes:
    """The file's bytes, refusing (before reading) a missing file or one over `limit`."""
    path = Path(path_text)
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path_text}: no such file")
    size = path.stat().st_size
    if size > limit:
        raise UsageError(f"{flag} {path.name} is {size / 2**20:.1f} MiB; the limit is {limit / 2**20:.0f} MiB")
    return path.read_bytes()


def _class_list(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--classes must be comma-separated class indices, got {text!r}") from None


def array_to_targets(array: np.ndarray, image_shape: tuple[int, int, int]) -> torch.Tensor:
    """A checked .npy batch -> N x C x H x W floats in [-1, 1]; the shape must be the model's (N x H x W for grey)."""
    channels, height, width = image_shape
    if array.ndim == 3 and channels == 1:
        array = array[:, None]
    wanted = f"N x {height} x {width} or " if channels == 1 else ""
    if array.ndim != 4 or tuple(array.shape[1:]) != tuple(image_shape):
        raise UsageError(f"the array is {' x '.join(map(str, array.shape))}; this model needs "
                         f"{wanted}N x {channels} x {height} x {width}")
    if not 1 <= len(array) <= MAX_BATCH_IMAGES:
        raise UsageError(f"the array holds {len(array)} images; give 1..{MAX_BATCH_IMAGES}")
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / 127.5 - 1.0)
    values = array.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if low < -1.0 - 1e-4 or high > 1.0 + 1e-4:
        raise UsageError(f"float images must lie in [-1, 1] (or [0, 1]); these span {low:.3g}..{high:.3g}")
    if low >= 0.0:  # [0, 1], as torchvision's ToTensor gives
        values = values * 2.0 - 1.0
    return torch.from_numpy(values).clamp_(-1.0, 1.0)


def nearest_training_images(gan: Any, images: torch.Tensor) -> dict[str, Any] | None:
    """The memorisation check's nearest training image (gan_core.eval.neighbours) for each projected image."""
    from gan_core.data.datasets import DataNotFoundError
    from gan_core.eval.neighbours import dataset_index, nearest

    dataset = gan.meta.get("dataset")
    if not dataset or str(dataset).startswith("folder:"):
        logger.warning("no nearest training image: %s does not name a built-in dataset", gan.name)
        return None
    try:
        index = dataset_index(str(dataset))
    except (ValueError, DataNotFoundError) as exc:
        logger.warning("no nearest training image: the %s training images could not be read (%s)", dataset, exc)
        return None
    if tuple(index.images.shape[1:]) != tuple(images.shape[1:]):
        logger.warning("no nearest training image: %s's images are not this model's shape", dataset)
        return None
    idx, dist = nearest(index, images, k=1)
    labels = index.labels[idx[:, 0]] if index.labels is not None else None
    return {"index": idx[:, 0], "distance": dist[:, 0], "labels": labels, "images": index.images[idx[:, 0]],
            "space": index.space}


def _row(gan: Any, found: Any, i: int, name: str, d_x: torch.Tensor | None,
         nearest: dict[str, Any] | None) -> dict[str, Any]:
    label = None if found.labels is None else int(found.labels[i])
    row = {"image": name, "class": label,
           "class_name": gan.class_names[label] if label is not None else None,
           "distance": round(float(found.distance[i]), 5), "pixel_distance": round(float(found.pixel_distance[i]), 5),
           "d_x": None if d_x is None else round(float(d_x.flatten()[i]), 4),
           "z": [round(float(v), 5) for v in found.z[i]], "nearest": None}
    if nearest is not None:
        near_label = None if nearest["labels"] is None else int(nearest["labels"][i])
        row["nearest"] = {"index": int(nearest["index"][i]), "distance": round(float(nearest["distance"][i]), 4),
                          "class": near_label}
    return row


def _describe(row: dict[str, Any]) -> str:
    parts = [f"{row['image']}:"]
    if row["class"] is not None:
        parts.append(f"class {row['class']} ({row['class_name']}),")
    parts.append(f"distance {row['distance']:.4f} (pixels {row['pixel_distance']:.4f})")
    if row["d_x"] is not None:
        parts.append(f", D(x) {row['d_x']:.2f}")
    if row["nearest"] is not None:
        parts.append(f", nearest training image #{row['nearest']['index']} at {row['nearest']['distance']:.2f}")
    return " ".join(parts).replace(" ,", ",")


def _write_sheet(out: Path, targets: torch.Tensor, projected: torch.Tensor, nearest: dict[str, Any] | None) -> None:
    from gan_core.io.checkpoint import atomic_write_bytes
    from gan_core.io.images import grid, png_bytes

    columns = [targets, projected] + ([nearest["images"]] if nearest is not None else [])
    tiles = torch.stack(columns, 1).flatten(0, 1)  # row-major: each image's target, projection, nearest
    atomic_write_bytes(out, png_bytes(grid(tiles, nrow=len(columns), scale=4)))


COMMANDS = (Command("project", add_project_args, run_project,
                    "find the latent (and class) whose generated image is closest to a picture or to arrays"),)
