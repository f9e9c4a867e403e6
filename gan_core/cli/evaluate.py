"""Command line for quality: `eval` (metrics of a checkpoint) and `train-classifier` (the project classifiers).

Listed in COMMANDS below; gan_core.cli.main builds the parser from it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gan_core.cli.common import Command, UsageError

# ---------------------------------------------------------------- eval

def _eval_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a shipped model's name (e.g. mnist-cgan) or a checkpoint path")
    parser.add_argument("--n", type=int, default=2000, help="how many samples (default 2000)")
    parser.add_argument("--labels", default="balanced", help="balanced, random or a class index K (conditional models)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--data-dir", help="where the real images are, if not found by the usual lookup")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object instead of a table")
    parser.add_argument("--record", action="store_true",
                        help="also store the result as the checkpoint's \"metrics\" in its NAME.json (model cards)")


def run_eval(args: argparse.Namespace) -> int:
    from gan_core.device import pick_device
    from gan_core.eval.metrics import evaluate
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint

    if not 10 <= args.n <= 100_000:
        raise UsageError(f"--n must be in 10..100000, got {args.n}")
    if args.labels not in ("balanced", "random") and not args.labels.lstrip("-").isdigit():
        raise UsageError(f"--labels must be balanced, random or a class index, got {args.labels!r}")
    device = pick_device(args.device)
    path = resolve_checkpoint(args.model)
    gan = load_checkpoint(path, device, with_discriminator=False)
    started = time.perf_counter()
    result = evaluate(gan, n=args.n, seed=args.seed, labels=args.labels, device=str(device), data_dir=args.data_dir)
    result = {"model": gan.name, "checkpoint": str(path), "architecture": gan.meta["model"], **result,
              "eval_seconds": round(time.perf_counter() - started, 2)}
    if args.record:
        record_metrics(path, result, eval_command=" ".join(
            ["python -m gan_core eval --model", args.model, "--n", str(args.n), "--seed", str(args.seed),
             "--labels", args.labels]))
    if args.json:
        print(json.dumps(result))
    else:
        print(format_table(result))
    return 0


def record_metrics(path: Path, result: dict, eval_command: str) -> None:
    """Write `result` into the checkpoint's NAME.json as "metrics", leaving the rest of it as it was."""
    from gan_core.io.checkpoint import update_checkpoint_meta

    metrics = {k: v for k, v in result.items() if k not in ("checkpoint", "eval_seconds")}
    update_checkpoint_meta(path, metrics={**metrics, "eval_command": eval_command})


LABELS = {
    "classifier_frechet_distance": "classifier Fréchet distance (lower is better; not FID)",
    "judge_frechet_distance": "judge Fréchet distance (its own feature space)",
    "judged_relative_frechet_distance": "judged: worse relative Fréchet distance",
    "class_accuracy": "class accuracy (recognised as requested)",
    "judge_class_accuracy": "judge class accuracy",
    "judged_class_accuracy": "judged: lower class accuracy",
    "class_entropy": "class coverage: normalised entropy (1 = even)",
    "max_class_share": "largest class share",
    "classes_present": "classes present",
    "modes_covered": "modes covered",
    "high_quality": "high-quality points (within 4 std of a mode)",
    "precision": "precision (share of points within 0.1 of the data)",
    "recall": "recall (share of the data within 0.1 of a point)",
}


def format_table(result: dict) -> str:
    """Two aligned columns: what was measured, and its value."""
    rows = [("model", result.get("model")), ("dataset", result.get("dataset")), ("samples", result.get("n")),
            ("seed", result.get("seed"))]
    for key, label in LABELS.items():
        if key not in result:
            continue
        value = result[key]
        if key == "modes_covered":
            value = f"{value} / {result.get('num_modes')}"
        elif key == "classes_present":
            value = f"{value} / {len(result.get('class_counts', []))}"
        elif key in ("class_accuracy", "judge_class_accuracy", "judged_class_accuracy", "high_quality",
                     "max_class_share"):
            value = f"{100 * value:.1f}%"
        elif isinstance(value, float):
            value = f"{value:.3f}"
        if key.startswith("judged_"):  # judged_class_accuracy -> judged_by["class_accuracy"]
            value = f"{value} (by the {result['judged_by'][key[len('judged_'):].replace('relative_', '')]})"
        rows.append((label, value))
    for key in ("class_counts", "mode_counts"):
        if key in result:
            rows.append((key.replace("_", " "), " ".join(map(str, result[key]))))
    for key in ("note", "judge_note"):
        if key in result:
            rows.append((key.replace("_", " "), result[key]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


# ---------------------------------------------------------------- train-classifier

def _classifier_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="mnist, fashion or emoji")
    parser.add_argument("--role", default="classifier", choices=("classifier", "judge"),
                        help="classifier (SmallCNN) or the independent judge (VGGStyleCNN, its own split)")
    parser.add_argument("--out", required=True, help="output path without suffix, e.g. pretrained/mnist-classifier")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-augment", action="store_true", help="no random 2-pixel shifts")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir")


def split_for_classifier(dataset: str, data_dir: str | None = None, role: str = "classifier"):
    """(train images, train labels, test images, test labels, description, source): see gan_core.eval.splits."""
    from gan_core.eval.splits import classifier_split

    split = classifier_split(dataset, role, data_dir)
    return (split.train_images, split.train_labels, split.test_images, split.test_labels, split.description,
            split.source)


def run_train_classifier(args: argparse.Namespace) -> int:
    import torch

    from gan_core.device import pick_device
    from gan_core.eval.classifier import (
        CLASSIFIER_DATASETS,
        accuracy,
        image_background,
        save_classifier,
        train_classifier,
    )
    from gan_core.train.trainer import hardware_summary

    if args.dataset not in CLASSIFIER_DATASETS:
        raise UsageError(f"--dataset must be one of {', '.join(CLASSIFIER_DATASETS)}, got {args.dataset!r}")
    if not 1 <= args.steps <= 1_000_000:
        raise UsageError(f"--steps must be in 1..1000000, got {args.steps}")
    if not 1 <= args.batch_size <= 4096:
        raise UsageError(f"--batch-size must be in 1..4096, got {args.batch_size}")
    if not 0 < args.lr <= 1:
        raise UsageError(f"--lr must be in (0, 1], got {args.lr}")
    device = pick_device(args.device)
    x_train, y_train, x_test, y_test, text, source = split_for_classifier(args.dataset, args.data_dir, args.role)
    architecture = "VGGStyleCNN" if args.role == "judge" else "SmallCNN"
    print(f"training the {args.dataset} {args.role} ({architecture}) on {len(x_train)} images ({text})",
          file=sys.stderr)
    started = time.perf_counter()
    num_classes = int(torch.cat([y_train, y_test]).max()) + 1
    background = image_background(x_train)  # -1 (MNIST's black ground) or +1 (emoji's white)
    model = train_classifier(x_train, y_train, num_classes, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                             seed=args.seed, device=device, augment=not args.no_augment, architecture=architecture,
                             photometric=args.role == "judge", background=background)
    seconds = time.perf_counter() - started
    test_acc = accuracy(model, x_test, y_test)
    train_acc = accuracy(model, x_train[:5000], y_train[:5000])
    invoked = sys.argv[0].endswith(("gan_core", "__main__.py"))
    meta = {"dataset": args.dataset, "role": args.role, "architecture": architecture, "steps": args.steps,
            "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "augment": not args.no_augment,
            "photometric": args.role == "judge", "shift_background": background,
            "train_images": len(x_train), "test_images": len(x_test),
            "test_accuracy": round(test_acc, 4), "train_accuracy_first_5000": round(train_acc, 4),
            "data": text, "data_source": source, "train_seconds": round(seconds, 1),
            "hardware": hardware_summary(device), "torch": torch.__version__,
            "command": "python -m gan_core " + " ".join(sys.argv[1:]) if invoked
            else f"python -m gan_core train-classifier --dataset {args.dataset} --role {args.role} --out {args.out} "
                 f"--steps {args.steps} --seed {args.seed}"}
    path = save_classifier(model, Path(args.out), meta)
    print(f"wrote {path}: held-out accuracy {100 * test_acc:.2f}% on {len(x_test)} images after {seconds:.0f}s")
    return 0


COMMANDS = (
    Command("eval", _eval_args, run_eval,
            "quality metrics of a checkpoint from both metric classifiers (Fréchet distance, class accuracy "
            "and coverage), toy modes"),
    Command("train-classifier", _classifier_args, run_train_classifier,
            "train a metric classifier for mnist, fashion or emoji: the classifier or the judge"),
)
