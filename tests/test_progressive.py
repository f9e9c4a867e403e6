"""Progressive growing (gan_core.nn.progressive): the schedule, each stage's shapes, the fade-in blend,
a real training run that records resolution and alpha and keeps a sample grid per stage, and a checkpoint
saved mid-growth."""
import numpy as np
import pytest
import torch

from app_shared.training_ui.live_data import live_panel_data
from gan_core import JobState, JobStatus, TrainConfig, Trainer, build_models
from gan_core.data.datasets import load_dataset
from gan_core.io.checkpoint import build_from_meta, load_checkpoint, read_meta
from gan_core.nn.progressive import DEFAULT_GROW_STEPS, grow_schedule
from gan_core.train.history import MetricsHistory
from gan_core.train.loop import run_fraction


def models(conditional=True, size=28):
    torch.manual_seed(0)
    return build_models("cgan-progan" if conditional else "progan", 16, (1, size, size), 10 if conditional else None)


def test_schedule_stabilises_and_fades_in_each_stage():
    assert grow_schedule(0.0) == (0, 1.0) and grow_schedule(0.1) == (0, 1.0)
    assert grow_schedule(0.15) == pytest.approx((1, 0.0))
    assert grow_schedule(0.225) == pytest.approx((1, 0.5))
    assert grow_schedule(0.35) == (1, 1.0)
    assert grow_schedule(0.45) == pytest.approx((2, 0.0)) and grow_schedule(0.525) == pytest.approx((2, 0.5))
    assert grow_schedule(0.6) == (2, 1.0) and grow_schedule(1.0) == (2, 1.0) and grow_schedule(7) == (2, 1.0)
    stages = [grow_schedule(i / 100)[0] for i in range(101)]
    assert stages == sorted(stages) and set(stages) == {0, 1, 2}
    assert run_fraction(TrainConfig(steps=200), 50, 0.0) == 0.25
    assert run_fraction(TrainConfig(seconds=60.0), 999, 30.0) == 0.5
    assert run_fraction(TrainConfig(), DEFAULT_GROW_STEPS // 2, 0.0) == 0.5


@pytest.mark.parametrize("size", [28, 32])
def test_each_stage_has_its_resolution_and_full_size_outputs(size):
    g, d = models(size=size)
    z, y = torch.randn(6, 16), torch.arange(6)
    for stage, native in enumerate((size // 4, size // 2, size)):
        g.set_stage(stage), d.set_stage(stage)
        assert g.native(z, y).shape == (6, 1, native, native)
        x = g(z, y)
        assert x.shape == (6, 1, size, size) and x.min() >= -1 and x.max() <= 1
        assert d(x, y).shape == (6,) and torch.isfinite(d(x, y)).all()
        block = size // native  # the output is the native image upsampled: constant in block x block squares
        assert torch.equal(x, x[..., ::block, ::block].repeat_interleave(block, -1).repeat_interleave(block, -2))
        assert g.growth_metrics(size) == {"resolution": native, "fade_alpha": 1.0}


@pytest.mark.parametrize("stage", [1, 2])
def test_fade_in_blends_the_upsampled_old_stage_and_the_new_one(stage):
    g, d = models()
    z, y = torch.randn(5, 16), torch.arange(5)
    with torch.no_grad():
        g.set_stage(stage - 1, 1.0)
        old = g(z, y)  # the old output path, full size
        g.set_stage(stage, 1.0)
        new = g(z, y)
        g.set_stage(stage, 0.0)
        assert torch.allclose(g(z, y), old, atol=1e-6), "alpha = 0 is the old stage's output"
        g.set_stage(stage, 0.3)
        assert torch.allclose(g(z, y), 0.7 * old + 0.3 * new, atol=1e-6)
        assert not torch.allclose(old, new, atol=1e-3), "the new stage adds detail of its own"
        x = torch.rand(5, 1, 28, 28) * 2 - 1
        d.set_stage(stage - 1, 1.0)
        d_old = d(x, y)
        d.set_stage(stage, 0.0)
        assert torch.allclose(d(x, y), d_old, atol=1e-5), "D at alpha = 0 is the old stage's D"
        d.set_stage(stage, 1.0)
        assert not torch.allclose(d(x, y), d_old, atol=1e-4)


def test_conditional_and_unconditional_versions():
    g, _ = models(conditional=True)
    z = torch.randn(4, 16)
    with torch.no_grad():
        assert (g(z, torch.zeros(4, dtype=torch.long)) - g(z, torch.ones(4, dtype=torch.long))).abs().max() > 1e-4
    with pytest.raises(ValueError, match="conditional"):
        g(z)
    g_plain, d_plain = models(conditional=False)
    assert d_plain(g_plain(z)).shape == (4,)
    with pytest.raises(ValueError, match="divisible by 4"):
        build_models("progan", 8, (1, 30, 30))


@pytest.fixture(scope="module")
def grown_trainer(mnist_dir):
    """A real run on MNIST images: 60 steps, so every phase of the schedule gets steps."""
    torch.manual_seed(0)
    config = TrainConfig(dataset="mnist", model="cgan-progan", steps=60, batch_size=16, data_limit=512,
                         log_every=1, snapshot_every=20, ema_decay=0.9, seed=0, device="cpu", data_dir=str(mnist_dir))
    trainer = Trainer(config, dataset=load_dataset("mnist", mnist_dir, limit=512))
    for _ in range(60):
        trainer.step()
    return trainer


def test_a_training_run_records_resolution_and_fade_alpha(grown_trainer):
    rows = grown_trainer.history.rows()
    assert len(rows) == 60 and all(0.0 <= r["fade_alpha"] <= 1.0 for r in rows)
    resolutions = [r["resolution"] for r in rows]
    assert resolutions == sorted(resolutions) and set(resolutions) == {7, 14, 28}
    assert resolutions[0] == 7 and resolutions[-1] == 28
    fading = [r["fade_alpha"] for r in rows if r["resolution"] == 14][:9]  # steps 10..18 of 60 fade 14x14 in
    assert fading[0] < 0.2 and fading == sorted(fading) and fading[-1] > 0.8
    events = [text for _, text in grown_trainer.history.events()]
    assert events == ["growing: 14×14 fades in", "growing: 28×28 fades in"]
    assert all(abs(r["d_loss"]) < 100 and abs(r["g_loss"]) < 100 for r in rows)
    assert grown_trainer.ema.stage == grown_trainer.D.stage == grown_trainer.G.stage == 2
    first_snapshot = grown_trainer.history.snapshots()[0][1]  # step 1, at 7x7: 4x4 blocks of equal pixels
    assert (first_snapshot[..., ::4, ::4].repeat(4, -1).repeat(4, -2) == first_snapshot).all()


def test_a_checkpoint_saved_mid_growth_reloads_at_the_same_stage(grown_trainer, tmp_path):
    trainer = grown_trainer
    for module in (trainer.G, trainer.D, trainer.ema):
        module.set_stage(1, 0.4)
    try:
        path = trainer.save(tmp_path / "pg")
        meta = read_meta(tmp_path / "pg.json")
        assert meta["model"] == "cgan-progan" and meta["tensors"]["generator.growth"] == [2]
        fresh_g, fresh_d = build_from_meta(meta)
        assert (fresh_g.stage, fresh_g.alpha) == (2, 1.0), "a freshly built model is fully grown"
        gan = load_checkpoint(path)
        assert (gan.generator.stage, gan.generator.alpha) == (1, pytest.approx(0.4))
        assert (gan.discriminator.stage, gan.discriminator.alpha) == (1, pytest.approx(0.4))
        z, y = torch.randn(8, trainer.config.z_dim), torch.arange(8)
        assert torch.allclose(gan.generate(z, y), trainer.generate(z, y), atol=1e-6)
    finally:
        for module in (trainer.G, trainer.D, trainer.ema):
            module.set_stage(2, 1.0)


def test_each_stage_keeps_a_sample_grid_at_its_own_resolution(grown_trainer):
    """One small grid per stage: 7x7 and 14x14 as each stage ended (the step before the next fades in), 28x28
    the latest snapshot's; each at its stage's own pixels, from the fixed noise, one row per 10 classes."""
    from gan_core.explore.latent import class_labels
    from gan_core.train.stages import stage_picks

    history = grown_trainer.history
    stages = history.stage_samples()
    fade_in_steps = [step for step, _ in history.events()]
    assert [(s.resolution, s.final) for s in stages] == [(7, True), (14, True), (28, False)]
    assert [s.step for s in stages[:2]] == fade_in_steps == [9, 27] and stages[2].step == 60
    for s in stages:
        assert s.samples.dtype == np.uint8 and s.samples.shape == (30, 1, s.resolution, s.resolution)
        assert (s.nrow, s.size) == (10, 28)
    picks, nrow = stage_picks(80, 10)
    assert nrow == 10 and class_labels(80, 10)[picks].tolist() == list(range(10)) * 3, "each row: classes 0-9"
    last_step, last_snapshot = history.latest_snapshot()
    assert last_step == 60 and np.array_equal(stages[2].samples, last_snapshot[picks])
    step_one = history.snapshots()[0][1][picks][..., ::4, ::4]  # step 1, also at 7x7: the kept grid is later
    assert not np.array_equal(stages[0].samples, step_one)
    mirror = MetricsHistory()  # the grids cross the worker pipe with the history's delta
    delta, cursor = history.delta()
    mirror.apply_delta(delta)
    assert [(s.resolution, s.step) for s in mirror.stage_samples()] == [(s.resolution, s.step) for s in stages]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(mirror.stage_samples(), stages, strict=True))
    assert history.delta(cursor)[0]["stages"] == [], "a grid is sent once, until it changes"
    data = live_panel_data(_StubJob(grown_trainer))
    assert [s.resolution for s in data.stages] == [7, 14, 28]


def test_a_run_that_does_not_grow_keeps_no_stage_grids(mnist_dir):
    config = TrainConfig(dataset="mnist", model="cgan-mlp", steps=2, batch_size=8, data_limit=64, log_every=1,
                         snapshot_every=1, seed=0, device="cpu", data_dir=str(mnist_dir))
    trainer = Trainer(config, dataset=load_dataset("mnist", mnist_dir, limit=64))
    trainer.step(), trainer.step()
    assert len(trainer.history.snapshots()) == 2 and trainer.history.stage_samples() == []
    assert "resolution" not in trainer.history.rows()[-1]
    assert live_panel_data(_StubJob(trainer)).stages == []


class _StubJob:
    """What live_panel_data reads of a job: its config, status and trainer."""

    def __init__(self, trainer):
        self.trainer, self.config = trainer, trainer.config

    def status(self):
        return JobStatus(JobState.RUNNING, step=self.trainer.step_count)
