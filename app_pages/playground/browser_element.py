"""The playground's in-browser trainer: a components-v2 element whose Web Worker trains the 2-D GAN with
TensorFlow.js (static/js/engine/, WP-ENGINE's protocol) and which draws every animation frame from it
(static/js/playground/). Python sends, once per rerun: the engine's JSON spec (gan_core.teach.browser_spec),
the choices and limits of the controls, the presets as full set-ups, a real sample of each toy dataset (the
same numbers as the server's plot), the palette and the warnings' thresholds. Nothing comes back while a
student trains; the element sends G's weights once when the student saves (trigger "save"), and a trigger
"failed" / "server" when the library cannot start or the student asks for the server.
"""
from __future__ import annotations

import base64
import functools
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import streamlit as st
import torch

from app_pages.playground.animation import surface_lut
from app_pages.playground.link import DRAWN, MAX_LINK_POINTS, WHOLE_NUMBERS, Limits, Setup, setup_from_engine
from app_shared.training_ui.preset_pages import presets_for
from gan_core.data.datasets import sample_toy
from gan_core.eval import diagnostics
from gan_core.eval.metrics import MODES_COVERED_RULE
from gan_core.io import palette
from gan_core.teach import browser_spec as bs
from gan_core.teach.presets import Preset
from gan_core.train.loop import EXPLODED_LOSS

STATIC = Path(__file__).resolve().parents[2] / "static" / "js" / "playground"
ENTRY = "app/static/js/playground/main.js"
WORKER = "app/static/js/engine/train_worker.js"
KEY = "pg_browser"
PAGE_PATH = "playground"
REAL_POINTS = 512  # the real sample drawn under the fake points (as the server's plot: seed 0)
SPEEDS = (None, 50, 20, 5, 1)  # steps per second: None = as fast as the browser can; the rest slow motion
ARROW_COLOUR, MANIFOLD_COLOUR = "#222222", "#555555"  # as plot.field_figure draws them
LOSS_LABELS = {"minimax": "minimax (saturating)", "nonsaturating": "non-saturating", "lsgan": "LSGAN",
               "hinge": "hinge", "wgan-gp": "WGAN-GP"}
DATASET_LABELS = {"ring8": "ring of 8", "grid25": "grid of 25", "spiral": "spiral", "moons": "two moons",
                  DRAWN: "draw your own"}

_element = st.components.v2.component(
    "gan_playground_trainer",
    html=(STATIC / "element.html").read_text(),
    css=(STATIC / "element.css").read_text(),
    js=(STATIC / "loader.js").read_text(),
)


def url_prefix() -> str:
    """The app's path prefix (server.baseUrlPath), so static URLs work behind a reverse proxy too."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{base}/" if base else ""


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The engine's spec (architecture, defaults, limits, samplers, presets), made once per process."""
    return bs.browser_spec()


def browser_datasets() -> tuple[str, ...]:
    """The built-in toy datasets the browser engine can sample (the spec's samplers)."""
    return tuple(spec()["datasets"])


def field_ranges() -> dict[str, tuple[float, float]]:
    """Each set-up field's (low, high) in the browser, from the spec's limits (TrainConfig's ranges)."""
    lim = spec()["limits"]
    shared = {"lr_g": "lr", "lr_d": "lr", "beta1": "beta", "beta1_d": "beta", "beta2": "beta"}
    out = {name: tuple(lim[key]) for name, key in shared.items()}
    out.update({name: tuple(lim[name]) for name in ("batch_size", "n_critic", "gp_weight", "r1_gamma",
                                                     "label_smoothing", "toy_hidden", "toy_depth")})
    return out


def limits() -> Limits:
    """The browser's limits for links and saves."""
    s = spec()
    return Limits(datasets=browser_datasets(), losses=tuple(loss["name"] for loss in s["losses"]),
                  z_dims=tuple(s["architecture"]["z_dims"]), ranges=field_ranges(),
                  draw_extent=float(s["drawn"]["extent"]))


def default_setup() -> Setup:
    """The playground's first set-up: the spec's defaults (TrainConfig's toy defaults at the browser's size)."""
    return setup_from_engine(spec()["defaults"])


def preset_setup(preset: Preset) -> Setup:
    """A preset's set-up in the browser (the spec's engine config of it)."""
    entry = next((p for p in spec()["presets"] if p["slug"] == preset.slug), None)
    if entry is None:
        raise KeyError(f"preset {preset.slug!r} does not train in the browser")
    return setup_from_engine(entry["config"])


def browser_note(preset: Preset) -> str:
    """What the preset trains in the browser, in words (the spec's note: its size there may differ)."""
    return next(p["browser_note"] for p in spec()["presets"] if p["slug"] == preset.slug)


def browser_presets() -> list[Preset]:
    """The presets the playground offers, each once: a Train-page preset with the same set-up as a playground
    one (e.g. "Show mode collapse" = "ring8 · minimax (collapse)") is left out."""
    in_browser = {p["slug"] for p in spec()["presets"]}
    shown: list[Preset] = []
    seen: list[Setup] = []
    for preset in presets_for("playground"):
        if preset.slug not in in_browser:
            continue
        setup = preset_setup(preset)
        if setup in seen:
            continue
        seen.append(setup)
        shown.append(preset)
    return shown


def b64(values: np.ndarray | torch.Tensor) -> str:
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


@functools.lru_cache(maxsize=8)
def real_sample(dataset: str) -> str:
    """The real points drawn under the fake ones: the server plot's sample (seed 0)."""
    return b64(sample_toy(dataset, REAL_POINTS, generator=torch.Generator().manual_seed(0)))


@functools.lru_cache(maxsize=1)
def scale_stops() -> tuple[str, ...]:
    """D's colour map as CSS colours for the legend's scale (blended over white like the heat map)."""
    rgb = matplotlib.colormaps[palette.D_MAP](np.linspace(0.0, 1.0, 9))[:, :3]
    blended = np.rint(255 * (0.55 * rgb + 0.45)).astype(int)
    return tuple(f"rgb({r},{g},{b})" for r, g, b in blended)


def ui_data() -> dict[str, Any]:
    """The controls' choices and limits, the presets as full set-ups, the views' extents and real samples."""
    s = spec()
    datasets = browser_datasets()
    return {
        "datasets": [{"name": d, "label": DATASET_LABELS.get(d, d)} for d in (*datasets, DRAWN)],
        "losses": [{"name": loss["name"], "label": LOSS_LABELS.get(loss["name"], loss["name"]),
                    "gradientPenalty": loss["gradient_penalty"], "defaultNCritic": loss["default_n_critic"]}
                   for loss in s["losses"]],
        "optimizers": list(s["optimizers"]),
        "zDims": list(s["architecture"]["z_dims"]),
        "limits": {k: list(v) for k, v in field_ranges().items()},
        "wholeNumbers": list(WHOLE_NUMBERS),
        "presets": [{"slug": p.slug, "title": p.title, "description": f"{p.description} {browser_note(p)}",
                     "setup": preset_setup(p).to_json()} for p in browser_presets()],
        "speeds": list(SPEEDS),
        "extents": {d: s["datasets"][d]["extent"] for d in datasets},
        "drawExtent": s["drawn"]["extent"],
        "real": {d: real_sample(d) for d in datasets},
        "frameGrid": s["frame"]["grid"], "frameManifold": s["frame"]["manifold"],
        "probabilityLosses": [loss["name"] for loss in s["losses"] if loss["probability"]],
        "configFields": list(bs.ENGINE_FIELDS),
        "maxLinkPoints": MAX_LINK_POINTS,
    }


def warning_limits() -> dict[str, Any]:
    """The warnings' thresholds: gan_core.eval.diagnostics's, and the loop's divergence bound."""
    return {"dWinningReal": diagnostics.D_WINNING_REAL, "dWinningFake": diagnostics.D_WINNING_FAKE,
            "collapseMinStep": diagnostics.COLLAPSE_MIN_STEP, "onSeconds": diagnostics.WARNING_ON_SECONDS,
            "offSeconds": diagnostics.WARNING_OFF_SECONDS, "explodedLoss": EXPLODED_LOSS,
            "probabilityLosses": [loss["name"] for loss in spec()["losses"] if loss["probability"]]}


def element_data(setup: Setup, preset: str | None, setup_nonce: int, saved: dict[str, Any] | None) -> dict[str, Any]:
    """Everything the element needs, as JSON (the same on every rerun unless the set-up or a save changed)."""
    prefix = url_prefix()
    return {
        "entry": prefix + ENTRY, "worker": prefix + WORKER, "pagePath": prefix + PAGE_PATH,
        "spec": spec(), "ui": ui_data(),
        "palette": {"real": palette.REAL, "fake": palette.FAKE, "fakeOutline": palette.FAKE_OUTLINE,
                    "arrow": ARROW_COLOUR, "manifold": MANIFOLD_COLOUR, "lut": surface_lut(),
                    "scaleStops": list(scale_stops())},
        "warnings": warning_limits(), "coverageRule": MODES_COVERED_RULE,
        "setup": dict(replace(setup).to_json(), preset=preset), "setupNonce": setup_nonce,
        "saved": saved,
    }


def show(data: dict[str, Any], on_save, on_server, on_failed) -> None:
    _element(key=KEY, data=data, on_save_change=on_save, on_server_change=on_server, on_failed_change=on_failed)


def trigger(name: str) -> Any:
    """The value the element sent with a trigger in this run (None when it did not)."""
    return (st.session_state.get(KEY) or {}).get(name)


__all__ = ["KEY", "browser_presets", "default_setup", "element_data", "limits", "preset_setup", "show", "spec",
           "trigger"]
