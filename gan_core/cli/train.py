"""`train`: train a GAN from flags or from a preset, in this process or on every rank under torchrun.

Writes OUT/NAME.safetensors + OUT/NAME.json (the checkpoint) and OUT/NAME.png (its samples).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import MISSING, fields, replace
from pathlib import Path

from gan_core.cli.common import EXIT_DIVERGED, Command, UsageError, recorded_command
from gan_core.nn.models import GROWING_MODELS, MODEL_NAMES
from gan_core.teach.presets import PRESETS, get_preset
from gan_core.train.config import (
    BASE_LR,
    FAST_LR,
    FAST_LR_MODELS,
    IMAGE_BETA1,
    IMAGE_EMA_DECAY,
    SLOW_D_LR,
    SLOW_D_MODELS,
    TOY_BATCH,
    TOY_BETA1,
    TOY_LR,
    TrainConfig,
)

HINTS = {"dataset": "ring8, grid25, spiral, moons, mnist, fashion, emoji or folder:PATH",
         "model": f"{', '.join(MODEL_NAMES)} (default: by dataset)",
         "lr_g": f"default: {TOY_LR:g} for 2-D toys, {FAST_LR:g} for {', '.join(FAST_LR_MODELS)}, "
                 f"{BASE_LR:g} otherwise",
         "beta1": f"Adam's beta1 (default: {TOY_BETA1:g} for 2-D toys, {IMAGE_BETA1:g} for images)",
         "batch_size": f"default: {TOY_BATCH} for 2-D toys, 64 for images",
         "lr_d": f"default: {SLOW_D_LR:g} for {', '.join(SLOW_D_MODELS)}, else as lr_g",
         "ema_decay": f"0 = off (default: {IMAGE_EMA_DECAY:g} for images, off for 2-D toys)",
         "lr_decay": "last share of the budget over which both lrs fall linearly to 0 (default: 0, constant)",
         "loss": "minimax, nonsaturating, lsgan, hinge or wgan-gp",
         "device": "auto, cpu, cuda or mps",
         "optimizer_g": "adam or sgd (plain, no momentum) (default: adam)",
         "optimizer_d": "adam or sgd (plain, no momentum) (default: adam)",
         "beta1_d": "D's Adam beta1 (default: as --beta1)",
         "folder_rgb": "a folder:PATH dataset as 32x32 RGB, or (--no-folder-rgb) 28x28 grey (default: RGB when its "
                       "images are in colour)"}


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, so the command line and the app share one set of defaults.

    Every flag's parsed default is None ("not given"): a preset's value or TrainConfig's default fills it."""
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        annotation = str(f.type)
        if annotation.startswith("bool"):  # --augment / --no-augment; not given: None
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=HINTS.get(f.name))
            continue
        kind = int if annotation.startswith("int") else float if annotation.startswith("float") else str
        parser.add_argument(flag, type=kind, default=None, metavar=f.name.upper(),
                            help=HINTS.get(f.name, f"default: {default}"))


def add_train_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", metavar="SLUG",
                        help=f"start from a preset ({', '.join(PRESETS)}); the flags given override its fields")
    add_config_args(parser)
    parser.add_argument("--lr", type=float, help="set both --lr-g and --lr-d")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--name", default="generator", help="checkpoint file name in --out (default: generator)")
    parser.add_argument("--init-from", help="start from this checkpoint's weights (fork a run)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--save-at-seconds", metavar="S[,S...]", type=seconds_list, default=(),
                        help="also write OUT/NAME-at-Ss when S seconds of training are done: one run gives the "
                             "checkpoints of shorter --seconds runs (not for growing models or lr decay, whose "
                             "schedules follow the budget)")


def seconds_list(text: str) -> tuple[float, ...]:
    """"60,180" -> (60.0, 180.0), for --save-at-seconds."""
    try:
        values = tuple(sorted({float(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 60,180, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive seconds like 60,180, got {text!r}")
    return values


class SaveAtSeconds:
    """An on_step hook: writes the run's files once its training seconds pass each of `seconds`.

    A checkpoint written at S seconds is what `--seconds S` would have given (run_train refuses runs whose
    schedule follows the budget: TrainConfig.follows_budget), and its recorded command says so."""

    def __init__(self, seconds: tuple[float, ...], config: TrainConfig, out: Path, name: str) -> None:
        self.pending = list(seconds)
        self.config, self.out, self.name = config, out, name
        self.started = time.perf_counter()

    def __call__(self, trainer, row: dict[str, float] | None) -> None:
        from gan_core.train.run_files import write_run_files

        while self.pending and trainer.train_seconds >= self.pending[0]:
            at = self.pending.pop(0)
            command = replace(self.config, seconds=at).command(str(self.out))
            path = write_run_files(trainer, self.out, f"{self.name}-at-{at:g}s", command,
                                   time.perf_counter() - self.started, False, saved_at_seconds=at)
            print(f"wrote {path} at {trainer.train_seconds:.1f} s of training, step {trainer.step_count}",
                  file=sys.stderr)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig's defaults, then the preset's fields (--preset), then the flags that were given."""
    values = {}
    if getattr(args, "preset", None) is not None:
        preset = get_preset(args.preset)
        if preset is None:
            raise UsageError(f"unknown preset {args.preset!r}; choose from {', '.join(PRESETS)}")
        values.update(preset.settings)
    values.update({f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None})
    if getattr(args, "lr", None) is not None:
        values["lr_g"] = values["lr_d"] = args.lr
    dataset = values.get("dataset", TrainConfig.dataset)
    if dataset.startswith("folder:") and "folder_rgb" not in values:  # as the Train form's upload does
        from gan_core.data.colour import folder_is_colour
        values["folder_rgb"] = folder_is_colour(dataset[len("folder:"):])
        if values["folder_rgb"]:
            print(f"{dataset[len('folder:'):]} holds colour images: training on them as 32x32 RGB "
                  "(--no-folder-rgb: 28x28 grey)", file=sys.stderr)
    return TrainConfig(**values).validate()


def run_train(args: argparse.Namespace) -> int:
    from gan_core.train.distributed import launch_info, run_distributed

    config = config_from_args(args)
    if config.steps is None and config.seconds is None:
        raise UsageError("give a budget: --steps N or --seconds S")
    save_at = getattr(args, "save_at_seconds", ())
    if save_at and config.follows_budget():
        why = (f"{config.model}, a growing model," if config.resolved().model in GROWING_MODELS
               else f"lr decay ({config.lr_decay:g} of the budget; --lr-decay 0 turns it off)")
        raise UsageError(f"--save-at-seconds does not work with {why}: its schedule follows the budget, so a "
                         "checkpoint at S seconds is not an S-second run; run each budget on its own")
    if save_at and config.seconds is not None and max(save_at) >= config.seconds:
        raise UsageError(f"--save-at-seconds must be below --seconds {config.seconds:g}, got {max(save_at):g}")
    out = Path(args.out)
    launch = launch_info()
    if launch is not None:
        if save_at:
            raise UsageError("--save-at-seconds works in one process only, not under torchrun")
        if config.steps is None and config.follows_budget():
            raise UsageError("under torchrun, a schedule that follows the budget (a growing model or lr decay) needs "
                             "--steps: the ranks' clocks differ, so a --seconds budget would give each rank its own "
                             "schedule (or --lr-decay 0)")
        end = run_distributed(config, launch, out, args.name, args.init_from, show_progress=not args.no_progress)
        return EXIT_DIVERGED if end.diverged else 0
    return train_in_this_process(config, args, out)


def train_in_this_process(config: TrainConfig, args: argparse.Namespace, out: Path) -> int:
    import torch

    from gan_core.device import default_num_threads
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint
    from gan_core.train.loop import Budget, TrainingLoop
    from gan_core.train.progress import ProgressBar
    from gan_core.train.run_files import write_run_files
    from gan_core.train.trainer import Trainer

    torch.set_num_threads(config.num_threads or default_num_threads())  # oversubscribed cores run many times slower
    trainer = Trainer(config)
    if args.init_from:
        trainer.load_weights(load_checkpoint(resolve_checkpoint(args.init_from), trainer.device))
    if config.eval_every:
        from gan_core.eval.metrics import trainer_evaluator
        trainer.evaluator = trainer_evaluator(trainer)
    command_line = recorded_command(config.command(str(out)))
    print(f"training {trainer.config.model} on {config.dataset} ({trainer.data.source}) with {config.loss} loss "
          f"on {trainer.device}", file=sys.stderr)
    if trainer.data.note:
        print(f"note: {trainer.data.note}", file=sys.stderr)
    bar = ProgressBar(trainer.config.steps, show=not args.no_progress)
    save_at = SaveAtSeconds(getattr(args, "save_at_seconds", ()), config, out, args.name)

    def on_step(trainer: Trainer, row: dict[str, float] | None) -> None:
        bar(trainer, row)
        save_at(trainer, row)

    end = None
    started = time.perf_counter()
    try:
        end = TrainingLoop(trainer, Budget.of(trainer.config), on_step=on_step).run()
    except KeyboardInterrupt:
        print("interrupted: saving what was trained so far", file=sys.stderr)
    finally:
        bar.close()
    wall = time.perf_counter() - started
    diverged = end is not None and end.diverged
    path = write_run_files(trainer, out, args.name, command_line, wall, diverged)
    if diverged:
        print(f"error: {end.message}; the last good weights are in {path}", file=sys.stderr)
        return EXIT_DIVERGED
    last = trainer.history.last() or {}
    print(f"wrote {path} after {trainer.step_count} steps in {wall:.0f}s "
          f"(D loss {last.get('d_loss', float('nan')):.3f}, G loss {last.get('g_loss', float('nan')):.3f})")
    return 0


COMMANDS = (Command("train", add_train_args, run_train,
                    "train a GAN; writes OUT/NAME.safetensors + OUT/NAME.json and a sample grid"),)
