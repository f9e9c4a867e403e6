"""MirroredJob: what WorkerJob and RayJob share, a run whose trainer lives elsewhere and is mirrored here.

The trainer runs in another process (a WorkerJob's child, a RayJob's actor). Commands and model reads go
there through the subclass's `_request`; the mirror (`_view`, `_history`, `_frames`, `_ready`, `_ended`) is
kept up to date by the subclass's reader. Everything that only needs those lives here, once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from gan_core.train.frames import Frame
from gan_core.train.history import MetricsHistory
from gan_core.train.job import JobInterface
from gan_core.train.records import TrainerView
from gan_core.train.trainer import Trainer, check_live_changes


class MirroredJob(JobInterface):
    """The shared half of the remote jobs; a subclass provides `_request(op, *args)` and fills the mirror."""

    def _request(self, op: str, *args: Any) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------ control

    def pause(self) -> None:
        self._request("pause")

    def resume(self) -> None:
        self._request("resume")

    def step_once(self, n: int = 1) -> None:
        self._request("step_once", max(1, int(n)))

    def update_hparams(self, **changes: Any) -> None:
        """Queue hyper-parameter changes (lr_g, lr_d, ...); applied between steps and marked on the charts."""
        check_live_changes(self._view.config if self._view is not None else self.config, changes)
        self._request("update_hparams", changes)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the remote trainer is built (data loaded) or the job ended."""
        return self._ready.wait(timeout)

    def _steps_done(self) -> int | None:
        return self._view.step_count if self._view is not None else None

    def _has_ended(self) -> bool:
        return self._ended.is_set()

    # ------------------------------------------------------------ reading

    @property
    def trainer(self) -> TrainerView | None:
        return self._view

    @property
    def history(self) -> MetricsHistory | None:
        return self._history if self._view is not None else None

    def frames_since(self, seq: int) -> list[Frame]:
        """The frames after frame `seq` (-1: all) that the mirror holds; no round trip."""
        return self._frames.since(seq)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the current generator, taken between steps."""
        return self.call(Trainer.generate, z, labels)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn(trainer, *args, **kwargs) where the trainer runs, between two steps; fn must be importable there."""
        return self._request("call", fn, args, kwargs)
