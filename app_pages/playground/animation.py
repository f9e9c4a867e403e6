"""The playground's live view: a components-v2 canvas that plays back the frames the worker records.

While a toy job is active (running, slow motion, step by step, paused) the live fragment calls
`show_animation` once per refresh, as it drew the static plot before: the frames recorded since the
last refresh (gan_core.train.frames, ~20 a second) go to the browser in that one message, and the
element plays them back evenly until the next (canvas/player.js). No extra reruns: the element sends
nothing back. Once the run has ended the page draws the static matplotlib plot instead (plot.py: the
full-resolution surface, colour bar and legend).

Everything the canvas colours comes from gan_core.io.palette (real, generated, D's colour map), sent
with the frames, so the two views agree.
"""
from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import streamlit as st
import torch

from gan_core.data.datasets import sample_toy
from gan_core.io import palette
from gan_core.teach.toy_frames import FRAME_GRID, FRAME_MANIFOLD, ToyFrame, quantise_positions
from gan_core.teach.toy_viz import view_extent

ASSETS = Path(__file__).with_name("canvas")
KEY = "pg_player"
CURSOR_KEY = "_pg_frames_sent"  # (run, seq of the last frame sent to this session's element)
MAX_BATCH = 64  # frames per refresh at most (slow motion at 100 steps/s records 100): evenly thinned
REAL_POINTS = 512  # as the static plot (toy_viz.toy_field's n_real, seed 0)
SURFACE_ALPHA = 0.55  # D's colours over white, as plot.field_figure draws them
ARROW_COLOUR, MANIFOLD_COLOUR = "#222222", "#555555"  # as plot.field_figure draws them

_player = st.components.v2.component(
    "gan_playground_player",
    html=(ASSETS / "player.html").read_text(),
    css=(ASSETS / "player.css").read_text(),
    js=(ASSETS / "player.js").read_text(),
)


def b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian bytes as base64 (the browser reads them as typed arrays)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


@functools.lru_cache(maxsize=4)
def surface_lut(cmap: str = palette.D_MAP, alpha: float = SURFACE_ALPHA) -> str:
    """D's colour map as 256 RGB triples, already blended over white (base64)."""
    rgb = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]
    return b64(np.rint(255 * (alpha * rgb + (1 - alpha))), "u1")


@functools.lru_cache(maxsize=8)
def real_points(dataset: str) -> str:
    """The real points drawn under the fake ones (the same sample as the static plot), quantised like them."""
    real = sample_toy(dataset, REAL_POINTS, generator=torch.Generator().manual_seed(0)).numpy()
    return b64(quantise_positions(real, view_extent(dataset)), "<i2")


def frame_json(frame: ToyFrame) -> dict[str, Any]:
    return {"seq": frame.seq, "step": frame.step, "time": round(frame.time, 4), "fake": b64(frame.fake, "<i2"),
            "arrows": b64(frame.arrows, "<i2"), "arrowLength": frame.arrow_length,
            "surface": b64(frame.surface, "u1"), "manifold": b64(frame.manifold, "<i2")}


def thin(frames: list[ToyFrame], most: int = MAX_BATCH) -> list[ToyFrame]:
    """At most `most` frames, evenly spaced, always with the last (the newest)."""
    if len(frames) <= most:
        return frames
    picks = np.linspace(0, len(frames) - 1, most).round().astype(int)
    return [frames[i] for i in sorted(set(picks.tolist()))]


def run_token(job: Any) -> str:
    """Tells one run from the next (the element starts over on a new one)."""
    return f"{id(job)}-{job.started_at}"


def frames_to_send(job: Any, sent: tuple[str, int] | None) -> list[ToyFrame]:
    """The frames after the last one sent in this run; the newest again when none is new (so an element
    that was drawn afresh has a picture; the browser ignores a frame it already has)."""
    run = run_token(job)
    after = sent[1] if sent is not None and sent[0] == run else -1
    frames = job.frames_since(after)
    if not frames:
        frames = job.frames_since(-1)[-1:]
    return thin(frames)


def player_data(job: Any, frames: list[ToyFrame], show: dict[str, bool], big: bool = False) -> dict[str, Any]:
    """Everything the element needs for one refresh, as JSON."""
    dataset = job.config.dataset
    extent = frames[-1].extent if frames else view_extent(dataset)
    return {"run": run_token(job), "state": job.state.value, "extent": extent,
            "unit": frames[-1].position_unit if frames else 0.0, "grid": FRAME_GRID, "manifoldN": FRAME_MANIFOLD,
            "probability": frames[-1].probability if frames else True, "show": show, "big": big,
            "real": real_points(dataset), "lut": surface_lut(),
            "palette": {"real": palette.REAL, "fake": palette.FAKE, "fakeOutline": palette.FAKE_OUTLINE,
                        "arrow": ARROW_COLOUR, "manifold": MANIFOLD_COLOUR},
            "frames": [frame_json(f) for f in frames]}


def show_animation(job: Any, show: dict[str, bool], presenter: bool = False) -> bool:
    """Send this refresh's frames to the canvas (bigger in presenter mode); False (nothing drawn) while the
    job has recorded none."""
    frames = frames_to_send(job, st.session_state.get(CURSOR_KEY))
    if not frames:
        return False
    st.session_state[CURSOR_KEY] = (run_token(job), frames[-1].seq)
    _player(key=KEY, data=player_data(job, frames, show, presenter))
    return True
