"""The Explore page's state: one `ExplorePage` in one session key, and its shareable part, the view.

`ExploreState` (the view: model, seed, class, ψ, z edits, direction moves) is what a link and the
browser's element carry; it is parsed from and written to the URL query string here.

A link such as `?model=mnist-cgan&seed=7&class=3&trunc=0.8&z=0:1.25,5:-0.5&dir=0:1.5` reopens
the same image. After a drawing or an uploaded image was projected (projection_view.py), the z the
sliders move around is the projection's, not the seed's: the link carries it as `base=`, the whole z
in float16, base64url (171 characters for a 64-entry z; about a third of the same numbers written as
decimals). The view keeps exactly those float16 values, so the link reopens the same image; the
drawing itself, its distance and its nearest training image stay in the session that made them.

Everything in a query string is untrusted: each value is checked, and a bad
one falls back to its default with a notice the page shows. The model is only ever looked up
by name among the models the session may open — it is never used as a path.
"""
from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from app_pages.explore.compute import DIR_LIMIT, SEED_MAX, TRUNC_RANGE, Z_LIMIT

MAX_PARAM_CHARS = 4000
N_DIRECTIONS = 8
BROWSER, SERVER = "browser", "server"  # which path draws the images (render_mode.py)


@dataclass
class ModelInfo:
    """What validation needs to know about a model."""

    z_dim: int
    num_classes: int | None
    n_directions: int = N_DIRECTIONS


@dataclass(frozen=True)
class LatentBase:
    """A z found by projecting the student's drawing or image: the z sliders move around it instead of the seed's.

    Its values are float16 numbers (kept as Python floats), so the link's `base=` holds them exactly.
    """

    values: tuple[float, ...]

    @classmethod
    def of(cls, z: torch.Tensor) -> LatentBase:
        """A found z (1-D), clipped to the sliders' range and rounded to float16."""
        half = z.detach().float().cpu().clamp(-Z_LIMIT, Z_LIMIT).numpy().astype(np.float16)
        return cls(tuple(float(v) for v in half))

    def tensor(self) -> torch.Tensor:
        return torch.tensor(self.values, dtype=torch.float32)

    def token(self) -> str:
        """The link's form: little-endian float16 bytes, base64url without padding."""
        raw = np.asarray(self.values, dtype="<f2").tobytes()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def parse(cls, text: str, z_dim: int) -> LatentBase | None:
        """The base a link's `base=` names, or None when it is not z_dim finite float16 values in the range."""
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 2 * z_dim:
            return None
        values = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        if not np.all(np.isfinite(values)) or np.abs(values).max(initial=0.0) > Z_LIMIT:
            return None
        return cls(tuple(float(v) for v in values))


@dataclass
class ExploreState:
    model: str
    seed: int = 0
    cls: int = 0
    truncation: float = 1.0
    z: dict[int, float] = field(default_factory=dict)  # latent dims the user moved: dim -> value
    dirs: dict[int, float] = field(default_factory=dict)  # direction index -> amount in sigmas
    base: LatentBase | None = None  # a projected drawing's z, which replaces the seed's as what the sliders edit


def computed_view(view: ExploreState) -> ExploreState:
    """The view as compute.py reads it (seed + edits): a projected base is written over every entry of the
    seed's z, with the student's edits on top. One z either way, so the sample, D(x), the class grid and
    the downloads need no second path for a drawing."""
    if view.base is None:
        return view
    return replace(view, z={**dict(enumerate(view.base.values)), **view.z}, base=None)


@dataclass
class Interpolation:
    """The strip's settings; None for seed B / class B means "the next seed / class after the current one"."""

    mode: str = "seeds"
    seed_b: int | None = None
    class_b: int | None = None
    method: str = "slerp"
    steps: int = 8


@dataclass
class Sample:
    """The sample as the server last computed it: D(x), the memorisation check and the downloads use it."""

    z: torch.Tensor  # the effective latent (ψ and direction moves applied)
    cls: int | None
    x: torch.Tensor  # the generator's output, 1 x C x H x W (or 1 x 2 for a toy)
    p: float | None  # D(x), None without a discriminator


@dataclass
class Neighbour:
    """The training image nearest to the student's drawing (the memorisation check's index and distance)."""

    image: torch.Tensor  # 1 x C x H x W in [-1, 1]
    label: str | None  # its class name, when the dataset has classes
    distance: float
    typical: float  # a real training image's typical distance to its nearest other one
    space: str  # "classifier features" or "pixels"


@dataclass
class ProjectionResult:
    """A drawing or upload projected into the model: what the result panel shows beside the student's image."""

    model: str
    source: str  # "your drawing" or "your picture 'NAME'" (an upload)
    target: torch.Tensor  # 1 x C x H x W in [-1, 1]: the student's image as the model sees it
    image: torch.Tensor  # 1 x C x H x W: G(z, class) at the found z (the float16 base)
    base: LatentBase
    cls: int | None
    distance: float  # the projection's pixel + feature distance (lower is closer)
    pixel_distance: float  # mean squared pixel error in [-1, 1] units
    p: float | None  # D(x) of the projection
    seconds: float
    neighbour: Neighbour | None
    neighbour_note: str | None = None  # why there is no nearest training image


@dataclass
class PendingImage:
    """An image a student drew or uploaded, checked and waiting to be projected on this run."""

    image: Any  # PIL.Image.Image, decoded and checked by gan_core.io.safety
    source: str
    nonce: int | None = None  # the browser's nonce for a drawing: the projected view is then its state


@dataclass
class ExplorePage:
    """Everything the Explore page keeps between runs, in one session key (widgets.STATE_KEY).

    Widgets keep their own keys (Streamlit owns a widget's value); their callbacks copy a change into
    `view`, and widgets.apply_view writes a view (from a link, Reset, the browser) back into them.
    """

    view: ExploreState
    notices: list[str] = field(default_factory=list)  # values of the link that fell back, a vanished model
    upload_message: tuple[str, str] | None = None  # ("error" | "success", text)
    seed_error: str | None = None  # a refused typed seed, shown while the view is still `seed_error_view`
    seed_error_view: ExploreState | None = None
    dims: list[int] | None = None  # z dimensions picked for sliders (z_dim > 16), kept while their tab is closed
    sample: Sample | None = None
    render: str = BROWSER
    render_forced: bool = False  # the link said render=server: the page's links keep saying it
    render_notice: str | None = None  # why the server draws, when it fell back
    interp: Interpolation = field(default_factory=Interpolation)  # the browser's strip (and the downloads)
    interp_model: str | None = None  # the model `interp` belongs to (class B may not exist in another)
    pool: list[int] = field(default_factory=list)  # random seeds whose z the browser holds
    ack: int = 0  # the nonce of the browser's last state taken
    browser_notices: list[str] = field(default_factory=list)  # values of the browser's state that fell back
    pending: PendingImage | None = None  # a drawing or upload to project on this run (projection_view.py)
    projection: ProjectionResult | None = None  # the last projection, shown while the view keeps its base
    projection_message: tuple[str, str] | None = None  # ("error" | "info", text) about the last drawing/upload
    sketch_reply: dict[str, Any] | None = None  # the browser's answer to its last drawing: nonce, error, text


def _fmt(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def to_query(state: ExploreState, info: ModelInfo | None = None) -> dict[str, str]:
    """The query-string form of a state (only what differs from the defaults, to keep links short)."""
    q = {"model": state.model, "seed": str(state.seed)}
    if info is None or info.num_classes:
        q["class"] = str(state.cls)
    if abs(state.truncation - 1.0) > 1e-9:
        q["trunc"] = _fmt(state.truncation)
    if state.z:
        q["z"] = ",".join(f"{d}:{_fmt(v)}" for d, v in sorted(state.z.items()))
    dirs = {k: v for k, v in state.dirs.items() if abs(v) > 1e-9}
    if dirs:
        q["dir"] = ",".join(f"{k}:{_fmt(v)}" for k, v in sorted(dirs.items()))
    if state.base is not None:
        q["base"] = state.base.token()
    return q


def _one(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)


def _show(text: str) -> str:
    text = text if len(text) <= 40 else text[:37] + "..."
    return repr(text)


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _pairs(text: str, what: str, count: int, limit: float, notices: list[str]) -> dict[int, float]:
    """'i:v,j:w' -> {i: v, j: w}, dropping (with a notice) entries out of range or malformed."""
    out: dict[int, float] = {}
    for part in filter(None, text.split(",")):
        idx_text, sep, val_text = part.partition(":")
        value = _float(val_text) if sep else None
        if not idx_text.strip().isdigit() or value is None:
            notices.append(f"Ignored {what} entry {_show(part)} in the link: expected INDEX:VALUE.")
            continue
        idx = int(idx_text)
        if idx >= count:
            notices.append(f"Ignored {what} {idx} in the link: this model has {count} ({what} 0..{count - 1}).")
        elif abs(value) > limit:
            notices.append(f"Ignored {what} {idx} = {_show(val_text)} in the link: values lie in "
                           f"[-{limit:g}, {limit:g}].")
        else:
            out[idx] = value
    return out


def parse_query(params: Mapping[str, Any], models: list[str], default_model: str,
                info: Callable[[str], ModelInfo]) -> tuple[ExploreState, list[str]]:
    """A validated state from query parameters, and a notice for each value that fell back to its default.

    `models` are the names this session may open; `info(name)` describes one of them.
    """
    notices: list[str] = []
    if sum(len(str(v)) for v in params.values()) > MAX_PARAM_CHARS:
        return ExploreState(default_model), ["The link's parameters are too long; showing the default model."]
    name = _one(params, "model")
    model = default_model
    if name is not None:
        if name in models:
            model = name
        else:
            notices.append(f"Unknown model {_show(name)} in the link; showing {default_model} instead. "
                           "(Links can name shipped models and this session's own checkpoints only.)")
    state = ExploreState(model)
    meta = info(model)

    seed_text = _one(params, "seed")
    if seed_text is not None:
        if seed_text.strip().isdigit() and int(seed_text) <= SEED_MAX:
            state.seed = int(seed_text)
        else:
            notices.append(f"Seed {_show(seed_text)} in the link is not a whole number in 0..{SEED_MAX}; using 0.")

    cls_text = _one(params, "class")
    if cls_text is not None and meta.num_classes:
        if cls_text.strip().isdigit() and int(cls_text) < meta.num_classes:
            state.cls = int(cls_text)
        else:
            notices.append(f"Class {_show(cls_text)} in the link is out of range for {model} "
                           f"(0..{meta.num_classes - 1}); using class 0.")

    trunc_text = _one(params, "trunc")
    if trunc_text is not None:
        value = _float(trunc_text)
        lo, hi = TRUNC_RANGE
        if value is not None and lo <= value <= hi:
            state.truncation = value
        else:
            notices.append(f"Truncation {_show(trunc_text)} in the link is not in [{lo:g}, {hi:g}]; using 1.")

    z_text = _one(params, "z")
    if z_text:
        state.z = _pairs(z_text, "latent dimension", meta.z_dim, Z_LIMIT, notices)
    dir_text = _one(params, "dir")
    if dir_text:
        state.dirs = _pairs(dir_text, "direction", min(meta.n_directions, meta.z_dim), DIR_LIMIT, notices)
    base_text = _one(params, "base")
    if base_text:
        state.base = LatentBase.parse(base_text, meta.z_dim)
        if state.base is None:
            notices.append(f"Ignored the drawing's latent {_show(base_text)} in the link: for {model} it is "
                           f"{meta.z_dim} float16 numbers in [-{Z_LIMIT:g}, {Z_LIMIT:g}], base64url-encoded. "
                           f"Showing seed {state.seed}'s own z.")
    return state, notices
