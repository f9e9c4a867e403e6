"""Learning-rate decay over the budget: the factor, the trainer's rates step by step, live changes, no budget."""
import pytest

from gan_core import TrainConfig, Trainer
from gan_core.train.lr_schedule import lr_factor


def test_lr_factor_holds_then_falls_linearly_to_zero():
    assert [lr_factor(f, 0.5) for f in (0.0, 0.25, 0.5, 0.75, 1.0)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    assert lr_factor(0.25, 1.0) == pytest.approx(0.75) and lr_factor(0.9, 0.0) == 1.0
    assert lr_factor(1.2, 0.5) == 0.0  # past the end of a seconds budget


def _toy(**over) -> Trainer:
    return Trainer(TrainConfig(dataset="ring8", lr_g=1e-3, lr_d=2e-3, log_every=1, snapshot_every=10**6,
                               seed=0, device="cpu", **over))


def test_a_step_budget_decays_both_rates_over_its_last_half():
    trainer = _toy(steps=20, lr_decay=0.5)
    rows = [trainer.step() for _ in range(20)]
    assert [r["lr_g"] for r in rows[:11]] == [1e-3] * 11  # steps 0..10 of 20: the first half
    assert rows[15]["lr_g"] == pytest.approx(1e-3 * (1 - 15 / 20) / 0.5)
    assert rows[19]["lr_d"] == pytest.approx(2e-3 * (1 - 19 / 20) / 0.5)
    assert all(a["lr_g"] > b["lr_g"] for a, b in zip(rows[10:], rows[11:], strict=False))


def test_a_live_lr_change_is_decayed_from_its_new_value():
    trainer = _toy(steps=10, lr_decay=1.0)
    for _ in range(5):
        trainer.step()
    trainer.update_hparams(lr_g=4e-3)
    assert trainer.step()["lr_g"] == pytest.approx(4e-3 * (1 - 5 / 10))


def test_no_budget_and_no_decay_keep_the_rates():
    for trainer in (_toy(lr_decay=1.0), _toy(steps=10, lr_decay=0.0)):
        assert {trainer.step()["lr_g"] for _ in range(10)} == {1e-3}
    assert not TrainConfig(dataset="ring8", lr_decay=1.0).follows_budget()
    assert TrainConfig(dataset="ring8", lr_decay=1.0, seconds=5).follows_budget()
    assert TrainConfig(dataset="mnist", model="cgan-progan", seconds=5).follows_budget()
    assert not TrainConfig(dataset="mnist", model="cgan-mlp", lr_decay=0.0, seconds=5).follows_budget()
