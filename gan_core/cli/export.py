"""Command line: `export` writes a checkpoint's generator as a single-file ONNX model.

Listed in COMMANDS below; gan_core.cli.main builds the parser from it.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from gan_core.cli.common import Command, UsageError

FORMATS = ("onnx",)


def _export_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a shipped model's name (e.g. mnist-cgan) or a checkpoint path")
    parser.add_argument("--format", default="onnx", help="onnx (the only format so far)")
    parser.add_argument("--out", required=True, help="output folder; the file is OUT/NAME.onnx")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="refuse the export if ONNX and torch differ by more than this (default 1e-4)")
    parser.add_argument("--opset", type=int, help="ONNX opset version (default: the exporter's)")


def run_export(args: argparse.Namespace) -> int:
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint
    from gan_core.io.onnx_export import export_generator, write_onnx

    if args.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
    if not args.tolerance >= 0:
        raise UsageError(f"--tolerance must be >= 0, got {args.tolerance}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a folder, but {out} is a file")
    weights = resolve_checkpoint(args.model)
    gan = load_checkpoint(weights, with_discriminator=False)
    model = export_generator(gan, tolerance=args.tolerance, opset=args.opset)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", weights.stem).lstrip("._-") or "generator"
    path = write_onnx(model, out, name)
    inputs = ", ".join(model.input_names)
    print(f"wrote {path}\n  bytes: {len(model.data)}\n  sha256: {model.sha256}\n"
          f"  inputs: {inputs} -> {model.output_name}\n  max abs diff vs torch: {model.max_abs_diff:.3g}\n"
          f"  exporter: {model.exporter} ({model.export_seconds:.1f} s)")
    return 0


COMMANDS = (
    Command("export", _export_args, run_export,
            "write a checkpoint's generator as ONNX (OUT/NAME.onnx), checked against torch"),
)
