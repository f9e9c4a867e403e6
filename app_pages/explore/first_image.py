"""The explorer's first picture, made on the server for the state the element opens with.

The element draws it into its sample canvas the moment it mounts (static/js/explore/loader.js), so a
cold tab shows an image before ONNX Runtime Web and the model file have loaded (they load after that
first paint). The live generator's first frame then draws over it in the same canvas: same size, same
place, and the same pixels to within the browser file's rounding (the same generator and the same z,
sample_view.compute_sample), so the hand-over is not visible. A PNG at the model's own resolution is a
few hundred bytes (28 x 28 grey) to a few KB (32 x 32 colour).
"""
from __future__ import annotations

import base64

from app_pages.explore import compute as ec
from app_pages.explore import sample_view as sv
from app_pages.explore.state import ExploreState
from gan_core import GAN
from gan_core.explore.directions import Directions
from gan_core.io.images import png_bytes


def first_image_url(gan: GAN, directions: Directions, view: ExploreState) -> str | None:
    """The view's sample as a PNG data URL at the model's own size, or None for a toy model (the browser
    draws its scatter from points)."""
    if gan.kind != "image":
        return None
    sample = sv.compute_sample(gan, directions, view)
    return "data:image/png;base64," + base64.b64encode(png_bytes(ec.image_array(sample.x))).decode("ascii")


__all__ = ["first_image_url"]
