"""The one training loop (gan_core.train.loop): its budget rule, cadence, hooks and the ranks' agreement.

A scripted stand-in for Trainer keeps these fast and exact; the real Trainer goes through the same
loop in tests/test_job.py, tests/test_cli.py and tests/test_distributed.py.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from gan_core import Budget, DivergedError, TrainConfig, Trainer, TrainingLoop
from gan_core.train.loop import (
    GOOD_STATE_EVERY,
    SINGLE,
    STEP,
    STOP,
    SYNC_EVERY,
    divergence,
    is_eval_step,
    is_record_step,
    is_snapshot_step,
)


@dataclass
class Config:
    log_every: int = 10


class FakeTrainer:
    """Counts steps; each step takes `step_seconds` of training time; diverges at `diverge_at` (a record step)."""

    def __init__(self, step_seconds: float = 0.0, diverge_at: int | None = None, log_every: int = 10) -> None:
        self.config = Config(log_every)
        self.step_count = 0
        self.train_seconds = 0.0
        self.step_seconds = step_seconds
        self.diverge_at = diverge_at
        self.records: list[bool] = []
        self.restored = 0

    def step(self, record: bool | None = None) -> dict[str, float] | None:
        self.records.append(bool(record))
        if self.diverge_at is not None and self.step_count + 1 == self.diverge_at:
            self.restore_good_state()
            raise DivergedError(f"training diverged at step {self.step_count}")
        self.step_count += 1
        self.train_seconds += self.step_seconds
        return {"step": self.step_count} if record else None

    def restore_good_state(self) -> None:
        self.restored += 1


def test_cadence_rules():
    assert [s for s in range(1, 101) if is_record_step(s, 25)] == [1, 25, 50, 75, 100]
    assert [s for s in range(1, 61) if is_record_step(s, 40)] == [1, 40, GOOD_STATE_EVERY]  # a finite check first
    assert [s for s in range(1, 301) if is_snapshot_step(s, 100)] == [1, 100, 200, 300]
    assert not any(is_eval_step(s, 0) for s in range(1, 100)) and is_eval_step(40, 20) and not is_eval_step(30, 20)
    assert divergence([0.5, 0.7, 0.1]) is None
    assert divergence([float("nan"), 0.7]) == "became NaN/inf"
    assert divergence([0.5, 0.7, float("inf")]) == "became NaN/inf"  # a gradient norm counts too
    assert divergence([2e6, 0.7]) == "exploded past 1e+06"


def test_budget_rule_and_eta():
    budget = Budget(steps=100, seconds=5.0, wall_seconds=60.0)
    assert budget.reached(99, 4.9, 59.0) is None
    assert budget.reached(100, 0.0) == "steps"
    assert budget.reached(10, 5.0) == "seconds"
    assert budget.reached(10, 1.0, 60.0) == "wall"
    assert Budget().reached(10**9, 1e9, 1e9) is None  # no limit at all
    assert Budget(steps=100).eta(25, 10.0) == pytest.approx(30.0)  # the pace so far: 75 steps at 0.4 s
    assert Budget(seconds=20).eta(5, 15.0) == 5.0 and Budget(seconds=20).eta(5, 25.0) == 0.0
    assert Budget().eta(5, 1.0) is None
    assert Budget.of(TrainConfig(steps=7, seconds=3.0), wall_seconds=9) == Budget(7, 3.0, 9)


def test_steps_budget_records_on_cadence_and_reports_each_step():
    trainer = FakeTrainer(log_every=10)
    seen = []
    end = TrainingLoop(trainer, Budget(steps=30), on_step=lambda t, row: seen.append(row)).run()
    assert (end.reason, end.step, end.diverged) == ("steps", 30, False)
    assert [i + 1 for i, r in enumerate(trainer.records) if r] == [1, 10, 20, 30]
    assert len(seen) == 30 and [r["step"] for r in seen if r] == [1, 10, 20, 30]


def test_seconds_budget_counts_training_time_only():
    trainer = FakeTrainer(step_seconds=0.25)
    end = TrainingLoop(trainer, Budget(seconds=1.0)).run()
    assert (end.reason, end.step) == ("seconds", 4)


def test_wall_cap_from_the_jobs_start():
    trainer = FakeTrainer()
    end = TrainingLoop(trainer, Budget(wall_seconds=5.0), wall_started=-1e9).run()  # started long ago
    assert (end.reason, end.step) == ("wall", 0)


def test_divergence_ends_the_loop_with_its_message():
    trainer = FakeTrainer(diverge_at=20)
    end = TrainingLoop(trainer, Budget(steps=100)).run()
    assert end.diverged and end.step == 19 and "diverged at step 19" in end.message


def test_control_hook_orders_single_steps_and_stop():
    trainer = FakeTrainer(log_every=10)
    orders = iter([STEP, STEP, SINGLE, SINGLE, STEP, STOP])
    end = TrainingLoop(trainer, Budget(steps=100), control=lambda: next(orders)).run()
    assert (end.reason, end.step) == ("stopped", 5)
    assert trainer.records == [True, False, True, True, False]  # step 1 by cadence, steps 3 and 4 asked for


def test_step_lock_is_held_during_each_step():
    lock = threading.Lock()
    held = []

    class Probe(FakeTrainer):
        def step(self, record=None):
            held.append(lock.locked())
            return super().step(record)

    TrainingLoop(Probe(), Budget(steps=3), step_lock=lock).run()
    assert held == [True, True, True] and not lock.locked()


def test_agreement_another_rank_diverged_rolls_back_here():
    trainer = FakeTrainer(log_every=10)
    calls = []

    def agree(diverged, out_of_time):
        calls.append((trainer.step_count, diverged, out_of_time))
        return trainer.step_count == 20, False  # "another rank" diverged at step 20

    end = TrainingLoop(trainer, Budget(steps=100), agree=agree).run()
    assert end.diverged and end.step == 20 and trainer.restored == 1
    assert "another rank at step 20" in end.message
    assert [c[0] for c in calls] == [1, 10, 20]  # only the record steps, the same on every rank


def test_agreement_local_divergence_is_shared_not_raised():
    trainer = FakeTrainer(diverge_at=10, log_every=10)
    flags = []
    end = TrainingLoop(trainer, Budget(steps=100), agree=lambda d, t: (flags.append(d) or d, False)).run()
    assert end.diverged and flags == [False, True] and trainer.restored == 1  # rolled back once, by the trainer


def test_agreement_on_time_checks_every_sync_step_only():
    trainer = FakeTrainer(step_seconds=0.1, log_every=1000)
    checked = []

    def agree(diverged, out_of_time):
        checked.append(trainer.step_count)
        return False, out_of_time

    end = TrainingLoop(trainer, Budget(seconds=1.45), agree=agree).run()
    # over budget after step 15, noticed at the next sync step (every SYNC_EVERY), as on every rank
    assert end.reason == "seconds" and end.step == 2 * SYNC_EVERY
    assert checked == [1, SYNC_EVERY, 2 * SYNC_EVERY]


def test_a_real_trainer_in_the_loop():
    trainer = Trainer(TrainConfig(dataset="ring8", batch_size=32, steps=25, log_every=10, device="cpu"))
    end = TrainingLoop(trainer, Budget.of(trainer.config)).run()
    assert end.reason == "steps" and trainer.step_count == 25
    assert [r["step"] for r in trainer.history.rows()] == [1, 10, 20]
    assert [s for s, _ in trainer.history.snapshots()] == [1]
