"""The one checkpoint format: NAME.safetensors (weights) + NAME.json (how to rebuild the model).

The safetensors file holds `generator.*` tensors and, where saved, `discriminator.*` tensors.
Loading parses safetensors and JSON only — nothing is ever unpickled — and checks every
tensor's shape against the model the JSON describes. Writes go to a temp file and are
renamed into place, so a crash mid-write leaves the previous checkpoint intact.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from gan_core.nn.models import (
    CONV_ARCHS,
    MODEL_NAMES,
    TOY_DEPTH,
    TOY_DEPTH_RANGE,
    TOY_HIDDEN,
    TOY_HIDDEN_RANGE,
    build_models,
)

FORMAT = "gan_core.checkpoint/1"
PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "pretrained"
MAX_CHECKPOINT_BYTES = 200 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
REQUIRED_KEYS = ("model", "z_dim")


class CheckpointError(ValueError):
    """A checkpoint is missing, not safetensors, or does not match its JSON; the message says which."""


@dataclass
class GAN:
    """A loaded generator (and discriminator, when the checkpoint has one) with its metadata."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module | None
    meta: dict[str, Any]
    path: Path | None = None
    content_hash: str = ""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def z_dim(self) -> int:
        return int(self.meta["z_dim"])

    @property
    def num_classes(self) -> int | None:
        return self.meta.get("num_classes") or None

    @property
    def class_names(self) -> list[str] | None:
        names = self.meta.get("class_names")
        if names:
            return list(names)
        return [str(i) for i in range(self.num_classes)] if self.num_classes else None

    @property
    def kind(self) -> str:
        return "points" if self.meta["model"] == "toy" else "image"

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        shape = self.meta.get("image_shape")
        return tuple(shape) if shape else None

    @property
    def name(self) -> str:
        return self.meta.get("name") or (self.path.stem if self.path else self.meta["model"])

    @torch.inference_mode()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] (N x C x H x W) or points (N x 2) for latents z, on the CPU."""
        z = z.to(self.device)
        if self.num_classes:
            if labels is None:
                raise ValueError("this model is conditional: pass class labels")
            labels = labels.to(self.device)
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise ValueError(f"class out of range: this model has classes 0..{self.num_classes - 1}")
        return self.generator(z, labels if self.num_classes else None).float().cpu()

    @torch.inference_mode()
    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor | None:
        """D(x) as a probability (sigmoid of the logit), or None without a discriminator."""
        if self.discriminator is None:
            return None
        y = labels.to(self.device) if (self.num_classes and labels is not None) else None
        return torch.sigmoid(self.discriminator(x.to(self.device), y)).float().cpu()


# ---------------------------------------------------------------- writing

def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; checkpoints are meant to be shared and shipped
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, json) for a path given with or without its .safetensors / .json suffix."""
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


def save_checkpoint(path: str | os.PathLike, generator: torch.nn.Module, meta: dict[str, Any],
                    discriminator: torch.nn.Module | None = None) -> Path:
    """Write NAME.safetensors then NAME.json, each atomically; returns the weights path."""
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise ValueError(f"checkpoint metadata needs {key!r}")
    weights_path, json_path = checkpoint_paths(path)
    conv_arch = getattr(generator, "conv_arch", None)  # the dcgan family's layout; absent in files from before v2
    if conv_arch is not None:
        meta = dict(meta, conv_arch=conv_arch)
    tensors = {f"generator.{k}": v.detach().cpu().contiguous().clone() for k, v in generator.state_dict().items()}
    if discriminator is not None:
        tensors.update({f"discriminator.{k}": v.detach().cpu().contiguous().clone()
                        for k, v in discriminator.state_dict().items()})
    meta = dict(meta, format=FORMAT, has_discriminator=discriminator is not None,
                tensors={k: list(v.shape) for k, v in tensors.items()})
    atomic_write_bytes(weights_path, save_safetensors_bytes(tensors, metadata={"format": FORMAT}))
    atomic_write_bytes(json_path, (json.dumps(meta, indent=2, default=_json_default) + "\n").encode())
    return weights_path


def _json_default(value: Any) -> Any:
    if isinstance(value, (Path, torch.device)):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in checkpoint JSON")


def update_checkpoint_meta(path: str | os.PathLike, **fields: Any) -> None:
    """Add fields (metrics, wall time, ...) to a checkpoint's JSON, atomically."""
    _, json_path = checkpoint_paths(path)
    meta = read_meta(json_path)
    meta.update(fields)
    atomic_write_bytes(json_path, (json.dumps(meta, indent=2, default=_json_default) + "\n").encode())


# ---------------------------------------------------------------- reading

def read_meta(json_path: str | os.PathLike) -> dict[str, Any]:
    json_path = Path(json_path)
    if not json_path.is_file():
        raise CheckpointError(f"checkpoint metadata {json_path} is missing (every NAME.safetensors needs NAME.json)")
    if json_path.stat().st_size > MAX_JSON_BYTES:
        raise CheckpointError(f"{json_path.name} is larger than {MAX_JSON_BYTES // 1024} KiB: not a checkpoint JSON")
    return validate_meta(parse_meta_json(json_path.read_bytes(), json_path.name), json_path.name)


def parse_meta_json(data: bytes, where: str = "the .json file") -> Any:
    """A checkpoint description's JSON, or a CheckpointError that says in plain words what to upload instead."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError(f"{where} is not a text file (it may be the weights, or another file renamed to "
                              ".json). Use the NAME.json that was saved next to NAME.safetensors.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
                              "Use the NAME.json that was saved next to NAME.safetensors, unedited.") from None


def validate_meta(meta: Any, where: str = "checkpoint JSON") -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise CheckpointError(f"{where} must hold a JSON object")
    if "model" not in meta:
        raise CheckpointError(f"{where} does not say which model it describes (it has no \"model\" entry), so it "
                              "is not a checkpoint description of this app. Use the NAME.json that was saved next to "
                              "NAME.safetensors.")
    if meta["model"] not in MODEL_NAMES:
        shown = str(meta["model"])[:40]
        raise CheckpointError(f"{where} names an unknown model, {shown!r}: this app builds only "
                              f"{', '.join(MODEL_NAMES)}. Use the NAME.json that was saved next to NAME.safetensors.")
    z_dim, classes, shape = meta.get("z_dim"), meta.get("num_classes"), meta.get("image_shape")
    if not isinstance(z_dim, int) or not 1 <= z_dim <= 4096:
        raise CheckpointError(f"{where}: z_dim must be an integer in 1..4096, got {z_dim!r}")
    if classes is not None and (not isinstance(classes, int) or not 1 <= classes <= 1000):
        raise CheckpointError(f"{where}: num_classes must be an integer in 1..1000, got {classes!r}")
    if meta["model"] != "toy":
        if (not isinstance(shape, list) or len(shape) != 3 or not all(isinstance(s, int) for s in shape)
                or shape[0] not in (1, 3) or not 8 <= shape[1] <= 128 or shape[1] != shape[2]):
            raise CheckpointError(f"{where}: image_shape must be [1 or 3, S, S] with 8 <= S <= 128, got {shape!r}")
    for key, (low, high) in (("toy_hidden", TOY_HIDDEN_RANGE), ("toy_depth", TOY_DEPTH_RANGE)):
        value = meta.get(key)  # absent in checkpoints from before the toy's size was a setting: the defaults
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise CheckpointError(f"{where}: {key} must be an integer in {low}..{high}, got {value!r}")
    conv_arch = meta.get("conv_arch")
    if conv_arch is not None and (type(conv_arch) is not int or conv_arch not in CONV_ARCHS):
        raise CheckpointError(f"{where}: conv_arch must be one of {', '.join(map(str, CONV_ARCHS))}, "
                              f"got {str(conv_arch)[:20]!r}")
    names = meta.get("class_names")
    if names is not None and (not isinstance(names, list) or (classes and len(names) != classes)):
        raise CheckpointError(f"{where}: class_names must be a list of num_classes names")
    return meta


def build_from_meta(meta: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
    shape = tuple(meta["image_shape"]) if meta.get("image_shape") else None
    try:
        return build_models(meta["model"], meta["z_dim"], shape, meta.get("num_classes"),
                            toy_hidden=meta.get("toy_hidden") or TOY_HIDDEN,
                            toy_depth=meta.get("toy_depth") or TOY_DEPTH,
                            conv_arch=meta.get("conv_arch") or 1)  # no conv_arch: saved before version 2
    except ValueError as exc:
        raise CheckpointError(f"checkpoint JSON describes a model that cannot be built: {exc}") from None


def _load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, where: str) -> None:
    expected = module.state_dict()
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    wrong = [f"{k}: file {tuple(given[k].shape)} vs JSON {tuple(expected[k].shape)}"
             for k in expected if k in given and given[k].shape != expected[k].shape]
    if missing or extra or wrong:
        detail = "; ".join(filter(None, [
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(extra[:3])}" if extra else "",
            "; ".join(wrong[:3])]))
        raise CheckpointError(f"{where}: tensor shapes do not match the model in its JSON ({detail})")
    module.load_state_dict(given, strict=True)


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu",
                    with_discriminator: bool = True) -> GAN:
    """Load NAME.safetensors + NAME.json, validated; raises CheckpointError with a one-line reason."""
    weights_path, json_path = checkpoint_paths(path)
    if not weights_path.is_file():
        raise CheckpointError(f"checkpoint {weights_path} does not exist")
    size = weights_path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{weights_path.name} is {size / 2**20:.0f} MiB; "
                              f"the limit is {MAX_CHECKPOINT_BYTES // 2**20} MiB")
    data = weights_path.read_bytes()
    return load_checkpoint_bytes(data, read_meta(json_path), device, with_discriminator, weights_path)


def load_checkpoint_bytes(data: bytes, meta: dict[str, Any], device: torch.device | str = "cpu",
                          with_discriminator: bool = True, path: Path | None = None) -> GAN:
    """Load from bytes already in memory (uploads); the same checks as load_checkpoint."""
    where = path.name if path else "uploaded checkpoint"
    meta = validate_meta(meta, where)
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{where} is larger than {MAX_CHECKPOINT_BYTES // 2**20} MiB")
    try:
        tensors = load_safetensors_bytes(data)
    except Exception as exc:  # safetensors raises several types on corrupt or truncated data
        raise CheckpointError(f"{where} is not a valid safetensors file "
                              f"({type(exc).__name__}: {str(exc)[:120]})") from exc
    generator, discriminator = build_from_meta(meta)
    _load_state(generator, tensors, "generator.", where)
    has_d = any(k.startswith("discriminator.") for k in tensors)
    if has_d and with_discriminator:
        _load_state(discriminator, tensors, "discriminator.", where)
    else:
        discriminator = None
    for t in tensors.values():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{where} holds NaN or infinite weights")
    device = torch.device(device)
    generator.to(device).eval()
    if discriminator is not None:
        discriminator.to(device).eval()
    return GAN(generator, discriminator, meta, path, hashlib.sha256(data).hexdigest()[:16], device)


def list_pretrained(folder: str | os.PathLike = PRETRAINED_DIR) -> list[str]:
    """Names of the shipped models that have both files (classifiers for metrics excluded)."""
    folder = Path(folder)
    names = []
    for weights in sorted(folder.glob("*.safetensors")):
        json_path = weights.with_suffix(".json")
        if json_path.is_file():
            try:
                meta = json.loads(json_path.read_text())
            except json.JSONDecodeError:
                continue
            if meta.get("model") in MODEL_NAMES:
                names.append(weights.stem)
    return names


def resolve_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """A shipped model's name (e.g. "mnist-cgan") or a checkpoint path -> the .safetensors path."""
    text = str(name_or_path)
    if text and "/" not in text and "\\" not in text and not text.endswith((".safetensors", ".json")):
        shipped = PRETRAINED_DIR / f"{text}.safetensors"
        if shipped.is_file():
            return shipped
        if not Path(text).exists() and not Path(text + ".safetensors").exists():
            known = ", ".join(list_pretrained()) or "none shipped"
            raise CheckpointError(f"no pretrained model named {text!r} (shipped: {known}) and no such file")
    if Path(text).is_dir():  # a training run's --out folder
        text = str(Path(text) / "generator")
    weights, _ = checkpoint_paths(text)
    if not weights.is_file():
        raise CheckpointError(f"checkpoint {weights} does not exist")
    return weights
