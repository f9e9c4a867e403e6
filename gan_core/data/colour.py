"""Is a folder of images in colour? Decides whether an uploaded folder trains as 32x32 RGB or 28x28 grey.

A user who uploads colour pictures expects a colour GAN, and one who uploads scans of digits expects grey:
the Train form and `gan train --dataset folder:PATH` both ask this once, and the user can still override it
(the form's "Uploaded images in colour" box, `--folder-rgb` / `--no-folder-rgb`). A picture counts as colour
when a noticeable share of its pixels have channels that differ by more than JPEG noise does.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.data.datasets import IMAGE_SUFFIXES

logger = logging.getLogger(__name__)

SAMPLED_IMAGES = 64  # images looked at, spread over the folder (sorted paths)
CHANNEL_SPREAD = 24  # of 255: max(R, G, B) - min(R, G, B) above this is colour, not compression noise
COLOUR_SHARE = 0.01  # a picture with at least this share of such pixels is in colour
THUMBNAIL = 64  # pixels on the longer side, for speed


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The image files under `folder` (class sub-folders included), sorted, hidden ones left out."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def colour_share(image: Image.Image) -> float:
    """The share of the picture's pixels whose channels differ by more than CHANNEL_SPREAD."""
    rgb = image.convert("RGB")
    rgb.thumbnail((THUMBNAIL, THUMBNAIL))
    pixels = np.asarray(rgb, dtype=np.int16)
    spread = pixels.max(axis=-1) - pixels.min(axis=-1)
    return float((spread > CHANNEL_SPREAD).mean())


def folder_is_colour(folder: str | os.PathLike, sample: int = SAMPLED_IMAGES) -> bool:
    """True when any of up to `sample` images (evenly spread over the folder) is in colour.

    Unreadable files are skipped here (logged): loading the dataset reports them to the user."""
    files = image_files(folder)
    if not files:
        return False
    picks = np.unique(np.linspace(0, len(files) - 1, min(sample, len(files))).round().astype(int))
    for i in picks:
        try:
            with Image.open(files[i]) as im:
                if colour_share(im) >= COLOUR_SHARE:
                    return True
        except (OSError, Image.DecompressionBombError) as exc:
            logger.info("colour check skipped %s: %s", files[i].name, exc)
    return False
