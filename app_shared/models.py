"""Finding and loading models for the pages: shipped ones and this session's checkpoints, cached per process.

The cache key is the file's path plus the SHA-256 of its content, so a checkpoint re-saved under
the same name loads fresh, and identical files are never loaded twice. Hashing is itself
cached on (path, mtime, size), so a rerun that finds the file unchanged costs one stat().
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gan_core import GAN, PRETRAINED_DIR, list_pretrained, load_checkpoint
from gan_core.io.checkpoint import atomic_write_bytes
from gan_core.io.safety import is_inside, load_uploaded_checkpoint

from . import session as _session
from .session import APP_RUNS_DIR, safe_name, session_dir

_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


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
    """Folders a page may load models from: the shipped models and this session's own folder
    (outside a Streamlit script run, in plain unit tests, where there is no session: the whole runs folder)."""
    in_a_page_run = get_script_run_ctx(suppress_warning=True) is not None
    return [PRETRAINED_DIR, session_dir() if in_a_page_run else Path(_session.APP_RUNS_DIR)]


def file_hash(path: Path) -> str:
    """SHA-256 (first 16 hex digits) of a file's content, recomputed only when its mtime or size changes."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _HASH_LOCK:
        cached = _HASHES.get(key)
    if cached is None:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        cached = digest.hexdigest()[:16]
        with _HASH_LOCK:
            if len(_HASHES) > 256:
                _HASHES.clear()
            _HASHES[key] = cached
    return cached


@st.cache_resource(max_entries=32, show_spinner=False)
def _load_cached(path: str, content_hash: str) -> GAN:
    return load_checkpoint(path, "cpu")


def load_model(path: Path) -> GAN:
    """Load a checkpoint once per process, keyed by path + content hash; only from the allowed folders."""
    path = Path(path)
    if not is_inside(path, allowed_roots()):
        raise PermissionError(f"{path} is outside the folders the app may read")
    resolved = path.resolve()
    return _load_cached(str(resolved), file_hash(resolved))


def save_upload(weights: bytes, meta_json: bytes, name: str) -> tuple[str, Path]:
    """Validate an uploaded .safetensors + .json pair, then (only then) save it in this session's folder.

    Returns (label for available_models(), weights path); raises CheckpointError with the reason.
    Nothing is written when validation fails; nothing is ever unpickled.
    """
    load_uploaded_checkpoint(weights, meta_json)  # raises on anything wrong
    stem = "upload-" + safe_name(name, "model")
    folder = session_dir()
    weights_path = folder / f"{stem}.safetensors"
    atomic_write_bytes(folder / f"{stem}.json", meta_json)
    atomic_write_bytes(weights_path, weights)
    return f"session: {stem}", weights_path


__all__ = ["APP_RUNS_DIR", "PRETRAINED_DIR", "allowed_roots", "available_models", "file_hash", "load_model",
           "save_upload", "session_checkpoints"]
