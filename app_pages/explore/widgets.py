"""Session-state plumbing for the Explore page: first-visit setup from the URL, callbacks, query-string sync.

Widget values live under `ex_*` keys. The user's latent and direction edits are kept in plain
dicts (`ex_over`, `ex_dirs`) too, so a slider that is hidden (another dimension picked) keeps
its value, and so the state can be written to the URL in one place.
"""
from __future__ import annotations

import random
from pathlib import Path

import streamlit as st

from app_pages.explore import render_mode
from app_pages.explore.compute import SEED_MAX
from app_pages.explore.state import N_DIRECTIONS, ExploreState, ModelInfo, parse_query, to_query
from app_shared import models as shared_models
from gan_core import GAN

DEFAULT_MODEL = "mnist-cgan"
SLIDER_PREFIXES = ("ex_z_", "ex_dir_")
SEED_HELP = f"A whole number from 0 to {SEED_MAX:,}. The seed picks the random numbers of z."
PSI_ZERO_HINT = ("At ψ = 0 the generator gets ψ · z = 0 whatever z is, so the z sliders are switched off. "
                 "Raise truncation ψ to use them (the directions still move the image).")
CHECKPOINT_SUFFIXES = (".safetensors", ".json")
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")
ss = st.session_state


def default_model(models: dict[str, Path]) -> str:
    return DEFAULT_MODEL if DEFAULT_MODEL in models else next(iter(models))


def model_info(models: dict[str, Path]):
    """A function name -> ModelInfo that loads (cached) only the model asked about."""
    def info(name: str) -> ModelInfo:
        gan = shared_models.load_model(models[name])
        return ModelInfo(gan.z_dim, gan.num_classes, min(N_DIRECTIONS, gan.z_dim))
    return info


def clear_sliders() -> None:
    for key in [k for k in ss if isinstance(k, str) and k.startswith(SLIDER_PREFIXES)]:
        del ss[key]


def apply_state(state: ExploreState) -> None:
    """Put a state into the widgets' session-state keys (before the widgets are drawn)."""
    clear_sliders()
    ss.ex_model, ss.ex_seed, ss.ex_class, ss.ex_trunc = state.model, state.seed, state.cls, state.truncation
    ss.ex_seed_text, ss.ex_seed_msg = str(state.seed), None
    ss.ex_over, ss.ex_dirs = dict(state.z), dict(state.dirs)
    for key in ("ex_dims", "ex_dims_kept"):
        ss.pop(key, None)
    if any(d >= 16 for d in state.z):  # a link that moved a later dimension shows its slider
        ss.ex_dims = ss.ex_dims_kept = shown_dims(state.z)


def shown_dims(over: dict[int, float], limit: int = 16) -> list[int]:
    """The dimensions whose sliders to show: the edited ones first, then the lowest others, at most `limit`."""
    edited = sorted(over)[:limit]
    rest = [d for d in range(limit + len(edited)) if d not in edited]
    return sorted(edited + rest[: limit - len(edited)])


def init_from_url(models: dict[str, Path]) -> None:
    """On the session's first visit, take the state from the query string (validated, with notices)."""
    if ss.get("ex_ready"):
        if ss.get("ex_model") not in models:  # e.g. a session checkpoint that disappeared
            ss.ex_notices = [f"Model {ss.get('ex_model')!r} is no longer available; showing "
                             f"{default_model(models)}."]
            apply_state(ExploreState(default_model(models)))
        return
    params = st.query_params.to_dict()
    state, notices = parse_query(params, list(models), default_model(models), model_info(models))
    apply_state(state)
    ss.ex_notices = notices
    ss.ex_ready = True


def current_state() -> ExploreState:
    return ExploreState(ss.ex_model, int(ss.ex_seed), int(ss.get("ex_class", 0) or 0), float(ss.ex_trunc),
                        dict(ss.get("ex_over", {})), {k: v for k, v in ss.get("ex_dirs", {}).items() if v})


def sync_query(gan: GAN) -> None:
    """Write the current state into the URL (only when it changed, to avoid needless messages)."""
    wanted = {**to_query(current_state(), ModelInfo(gan.z_dim, gan.num_classes)), **render_mode.query_extra()}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# ---------------------------------------------------------------- callbacks (run before the script reruns)

def on_model_change() -> None:
    """A different model: keep the seed, start from its plain sample, clear old notices."""
    clear_sliders()
    ss.ex_over, ss.ex_dirs, ss.ex_class, ss.ex_notices = {}, {}, 0, []
    for key in ("ex_dims", "ex_dims_kept"):
        ss.pop(key, None)
    for key in ("ex_int_ca", "ex_int_cb"):
        ss.pop(key, None)


def on_seed_change() -> None:
    """A new seed means a new z: the sliders show its values, not the old edits."""
    clear_sliders()
    ss.ex_over, ss.ex_dirs = {}, {}


def on_seed_text() -> None:
    """A typed seed: used when it is a whole number in range; otherwise say so and keep the seed in use."""
    typed = str(ss.get("ex_seed_text", "")).strip()
    digits = typed.replace(",", "").replace("_", "").replace(" ", "")
    if digits.isdigit() and int(digits) <= SEED_MAX:
        seed = int(digits)
        ss.ex_seed_text, ss.ex_seed_msg = str(seed), None
        if seed != ss.ex_seed:
            ss.ex_seed = seed
            on_seed_change()
        return
    shown = typed if len(typed) <= 30 else typed[:27] + "..."
    ss.ex_seed_msg = (f"Seed {shown!r} cannot be used: a seed is a whole number from 0 to {SEED_MAX:,}. "
                      f"Still showing seed {ss.ex_seed}.")
    ss.ex_seed_text = str(ss.ex_seed)


def on_random() -> None:
    ss.ex_seed = random.randrange(100000)
    ss.ex_seed_text, ss.ex_seed_msg = str(ss.ex_seed), None  # the box shows the seed in use, whatever was typed
    on_seed_change()


def on_reset() -> None:
    """Back to the seed's own sample: latent edits, directions and truncation undone."""
    on_seed_change()
    ss.ex_trunc = 1.0
    ss.ex_notices = []


def on_upload() -> None:
    """Validate an uploaded .safetensors + .json pair; save it in the session folder only when it loads."""
    files = ss.get("ex_upload") or []
    ss.ex_upload_msg = None
    if not files:
        return
    by_suffix: dict[str, list] = {}
    for f in files:
        by_suffix.setdefault(Path(f.name).suffix.lower(), []).append(f)
    others = [f.name for f in files if Path(f.name).suffix.lower() not in CHECKPOINT_SUFFIXES]
    if others:
        names = ", ".join(repr(n[:60]) for n in others[:3])
        pickled = any(Path(n).suffix.lower() in PICKLE_SUFFIXES for n in others)
        ss.ex_upload_msg = ("error", f"{names} {'is' if len(others) == 1 else 'are'} not a checkpoint file. "
                                     "Upload the two files of one checkpoint: NAME.safetensors (the weights) and "
                                     "NAME.json (its description), as saved on the Train page or by `gan train`."
                            + (" Pickled files (.pt, .pth, .ckpt) are never loaded: loading them can run code."
                               if pickled else ""))
        return
    weights, meta = by_suffix.get(".safetensors", []), by_suffix.get(".json", [])
    if len(weights) != 1 or len(meta) != 1 or len(files) != 2:
        ss.ex_upload_msg = ("error", "Upload exactly two files: one NAME.safetensors (weights) and one NAME.json "
                                     "(its description). Pickled .pt/.pth/.ckpt files are never accepted.")
        return
    try:
        label, _ = shared_models.save_upload(weights[0].getvalue(), meta[0].getvalue(), Path(weights[0].name).stem)
    except (ValueError, OSError) as exc:  # CheckpointError (a ValueError) says what is wrong; OSError: disk
        ss.ex_upload_msg = ("error", f"Could not use this upload: {exc}")
        return
    ss.ex_model = label
    on_model_change()
    ss.ex_upload_msg = ("success", f"Loaded {weights[0].name}; it is now in the model list as {label!r}.")


def share_caption(model: str) -> str:
    """The line under the page: what a copied link reopens, and for whom (a session model is not shared)."""
    text = ("Share: the address bar holds this page's state (model, seed, class, sliders, truncation) — copy "
            "the link to reopen this exact image.")
    if model.startswith("session: "):
        text += (f" Note: {model.removeprefix('session: ')} is only on this server, in this browser session. "
                 f"The link reopens it only here; anyone else who opens it gets {DEFAULT_MODEL} instead. To share "
                 "the model itself, download its checkpoint on the Train page and upload it here.")
    return text


def take_slider_values(base: list[float], n_directions: int) -> None:
    """Copy the latent and direction sliders' values into ex_over / ex_dirs before the sliders are drawn.

    A moved slider's new value is in session state when the run starts, so the page can draw the sample
    first: its image message then leaves the server before the 16 slider messages, not after them.
    """
    for key in [k for k in ss if isinstance(k, str) and k.startswith(SLIDER_PREFIXES)]:
        prefix, _, index = key.rpartition("_")
        if not index.isdigit():
            continue
        i, value = int(index), float(ss[key])
        if prefix == "ex_z" and i < len(base):
            if abs(value - base[i]) > 1e-6:
                ss.ex_over[i] = value
            else:
                ss.ex_over.pop(i, None)
        elif prefix == "ex_dir" and i < n_directions:
            ss.ex_dirs[i] = value


def slider_value(key: str, initial: float) -> float | None:
    """Give a slider its starting value once (widgets then own it).

    Returns the value to pass as the slider's `value=`: None on the run that set it (passing both would make
    Streamlit log a duplicate-default warning), else the current value. A slider given no value looks into the
    whole session state on every run to tell a single from a range slider, which made 16 sliders cost more
    than the rest of a latent move's script.
    """
    if key not in ss:
        ss[key] = float(initial)
        return None
    return float(ss[key])
