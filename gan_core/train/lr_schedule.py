"""Learning-rate decay over a run's budget (`--lr-decay`), off by default.

Why it exists: at a constant rate the conditional MNIST default stops improving after a few minutes on a
small CPU, and a decaying rate is the usual cure. Measured (benchmarks/RESULTS.md, "Tried after the
ablation"): decay over the last half of the budget lowers the classifier's Fréchet distance but leaves the
judge's class accuracy where it was, so the default stays constant.
The schedule follows the budget (steps, else training seconds: gan_core.train.loop.run_fraction), so a
run without a budget keeps its rates.
"""
from __future__ import annotations


def lr_factor(fraction: float, decay_share: float) -> float:
    """The multiplier of the configured learning rates when `fraction` (0..1) of the budget is done.

    1 until the last `decay_share` of the budget, then linearly down to 0 at its end (the "linear" policy of
    pix2pix / CycleGAN); decay_share 0 is a constant rate."""
    if decay_share <= 0:
        return 1.0
    return max(0.0, min(1.0, (1.0 - fraction) / decay_share))
