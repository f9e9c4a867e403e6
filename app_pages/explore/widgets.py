"""The Explore page's state and widgets: first-visit setup from the URL, callbacks, query-string sync.

The page's state is one `ExplorePage` (state.py) under the session key STATE_KEY, passed to the
functions that need it. Widgets keep their own `ex_*` keys, as Streamlit requires: their callbacks
copy a change into `page.view`, and `apply_view` writes a view that came from elsewhere (a link,
Reset, Random, the browser) back into them. The user's latent and direction edits live in the view's
dicts, so a slider that is hidden (another dimension picked, its tab closed) keeps its value.
"""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import streamlit as st
import torch
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages.explore import compute as ec
from app_pages.explore import render_mode
from app_pages.explore.state import N_DIRECTIONS, ExplorePage, ExploreState, ModelInfo, parse_query, to_query
from app_shared import models as shared_models
from gan_core import GAN

STATE_KEY = "explore"
DEFAULT_MODEL = "mnist-cgan"
SLIDER_PREFIXES = ("ex_z_", "ex_dir_")
SHOWN_DIMS = 16  # sliders shown at once; a larger z gets a picker
SEED_HELP = f"A whole number from 0 to {ec.SEED_MAX:,}. The seed picks the random numbers of z."
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


def apply_view(page: ExplorePage, view: ExploreState) -> None:
    """Make `view` the page's, and show it in the server path's widgets (before they are drawn)."""
    if view.seed != page.view.seed or view.model != page.view.model or view.z != page.view.z \
            or view.dirs != page.view.dirs or view.base != page.view.base:
        clear_sliders()  # the sliders start again from the new view's values
    page.view = view
    if ss.get("ex_model") != view.model:  # a projection (in the page body, after the model box) keeps the model
        ss.ex_model = view.model
    ss.ex_seed_text, ss.ex_class, ss.ex_trunc = str(view.seed), view.cls, view.truncation
    ss.pop("ex_dims", None)
    page.dims = shown_dims(view.z) if any(d >= SHOWN_DIMS for d in view.z) else None  # a later edited dim shows


def shown_dims(over: dict[int, float], limit: int = SHOWN_DIMS) -> list[int]:
    """The dimensions whose sliders to show: the edited ones first, then the lowest others, at most `limit`."""
    edited = sorted(over)[:limit]
    rest = [d for d in range(limit + len(edited)) if d not in edited]
    return sorted(edited + rest[: limit - len(edited)])


def init_from_url(models: dict[str, Path]) -> ExplorePage:
    """The session's page state: on its first visit, from the query string (validated, with notices).

    With no model at all yet the view names none (""); the first model uploaded becomes the view's.
    """
    page = ss.get(STATE_KEY)
    if page is None:
        params = st.query_params.to_dict()
        if models:
            view, notices = parse_query(params, list(models), default_model(models), model_info(models))
        else:
            view, notices = ExploreState(""), []
        page = ss[STATE_KEY] = ExplorePage(view, notices=notices)
        render_mode.choose(page, params)
        apply_view(page, view)
    elif models and page.view.model not in models:  # e.g. a session checkpoint that disappeared
        if page.view.model:
            page.notices = [f"Model {page.view.model!r} is no longer available; showing "
                            f"{default_model(models)}."]
        apply_view(page, ExploreState(default_model(models), seed=page.view.seed))
    return page


def show_view_in_widgets(page: ExplorePage) -> None:
    """Before the server path's top row is drawn: its widgets show the view (also after another page's run,
    which drops the widgets' values)."""
    view = page.view
    if ss.get("ex_seed_text") != str(view.seed):
        ss.ex_seed_text = str(view.seed)
    ss.ex_class, ss.ex_trunc = view.cls, view.truncation


def sync_query(page: ExplorePage, gan: GAN) -> None:
    """Write the view into the URL (only when it changed, to avoid needless messages)."""
    view = replace(page.view, dirs={k: v for k, v in page.view.dirs.items() if v})
    wanted = {**to_query(view, ModelInfo(gan.z_dim, gan.num_classes)), **render_mode.query_extra(page)}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# ---------------------------------------------------------------- callbacks (run before the script reruns)

def on_model_change(page: ExplorePage) -> None:
    """A different model: keep the seed, start from its plain sample, clear old notices."""
    page.notices = []
    apply_view(page, ExploreState(ss.ex_model, seed=page.view.seed))


def set_seed(page: ExplorePage, seed: int) -> None:
    """A new seed means a new z: the sliders show its values, not the old edits (nor a drawing's z)."""
    apply_view(page, replace(page.view, seed=seed, z={}, dirs={}, base=None))


def base_latent(gan: GAN, view: ExploreState) -> torch.Tensor:
    """The z the sliders move around: a projected drawing's, else the seed's (compute.base_latent)."""
    return view.base.tensor() if view.base is not None else ec.base_latent(gan, view.seed)


def on_seed_text(page: ExplorePage) -> None:
    """A typed seed: used when it is a whole number in range; otherwise say so and keep the seed in use.

    The message names what was typed and stays only while nothing else changes (page.seed_error_view).
    """
    typed = str(ss.get("ex_seed_text", "")).strip()
    digits = typed.replace(",", "").replace("_", "").replace(" ", "")
    if digits.isdigit() and int(digits) <= ec.SEED_MAX:
        page.seed_error = None
        if int(digits) != page.view.seed:
            set_seed(page, int(digits))
        ss.ex_seed_text = str(page.view.seed)
        return
    shown = typed if len(typed) <= 30 else typed[:27] + "..."
    what = f"Seed {shown!r} cannot be used" if typed else "The seed box is empty"
    page.seed_error = (f"{what}: a seed is a whole number from 0 to {ec.SEED_MAX:,}. "
                       f"Still showing seed {page.view.seed}.")
    page.seed_error_view = page.view
    ss.ex_seed_text = str(page.view.seed)


def seed_error(page: ExplorePage) -> str | None:
    """The refused seed's message, while the view is still the one it was about (any change clears it)."""
    if page.seed_error and page.seed_error_view != page.view:
        page.seed_error = page.seed_error_view = None
    return page.seed_error


def on_random(page: ExplorePage) -> None:
    page.seed_error = None
    set_seed(page, random.randrange(ec.RANDOM_SEEDS))


def on_reset(page: ExplorePage) -> None:
    """Back to the seed's own sample (or the drawing's projection): latent edits, directions and truncation
    undone."""
    page.notices = []
    apply_view(page, replace(page.view, truncation=1.0, z={}, dirs={}))


def on_class(page: ExplorePage) -> None:
    page.view = replace(page.view, cls=int(ss.ex_class))


def on_trunc(page: ExplorePage) -> None:
    page.view = replace(page.view, truncation=float(ss.ex_trunc))


def on_latent_move(fragment: str) -> None:
    """A latent or direction slider moved: rerun only the fragment that draws the sample (its key).

    The sliders' own fragment is not rerun, so its sliders are not sent again; the sample's fragment reads
    their values (take_slider_values) before it draws. A full run (the whole page rerunning, or AppTest)
    draws the sample anyway and is left as it is.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None and ctx.fragment_ids_this_run:
        st.rerun(scope=fragment)


def on_upload(page: ExplorePage) -> None:
    """Validate an uploaded .safetensors + .json pair; save it in the session folder only when it loads."""
    files = ss.get("ex_upload") or []
    page.upload_message = None
    if not files:
        return
    by_suffix: dict[str, list] = {}
    for f in files:
        by_suffix.setdefault(Path(f.name).suffix.lower(), []).append(f)
    others = [f.name for f in files if Path(f.name).suffix.lower() not in CHECKPOINT_SUFFIXES]
    if others:
        names = ", ".join(repr(n[:60]) for n in others[:3])
        pickled = any(Path(n).suffix.lower() in PICKLE_SUFFIXES for n in others)
        page.upload_message = ("error", f"{names} {'is' if len(others) == 1 else 'are'} not a checkpoint file. "
                                        "Upload the two files of one checkpoint: NAME.safetensors (the weights) "
                                        "and NAME.json (its description), as saved on the Train page or by "
                                        "`gan train`."
                               + (" Pickled files (.pt, .pth, .ckpt) are never loaded: loading them can run code."
                                  if pickled else ""))
        return
    weights, meta = by_suffix.get(".safetensors", []), by_suffix.get(".json", [])
    if len(weights) != 1 or len(meta) != 1 or len(files) != 2:
        page.upload_message = ("error", "Upload exactly two files: one NAME.safetensors (weights) and one "
                                        "NAME.json (its description). Pickled .pt/.pth/.ckpt files are never "
                                        "accepted.")
        return
    try:
        label, _ = shared_models.save_upload(weights[0].getvalue(), meta[0].getvalue(), Path(weights[0].name).stem)
    except (ValueError, OSError) as exc:  # CheckpointError (a ValueError) says what is wrong; OSError: disk
        page.upload_message = ("error", f"Could not use this upload: {exc}")
        return
    ss.ex_model = label
    on_model_change(page)
    page.upload_message = ("success", f"Loaded {weights[0].name}; it is now in the model list as {label!r}.")


def share_caption(model: str) -> str:
    """The line under the page: what a copied link reopens, and for whom (a session model is not shared)."""
    text = ("Share: the address bar holds this page's state (model, seed, class, sliders, truncation, and the z "
            "of a projected drawing) — copy the link to reopen this exact image.")
    if model.startswith("session: "):
        text += (f" Note: {model.removeprefix('session: ')} is only on this server, in this browser session. "
                 f"The link reopens it only here; anyone else who opens it gets {DEFAULT_MODEL} instead. To share "
                 "the model itself, download its checkpoint on the Train page and upload it here.")
    return text


def take_slider_values(page: ExplorePage, base: list[float], n_directions: int) -> None:
    """Copy the latent and direction sliders' values into the view before the sliders are drawn.

    A moved slider's new value is in session state when the run starts, so the page can draw the sample
    first: its image message then leaves the server before the slider messages, not after them.
    """
    z, dirs = dict(page.view.z), dict(page.view.dirs)
    for key in [k for k in ss if isinstance(k, str) and k.startswith(SLIDER_PREFIXES)]:
        prefix, _, index = key.rpartition("_")
        if not index.isdigit():
            continue
        i, value = int(index), float(ss[key])
        if prefix == "ex_z" and i < len(base):
            if abs(value - base[i]) > 1e-6:
                z[i] = value
            else:
                z.pop(i, None)
        elif prefix == "ex_dir" and i < n_directions:
            if value:
                dirs[i] = value
            else:
                dirs.pop(i, None)
    if z != page.view.z or dirs != page.view.dirs:
        page.view = replace(page.view, z=z, dirs=dirs)


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
