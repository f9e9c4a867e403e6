"""Explore's in-browser view: a components-v2 element whose sliders redraw a canvas with the generator
running in the browser (ONNX Runtime Web), and the Python parts that follow it once a move ends.

What crosses to the browser on a rerun is small: the model file's URL and hash (the browser fetches
the file once per hash), each needed seed's z as float32 (the same numbers Python uses, so a seed
gives the same image either way), the GANSpace directions, the class embedding table and the state.
The browser sends the state back (component state "view") when a move ends; it is validated like a
link's query string (state.parse_query) and becomes the page state's view (the server view's too), so
the URL, D(x), the memorisation check and the downloads all see the canvas's z and class.

A drawing made in the element (static/js/explore/sketch.js) comes up as the trigger "sketch" (a PNG);
projection_view.py checks and projects it, and the found z comes back as the view's base: `data["base"]`
holds its float32 values under the link's token, which the state names (`state["base"]`).

The element's own script is a small loader (static/js/explore/loader.js); it imports the explorer's ES
modules (static/js/explore/, entry main.js) from /app/static, where Streamlit serves them.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore import projection_view as pv
from app_pages.explore import render_mode
from app_pages.explore import sample_view as sv
from app_pages.explore import widgets as ew
from app_pages.explore.browser_model import STATIC_DIR, BrowserModel, ExportError, browser_model
from app_pages.explore.first_image import first_image_url
from app_pages.explore.points import PLOT_LIMIT, mode_centres
from app_pages.explore.state import (
    ExplorePage,
    ExploreState,
    Interpolation,
    ModelInfo,
    ProjectionResult,
    computed_view,
    parse_query,
)
from gan_core import GAN
from gan_core.explore.directions import Directions
from gan_core.explore.latent import sample_latents
from gan_core.io import palette

ASSETS = Path(__file__).with_name("browser")  # the element's HTML and CSS
JS_DIR = STATIC_DIR / "js"  # the browser code, served at /app/static/js/
ENTRY = "app/static/js/explore/main.js"  # the explorer's entry module, imported by the element's loader
ORT_VERSION = "1.30.0"
ORT_DIR = f"app/static/vendor/onnxruntime-web-{ORT_VERSION}"
ORT_MODULE, ORT_WASM = f"{ORT_DIR}/ort.wasm.bundle.min.mjs", f"{ORT_DIR}/ort-wasm-simd-threaded.wasm"
KEY = "ex_browser"
NEIGHBOURS = range(-3, 7)  # seeds around the current one whose z the browser gets (the grid uses +1..+5)
POOL_SIZE = 8  # random seeds whose z the browser holds, so Random answers at once
CLOUD_POINTS = 1000
MODES = ("seeds", "classes")
METHODS = ("slerp", "lerp")
STEPS_RANGE = (3, 16)
NOTE = "D(x) runs on the server; it follows the sample each time you let go of a control."
ss = st.session_state

_explorer = st.components.v2.component(
    "gan_explorer",
    html=(ASSETS / "explorer.html").read_text(),
    css=(ASSETS / "explorer.css").read_text(),
    js=(JS_DIR / "explore" / "loader.js").read_text(),
)


@functools.lru_cache(maxsize=1)
def js_version() -> str:
    """A hash of the served browser code: the entry's URL changes with it, so no browser keeps an old copy."""
    digest = hashlib.sha256()
    for path in sorted(JS_DIR.rglob("*.js")):
        digest.update(path.relative_to(JS_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------- values for the browser

def b64(values: torch.Tensor | np.ndarray) -> str:
    """Float32 little-endian bytes as base64: exact, and a third of the size of JSON numbers."""
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


@functools.lru_cache(maxsize=1024)
def raw_latent(z_dim: int, seed: int) -> torch.Tensor:
    """The seed's z before clamping (the class grid's columns use it unclamped, as the server's grid does)."""
    return sample_latents(1, z_dim, seed=int(seed))[0]


def wanted_seeds(seed: int, interp: Interpolation, pool: list[int]) -> list[int]:
    """Every seed whose z the browser may need next: this one, its neighbours, seed B and the random pool."""
    near = [(seed + j) % (ec.SEED_MAX + 1) for j in NEIGHBOURS if seed + j >= 0]
    extra = [interp.seed_b] if interp.seed_b is not None else []
    return list(dict.fromkeys([seed, *near, *extra, *pool]))


def refill_pool(pool: list[int], seed: int) -> list[int]:
    """The random seeds held for Random: without the current one, topped up (like widgets.on_random)."""
    kept = [s for s in pool if s != seed]
    while len(kept) < POOL_SIZE:
        kept.append(random.randrange(ec.RANDOM_SEEDS))
    return kept


def url_prefix() -> str:
    """The app's path prefix (server.baseUrlPath), so static URLs work behind a reverse proxy too."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{base}/" if base else ""


def shown_dims(gan: GAN, over: dict[int, float]) -> list[int]:
    """The z dimensions with sliders: the first 16, or the edited ones first when a link moved later ones."""
    return [d for d in ew.shown_dims(over) if d < gan.z_dim]


def sketch_data(gan: GAN, reply: dict[str, Any] | None, result: ProjectionResult | None) -> dict[str, Any] | None:
    """The drawing canvas's settings, the answer to the last drawing, and the projection shown beside the
    canvas while the view starts from it: the student's image as the model sees it and the nearest training
    image (float32, drawn by the browser as the sample is), with their captions."""
    spec = pv.sketch_spec(gan, reply)
    if spec is None or result is None:
        return spec
    near = result.neighbour
    spec["result"] = {"target": b64(result.target), "targetCaption": f"{result.source}, as the model sees it",
                      "nearest": None if near is None else b64(near.image),
                      "nearestCaption": pv.neighbour_caption(result),
                      "text": " ".join(filter(None, [pv.summary(gan, result), pv.neighbour_line(result)]))}
    return spec


def explorer_data(gan: GAN, directions: Directions, model: BrowserModel, state: ExploreState,
                  interp: Interpolation, pool: list[int], ack: int, sketch_reply: dict[str, Any] | None = None,
                  projection: ProjectionResult | None = None) -> dict[str, Any]:
    """Everything the element needs, as JSON (no weights: the model travels once, by its URL and hash)."""
    prefix = url_prefix()
    embedding = model.embedding
    cloud = None
    if gan.kind == "points":
        cloud = b64(sample_latents(CLOUD_POINTS, gan.z_dim, seed=0))  # ec.point_cloud's z, before psi
    modes = mode_centres(gan.meta.get("dataset")) if gan.kind == "points" else None
    return {
        "entry": f"{prefix}{ENTRY}?v={js_version()}",
        "runtime": {"module": prefix + ORT_MODULE, "wasm": prefix + ORT_WASM, "version": ORT_VERSION,
                    "wasmBytes": _file_size(ORT_WASM)},
        "model": {"name": gan.name, "sha256": model.sha256, "url": prefix + model.url_path, "bytes": model.size,
                  "output": model.output, "shape": list(gan.image_shape) if gan.image_shape else None,
                  "zDim": gan.z_dim, "numClasses": gan.num_classes, "classNames": gan.class_names,
                  "embedding": None if embedding is None else b64(embedding),
                  "embedDim": 0 if embedding is None else int(embedding.shape[1])},
        "limits": {"z": ec.Z_LIMIT, "dir": ec.DIR_LIMIT, "trunc": list(ec.TRUNC_RANGE), "seedMax": ec.SEED_MAX,
                   "randomSeeds": ec.RANDOM_SEEDS, "plot": PLOT_LIMIT, "gridColumns": ec.GRID_COLUMNS,
                   "steps": list(STEPS_RANGE)},
        "dims": shown_dims(gan, state.z),
        "directions": {"vectors": b64(directions.vectors), "scales": directions.scales.tolist(),
                       "explained": directions.explained.tolist()},
        "seeds": {str(s): b64(raw_latent(gan.z_dim, s)) for s in wanted_seeds(state.seed, interp, pool)},
        "pool": pool,
        "cloud": cloud,
        "modes": None if modes is None else modes.tolist(),
        "palette": {"fake": palette.FAKE, "real": palette.REAL, "path": palette.PATH, "highlight": palette.HIGHLIGHT},
        "base": None if state.base is None else {"token": state.base.token(), "z": b64(state.base.tensor())},
        "sketch": sketch_data(gan, sketch_reply, projection),
        "state": {"seed": state.seed, "cls": state.cls, "trunc": state.truncation,
                  "z": {str(d): v for d, v in state.z.items()}, "dirs": {str(k): v for k, v in state.dirs.items()},
                  "interp": {"mode": interp.mode, "seedB": interp.seed_b, "classB": interp.class_b,
                             "method": interp.method, "steps": interp.steps},
                  **({} if state.base is None else {"base": state.base.token()})},  # a drawing's z: its token
        "ack": ack,
    }


@functools.lru_cache(maxsize=8)
def _file_size(served: str) -> int:
    path = STATIC_DIR / served.removeprefix("app/static/")
    return path.stat().st_size if path.is_file() else 0


# ---------------------------------------------------------------- the browser's state, checked

def _pairs(values: Any) -> str:
    return ",".join(f"{k}:{v}" for k, v in values.items()) if isinstance(values, dict) else ""


def view_state(view: dict, model: str, info: ModelInfo) -> tuple[ExploreState, list[str]]:
    """The browser's state, validated exactly as a link's query string is (untrusted either way)."""
    base = view.get("base")
    params = {"model": model, "seed": str(view.get("seed")), "class": str(view.get("cls")),
              "trunc": str(view.get("trunc")), "z": _pairs(view.get("z")), "dir": _pairs(view.get("dirs")),
              "base": base if isinstance(base, str) else ""}
    state, notices = parse_query(params, [model], model, lambda _name: info)
    return state, [n.replace(" in the link", " from the page") for n in notices]


def view_interpolation(raw: Any, num_classes: int | None) -> Interpolation:
    """The strip's settings from the browser; anything malformed falls back to its default."""
    raw = raw if isinstance(raw, dict) else {}
    out = Interpolation()
    if raw.get("mode") in MODES and (raw["mode"] == "seeds" or num_classes):
        out.mode = raw["mode"]
    seed_b = raw.get("seedB")
    if isinstance(seed_b, int) and not isinstance(seed_b, bool) and 0 <= seed_b <= ec.SEED_MAX:
        out.seed_b = seed_b
    class_b = raw.get("classB")
    if isinstance(class_b, int) and num_classes and 0 <= class_b < num_classes:
        out.class_b = class_b
    if raw.get("method") in METHODS:
        out.method = raw["method"]
    steps = raw.get("steps")
    if isinstance(steps, int) and STEPS_RANGE[0] <= steps <= STEPS_RANGE[1]:
        out.steps = steps
    return out


def on_view(page: ExplorePage, info: ModelInfo) -> None:
    """A move ended in the browser: its state becomes the page's view (the server path's widgets follow)."""
    view = (ss.get(KEY) or {}).get("view")
    if not isinstance(view, dict):
        return
    state, notices = view_state(view, page.view.model, info)
    ew.apply_view(page, state)
    page.interp = view_interpolation(view.get("interp"), info.num_classes)
    nonce = view.get("nonce")
    page.ack = nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else 0
    page.browser_notices = notices


def on_sketch(page: ExplorePage) -> None:
    """The student asked to find their drawing: it is checked now and projected when the view is drawn."""
    pv.take_sketch(page, (ss.get(KEY) or {}).get("sketch"))


def on_failed(page: ExplorePage) -> None:
    """The browser could not start ONNX Runtime Web or load the model: the server draws from now on."""
    reason = str((ss.get(KEY) or {}).get("failed") or "unknown reason")[:200]
    render_mode.fall_back(page, f"Your browser could not run the generator ({reason}), so the images are drawn "
                                "on the server instead.")


# ---------------------------------------------------------------- the view

def prepare(page: ExplorePage, gan: GAN) -> BrowserModel | None:
    """The model file for the browser, or None (after falling back to the server view) if it cannot be made."""
    try:
        with st.spinner(f"Preparing {gan.name} to run in your browser (once per model on this server)…"):
            return browser_model(gan)
    except ExportError as exc:
        render_mode.fall_back(page, f"{gan.name} cannot run in the browser ({exc}), so its images are drawn on "
                                    "the server instead.")
        return None


@st.fragment
def show(page: ExplorePage, gan: GAN, directions: Directions, model: BrowserModel,
         extras: Callable[[ExplorePage, GAN], None]) -> None:
    """The element, then D(x), downloads and `extras` (drawn by the page) for the state it last sent."""
    if page.interp_model != page.view.model:  # another model: the strip's class B may not exist there
        page.interp_model, page.interp = page.view.model, Interpolation()
    pv.run_pending(page, gan)  # a drawing sent with the trigger "sketch" (this fragment reruns for it)
    page.pool = refill_pool(page.pool, page.view.seed)
    info = ModelInfo(gan.z_dim, gan.num_classes, len(directions))
    data = explorer_data(gan, directions, model, page.view, page.interp, page.pool, page.ack, page.sketch_reply,
                         pv.shown_projection(page))
    data["firstImage"] = first_image_url(gan, directions, computed_view(page.view))  # shown while the runtime loads
    _explorer(key=KEY, data=data, on_view_change=partial(on_view, page, info),
              on_failed_change=partial(on_failed, page), on_sketch_change=partial(on_sketch, page))
    if page.render == render_mode.SERVER:  # the browser reported it cannot run the model
        st.rerun(scope="app")
    for notice in page.browser_notices:
        st.warning(notice)
    view = computed_view(page.view)  # a projected drawing's z is the base the edits apply to
    page.sample = sv.compute_sample(gan, directions, view)
    sv.draw_verdict(page.sample, NOTE)
    sv.draw_downloads(gan, page.sample, view, page.interp)
    extras(page, gan)  # the page's share caption (below) says when a session model's link works only here


__all__ = ["Interpolation", "KEY", "explorer_data", "on_failed", "on_view", "prepare", "show", "view_interpolation",
           "view_state"]
