"""What a run leaves behind: the timeline of fixed-noise samples and its GIF, saving, downloading, forking."""
from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from app_shared.jobs import ServerBusyError
from app_shared.session import safe_name, session_dir
from app_shared.training_ui.form import read_form
from app_shared.training_ui.live_panel import toy_limit
from app_shared.training_ui.scope import FormScope
from app_shared.training_ui.session_job import session_job, start_job
from gan_core import TrainConfig, WorkerJob
from gan_core.io.checkpoint import read_meta
from gan_core.io.images import gif_bytes, grid, points_png
from gan_core.train.run_files import save_at_step

logger = logging.getLogger(__name__)


GIF_BUDGET = 1_000_000  # bytes: a timeline GIF a teacher can mail or put on a slide
GIF_LEVELS = {"image": 16, "colour": 64, "points": 64}  # gray levels / palette colours per frame


def gif_levels(snaps: list[tuple[int, np.ndarray]], kind: str) -> int:
    """Gray levels for grey samples, palette colours for colour samples (N x 3 x H x W) and point plots."""
    if kind == "image" and snaps and snaps[0][1].ndim == 4 and snaps[0][1].shape[1] == 3:
        return GIF_LEVELS["colour"]
    return GIF_LEVELS[kind]


def snapshot_frame(arr: np.ndarray, kind: str, dataset: str, conditional: bool, scale: int = 2) -> np.ndarray:
    if kind == "image":
        return grid(arr, nrow=8 if conditional else None, scale=scale)
    from PIL import Image
    png = points_png(arr, limit=toy_limit(dataset), size=1.75 * scale)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def timeline_gif(snaps: list[tuple[int, np.ndarray]], kind: str, dataset: str, conditional: bool,
                 max_frames: int = 48, budget: int = GIF_BUDGET) -> tuple[bytes, str]:
    """The snapshots as a GIF under `budget` bytes, and a line saying what it holds.

    Tries full size first, then half size, then fewer frames (at least 8): early, noisy samples compress
    badly, so the first choice that fits is used.
    """
    n = min(max_frames, len(snaps))
    tries = [(2, n), (1, n)] + [(1, m) for m in (n // 2, n // 4, 8) if 8 <= m < n]
    frames: dict[tuple[int, int], np.ndarray] = {}
    for scale, count in tries:
        idx = np.unique(np.linspace(0, len(snaps) - 1, count).round().astype(int))
        for i in idx:
            if (i, scale) not in frames:
                frames[i, scale] = snapshot_frame(snaps[i][1], kind, dataset, conditional, scale)
        data = gif_bytes([frames[i, scale] for i in idx], fps=6, levels=gif_levels(snaps, kind))
        if len(data) <= budget:
            break
    note = (f"{len(idx)} frames (steps {snaps[idx[0]][0]:,}–{snaps[idx[-1]][0]:,}), "
            f"{'full' if scale == 2 else 'half'} size, {len(data) / 1e6:.2f} MB")
    return data, note


def timeline(job: WorkerJob, scope: FormScope, max_gif_frames: int = 48) -> None:
    """Scrub through the snapshots of fixed noise; export them as an animated GIF."""
    trainer = job.trainer
    snaps = trainer.history.snapshots() if trainer is not None else []
    if len(snaps) < 2:
        st.caption("The timeline appears after a few snapshots.")
        return
    steps = [s for s, _ in snaps]
    if scope.get("timeline") not in steps:  # first view, or the step was thinned out of the history
        scope.set("timeline", steps[-1])
    pick = st.select_slider("Snapshot at step", options=steps, key=scope.key("timeline"))
    arr = dict(snaps)[pick]
    kind, ds, cond = trainer.kind, trainer.config.dataset, trainer.conditional
    st.image(snapshot_frame(arr, kind, ds, cond), caption=f"fixed noise at step {pick}", output_format="PNG")
    if st.button("Make GIF of the timeline", key=scope.key("gif")):
        data, note = timeline_gif(snaps, kind, ds, cond, max_gif_frames)
        scope.set("gif_bytes", data)
        scope.set("gif_note", note)
    if scope.get("gif_bytes"):
        st.download_button("Download GIF", scope.get("gif_bytes"), file_name="training.gif",
                           mime="image/gif", key=scope.key("gif_dl"))
        st.caption(f"The GIF: {scope.get('gif_note')} (kept under {GIF_BUDGET / 1e6:.0f} MB).")


def save_name_stem(job: WorkerJob) -> str:
    cfg = job.trainer.config if job.trainer is not None else job.config
    return f"{cfg.dataset.split('/')[-1]}-{cfg.model}-{cfg.loss}"


def on_save(scope: FormScope) -> None:
    job = session_job()
    if job is None or job.trainer is None:
        scope.flash("warning", "Nothing to save yet: start a run first.")
        return
    typed = scope.get("save_name") or ""
    try:
        if typed.strip():
            path = job.save(session_dir() / safe_name(typed))
        else:  # the step is put in the name by the worker, as it saves
            path = job.call(save_at_step, str(session_dir()), safe_name(save_name_stem(job)))
        step = read_meta(Path(path).with_suffix(".json"))["steps"]
    except Exception as exc:
        logger.warning("saving checkpoint %r failed", typed, exc_info=True)
        scope.flash("error", f"Not saved: {exc}")
        return
    scope.set("saved_path", str(path))
    scope.flash("success", f"Saved checkpoint {Path(path).stem!r} at step {step}: it is on the Explore page now.")


def checkpoint_zip(weights_path: str | Path) -> bytes:
    weights = Path(weights_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in (weights, weights.with_suffix(".json")):
            if p.is_file():
                zf.write(p, p.name)
    return buf.getvalue()


def save_panel(scope: FormScope) -> None:
    job = session_job()
    if job is None or job.trainer is None:
        return
    c1, c2 = st.columns([2, 1])
    # no step number in the placeholder: this panel is not redrawn while the run goes on ("...step38" at 6,500)
    c1.text_input("Checkpoint name", key=scope.key("save_name"),
                  placeholder=f"{save_name_stem(job)}-step<step at Save>",
                  help="Empty: the run's set-up and the step at the moment you press Save.")
    c2.button("Save checkpoint", key=scope.key("save"), on_click=on_save, args=(scope,))
    saved = scope.get("saved_path")
    if saved and Path(saved).is_file():
        st.download_button(f"Download {Path(saved).stem} (.safetensors + .json, zipped)", checkpoint_zip(saved),
                           file_name=f"{Path(saved).stem}.zip", mime="application/zip", key=scope.key("save_dl"))


def fork_config(form: TrainConfig, meta: dict[str, Any]) -> TrainConfig:
    """The form's settings on the checkpoint's data and architecture (those must match its weights)."""
    saved = TrainConfig.from_dict(meta.get("config") or {})
    structural = {n: getattr(saved, n) for n in ("dataset", "model", "z_dim", "data_dir", "data_limit", "folder_rgb")}
    return replace(form, **structural).validate()


def on_fork(scope: FormScope) -> None:
    from app_shared.models import load_model, session_checkpoints
    path = session_checkpoints().get(scope.get("fork_from"))
    if path is None:
        scope.flash("warning", "Choose a checkpoint saved in this session.")
        return
    try:
        form = read_form(scope)
        gan = load_model(path)
        cfg = fork_config(form, gan.meta)
        start_job(cfg, init_from=str(path))  # the worker loads these weights; a steps budget counts from there
    except ServerBusyError as exc:
        scope.flash("error", str(exc))
        return
    except Exception as exc:
        logger.warning("fork from %s failed", path, exc_info=True)
        scope.flash("error", f"Could not fork: {exc}")
        return
    scope.flash("success", f"Forked from {path.stem} at step {int(gan.meta.get('steps', 0))} with the form's "
                           "settings.")


def fork_panel(scope: FormScope) -> None:
    from app_shared.models import session_checkpoints
    options = list(session_checkpoints())
    if not options:
        st.caption("Save a checkpoint first; then you can fork a new run from it with other settings.")
        return
    c1, c2 = st.columns([2, 1])
    c1.selectbox("Fork from checkpoint", options, key=scope.key("fork_from"))
    c2.button("Fork run from checkpoint", key=scope.key("fork"), on_click=on_fork, args=(scope,),
              help="A new run starts from these weights with the settings in the form above")
