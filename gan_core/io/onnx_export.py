"""A GAN's generator as a single-file ONNX model, checked against torch before anyone gets it.

The browser explorer runs the exported file with ONNX Runtime Web, and `gan export` writes it for
use outside the app. Inputs are "z" (float32, N x z_dim) and, for conditional models, "labels"
(int64, N), with a dynamic batch N; the output is "images" (N x C x H x W in [-1, 1]) or, for toy
models, "points" (N x 2). The exported generator is the one GAN.generate runs (a checkpoint
stores the EMA generator when training kept one). Exports are cached in-process by a hash of the
weights and the architecture, so a Streamlit rerun never exports the same model twice.

`float16_weights` makes the file half as big for the browser: the weights are stored as float16 and
cast back to float32 as the model loads, so every operation still computes in float32. It is used only
when its outputs stay within FLOAT16_TOLERANCE of torch's.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import logging
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_core.io.checkpoint import GAN, atomic_write_bytes

logger = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 1e-4
# A pixel is rint((x + 1) * 127.5): outputs within half a grey level (0.5 / 127.5 in [-1, 1] units) of
# torch's round to at most 1 of 255 away from the server's image, which leaves room for inputs outside the
# parity batches under the explorer's 2-of-255 limit.
FLOAT16_TOLERANCE = 0.5 / 127.5
FLOAT16_MIN_ELEMENTS = 64  # smaller float tensors (biases of tiny layers, scalars, epsilons) stay float32
PARITY_BATCHES = (8, 3)  # two batch sizes, so a batch size baked into the graph is caught
PARITY_SEED = 1234
CACHE_SIZE = 16
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class ExportError(ValueError):
    """A generator could not be exported, or its ONNX outputs differ from torch's; the message says which."""


@dataclass(frozen=True)
class OnnxModel:
    """One exported generator: the .onnx bytes, their hash (the browser caches by it) and its parity."""

    data: bytes
    sha256: str
    input_names: tuple[str, ...]
    output_name: str
    max_abs_diff: float
    exporter: str = "dynamo"  # "dynamo" or "torchscript" (the fallback)
    export_seconds: float = 0.0  # export + parity check, measured when it was not a cache hit
    weights: str = "float32"  # how the weights are stored: "float32", or "float16" (float16_weights)


class _ExportedGenerator(torch.nn.Module):
    """The generator with the ONNX input names as its arguments (labels only when conditional)."""

    def __init__(self, generator: torch.nn.Module, conditional: bool) -> None:
        super().__init__()
        self.generator = generator
        self.conditional = conditional

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, labels if self.conditional else None)


_cache: OrderedDict[tuple[str, int | None], OnnxModel] = OrderedDict()
_lock = threading.Lock()  # one export at a time; the exporters keep global state


@contextlib.contextmanager
def no_export_running() -> Iterator[None]:
    """Wait for any export in this process to finish, and hold exports off while the block runs.

    torch's exporter sets a process-wide "exporting" flag, and while it is up, every dynamo-disabled torch
    call in ANY thread (an optimizer step, torch.manual_seed) edits the same global fx metadata dict: a
    projection's Adam steps in one session during another session's first export failed with KeyError
    'custom'. Work that steps optimizers in a server thread runs inside this.
    """
    with _lock:
        yield


def export_generator(gan: GAN, *, tolerance: float = DEFAULT_TOLERANCE, opset: int | None = None) -> OnnxModel:
    """gan's generator as ONNX, refused with ExportError when it differs from torch by more than tolerance."""
    if not tolerance >= 0:
        raise ExportError(f"tolerance must be a number >= 0, got {tolerance!r}")
    key = (weights_key(gan), opset)
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = _export_and_check(gan, opset)
            _cache[key] = model
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
    if model.max_abs_diff > tolerance:
        raise ExportError(f"the ONNX export of {gan.name} differs from torch by up to {model.max_abs_diff:.3g} "
                          f"(the limit is {tolerance:g}), so it was not used")
    return model


def clear_export_cache() -> None:
    """Forget every cached export (tests; a long-lived process never needs to)."""
    with _lock:
        _cache.clear()


def weights_key(gan: GAN) -> str:
    """The model's identity: its architecture plus its checkpoint file's hash or, for a GAN not loaded
    from a file, a hash of the generator's weights (a few ms for the shipped models, so reruns skip it)."""
    digest = hashlib.sha256()
    digest.update(repr((gan.meta.get("model"), gan.z_dim, gan.image_shape, gan.num_classes,
                        type(gan.generator).__qualname__)).encode())
    if gan.content_hash:  # load_checkpoint* set it from the bytes the generator was loaded from
        digest.update(b"file:" + gan.content_hash.encode())
        return digest.hexdigest()
    for name, tensor in gan.generator.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def float16_weights(gan: GAN, model: OnnxModel, *, tolerance: float = FLOAT16_TOLERANCE) -> OnnxModel:
    """model with its float32 weights stored as float16 and cast back to float32 in the graph (about half
    the bytes; the computation stays float32), checked against torch like any export.

    Raises ExportError when the outputs differ from torch by more than tolerance, or when no weight could
    be stored as float16 (values beyond float16's range stay float32).
    """
    started = time.perf_counter()
    data = _cast_weights_to_float16(model.data)
    if data is None:
        raise ExportError(f"{gan.name} has no float32 weights that float16 can hold")
    max_diff = _parity(gan, data, model.input_names)
    if not max_diff <= tolerance:
        raise ExportError(f"the float16 export of {gan.name} differs from torch by up to {max_diff:.3g} "
                          f"(the limit is {tolerance:.3g}), so it was not used")
    logger.info("%s with float16 weights: %d bytes (float32: %d), max abs diff %.3g", gan.name, len(data),
                len(model.data), max_diff)
    return OnnxModel(data, hashlib.sha256(data).hexdigest(), model.input_names, model.output_name, max_diff,
                     model.exporter, model.export_seconds + time.perf_counter() - started, "float16")


def write_onnx(model: OnnxModel, out_dir: Path, name: str) -> Path:
    """Write out_dir/NAME.onnx atomically; name is a plain file name (no folders), so it stays in out_dir."""
    if not SAFE_NAME.fullmatch(name) or name in (".", ".."):
        raise ExportError(f"{name!r} is not a plain file name (letters, digits, '.', '_', '-')")
    path = Path(out_dir) / (name if name.endswith(".onnx") else f"{name}.onnx")
    atomic_write_bytes(path, model.data)
    return path


# ---------------------------------------------------------------- export

def _export_and_check(gan: GAN, opset: int | None) -> OnnxModel:
    started = time.perf_counter()
    conditional = bool(gan.num_classes)
    input_names = ("z", "labels") if conditional else ("z",)
    output_name = "points" if gan.kind == "points" else "images"
    module = _ExportedGenerator(copy.deepcopy(gan.generator).cpu().float().eval(), conditional).eval()
    example = _example_inputs(gan, 4)
    try:
        data, exporter = _export_dynamo(module, example, input_names, output_name, opset), "dynamo"
    except Exception as exc:  # noqa: BLE001 - the dynamo exporter raises many types; the fallback is logged
        logger.warning("dynamo ONNX export of %s failed (%s: %s); falling back to the TorchScript exporter",
                       gan.name, type(exc).__name__, str(exc)[:200])
        try:
            data, exporter = _export_torchscript(module, example, input_names, output_name, opset), "torchscript"
        except Exception as exc2:  # noqa: BLE001 - reported to the caller as one ExportError
            raise ExportError(f"{gan.name} could not be exported to ONNX ({type(exc2).__name__}: "
                              f"{str(exc2)[:200]})") from exc2
    max_diff = _parity(gan, data, input_names)
    seconds = time.perf_counter() - started
    logger.info("exported %s to ONNX with the %s exporter: %d bytes, max abs diff %.3g, %.2f s",
                gan.name, exporter, len(data), max_diff, seconds)
    return OnnxModel(data, hashlib.sha256(data).hexdigest(), input_names, output_name, max_diff, exporter, seconds)


def _example_inputs(gan: GAN, n: int, seed: int = PARITY_SEED) -> tuple[torch.Tensor, ...]:
    rng = torch.Generator().manual_seed(seed + n)
    z = torch.randn(n, gan.z_dim, generator=rng)
    if not gan.num_classes:
        return (z,)
    return z, torch.arange(n, dtype=torch.int64) % gan.num_classes


def _export_dynamo(module: torch.nn.Module, example: tuple[torch.Tensor, ...], input_names: tuple[str, ...],
                   output_name: str, opset: int | None) -> bytes:
    batch = torch.export.Dim("batch")
    dynamic_shapes = {name: {0: batch} for name in input_names}
    with warnings.catch_warnings():
        # every input shares the one batch Dim, which the exporter reports once per extra input
        warnings.filterwarnings("ignore", message=r".*axis name: batch will not be used.*")
        program = torch.onnx.export(module, example, dynamo=True, input_names=list(input_names),
                                    output_names=[output_name], dynamic_shapes=dynamic_shapes,
                                    opset_version=opset, verbose=False)
    if program is None:
        raise RuntimeError("the dynamo exporter returned no program")
    return program.model_proto.SerializeToString()  # initializers inline: one self-contained file


def _export_torchscript(module: torch.nn.Module, example: tuple[torch.Tensor, ...], input_names: tuple[str, ...],
                        output_name: str, opset: int | None) -> bytes:
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in (*input_names, output_name)}
    torch.onnx.export(module, example, buffer, dynamo=False, input_names=list(input_names),
                      output_names=[output_name], dynamic_axes=axes, opset_version=opset or 17)
    return buffer.getvalue()


def _parity(gan: GAN, data: bytes, input_names: tuple[str, ...]) -> float:
    """Max abs difference between onnxruntime and GAN.generate over batches of PARITY_BATCHES sizes."""
    session = onnx_session(data)
    worst = 0.0
    for n in PARITY_BATCHES:
        inputs = _example_inputs(gan, n)
        expected = gan.generate(*inputs).numpy()
        got = run_onnx(session, dict(zip(input_names, (t.numpy() for t in inputs), strict=True)))
        if got.shape != expected.shape:
            raise ExportError(f"the ONNX export of {gan.name} gives shape {got.shape} for a batch of {n}, "
                              f"torch gives {expected.shape}")
        if not np.isfinite(got).all():
            return float("inf")
        worst = max(worst, float(np.abs(got.astype(np.float64) - expected).max()))
    return worst


def _cast_weights_to_float16(data: bytes) -> bytes | None:
    """The model with each large float32 initializer stored as float16 and a Cast back to float32 in front
    of its users (same name, so no other node changes); None when no initializer qualified."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    graph_inputs = {value.name for value in graph.input}
    casts, kept = [], []
    for tensor in graph.initializer:
        if tensor.data_type != onnx.TensorProto.FLOAT or tensor.name in graph_inputs:
            kept.append(tensor)
            continue
        values = numpy_helper.to_array(tensor)
        if values.size < FLOAT16_MIN_ELEMENTS or not np.all(np.abs(values) <= np.finfo(np.float16).max):
            kept.append(tensor)
            continue
        stored = f"{tensor.name}.float16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), stored))
        casts.append(helper.make_node("Cast", [stored], [tensor.name], to=onnx.TensorProto.FLOAT,
                                      name=f"{tensor.name}.to_float32"))
    if not casts:
        return None
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)  # the casts first: the graph stays in topological order
    onnx.checker.check_model(model)
    return model.SerializeToString()


def onnx_session(data: bytes):
    """An onnxruntime CPU session for an exported model (onnxruntime is imported only when needed)."""
    try:
        import onnxruntime
    except ModuleNotFoundError:
        raise ExportError("onnxruntime is not installed, so the export cannot be checked "
                          "(pip install onnxruntime)") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def run_onnx(session, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The session's one output for inputs (z as float32, labels as int64)."""
    feed = {name: np.ascontiguousarray(value, dtype=np.int64 if name == "labels" else np.float32)
            for name, value in inputs.items()}
    return session.run(None, feed)[0]
