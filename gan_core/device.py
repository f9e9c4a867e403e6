"""The one device picker (CUDA, then Apple MPS, then CPU) and the default number of CPU threads."""
from __future__ import annotations

import os

import torch


def default_num_threads() -> int:
    """All cores but one, so the server (or shell) that shows the run keeps a core to itself."""
    return max(1, (os.cpu_count() or 2) - 1)


def pick_device(requested: str | None = "auto") -> torch.device:
    """Return the device to train on; `requested` forces one ("cpu", "cuda", "cuda:1", "mps")."""
    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {requested!r}: use cpu, cuda or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} requested but CUDA is not available on this machine")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {requested!r} requested but Apple MPS is not available on this machine")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {requested!r}: use cpu, cuda or mps")
    return device


def describe_device(device: torch.device) -> str:
    """Human-readable device name for status lines and model cards."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"
    return device.type
