"""gan_core.teach.synthetic: the Apply experiment's split, sampling, statistics, verdict and background job."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from gan_core import GAN, PRETRAINED_DIR, build_models
from gan_core.teach import synthetic as syn


class OracleGAN(GAN):
    """A 'generator' that returns real pool images of the requested class: synthetic data that must help."""

    def __init__(self, data: syn.ExperimentData) -> None:
        g, _ = build_models("cgan-mlp", 8, (1, 28, 28), 10)
        super().__init__(g, None, {"model": "cgan-mlp", "z_dim": 8, "num_classes": 10,
                                   "image_shape": [1, 28, 28], "name": "oracle"})
        self.data = data

    def generate(self, z, labels=None):
        out = torch.empty(len(z), 1, 28, 28)
        for c in labels.unique():
            idx = (self.data.pool_y == c).nonzero().flatten()
            take = (labels == c).nonzero().flatten()
            out[take] = self.data.pool_x[idx[-len(take):]]  # from the end of the pool: not the kept real ones
        return out


@pytest.fixture(scope="module")
def mnist_data(mnist_dir):
    return syn.load_experiment_data("mnist", test_size=300)


def test_mnist_split_is_disjoint_and_says_so(mnist_data):
    d = mnist_data
    assert len(d.test_x) == 300 and len(d.pool_x) == 10_000 - 300
    pool = {x.numpy().tobytes() for x in d.pool_x}
    assert not any(x.numpy().tobytes() in pool for x in d.test_x)  # no test image is a possible training image
    assert "10k test split" in d.note and "favours (b)" in d.note
    again = syn.load_experiment_data("mnist", test_size=300)
    assert torch.equal(again.test_y, d.test_y)  # the split is fixed, not seed-dependent


def test_pick_real_examples_balanced_and_seeded(mnist_data):
    x, y = syn.pick_real_examples(mnist_data, 5, seed=3)
    assert x.shape == (50, 1, 28, 28) and torch.equal(torch.bincount(y, minlength=10), torch.full((10,), 5))
    x2, _ = syn.pick_real_examples(mnist_data, 5, seed=3)
    x3, _ = syn.pick_real_examples(mnist_data, 5, seed=4)
    assert torch.equal(x, x2) and not torch.equal(x, x3)


def test_synthetic_examples_balanced_in_range():
    g, _ = build_models("cgan-mlp", 8, (1, 28, 28), 10)
    gan = GAN(g, None, {"model": "cgan-mlp", "z_dim": 8, "num_classes": 10, "image_shape": [1, 28, 28]})
    x, y = syn.synthetic_examples(gan, 3, seed=0)
    assert x.shape == (30, 1, 28, 28) and torch.equal(y, torch.arange(10).repeat_interleave(3))
    assert x.min() >= -1 and x.max() <= 1


def test_unconditional_generator_is_refused(mnist_data):
    g, _ = build_models("mlp", 8, (1, 28, 28), None)
    gan = GAN(g, None, {"model": "mlp", "z_dim": 8, "image_shape": [1, 28, 28], "name": "plain"})
    with pytest.raises(ValueError, match="not conditional"):
        syn.run_experiment(gan, mnist_data, syn.ExperimentConfig(seeds=1, steps=1))
    with pytest.raises(ValueError):
        syn.ExperimentConfig(real_per_class=0).validate()


def fake_result(a, b):
    arms = {"real": syn.ArmResult("real", list(a)), "real+synthetic": syn.ArmResult("real+synthetic", list(b))}
    return syn.ExperimentResult(syn.ExperimentConfig(), "mnist", tuple("0123456789"), "g", arms, 100, "", 1.0, 1.0)


def test_statistics_and_honest_verdicts():
    r = fake_result([0.70, 0.72, 0.74], [0.80, 0.81, 0.83])
    assert r.arms["real"].mean == pytest.approx(0.72) and r.arms["real"].std == pytest.approx(0.02)
    assert r.verdict()[0] == "helped"
    assert fake_result([0.80, 0.81, 0.83], [0.70, 0.72, 0.74]).verdict()[0] == "hurt"
    kind, text = fake_result([0.70, 0.75, 0.72], [0.72, 0.73, 0.72]).verdict()
    assert kind == "unclear" and "did not clearly help" in text
    se = float(np.std([0.02, -0.02, 0.0], ddof=1)) / math.sqrt(3)  # the paired differences (b) - (a)
    assert f"(± {100 * 2 * se:.1f} points). The ± is twice the standard error of the paired difference" in text
    assert "(b) minus (a)" in text and "could be chance" in text, "the ± is explained in plain words"
    assert fake_result([0.7], [0.9]).verdict()[0] == "unclear"  # one seed proves nothing
    bad = fake_result([0.80, 0.81, 0.83], [0.50, 0.52, 0.54])
    bad.generator_class_accuracy = 0.3
    assert bad.verdict()[0] == "hurt" and "recognises only 30%" in bad.verdict()[1]
    rows = r.table()
    assert [row["training data"] for row in rows] == ["(a) real only", "(b) real + synthetic"]
    assert rows[1]["mean accuracy %"] == pytest.approx(81.33, abs=0.01)


def test_oracle_synthetic_data_helps_and_job_thread_ends(mnist_data):
    """A tiny real run in the background job: progress reaches 1, both arms trained, the thread ends."""
    oracle = OracleGAN(mnist_data)
    cfg = syn.ExperimentConfig(real_per_class=2, synthetic_per_class=30, seeds=2, steps=30, test_size=300)
    seen = []
    job = syn.ExperimentJob(oracle, mnist_data, cfg)
    job._progress = lambda f, m, _orig=job._progress: (seen.append(f), _orig(f, m))  # record progress calls
    job.start()
    assert job.join(timeout=120), "the experiment thread did not finish"
    state = job.snapshot()
    assert state.done and state.error is None and state.fraction == 1.0 and state.message == "done"
    assert state.elapsed > 0 and not state.stopping and job.snapshot() == state  # done: it no longer changes
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    result = state.result
    assert len(result.arms["real"].accuracies) == 2 == len(result.arms["real+synthetic"].accuracies)
    for arm in result.arms.values():
        assert arm.confusion.sum() == 2 * 300 and np.trace(arm.confusion) / 600 == pytest.approx(arm.mean)
    assert result.arms["real+synthetic"].mean > result.arms["real"].mean + 0.05
    if (PRETRAINED_DIR / "mnist-classifier.safetensors").is_file():  # real images: the classifier agrees
        assert result.generator_class_accuracy > 0.9
    else:
        assert result.generator_class_accuracy is None


def test_cancel_stops_the_thread(mnist_data):
    oracle = OracleGAN(mnist_data)
    job = syn.ExperimentJob(oracle, mnist_data, syn.ExperimentConfig(seeds=5, steps=2000, test_size=300))
    job._stop.set()  # stop requested before the first piece of work finishes
    job.start()
    assert job.join(timeout=60)
    state = job.snapshot()
    assert state.done and state.message == "stopped" and state.result is None and state.error
    assert not any(t.name == "apply-experiment" and t.is_alive() for t in threading.enumerate())


def test_fashion_uses_its_own_test_split(fashion_dir):
    d = syn.load_experiment_data("fashion", test_size=500)
    assert len(d.pool_x) == 60_000 and len(d.test_x) == 500
    assert "separate test split" in d.note and d.class_names[0] == "T-shirt/top"
