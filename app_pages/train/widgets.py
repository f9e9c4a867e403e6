"""Streamlit pieces shared by the Train page and the 2-D playground.

The set-up form (defaults from `TrainConfig`, presets from `gan_core.teach.presets`), the job controls
(Start / Pause / Resume / Step / Stop, live learning rate), the live panel's data, samples, the
timeline + GIF, saving and forking. One job per browser session: it lives in
`st.session_state["job"]` and in the process-wide registry (app_shared.jobs). Button actions run
as on_click callbacks, so every button is drawn with the state its action produced.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from app_shared.jobs import ServerBusyError, browser_session_id, job_registry
from app_shared.session import safe_name, session_dir, session_id
from gan_core import IMAGE_DATASETS, LOSS_NAMES, MODEL_NAMES, TOY_DATASETS, TrainConfig, WorkerJob
from gan_core.eval.diagnostics import Diagnosis, diagnose, toy_spread
from gan_core.io.images import gif_bytes, grid, png_bytes, points_png
from gan_core.io.safety import UnsafeInputError, extract_image_zip
from gan_core.teach.presets import PRESETS, Preset, get_preset
from gan_core.train.trainer import LIVE_HPARAMS

JOB_KEY = "job"
RUNS_KEY = "past_runs"
MAX_PAST_RUNS = 6
IMAGE_MODELS = tuple(m for m in MODEL_NAMES if m != "toy")
FORM_FIELDS = ("dataset", "model", "loss", "lr_g", "lr_d", "beta1", "beta2", "batch_size", "z_dim", "n_critic",
               "gp_weight", "r1_gamma", "label_smoothing", "augment", "ema_decay", "seed", "device", "steps",
               "seconds", "data_limit", "eval_every", "snapshot_every", "log_every")


# ---------------------------------------------------------------- the session's job

def session_job() -> WorkerJob | None:
    return st.session_state.get(JOB_KEY)


def past_runs() -> list[dict[str, Any]]:
    return st.session_state.setdefault(RUNS_KEY, [])


def run_label(cfg: TrainConfig, n: int) -> str:
    return f"run {n}: {cfg.dataset.split('/')[-1]} · {cfg.loss} · lr {cfg.lr_g:g}/{cfg.lr_d:g}"


def archive_job(job: WorkerJob | None) -> None:
    """Keep an ended or replaced run's curves in the session for overlaying."""
    if job is None or job.history is None or not len(job.history):
        return
    runs = past_runs()
    if any(r.get("job_id") == id(job) for r in runs):
        return
    runs.append({"job_id": id(job), "label": run_label(job.trainer.config, len(runs) + 1),
                 "rows": job.history.rows(), "evals": job.history.evals()})
    del runs[:-MAX_PAST_RUNS]


def start_job(config: TrainConfig, init_from: str | None = None) -> WorkerJob:
    """Start this session's job through the registry (raises ServerBusyError at the cap)."""
    old = session_job()
    if old is not None:
        old.stop()
        archive_job(old)
    job = job_registry().start(session_id(), config=config, init_from=init_from,
                               browser_session=browser_session_id())
    st.session_state[JOB_KEY] = job
    return job


# ---------------------------------------------------------------- the set-up form

def _k(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def init_form(prefix: str) -> None:
    """Give each form widget its TrainConfig default once per session."""
    default = TrainConfig()
    saved = st.session_state.setdefault(_k(prefix, "form"), {})  # a plain dict survives other pages' runs
    for name in FORM_FIELDS:
        key = _k(prefix, name)
        # re-assigning keeps the value when the widget is not drawn (presenter mode); Streamlit drops
        # widget values after a run of another page, so they come back from `saved`
        value = st.session_state[key] if key in st.session_state else saved.get(name, getattr(default, name))
        st.session_state[key] = saved[name] = value


def load_preset(prefix: str, preset: Preset) -> None:
    """Fill the form with a preset (fields it does not set go back to TrainConfig's defaults)."""
    cfg = TrainConfig(**preset.settings)
    for name in FORM_FIELDS:
        st.session_state[_k(prefix, name)] = getattr(cfg, name)
    st.session_state[_k(prefix, "preset")] = preset.slug


def apply_query_preset(prefix: str) -> Preset | None:
    """Honour ?preset=<slug> once per slug; an unknown slug gets a message and changes nothing."""
    slug = st.query_params.get("preset")
    if not slug:
        return None
    preset = get_preset(slug)
    if preset is None:
        st.warning(f"Unknown preset {str(slug)[:40]!r}. Known presets: {', '.join(PRESETS)}.")
        return None
    if st.session_state.get(_k(prefix, "query_preset")) != preset.slug:
        load_preset(prefix, preset)
        st.session_state[_k(prefix, "query_preset")] = preset.slug
    return preset


def read_form(prefix: str) -> TrainConfig:
    """The TrainConfig the form describes; raises ValueError with a one-line message when invalid."""
    values = {name: st.session_state.get(_k(prefix, name)) for name in FORM_FIELDS}
    for name in ("batch_size", "z_dim", "n_critic", "steps", "data_limit", "eval_every", "snapshot_every",
                 "log_every", "seed"):
        value = values[name]
        if isinstance(value, float):
            if not np.isfinite(value) or value != int(value):
                raise ValueError(f"{name} must be a whole number, got {value}")
            values[name] = int(value)
    if values["eval_every"] is None or values["eval_every"] < 0:
        values["eval_every"] = 0
    if values["data_limit"] is not None and values["data_limit"] < 1:
        raise ValueError(f"data_limit must be at least 1, got {values['data_limit']}")
    return TrainConfig(**values).validate()


def _models_for(dataset: str) -> list[str | None]:
    return [None, "toy"] if dataset in TOY_DATASETS else [None, *IMAGE_MODELS]


def dataset_label(name: str) -> str:
    return f"uploaded: {Path(name[len('folder:'):]).name}" if name.startswith("folder:") else name


def upload_zip_widget(prefix: str) -> None:
    """A zip of images (class sub-folders become labels) → extracted safely into this session's folder."""
    st.file_uploader("Upload a zip of images (sub-folders = classes)", type=["zip"], key=_k(prefix, "zip"),
                     on_change=_on_zip, args=(prefix,))


def _on_zip(prefix: str) -> None:
    upload = st.session_state.get(_k(prefix, "zip"))
    if upload is None:
        return
    dest = session_dir() / "uploads" / safe_name(Path(upload.name).stem, "images")
    try:
        count = extract_image_zip(upload.getvalue(), dest)
    except UnsafeInputError as exc:
        _flash(prefix, "error", f"That zip was not used: {exc}")
        return
    st.session_state[_k(prefix, "folder")] = f"folder:{dest}"
    st.session_state[_k(prefix, "dataset")] = f"folder:{dest}"
    st.session_state[_k(prefix, "model")] = None
    _flash(prefix, "success", f"Extracted {count} images; dataset set to {dataset_label(f'folder:{dest}')}.")


def config_form(prefix: str, toy_only: bool = False) -> None:
    """Draw the set-up widgets (their values live in session state under prefix)."""
    datasets = list(TOY_DATASETS) + ([] if toy_only else list(IMAGE_DATASETS))
    folder = st.session_state.get(_k(prefix, "folder"))
    if folder and not toy_only:
        datasets.append(folder)
    key_ds = _k(prefix, "dataset")
    if st.session_state.get(key_ds) not in datasets:
        st.session_state[key_ds] = datasets[0]
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Dataset", datasets, key=key_ds, format_func=dataset_label)
    dataset = st.session_state[key_ds]
    auto = replace(TrainConfig(), dataset=dataset, loss=st.session_state.get(_k(prefix, "loss"), "nonsaturating"),
                   model=None, z_dim=None, batch_size=None, n_critic=None).resolved()
    models = _models_for(dataset)
    if st.session_state.get(_k(prefix, "model")) not in models:
        st.session_state[_k(prefix, "model")] = None
    c2.selectbox("Model", models, key=_k(prefix, "model"), placeholder=f"auto ({auto.model})",
                 format_func=lambda m: f"auto ({auto.model})" if m is None else m)
    c3.selectbox("Loss", LOSS_NAMES, key=_k(prefix, "loss"),
                 help="minimax: the original saturating loss; nonsaturating: −log D(G(z)); wgan-gp: critic + "
                      "gradient penalty with n_critic critic steps")
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("lr G", step=1e-4, format="%.1e", key=_k(prefix, "lr_g"))
    c2.number_input("lr D", step=1e-4, format="%.1e", key=_k(prefix, "lr_d"))
    c3.number_input("Adam β1", step=0.05, format="%.2f", key=_k(prefix, "beta1"))
    c4.number_input("Adam β2", step=0.001, format="%.3f", key=_k(prefix, "beta2"))
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Batch size", step=1, key=_k(prefix, "batch_size"), placeholder=f"auto ({auto.batch_size})")
    c2.number_input("z dim", step=1, key=_k(prefix, "z_dim"), placeholder=f"auto ({auto.z_dim})")
    c3.number_input("n_critic (D steps per G step)", step=1, key=_k(prefix, "n_critic"),
                    placeholder=f"auto ({auto.n_critic})")
    c4.number_input("Gradient-penalty weight", step=1.0, key=_k(prefix, "gp_weight"))
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Label smoothing (one-sided)", step=0.05, format="%.2f", key=_k(prefix, "label_smoothing"))
    c2.number_input("R1 γ", step=0.5, key=_k(prefix, "r1_gamma"))
    c3.number_input("EMA decay (0 = off)", step=0.001, format="%.3f", key=_k(prefix, "ema_decay"))
    c4.checkbox("DiffAugment (images)", key=_k(prefix, "augment"))
    with st.expander("Budget, data and logging"):
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input("Steps budget (empty = until stopped)", step=100, key=_k(prefix, "steps"), placeholder="none")
        c2.number_input("Seconds budget", step=10.0, key=_k(prefix, "seconds"), placeholder="none")
        c3.number_input("Use first N images", step=1000, key=_k(prefix, "data_limit"), placeholder="all")
        c4.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key=_k(prefix, "device"))
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input("Quality metrics every N steps (0 = off)", step=100, key=_k(prefix, "eval_every"))
        c2.number_input("Snapshot every N steps", step=10, key=_k(prefix, "snapshot_every"))
        c3.number_input("Record metrics every N steps", step=1, key=_k(prefix, "log_every"))
        c4.number_input("Seed", step=1, key=_k(prefix, "seed"))
        if not toy_only:
            upload_zip_widget(prefix)


def preset_picker(prefix: str, presets: list[Preset]) -> None:
    options = [p.slug for p in presets]
    cols = st.columns([3, 1])
    cols[0].selectbox("Preset", options, key=_k(prefix, "preset_pick"),
                      format_func=lambda s: PRESETS[s].title)
    cols[1].button("Load preset", key=_k(prefix, "load_preset"), on_click=_on_load_preset, args=(prefix,))
    chosen = PRESETS.get(st.session_state.get(_k(prefix, "preset_pick")))
    if chosen is not None:
        st.caption(chosen.description)


def _on_load_preset(prefix: str) -> None:
    preset = PRESETS.get(st.session_state.get(_k(prefix, "preset_pick")))
    if preset is not None:
        load_preset(prefix, preset)


# ---------------------------------------------------------------- controls (callbacks)

def _flash(prefix: str, level: str, text: str) -> None:
    st.session_state[_k(prefix, "flash")] = (level, text)


def show_flash(prefix: str) -> None:
    flash = st.session_state.pop(_k(prefix, "flash"), None)
    if flash:
        getattr(st, flash[0])(flash[1])


def on_start(prefix: str) -> None:
    try:
        cfg = read_form(prefix)
    except (ValueError, TypeError) as exc:
        _flash(prefix, "error", f"Not started: {exc}")
        return
    try:
        start_job(cfg)
    except ServerBusyError as exc:
        _flash(prefix, "error", str(exc))
    except ValueError as exc:
        _flash(prefix, "error", f"Not started: {exc}")


def on_pause() -> None:
    if (job := session_job()) is not None:
        job.pause()


def on_resume() -> None:
    if (job := session_job()) is not None:
        job.resume()


def on_step(prefix: str) -> None:
    if (job := session_job()) is not None:
        job.step_once(int(st.session_state.get(_k(prefix, "step_n"), 1) or 1))


def on_stop() -> None:
    job = session_job()
    if job is not None:
        job.stop()
        archive_job(job)


def on_change_lr(prefix: str) -> None:
    job = session_job()
    if job is None or not job.state.active:
        _flash(prefix, "warning", "No running job: the new learning rate will be used by the next Start.")
        return
    lr_g, lr_d = st.session_state.get(_k(prefix, "live_lr_g")), st.session_state.get(_k(prefix, "live_lr_d"))
    try:
        job.set_lr(lr_g=lr_g, lr_d=lr_d)
    except ValueError as exc:
        _flash(prefix, "error", f"Learning rate not changed: {exc}")
        return
    st.session_state[_k(prefix, "lr_g")], st.session_state[_k(prefix, "lr_d")] = lr_g, lr_d  # the form follows
    _flash(prefix, "success", "Learning rate change queued; it is marked on the charts.")


def on_apply_live(prefix: str) -> None:
    """Send the form's live-changeable hyper-parameters (lr, betas, loss, penalties...) to the running job."""
    job = session_job()
    if job is None or job.trainer is None or not job.state.active:
        _flash(prefix, "warning", "No running job to change.")
        return
    try:
        form = read_form(prefix)
    except (ValueError, TypeError) as exc:
        _flash(prefix, "error", f"Nothing changed: {exc}")
        return
    current = job.trainer.config
    changes = {n: getattr(form, n) for n in LIVE_HPARAMS
               if getattr(form, n) is not None and getattr(form, n) != getattr(current, n)}
    if not changes:
        _flash(prefix, "info", "The form matches the running job: nothing to change.")
        return
    try:
        job.update_hparams(**changes)
    except ValueError as exc:
        _flash(prefix, "error", f"Nothing changed: {exc}")
        return
    _flash(prefix, "success", f"Changed {', '.join(changes)} (marked on the charts).")


def job_controls(prefix: str) -> None:
    """Start / Pause / Resume / Step / Stop and the live learning rate."""
    job = session_job()
    active = job is not None and job.state.active
    cols = st.columns([1, 1, 1, 1, 1, 1.2])
    cols[0].button("Start", type="primary", key=_k(prefix, "start"), on_click=on_start, args=(prefix,),
                   disabled=active, width="stretch")
    cols[1].button("Pause", key=_k(prefix, "pause"), on_click=on_pause, disabled=not active, width="stretch")
    cols[2].button("Resume", key=_k(prefix, "resume"), on_click=on_resume, disabled=not active,
                   width="stretch")
    cols[3].button("Step", key=_k(prefix, "step"), on_click=on_step, args=(prefix,), disabled=not active,
                   width="stretch", help="Pause and do the number of steps set on the right")
    cols[4].button("Stop", key=_k(prefix, "stop"), on_click=on_stop, disabled=not active, width="stretch")
    cols[5].number_input("steps per Step", min_value=1, max_value=1000, value=1, step=1, key=_k(prefix, "step_n"))
    if active:
        cfg = job.trainer.config if job.trainer is not None else job.config
        st.session_state.setdefault(_k(prefix, "live_lr_g"), cfg.lr_g)
        st.session_state.setdefault(_k(prefix, "live_lr_d"), cfg.lr_d)
        c1, c2, c3 = st.columns([1, 1, 1.2])
        c1.number_input("new lr G", step=1e-4, format="%.1e", key=_k(prefix, "live_lr_g"))
        c2.number_input("new lr D", step=1e-4, format="%.1e", key=_k(prefix, "live_lr_d"))
        c3.button("Change learning rate", key=_k(prefix, "set_lr"), on_click=on_change_lr, args=(prefix,))


# ---------------------------------------------------------------- the live panel

def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def status_line(status: dict[str, Any], kind: str) -> str:
    epoch = {"image": f"epoch {status['epoch']:.2f}", "points": "epoch — (toy data is endless)"}.get(kind, "epoch —")
    return (f"**{status['state']}** · device {status['device'] or '…'} · step {status['step']:,} · {epoch} · "
            f"{status['images_per_s']:,.0f} images/s · elapsed {_fmt_seconds(status['elapsed'])} · "
            f"ETA {_fmt_seconds(status['eta'])}")


def live_data(job: WorkerJob) -> dict[str, Any]:
    """Copies of everything the live panel shows (no Streamlit, safe while the job runs)."""
    job.touch()
    status = job.status()
    trainer = job.trainer
    if trainer is None:
        return {"status": status, "rows": [], "evals": [], "events": [], "snapshot": None, "kind": None,
                "spread": None, "diagnoses": diagnose(status["state"], status["message"], [], job.config.loss),
                "dataset": job.config.dataset}
    history = trainer.history
    rows, evals, events = history.rows(), history.evals(), history.events()
    snapshot = history.latest_snapshot()
    kind = trainer.kind
    spread, spread_history = None, None
    cfg = trainer.config
    if kind == "points" and snapshot is not None:
        spread = toy_spread(cfg.dataset, snapshot[1])
        if spread is not None:
            spread_history = [toy_spread(cfg.dataset, pts)["modes_held"] for _, pts in history.snapshots()[-60:]]
    diagnoses = diagnose(status["state"], status["message"], rows, cfg.loss, evals, spread, spread_history)
    return {"status": status, "rows": rows, "evals": evals, "events": events, "snapshot": snapshot, "kind": kind,
            "spread": spread, "diagnoses": diagnoses, "dataset": cfg.dataset,
            "conditional": trainer.conditional, "num_classes": trainer.num_classes}


def show_diagnoses(diagnoses: list[Diagnosis]) -> None:
    for d in diagnoses:
        getattr(st, d.level)(d.text)


def sample_png(data: dict[str, Any], presenter: bool = False) -> tuple[int, bytes] | None:
    """The latest snapshot as PNG bytes, made at most once per snapshot (cached in session state)."""
    snap = data["snapshot"]
    if snap is None:
        return None
    step, arr = snap
    cache = st.session_state.get("_sample_png")
    key = (id(session_job()), step, presenter)
    if cache and cache[0] == key:
        return step, cache[1]
    if data["kind"] == "image":
        nrow = 8 if data.get("conditional") else None
        png = png_bytes(grid(arr, nrow=nrow, scale=3 if presenter else 2), compress_level=1)  # a new one every few s
    else:
        import torch

        from gan_core.data.datasets import sample_toy
        real = sample_toy(data["dataset"], 512, generator=torch.Generator().manual_seed(0)).numpy()
        png = points_png(arr, real, limit=_toy_limit(data["dataset"]), size=6 if presenter else 4)
    st.session_state["_sample_png"] = (key, png)
    return step, png


def _toy_limit(dataset: str) -> float:
    from gan_core.teach.toy_viz import view_extent
    return view_extent(dataset)


def track_state_change(job: WorkerJob) -> None:
    """Rerun the whole page when the job's state changed (so the buttons match it)."""
    key = "_last_job_state"
    now = (id(job), job.state.value)
    before = st.session_state.get(key)
    st.session_state[key] = now
    if before is not None and before != now:
        st.rerun(scope="app")


# ---------------------------------------------------------------- timeline, GIF, save, fork

def snapshot_frame(arr: np.ndarray, kind: str, dataset: str, conditional: bool) -> np.ndarray:
    if kind == "image":
        return grid(arr, nrow=8 if conditional else None, scale=2)
    from PIL import Image
    png = points_png(arr, limit=_toy_limit(dataset), size=3.5)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def timeline(job: WorkerJob, prefix: str, max_gif_frames: int = 48) -> None:
    """Scrub through the snapshots of fixed noise; export them as an animated GIF."""
    trainer = job.trainer
    snaps = trainer.history.snapshots() if trainer is not None else []
    if len(snaps) < 2:
        st.caption("The timeline appears after a few snapshots.")
        return
    steps = [s for s, _ in snaps]
    key = _k(prefix, "timeline")
    if st.session_state.get(key) not in steps:  # first view, or the step was thinned out of the history
        st.session_state[key] = steps[-1]
    pick = st.select_slider("Snapshot at step", options=steps, key=key)
    arr = dict(snaps)[pick]
    kind, ds, cond = trainer.kind, trainer.config.dataset, trainer.conditional
    st.image(snapshot_frame(arr, kind, ds, cond), caption=f"fixed noise at step {pick}")
    if st.button("Make GIF of the timeline", key=_k(prefix, "gif")):
        idx = np.unique(np.linspace(0, len(snaps) - 1, min(max_gif_frames, len(snaps))).round().astype(int))
        frames = [snapshot_frame(snaps[i][1], kind, ds, cond) for i in idx]
        st.session_state[_k(prefix, "gif_bytes")] = gif_bytes(frames, fps=6)
    if st.session_state.get(_k(prefix, "gif_bytes")):
        st.download_button("Download GIF", st.session_state[_k(prefix, "gif_bytes")], file_name="training.gif",
                           mime="image/gif", key=_k(prefix, "gif_dl"))


def on_save(prefix: str) -> None:
    job = session_job()
    if job is None or job.trainer is None:
        _flash(prefix, "warning", "Nothing to save yet: start a run first.")
        return
    name = safe_name(st.session_state.get(_k(prefix, "save_name")) or "", default=default_save_name(job))
    try:
        path = job.save(session_dir() / name)
    except Exception as exc:
        _flash(prefix, "error", f"Not saved: {exc}")
        return
    st.session_state[_k(prefix, "saved_path")] = str(path)
    _flash(prefix, "success", f"Saved checkpoint {name!r} at step {job.trainer.step_count}: it is on the Explore page now.")


def default_save_name(job: WorkerJob) -> str:
    cfg = job.trainer.config if job.trainer is not None else job.config
    step = job.trainer.step_count if job.trainer is not None else 0
    return safe_name(f"{cfg.dataset.split('/')[-1]}-{cfg.model}-{cfg.loss}-step{step}")


def checkpoint_zip(weights_path: str | Path) -> bytes:
    weights = Path(weights_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in (weights, weights.with_suffix(".json")):
            if p.is_file():
                zf.write(p, p.name)
    return buf.getvalue()


def save_panel(prefix: str) -> None:
    job = session_job()
    if job is None or job.trainer is None:
        return
    c1, c2 = st.columns([2, 1])
    c1.text_input("Checkpoint name", key=_k(prefix, "save_name"), placeholder=default_save_name(job))
    c2.button("Save checkpoint", key=_k(prefix, "save"), on_click=on_save, args=(prefix,))
    saved = st.session_state.get(_k(prefix, "saved_path"))
    if saved and Path(saved).is_file():
        st.download_button(f"Download {Path(saved).stem} (.safetensors + .json, zipped)", checkpoint_zip(saved),
                           file_name=f"{Path(saved).stem}.zip", mime="application/zip", key=_k(prefix, "save_dl"))


def fork_config(form: TrainConfig, meta: dict[str, Any]) -> TrainConfig:
    """The form's settings on the checkpoint's data and architecture (those must match its weights)."""
    saved = TrainConfig.from_dict(meta.get("config") or {})
    structural = {n: getattr(saved, n) for n in ("dataset", "model", "z_dim", "data_dir", "data_limit", "folder_rgb")}
    return replace(form, **structural).validate()


def on_fork(prefix: str) -> None:
    from app_shared.models import load_model, session_checkpoints
    label = st.session_state.get(_k(prefix, "fork_from"))
    path = session_checkpoints().get(label)
    if path is None:
        _flash(prefix, "warning", "Choose a checkpoint saved in this session.")
        return
    try:
        form = read_form(prefix)
        gan = load_model(path)
        cfg = fork_config(form, gan.meta)
        start_job(cfg, init_from=str(path))  # the worker loads these weights; a steps budget counts from there
    except ServerBusyError as exc:
        _flash(prefix, "error", str(exc))
        return
    except Exception as exc:
        _flash(prefix, "error", f"Could not fork: {exc}")
        return
    _flash(prefix, "success", f"Forked from {path.stem} at step {int(gan.meta.get('steps', 0))} with the form's "
                              "settings.")


def fork_panel(prefix: str) -> None:
    from app_shared.models import session_checkpoints
    options = list(session_checkpoints())
    if not options:
        st.caption("Save a checkpoint first; then you can fork a new run from it with other settings.")
        return
    c1, c2 = st.columns([2, 1])
    c1.selectbox("Fork from checkpoint", options, key=_k(prefix, "fork_from"))
    c2.button("Fork run from checkpoint", key=_k(prefix, "fork"), on_click=on_fork, args=(prefix,),
              help="A new run starts from these weights with the settings in the form above")


def compare_picker(prefix: str) -> list[dict[str, Any]]:
    """Which earlier runs of this session to overlay on the charts."""
    runs = past_runs()
    if not runs:
        return []
    labels = [r["label"] for r in runs]
    chosen = st.multiselect("Overlay earlier runs", labels, default=labels[-2:], key=_k(prefix, "compare"))
    return [r for r in runs if r["label"] in chosen]


def presenter_css(on: bool) -> None:
    if on:
        st.html("<style>.stMarkdown p, .stCaption p, label p, button p, .stAlert p "
                "{font-size: 1.35rem !important; line-height: 1.5;}</style>")

