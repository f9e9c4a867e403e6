"""Explore's in-browser view: a components-v2 element whose sliders redraw a canvas with the generator
running in the browser (ONNX Runtime Web), and the Python parts that follow it once a move ends.

What crosses to the browser on a rerun is small: the model file's URL and hash (the browser fetches
the file once per hash), each needed seed's z as float32 (the same numbers Python uses, so a seed
gives the same image either way), the GANSpace directions, the class embedding table and the state.
The browser sends the state back (component state "view") when a move ends; it is validated like a
link's query string (state.parse_query) and written to the same session keys as the server view, so
the URL, D(x), the memorisation check and the downloads all see the canvas's z and class.
"""
from __future__ import annotations

import base64
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from app_pages.explore import compute as ec
from app_pages.explore import render_mode
from app_pages.explore import widgets as ew
from app_pages.explore.browser_model import STATIC_DIR, BrowserModel, ExportError, browser_model
from app_pages.explore.cache import grid_columns
from app_pages.explore.points import mode_centres
from app_pages.explore.state import ExploreState, ModelInfo, parse_query
from app_shared.cpu_turns import cpu_turn
from gan_core import GAN
from gan_core.explore.directions import Directions
from gan_core.explore.latent import interpolate, sample_latents
from gan_core.io import palette
from gan_core.io.images import gif_bytes, png_bytes

ASSETS = Path(__file__).with_name("browser")
# concatenated into one module, in this order (later files use the earlier ones)
JS_PARTS = ("latent.js", "runtime.js", "draw.js", "controls.js", "panels.js", "explorer.js")
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
ss = st.session_state

_explorer = st.components.v2.component(
    "gan_explorer",
    html=(ASSETS / "explorer.html").read_text(),
    css=(ASSETS / "explorer.css").read_text(),
    js="\n".join((ASSETS / name).read_text() for name in JS_PARTS),
)


@dataclass
class Interpolation:
    """The strip's settings; None for seed B / class B means "the next seed / class after the current one"."""

    mode: str = "seeds"
    seed_b: int | None = None
    class_b: int | None = None
    method: str = "slerp"
    steps: int = 8


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
        kept.append(random.randrange(100000))
    return kept


def url_prefix() -> str:
    """The app's path prefix (server.baseUrlPath), so static URLs work behind a reverse proxy too."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{base}/" if base else ""


def shown_dims(gan: GAN, over: dict[int, float]) -> list[int]:
    """The z dimensions with sliders: the first 16, or the edited ones first when a link moved later ones."""
    return [d for d in ew.shown_dims(over) if d < gan.z_dim]


def explorer_data(gan: GAN, directions: Directions, model: BrowserModel, state: ExploreState,
                  interp: Interpolation, pool: list[int], ack: int) -> dict[str, Any]:
    """Everything the element needs, as JSON (no weights: the model travels once, by its URL and hash)."""
    prefix = url_prefix()
    embedding = model.embedding
    cloud = None
    if gan.kind == "points":
        cloud = b64(sample_latents(CLOUD_POINTS, gan.z_dim, seed=0))  # ec.point_cloud's z, before psi
    modes = mode_centres(gan.meta.get("dataset")) if gan.kind == "points" else None
    return {
        "runtime": {"module": prefix + ORT_MODULE, "wasm": prefix + ORT_WASM, "version": ORT_VERSION,
                    "wasmBytes": _file_size(ORT_WASM)},
        "model": {"name": gan.name, "sha256": model.sha256, "url": prefix + model.url_path, "bytes": model.size,
                  "output": model.output, "shape": list(gan.image_shape) if gan.image_shape else None,
                  "zDim": gan.z_dim, "numClasses": gan.num_classes, "classNames": gan.class_names,
                  "embedding": None if embedding is None else b64(embedding),
                  "embedDim": 0 if embedding is None else int(embedding.shape[1])},
        "limits": {"z": ec.Z_LIMIT, "dir": ec.DIR_LIMIT, "trunc": list(ec.TRUNC_RANGE), "seedMax": ec.SEED_MAX},
        "dims": shown_dims(gan, state.z),
        "directions": {"vectors": b64(directions.vectors), "scales": directions.scales.tolist(),
                       "explained": directions.explained.tolist()},
        "seeds": {str(s): b64(raw_latent(gan.z_dim, s)) for s in wanted_seeds(state.seed, interp, pool)},
        "pool": pool,
        "cloud": cloud,
        "modes": None if modes is None else modes.tolist(),
        "palette": {"fake": palette.FAKE, "real": palette.REAL, "path": palette.PATH, "highlight": palette.HIGHLIGHT},
        "state": {"seed": state.seed, "cls": state.cls, "trunc": state.truncation,
                  "z": {str(d): v for d, v in state.z.items()}, "dirs": {str(k): v for k, v in state.dirs.items()},
                  "interp": {"mode": interp.mode, "seedB": interp.seed_b, "classB": interp.class_b,
                             "method": interp.method, "steps": interp.steps}},
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
    params = {"model": model, "seed": str(view.get("seed")), "class": str(view.get("cls")),
              "trunc": str(view.get("trunc")), "z": _pairs(view.get("z")), "dir": _pairs(view.get("dirs"))}
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


def on_view(model: str, info: ModelInfo) -> None:
    """A move ended in the browser: its state becomes the page's (the same keys the server view uses)."""
    view = (ss.get(KEY) or {}).get("view")
    if not isinstance(view, dict):
        return
    state, notices = view_state(view, model, info)
    ss.ex_seed, ss.ex_class, ss.ex_trunc = state.seed, state.cls, state.truncation
    ss.ex_over, ss.ex_dirs = dict(state.z), dict(state.dirs)
    ss.ex_bv_interp = view_interpolation(view.get("interp"), info.num_classes)
    nonce = view.get("nonce")
    ss.ex_bv_ack = nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else 0
    ss.ex_bv_notices = notices


def on_failed() -> None:
    """The browser could not start ONNX Runtime Web or load the model: the server draws from now on."""
    reason = str((ss.get(KEY) or {}).get("failed") or "unknown reason")[:200]
    render_mode.fall_back(f"Your browser could not run the generator ({reason}), so the images are drawn "
                          "on the server instead.")


# ---------------------------------------------------------------- the view

def prepare(gan: GAN) -> BrowserModel | None:
    """The model file for the browser, or None (after falling back to the server view) if it cannot be made."""
    try:
        with st.spinner(f"Preparing {gan.name} to run in your browser (once per model on this server)…"):
            return browser_model(gan)
    except ExportError as exc:
        render_mode.fall_back(f"{gan.name} cannot run in the browser ({exc}), so its images are drawn on the "
                              "server instead.")
        return None


@st.fragment
def show(gan: GAN, directions: Directions, model: BrowserModel, extras: Callable[[], None]) -> None:
    """The element, then D(x), downloads and `extras` (drawn by the page) for the state it last sent."""
    state = ew.current_state()
    if ss.get("ex_bv_model") != ss.ex_model:  # another model: the strip's class B may not exist there
        ss.ex_bv_model, ss.ex_bv_interp = ss.ex_model, Interpolation()
    interp = ss.ex_bv_interp
    pool = ss.ex_bv_pool = refill_pool(ss.get("ex_bv_pool", []), state.seed)
    info = ModelInfo(gan.z_dim, gan.num_classes, len(directions))
    data = explorer_data(gan, directions, model, state, interp, pool, int(ss.get("ex_bv_ack", 0)))
    _explorer(key=KEY, data=data, on_view_change=partial(on_view, ss.ex_model, info), on_failed_change=on_failed)
    if render_mode.mode() == render_mode.SERVER:  # the browser reported it cannot run the model
        st.rerun(scope="app")
    for notice in ss.get("ex_bv_notices", []):
        st.warning(notice)
    follow_state(gan, directions, state, interp)
    extras()  # the page's share caption (below) says when a session model's link works only here


def follow_state(gan: GAN, directions: Directions, state: ExploreState, interp: Interpolation) -> None:
    """What Python draws for the browser's state: D(x) and the downloads (encoded only when clicked)."""
    cls = state.cls if gan.num_classes else None
    with cpu_turn():  # a few ms of torch: simultaneous moves of many sessions take turns (app_shared/cpu_turns)
        z = ec.current_latent(gan, state.seed, state.z)
        z_eff = ec.effective_latent(z, state.truncation, directions, dict(sorted(state.dirs.items())))
        x = ec.generate_one(gan, z_eff, cls)
        p = ec.verdict(gan, x, cls)
    ss.ex_current = {"z": z_eff, "cls": cls, "x": x}
    ss.ex_image = x.numpy() if gan.kind == "points" else ec.image_array(x)
    cols = st.columns([1, 3], vertical_alignment="center")
    if p is not None:
        cols[0].metric("D(x)", f"{p:.2f}", help="The discriminator's probability that the sample is real, "
                                               "for the sample as it was when you last let go of a control.")
        words = ec.verdict_words(p)
        cols[1].caption(f"{words[:1].upper()}{words[1:]}. (D(x) runs on the server; it follows the sample each "
                        "time you let go of a control.)")
    if gan.kind == "points":
        return
    name = f"{gan.name}-seed{state.seed}"
    row = st.container(horizontal=True)
    row.download_button("Download image (PNG)", partial(png_bytes, ec.image_array(x, ec.IMAGE_SCALE)),
                        file_name=f"{name}.png", mime="image/png", on_click="ignore", key="ex_bv_dl_image")
    if gan.num_classes:
        row.download_button("Download grid (PNG)", partial(_grid_png, gan, z_eff, state), file_name=f"{name}-grid.png",
                            mime="image/png", on_click="ignore", key="ex_bv_dl_grid")
    frames = partial(strip_frames, gan, z_eff, cls, state, interp)
    row.download_button("Download strip (PNG)", lambda: png_bytes(ec.strip(frames())), file_name=f"{name}-strip.png",
                        mime="image/png", on_click="ignore", key="ex_bv_dl_strip")
    row.download_button("Download animation (GIF)", lambda: gif_bytes(ec.gif_frames(frames()), fps=8),
                        file_name=f"{name}-interpolation.gif", mime="image/gif", on_click="ignore",
                        key="ex_bv_dl_gif")


def _grid_png(gan: GAN, z_eff: torch.Tensor, state: ExploreState) -> bytes:
    others = grid_columns(gan, state.seed, state.truncation)
    return png_bytes(ec.class_grid(gan, z_eff, state.seed, state.truncation, others=others).image)


def strip_frames(gan: GAN, z_eff: torch.Tensor, cls: int | None, state: ExploreState,
                 interp: Interpolation) -> torch.Tensor:
    """The frames the browser's strip shows, made on the server (for the downloads)."""
    if interp.mode == "classes" and gan.num_classes:
        b = interp.class_b if interp.class_b is not None else (state.cls + 1) % gan.num_classes
        return ec.class_frames(gan, z_eff, state.cls, b, interp.steps)
    seed_b = interp.seed_b if interp.seed_b is not None else (state.seed + 1) % (ec.SEED_MAX + 1)
    z_b = sample_latents(1, gan.z_dim, seed=seed_b, truncation=state.truncation)[0]
    zs = interpolate(z_eff, z_b, interp.steps, interp.method)
    labels = torch.full((interp.steps,), int(cls or 0), dtype=torch.long) if gan.num_classes else None
    with ec.single_thread():
        return gan.generate(zs, labels)


__all__ = ["Interpolation", "KEY", "explorer_data", "on_failed", "on_view", "prepare", "show", "strip_frames",
           "view_interpolation", "view_state"]
