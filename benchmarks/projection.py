"""Draw -> latent (issue 28 item 4): does the projection keep the digit, and how long does one image take?

For each dataset with a shipped conditional model: the last `--n` test images (MNIST: the last 200 of the
10k found by gan_core.data.datasets' one lookup), each projected on its own, as a student's drawing is, with
the default settings (gan_core.explore.projection.DEFAULT_CONFIG). The independent judge
(pretrained/<dataset>-judge, never used by the projection itself) labels each projected image; the share it
labels as the original's class is the target (>= 90%), as is the median wall time per image (<= 1 s on 2
cores; `--threads` torch threads, 1 by default: batches of tens of candidates gain nothing from a second
thread and lose much to contention on a busy machine; the load average is recorded with it). Also reported: the judge
on the originals, the class the projection chose, CPU seconds per image, and one batched call over all the
images (what `gan project --images` does). Emoji is measured once emoji-cgan and emoji-judge are shipped;
until then its entry says why it was skipped.

Run: python -m benchmarks.projection [--n 200] [--threads 2] [--set steps=40,restarts=3]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from typing import Any

import torch

from benchmarks.common import percentile, write_result

TARGET_SHARE = 0.90
TARGET_SECONDS = 1.0
MODELS = {"mnist": "mnist-cgan", "emoji": "emoji-cgan"}


def measure(dataset: str, n: int, config: Any) -> dict[str, Any]:
    from gan_core.data.datasets import load_dataset
    from gan_core.eval.classifier import classifier_path, load_classifier, predict, shipped_classifier
    from gan_core.explore.projection import project_images
    from gan_core.io.checkpoint import list_pretrained, load_checkpoint, resolve_checkpoint

    model = MODELS[dataset]
    if model not in list_pretrained():
        return {"model": model, "skipped": f"{model} is not shipped yet (pretrained/{model}.safetensors)"}
    if not classifier_path(dataset, "judge").with_suffix(".json").is_file():
        return {"model": model, "skipped": f"no independent judge for {dataset} (pretrained/{dataset}-judge)"}
    gan = load_checkpoint(resolve_checkpoint(model))
    judge = load_classifier(dataset, role="judge")
    data = load_dataset(dataset, split="test")
    images, labels = data.images[-n:], data.labels[-n:]
    features = shipped_classifier(dataset)  # the project classifier's features (never the judge's)
    project_images(gan, images[:1], config=config, classifier=features)  # warm-up, as a server would
    walls, cpus, found, chosen = [], [], [], []
    load_before = os.getloadavg()[0]
    for i in range(len(images)):
        c0 = time.process_time()
        p = project_images(gan, images[i:i + 1], config=config, seed=0, classifier=features)
        cpus.append(time.process_time() - c0)
        walls.append(p.seconds)
        found.append(p.images)
        chosen.append(int(p.labels[0]))
    load_after = os.getloadavg()[0]
    projected = torch.cat(found)
    judged = predict(judge, projected)
    batch = project_images(gan, images, config=config, seed=0, classifier=features)
    share = float((judged == labels).float().mean())
    return {
        "model": model, "images": len(images), "source": f"the last {len(images)} of the {data.name} test split "
                                                       f"({len(data.images)} images; {data.source})",
        "judge_share_original_class": round(share, 4),
        "judge_on_originals": round(float((predict(judge, images) == labels).float().mean()), 4),
        "projection_class_share": round(float((torch.tensor(chosen) == labels).float().mean()), 4),
        "judge_agrees_with_projection_class": round(float((judged == torch.tensor(chosen)).float().mean()), 4),
        "median_s_per_image": round(statistics.median(walls), 3),
        "p90_s_per_image": round(percentile(walls, 90), 3),
        "median_cpu_s_per_image": round(statistics.median(cpus), 3),
        "batch_s_per_image": round(batch.seconds / len(images), 3),
        "batch_judge_share": round(float((predict(judge, batch.images) == labels).float().mean()), 4),
        "median_pixel_distance": round(float((projected - images).pow(2).flatten(1).mean(1).median()), 4),
        "feature_space": p.feature_space,
        "loadavg_1m_before_after": [round(load_before, 2), round(load_after, 2)],
        "target_met": share >= TARGET_SHARE and statistics.median(walls) <= TARGET_SECONDS,
    }


def parse_overrides(text: str) -> dict[str, Any]:
    """"steps=40,lr=0.05" -> {"steps": 40, "lr": 0.05} (ints stay ints)."""
    out: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=", 1)
        out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
    return out


def main(argv: list[str] | None = None) -> dict:
    from gan_core.explore.projection import DEFAULT_CONFIG

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="test images per dataset (the last n)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the projection's ops are small; the machine has 2 cores)")
    parser.add_argument("--datasets", default="mnist,emoji")
    parser.add_argument("--set", default="", help="override DEFAULT_CONFIG fields, e.g. steps=40,restarts=3")
    parser.add_argument("--name", default="projection", help="result file name (benchmarks/results/NAME.json)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = dataclasses.replace(DEFAULT_CONFIG, **parse_overrides(args.set)).validate()
    results = {name: measure(name, args.n, config) for name in args.datasets.split(",") if name}
    measured = [r for r in results.values() if "skipped" not in r]
    return write_result(args.name, {
        "config": dataclasses.asdict(config), "torch_threads": args.threads,
        "targets": {"judge_share_original_class": TARGET_SHARE, "median_s_per_image": TARGET_SECONDS},
        "datasets": results, "target_met": bool(measured) and all(r["target_met"] for r in measured)})


if __name__ == "__main__":
    main()
