"""The playground's set-up and its link: one dataclass, read from and written to a query string.

A teacher shares a link (`/playground?engine=browser&data=ring8&loss=minimax&lr_g=0.001...`) and every
student's page opens with that set-up. The link is user input: each value is checked by the same rules as a
training run (`TrainConfig.validate`) plus the browser engine's own limits; a bad value gets a plain message
and keeps its default, and nothing else changes. The element builds the same query string in the browser
(static/js/playground/link.js, the keys of QUERY_KEYS), so sharing sends nothing to the server.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from gan_core.teach.browser_spec import engine_config
from gan_core.train.config import TrainConfig

ENGINES = ("browser", "server")
DRAWN = "drawn"  # the dataset "draw your own"
MAX_LINK_POINTS = 300  # drawn points a link may carry (about 4 KB of query string)
# setup field -> query key (static/js/playground/link.js writes the same keys)
QUERY_KEYS = {"dataset": "data", "loss": "loss", "lr_g": "lr_g", "lr_d": "lr_d", "optimizer_g": "opt_g",
              "optimizer_d": "opt_d", "beta1": "beta1_g", "beta1_d": "beta1_d", "beta2": "beta2", "n_critic": "k",
              "batch_size": "batch", "gp_weight": "gp", "r1_gamma": "r1", "label_smoothing": "smooth", "z_dim": "z",
              "toy_hidden": "hidden", "toy_depth": "depth", "seed": "seed"}
WHOLE_NUMBERS = ("n_critic", "batch_size", "z_dim", "seed", "toy_hidden", "toy_depth")
WORDS = ("dataset", "loss", "optimizer_g", "optimizer_d")
NAMES = {"dataset": "data", "loss": "loss", "lr_g": "G's learning rate", "lr_d": "D's learning rate",
         "optimizer_g": "G's optimiser", "optimizer_d": "D's optimiser", "beta1": "G's β1", "beta1_d": "D's β1",
         "beta2": "Adam's β2",
         "n_critic": "D steps per G step", "batch_size": "batch", "gp_weight": "WGAN-GP weight",
         "r1_gamma": "R1 γ", "label_smoothing": "label smoothing", "z_dim": "noise dimension",
         "toy_hidden": "hidden units per layer", "toy_depth": "hidden layers", "seed": "seed"}


@dataclass
class Setup:
    """Everything that defines a playground run, in TrainConfig's field names (the worker's config too)."""

    dataset: str
    loss: str
    lr_g: float
    lr_d: float
    optimizer_g: str
    optimizer_d: str
    beta1: float
    beta1_d: float
    beta2: float
    n_critic: int
    batch_size: int
    gp_weight: float
    r1_gamma: float
    label_smoothing: float
    z_dim: int
    toy_hidden: int
    toy_depth: int
    seed: int = 0
    points: list[tuple[float, float]] = field(default_factory=list)  # the drawn data (dataset "drawn")

    def config(self) -> TrainConfig:
        """The server's TrainConfig of this set-up (drawn data has no server sampler: ring8 there)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "points"}
        if values["dataset"] == DRAWN:
            values["dataset"] = "ring8"
        return TrainConfig(model="toy", **values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Limits:
    """What the browser engine accepts beyond TrainConfig's own checks (from gan_core.teach.browser_spec)."""

    datasets: tuple[str, ...]  # built-in samplers; DRAWN is always allowed as well
    losses: tuple[str, ...]
    z_dims: tuple[int, ...]
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # field -> inclusive (low, high)
    draw_extent: float = 3.0  # drawn points lie in [-draw_extent, draw_extent]^2


def setup_from_config(cfg: TrainConfig) -> Setup:
    """A Setup from a TrainConfig, every None default resolved as the engine resolves it."""
    return setup_from_engine(engine_config(cfg))


def setup_from_engine(config: dict[str, Any]) -> Setup:
    """A Setup from an engine config (gan_core.teach.browser_spec: every field resolved)."""
    return Setup(**{f.name: config[f.name] for f in fields(Setup) if f.name != "points"})


def _number(text: str, whole: bool) -> float | int:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if whole:
        if value != int(value):
            raise ValueError("not a whole number")
        return int(value)
    return value


def check_value(setup: Setup, name: str, value: Any, limits: Limits) -> str | None:
    """Why `value` cannot be this set-up's `name`, or None when it can."""
    if name == "dataset" and value not in limits.datasets + (DRAWN,):
        return f"choose one of {', '.join(limits.datasets + (DRAWN,))}"
    if name == "loss" and value not in limits.losses:
        return f"choose one of {', '.join(limits.losses)}"
    if name == "z_dim" and value not in limits.z_dims:
        return f"choose {' or '.join(str(z) for z in limits.z_dims)}"
    if name in limits.ranges:
        low, high = limits.ranges[name]
        if not low <= value <= high:
            return f"must lie in {low:g}..{high:g} here"
    try:
        replace(setup, **{name: value}).config().validate()
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def parse_points(text: str, limits: Limits) -> list[tuple[float, float]]:
    """`x_y~x_y~...` -> points, or ValueError saying what is wrong."""
    pairs = [p for p in text.split("~") if p]
    if len(pairs) > MAX_LINK_POINTS:
        raise ValueError(f"a link holds at most {MAX_LINK_POINTS} points, this one {len(pairs)}")
    points = []
    for pair in pairs:
        parts = pair.split("_")
        if len(parts) != 2:
            raise ValueError(f"{pair[:20]!r} is not x_y")
        x, y = (_number(p, whole=False) for p in parts)
        if max(abs(x), abs(y)) > limits.draw_extent:
            raise ValueError(f"({x:g}, {y:g}) lies outside the view (±{limits.draw_extent:g})")
        points.append((x, y))
    return points


def parse_link(params: dict[str, str], base: Setup, limits: Limits) -> tuple[Setup, list[str]]:
    """The set-up a link describes, starting from `base` (the preset it names, or the defaults), and one plain
    message per value that could not be used (that value keeps the base's)."""
    setup, notices = replace(base, points=list(base.points)), []
    for name, key in QUERY_KEYS.items():
        text = params.get(key)
        if text is None or text == "":
            continue
        text = str(text).strip()[:40]
        try:
            value: Any = text if name in WORDS else _number(text, whole=name in WHOLE_NUMBERS)
        except ValueError as exc:
            notices.append(f"The link's {NAMES[name]} ({key}={text!r}) is {exc}; kept {getattr(setup, name)}.")
            continue
        problem = check_value(setup, name, value, limits)
        if problem is not None:
            notices.append(f"The link's {NAMES[name]} ({key}={text!r}) cannot be used: {problem}. "
                           f"Kept {getattr(setup, name)}.")
            continue
        setup = replace(setup, **{name: value})
    if params.get("pts"):
        try:
            setup.points = parse_points(str(params["pts"])[:MAX_LINK_POINTS * 40], limits)
        except ValueError as exc:
            notices.append(f"The link's drawn points cannot be used: {exc}. Draw them again on the picture.")
    if setup.dataset == DRAWN and not setup.points:
        notices.append("The link asks for drawn data but holds no points: draw them on the picture.")
    return setup, notices


def engine_of(params: dict[str, str]) -> tuple[str | None, str | None]:
    """(engine, notice) from ?engine=: None when the link does not say; a notice for an unknown value."""
    text = params.get("engine")
    if not text:
        return None, None
    if text in ENGINES:
        return text, None
    return None, (f"The link's engine ({str(text)[:20]!r}) is not one of {', '.join(ENGINES)}; the page's choice "
                  "is kept.")


def link_query(setup: Setup, engine: str = "browser") -> dict[str, str]:
    """The query string of a set-up (the browser writes the same one: static/js/playground/link.js)."""
    query = {"engine": engine}
    query.update({key: str(getattr(setup, name)) for name, key in QUERY_KEYS.items()})
    if setup.dataset == DRAWN and setup.points:
        query["pts"] = "~".join(f"{x:g}_{y:g}" for x, y in setup.points[:MAX_LINK_POINTS])
    return query


__all__ = ["DRAWN", "ENGINES", "Limits", "MAX_LINK_POINTS", "QUERY_KEYS", "Setup", "engine_of", "link_query",
           "parse_link", "parse_points", "setup_from_config", "setup_from_engine"]
