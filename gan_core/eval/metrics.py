"""Quality metrics measured inside the project, with the project's own classifiers.

Image models (mnist, fashion) are measured by two classifiers of different architecture, seed and
training split (gan_core.eval.classifier, gan_core.eval.splits): the "classifier" and the "judge".
A generator is judged by the worse of the two: the lower class accuracy, and the larger relative
Fréchet distance (the distance divided by the trace of the real features' covariance, because raw
distances in two feature spaces have different scales). For each classifier:
- classifier Fréchet distance: the Fréchet distance between Gaussians fitted to the penultimate-layer
  features of generated and real images, in the project's small CNN classifier (gan_core.eval.classifier).
  It is an offline, dataset-specific stand-in for FID — not FID (no Inception network) — so its values
  are comparable only between models of the same dataset measured with the same classifier and n.
- class accuracy (conditional models): share of samples the classifier recognises as the requested class.
- class coverage: entropy of the predicted-class histogram divided by log(num_classes) (1 = all classes
  equally often, 0 = one class only) and the largest class share — mode collapse shows in both.
2-D toys (ring8, grid25): modes covered (the one definition every page shows, MODES_COVERED_RULE) and the
share of high-quality points; spiral and moons, which have no modes: precision and recall at FIT_RADIUS.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from gan_core.data.datasets import TOY_DATASETS, load_dataset, sample_toy, toy_modes
from gan_core.io.checkpoint import atomic_write_bytes
from gan_core.settings import settings

logger = logging.getLogger(__name__)

EVAL_CHUNK = 1000
REAL_REFERENCE_MAX = 10000  # real images whose classifier features define the reference Gaussian
REAL_REFERENCE_MIN = 1000  # a test split smaller than this (emoji's) is joined by the train split in the reference
TRAINER_EVAL_SAMPLES = 500


MODES_COVERED_RULE = ("A mode counts as covered when at least 1/(4·K) of the generated points (a quarter of a "
                      "fair share, K = number of modes) lie within a quarter of the distance between neighbouring "
                      "modes of it.")


# The rule's parameters (the browser engine applies the same: gan_core.teach.browser_spec)
COVERAGE_RADIUS = 0.25  # a point counts for its nearest mode within this share of the spacing between modes
COVERAGE_SHARE = 0.25  # a mode is covered with at least this share of a fair share (1/K) of the points
HIGH_QUALITY_STDS = 4.0  # high_quality: within this many stds of the nearest mode


def toy_mode_metrics(points: torch.Tensor, modes: torch.Tensor, std: float,
                     n_std: float = HIGH_QUALITY_STDS) -> dict[str, Any]:
    """Modes covered, how the points share out over the modes, and the share of high-quality points.

    One definition of "modes covered" for every page (MODES_COVERED_RULE): a point counts for its nearest mode
    when it lies within a quarter of the spacing between neighbouring modes, and a mode is covered when at least
    1/(4K) of all points count for it. This tolerant radius sees collapse early in training, while the points
    are still blurry, and the share threshold keeps a few stray points from "covering" a mode. The strict
    measure of Srivastava et al. 2017 (VEEGAN) is kept as `high_quality`: the share of points within n_std
    standard deviations of their nearest mode (how sharp the points are, not how many modes they reach).
    """
    points, modes = points.float().cpu(), modes.float().cpu()
    spacing = torch.cdist(modes, modes).add(torch.eye(len(modes)) * 1e9).min().item() if len(modes) > 1 else 1.0
    nearest = torch.cdist(points, modes).min(1)
    near = nearest.values <= spacing * COVERAGE_RADIUS
    counts = torch.bincount(nearest.indices[near], minlength=len(modes))
    covered = int((counts >= max(1.0, COVERAGE_SHARE * len(points) / len(modes))).sum())
    return {"modes_covered": covered, "num_modes": len(modes), "near_share": float(near.float().mean()),
            "high_quality": float((nearest.values <= n_std * std).float().mean()), "mode_counts": counts.tolist()}


FIT_RADIUS = 0.1  # the continuous toys (spiral, moons): twice their noise std


def toy_fit_metrics(dataset: str, points: torch.Tensor, seed: int = 0, radius: float = FIT_RADIUS) -> dict[str, float]:
    """Precision and recall of 2-D points against as many fresh real ones, for the toys without modes.

    precision: the share of generated points within `radius` of a real point (are they on the curve?); recall: the
    share of real points within `radius` of a generated one (is all of the curve reached?). A fixed-radius form of
    Kynkäänniemi et al. 2019's precision and recall.
    """
    points = torch.as_tensor(points, dtype=torch.float32).cpu()
    real = sample_toy(dataset, len(points), generator=torch.Generator().manual_seed(seed))
    dist = torch.cdist(points, real)
    return {"precision": round(float((dist.min(1).values <= radius).float().mean()), 4),
            "recall": round(float((dist.min(0).values <= radius).float().mean()), 4)}


def toy_coverage(dataset: str, points: torch.Tensor | Any) -> dict[str, Any] | None:
    """toy_mode_metrics for a toy dataset by name (None for the continuous toys, which have no modes)."""
    modes, std = toy_modes(dataset)
    if modes is None:
        return None
    return toy_mode_metrics(torch.as_tensor(points, dtype=torch.float32), modes, std)


# ---------------------------------------------------------------- Fréchet distance

def feature_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) covariance of N x F features, in float64."""
    f = features.double()
    if len(f) < 2:
        raise ValueError("the Fréchet distance needs at least 2 samples")
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / (len(f) - 1)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix by eigen-decomposition."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) between two Gaussians.

    tr((S1 S2)^(1/2)) is computed as the sum of square roots of the eigenvalues of the symmetric
    matrix S1^(1/2) S2 S1^(1/2), which has the same eigenvalues as S1 S2 (no scipy needed).
    """
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    value = (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt
    return max(float(value), 0.0)


# ---------------------------------------------------------------- classifier-based pieces

def class_coverage(predicted: torch.Tensor, num_classes: int) -> dict[str, Any]:
    """Normalised entropy of the predicted-class histogram, the largest class share, classes present."""
    counts = torch.bincount(predicted.cpu().long(), minlength=num_classes).double()
    share = counts / counts.sum().clamp_min(1)
    nonzero = share[share > 0]
    entropy = float(-(nonzero * nonzero.log()).sum() / math.log(num_classes)) if num_classes > 1 else 1.0
    return {"class_entropy": entropy, "max_class_share": float(share.max()),
            "classes_present": int((counts > 0).sum()), "class_counts": [int(c) for c in counts]}


@functools.lru_cache(maxsize=8)
def _classifier(dataset: str, device: str, role: str = "classifier"):
    from gan_core.eval.classifier import load_classifier
    return load_classifier(dataset, device, role)


@functools.lru_cache(maxsize=8)
def real_feature_stats(dataset: str, device: str = "cpu", data_dir: str | None = None, role: str = "classifier"
                       ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(mean, covariance, n) of the classifier features of up to 10k real images (reference_images).

    MNIST here has only its 10k test split, which is also what the GANs were trained on; Fashion-MNIST's
    reference is its 10k test split, held out from GAN training. Cached per process, and on disk (the
    download folder's feature_stats/) under a key of the classifier's weights, the images and the device
    type, so each new `gan eval` process does not run the classifier over every real image again.
    """
    from gan_core.eval.classifier import classifier_path, features
    images = reference_images(dataset, data_dir)
    key = hashlib.sha256(classifier_path(dataset, role).with_suffix(".safetensors").read_bytes())
    key.update(images.contiguous().numpy().tobytes())
    key.update(torch.device(device).type.encode())
    cache = settings().download_dir / "feature_stats" / f"{dataset}-{role}-{key.hexdigest()[:24]}.safetensors"
    cached = _read_stats(cache)
    if cached is not None and cached[2] == len(images):
        return cached
    mu, sigma = feature_stats(features(_classifier(dataset, device, role), images))
    try:
        atomic_write_bytes(cache, save_safetensors_bytes({"mu": mu.contiguous(), "sigma": sigma.contiguous(),
                                                          "n": torch.tensor([len(images)])}))
    except OSError as exc:  # a read-only home: the stats are still right, only not kept
        logger.warning("could not keep the real images' feature statistics in %s: %s", cache, exc)
    return mu, sigma, len(images)


def reference_images(dataset: str, data_dir: str | None = None) -> torch.Tensor:
    """The real images the Fréchet distance compares with: the test split (up to REAL_REFERENCE_MAX), joined by
    the train split when the test split is small (emoji's 10%): a covariance of 128 features from a hundred-odd
    images would be mostly noise, and would dominate the distance."""
    images = load_dataset(dataset, data_dir, split="test", limit=REAL_REFERENCE_MAX).images
    if len(images) < min(REAL_REFERENCE_MIN, REAL_REFERENCE_MAX):
        train = load_dataset(dataset, data_dir, split="train", limit=REAL_REFERENCE_MAX - len(images)).images
        images = torch.cat([images, train])
    return images


def _read_stats(path: Path) -> tuple[torch.Tensor, torch.Tensor, int] | None:
    """Statistics kept by real_feature_stats, or None (not there, or unreadable: then they are recomputed)."""
    try:
        tensors = load_safetensors_bytes(path.read_bytes())
        return tensors["mu"], tensors["sigma"], int(tensors["n"][0])
    except FileNotFoundError:
        return None
    except (OSError, SafetensorError, KeyError, IndexError) as exc:
        logger.warning("recomputing the real images' feature statistics: %s is unreadable (%s)", path, exc)
        return None


@torch.inference_mode()
def image_metrics(images: torch.Tensor, dataset: str, labels: torch.Tensor | None = None,
                  device: str = "cpu", data_dir: str | None = None, role: str = "classifier") -> dict[str, Any]:
    """Fréchet distance, class coverage and (with requested labels) class accuracy of images, in one classifier.

    `role` picks the classifier ("classifier" or "judge"); the keys are the same for both.
    `relative_frechet_distance` is the distance over the trace of the real features' covariance.
    """
    model = _classifier(dataset, device, role)
    feats, preds = [], []
    for i in range(0, len(images), EVAL_CHUNK):
        h = model.features(images[i:i + EVAL_CHUNK].to(device).float())
        feats.append(h.double().cpu())
        preds.append(model.head(h).argmax(1).cpu())
    feats, preds = torch.cat(feats), torch.cat(preds)
    real_mu, real_sigma, _ = real_feature_stats(dataset, device, data_dir, role)
    mu, sigma = feature_stats(feats)
    distance = frechet_distance(mu, sigma, real_mu, real_sigma)
    out: dict[str, Any] = {"classifier_frechet_distance": distance,
                           "relative_frechet_distance": distance / max(float(real_sigma.trace()), 1e-12)}
    if labels is not None:
        out["class_accuracy"] = float((preds == labels.cpu().long()).double().mean())
    out.update(class_coverage(preds, model.num_classes))
    return out


def has_image_metrics(dataset: str, role: str = "classifier") -> bool:
    from gan_core.eval.classifier import CLASSIFIER_DATASETS, classifier_path
    return dataset in CLASSIFIER_DATASETS and classifier_path(dataset, role).with_suffix(".safetensors").is_file()


def judged(by_role: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The worse of each classifier's verdict: the lower class accuracy, the larger relative Fréchet distance.

    `judged_by` names the classifier each verdict came from (ties go to the first listed).
    """
    out: dict[str, Any] = {"judged_by": {}}
    fd_role = max(by_role, key=lambda r: by_role[r]["relative_frechet_distance"])
    out["judged_relative_frechet_distance"] = by_role[fd_role]["relative_frechet_distance"]
    out["judged_by"]["frechet_distance"] = fd_role
    with_accuracy = [r for r in by_role if "class_accuracy" in by_role[r]]
    if with_accuracy:
        acc_role = min(with_accuracy, key=lambda r: by_role[r]["class_accuracy"])
        out["judged_class_accuracy"] = by_role[acc_role]["class_accuracy"]
        out["judged_by"]["class_accuracy"] = acc_role
    return out


def two_classifier_metrics(images: torch.Tensor, dataset: str, labels: torch.Tensor | None = None,
                           device: str = "cpu", data_dir: str | None = None) -> dict[str, Any]:
    """The classifier's metrics (top-level keys, as before), the judge's (`judge_*` and `judge`), and the verdict.

    Without a shipped judge, only the classifier's metrics and a note.
    """
    out = image_metrics(images, dataset, labels, device, data_dir)
    if not has_image_metrics(dataset, "judge"):
        return dict(out, judge_note=f"no judge classifier for {dataset}: metrics from one classifier only")
    judge = image_metrics(images, dataset, labels, device, data_dir, role="judge")
    out["judge"] = judge
    out["judge_frechet_distance"] = judge["classifier_frechet_distance"]
    out["judge_relative_frechet_distance"] = judge["relative_frechet_distance"]
    if "class_accuracy" in judge:
        out["judge_class_accuracy"] = judge["class_accuracy"]
    out.update(judged({"classifier": out, "judge": judge}))
    return out


# ---------------------------------------------------------------- evaluating a generator

def _generate_chunks(generate: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
                     z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    out = [generate(z[i:i + EVAL_CHUNK], None if labels is None else labels[i:i + EVAL_CHUNK])
           for i in range(0, len(z), EVAL_CHUNK)]
    return torch.cat(out).float().cpu()


def evaluate(gan_or_generate_fn: Any, dataset: str | None = None, n: int = 2000, seed: int = 0,
             labels: str = "balanced", device: str = "cpu", data_dir: str | None = None) -> dict[str, Any]:
    """All metrics that apply to a generator, from n samples drawn with a fixed seed (deterministic).

    `gan_or_generate_fn` is a loaded checkpoint (gan_core.GAN) or a function `fn(n, seed) ->
    (samples, requested_labels_or_None)`. `labels` is "balanced", "random" or a class index for
    conditional models. Datasets without metrics (folders) give only a "note".
    """
    from gan_core.explore.latent import class_labels, sample_latents

    if not 2 <= n <= 100_000:
        raise ValueError(f"n must be in 2..100000, got {n}")
    if hasattr(gan_or_generate_fn, "generate") and hasattr(gan_or_generate_fn, "meta"):
        gan = gan_or_generate_fn
        dataset = dataset or gan.meta.get("dataset")
        y = class_labels(n, gan.num_classes, labels, seed=seed) if gan.num_classes else None
        z = sample_latents(n, gan.z_dim, seed=seed)
        samples = _generate_chunks(gan.generate, z, y)
    else:
        samples, y = gan_or_generate_fn(n, seed)
    result: dict[str, Any] = {"dataset": dataset, "n": n, "seed": seed}
    if not dataset:
        return dict(result, note="unknown dataset: no metrics")
    if not torch.isfinite(samples).all():
        return dict(result, note="samples contain NaN or inf")
    if dataset in TOY_DATASETS:
        modes, std = toy_modes(dataset)
        if modes is None:  # spiral, moons: how much of the curve the points reach, and how many lie on it
            return dict(result, **toy_fit_metrics(dataset, samples, seed=seed))
        return dict(result, **toy_mode_metrics(samples, modes, std))
    if not has_image_metrics(dataset):
        return dict(result, note=f"no project classifier for {dataset}: no image metrics")
    result.update(two_classifier_metrics(samples, dataset, y, device, data_dir))
    if y is not None:
        result["labels"] = labels if isinstance(labels, str) else int(labels)
    return result


LIVE_CHART_SKIP = ("relative_frechet_distance",)  # the live charts show the classifier's raw distance only


def trainer_evaluator(trainer, n: int = TRAINER_EVAL_SAMPLES, seed: int = 12345) -> Callable[[Any], dict[str, float]]:
    """A cheap metric function for Trainer.evaluator: fixed z (and balanced labels), cached real features.

    Returns only scalars (for charts). Computing it takes a fraction of a second, so with eval_every
    of a few hundred steps training slows by only a few per cent (see pretrained/README.md).
    """
    from gan_core.explore.latent import class_labels, sample_latents

    dataset = trainer.config.dataset
    z = sample_latents(n, trainer.config.z_dim, seed=seed)
    labels = class_labels(n, trainer.num_classes, "balanced") if trainer.conditional else None

    if dataset in TOY_DATASETS:
        modes, std = toy_modes(dataset)
        if modes is None:
            return lambda _trainer: {}

        def toy_eval(t) -> dict[str, float]:
            m = toy_mode_metrics(t.generate(z), modes, std)
            return {"modes_covered": m["modes_covered"], "high_quality": m["high_quality"]}
        return toy_eval

    if not has_image_metrics(dataset):
        return lambda _trainer: {}
    device = str(trainer.device) if trainer.device.type != "mps" else "cpu"
    real_feature_stats(dataset, device, trainer.config.data_dir)  # pay the one-off cost now, not mid-run

    def image_eval(t) -> dict[str, float]:
        samples = t.generate(z, labels)
        if not torch.isfinite(samples).all():
            return {}
        m = image_metrics(samples, dataset, labels, device, t.config.data_dir)
        return {k: v for k, v in m.items() if isinstance(v, (int, float)) and k not in LIVE_CHART_SKIP}
    return image_eval
