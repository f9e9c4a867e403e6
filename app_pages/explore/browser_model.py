"""The generator file the browser runs: an ONNX export (gan_core.io.onnx_export), served by content hash.

For a conditional model the browser gets the generator with its class embedding as part of its
input: z is followed by the embedding vector, which the page looks up in the embedding table it is
sent. Looking a class up gives exactly the vector torch's nn.Embedding gives, and a blend of two rows
interpolates between classes (what gan_core.explore.class_blend does on the server), so one file
draws samples, the class grid and the class-to-class strip. The file is written once under
static/models/<sha256>.onnx (Streamlit's static serving sends it as /app/static/models/...), and the
browser keeps it by that hash, so a rerun never sends weights again.

An image model's file stores its weights as float16 (gan_core.io.onnx_export.float16_weights: half the
bytes, float32 arithmetic) when its outputs stay within half a grey level of torch's; otherwise, and for
the toy models (a few KB anyway), float32.

An export takes seconds, so each one is also remembered on disk: a small static/models/<model key>.json
names the file made for that model (key: architecture and checkpoint hash,
gan_core.io.onnx_export.weights_key), and a restarted server reuses it without exporting again.
`warm_up` makes the shipped models' files in a background thread when the server starts.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_core import GAN
from gan_core.io.checkpoint import atomic_write_bytes
from gan_core.io.onnx_export import ExportError, OnnxModel, export_generator, float16_weights, weights_key

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # Streamlit serves it: beside app.py
MODELS_DIR = STATIC_DIR / "models"
MAX_KEPT_FILES = 48  # session checkpoints add files; the oldest beyond this are deleted
INDEX_VERSION = 2  # bump when the browser file's inputs change (the index then misses and re-exports)
_write_lock = threading.Lock()
_export_lock = threading.Lock()  # one export at a time in this process

__all__ = ["BrowserModel", "ExportError", "browser_model", "MODELS_DIR", "STATIC_DIR"]


@dataclass(frozen=True)
class BrowserModel:
    """What the page tells the browser about the generator file it runs."""

    url_path: str  # served path, relative to the app's root: app/static/models/<sha256>.onnx
    sha256: str
    size: int  # bytes
    output: str  # "images" or "points"
    embedding: np.ndarray | None  # classes x E float32 (conditional models), appended to z as input
    max_abs_diff: float  # the export's parity with torch
    weights: str = "float32"  # how the file stores the weights: "float32" or "float16"


class _EmbeddingInput(nn.Module):
    """Stands in for nn.Embedding: the "label" it is given already is the embedding vector."""

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return embedding


class EmbeddingAsInput(nn.Module):
    """G(z, e) for input [z | e]: the generator with the class embedding taken from its input."""

    def __init__(self, generator: nn.Module, z_dim: int) -> None:
        super().__init__()
        inner = copy.copy(generator)  # shallow: shares the weights, owns its module dict
        inner._modules = dict(generator._modules)
        inner._modules["embed"] = _EmbeddingInput()
        self.inner, self.z_dim = inner, z_dim

    def forward(self, z_and_embedding: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.inner(z_and_embedding[:, : self.z_dim], z_and_embedding[:, self.z_dim:])


def embedding_table(gan: GAN) -> torch.Tensor | None:
    """The conditional generator's class embedding table (classes x E), or None for unconditional models."""
    if not gan.num_classes:
        return None
    embed = getattr(gan.generator, "embed", None)
    if not isinstance(embed, nn.Embedding):
        raise ExportError(f"{gan.name} is conditional but its generator has no class embedding table, so the "
                          "browser cannot choose or blend classes")
    return embed.weight.detach().float().cpu()


def browser_gan(gan: GAN) -> GAN:
    """The GAN the browser runs: unchanged when unconditional, else input [z | class embedding], no labels."""
    table = embedding_table(gan)
    if table is None:
        return gan
    meta = {**gan.meta, "z_dim": gan.z_dim + table.shape[1], "num_classes": None, "class_names": None,
            "name": f"{gan.name} (embedding input)"}
    generator = EmbeddingAsInput(gan.generator, gan.z_dim).eval()
    return GAN(generator, None, meta, None, f"{gan.content_hash}:embedding-input" if gan.content_hash else "",
               gan.device)


def browser_model(gan: GAN) -> BrowserModel:
    """The browser's file for gan: remembered on disk, else exported (gan_core.io.onnx_export) and written.

    Raises ExportError when the model cannot be exported or its export differs from torch.
    """
    table = embedding_table(gan)
    runnable = browser_gan(gan)
    index = MODELS_DIR / f"v{INDEX_VERSION}-{weights_key(runnable)}.json"
    known = _read_index(index)
    if known is None:
        with _export_lock:  # a second caller for the same model (the warm-up, another tab) finds the first's file
            known = _read_index(index) or _export_and_write(runnable, index)
    return BrowserModel(f"app/static/models/{known['sha256']}.onnx", known["sha256"], int(known["size"]),
                        known["output"], None if table is None else table.numpy(), float(known["max_abs_diff"]),
                        str(known.get("weights", "float32")))


def _export_and_write(runnable: GAN, index: Path) -> dict:
    """Export (gan_core.io.onnx_export), write the file and its record; returns the record."""
    exported = export_generator(runnable)  # cached in-process by weights
    if runnable.kind == "image":
        exported = _smaller(runnable, exported)
    path = MODELS_DIR / f"{exported.sha256}.onnx"
    known = {"sha256": exported.sha256, "size": len(exported.data), "output": exported.output_name,
             "max_abs_diff": exported.max_abs_diff, "weights": exported.weights}
    with _write_lock:
        atomic_write_bytes(path, exported.data)
        atomic_write_bytes(index, json.dumps(known).encode())
        _prune(keep={path, index})
    logger.info("wrote %s for %s (%d bytes, %s weights)", path.name, runnable.name, len(exported.data),
                exported.weights)
    return known


def _smaller(gan: GAN, exported: OnnxModel) -> OnnxModel:
    """The float16-weights file when its parity allows (half the bytes to download), else the float32 one."""
    try:
        return float16_weights(gan, exported)
    except ExportError as exc:
        logger.info("%s keeps float32 weights in the browser: %s", gan.name, exc)
        return exported


def _read_index(index: Path) -> dict | None:
    """The remembered export for a model key, if both its record and its file are still there."""
    try:
        known = json.loads(index.read_text())
        if (MODELS_DIR / f"{known['sha256']}.onnx").stat().st_size == int(known["size"]):
            return known
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring the browser model record %s: %s", index.name, exc)
    return None


def _prune(keep: set[Path]) -> None:
    """Delete the oldest model files and records beyond MAX_KEPT_FILES each (never the ones just written)."""
    for pattern in ("*.onnx", "*.json"):
        files = sorted(MODELS_DIR.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[MAX_KEPT_FILES:]:
            if old not in keep:
                try:
                    old.unlink()
                except OSError as exc:
                    logger.warning("could not delete old browser model file %s: %s", old.name, exc)
