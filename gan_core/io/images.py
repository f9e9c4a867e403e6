"""Turning generator output into pictures: uint8 arrays, grids, PNG bytes, GIFs, point plots."""
from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor | np.ndarray, layout: str = "NHWC") -> np.ndarray:
    """[-1, 1] floats (N x C x H x W) -> uint8; uint8 input passes through.

    NHWC is what pictures need; NCHW keeps the generator's layout (the training history stores snapshots so)."""
    if layout not in ("NHWC", "NCHW"):
        raise ValueError(f"layout must be NHWC or NCHW, got {layout!r}")
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    if images.dtype != np.uint8:
        images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1) if layout == "NHWC" else images)


def grid(images: torch.Tensor | np.ndarray, nrow: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tile N images into one H x W (x 3) uint8 array, nrow per row; grayscale stays 2-D."""
    tiles = to_uint8(images)
    n, h, w, c = tiles.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    canvas = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[top: top + h, left: left + w] = tiles[i]
    if scale > 1:
        canvas = canvas.repeat(scale, 0).repeat(scale, 1)
    return canvas[..., 0] if c == 1 else canvas


def png_bytes(array: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes; compress_level 1 suits images re-made every few seconds (about half the encoding time
    of the default 6, for a slightly bigger file)."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def gif_bytes(frames: list[np.ndarray], fps: float = 8.0, loop: bool = True, levels: int | None = None) -> bytes:
    """An animated GIF of uint8 frames (H x W or H x W x 3).

    `levels` (2..256) reduces each frame to that many gray levels (gray frames) or palette colours (colour
    frames) first: 16 gray levels make a training timeline several times smaller and still read well. Colour
    frames get their palette by fast octree quantisation: median cut took about a second per large frame.
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if levels is not None and not 2 <= levels <= 256:
        raise ValueError(f"levels must be in 2..256, got {levels}")
    images = [_reduced(Image.fromarray(f), levels) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(20, int(1000 / fps)), loop=0 if loop else 1)
    return buf.getvalue()


def _reduced(image: Image.Image, levels: int | None) -> Image.Image:
    if levels is None:
        return image
    if image.mode == "L":
        step = 256 // levels
        return image.point(lambda v: min(255, v // step * step + step // 2))
    return image.convert("RGB").quantize(colors=levels, method=Image.Quantize.FASTOCTREE)


def points_png(points: np.ndarray | torch.Tensor, real: np.ndarray | torch.Tensor | None = None,
               limit: float = 3.0, size: float = 4.0) -> bytes:
    """A scatter plot of generated (and optionally real) 2-D points as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_core.io import palette

    fig, ax = plt.subplots(figsize=(size, size), dpi=100)
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=4, c=palette.REAL, alpha=0.4, label="real")
    pts = np.asarray(points)
    ax.scatter(pts[:, 0], pts[:, 1], s=6, c=palette.FAKE, alpha=0.8, edgecolors=palette.FAKE_OUTLINE,
               linewidths=palette.FAKE_OUTLINE_WIDTH / 2, label="generated")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def samples_sheet_png(samples: np.ndarray | torch.Tensor, kind: str, num_classes: int | None = None,
                      real: np.ndarray | torch.Tensor | None = None) -> bytes:
    """A run's samples of its fixed noise as one PNG: images in rows of 8 (a conditional model's
    class-major samples in one column per class, one row per z), points as a scatter over `real`."""
    samples = np.asarray(samples)
    if kind != "image":
        return points_png(samples, real)
    order = np.arange(len(samples))
    if num_classes:
        order = order.reshape(num_classes, -1).T.reshape(-1)
    return png_bytes(grid(samples[order], nrow=num_classes or 8, scale=2))
