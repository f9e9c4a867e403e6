"""Finding and loading models for the pages: shipped ones and this session's checkpoints, cached per process."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core import GAN, PRETRAINED_DIR, list_pretrained, load_checkpoint
from gan_core.safety import is_inside

from .session import APP_RUNS_DIR, session_dir


def session_checkpoints() -> dict[str, Path]:
    """Checkpoints saved (or uploaded) in this session, newest first: label -> weights path."""
    folder = session_dir()
    files = sorted(folder.glob("*.safetensors"), key=lambda p: p.stat().st_mtime, reverse=True)
    return {f"session: {p.stem}": p for p in files if p.with_suffix(".json").is_file()}


def available_models() -> dict[str, Path]:
    """Every model this session may open: shipped pretrained models first, then its own checkpoints."""
    models = {name: PRETRAINED_DIR / f"{name}.safetensors" for name in list_pretrained()}
    models.update(session_checkpoints())
    return models


def allowed_roots() -> list[Path]:
    return [PRETRAINED_DIR, APP_RUNS_DIR]


@st.cache_resource(max_entries=32, show_spinner=False)
def _load_cached(path: str, mtime_ns: int, size: int) -> GAN:
    return load_checkpoint(path, "cpu")


def load_model(path: Path) -> GAN:
    """Load a checkpoint once per process; the key includes mtime and size, so a re-saved file reloads."""
    if not is_inside(path, allowed_roots()):
        raise PermissionError(f"{path} is outside the folders the app may read")
    stat = Path(path).stat()
    return _load_cached(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
