"""Command line: python -m gan_core {train, sample, eval, train-classifier} ...

Bad input gives a one-line error and exit status 2 (argparse style); a diverged run exits 3.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}


class UsageError(ValueError):
    """Bad input found after parsing; reported like an argparse error."""


# ---------------------------------------------------------------- train

def _config_args(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, so the CLI and the app share one set of defaults."""
    from gan_core.train.config import TrainConfig

    hints = {"dataset": "ring8, grid25, spiral, moons, mnist, fashion or folder:PATH",
             "model": "mlp, cgan-mlp, dcgan, cgan-dcgan or toy (default: by dataset)",
             "loss": "minimax, nonsaturating, lsgan, hinge or wgan-gp",
             "device": "auto, cpu, cuda or mps"}
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        annotation = str(f.type)
        if annotation.startswith("bool"):
            parser.add_argument(flag, action="store_true", default=default, help=hints.get(f.name))
            continue
        kind = int if annotation.startswith("int") else float if annotation.startswith("float") else str
        parser.add_argument(flag, type=kind, default=default, metavar=f.name.upper(),
                            help=hints.get(f.name, f"default: {default}"))


def _train_args(parser: argparse.ArgumentParser) -> None:
    _config_args(parser)
    parser.add_argument("--lr", type=float, help="set both --lr-g and --lr-d")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--name", default="generator", help="checkpoint file name in --out (default: generator)")
    parser.add_argument("--init-from", help="start from this checkpoint's weights (fork a run)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace):
    from gan_core.train.config import TrainConfig

    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    if getattr(args, "lr", None) is not None:
        values["lr_g"] = values["lr_d"] = args.lr
    return TrainConfig(**values).validate()


def run_train(args: argparse.Namespace) -> int:
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint
    from gan_core.train.distributed import maybe_run_distributed
    from gan_core.train.trainer import DivergedError, Trainer

    config = config_from_args(args)
    if config.steps is None and config.seconds is None:
        raise UsageError("give a budget: --steps N or --seconds S")
    distributed = maybe_run_distributed(config, args)
    if distributed is not None:
        return distributed
    out = Path(args.out)
    import torch

    from gan_core.train.job import default_num_threads
    torch.set_num_threads(config.num_threads or default_num_threads())  # oversubscribed cores run ~10x slower
    trainer = Trainer(config)
    if args.init_from:
        trainer.load_weights(load_checkpoint(resolve_checkpoint(args.init_from), trainer.device))
    if config.eval_every:
        from gan_core.eval.metrics import trainer_evaluator
        trainer.evaluator = trainer_evaluator(trainer)
    command_line = "python -m gan_core " + " ".join(sys.argv[1:]) if sys.argv[0].endswith(("gan_core", "__main__.py")) \
        else config.command(str(out))
    print(f"training {trainer.config.model} on {config.dataset} ({trainer.data.source}) with {config.loss} loss "
          f"on {trainer.device}", file=sys.stderr)
    if trainer.data.note:
        print(f"note: {trainer.data.note}", file=sys.stderr)
    diverged = None
    started = time.perf_counter()
    try:
        _train_loop(trainer, show_progress=not args.no_progress)
    except DivergedError as exc:
        diverged = str(exc)
    except KeyboardInterrupt:
        print("interrupted: saving what was trained so far", file=sys.stderr)
    wall = time.perf_counter() - started
    path = trainer.save(out / args.name, command=command_line, wall_time_s=round(wall, 1),
                        diverged=bool(diverged), name=args.name if args.name != "generator" else None)
    _write_sample_grid(trainer, out / f"{args.name}.png")
    if diverged:
        print(f"error: {diverged}; the last good weights are in {path}", file=sys.stderr)
        return EXIT_DIVERGED
    last = trainer.history.last() or {}
    print(f"wrote {path} after {trainer.step_count} steps in {wall:.0f}s "
          f"(D loss {last.get('d_loss', float('nan')):.3f}, G loss {last.get('g_loss', float('nan')):.3f})")
    return 0


def _train_loop(trainer, show_progress: bool = True, is_main: bool = True) -> None:
    from tqdm import tqdm

    cfg = trainer.config
    bar = tqdm(total=cfg.steps, disable=not (show_progress and is_main), unit="step", dynamic_ncols=True,
               mininterval=0.5)
    try:
        while True:
            if cfg.steps and trainer.step_count >= cfg.steps:
                break
            if cfg.seconds and trainer.train_seconds >= cfg.seconds:
                break
            row = trainer.step()
            bar.update(1)
            if row is not None:
                bar.set_postfix(d=f"{row['d_loss']:.3f}", g=f"{row['g_loss']:.3f}", img_s=f"{row['images_per_s']:.0f}",
                                refresh=False)
    finally:
        bar.close()


def _write_sample_grid(trainer, path: Path) -> None:
    from gan_core.io.checkpoint import atomic_write_bytes
    from gan_core.io.images import grid, png_bytes, points_png

    samples = trainer.generate(trainer.fixed_z, trainer.fixed_labels)
    if trainer.data.kind == "image":
        nrow = trainer.num_classes if trainer.conditional else 8
        order = np.arange(len(samples))
        if trainer.conditional:  # one column per class, one row per z
            order = order.reshape(trainer.num_classes, -1).T.reshape(-1)
        data = png_bytes(grid(samples[order], nrow=nrow, scale=2))
    else:
        real = trainer.data.sample(1000)[0].cpu().numpy()
        data = points_png(samples.numpy(), real)
    atomic_write_bytes(path, data)


COMMANDS["train"] = (_train_args, run_train, "train a GAN; writes OUT/NAME.safetensors + OUT/NAME.json and a sample grid")


# ---------------------------------------------------------------- sample

def _sample_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a shipped model's name (e.g. mnist-cgan) or a checkpoint path")
    parser.add_argument("--n", type=int, default=64, help="how many samples")
    parser.add_argument("--labels", default="balanced", help="balanced, random, or a class index K (conditional models)")
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
    chunks = [gan.generate(z[i:i + 1000], None if labels is None else labels[i:i + 1000])
              for i in range(0, args.n, 1000)]
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


COMMANDS["sample"] = (_sample_args, run_sample, "draw samples from a checkpoint into an .npz or a .png grid")


# ---------------------------------------------------------------- entry point

def build_parser() -> argparse.ArgumentParser:
    _load_optional_commands()
    parser = argparse.ArgumentParser(prog="python -m gan_core", description="Train, sample and evaluate small GANs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_args, _, help_text) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _load_optional_commands() -> None:
    """Commands defined next to what they run (metrics: eval, train-classifier) register on import."""
    import importlib
    for module in ("gan_core.cli.evaluate",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    from gan_core.data.datasets import DataNotFoundError
    from gan_core.io.checkpoint import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    _, run, _ = COMMANDS[args.command]
    try:
        return run(args)
    except (UsageError, ValueError, CheckpointError, DataNotFoundError, FileNotFoundError) as exc:
        parser.exit(EXIT_BAD_INPUT, f"python -m gan_core {args.command}: error: {exc}\n")
    return 0
