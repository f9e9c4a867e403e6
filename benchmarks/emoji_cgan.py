"""The shipped colour model: emoji-cgan's category accuracy in both classifiers, as a share of each one's accuracy
on real held-out emoji, its Fréchet distance in both feature spaces, and its training time (from its card).

Target (issue 28): generated category accuracy at least 80% of real accuracy, in the project classifier and in the
independent judge. Usage: python -m benchmarks.emoji_cgan [--n 2000] [--model emoji-cgan]
"""
from __future__ import annotations

import argparse
import time

from benchmarks.common import hardware, write_result

TARGET_SHARE = 0.8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="emoji-cgan")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from gan_core.eval.classifier import load_classifier
    from gan_core.eval.metrics import evaluate
    from gan_core.io.checkpoint import load_checkpoint, resolve_checkpoint

    gan = load_checkpoint(resolve_checkpoint(args.model), "cpu", with_discriminator=False)
    started = time.perf_counter()
    metrics = evaluate(gan, n=args.n, seed=args.seed, labels="balanced", device="cpu")
    eval_seconds = time.perf_counter() - started
    roles = {}
    for role, prefix in (("classifier", ""), ("judge", "judge_")):
        real = float(load_classifier(gan.meta["dataset"], "cpu", role).meta["test_accuracy"])
        generated = float(metrics[f"{prefix}class_accuracy"])
        roles[role] = {"real_accuracy": real, "generated_accuracy": generated,
                       "share_of_real": round(generated / real, 4),
                       "frechet_distance": round(float(metrics[f"{prefix or 'classifier_'}frechet_distance"]), 3)}
    meta = gan.meta
    write_result("emoji_cgan", {
        "model": args.model, "n": args.n, "seed": args.seed, "dataset": meta["dataset"],
        "architecture": meta["model"], "classifier": roles["classifier"], "judge": roles["judge"],
        "class_entropy": metrics.get("class_entropy"),
        "training": {"steps": meta.get("steps"), "train_seconds": meta.get("train_seconds"),
                     "hardware": meta.get("hardware"), "command": meta.get("command")},
        "target": f"generated category accuracy >= {TARGET_SHARE:.0%} of real accuracy in both classifiers",
        "target_met": all(r["share_of_real"] >= TARGET_SHARE for r in roles.values()),
        "eval_seconds": round(eval_seconds, 1), "hardware": hardware()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
