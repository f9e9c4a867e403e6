"""The one training loop: how long a run goes (its budget), which steps are recorded, when it stops.

Every way to train goes through `TrainingLoop`: the command line (`gan train`), each rank under
torchrun (gan_core.train.distributed) and `TrainingJob` (the app's jobs). What differs between
them comes in through hooks, not through a loop of their own:

- `control` (TrainingJob): called before each step; it may block while the job is paused and
  answers "step", "single" (one step asked for while paused: its metrics are always recorded) or "stop".
- `on_step` (the progress bar): called after each completed step with the recorded row or None.
- `agree` (DDP): the ranks' agreement. Every rank checks for divergence and for the seconds budget
  on the same steps (sync steps), and `agree(diverged_here, out_of_time_here)` returns what any
  rank found, so all ranks stop at the same step.
- `step_lock` (TrainingJob): held during each step, so a UI reads the models between steps.

The cadence rules (record, good-state copy, snapshot, quality metrics) are here too; Trainer.step
applies them, so a Trainer stepped by hand follows the same rules as one in the loop.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from gan_core.nn.progressive import DEFAULT_GROW_STEPS

GOOD_STATE_EVERY = 50  # steps between copies of the last finite weights (each preceded by a finite check)
EXPLODED_LOSS = 1e6  # a loss this large has left any useful regime: treated like NaN
SYNC_EVERY = 10  # with agreement and a seconds budget: steps between the ranks' checks of the clock

STEP, SINGLE, STOP = "step", "single", "stop"  # what a `control` hook answers


class DivergedError(RuntimeError):
    """Training produced NaN/inf; the trainer has been rolled back to its last good state."""


# ---------------------------------------------------------------- cadence (1-based step numbers)

def is_record_step(step: int, log_every: int) -> bool:
    """Whether step number `step` records its metrics: the first, every `log_every`, and every step
    that copies the good state (a finite check must precede each copy)."""
    return step == 1 or step % log_every == 0 or step % GOOD_STATE_EVERY == 0


def is_good_state_step(step: int) -> bool:
    return step % GOOD_STATE_EVERY == 0


def is_snapshot_step(step: int, snapshot_every: int) -> bool:
    """Samples of the fixed noise: after the first step and every `snapshot_every`."""
    return step == 1 or step % snapshot_every == 0


def is_eval_step(step: int, eval_every: int) -> bool:
    """Quality metrics every `eval_every` steps; 0 means never."""
    return bool(eval_every) and step % eval_every == 0


def divergence(losses_and_more: Sequence[float]) -> str | None:
    """Why a record (D loss, G loss, then any other numbers) means the run diverged, or None."""
    if not all(math.isfinite(v) for v in losses_and_more):
        return "became NaN/inf"
    if max(abs(losses_and_more[0]), abs(losses_and_more[1])) > EXPLODED_LOSS:
        return f"exploded past {EXPLODED_LOSS:g}"
    return None


# ---------------------------------------------------------------- budget

@dataclass(frozen=True)
class Budget:
    """When a run is done: after `steps` steps, `seconds` of training (time inside steps, so pauses do
    not count) or `wall_seconds` since it started (a server's cap); None or 0 is no limit."""

    steps: int | None = None
    seconds: float | None = None
    wall_seconds: float | None = None

    @classmethod
    def of(cls, config: Any, wall_seconds: float | None = None) -> Budget:
        """The budget of a TrainConfig (its steps and seconds), with an optional wall-clock cap."""
        return cls(config.steps, config.seconds, wall_seconds)

    def steps_reached(self, step: int) -> bool:
        return bool(self.steps) and step >= self.steps

    def seconds_reached(self, train_seconds: float) -> bool:
        return bool(self.seconds) and train_seconds >= self.seconds

    def wall_reached(self, wall_elapsed: float) -> bool:
        return bool(self.wall_seconds) and wall_elapsed >= self.wall_seconds

    def reached(self, step: int, train_seconds: float, wall_elapsed: float = 0.0) -> str | None:
        """"steps", "seconds" or "wall": the part of the budget that is spent, else None."""
        if self.steps_reached(step):
            return "steps"
        if self.seconds_reached(train_seconds):
            return "seconds"
        if self.wall_reached(wall_elapsed):
            return "wall"
        return None

    def eta(self, step: int, train_seconds: float) -> float | None:
        """Estimated training seconds left: from the pace so far (steps budget) or the clock (seconds)."""
        if self.steps and train_seconds > 0:
            return (self.steps - step) * train_seconds / max(step, 1)
        if self.seconds:
            return max(0.0, self.seconds - train_seconds)
        return None


def run_fraction(config: Any, step: int, train_seconds: float) -> float:
    """How far through its budget a run is (0..1): by steps, else by training seconds. Both the lr decay
    (gan_core.train.lr_schedule, which is off without a budget) and progressive growing follow it; a growing run
    with no budget counts DEFAULT_GROW_STEPS steps."""
    if config.steps:
        return min(step / config.steps, 1.0)
    if config.seconds:
        return min(train_seconds / config.seconds, 1.0)
    return min(step / DEFAULT_GROW_STEPS, 1.0)


# ---------------------------------------------------------------- the loop

class Steppable(Protocol):
    """What the loop needs of a Trainer."""

    config: Any
    step_count: int
    train_seconds: float

    def step(self, record: bool | None = None) -> dict[str, float] | None: ...

    def restore_good_state(self) -> None: ...


@dataclass(frozen=True)
class LoopEnd:
    """Why the loop ended: "steps", "seconds", "wall" (the budget), "stopped" (control) or "diverged"."""

    reason: str
    step: int
    message: str = ""  # the divergence message

    @property
    def diverged(self) -> bool:
        return self.reason == "diverged"


Agreement = Callable[[bool, bool], tuple[bool, bool]]


class TrainingLoop:
    """Steps a trainer until its budget is spent, it diverges, or `control` says stop."""

    def __init__(self, trainer: Steppable, budget: Budget, *, control: Callable[[], str] | None = None,
                 on_step: Callable[[Steppable, dict[str, float] | None], None] | None = None,
                 agree: Agreement | None = None, step_lock: AbstractContextManager[Any] | None = None,
                 wall_started: float | None = None) -> None:
        self.trainer = trainer
        self.budget = budget
        self.control = control
        self.on_step = on_step
        self.agree = agree
        self.step_lock = step_lock if step_lock is not None else nullcontext()
        self.wall_started = wall_started

    def _end(self, reason: str, message: str = "") -> LoopEnd:
        return LoopEnd(reason, self.trainer.step_count, message)

    def _budget_spent(self) -> str | None:
        trainer = self.trainer
        if self.agree is not None:  # seconds are checked on sync steps only, so that every rank agrees
            return "steps" if self.budget.steps_reached(trainer.step_count) else None
        wall = time.monotonic() - self.wall_started if self.wall_started is not None else 0.0
        return self.budget.reached(trainer.step_count, trainer.train_seconds, wall)

    def _is_sync_step(self, step: int, recorded: bool) -> bool:
        return recorded or bool(self.budget.seconds and step % SYNC_EVERY == 0)

    def run(self) -> LoopEnd:
        if self.wall_started is None:
            self.wall_started = time.monotonic()
        trainer = self.trainer
        while True:
            order = self.control() if self.control is not None else STEP
            if order == STOP:
                return self._end("stopped")
            spent = self._budget_spent()
            if spent:
                return self._end(spent)
            upcoming = trainer.step_count + 1
            record = order == SINGLE or is_record_step(upcoming, trainer.config.log_every)
            diverged = None
            with self.step_lock:
                try:
                    row = trainer.step(record=record)
                except DivergedError as exc:
                    diverged, row = str(exc), None
            if diverged is None and self.on_step is not None:
                self.on_step(trainer, row)
            if self.agree is None:
                if diverged is not None:
                    return self._end("diverged", diverged)
                continue
            if not self._is_sync_step(upcoming, record):
                continue
            any_diverged, out_of_time = self.agree(diverged is not None,
                                                   self.budget.seconds_reached(trainer.train_seconds))
            if any_diverged:
                if diverged is None:
                    trainer.restore_good_state()
                    diverged = f"training diverged on another rank at step {trainer.step_count}; weights rolled back"
                return self._end("diverged", diverged)
            if out_of_time:
                return self._end("seconds")
