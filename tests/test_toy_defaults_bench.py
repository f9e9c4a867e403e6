"""benchmarks/toy_defaults.py and its continuous-toy measure (gan_core.eval.metrics.toy_fit_metrics, in gan eval)."""
from __future__ import annotations

import sys

import torch

from benchmarks import toy_defaults
from gan_core.data.datasets import sample_toy
from gan_core.eval.metrics import evaluate, toy_fit_metrics


def test_fit_metrics_tell_a_fit_from_a_collapse():
    real_like = sample_toy("spiral", 2000, generator=torch.Generator().manual_seed(5))
    fit = toy_fit_metrics("spiral", real_like)
    assert fit["precision"] > 0.95 and fit["recall"] > 0.95, fit
    collapsed = real_like[:1].repeat(2000, 1)  # every point on one real point: precise, but covers nothing
    one = toy_fit_metrics("spiral", collapsed)
    assert one["precision"] == 1.0 and one["recall"] < 0.1, one
    off = toy_fit_metrics("moons", real_like + 5.0)
    assert off == {"precision": 0.0, "recall": 0.0}


def test_gan_eval_reports_the_fit_of_the_continuous_toys():
    moons = evaluate(lambda n, seed: (sample_toy("moons", n, generator=torch.Generator().manual_seed(9)), None),
                     dataset="moons", n=1000)
    assert moons["precision"] > 0.95 and moons["recall"] > 0.95 and "note" not in moons, moons


def test_promise_and_commands():
    assert toy_defaults.kept("ring8", {"modes_covered": 8}) and not toy_defaults.kept("ring8", {"modes_covered": 7})
    spiral = toy_defaults.PROMISES["spiral"]
    assert not toy_defaults.kept("spiral", {"precision": 1.0, "recall": spiral["recall"] - 0.01})
    one = toy_defaults.command("ring8", 3, 20, "out", 1)
    assert one[:4] == [sys.executable, "-m", "gan_core", "train"] and "--seconds" in one and "20" in one
    ddp = toy_defaults.command("ring8", 3, 20, "out", 2)
    assert ddp[1:3] == ["-m", "torch.distributed.run"] and ddp[ddp.index("--nproc_per_node") + 1] == "2"
    rows = [{"dataset": "ring8", "seed": s, "steps": 900 + s, "modes_covered": 8 - s, "loadavg_before": 1.0,
             "kept": s == 0} for s in (0, 1)]
    assert "| ring8 | modes_covered ≥ 8 | 1/2 | 0: 8 (900) · 1: 7 (901) ✗ | 1.0–1.0 |" in toy_defaults.table(rows)
