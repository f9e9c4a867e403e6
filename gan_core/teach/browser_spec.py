"""The JSON spec the browser training engine (static/js/engine/) runs from: one source of truth for JS.

Everything the engine needs from Python comes from gan_core's own constants: the toy nets' architecture
(gan_core.nn.models), the losses (gan_core.nn.losses), the limits (TrainConfig.validate's ranges), the toy
samplers (gan_core.data.datasets.TOY_SAMPLERS), the views and frame sizes (gan_core.teach.toy_viz,
gan_core.teach.toy_frames), the mode-coverage rule (gan_core.eval.metrics) and the 2-D presets
(gan_core.teach.presets). The engine retypes none of them; tests/test_engine_parity.py checks that the JS
computations agree with Python's.
"""
from __future__ import annotations

import inspect
import json
from dataclasses import fields, replace
from typing import Any

import torch

from gan_core.data.datasets import TOY_DATASETS, TOY_SAMPLERS, toy_modes
from gan_core.eval.metrics import COVERAGE_RADIUS, COVERAGE_SHARE, HIGH_QUALITY_STDS, MODES_COVERED_RULE
from gan_core.nn.losses import LOSSES
from gan_core.nn.models import LEAKY_SLOPE, TOY_DEPTH_RANGE, TOY_HIDDEN_RANGE
from gan_core.teach.presets import PRESETS
from gan_core.teach.toy_frames import FRAME_ARROWS, FRAME_GRID, FRAME_MANIFOLD, FRAME_POINTS
from gan_core.teach.toy_viz import EXTENTS, MANIFOLD_EXTENT, PROBABILITY_LOSSES, view_extent
from gan_core.train.config import (
    BATCH_RANGE,
    BETA_RANGE,
    LABEL_SMOOTHING_MAX,
    LR_RANGE,
    N_CRITIC_RANGE,
    OPTIMIZER_NAMES,
    PENALTY_MAX,
    TrainConfig,
)

SPEC_VERSION = 1
# The browser's default toy size and batch, chosen by measurement in headless Chromium on 2 CPU cores
# (benchmarks/browser_engine.py; the numbers are in benchmarks/RESULTS.md).
BROWSER_TOY_HIDDEN = 32
BROWSER_BATCH = 256
BROWSER_HIDDEN_MAX = 128  # wider toys train too slowly in a browser: those go to the server
# Presets whose server settings are too slow for a browser, with what they use there instead (chosen over seeds by
# steps, benchmarks/RESULTS.md, "Presets at browser sizes"): the non-saturating ring8 preset's batch of 1024 is too
# slow there, and at the default size a mode empties at times; two hidden layers of 64 units with batches of 256 and
# one-sided label smoothing of 0.1 (still the non-saturating loss, no penalty) held 8/8 on more seeds than three
# layers of 48 or 32, at about the cost per step of three of 48.
_NONSATURATING_RING8_BROWSER = {"toy_hidden": 64, "toy_depth": 2, "batch_size": 256, "label_smoothing": 0.1}
BROWSER_PRESET_SETTINGS: dict[str, dict[str, Any]] = {
    "ring8-nonsaturating": _NONSATURATING_RING8_BROWSER,
    "nonsaturating-ring8": _NONSATURATING_RING8_BROWSER,
}
BROWSER_Z_DIMS = (1, 2)  # GAN Lab's choices; the manifold is a line for 1, a grid for 2
DRAWN_POINT_JITTER = 0.02  # drawn points are sampled with replacement plus this much Gaussian jitter
# The fields of TrainConfig the engine reads (the worker's `init` config and `set` changes use these names).
ENGINE_FIELDS = ("dataset", "loss", "z_dim", "batch_size", "lr_g", "lr_d", "beta1", "beta1_d", "beta2",
                 "optimizer_g", "optimizer_d", "n_critic", "gp_weight", "r1_gamma", "label_smoothing",
                 "toy_hidden", "toy_depth", "seed")


def adam_eps() -> float:
    """torch.optim.Adam's eps, which the engine's Adam must use too."""
    return float(inspect.signature(torch.optim.Adam).parameters["eps"].default)


def engine_config(config: TrainConfig) -> dict[str, Any]:
    """The engine's config for a TrainConfig: every field resolved (no None), only what the engine reads."""
    cfg = config.resolved().validate()
    values = {name: getattr(cfg, name) for name in ENGINE_FIELDS}
    values["beta1_d"] = cfg.d_beta1()
    return values


def browser_config(settings: dict[str, Any] | None = None) -> TrainConfig:
    """A TrainConfig for the browser: the browser's size and batch unless the settings say otherwise."""
    settings = dict(settings or {})
    known = {f.name for f in fields(TrainConfig)}
    base = TrainConfig(**{k: v for k, v in settings.items() if k in known})
    if "toy_hidden" not in settings:
        base = replace(base, toy_hidden=BROWSER_TOY_HIDDEN)
    if "batch_size" not in settings:
        base = replace(base, batch_size=BROWSER_BATCH)
    return base


def _dataset_entry(name: str) -> dict[str, Any]:
    modes, std = toy_modes(name)
    return {"sampler": dict(TOY_SAMPLERS[name]), "extent": view_extent(name),
            "modes": modes.tolist() if modes is not None else None, "mode_std": std}


def browser_note(config: dict[str, Any]) -> str:
    """What a preset trains in the browser, in words (for its description there)."""
    return (f"In the browser: G and D with {config['toy_depth']} hidden layers of {config['toy_hidden']} units, "
            f"batches of {config['batch_size']} points.")


def browser_presets() -> list[dict[str, Any]]:
    """The presets that train in the browser (the 2-D ones), each with its full engine config."""
    out = []
    for preset in PRESETS.values():
        if preset.settings.get("dataset", TrainConfig.dataset) not in TOY_DATASETS:
            continue
        engine = {k: v for k, v in preset.settings.items() if k in ENGINE_FIELDS}
        engine.update(BROWSER_PRESET_SETTINGS.get(preset.slug, {}))
        config = engine_config(browser_config(engine))
        out.append({"slug": preset.slug, "title": preset.title, "description": preset.description,
                    "settings": engine, "config": config, "browser_note": browser_note(config)})
    return out


def browser_spec() -> dict[str, Any]:
    """The spec, JSON-serialisable (see PROTOCOL at the top of static/js/engine/train_worker.js)."""
    return {
        "version": SPEC_VERSION,
        "architecture": {
            "input_dim": 2, "output_dim": 2, "z_dims": list(BROWSER_Z_DIMS),
            "generator_activation": "relu", "discriminator_activation": "leaky_relu", "leaky_slope": LEAKY_SLOPE,
            # torch.nn.Linear's default init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            "init": "uniform_fan_in",
            # state_dict names: net.{2i}.weight [out, in] and net.{2i}.bias for layer i (as ToyGenerator)
            "layer_name_stride": 2,
        },
        "defaults": engine_config(browser_config()),
        "losses": [{"name": loss.name, "gradient_penalty": loss.uses_gradient_penalty,
                    "default_n_critic": loss.default_n_critic, "probability": loss.name in PROBABILITY_LOSSES}
                   for loss in LOSSES.values()],
        "optimizers": list(OPTIMIZER_NAMES),
        "adam_eps": adam_eps(),
        "limits": {
            "lr": list(LR_RANGE), "beta": list(BETA_RANGE), "batch_size": list(BATCH_RANGE),
            "n_critic": list(N_CRITIC_RANGE), "gp_weight": [0.0, PENALTY_MAX], "r1_gamma": [0.0, PENALTY_MAX],
            "label_smoothing": [0.0, LABEL_SMOOTHING_MAX],
            "toy_hidden": [TOY_HIDDEN_RANGE[0], min(TOY_HIDDEN_RANGE[1], BROWSER_HIDDEN_MAX)],
            "toy_depth": list(TOY_DEPTH_RANGE),
        },
        "datasets": {name: _dataset_entry(name) for name in TOY_DATASETS},
        "drawn": {"jitter": DRAWN_POINT_JITTER, "extent": max(EXTENTS.values())},
        "coverage": {"radius": COVERAGE_RADIUS, "share": COVERAGE_SHARE, "high_quality_stds": HIGH_QUALITY_STDS,
                     "rule": MODES_COVERED_RULE},
        "frame": {"grid": FRAME_GRID, "manifold": FRAME_MANIFOLD, "manifold_extent": MANIFOLD_EXTENT,
                  "points": FRAME_POINTS, "arrows": FRAME_ARROWS},
        "presets": browser_presets(),
    }


def browser_spec_json() -> str:
    return json.dumps(browser_spec(), separators=(",", ":"))
