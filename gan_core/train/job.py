"""TrainingJob: a Trainer running in a background thread that a UI can steer and read safely.

The thread is the only code that steps the trainer, through the one training loop
(gan_core.train.loop) with this job's pause / step / stop as its `control` hook. Every step runs
under `job.lock`; the UI's reads of models (samples, saving) take the same lock between steps,
and metrics are read from the thread-safe history. Nothing here knows about Streamlit.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from gan_core.data.datasets import Dataset
from gan_core.device import default_num_threads
from gan_core.io.checkpoint import load_checkpoint
from gan_core.train.config import TrainConfig
from gan_core.train.frames import Frame, FrameMaker, FrameRecorder
from gan_core.train.loop import SINGLE, STEP, STOP, Budget, TrainingLoop
from gan_core.train.records import JobState, JobStatus
from gan_core.train.trainer import Trainer, check_live_changes

logger = logging.getLogger(__name__)
__all__ = ["JobInterface", "JobState", "JobStatus", "TrainingJob", "attach_evaluator", "build_trainer",
           "check_live_changes"]


def build_trainer(config: TrainConfig, dataset: Dataset | None = None, init_from: str | None = None) -> Trainer:
    """A Trainer, forked from a checkpoint's weights when `init_from` names one (a steps budget then
    counts from the fork point)."""
    trainer = Trainer(config, dataset)
    if init_from:
        trainer.load_weights(load_checkpoint(init_from, trainer.device))
        if trainer.config.steps:
            trainer.config = replace(trainer.config, steps=trainer.config.steps + trainer.step_count)
        trainer.history.add_event(trainer.step_count, f"forked from {Path(init_from).stem}")
    return trainer


def attach_evaluator(trainer: Trainer) -> None:
    """Wire gan_core.eval.metrics' quality metrics into a trainer (eval_every > 0); if it cannot, the
    charts say so."""
    try:
        from gan_core.eval.metrics import trainer_evaluator
        trainer.evaluator = trainer_evaluator(trainer)
    except Exception as exc:  # metrics are optional: whatever stops them must not stop the run
        logger.warning("quality metrics off for this run", exc_info=True)
        trainer.history.add_event(trainer.step_count, f"quality metrics off: {exc}")


class PausedTime:
    """The seconds a job has spent paused, from the states it is seen in: its status line's "elapsed" leaves them
    out, so the clock stops while the run is paused."""

    def __init__(self) -> None:
        self._total = 0.0
        self._since: float | None = None

    def observe(self, state: JobState, now: float) -> None:
        if state == JobState.PAUSED:
            if self._since is None:
                self._since = now
        elif self._since is not None:
            self._total += now - self._since
            self._since = None

    def total(self, now: float) -> float:
        return self._total + (now - self._since if self._since is not None else 0.0)


def active_seconds(started_at: float | None, ended_at: float | None, paused: PausedTime) -> float:
    """Wall seconds from start to end (or now), less the time spent paused."""
    if started_at is None:
        return 0.0
    end = ended_at or time.monotonic()
    return max(0.0, end - started_at - paused.total(end))


class JobInterface:
    """What TrainingJob and WorkerJob share, whatever process their trainer runs in."""

    _state: JobState
    last_seen: float

    def update_hparams(self, **changes: Any) -> None:
        raise NotImplementedError

    def _steps_done(self) -> int | None:
        raise NotImplementedError

    def _has_ended(self) -> bool:
        raise NotImplementedError

    @property
    def state(self) -> JobState:
        return self._state

    def set_lr(self, lr_g: float | None = None, lr_d: float | None = None) -> None:
        changes = {k: v for k, v in (("lr_g", lr_g), ("lr_d", lr_d)) if v is not None}
        if changes:
            self.update_hparams(**changes)

    def wait_until(self, step: int, timeout: float = 60.0) -> bool:
        """Block until the trainer has done `step` steps or the job ended (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self._steps_done()
            if done is not None and done >= step:
                return True
            if self._has_ended():
                return False
            time.sleep(0.01)
        return False

    def touch(self) -> None:
        """Mark the job as watched (the app's idle timeout stops unwatched jobs)."""
        self.last_seen = time.monotonic()


class TrainingJob(JobInterface):
    """Runs `Trainer.step()` in a daemon thread with start / pause / resume / step_once / stop."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, trainer: Trainer | None = None,
                 num_threads: int | None = None, max_seconds: float | None = None, name: str = "",
                 init_from: str | None = None, frame_maker: FrameMaker | None = None) -> None:
        self.config = config.validate()
        self.name = name
        self._init_from = init_from  # a checkpoint to fork from: its weights, and steps counted from there
        self._frame_maker = frame_maker  # frames for a browser to animate (gan_core.train.frames), or None
        self._frames: FrameRecorder | None = None
        self._last_order = STEP
        self.lock = threading.RLock()
        self._dataset = dataset
        self._trainer = trainer
        self._num_threads = num_threads or config.num_threads or default_num_threads()
        self._max_seconds = max_seconds  # a server-side cap on top of the run's own budget
        self._cond = threading.Condition()
        self._state = JobState.STARTING
        self._paused_requested = False
        self._pending_steps = 0
        self._stop_requested = False
        self._pending_changes: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.message = ""
        self.error_trace = ""
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._paused_time = PausedTime()
        self.last_seen = time.monotonic()

    # ------------------------------------------------------------ control

    def start(self, paused: bool = False) -> TrainingJob:
        if self._thread is not None:
            raise RuntimeError("this job was already started")
        self._paused_requested = paused
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"TrainingJob-{self.name or id(self)}", daemon=True)
        self._thread.start()
        return self

    def pause(self) -> None:
        with self._cond:
            self._paused_requested = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused_requested = False
            self._cond.notify_all()

    def step_once(self, n: int = 1) -> None:
        """Pause (if running) and do exactly n more steps."""
        with self._cond:
            self._paused_requested = True
            self._pending_steps += max(1, int(n))
            self._cond.notify_all()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to finish its current step and exit; True when it has ended."""
        with self._cond:
            self._stop_requested = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self.is_alive()

    def update_hparams(self, **changes: Any) -> None:
        """Queue hyper-parameter changes (lr_g, lr_d, ...); applied between steps and marked on the charts."""
        check_live_changes(self._trainer.config if self._trainer is not None else self.config, changes)
        with self._cond:
            self._pending_changes.update(changes)
            self._cond.notify_all()

    def wait_changes_applied(self, timeout: float = 5.0) -> bool:
        """Block until queued hyper-parameter changes are in the trainer (or the job ended)."""
        deadline = time.monotonic() + timeout
        while self._pending_changes and self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._pending_changes

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the trainer is built (data loaded) or the job ended."""
        return self._ready.wait(timeout)

    def _steps_done(self) -> int | None:
        return self._trainer.step_count if self._trainer is not None else None

    def _has_ended(self) -> bool:
        return self._thread is not None and not self.is_alive()

    # ------------------------------------------------------------ reading

    @property
    def trainer(self) -> Trainer | None:
        return self._trainer

    @property
    def history(self):
        return self._trainer.history if self._trainer is not None else None

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> JobStatus:
        """A snapshot for a status line: state, step, epoch, images/s, elapsed and estimated time left."""
        trainer = self._trainer
        elapsed = active_seconds(self.started_at, self.ended_at, self._paused_time)
        cfg = trainer.config if trainer else self.config
        if trainer is None:
            return JobStatus(self._state, self.message, elapsed=elapsed, eta=Budget.of(cfg).eta(0, 0.0),
                             budget_steps=cfg.steps, budget_seconds=cfg.seconds)
        last = trainer.history.last()
        return JobStatus(self._state, self.message, step=trainer.step_count, epoch=trainer.epoch,
                         images_per_s=last["images_per_s"] if last else 0.0, elapsed=elapsed,
                         eta=Budget.of(cfg).eta(trainer.step_count, trainer.train_seconds),
                         device=str(trainer.device), budget_steps=cfg.steps, budget_seconds=cfg.seconds)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the current generator, taken between steps."""
        return self.call(Trainer.generate, z, labels)

    def save(self, path, **extra: Any):
        """Checkpoint the current generator and discriminator, between steps."""
        return self.call(Trainer.save, path, **extra)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn(trainer, *args, **kwargs) between two steps: how a UI reads what the models compute."""
        if self._trainer is None:
            raise RuntimeError("the job has no trained model yet")
        with self.lock:
            return fn(self._trainer, *args, **kwargs)

    def frames_since(self, seq: int) -> list[Frame]:
        """The recorded frames after frame `seq` still held (-1: all); [] when this job records none."""
        frames = self._frames
        return frames.since(seq) if frames is not None else []

    # ------------------------------------------------------------ frames

    def _record_frame(self, how: str) -> None:
        """Record a frame ("due": if its time has come, "single": now, "catch_up": if the trainer moved on).

        A frame that cannot be made turns frames off for this run (logged); training goes on."""
        frames = self._frames
        if frames is None:
            return
        try:
            with self.lock:
                if how == "catch_up":
                    frames.catch_up(self._trainer)
                else:
                    frames.after_step(self._trainer, forced=how == "single")
        except Exception:  # a view of the run must never end the run
            logger.warning("job %s: recording frames failed; the animation stops", self.name or id(self),
                           exc_info=True)
            self._frames = None

    def _after_step(self, _trainer: Trainer, _row: dict[str, float] | None) -> None:
        self._record_frame("single" if self._last_order == SINGLE else "due")

    # ------------------------------------------------------------ the thread

    def _next_order(self) -> str:
        """The loop's control hook: apply queued changes, wait while paused; returns STOP, STEP or SINGLE."""
        while True:
            with self._cond:
                if self._stop_requested:
                    return STOP
                changes, self._pending_changes = self._pending_changes, {}
                if not changes:
                    order = self._order_or_wait()
                    if order is not None:
                        self._last_order = order
                        return order
            if not changes:  # paused: the last frame shows where the run stopped
                self._record_frame("catch_up")
                continue
            with self.lock:  # outside the condition: a UI may queue more changes meanwhile
                self._trainer.update_hparams(**changes)

    def _order_or_wait(self) -> str | None:
        """Under self._cond, with no changes queued: the next order, or None after waiting a while paused."""
        if not self._paused_requested:
            self._set_state(JobState.RUNNING)
            return STEP
        if self._pending_steps > 0:
            self._pending_steps -= 1
            return SINGLE
        self._set_state(JobState.PAUSED)
        self._cond.wait(0.5)
        return None

    def _set_state(self, state: JobState) -> None:
        self._paused_time.observe(state, time.monotonic())
        self._state = state

    def _run(self) -> None:
        torch.set_num_threads(self._num_threads)
        end_state, message = JobState.STOPPED, ""
        try:
            if self._trainer is None:
                self._trainer = build_trainer(self.config, self._dataset, self._init_from)
            if self.config.eval_every and self._trainer.evaluator is None:
                threading.Thread(target=attach_evaluator, args=(self._trainer,), name="AttachEvaluator",
                                 daemon=True).start()
            if self._frame_maker is not None:
                self._frames = FrameRecorder(self._frame_maker)
                self._record_frame("single")  # the run's start, before any step
            self._ready.set()
            loop = TrainingLoop(self._trainer, Budget.of(self._trainer.config, self._max_seconds),
                                control=self._next_order, step_lock=self.lock, wall_started=self.started_at,
                                on_step=self._after_step if self._frames is not None else None)
            end = loop.run()
            if end.reason == "stopped":
                end_state, message = JobState.STOPPED, f"stopped at step {end.step}"
            elif end.diverged:
                end_state, message = JobState.DIVERGED, end.message
            else:
                end_state, message = JobState.FINISHED, f"finished: budget reached at step {end.step}"
        except Exception as exc:  # any failure ends the job; the page shows it with its trace
            end_state, message = JobState.FAILED, f"{type(exc).__name__}: {exc}"
            self.error_trace = traceback.format_exc()
            logger.warning("training job %s failed", self.name or id(self), exc_info=True)
        finally:
            self.message = message
            self.ended_at = time.monotonic()
            self._set_state(end_state)
            self._ready.set()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
