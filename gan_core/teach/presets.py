"""Named training set-ups with stable slugs, so pages and lessons can link to them (`?preset=<slug>`).

A preset only lists what differs from `TrainConfig`'s defaults; everything else comes from the
dataclass (no duplicated defaults). Where a preset opens (the Train page or the 2-D playground) is the app's
choice: app_shared/training_ui/preset_pages.py.
The ring8 presets' promises are checked over seeds by benchmarks/presets_over_seeds.py (modes covered from
30 s to 60 s of training) and at 1000 steps by tests/test_playground.py. With the saturating minimax loss
and a generator learning 100x faster than the discriminator, ring8's generator squeezes its points into one
tight blob that hops around the ring, on at most one mode at a time. (At 10x, the first version of this
preset, G escaped to all 8 modes after about 7000 steps, 30 s.)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gan_core.train.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    slug: str
    title: str
    description: str
    settings: dict[str, Any] = field(default_factory=dict)

    def config(self, **overrides: Any) -> TrainConfig:
        """The TrainConfig of this preset (validated), with optional overrides."""
        return replace(TrainConfig(**self.settings), **overrides).validate()


_COLLAPSE = {"dataset": "ring8", "loss": "minimax", "lr_g": 1e-3, "lr_d": 1e-5}
# β1 0 and batch 1024 hold 8/8 modes over seeds where β1 0.5 or batch 256 do not (the runs: benchmarks/RESULTS.md)
_NONSATURATING_RING8 = {"dataset": "ring8", "loss": "nonsaturating", "lr_g": 1e-3, "lr_d": 1e-3, "beta1": 0.0,
                        "batch_size": 1024}

PRESETS: dict[str, Preset] = {p.slug: p for p in (
    # ---- image and toy runs (the Train page's)
    Preset("classic-cgan-mnist", "CGAN on MNIST (the default recipe)",
           "Conditional MLP GAN on MNIST: the label is fed to G and D (Mirza & Osindero 2014) and D also "
           "projects its features on the label (Miyato & Koyama 2018); non-saturating loss, Adam (β1 0.5) at 5e-4 "
           "for G and 2e-4 for D (a slower discriminator, TTUR), batch 64, samples from an EMA of G's weights "
           "(0.999 after a warm-up). Every field is TrainConfig's default for mnist. On 2 CPU cores the "
           "independent judge recognised 93% of its digits as the class asked for after 60 s of training, 96.5% "
           "after 180 s and 97.9% after 300 s.",
           {"dataset": "mnist", "model": "cgan-mlp-proj", "eval_every": 500}),
    Preset("dcgan-mnist", "DCGAN",
           "The DCGAN architecture (Radford et al. 2015), unconditional: transposed convolutions with BatchNorm "
           "in G, strided convolutions in D, EMA of G 0.999; Adam 5e-4 for G and 2e-4 for D (a faster G than "
           "DCGAN's 2e-4 for both: after 2500 steps the classifier's Fréchet distance was 275 against 408). About "
           "10x slower per image than the MLP models on a CPU, so it needs many minutes for clean digits; the "
           "shipped mnist-dcgan is this recipe after an hour on 2 cores.", {"dataset": "mnist", "model": "dcgan",
                                                                    "eval_every": 500}),
    Preset("emoji-cgan", "Colour emoji cGAN",
           "A conditional conv GAN in colour: 32×32 RGB emoji on white, the Unicode group (smileys, people, animals, "
           "food, travel, activities, objects, symbols, flags) as the class. G is the conv model with its class "
           "embedding joined to z; D is a projection discriminator under spectral norm. With under 2,000 emoji, "
           "D would soon learn them by heart, so DiffAugment (random shifts and cut-out squares, on real and fake "
           "alike) is on. Non-saturating loss, Adam 2e-4 for both (β1 0.5), samples from an EMA of G. The shipped "
           "emoji-cgan is this recipe; its card says how long it trained and how well both classifiers recognise "
           "its groups.",
           {"dataset": "emoji", "model": "cgan-dcgan", "augment": True, "eval_every": 500}),
    Preset("progressive-mnist", "Progressive growing on MNIST",
           "Progressive growing (Karras et al. 2017), conditional: G and D start at 7×7, then 14×14 and 28×28 fade in "
           "(α from 0 to 1) as the run goes: 15% of the budget at 7×7, 15% fading in 14×14, 15% at 14×14, 15% fading "
           "in 28×28, the last 40% at 28×28, so the first samples are blocky. The charts show the resolution and α. "
           "Simplified: pixel norm but no equalised learning rate or minibatch std; EMA of G 0.99 (0.999 lags too far "
           "behind the newly added layers). Measured on 2 shared CPU cores: after these 1500 steps (6-11 minutes "
           "there) the classifier recognised 94.6% of the digits and the judge 86.8%; the digits are legible but "
           "speckled (classifier Fréchet distance 360, against 12 for the shipped mnist-cgan).",
           {"dataset": "mnist", "model": "cgan-progan", "steps": 1500, "ema_decay": 0.99, "eval_every": 250}),
    Preset("wgan-gp-mnist", "WGAN-GP",
           "Wasserstein loss with gradient penalty (Gulrajani et al. 2017) on an unconditional MLP GAN: 5 critic "
           "steps per generator step, Adam 1e-4 with β1 0 / β2 0.9, EMA of G 0.999.",
           {"dataset": "mnist", "model": "mlp", "loss": "wgan-gp", "beta1": 0.0, "beta2": 0.9, "lr_g": 1e-4,
            "lr_d": 1e-4, "eval_every": 500}),
    Preset("show-mode-collapse", "Show mode collapse",
           "ring8 with the original minimax loss and a generator learning 100x faster than D (Adam 1e-3 vs "
           "1e-5): the generator squeezes its points into one tight blob that hops around the ring, covering "
           "at most one of the 8 modes at a time.", dict(_COLLAPSE, eval_every=100)),
    Preset("nonsaturating-ring8", "Non-saturating on ring8",
           "The same ring with the non-saturating loss, equal learning rates (Adam 1e-3 with β1 0, no momentum) "
           "and batches of 1024 points: it finds all 8 modes and keeps them (as the playground's ring8 · "
           "non-saturating).",
           dict(_NONSATURATING_RING8, eval_every=100)),
    # ---- 2-D lessons (the playground's, linked from the Learn page)
    Preset("ring8-minimax-collapse", "ring8 · minimax (collapse)",
           "Saturating minimax loss, a generator 100x faster than D: watch the points gather into one blob "
           "and hop from mode to mode.", dict(_COLLAPSE)),
    Preset("ring8-nonsaturating", "ring8 · non-saturating",
           "−log D(G(z)) with equal learning rates, Adam 1e-3 without momentum (β1 0) and batches of 1024 "
           "points: strong gradients while D wins, and the points spread to all 8 modes and stay there. With "
           "Adam's usual β1 of 0.5, the momentum overshoots in the game's rotating gradient field and a mode can "
           "stay empty. In the browser, where batches of 1024 are too slow, it trains a smaller net (two hidden "
           "layers) on batches of 256 with a real target of 0.9 (one-sided label smoothing; without it a mode "
           "often faded at this size): the points reach all 8 modes within seconds and keep them on nearly every "
           "seed, though a mode can thin out for a moment.",
           dict(_NONSATURATING_RING8)),
    Preset("ring8-wgan-gp", "ring8 · WGAN-GP",
           "A critic with gradient penalty (Gulrajani et al. 2017): a smooth surface with useful gradients "
           "everywhere, so the points spread around the whole ring and reach all 8 modes in a few hundred "
           "steps. 5 critic steps per G step, Adam 1e-3 (β 0.5 / 0.9) and a penalty weight of 0.1, the toy "
           "setting of the paper's code: at the image default of 10 the points wander and miss most modes. "
           "Each step takes 5 critic updates with a gradient of a gradient, so it runs slower than the others.",
           {"dataset": "ring8", "loss": "wgan-gp", "beta1": 0.5, "beta2": 0.9, "lr_g": 1e-3, "lr_d": 1e-3,
            "gp_weight": 0.1}),
    Preset("ring8-r1", "ring8 · R1 gradient penalty",
           "Non-saturating loss plus a penalty on D's gradient at real points (Mescheder et al. 2018, γ 1, "
           "Adam 1e-3 with β1 0): a smoother surface, steadier training, all 8 modes (with β1 0.5 the points can "
           "drop a few modes for a moment). (DiffAugment only augments images; on 2-D points it changes nothing.)",
           {"dataset": "ring8", "loss": "nonsaturating", "r1_gamma": 1.0, "lr_g": 1e-3, "lr_d": 1e-3,
            "beta1": 0.0}),
    Preset("ring8-label-smoothing", "ring8 · one-sided label smoothing",
           "Non-saturating loss with a real target of 0.9 instead of 1 (one-sided label smoothing, Salimans "
           "et al. 2016), Adam 1e-3: a less over-confident discriminator.",
           {"dataset": "ring8", "loss": "nonsaturating", "label_smoothing": 0.1, "lr_g": 1e-3, "lr_d": 1e-3}),
    Preset("grid25-nonsaturating", "grid25 · non-saturating",
           "25 modes on a grid with the non-saturating loss and Adam 1e-3: a harder coverage test.",
           {"dataset": "grid25", "loss": "nonsaturating", "lr_g": 1e-3, "lr_d": 1e-3}),
    Preset("spiral-lsgan", "spiral · LSGAN",
           "Least-squares loss (Mao et al. 2017) on a continuous spiral, Adam 1e-3.",
           {"dataset": "spiral", "loss": "lsgan", "lr_g": 1e-3, "lr_d": 1e-3}),
)}


def get_preset(slug: str | None) -> Preset | None:
    """The preset with this slug, or None for an unknown / empty slug (query strings are user input)."""
    if not slug or not isinstance(slug, str):
        return None
    return PRESETS.get(slug.strip().lower())

