"""The training configuration: one dataclass shared by the command line and the app."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from gan_core.data.datasets import IMAGE_DATASETS, TOY_DATASETS
from gan_core.nn.losses import LOSS_NAMES, get_loss
from gan_core.nn.models import (
    GROWING_MODELS,
    MODEL_NAMES,
    TOY_DEPTH,
    TOY_DEPTH_RANGE,
    TOY_HIDDEN,
    TOY_HIDDEN_RANGE,
)

# The defaults that depend on the data, chosen by measurement (benchmarks/recipes.py, benchmarks/RESULTS.md):
LABELLED_IMAGE_MODEL = "cgan-mlp-proj"  # mnist, fashion: conditional MLP GAN with a projection discriminator
UNLABELLED_IMAGE_MODEL = "dcgan"  # folder:PATH datasets
FAST_LR_MODELS = ("mlp", "cgan-mlp", "cgan-mlp-proj", "dcgan")  # their G learns fastest at FAST_LR
FAST_LR = 5e-4
# ... and their D slower, at SLOW_D_LR (TTUR): a higher judge accuracy for cgan-mlp-proj and a lower Fréchet distance
# for the unconditional DCGAN than with D at G's rate (benchmarks/RESULTS.md, "Recipes"; D at 5e-4 like G is the
# other MLPs' default)
SLOW_D_MODELS = ("cgan-mlp-proj", "dcgan")
SLOW_D_LR = 2e-4
BASE_LR = 2e-4  # cgan-dcgan and the growing models (DCGAN's Adam 2e-4)
IMAGE_BETA1 = 0.5  # Adam's beta1 for the image models (DCGAN's)
# The 2-D toys' recipe, chosen by measurement over seeds (benchmarks/toy_defaults.py, benchmarks/RESULTS.md) to
# keep the promise of `gan train --dataset ring8 --model toy --seconds 20`: Adam without momentum (the game's
# gradient field rotates, and momentum carries each player past its turn: Gidel et al. 2019), at 5x DCGAN's rate
TOY_LR = 1e-3
TOY_BETA1 = 0.0
TOY_BATCH = 256
OPTIMIZER_NAMES = ("adam", "sgd")
# The ranges validate() accepts (the browser engine's limits come from here too: gan_core.teach.browser_spec)
LR_RANGE = (0.0, 1.0)  # (exclusive, inclusive]
BATCH_RANGE = (1, 4096)
Z_DIM_RANGE = (1, 1024)
BETA_RANGE = (0.0, 1.0)  # [inclusive, exclusive)
N_CRITIC_RANGE = (1, 20)
PENALTY_MAX = 1000.0  # gp_weight and r1_gamma in [0, PENALTY_MAX]
LABEL_SMOOTHING_MAX = 0.5
IMAGE_EMA_DECAY = 0.999  # image models sample from an EMA of G's weights (with a warm-up: trainer.ema_warmup)


@dataclass
class TrainConfig:
    """Everything that defines a training run. None means "the dataset's default" (see `resolved`)."""

    dataset: str = "ring8"
    model: str | None = None  # toy for 2-D data, LABELLED_IMAGE_MODEL for mnist/fashion, dcgan otherwise
    loss: str = "nonsaturating"
    z_dim: int | None = None  # 2 for toys (a plane G maps onto the data), 64 for images
    batch_size: int | None = None  # TOY_BATCH for toys (cheap points), 64 for images
    lr_g: float | None = None  # TOY_LR for toys, FAST_LR for FAST_LR_MODELS, BASE_LR otherwise
    lr_d: float | None = None  # SLOW_D_LR for SLOW_D_MODELS, else as lr_g
    beta1: float | None = None  # Adam's beta1 (G's, and D's unless beta1_d is set); TOY_BETA1 / IMAGE_BETA1
    beta1_d: float | None = None  # D's Adam beta1; None = beta1
    beta2: float = 0.999
    optimizer_g: str = "adam"  # adam or sgd (plain, no momentum)
    optimizer_d: str = "adam"
    n_critic: int | None = None  # D steps per G step; 5 for wgan-gp, else 1
    gp_weight: float = 10.0  # WGAN-GP penalty weight
    r1_gamma: float = 0.0  # R1 penalty gamma; 0 = off
    label_smoothing: float = 0.0  # one-sided: real target 1 - s
    augment: bool = False  # DiffAugment translation + cutout
    ema_decay: float | None = None  # EMA of G's weights; 0 = off; IMAGE_EMA_DECAY for images, off for toys
    lr_decay: float = 0.0  # last share of the budget over which both lrs fall linearly to 0; 0 = constant
    seed: int = 0
    device: str = "auto"
    steps: int | None = None  # budget in steps ...
    seconds: float | None = None  # ... or in wall-clock seconds
    data_dir: str | None = None
    data_limit: int | None = None  # use only the first N images (small slices for tests)
    folder_rgb: bool = False  # folder:PATH datasets as 32x32 RGB instead of 28x28 grayscale
    log_every: int = 10  # steps between metric records (the only host syncs)
    snapshot_every: int = 100  # steps between samples of the fixed noise
    eval_every: int = 0  # steps between quality metrics (gan_core.eval.metrics); 0 = off
    num_threads: int | None = None  # torch CPU threads for the job; None = all cores but one
    toy_hidden: int = TOY_HIDDEN  # width of the 2-D toy's hidden layers (G and D)
    toy_depth: int = TOY_DEPTH  # number of hidden layers of each toy net

    def resolved(self) -> TrainConfig:
        """A copy with every None default filled in for this dataset and loss."""
        toy = self.dataset in TOY_DATASETS
        model = self.model or ("toy" if toy else LABELLED_IMAGE_MODEL if self.dataset in IMAGE_DATASETS
                               else UNLABELLED_IMAGE_MODEL)
        z_dim = self.z_dim or (2 if toy else 64)
        n_critic = self.n_critic or get_loss(self.loss).default_n_critic
        batch_size = self.batch_size or (TOY_BATCH if toy else 64)
        lr = TOY_LR if toy else FAST_LR if model in FAST_LR_MODELS else BASE_LR
        lr_g = self.lr_g if self.lr_g is not None else lr
        lr_d = self.lr_d if self.lr_d is not None else SLOW_D_LR if model in SLOW_D_MODELS else lr
        ema_decay = self.ema_decay if self.ema_decay is not None else (0.0 if toy else IMAGE_EMA_DECAY)
        beta1 = self.beta1 if self.beta1 is not None else (TOY_BETA1 if toy else IMAGE_BETA1)
        return replace(self, model=model, z_dim=z_dim, n_critic=n_critic, batch_size=batch_size,
                       lr_g=lr_g, lr_d=lr_d, ema_decay=ema_decay, beta1=beta1)

    def d_beta1(self) -> float:
        """D's Adam beta1: beta1_d if set, else beta1 (its default for this dataset when unset)."""
        if self.beta1_d is not None:
            return self.beta1_d
        return self.beta1 if self.beta1 is not None else self.resolved().beta1

    def decays_lr(self) -> bool:
        """Whether the learning rates decay: lr_decay is on and there is a budget to decay over."""
        return bool(self.lr_decay) and bool(self.steps or self.seconds)

    def follows_budget(self) -> bool:
        """Whether the run's schedule depends on its budget (a growing model, or lr decay with a budget): then the
        state at S seconds of a longer run is not what an S-second run gives."""
        return self.resolved().model in GROWING_MODELS or self.decays_lr()

    def validate(self) -> TrainConfig:
        """Raise ValueError with a one-line message for anything a run cannot use."""
        if self.dataset not in TOY_DATASETS + IMAGE_DATASETS and not self.dataset.startswith("folder:"):
            raise ValueError(f"unknown dataset {self.dataset!r}; choose from "
                             f"{', '.join(TOY_DATASETS + IMAGE_DATASETS)} or folder:PATH")
        if self.model is not None and self.model not in MODEL_NAMES:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(MODEL_NAMES)}")
        if self.loss not in LOSS_NAMES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSS_NAMES)}")
        toy = self.dataset in TOY_DATASETS
        if self.model is not None and (self.model == "toy") != toy:
            raise ValueError(f"model {self.model!r} does not fit dataset {self.dataset!r}: "
                             "use model toy for 2-D datasets and an image model for image datasets")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or value <= LR_RANGE[0] or value > LR_RANGE[1]):
                raise ValueError(f"{name} must be a number in ({LR_RANGE[0]:g}, {LR_RANGE[1]:g}], got {value}")
        low, high = BATCH_RANGE
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or not low <= self.batch_size <= high):
            raise ValueError(f"batch size must be an integer in {low}..{high}, got {self.batch_size}")
        low, high = Z_DIM_RANGE
        if self.z_dim is not None and (not isinstance(self.z_dim, int) or not low <= self.z_dim <= high):
            raise ValueError(f"z_dim must be an integer in {low}..{high}, got {self.z_dim}")
        for name in ("beta1", "beta1_d", "beta2"):
            value = getattr(self, name)
            if value is None and name in ("beta1", "beta1_d"):
                continue
            if not _finite(value) or not BETA_RANGE[0] <= value < BETA_RANGE[1]:
                raise ValueError(f"{name} must be in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}), got {value}")
        for name in ("optimizer_g", "optimizer_d"):
            if getattr(self, name) not in OPTIMIZER_NAMES:
                raise ValueError(f"{name} must be one of {', '.join(OPTIMIZER_NAMES)}, got {getattr(self, name)!r}")
        for name, (low, high) in (("toy_hidden", TOY_HIDDEN_RANGE), ("toy_depth", TOY_DEPTH_RANGE)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in {low}..{high}, got {value}")
        low, high = N_CRITIC_RANGE
        if self.n_critic is not None and (not isinstance(self.n_critic, int) or not low <= self.n_critic <= high):
            raise ValueError(f"n_critic must be an integer in {low}..{high}, got {self.n_critic}")
        for name, top in (("gp_weight", PENALTY_MAX), ("r1_gamma", PENALTY_MAX),
                          ("label_smoothing", LABEL_SMOOTHING_MAX)):
            value = getattr(self, name)
            if not _finite(value) or not 0 <= value <= top:
                raise ValueError(f"{name} must be in [0, {top:g}], got {value}")
        if self.ema_decay is not None and (not _finite(self.ema_decay)
                                           or not (self.ema_decay == 0 or 0.5 <= self.ema_decay < 1)):
            raise ValueError(f"ema_decay must be 0 (off) or in [0.5, 1), got {self.ema_decay}")
        if not _finite(self.lr_decay) or not 0 <= self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be in [0, 1] (the share of the budget to decay over), got {self.lr_decay}")
        if self.steps is not None and (not isinstance(self.steps, int) or self.steps < 1):
            raise ValueError(f"steps must be a positive integer, got {self.steps}")
        if self.seconds is not None and (not _finite(self.seconds) or self.seconds <= 0):
            raise ValueError(f"seconds must be a positive number, got {self.seconds}")
        for name in ("log_every", "snapshot_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.eval_every < 0:
            raise ValueError(f"eval_every must be 0 (off) or a positive number of steps, got {self.eval_every}")
        for name in ("data_limit", "num_threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer, got {value}")
        if self.device not in (None, "") and str(self.device).split(":")[0] not in ("auto", "cpu", "cuda", "mps"):
            raise ValueError(f"unknown device {self.device!r}: use auto, cpu, cuda or mps")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def command(self, out: str | None = None) -> str:
        """The `python -m gan_core train` command that reproduces this config."""
        default = TrainConfig()
        parts = ["python -m gan_core train"]
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name) and f.name != "dataset":
                continue
            flag = "--" + f.name.replace("_", "-")
            if isinstance(value, bool):
                parts.append(flag if value else "")
            elif value is not None:
                parts.append(f"{flag} {value}")
        if out:
            parts.append(f"--out {out}")
        return " ".join(p for p in parts if p)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
