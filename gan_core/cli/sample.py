"""`sample`: draw samples from a checkpoint into an .npz (arrays) or a .png (a grid or a scatter plot)."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gan_core.cli.common import Command, UsageError

CHUNK = 1000  # samples generated at a time


def add_sample_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a shipped model's name (e.g. mnist-cgan) or a checkpoint path")
    parser.add_argument("--n", type=int, default=64, help="how many samples")
    parser.add_argument("--labels", default="balanced",
                        help="balanced, random, or a class index K (conditional models)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truncation", type=float, default=1.0, help="scale z toward the mean (0..2, 1 = off)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="FILE.npz (arrays) or FILE.png (a grid or scatter plot)")


def run_sample(args: argparse.Namespace) -> int:
    from gan_core.device import pick_device
    from gan_core.explore.latent import class_labels, sample_latents
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint

    if not 1 <= args.n <= 100_000:
        raise UsageError(f"--n must be in 1..100000, got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".npz", ".png"):
        raise UsageError(f"--out must end in .npz or .png, got {out.name}")
    gan = load_checkpoint(resolve_checkpoint(args.model), pick_device(args.device))
    labels = None
    if gan.num_classes:
        if args.labels not in ("balanced", "random") and not args.labels.lstrip("-").isdigit():
            raise UsageError(f"--labels must be balanced, random or a class index, got {args.labels!r}")
        labels = class_labels(args.n, gan.num_classes, args.labels, seed=args.seed)
    z = sample_latents(args.n, gan.z_dim, seed=args.seed, truncation=args.truncation)
    chunks = [gan.generate(z[i:i + CHUNK], None if labels is None else labels[i:i + CHUNK])
              for i in range(0, args.n, CHUNK)]
    samples = np.concatenate([c.numpy() for c in chunks]).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        if gan.kind == "points":
            np.savez_compressed(out, points=samples)
        else:
            lab = labels.numpy() if labels is not None else np.full(args.n, -1, dtype=np.int64)
            np.savez_compressed(out, images=samples, labels=lab.astype(np.int64))
    else:
        from gan_core.io.checkpoint import atomic_write_bytes
        from gan_core.io.images import grid, png_bytes, points_png
        data = png_bytes(grid(samples, scale=2)) if gan.kind == "image" else points_png(samples)
        atomic_write_bytes(out, data)
    print(f"wrote {args.n} samples of {gan.name} to {out}")
    return 0


COMMANDS = (Command("sample", add_sample_args, run_sample,
                    "draw samples from a checkpoint into an .npz or a .png grid"),)
