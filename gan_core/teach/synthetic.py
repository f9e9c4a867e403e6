"""Does synthetic data help a small-data classifier? The Apply page's experiment (no Streamlit here).

Keep K real labelled examples per class, then train the project's SmallCNN on (a) those only and
(b) those plus N synthetic images per class from a conditional generator, over a few seeds, and
compare test accuracy. The same real examples are used by both arms within a seed, so the
comparison is paired. Test images are never among the real training examples.

MNIST caveat: only MNIST's official 10k test split is on disk here. It is split into a test part
and a pool for the real examples — and the shipped MNIST generator was trained on all 10k,
including the test part, so its samples may resemble test digits. That favours arm (b), and
`ExperimentData.note` says so. Fashion-MNIST and emoji (colour, 3 x 32 x 32) use their own train split
for the real examples and their separate test split for testing; the classifier takes the images'
channels and size.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from gan_core.data.datasets import IMAGE_DATASETS, load_dataset
from gan_core.eval.classifier import image_background, predict, train_classifier
from gan_core.explore.latent import class_labels, sample_latents
from gan_core.io.checkpoint import GAN

logger = logging.getLogger(__name__)
ARMS = ("real", "real+synthetic")
ARM_LABELS = {"real": "(a) real only", "real+synthetic": "(b) real + synthetic"}
SPLIT_SEED = 2024  # fixed: the test/pool split never depends on the experiment's seeds
SUPPORTED_DATASETS = IMAGE_DATASETS  # the labelled built-in image datasets: mnist, fashion, emoji
NOISE_BAND = (" The ± is twice the standard error of the paired difference: on each seed both arms train on the "
              "same real images, so each seed gives one difference, (b) minus (a). These differences vary from seed "
              "to seed; their average counts as an effect only when it lies outside ± twice their standard "
              "deviation divided by √(number of seeds), since inside that band it could be chance.")

DATASET_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST", "emoji": "emoji"}  # as the notes write them

ProgressFn = Callable[[float, str], None]


class ExperimentCancelled(RuntimeError):
    """The user stopped the experiment."""


@dataclass
class ExperimentConfig:
    """Defaults finish in well under a minute on 2 CPU cores, with one torch thread, even on a busy machine
    (the measured time: benchmarks/RESULTS.md)."""

    real_per_class: int = 10
    synthetic_per_class: int = 100
    seeds: int = 3
    steps: int = 100
    batch_size: int = 32
    test_size: int = 1000
    truncation: float = 1.0
    augment: bool = False

    def validate(self) -> ExperimentConfig:
        if not 1 <= self.real_per_class <= 1000:
            raise ValueError("real examples per class must be 1..1000")
        if not 0 <= self.synthetic_per_class <= 5000:
            raise ValueError("synthetic examples per class must be 0..5000")
        if not 1 <= self.seeds <= 20:
            raise ValueError("seeds must be 1..20")
        if self.steps < 1 or self.batch_size < 1 or self.test_size < 10:
            raise ValueError("steps and batch size must be >= 1 and the test set >= 10 images")
        if not 0.0 <= self.truncation <= 2.0:
            raise ValueError("truncation must be in [0, 2]")
        return self


@dataclass
class ExperimentData:
    """Labelled real images: a pool to draw the real examples from, and a disjoint test set."""

    dataset: str
    class_names: tuple[str, ...]
    pool_x: torch.Tensor
    pool_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    note: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_experiment_data(dataset: str, test_size: int = 2000, data_dir: str | None = None) -> ExperimentData:
    """The real pool and the test set for a labelled built-in image dataset, disjoint by construction."""
    if dataset not in SUPPORTED_DATASETS:
        raise ValueError(f"the experiment needs a labelled image dataset ({', '.join(SUPPORTED_DATASETS)}); "
                         f"got {dataset!r}")
    gen = torch.Generator().manual_seed(SPLIT_SEED)
    test = load_dataset(dataset, data_dir, split="test")
    train = load_dataset(dataset, data_dir, split="train")
    if not train.note:  # a real train split exists: test comes from the separate test split
        pick = torch.randperm(len(test.images), generator=gen)[:test_size]
        return ExperimentData(dataset, tuple(train.class_names), train.images, train.labels,
                              test.images[pick], test.labels[pick],
                              f"Real examples come from {DATASET_NAMES.get(dataset, dataset)}'s train split; "
                              "test images from its separate test split.")
    # Only one split on disk (MNIST here): split it once, with a fixed seed.
    n = len(test.images)
    test_size = min(test_size, n // 2)
    order = torch.randperm(n, generator=gen)
    test_idx, pool_idx = order[:test_size], order[test_size:]
    note = (f"Only {dataset.upper() if dataset == 'mnist' else dataset}'s official 10k test split is available "
            f"here. It is split once: {test_size} images for testing, the other {len(pool_idx)} are the pool the "
            "real examples are drawn from (never the same image in both). Every MNIST generator here (shipped or "
            "trained in this app) learned from these same 10k images, test part included, so its samples may "
            "resemble test images: this favours (b).")
    return ExperimentData(dataset, tuple(test.class_names), test.images[pool_idx], test.labels[pool_idx],
                          test.images[test_idx], test.labels[test_idx], note)


@dataclass
class ArmResult:
    name: str
    accuracies: list[float] = field(default_factory=list)
    confusion: np.ndarray | None = None  # true class x predicted class, counts summed over seeds

    @property
    def label(self) -> str:
        return ARM_LABELS[self.name]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies)) if self.accuracies else float("nan")

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (0 for a single seed)."""
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    dataset: str
    class_names: tuple[str, ...]
    generator_name: str
    arms: dict[str, ArmResult]
    n_test: int
    note: str
    seconds: float
    cpu_seconds: float
    generator_class_accuracy: float | None = None  # share of synthetic images the project's classifier labels as asked

    @property
    def paired_differences(self) -> list[float]:
        """Per seed: accuracy of (b) minus accuracy of (a), on the same real examples."""
        real, with_synthetic = self.arms["real"].accuracies, self.arms["real+synthetic"].accuracies
        return [b - a for a, b in zip(real, with_synthetic, strict=True)]

    def verdict(self) -> tuple[str, str]:
        """("helped" | "hurt" | "unclear", one honest sentence), judged on the paired differences."""
        diffs = np.array(self.paired_differences)
        mean = float(diffs.mean())
        points = f"{100 * mean:+.1f} percentage points"
        if len(diffs) < 2:
            return "unclear", (f"Synthetic data changed accuracy by {points} on one seed; run more seeds "
                               "before concluding anything.")
        se = float(diffs.std(ddof=1)) / math.sqrt(len(diffs))
        if mean > 2 * se and mean > 0.002:
            return "helped", f"Synthetic data helped: {points} on average, consistently across {len(diffs)} seeds."
        if mean < -2 * se and mean < -0.002:
            return "hurt", (f"Synthetic data hurt: {points} on average across {len(diffs)} seeds. With this many "
                            "real examples (or this generator), the synthetic images do not add useful information."
                            + self._generator_remark())
        return "unclear", (f"Synthetic data did not clearly help: {points} on average, within the seed-to-seed "
                           f"noise (± {100 * 2 * se:.1f} points)." + NOISE_BAND + self._generator_remark())

    def _generator_remark(self) -> str:
        acc = self.generator_class_accuracy
        if acc is None or acc >= 0.9:
            return ""
        return (f" The project's classifier recognises only {100 * acc:.0f}% of the synthetic images as the class "
                "they were generated for, so many of them carry wrong or unclear labels.")

    def table(self) -> list[dict[str, object]]:
        """One row per arm: mean, std and per-seed accuracies (in %)."""
        return [{"training data": arm.label, "mean accuracy %": round(100 * arm.mean, 2),
                 "± std %": round(100 * arm.std, 2), "seeds": len(arm.accuracies),
                 "per seed %": ", ".join(f"{100 * a:.1f}" for a in arm.accuracies)}
                for arm in self.arms.values()]


def pick_real_examples(data: ExperimentData, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` random pool images of every class (fewer if the pool has fewer)."""
    gen = torch.Generator().manual_seed(seed)
    keep = []
    for c in range(data.num_classes):
        idx = (data.pool_y == c).nonzero().flatten()
        keep.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]])
    keep = torch.cat(keep)
    return data.pool_x[keep], data.pool_y[keep]


def synthetic_examples(gan: GAN, per_class: int, seed: int, truncation: float = 1.0,
                       chunk: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` generated images of every class (balanced, in class order)."""
    n_classes = gan.num_classes or 0
    n = per_class * n_classes
    if n == 0:
        return torch.zeros(0, *gan.image_shape), torch.zeros(0, dtype=torch.long)
    z = sample_latents(n, gan.z_dim, seed=seed, truncation=truncation)
    y = class_labels(n, n_classes, "balanced")
    x = torch.cat([gan.generate(z[i:i + chunk], y[i:i + chunk]) for i in range(0, n, chunk)])
    return x.clamp(-1, 1), y


def check_compatible(gan: GAN, data: ExperimentData) -> None:
    """The generator must be conditional, on images shaped like the data, with the same number of classes."""
    if not gan.num_classes:
        raise ValueError(f"{gan.name} is not conditional: the experiment needs a generator that takes class labels")
    if gan.kind != "image" or tuple(gan.image_shape or ()) != tuple(data.pool_x.shape[1:]):
        raise ValueError(f"{gan.name} makes images of shape {gan.image_shape}; "
                         f"the data is {tuple(data.pool_x.shape[1:])}")
    if gan.num_classes != data.num_classes:
        raise ValueError(f"{gan.name} has {gan.num_classes} classes; {data.dataset} has {data.num_classes}")


def generator_class_accuracy(images: torch.Tensor, labels: torch.Tensor, dataset: str) -> float | None:
    """How often the project's shipped classifier agrees with the requested class (None without a classifier)."""
    if len(images) == 0:
        return None
    from gan_core.eval.classifier import accuracy, load_classifier
    from gan_core.io.checkpoint import CheckpointError
    try:
        return accuracy(load_classifier(dataset), images, labels)
    except (CheckpointError, ValueError):
        return None


def _confusion(pred: torch.Tensor, true: torch.Tensor, k: int) -> np.ndarray:
    return np.bincount((true.long() * k + pred.long()).numpy(), minlength=k * k).reshape(k, k)


def run_experiment(gan: GAN, data: ExperimentData, config: ExperimentConfig | None = None,
                   progress: ProgressFn | None = None, stop: threading.Event | None = None) -> ExperimentResult:
    """Train both arms over `config.seeds` seeds; progress(fraction, message) after every piece of work."""
    config = (config or ExperimentConfig()).validate()
    check_compatible(gan, data)
    k = data.num_classes
    test_x, test_y = data.test_x[:config.test_size], data.test_y[:config.test_size]
    arms = {name: ArmResult(name, [], np.zeros((k, k), dtype=np.int64)) for name in ARMS}
    units, done = config.seeds * 3, 0
    wall0, cpu0 = time.perf_counter(), time.process_time()

    def tick(message: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done / units, message)
        if stop is not None and stop.is_set():
            raise ExperimentCancelled("stopped by the user")

    if progress:
        progress(0.0, "starting")
    generator_accuracy = None
    background = image_background(data.pool_x)  # shifted images are padded with it (white for emoji)
    for s in range(config.seeds):
        real_x, real_y = pick_real_examples(data, config.real_per_class, seed=s)
        syn_x, syn_y = synthetic_examples(gan, config.synthetic_per_class, seed=10_000 + s,
                                          truncation=config.truncation)
        if s == 0:
            generator_accuracy = generator_class_accuracy(syn_x, syn_y, data.dataset)
        tick(f"seed {s + 1}/{config.seeds}: generated {len(syn_x)} synthetic images")
        for name, (x, y) in (("real", (real_x, real_y)),
                             ("real+synthetic", (torch.cat([real_x, syn_x]), torch.cat([real_y, syn_y])))):
            model = train_classifier(x, y, k, steps=config.steps, batch_size=config.batch_size, seed=s,
                                     augment=config.augment, background=background)
            pred = predict(model, test_x)
            arms[name].accuracies.append(float((pred == test_y).float().mean()))
            arms[name].confusion += _confusion(pred, test_y, k)
            tick(f"seed {s + 1}/{config.seeds}: {ARM_LABELS[name]} → {100 * arms[name].accuracies[-1]:.1f}%")
    return ExperimentResult(config, data.dataset, data.class_names, gan.name, arms, len(test_x), data.note,
                            time.perf_counter() - wall0, time.process_time() - cpu0, generator_accuracy)


@dataclass(frozen=True)
class ExperimentProgress:
    """Where an experiment is: what the Apply page shows while it runs, and its result once done."""

    fraction: float = 0.0  # 0..1 of the work
    message: str = "waiting"  # the piece of work being done; "done", "stopped" or "failed" at the end
    result: ExperimentResult | None = None
    error: str | None = None  # why it stopped or failed
    done: bool = False
    elapsed: float = 0.0  # seconds since the job was made
    stopping: bool = False  # a stop was asked for and the current piece of work is finishing


class ExperimentJob:
    """Runs one experiment in a background thread; the page polls `snapshot()` (never touches the thread's data)."""

    def __init__(self, gan: GAN, data: ExperimentData, config: ExperimentConfig,
                 num_threads: int | None = None) -> None:
        from gan_core.device import default_num_threads

        # All cores but one (one torch thread on 2 cores): leaves a core to the server, and on a shared 2-core CPU
        # two threads of small convolutions mostly wait for each other (measured under load: several times the
        # CPU time per classifier training; benchmarks/RESULTS.md). torch.set_num_threads in _run applies to this
        # thread only.
        self._num_threads = num_threads or default_num_threads()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._state = ExperimentProgress()  # replaced (never changed in place) under self._lock
        self._thread = threading.Thread(target=self._run, args=(gan, data, config), daemon=True,
                                        name="apply-experiment")

    def start(self) -> ExperimentJob:
        self._thread.start()
        return self

    def _progress(self, fraction: float, message: str) -> None:
        with self._lock:
            self._state = replace(self._state, fraction=float(fraction), message=message)

    def _run(self, gan: GAN, data: ExperimentData, config: ExperimentConfig) -> None:
        torch.set_num_threads(self._num_threads)  # per thread (OpenMP): the server's threads are not touched
        try:
            result = run_experiment(gan, data, config, self._progress, self._stop)
            with self._lock:
                self._state = replace(self._state, result=result, fraction=1.0, message="done")
        except ExperimentCancelled as exc:
            with self._lock:
                self._state = replace(self._state, error=str(exc), message="stopped")
        except Exception as exc:  # shown on the page; the thread must end cleanly
            logger.exception("Apply experiment failed (%s)", config)
            with self._lock:
                self._state = replace(self._state, error=f"{type(exc).__name__}: {exc}", message="failed")
        finally:
            with self._lock:
                self._state = replace(self._state, done=True, elapsed=time.monotonic() - self._started)

    def snapshot(self) -> ExperimentProgress:
        """A copy of the progress; elapsed counts on until the experiment is done."""
        with self._lock:
            state = self._state
        if state.done:
            return state
        return replace(state, elapsed=time.monotonic() - self._started, stopping=self._stop.is_set())

    def request_stop(self) -> None:
        """Ask the thread to stop after its current piece of work (one classifier training at most)."""
        self._stop.set()

    def cancel(self, timeout: float = 60.0) -> bool:
        """request_stop, then wait; True when the thread has ended."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()
