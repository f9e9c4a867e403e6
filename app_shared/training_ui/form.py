"""The set-up form of a training run: its widgets, presets, the ?preset= link and a zip upload.

The form is derived from `TrainConfig`'s fields, as the command line's flags are: every field gets a widget
(FORM_FIELDS) except the few in FORM_EXCLUDED, each with its reason. Fields the layout below places get a label,
step and hint; a field added to TrainConfig later still appears, drawn by its type under "More settings", until
it is placed. Defaults come from `TrainConfig`, presets from `gan_core.teach.presets`. Widget values live in
session state under the page's `FormScope`; `read_form` turns them into a TrainConfig, and
`TrainConfig.validate` says what is wrong with one.

The preset box always names what the form holds: picking a preset fills the form at once, a link's
?preset= selects its preset in the box, the first visit shows "Defaults" (the form's TrainConfig
defaults), and once a field differs from what was loaded the box reads "custom (from ...)". Start
reads the form, so it trains what the screen shows.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from app_shared.session import safe_name, session_dir
from app_shared.training_ui.scope import FormScope
from gan_core import IMAGE_DATASETS, LOSS_NAMES, MODEL_NAMES, TOY_DATASETS, TrainConfig
from gan_core.data.colour import folder_is_colour
from gan_core.io.safety import UnsafeInputError, extract_image_zip
from gan_core.teach.presets import PRESETS, Preset, get_preset
from gan_core.train.config import OPTIMIZER_NAMES

IMAGE_MODELS = tuple(m for m in MODEL_NAMES if m != "toy")
# The TrainConfig fields the form leaves out, and why; every other field is a form field
FORM_EXCLUDED = {
    "data_dir": "where the server keeps its data is the server's setting (GAN_DATA_DIR), not a student's",
    "num_threads": "the server gives each job its CPU threads (one job must not take every core)",
}
CONFIG_FIELDS = {f.name: f for f in fields(TrainConfig)}
FORM_FIELDS = tuple(name for name in CONFIG_FIELDS if name not in FORM_EXCLUDED)
WHOLE_NUMBER_FIELDS = tuple(n for n in FORM_FIELDS if str(CONFIG_FIELDS[n].type).startswith("int"))
OPTIONAL_FIELDS = tuple(n for n in FORM_FIELDS if "None" in str(CONFIG_FIELDS[n].type))


@dataclass(frozen=True)
class NumberBox:
    """How one number field is drawn: its label, step and format, and what an empty box ("auto") means."""

    label: str
    step: float = 1
    format: str | None = None
    help: str | None = None
    auto: Callable[[TrainConfig], Any] | None = None  # the resolved value an empty box stands for
    empty: str | None = None  # the placeholder of an empty box with no auto value


NUMBER_BOXES = {
    "lr_g": NumberBox("lr G", 1e-4, "%.1e", auto=lambda c: c.lr_g),
    "lr_d": NumberBox("lr D", 1e-4, "%.1e", auto=lambda c: c.lr_d),
    "beta1": NumberBox("Adam β1", 0.05, "%.2f", "G's β1, and D's unless D's is set", auto=lambda c: c.beta1),
    "beta2": NumberBox("Adam β2", 0.001, "%.3f"),
    "beta1_d": NumberBox("Adam β1 of D", 0.05, "%.2f", "Empty: as G's", empty="as G's"),
    "lr_decay": NumberBox("lr decay (share of the budget)", 0.05, "%.2f",
                          "Both lrs fall linearly to 0 over this last share of the steps or seconds budget; 0 = "
                          "constant (needs a budget)"),
    "batch_size": NumberBox("Batch size", auto=lambda c: c.batch_size),
    "z_dim": NumberBox("z dim", auto=lambda c: c.z_dim),
    "n_critic": NumberBox("n_critic (D steps per G step)", auto=lambda c: c.n_critic),
    "gp_weight": NumberBox("Gradient-penalty weight", 1.0),
    "label_smoothing": NumberBox("Label smoothing (one-sided)", 0.05, "%.2f"),
    "r1_gamma": NumberBox("R1 γ", 0.5),
    "ema_decay": NumberBox("EMA decay (0 = off)", 0.001, "%.3f", auto=lambda c: c.ema_decay),
    "toy_hidden": NumberBox("Toy net width", 8, help="Units in each hidden layer of the 2-D toy's G and D"),
    "toy_depth": NumberBox("Toy net depth", help="Hidden layers of the 2-D toy's G and D"),
    "steps": NumberBox("Steps budget (empty = until stopped)", 100, empty="none"),
    "seconds": NumberBox("Seconds budget", 10.0, empty="none"),
    "data_limit": NumberBox("Use first N images", 1000, empty="all"),
    "eval_every": NumberBox("Quality metrics every N steps (0 = off)", 100),
    "snapshot_every": NumberBox("Snapshot every N steps", 10),
    "log_every": NumberBox("Record metrics every N steps"),
    "seed": NumberBox("Seed"),
}
CHOICES = {"loss": ("Loss", LOSS_NAMES, "minimax: the original saturating loss; nonsaturating: −log D(G(z)); wgan-gp: "
                                        "critic + gradient penalty with n_critic critic steps"),
           "optimizer_g": ("Optimiser of G", OPTIMIZER_NAMES, "adam, or plain sgd (no momentum)"),
           "optimizer_d": ("Optimiser of D", OPTIMIZER_NAMES, "adam, or plain sgd (no momentum)"),
           "device": ("Device", ("auto", "cpu", "cuda", "mps"), None)}
CHECKBOXES = {"augment": ("DiffAugment (images)", None),
              "folder_rgb": ("Uploaded images in colour", "Train on the uploaded images as 32×32 RGB instead of 28×28 "
                                                          "grey. Ticked by itself when a zip of colour images is "
                                                          "uploaded; untick it to train in grey.")}
# Where each field sits: the first row (dataset, model, loss) is drawn by hand
MAIN_ROWS = (("lr_g", "lr_d", "beta1", "beta2"), ("optimizer_g", "optimizer_d", "beta1_d", "lr_decay"),
             ("batch_size", "z_dim", "n_critic", "gp_weight"), ("label_smoothing", "r1_gamma", "ema_decay", "augment"))
TOY_ROW = ("toy_hidden", "toy_depth")  # drawn for 2-D datasets only
BUDGET_ROWS = (("steps", "seconds", "data_limit", "device"), ("eval_every", "snapshot_every", "log_every", "seed"))
UPLOAD_FIELDS = ("folder_rgb",)  # beside the zip upload (not on toy-only forms)
PLACED = ("dataset", "model", "loss", *sum(MAIN_ROWS, ()), *TOY_ROW, *sum(BUDGET_ROWS, ()), *UPLOAD_FIELDS)
UNPLACED = tuple(n for n in FORM_FIELDS if n not in PLACED)  # new TrainConfig fields: drawn by type
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
    """The TrainConfig the form describes; raises ValueError with a one-line message when invalid (for a bad value,
    TrainConfig.validate's own message)."""
    values = {name: scope.get(name) for name in FORM_FIELDS}
    if values["eval_every"] is None:  # an empty box: no quality metrics
        values["eval_every"] = 0
    for name in FORM_FIELDS:
        value = values[name]
        if value is None and name not in OPTIONAL_FIELDS:
            raise ValueError(f"{_label(name)} needs a value")
        if name in WHOLE_NUMBER_FIELDS and isinstance(value, float):
            if not np.isfinite(value) or value != int(value):
                raise ValueError(f"{name} must be a whole number, got {value}")
            values[name] = int(value)
    cfg = TrainConfig(**values).validate()
    if cfg.dataset == scope.get("folder") and scope.get("folder_images"):  # an uploaded zip: its size is known
        images = min(scope.get("folder_images"), cfg.data_limit or scope.get("folder_images"))
        batch = cfg.resolved().batch_size
        if batch > images:
            raise ValueError(f"the uploaded dataset has {images} images, fewer than the batch size {batch}. "
                             f"Set the batch size to {images} or less, or upload more images")
    return cfg


def _label(name: str) -> str:
    for table in (NUMBER_BOXES, CHOICES, CHECKBOXES):
        if name in table:
            entry = table[name]
            return entry.label if isinstance(entry, NumberBox) else entry[0]
    return name


def _models_for(dataset: str) -> list[str | None]:
    return [None, "toy"] if dataset in TOY_DATASETS else [None, *IMAGE_MODELS]


def dataset_label(name: str) -> str:
    return f"uploaded: {Path(name[len('folder:'):]).name}" if name.startswith("folder:") else name


MIN_ZIP_IMAGES = 2  # a batch of real images needs at least two
FEW_IMAGES = TrainConfig(dataset="folder:x").resolved().batch_size  # fewer than one default batch: warned


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
    colour = folder_is_colour(dest)
    scope.set("folder_rgb", colour)  # a colour folder trains in colour (the box below can say otherwise)
    text = (f"Extracted {count} images ({'colour' if colour else 'greyscale'}); dataset set to "
            f"{dataset_label(f'folder:{dest}')}, trained as {'32×32 RGB' if colour else '28×28 grey'}.")
    batch = scope.get("batch_size") or TrainConfig(dataset=f"folder:{dest}").resolved().batch_size
    if batch > count:  # a batch is drawn from the dataset: it cannot be larger
        scope.set("batch_size", count)
        text += f" A batch cannot hold more images than the dataset, so the batch size is now {count} (was {batch})."
    if count < FEW_IMAGES:
        scope.set("zip_msg", ("warning", f"{text} That is fewer images than one batch of {FEW_IMAGES}: a GAN trains "
                                         "on so few, but its generator can only learn to copy them. A few hundred "
                                         "images or more teach it far more."))
        return
    scope.set("zip_msg", ("success", text))


def _field_widget(container: Any, scope: FormScope, name: str, picked: TrainConfig) -> None:
    """Draw one field's widget: a number box, a choice, a checkbox, or (a field not placed yet) one by its type."""
    key = scope.key(name)
    if name in NUMBER_BOXES:
        box = NUMBER_BOXES[name]
        placeholder = f"auto ({box.auto(picked):g})" if box.auto is not None else box.empty
        container.number_input(box.label, step=box.step, format=box.format, key=key, placeholder=placeholder,
                               help=box.help)
    elif name in CHOICES:
        label, options, help_text = CHOICES[name]
        container.selectbox(label, options, key=key, help=help_text)
    elif name in CHECKBOXES:
        label, help_text = CHECKBOXES[name]
        container.checkbox(label, key=key, help=help_text)
    else:
        kind = str(CONFIG_FIELDS[name].type)
        if kind.startswith("bool"):
            container.checkbox(name, key=key)
        elif kind.startswith(("int", "float")):
            container.number_input(name, step=1 if kind.startswith("int") else 0.1, key=key,
                                   placeholder="auto" if name in OPTIONAL_FIELDS else None)
        else:
            container.text_input(name, key=key)


def _field_rows(scope: FormScope, rows: tuple[tuple[str, ...], ...], picked: TrainConfig) -> None:
    for row in rows:
        for container, name in zip(st.columns(4), row, strict=False):
            _field_widget(container, scope, name, picked)


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
    loss = scope.get("loss") or TrainConfig.loss
    auto = replace(TrainConfig(), dataset=dataset, loss=loss).resolved()  # what "auto" means for this data
    models = _models_for(dataset)
    if scope.get("model") not in models:
        scope.set("model", None)
    picked = replace(TrainConfig(), dataset=dataset, loss=loss, model=scope.get("model")).resolved()
    c2.selectbox("Model", models, key=k("model"), placeholder=f"auto ({auto.model})",
                 format_func=lambda m: f"auto ({auto.model})" if m is None else m)
    _field_widget(c3, scope, "loss", picked)
    _field_rows(scope, MAIN_ROWS, picked)
    if dataset in TOY_DATASETS:
        _field_rows(scope, (TOY_ROW,), picked)
    if UNPLACED:
        st.caption("More settings")
        _field_rows(scope, tuple(UNPLACED[i:i + 4] for i in range(0, len(UNPLACED), 4)), picked)
    with st.expander("Budget, data and logging", key=scope.key(DATA_PANEL), on_change="rerun"):
        _field_rows(scope, BUDGET_ROWS, picked)
        if not toy_only:
            upload_zip_widget(scope)
            for name in UPLOAD_FIELDS:
                _field_widget(st, scope, name, picked)


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
