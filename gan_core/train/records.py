"""The records a training job hands out: its state, its status line and what is known of its trainer.
They cross the worker pipe (pickled as they are) and the pages, so they
are dataclasses with named, typed fields rather than dicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gan_core.train.config import TrainConfig
from gan_core.train.history import MetricsHistory


class JobState(StrEnum):
    """Where a job is; the value ("running", ...) is what status lines show."""

    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # the step or time budget was reached
    STOPPED = "stopped"  # stop() was called
    DIVERGED = "diverged"  # NaN/inf: rolled back to the last good weights
    FAILED = "failed"  # an exception; `message` and `error_trace` say which

    @property
    def active(self) -> bool:
        return self in (JobState.STARTING, JobState.RUNNING, JobState.PAUSED)


@dataclass(frozen=True)
class JobStatus:
    """A job's status line: where it is and how fast it goes. Times are seconds."""

    state: JobState
    message: str = ""
    step: int = 0
    epoch: float = 0.0
    images_per_s: float = 0.0
    elapsed: float = 0.0  # wall time since start, less the time spent paused
    eta: float | None = None  # training time left, None when it cannot be told
    device: str = ""  # "" until the trainer is built
    budget_steps: int | None = None
    budget_seconds: float | None = None


@dataclass(frozen=True)
class TrainerView:
    """What is known of a trainer without touching it: the child process sends this as it is, and the
    parent adds the history it mirrors (`history` is None in the copy that crosses the pipe)."""

    config: TrainConfig
    step_count: int
    kind: str  # "image" or "points"
    conditional: bool
    num_classes: int | None
    class_names: tuple[str, ...] | None
    device: str
    epoch: float
    history: MetricsHistory | None = field(default=None, compare=False)

    @classmethod
    def of(cls, trainer: Any) -> TrainerView:
        """The view of a live Trainer (without its history)."""
        return cls(config=trainer.config, step_count=trainer.step_count, kind=trainer.kind,
                   conditional=trainer.conditional, num_classes=trainer.num_classes,
                   class_names=trainer.class_names, device=str(trainer.device), epoch=trainer.epoch)

