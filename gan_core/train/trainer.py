"""One GAN training run: models, optimisers, and a fast `step()` doing one full D + G update.

Written for speed: real and fake go through D in one batch (D has no BatchNorm, so this is
exact), the generator's forward pass is shared by the D and G updates, D's parameters are
frozen during the G update, Adam is fused/foreach, and nothing is copied to the host except
on the steps whose metrics are recorded (every `log_every`).
"""
from __future__ import annotations

import copy
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from gan_core.data.datasets import Dataset, load_dataset
from gan_core.device import describe_device, pick_device
from gan_core.explore.latent import class_labels, sample_latents
from gan_core.io.checkpoint import save_checkpoint
from gan_core.io.images import to_uint8
from gan_core.nn.augment import diff_augment
from gan_core.nn.losses import get_loss, gradient_penalty, r1_penalty
from gan_core.nn.models import CONDITIONAL_MODELS, build_models
from gan_core.nn.progressive import grow_schedule
from gan_core.train.config import TrainConfig
from gan_core.train.history import MetricsHistory
from gan_core.train.loop import (
    DivergedError,
    divergence,
    is_eval_step,
    is_good_state_step,
    is_record_step,
    is_snapshot_step,
    run_fraction,
)
from gan_core.train.lr_schedule import lr_factor
from gan_core.train.stages import GROWTH_EVENT, stage_picks, stage_sample

LIVE_HPARAMS = ("lr_g", "lr_d", "beta1", "beta1_d", "beta2", "n_critic", "gp_weight", "r1_gamma",
                "label_smoothing", "augment", "ema_decay", "loss", "optimizer_g", "optimizer_d")
TOY_SNAPSHOT_POINTS = 512
__all__ = ["LIVE_HPARAMS", "DivergedError", "Trainer", "check_live_changes", "hardware_summary", "make_adam",
           "make_optimizer"]


def check_live_changes(config: TrainConfig, changes: dict[str, Any]) -> TrainConfig:
    """The config with these changes applied mid-run; ValueError for any a running trainer could not apply."""
    unknown = set(changes) - set(LIVE_HPARAMS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} during a run; live: {', '.join(LIVE_HPARAMS)}")
    return replace(config, **changes).resolved().validate()  # None: back to the dataset's default


def make_adam(params, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Fused Adam where this torch supports it on the device, else the foreach implementation."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def make_optimizer(kind: str, params, lr: float, betas: tuple[float, float],
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam (make_adam) or plain SGD (no momentum: GAN Lab's other choice), by TrainConfig's optimizer_g/_d."""
    if kind == "sgd":
        return torch.optim.SGD(list(params), lr=lr, foreach=True)
    return make_adam(params, lr, betas, device)


def hardware_summary(device: torch.device) -> str:
    return f"{describe_device(device)}; {platform.machine()} {platform.system()}; torch {torch.__version__}"


class Trainer:
    """Holds G, D, their optimisers and the run's history. Not thread-safe by itself: see TrainingJob."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None,
                 device: torch.device | str | None = None) -> None:
        config.validate()
        self.config = config.resolved().validate()
        cfg = self.config
        self.device = torch.device(device) if device is not None else pick_device(cfg.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        data = dataset if dataset is not None else load_dataset(cfg.dataset, cfg.data_dir, limit=cfg.data_limit,
                                                                folder_rgb=cfg.folder_rgb)
        self.data = data.to(self.device)
        if self.data.kind == "image" and cfg.batch_size > len(self.data):
            raise ValueError(f"batch size {cfg.batch_size} is larger than the dataset ({len(self.data)} images)")
        self.conditional = cfg.model in CONDITIONAL_MODELS
        self.num_classes = self.data.num_classes if self.conditional else None
        image_shape = self.data.shape if self.data.kind == "image" else None
        with torch.random.fork_rng(devices=[]):  # seeded weights without reseeding the process
            torch.default_generator.manual_seed(cfg.seed)
            self.G, self.D = build_models(cfg.model, cfg.z_dim, image_shape, self.num_classes,
                                          toy_hidden=cfg.toy_hidden, toy_depth=cfg.toy_depth)
        self.G.to(self.device)
        self.D.to(self.device)
        self.grows = bool(getattr(self.G, "grows", False))  # progressive growing (gan_core.nn.progressive)
        self.decays = cfg.decays_lr()  # lr decay over the budget (gan_core.train.lr_schedule)
        # What step() calls for the D update: G and D themselves, or DDP wrappers of them
        # (gan_core.train.distributed). Checkpoints, samples and the G update's frozen D use G and D.
        self.G_train: torch.nn.Module = self.G
        self.D_train: torch.nn.Module = self.D
        self.opt_g = make_optimizer(cfg.optimizer_g, self.G.parameters(), cfg.lr_g, (cfg.beta1, cfg.beta2),
                                    self.device)
        self.opt_d = make_optimizer(cfg.optimizer_d, self.D.parameters(), cfg.lr_d, (cfg.d_beta1(), cfg.beta2),
                                    self.device)
        self.loss = get_loss(cfg.loss)
        self.ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema_decay else None
        # The run's own randomness: real batches, z and the penalty's alpha come from self.rng; dropout and
        # DiffAugment (which draw from torch's global generator) run on a private copy of that generator's
        # state (_private_global_rng). Nothing here reseeds or advances the process's RNG.
        self.rng = torch.Generator(device=self.device)
        self._has_dropout = any(isinstance(m, torch.nn.Dropout) for m in (*self.G.modules(), *self.D.modules()))
        self.reseed(cfg.seed)
        self._last_fake: torch.Tensor | None = None
        self._last_labels: torch.Tensor | None = None
        n_fixed = (TOY_SNAPSHOT_POINTS if self.data.kind == "points"
                   else 8 * self.num_classes if self.conditional else 64)
        self.fixed_z = sample_latents(n_fixed, cfg.z_dim, seed=cfg.seed + 7919, device=self.device)
        self.fixed_labels = (class_labels(n_fixed, self.num_classes, "balanced", device=self.device)
                             if self.conditional else None)
        self._stage_picks, self._stage_nrow = stage_picks(n_fixed, self.num_classes)  # progressive runs' grids
        self.history = MetricsHistory()
        self.step_count = 0
        self.images_seen = 0
        self.train_seconds = 0.0
        self.evaluator: Callable[[Trainer], dict[str, Any]] | None = None
        self._last_record_time = time.perf_counter()
        self._last_record_images = 0
        self._good_state: dict[str, Any] | None = None
        self._save_good_state()

    # ------------------------------------------------------------ the training step

    def step(self, record: bool | None = None) -> dict[str, float] | None:
        """One full update: n_critic discriminator steps, then one generator step.

        Returns the metrics dict on recorded steps (gan_core.train.loop.is_record_step, or when
        `record=True`), else None. Raises DivergedError (after rolling back) when a recorded loss is NaN/inf.
        """
        cfg = self.config
        started = time.perf_counter()
        if record is None:
            record = is_record_step(self.step_count + 1, cfg.log_every)
        if self.grows:
            self._grow()
        if self.decays:
            self._decay_lr()
        with self._private_global_rng():
            for i in range(cfg.n_critic):
                last = i == cfg.n_critic - 1  # the last fake batch is reused for the G step
                d_loss, real_scores, fake_scores, d_grad_norm = self.d_step(keep_fake=last, grad_norm=record and last)
            g_loss, g_grad_norm = self.g_step(grad_norm=record)
        self.step_count += 1
        self.images_seen += cfg.batch_size * cfg.n_critic
        self.train_seconds += time.perf_counter() - started
        row = self._record(d_loss, g_loss, real_scores, fake_scores, d_grad_norm, g_grad_norm) if record else None
        if is_snapshot_step(self.step_count, cfg.snapshot_every):
            self.snapshot()
        if self.evaluator is not None and is_eval_step(self.step_count, cfg.eval_every):
            self.history.add_eval({"step": self.step_count, **self.evaluator(self)})
        return row

    def d_step(self, real: torch.Tensor | None = None, z: torch.Tensor | None = None,
               alpha: torch.Tensor | None = None, keep_fake: bool = True, grad_norm: bool = False):
        """One discriminator update on a real batch and G(z) (each drawn from self.rng unless given; `alpha` is
        the gradient penalty's mixing weights). With `keep_fake`, G(z) keeps its graph for the next `g_step`.

        Returns (d_loss, real_scores, fake_scores, D's gradient norm or None), all on the device (no host sync).
        Does not count a step: `step()` does.
        """
        cfg = self.config
        batch = cfg.batch_size if real is None else real.size(0)
        labels = None
        if real is None:
            real, labels = self.data.sample(batch, self.rng)
            labels = labels if self.conditional else None
        if z is None:
            z = torch.randn(batch, cfg.z_dim, device=self.device, generator=self.rng)
        with torch.set_grad_enabled(keep_fake):
            fake = self.G_train(z, labels)
        both = torch.cat([real, fake.detach()])
        if cfg.augment:
            both = diff_augment(both)
        scores = self.D_train(both, torch.cat([labels, labels]) if labels is not None else None)
        real_scores, fake_scores = scores[:batch], scores[batch:]
        d_loss = self.loss.d_loss(real_scores, fake_scores, cfg.label_smoothing)
        if self.loss.uses_gradient_penalty:
            d_loss = d_loss + cfg.gp_weight * gradient_penalty(self.D, real, fake, labels, alpha=alpha,
                                                               generator=self.rng)
        if cfg.r1_gamma:
            d_loss = d_loss + 0.5 * cfg.r1_gamma * r1_penalty(self.D, real, labels)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        norm = _grad_norm(self.D) if grad_norm else None
        self.opt_d.step()
        self._last_fake, self._last_labels = (fake, labels) if keep_fake else (None, None)
        return d_loss, real_scores, fake_scores, norm

    def g_step(self, z: torch.Tensor | None = None, grad_norm: bool = False):
        """One generator update against the frozen D: on G(z) for a given z, else on the fake batch the last
        `d_step` kept (else a fresh one). Returns (g_loss, G's gradient norm or None)."""
        cfg = self.config
        fake, labels = self._last_fake, self._last_labels
        if z is not None or fake is None:
            if z is None:
                z = torch.randn(cfg.batch_size, cfg.z_dim, device=self.device, generator=self.rng)
                if self.conditional:
                    labels = torch.randint(0, self.num_classes, (cfg.batch_size,), device=self.device,
                                           generator=self.rng)
            fake = self.G_train(z, labels)
        self._last_fake = self._last_labels = None
        self.D.requires_grad_(False)
        try:
            g_scores = self.D(diff_augment(fake) if cfg.augment else fake, labels)
            g_loss = self.loss.g_loss(g_scores)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            self.D.requires_grad_(True)
        norm = _grad_norm(self.G) if grad_norm else None
        self.opt_g.step()
        if self.ema is not None:
            _ema_update(self.ema, self.G, ema_warmup(cfg.ema_decay, self.step_count))
        return g_loss, norm

    def reseed(self, seed: int) -> None:
        """Start the run's own random streams from `seed` (DDP gives each rank its own)."""
        self.rng.manual_seed(seed)
        with torch.random.fork_rng(devices=self._cuda_devices()):
            torch.manual_seed(seed)
            self._global_state = self._read_global_state()

    def _cuda_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _read_global_state(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    @contextmanager
    def _private_global_rng(self) -> Iterator[None]:
        """Dropout and DiffAugment draw from torch's global generator: give them this run's own state, and
        leave the process's as it was. A no-op for models without either (the toys)."""
        if not (self._has_dropout or self.config.augment):
            yield
            return
        with torch.random.fork_rng(devices=self._cuda_devices()):
            cpu, cuda = self._global_state
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state(cuda, self.device)
            try:
                yield
            finally:
                self._global_state = self._read_global_state()

    def _record(self, d_loss, g_loss, real_scores, fake_scores, d_grad_norm, g_grad_norm) -> dict[str, float]:
        zero = torch.zeros((), device=self.device)
        values = torch.stack([d_loss.detach(), g_loss.detach(), torch.sigmoid(real_scores.detach()).mean(),
                              torch.sigmoid(fake_scores.detach()).mean(),
                              d_grad_norm if d_grad_norm is not None else zero,
                              g_grad_norm if g_grad_norm is not None else zero]).float().tolist()
        what = divergence(values)
        if what is not None:
            self.restore_good_state()
            raise DivergedError(
                f"training diverged at step {self.step_count} (loss or gradient {what}); "
                f"weights rolled back to the last good state, step {self._good_state['step']}")
        now = time.perf_counter()
        images = self.images_seen - self._last_record_images
        rate = images / max(now - self._last_record_time, 1e-9)
        self._last_record_time, self._last_record_images = now, self.images_seen
        row = {"step": self.step_count, "epoch": self.epoch, "time": self.train_seconds,
               "d_loss": values[0], "g_loss": values[1], "d_real": values[2], "d_fake": values[3],
               "d_grad_norm": values[4], "g_grad_norm": values[5], "images_per_s": rate,
               "lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"]}
        if self.grows:  # "resolution" (7, 14, 28) and "fade_alpha" (0..1) for the charts
            row.update(self.G.growth_metrics(self.data.shape[-1]))
        self.history.append(row)
        if is_good_state_step(self.step_count):
            self._save_good_state()
        return row

    def _grow(self) -> None:
        """Progressive growing: G, D and the EMA copy take the stage and fade-in alpha for how far the run is."""
        before = self.G.stage
        fraction = run_fraction(self.config, self.step_count, self.train_seconds)
        if self.step_count and grow_schedule(fraction)[0] > before:
            self._keep_stage_sample(final=True)  # the stage that ends, as it ends
        for module in (self.G, self.D, self.ema):
            if module is not None:
                module.set_progress(fraction)
        if self.G.stage > before:
            size = self.G.resolution(self.data.shape[-1])
            self.history.add_event(self.step_count, GROWTH_EVENT.format(size=size))

    def _decay_lr(self) -> None:
        """Both learning rates follow the budget (lr_schedule): the configured rate, then linearly to 0 at the end."""
        cfg = self.config
        factor = lr_factor(run_fraction(cfg, self.step_count, self.train_seconds), cfg.lr_decay)
        for optimizer, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * factor

    @property
    def kind(self) -> str:
        """"image" or "points": what the data (and so the generator's output) is."""
        return self.data.kind

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return tuple(self.data.class_names) if self.conditional else None

    @property
    def epoch(self) -> float:
        return self.images_seen / len(self.data) if self.data.kind == "image" else 0.0

    # ------------------------------------------------------------ sampling and snapshots

    @property
    def sampling_generator(self) -> torch.nn.Module:
        return self.ema if self.ema is not None else self.G

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the (EMA) generator in eval mode, on the CPU."""
        g = self.sampling_generator
        was_training = g.training
        g.eval()
        try:
            out = g(z.to(self.device), labels.to(self.device) if labels is not None and self.conditional else None)
        finally:
            g.train(was_training)
        return out.float().cpu()

    def snapshot(self) -> np.ndarray:
        """Samples of the fixed noise, stored in the history (uint8 images or float points); a progressive
        run also keeps a few of them as its stage's latest grid."""
        out = self.generate(self.fixed_z, self.fixed_labels)
        arr = to_uint8(out, layout="NCHW") if self.data.kind == "image" else out.numpy()
        self.history.add_snapshot(self.step_count, arr)
        if self.grows:
            self._keep_stage_sample(arr[self._stage_picks])
        return arr

    def _keep_stage_sample(self, full_size: np.ndarray | None = None, final: bool = False) -> None:
        """The stage's grid of a few fixed-noise samples (these samples, else generated now) at its own resolution."""
        if full_size is None:
            labels = self.fixed_labels[self._stage_picks] if self.fixed_labels is not None else None
            full_size = to_uint8(self.generate(self.fixed_z[self._stage_picks], labels), layout="NCHW")
        resolution = self.G.resolution(self.data.shape[-1])
        self.history.set_stage_sample(stage_sample(self.step_count, full_size, resolution, self._stage_nrow, final))

    # ------------------------------------------------------------ live changes, good state, saving

    def update_hparams(self, **changes: Any) -> list[str]:
        """Change hyper-parameters between steps; each change is logged as an event for the charts."""
        candidate = check_live_changes(self.config, changes)
        messages = []
        for name, value in changes.items():
            old = getattr(self.config, name)
            if old != value:
                messages.append(f"{name} {old:g} → {value:g}" if isinstance(value, float) and isinstance(old, float)
                                else f"{name} {old} → {value}")
        old = self.config
        self.config = candidate
        if candidate.optimizer_g != old.optimizer_g:  # a new kind starts with fresh state
            self.opt_g = make_optimizer(candidate.optimizer_g, self.G.parameters(), candidate.lr_g,
                                        (candidate.beta1, candidate.beta2), self.device)
        if candidate.optimizer_d != old.optimizer_d:
            self.opt_d = make_optimizer(candidate.optimizer_d, self.D.parameters(), candidate.lr_d,
                                        (candidate.d_beta1(), candidate.beta2), self.device)
        for optimizer, lr, beta1 in ((self.opt_g, candidate.lr_g, candidate.beta1),
                                     (self.opt_d, candidate.lr_d, candidate.d_beta1())):
            for group in optimizer.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (beta1, candidate.beta2)
        self.loss = get_loss(candidate.loss)
        if candidate.ema_decay and self.ema is None:
            self.ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        for message in messages:
            self.history.add_event(self.step_count, message)
        return messages

    def _save_good_state(self) -> None:
        def copy_state(module):
            return {k: v.detach().clone() for k, v in module.state_dict().items()}
        params_finite = all(torch.isfinite(p).all() for p in list(self.G.parameters()) + list(self.D.parameters()))
        if not bool(params_finite):
            return
        self._good_state = {"step": self.step_count, "G": copy_state(self.G), "D": copy_state(self.D),
                            "ema": copy_state(self.ema) if self.ema is not None else None,
                            "opt_g": copy.deepcopy(self.opt_g.state_dict()),
                            "opt_d": copy.deepcopy(self.opt_d.state_dict())}

    def restore_good_state(self) -> None:
        state = self._good_state
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])

    def load_weights(self, gan) -> None:
        """Start from a loaded checkpoint's weights (forking a run from a saved snapshot); a checkpoint of
        another layout (a dcgan saved before conv layout 2, another size or class count) is refused plainly."""
        theirs, ours = getattr(gan.generator, "conv_arch", None), getattr(self.G, "conv_arch", None)
        if theirs != ours:
            raise ValueError(f"{gan.name} has the conv layout {theirs}, this run builds layout {ours}: a run cannot "
                             "continue from it (train a new one, or sample and explore it as it is)")
        mine = {k: tuple(v.shape) for k, v in self.G.state_dict().items()}
        if {k: tuple(v.shape) for k, v in gan.generator.state_dict().items()} != mine:
            raise ValueError(f"{gan.name}'s generator does not fit this run's model (another size, image shape or "
                             "class count): a run can only continue from a checkpoint of the same set-up")
        self.G.load_state_dict(gan.generator.state_dict())
        if self.ema is not None:
            self.ema.load_state_dict(gan.generator.state_dict())
        if gan.discriminator is not None:
            self.D.load_state_dict(gan.discriminator.state_dict())
        self.step_count = int(gan.meta.get("steps", 0))
        self._save_good_state()

    def metadata(self, **extra: Any) -> dict[str, Any]:
        cfg = self.config
        meta = {
            "model": cfg.model, "z_dim": cfg.z_dim, "num_classes": self.num_classes,
            "class_names": list(self.data.class_names) if self.conditional else None,
            "image_shape": list(self.data.shape) if self.data.kind == "image" else None,
            "dataset": cfg.dataset, "loss": cfg.loss, "steps": self.step_count,
            "images_seen": self.images_seen, "train_seconds": round(self.train_seconds, 2),
            "config": cfg.to_dict(), "command": cfg.command(), "hardware": hardware_summary(self.device),
            "data_source": self.data.source, "data_note": self.data.note,
            "ema": bool(self.ema is not None),
        }
        if cfg.model == "toy":  # the toy's size: load_checkpoint builds it from these
            meta.update(toy_hidden=cfg.toy_hidden, toy_depth=cfg.toy_depth)
        meta.update(extra)
        return meta

    def save(self, path, **extra: Any):
        """Write a checkpoint of the (EMA) generator and the discriminator; returns the weights path."""
        return save_checkpoint(path, self.sampling_generator, self.metadata(**extra), self.D)


def _grad_norm(module: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())


def ema_warmup(decay: float, step: int) -> float:
    """The EMA decay used at `step`: min(decay, (1 + step) / (10 + step)).

    Early on the average follows G closely, so an EMA generator is not stuck near its random start for the
    first ~1/(1 - decay) steps (1000 steps at 0.999: about 20 s of MNIST on 2 CPU cores). A Python float:
    no host sync.
    """
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    ema_params = list(ema.parameters())
    torch._foreach_lerp_(ema_params, [p.detach() for p in model.parameters()], 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)
