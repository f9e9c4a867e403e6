"""The set-up form of a training run: its widgets, presets, the ?preset= link and a zip upload.

Defaults come from `TrainConfig`, presets from `gan_core.teach.presets`. Widget values live in
session state under the page's `FormScope`; `read_form` turns them into a validated TrainConfig.

The preset box always names what the form holds: picking a preset fills the form at once, a link's
?preset= selects its preset in the box, the first visit shows "Defaults" (the form's TrainConfig
defaults), and once a field differs from what was loaded the box reads "custom (from ...)". Start
reads the form, so it trains what the screen shows.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st

from app_shared.session import safe_name, session_dir
from app_shared.training_ui.scope import FormScope
from gan_core import IMAGE_DATASETS, LOSS_NAMES, MODEL_NAMES, TOY_DATASETS, TrainConfig
from gan_core.io.safety import UnsafeInputError, extract_image_zip
from gan_core.teach.presets import PRESETS, Preset, get_preset

IMAGE_MODELS = tuple(m for m in MODEL_NAMES if m != "toy")
FORM_FIELDS = ("dataset", "model", "loss", "lr_g", "lr_d", "beta1", "beta2", "batch_size", "z_dim", "n_critic",
               "gp_weight", "r1_gamma", "label_smoothing", "augment", "ema_decay", "seed", "device", "steps",
               "seconds", "data_limit", "eval_every", "snapshot_every", "log_every")
WHOLE_NUMBER_FIELDS = ("batch_size", "z_dim", "n_critic", "steps", "data_limit", "eval_every", "snapshot_every",
                       "log_every", "seed")
DEFAULTS, CUSTOM = "defaults", "custom"  # preset-box entries besides the presets' slugs
SETUP_PANEL, DATA_PANEL = "setup_open", "data_open"  # the keyed (stateful) panels that hold the form


def init_form(scope: FormScope) -> None:
    """Give each form widget its TrainConfig default once per session."""
    default = TrainConfig()
    saved = st.session_state.setdefault(scope.key("form"), {})  # a plain dict survives other pages' runs
    for name in FORM_FIELDS:
        # re-assigning keeps the value when the widget is not drawn (presenter mode); Streamlit drops
        # widget values after a run of another page, so they come back from `saved`
        value = scope.get(name) if scope.has(name) else saved.get(name, getattr(default, name))
        scope.set(name, value)
        saved[name] = value
    if not scope.has("preset_form"):  # first visit: the form holds the defaults, and the box says so
        scope.set("preset", DEFAULTS)
        scope.set("preset_form", form_values(scope))


def form_values(scope: FormScope) -> dict:
    return {name: scope.get(name) for name in FORM_FIELDS}


def _same(a: object, b: object) -> bool:
    """Equal form values (a number box may hand back 64.0 for 64)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def changed_fields(scope: FormScope) -> list[str]:
    """The fields that differ from what the last preset (or the defaults) put into the form."""
    loaded = scope.get("preset_form") or {}
    return [name for name, value in form_values(scope).items() if not _same(value, loaded.get(name))]


def load_preset(scope: FormScope, preset: Preset | None) -> None:
    """Fill the form with a preset, or with TrainConfig's defaults for None (fields a preset does not set go
    back to the defaults), and remember what was loaded so the box can tell an edited form."""
    cfg = TrainConfig(**preset.settings) if preset is not None else TrainConfig()
    for name in FORM_FIELDS:
        scope.set(name, getattr(cfg, name))
    scope.set("preset", preset.slug if preset is not None else DEFAULTS)
    scope.set("preset_form", form_values(scope))


def apply_query_preset(scope: FormScope) -> Preset | None:
    """Honour ?preset=<slug> once per slug; an unknown slug gets a message and changes nothing."""
    slug = st.query_params.get("preset")
    if not slug:
        return None
    preset = get_preset(slug)
    if preset is None:
        st.warning(f"Unknown preset {str(slug)[:40]!r}. Known presets: {', '.join(PRESETS)}.")
        return None
    if scope.get("query_preset") != preset.slug:
        load_preset(scope, preset)
        scope.set("query_preset", preset.slug)
    return preset


def read_form(scope: FormScope) -> TrainConfig:
    """The TrainConfig the form describes; raises ValueError with a one-line message when invalid."""
    values = {name: scope.get(name) for name in FORM_FIELDS}
    for name in WHOLE_NUMBER_FIELDS:
        value = values[name]
        if isinstance(value, float):
            if not np.isfinite(value) or value != int(value):
                raise ValueError(f"{name} must be a whole number, got {value}")
            values[name] = int(value)
    if values["eval_every"] is None or values["eval_every"] < 0:
        values["eval_every"] = 0
    if values["data_limit"] is not None and values["data_limit"] < 1:
        raise ValueError(f"data_limit must be at least 1, got {values['data_limit']}")
    cfg = TrainConfig(**values).validate()
    if cfg.dataset == scope.get("folder") and scope.get("folder_images"):  # an uploaded zip: its size is known
        images = min(scope.get("folder_images"), cfg.data_limit or scope.get("folder_images"))
        batch = cfg.resolved().batch_size
        if batch > images:
            raise ValueError(f"the uploaded dataset has {images} images, fewer than the batch size {batch}. "
                             f"Set the batch size to {images} or less, or upload more images")
    return cfg


def _models_for(dataset: str) -> list[str | None]:
    return [None, "toy"] if dataset in TOY_DATASETS else [None, *IMAGE_MODELS]


def dataset_label(name: str) -> str:
    return f"uploaded: {Path(name[len('folder:'):]).name}" if name.startswith("folder:") else name


MIN_ZIP_IMAGES = 2  # a batch of real images needs at least two


def upload_zip_widget(scope: FormScope) -> None:
    """A zip of images (class sub-folders become labels) → extracted safely into this session's folder.

    Its message is shown right under it: a message at the top of the page moved the panels below it, and
    Streamlit then redrew this panel collapsed, hiding the uploader (the panels are keyed now too).
    """
    st.file_uploader("Upload a zip of images (sub-folders = classes)", type=["zip"], key=scope.key("zip"),
                     on_change=_on_zip, args=(scope,))
    message = scope.get("zip_msg")
    if message:
        getattr(st, message[0])(message[1])


def _on_zip(scope: FormScope) -> None:
    upload = scope.get("zip")
    scope.set("zip_msg", None)
    scope.set(SETUP_PANEL, True)  # keep the panels that hold the uploader open after this rerun
    scope.set(DATA_PANEL, True)
    if upload is None:
        return
    dest = session_dir() / "uploads" / safe_name(Path(upload.name).stem, "images")
    try:
        count = extract_image_zip(upload.getvalue(), dest)
    except UnsafeInputError as exc:
        scope.set("zip_msg", ("error", f"That zip was not used: {exc}"))
        return
    if count < MIN_ZIP_IMAGES:
        shutil.rmtree(dest, ignore_errors=True)
        scope.set("zip_msg", ("error", f"That zip was not used: it holds {count} image; a GAN needs at least "
                                       f"{MIN_ZIP_IMAGES} (and learns little from fewer than a few hundred)."))
        return
    scope.set("folder", f"folder:{dest}")
    scope.set("folder_images", count)
    scope.set("dataset", f"folder:{dest}")
    scope.set("model", None)
    text = f"Extracted {count} images; dataset set to {dataset_label(f'folder:{dest}')}."
    batch = scope.get("batch_size") or TrainConfig(dataset=f"folder:{dest}").resolved().batch_size
    if batch > count:  # a batch is drawn from the dataset: it cannot be larger
        scope.set("batch_size", count)
        text += f" A batch cannot hold more images than the dataset, so the batch size is now {count} (was {batch})."
    scope.set("zip_msg", ("success", text))


def config_form(scope: FormScope, toy_only: bool = False) -> None:
    """Draw the set-up widgets (their values live in session state under the scope's keys)."""
    k = scope.key
    datasets = list(TOY_DATASETS) + ([] if toy_only else list(IMAGE_DATASETS))
    folder = scope.get("folder")
    if folder and not toy_only:
        datasets.append(folder)
    if scope.get("dataset") not in datasets:
        scope.set("dataset", datasets[0])
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Dataset", datasets, key=k("dataset"), format_func=dataset_label)
    dataset = scope.get("dataset")
    auto = replace(TrainConfig(), dataset=dataset, loss=scope.get("loss", "nonsaturating"),
                   model=None, z_dim=None, batch_size=None, n_critic=None).resolved()
    models = _models_for(dataset)
    if scope.get("model") not in models:
        scope.set("model", None)
    # what lr and EMA "auto" mean for the model picked
    picked = replace(auto, model=scope.get("model") or auto.model, lr_g=None, lr_d=None, ema_decay=None).resolved()
    c2.selectbox("Model", models, key=k("model"), placeholder=f"auto ({auto.model})",
                 format_func=lambda m: f"auto ({auto.model})" if m is None else m)
    c3.selectbox("Loss", LOSS_NAMES, key=k("loss"),
                 help="minimax: the original saturating loss; nonsaturating: −log D(G(z)); wgan-gp: critic + "
                      "gradient penalty with n_critic critic steps")
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("lr G", step=1e-4, format="%.1e", key=k("lr_g"), placeholder=f"auto ({picked.lr_g:g})")
    c2.number_input("lr D", step=1e-4, format="%.1e", key=k("lr_d"), placeholder=f"auto ({picked.lr_d:g})")
    c3.number_input("Adam β1", step=0.05, format="%.2f", key=k("beta1"))
    c4.number_input("Adam β2", step=0.001, format="%.3f", key=k("beta2"))
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Batch size", step=1, key=k("batch_size"), placeholder=f"auto ({auto.batch_size})")
    c2.number_input("z dim", step=1, key=k("z_dim"), placeholder=f"auto ({auto.z_dim})")
    c3.number_input("n_critic (D steps per G step)", step=1, key=k("n_critic"),
                    placeholder=f"auto ({auto.n_critic})")
    c4.number_input("Gradient-penalty weight", step=1.0, key=k("gp_weight"))
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Label smoothing (one-sided)", step=0.05, format="%.2f", key=k("label_smoothing"))
    c2.number_input("R1 γ", step=0.5, key=k("r1_gamma"))
    c3.number_input("EMA decay (0 = off)", step=0.001, format="%.3f", key=k("ema_decay"),
                    placeholder=f"auto ({picked.ema_decay:g})")
    c4.checkbox("DiffAugment (images)", key=k("augment"))
    with st.expander("Budget, data and logging", key=scope.key(DATA_PANEL), on_change="rerun"):
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input("Steps budget (empty = until stopped)", step=100, key=k("steps"), placeholder="none")
        c2.number_input("Seconds budget", step=10.0, key=k("seconds"), placeholder="none")
        c3.number_input("Use first N images", step=1000, key=k("data_limit"), placeholder="all")
        c4.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key=k("device"))
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input("Quality metrics every N steps (0 = off)", step=100, key=k("eval_every"))
        c2.number_input("Snapshot every N steps", step=10, key=k("snapshot_every"))
        c3.number_input("Record metrics every N steps", step=1, key=k("log_every"))
        c4.number_input("Seed", step=1, key=k("seed"))
        if not toy_only:
            upload_zip_widget(scope)


def preset_label(slug: str, origin: str) -> str:
    """What the box shows for an entry: a preset's title, the defaults, or the edited form's origin."""
    if slug == DEFAULTS:
        cfg = TrainConfig()
        return f"Defaults: {cfg.dataset} · {cfg.loss}"
    if slug == CUSTOM:
        return f"custom (from {preset_label(origin, origin)})"
    return PRESETS[slug].title if slug in PRESETS else slug


def preset_picker(scope: FormScope, presets: list[Preset]) -> None:
    """The preset box: picking an entry fills the form at once; it always names what the form holds."""
    origin = scope.get("preset", DEFAULTS)
    edited = changed_fields(scope)
    options = [DEFAULTS] + [p.slug for p in presets]
    if origin not in options:  # a link to another page's preset
        options.insert(1, origin)
    if edited:
        options.append(CUSTOM)
    scope.set("preset_pick", CUSTOM if edited else origin)  # the box follows the form, whatever changed it
    st.selectbox("Preset", options, key=scope.key("preset_pick"), on_change=_on_pick, args=(scope,),
                 format_func=lambda s: preset_label(s, origin),
                 help="Picking a preset fills the form below at once; Start trains what the form shows.")
    if edited:
        st.caption(f"You changed {', '.join(edited)} since loading {preset_label(origin, origin)}: Start trains "
                   "the form as it is now. Pick a preset again to go back to it.")
    elif origin in PRESETS:
        st.caption(PRESETS[origin].description)
    else:
        st.caption("TrainConfig's defaults. Pick a preset to fill the form with a tried set-up.")


def _on_pick(scope: FormScope) -> None:
    slug = scope.get("preset_pick")
    if slug != CUSTOM:
        load_preset(scope, PRESETS.get(slug))  # DEFAULTS (or an unknown slug) loads the defaults


def presenter_css(on: bool) -> None:
    """Bigger fonts for a projector."""
    if on:
        st.html("<style>.stMarkdown p, .stCaption p, label p, button p, .stAlert p "
                "{font-size: 1.35rem !important; line-height: 1.5;}</style>")
