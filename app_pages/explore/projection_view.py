"""Draw -> latent on Explore: a student's drawing or uploaded image becomes the explorer's current state.

Two ways in: the explorer element's drawing canvas (static/js/explore/sketch.js) sends its PNG as the
component trigger "sketch" (browser_view.py hands it to `take_sketch`), and the page's uploader
(`upload_box`, both paths) takes a file. Either way the bytes are checked like every upload
(gan_core.io.safety) before anything decodes them, then wait in the page state (`PendingImage`) until
`run_pending` projects them in the page body, where a spinner can say so: gan_core.explore.projection finds
the z (and class) whose image is closest, inside a CPU turn like other Explore compute. The found z becomes
the view's base (state.LatentBase), so the z sliders move around the student's own drawing, Reset comes
back to it, and the link carries it. `draw_result` shows the drawing beside its projection and the nearest
training image (the memorisation check's index), with the distance and D(x).

A refused or failed image changes nothing but the message.
"""
from __future__ import annotations

import base64
import binascii
import logging
import time
from typing import Any

import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore import widgets as ew
from app_pages.explore.cache import NEIGHBOUR_DATASETS, neighbour_index
from app_pages.explore.state import (
    BROWSER,
    ExplorePage,
    ExploreState,
    LatentBase,
    Neighbour,
    PendingImage,
    ProjectionResult,
)
from app_shared.cpu_turns import cpu_turn
from gan_core import GAN
from gan_core.eval.classifier import shipped_classifier
from gan_core.eval.neighbours import nearest
from gan_core.explore.projection import image_to_target, project_images
from gan_core.io.onnx_export import no_export_running
from gan_core.io.safety import UnsafeInputError, open_uploaded_image

logger = logging.getLogger(__name__)

UPLOAD_KEY = "ex_image_upload"
SKETCH_SCALE = 8  # the drawing canvas has 8 of its pixels per model pixel (224 x 224 for MNIST)
MAX_SKETCH_CHARS = 4 * 2**20  # base64 characters of one drawing's PNG (a 256 x 256 canvas is far below)
PEN_SIZES = {1: (1.0, 5.0, 2.0), 3: (1.0, 8.0, 3.0)}  # model pixels: (smallest, largest, first) per channel count
# The colour models' pen colours (emoji are bright shapes with dark outlines on white); white is the eraser's.
SKETCH_PALETTE = ("#202020", "#e53935", "#fb8c00", "#fdd835", "#43a047", "#1e88e5", "#8e24aa", "#f06292",
                  "#8d6e63", "#9e9e9e")
PANEL_SCALE = 6  # the result panel's images: 28 x 28 shown as 168 x 168
EXPLAIN = ("{how}: the server searches the GAN's latent space for the z"
           "{cls} whose image is closest to yours — many random starts optimised at once, on a pixel plus "
           "feature distance. The explorer then starts from that image, so the z sliders move around your "
           "own drawing. Reset comes back to it; a new seed leaves it.")


def can_project(gan: GAN) -> bool:
    return gan.kind == "image" and gan.image_shape is not None


def sketch_spec(gan: GAN, reply: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the drawing canvas needs (the explorer element's data "sketch"), or None for a 2-D toy model.

    Greyscale models learned light strokes on black, colour models shapes on a white ground: the canvas
    starts as the data looks, so what the student draws is already in the model's format.
    """
    if not can_project(gan):
        return None
    channels, height, width = gan.image_shape
    colour = channels == 3
    low, high, first = PEN_SIZES[3 if colour else 1]
    return {"width": width * SKETCH_SCALE, "height": height * SKETCH_SCALE, "scale": SKETCH_SCALE,
            "shape": [channels, height, width],
            "background": "#ffffff" if colour else "#000000", "pen": SKETCH_PALETTE[0] if colour else "#ffffff",
            "palette": list(SKETCH_PALETTE) if colour else None, "sizes": [low, high, first],
            "conditional": bool(gan.num_classes), "reply": reply}


# ---------------------------------------------------------------- images in (callbacks: before the run)

def on_upload(page: ExplorePage) -> None:
    """The uploader changed: a checked image waits to be projected on this run; a bad one only gets a message."""
    file = st.session_state.get(UPLOAD_KEY)
    page.projection_message = None
    if file is None:
        return
    try:
        image = open_uploaded_image(file.getvalue())
    except UnsafeInputError as exc:
        page.projection_message = ("error", f"Could not use {file.name[:60]!r}: {exc}. Nothing else changed.")
        return
    page.pending = PendingImage(image, f"your picture {file.name[:60]!r}")


def take_sketch(page: ExplorePage, value: Any) -> None:
    """The explorer sent a drawing ({png: base64, nonce}): check it like an upload, and project it on this run.

    The browser's state follows the page's once Python acknowledges its nonce, so a refused drawing is
    acknowledged too (the explorer then keeps showing the view it had, with the reason under the canvas).
    """
    if not isinstance(value, dict):
        return
    nonce = value.get("nonce")
    nonce = nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else None
    png = value.get("png")
    reason = None
    if not isinstance(png, str) or not png:
        reason = "the drawing arrived empty"
    elif len(png) > MAX_SKETCH_CHARS:
        reason = f"the drawing is larger than {MAX_SKETCH_CHARS // 2**20} MiB"
    else:
        try:
            data = base64.b64decode(png, validate=True)
            page.pending = PendingImage(open_uploaded_image(data), "your drawing", nonce)
            return
        except (binascii.Error, ValueError) as exc:  # UnsafeInputError is a ValueError
            reason = str(exc) if isinstance(exc, UnsafeInputError) else "the drawing is not valid base64"
    page.sketch_reply = {"nonce": nonce, "error": f"Could not use the drawing: {reason}.", "text": ""}
    if nonce is not None:
        page.ack = nonce


# ---------------------------------------------------------------- the projection (in the page body)

def nearest_training_image(gan: GAN, target: torch.Tensor) -> tuple[Neighbour | None, str | None]:
    """The training image nearest to the student's image, as the memorisation check measures it."""
    dataset = gan.meta.get("dataset")
    if dataset not in NEIGHBOUR_DATASETS:
        return None, f"this model was trained on {dataset!r}, whose training images this server does not hold"
    try:
        with st.spinner(f"Indexing the {dataset} training images (once per server)…"):
            index, typical = neighbour_index(dataset)
    except Exception as exc:  # data or classifier missing: the projection still stands
        logger.warning("nearest training image for %s unavailable", dataset, exc_info=True)
        return None, f"the {dataset} training images could not be read on this server ({type(exc).__name__})"
    if tuple(index.images.shape[1:]) != tuple(target.shape[1:]):
        return None, f"the {dataset} training images are {tuple(index.images.shape[1:])}, not this model's shape"
    idx, dist = nearest(index, target, k=1)
    i = int(idx[0, 0])
    label = None
    if index.labels is not None and gan.class_names and 0 <= int(index.labels[i]) < len(gan.class_names):
        label = gan.class_names[int(index.labels[i])]
    return Neighbour(index.images[i:i + 1], label, float(dist[0, 0]), typical, index.space), None


def run_pending(page: ExplorePage, gan: GAN) -> None:
    """Project the drawing or upload waiting in the page state (if any) and make it the explorer's view."""
    pending, page.pending = page.pending, None
    if pending is None:
        return
    try:
        result = _project(page, gan, pending)
    except ValueError as exc:  # the model cannot be projected into, or the picture cannot be read as a target
        logger.info("projection refused: %s", exc)
        _refuse(page, pending, f"Could not project {pending.source}: {exc}.")
        return
    except RuntimeError as exc:  # torch ran out of memory or failed: say so; the explorer keeps its view
        logger.warning("projection of %s failed", pending.source, exc_info=True)
        _refuse(page, pending, f"The server could not project {pending.source} ({type(exc).__name__}); the "
                               "server log has the details. Nothing else changed.")
        return
    view = ExploreState(page.view.model, seed=page.view.seed,
                        cls=result.cls if result.cls is not None else page.view.cls, base=result.base)
    ew.apply_view(page, view)
    page.projection, page.projection_message = result, None
    if pending.nonce is not None:
        page.ack = pending.nonce
        page.sketch_reply = {"nonce": pending.nonce, "error": None, "text": summary(gan, result)}


def _refuse(page: ExplorePage, pending: PendingImage, text: str) -> None:
    """Say why under the uploader, or for a drawing under its canvas (the uploader is not redrawn then)."""
    if pending.nonce is None:
        page.projection_message = ("error", text)
        return
    page.ack = pending.nonce
    page.sketch_reply = {"nonce": pending.nonce, "error": text, "text": ""}


def _project(page: ExplorePage, gan: GAN, pending: PendingImage) -> ProjectionResult:
    if not can_project(gan):
        raise ValueError(f"{gan.name} makes 2-D points, not images, so there is no picture to match")
    dataset = str(gan.meta.get("dataset") or "")
    target = image_to_target(pending.image, gan.image_shape, dataset=dataset)
    started = time.perf_counter()
    with st.spinner(f"Finding {pending.source} in {gan.name}'s latent space…"):
        # one thread: two make torch's workers spin against other sessions; never beside an ONNX export (its
        # process-wide tracing state breaks the Adam steps of a search running at the same time)
        with cpu_turn(), ec.single_thread(), no_export_running():
            found = project_images(gan, target, classifier=shipped_classifier(dataset, str(gan.device)))
            base = LatentBase.of(found.z[0])
            cls = int(found.labels[0]) if found.labels is not None else None
            image = ec.generate_one(gan, base.tensor(), cls)  # the float16 base's own image, as the explorer shows
            p = ec.verdict(gan, image, cls)
    seconds = time.perf_counter() - started
    neighbour, note = nearest_training_image(gan, target)
    return ProjectionResult(page.view.model, pending.source, target, image, base, cls, float(found.distance[0]),
                            float(found.pixel_distance[0]), p, seconds, neighbour, note)


# ---------------------------------------------------------------- what the page shows

def summary(gan: GAN, result: ProjectionResult) -> str:
    """One line about a projection (also the explorer's note under its drawing canvas)."""
    what = f"class {_class_name(gan, result.cls)}, " if result.cls is not None else ""
    verdict = f", D(x) {result.p:.2f}" if result.p is not None else ""
    return (f"Found: {what}distance {result.distance:.3f} (pixels {result.pixel_distance:.3f}){verdict}, "
            f"in {result.seconds:.1f} s. The explorer now starts from this z.")


def _class_name(gan: GAN, cls: int) -> str:
    names = gan.class_names
    return names[cls] if names and 0 <= cls < len(names) else str(cls)


def upload_box(page: ExplorePage, gan: GAN) -> None:
    """The uploader, then the waiting image's projection (with its spinner here), then any message about it."""
    st.file_uploader("A picture to start from", key=UPLOAD_KEY, on_change=on_upload, args=(page,),
                     help="PNG, JPEG, GIF, BMP or WebP. It is scaled to the model's size: for MNIST-like models "
                          "light strokes on black work best (dark on white is inverted), for colour models a "
                          "shape on white.", disabled=not can_project(gan))
    how = "Draw in the explorer (or upload a picture)" if page.render == BROWSER else "Upload a picture"
    st.caption(EXPLAIN.format(how=how, cls=" and class" if gan.num_classes else ""))
    run_pending(page, gan)
    if page.projection_message:
        kind, text = page.projection_message
        (st.error if kind == "error" else st.info)(text)


def shown_projection(page: ExplorePage) -> ProjectionResult | None:
    """The last projection while the view still starts from its z (a new seed or model leaves it)."""
    result = page.projection
    if result is None or result.model != page.view.model or result.base != page.view.base:
        return None
    return result


def neighbour_line(result: ProjectionResult) -> str:
    """What the nearest training image is, and how near (or why there is none)."""
    n = result.neighbour
    if n is None:
        return f"No nearest training image: {result.neighbour_note}." if result.neighbour_note else ""
    return (f"The nearest training image is {n.distance:.2f} from your image in {n.space}; a real training "
            f"image's nearest other one is typically {n.typical:.2f} away.")


def neighbour_caption(result: ProjectionResult) -> str:
    label = result.neighbour.label if result.neighbour is not None else None
    return "nearest training image" + (f" — {label}" if label else "")


def draw_result(page: ExplorePage, gan: GAN) -> None:
    """The server path's panel: the student's image, its projection and the nearest training image.

    (On the browser path the explorer draws the same beside the drawing canvas, from browser_view's data.)"""
    result = shown_projection(page)
    if result is None:
        return
    scale = PANEL_SCALE if result.target.shape[-1] <= 32 else 1
    tiles = [(result.target, f"{result.source} (as the model sees it)"),
             (result.image, "the GAN's closest image (projection)")]
    if result.neighbour is not None:
        tiles.append((result.neighbour.image, neighbour_caption(result)))
    with st.container(border=True):
        st.markdown(f"**{result.source[:1].upper()}{result.source[1:]} in the latent space**")
        for col, (picture, caption) in zip(st.columns(3), tiles, strict=False):
            array = ec.image_array(picture, scale)
            col.image(array, caption=caption, width=int(array.shape[1]))  # each at its own size, side by side
        st.caption(summary(gan, result))
        if neighbour_line(result):
            st.caption(neighbour_line(result))
