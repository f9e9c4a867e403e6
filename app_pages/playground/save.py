"""Save from the browser: G's weights, trained in the student's browser, become a checkpoint Explore lists at once.

The element sends one payload (trigger "save"): `{nonce, name, generator: {tensor name: {shape, data}}, setup,
step}`. The set-up is checked like a link (link.parse_link), the tensors like an upload
(gan_core.io.browser_weights: names and shapes of the generator the set-up describes, finite float32, size cap).
Only then is a checkpoint written, in the one format (gan_core.io.checkpoint), in the given folder (the session's
own, which Explore's model list reads). On any failure a plain message comes back and nothing is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from app_pages.playground.link import DRAWN, QUERY_KEYS, Limits, Setup, parse_link
from app_shared.session import safe_name
from gan_core.io.browser_weights import load_browser_generator
from gan_core.io.checkpoint import CheckpointError, save_checkpoint

TRAINED_IN = "browser (TensorFlow.js)"


def setup_from_payload(raw: Any, base: Setup, limits: Limits) -> Setup:
    """The set-up the browser trained with, checked like a link; CheckpointError if any value is unusable."""
    if not isinstance(raw, dict):
        raise CheckpointError("the browser sent no set-up with the weights")
    params = {key: str(raw[name]) for name, key in QUERY_KEYS.items() if raw.get(name) is not None}
    points = raw.get("points") or []
    if isinstance(points, list) and points:
        params["pts"] = "~".join(f"{p[0]}_{p[1]}" for p in points if isinstance(p, list) and len(p) == 2)
    setup, notices = parse_link(params, base, limits)
    notices = [n for n in notices if "holds no points" not in n]
    if notices:
        raise CheckpointError(notices[0].replace("The link's", "The page's").replace(" Kept", " (not saved; kept"))
    return setup


def save_browser_model(payload: Any, folder: Path, base: Setup, limits: Limits) -> tuple[str, Path]:
    """Check the browser's payload, then (only then) write NAME.safetensors + NAME.json in `folder`.

    Returns (the model's label in Explore's list, the weights path); raises CheckpointError with the reason.
    """
    if not isinstance(payload, dict):
        raise CheckpointError("the browser's save message is not an object")
    setup = setup_from_payload(payload.get("setup"), base, limits)
    generator = load_browser_generator(payload.get("generator"), setup.z_dim, setup.toy_hidden, setup.toy_depth)
    step = payload.get("step")
    step = step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else 0
    config = setup.config()
    meta = {"model": "toy", "z_dim": setup.z_dim, "num_classes": None, "class_names": None, "image_shape": None,
            "toy_hidden": setup.toy_hidden, "toy_depth": setup.toy_depth,
            "dataset": setup.dataset, "loss": setup.loss, "steps": step, "trained_in": TRAINED_IN,
            "config": config.to_dict(), "ema": False}
    if setup.dataset == DRAWN:
        meta["drawn_points"] = [list(p) for p in setup.points]
    stem = "playground-" + safe_name(str(payload.get("name") or "")[:48], "model")
    weights = save_checkpoint(folder / stem, generator, meta)
    return f"session: {stem}", weights


__all__ = ["TRAINED_IN", "save_browser_model", "setup_from_payload"]
