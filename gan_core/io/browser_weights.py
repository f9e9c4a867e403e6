"""Weights that a browser sends (the 2-D playground's Save), checked like an upload before anything is written.

The playground trains G in the student's browser (TensorFlow.js) and sends its tensors once, as JSON:
`{name: {"shape": [...], "data": base64 of little-endian float32}}`, with the names and layouts of
gan_core's ToyGenerator state_dict. Nothing here trusts the sender: the names and shapes must be exactly
those of the generator that the set-up describes, every value finite float32, and the whole payload
within a size cap. A failure raises CheckpointError with one plain sentence; the caller writes nothing.
"""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np
import torch

from gan_core.io.checkpoint import CheckpointError
from gan_core.nn.models import TOY_DEPTH_RANGE, TOY_HIDDEN_RANGE, ToyGenerator

MAX_BROWSER_WEIGHT_BYTES = 16 * 1024 * 1024  # base64 text of all tensors together; the largest toy G is below this
MAX_TENSORS = 2 * TOY_DEPTH_RANGE[1] + 2  # weight and bias of each layer
Z_DIM_RANGE = (1, 16)  # a toy's noise (the browser offers 1-D and 2-D)


def _int_in(value: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise CheckpointError(f"the browser's {what} must be a whole number from {lo} to {hi}, got {str(value)[:20]!r}")
    return value


def toy_generator_for(z_dim: Any, hidden: Any, depth: Any) -> ToyGenerator:
    """The generator whose state_dict the browser's tensors must match (its size checked first)."""
    return ToyGenerator(_int_in(z_dim, *Z_DIM_RANGE, "noise dimension"),
                        _int_in(hidden, *TOY_HIDDEN_RANGE, "hidden size"),
                        _int_in(depth, *TOY_DEPTH_RANGE, "depth"))


def decode_tensor(name: str, entry: Any, shape: tuple[int, ...]) -> torch.Tensor:
    """One tensor from {"shape", "data"}: the shape must be `shape` and the bytes exactly that many finite float32."""
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
        raise CheckpointError(f"the browser's tensor {name} is not {{shape, data}}")
    given = entry.get("shape")
    if not isinstance(given, list) or tuple(given) != shape:
        raise CheckpointError(f"the browser's tensor {name} has shape {str(given)[:40]}; the generator needs "
                              f"{list(shape)}")
    try:
        raw = base64.b64decode(entry["data"], validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"the browser's tensor {name} is not base64 data") from None
    if len(raw) != 4 * math.prod(shape):
        raise CheckpointError(f"the browser's tensor {name} holds {len(raw)} bytes; {list(shape)} float32 "
                              f"needs {4 * math.prod(shape)}")
    values = np.frombuffer(raw, dtype="<f4").reshape(shape)
    if not np.isfinite(values).all():
        raise CheckpointError(f"the browser's tensor {name} holds NaN or infinite values (the run diverged): "
                              "reset or lower the learning rate, then save again")
    return torch.from_numpy(values.astype(np.float32))


def load_browser_generator(tensors: Any, z_dim: Any, hidden: Any, depth: Any) -> ToyGenerator:
    """A ToyGenerator holding the browser's weights, or CheckpointError saying what is wrong with them."""
    if not isinstance(tensors, dict) or not tensors:
        raise CheckpointError("the browser sent no generator weights")
    if len(tensors) > MAX_TENSORS:
        raise CheckpointError(f"the browser sent {len(tensors)} tensors; a toy generator has far fewer")
    size = sum(len(e["data"]) for e in tensors.values() if isinstance(e, dict) and isinstance(e.get("data"), str))
    if size > MAX_BROWSER_WEIGHT_BYTES:
        raise CheckpointError(f"the browser's weights are {size / 2**20:.1f} MiB; the limit is "
                              f"{MAX_BROWSER_WEIGHT_BYTES // 2**20} MiB")
    generator = toy_generator_for(z_dim, hidden, depth)
    expected = generator.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(str(k)[:40] for k in set(tensors) - set(expected))
    if missing or extra:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + \
                ([f"unexpected {', '.join(extra[:3])}"] if extra else [])
        raise CheckpointError(f"the browser's tensors do not match the generator ({'; '.join(parts)})")
    state = {name: decode_tensor(name, tensors[name], tuple(value.shape)) for name, value in expected.items()}
    generator.load_state_dict(state, strict=True)
    return generator.eval()


def encode_tensor(tensor: torch.Tensor) -> dict[str, Any]:
    """The browser's form of one tensor (for tests and for sending weights the other way)."""
    array = np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype="<f4")
    return {"shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


__all__ = ["MAX_BROWSER_WEIGHT_BYTES", "decode_tensor", "encode_tensor", "load_browser_generator",
           "toy_generator_for"]
