"""WorkerJob: a TrainingJob that runs in its own process, steered and mirrored from the parent.

Why a process: a server shared by a class must stay quick while students train. A job in a thread
shares the server's interpreter lock, and what it allocated mostly stays in the server after it
ends. In a child process with a lowered priority (`nice`), the OS serves the pages first, and every
byte of the run goes back to the OS when the worker closes.

The parent keeps a mirror: state, status, a MetricsHistory and the recorded frames (the playground's
animation, gan_core.train.frames) brought up to date a few times a second from the child
(`MetricsHistory.delta`, the frames since the last update). Commands (pause, resume, step, stop, live
hyper-parameters) and model reads (`call`: samples, saving, the 2-D playground's field) go over a
pipe and are answered by the child between two training steps. Both ends are this package's own
code; nothing a user uploads crosses the pipe. The child exits when the parent closes it or dies.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from gan_core.device import default_num_threads
from gan_core.train.config import TrainConfig
from gan_core.train.frames import Frame, FrameBuffer, FrameMaker
from gan_core.train.history import MetricsHistory
from gan_core.train.job import PausedTime, TrainingJob, active_seconds
from gan_core.train.mirrored_job import MirroredJob
from gan_core.train.records import JobState, JobStatus, TrainerView
from gan_core.train.trainer import Trainer

PUBLISH_EVERY = 0.25  # seconds between the child's updates
CALL_TIMEOUT = 300.0  # a save or a field never takes this long; a dead child is noticed much sooner
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerUpdate:
    """What the child sends a few times a second: its status, its trainer's view and what the history gained."""

    seq: int
    status: JobStatus  # state and message included
    error_trace: str
    trainer: TrainerView | None  # None until the trainer is built; `history` is None in it
    history: dict[str, Any]  # MetricsHistory.delta
    frames: list[Frame] = field(default_factory=list)  # the frames recorded since the last update


class WorkerJob(MirroredJob):
    """The TrainingJob interface over a child process: start / pause / resume / step_once / stop."""

    def __init__(self, config: TrainConfig, num_threads: int | None = None, max_seconds: float | None = None,
                 name: str = "", init_from: str | None = None, nice: int = 0,
                 frame_maker: FrameMaker | None = None) -> None:
        """`frame_maker`: a module-level function (it is sent to the child) that makes the frames a browser
        animates (gan_core.train.frames); None records none."""
        self.config = config.validate()
        self.name = name
        self.message = ""
        self.error_trace = ""
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._paused_time = PausedTime()  # the child's pauses, as the updates report them
        self.last_seen = time.monotonic()
        self._args = {"num_threads": num_threads or config.num_threads or default_num_threads(),
                      "max_seconds": max_seconds, "init_from": init_from, "nice": nice, "name": name,
                      "frame_maker": frame_maker}
        self._state = JobState.STARTING
        self._history = MetricsHistory()
        self._frames = FrameBuffer()  # mirrors the child's recorder
        self._view: TrainerView | None = None
        self._status: JobStatus | None = None
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._applied = threading.Condition()
        self._applied_seq = -1
        self._call_lock = threading.Lock()
        self._process: mp.process.BaseProcess | None = None
        self._commands = None
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self, paused: bool = False) -> WorkerJob:
        if self._process is not None:
            raise RuntimeError("this job was already started")
        ctx = mp.get_context("spawn")  # never fork a threaded server
        self._commands, child_commands = ctx.Pipe()
        updates, child_updates = ctx.Pipe(duplex=False)
        self.started_at = time.monotonic()
        self._process = ctx.Process(target=worker_main, name=f"WorkerJob-{self.name or id(self)}", daemon=True,
                                    args=(child_commands, child_updates, self.config, paused, self._args))
        with _no_main_for_children():
            self._process.start()
        child_commands.close()
        child_updates.close()
        self._reader = threading.Thread(target=self._read_updates, args=(updates,), daemon=True,
                                        name=f"WorkerJobReader-{self.name or id(self)}")
        self._reader.start()
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Finish the current step and end the run; the worker stays up for saving until close()."""
        if self._ended.is_set():
            return True
        try:
            self._request("stop", timeout)
        except RuntimeError:
            pass  # the worker is gone: the reader marks the job ended
        return self._ended.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the run and end the worker process (its memory goes back to the OS)."""
        process = self._process
        if process is None:
            return
        try:
            self._request("close", timeout=timeout)
        except RuntimeError:  # the worker is gone or did not answer: it is killed below if still alive
            logger.debug("job %s: close not answered", self.name or id(self), exc_info=True)
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(timeout)
        self._ended.wait(timeout)

    # ------------------------------------------------------------ reading

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        """True while the run holds a slot: started and not ended (running, paused or loading)."""
        return self._process is not None and not self._ended.is_set()

    def worker_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def status(self) -> JobStatus:
        """The child's status line; state and message as the parent knows them, elapsed time counts on here (and
        stops while the run is paused)."""
        status = self._status or JobStatus(self._state, budget_steps=self.config.steps,
                                           budget_seconds=self.config.seconds)
        elapsed = active_seconds(self.started_at, self.ended_at, self._paused_time) if self.started_at is not None \
            else status.elapsed
        return replace(status, state=self._state, message=self.message, elapsed=elapsed)

    def save(self, path, **extra: Any):
        """Checkpoint the current generator and discriminator (the child writes the files)."""
        return self.call(Trainer.save, str(path), **extra)

    # ------------------------------------------------------------ the pipe

    def _request(self, op: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        if self._process is None:
            raise RuntimeError("the job has not been started")
        with self._call_lock:
            try:
                self._commands.send((op, args))
                deadline = time.monotonic() + timeout
                while not self._commands.poll(0.2):
                    if not self._process.is_alive() or time.monotonic() > deadline:
                        raise RuntimeError(f"the training process did not answer {op!r}")
                status, value = self._commands.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                raise RuntimeError(f"the training process has ended ({type(exc).__name__})") from None
        if status == "error":
            raise value
        result, seq = value
        with self._applied:  # the mirror shows the command's effect before the caller goes on
            self._applied.wait_for(lambda: self._applied_seq >= seq or self._ended.is_set(), timeout=10)
        return result

    def _read_updates(self, updates) -> None:
        try:
            while True:
                try:
                    update = updates.recv()
                except (EOFError, OSError):
                    break
                self._apply(update)
        finally:
            if self._state.active or not self._ended.is_set():
                self._mark_gone()

    def _mark_gone(self) -> None:
        """The updates stopped before an ended state arrived: the child died (killed, out of memory)."""
        if self._process is not None:
            self._process.join(5)
        code = self._process.exitcode if self._process is not None else None
        if self._state.active:
            self._state = JobState.FAILED
            self.message = f"the training process ended unexpectedly (exit code {code})"
        self.ended_at = self.ended_at or time.monotonic()
        self._paused_time.observe(self._state, self.ended_at)
        self._ready.set()
        self._ended.set()

    def _apply(self, update: WorkerUpdate) -> None:
        try:
            self._apply_update(update)
        finally:
            with self._applied:
                self._applied_seq = update.seq
                self._applied.notify_all()

    def _apply_update(self, update: WorkerUpdate) -> None:
        self._history.apply_delta(update.history)
        self._frames.extend(update.frames)
        self._status = update.status
        self.message, self.error_trace = update.status.message, update.error_trace
        info = update.trainer
        if info is not None:
            self._view = replace(info, history=self._history)
        state = update.status.state
        now = time.monotonic()
        if not state.active:
            self.ended_at = self.ended_at or now
        self._paused_time.observe(state, now)
        self._state = state
        if info is not None or not state.active:
            self._ready.set()
        if not state.active:
            self._ended.set()


# ---------------------------------------------------------------- the child process

class _Publisher:
    """Sends the job's state and what its history gained, every PUBLISH_EVERY seconds and on demand."""

    def __init__(self, job: TrainingJob, pipe) -> None:
        self.job, self.pipe = job, pipe
        self.lock = threading.Lock()
        self.cursor: dict[str, int] | None = None
        self.frame_cursor = -1  # the last frame sent
        self.seq = -1

    def publish(self) -> int:
        """Send one update; returns its serial number."""
        job = self.job
        with self.lock:
            self.seq += 1
            status = job.status()  # read before the history, so an ended state comes with the whole history
            trainer = job.trainer
            history = trainer.history if trainer is not None else MetricsHistory()  # not built yet: nothing new
            delta, self.cursor = history.delta(self.cursor)
            view = TrainerView.of(trainer) if trainer is not None else None
            frames = job.frames_since(self.frame_cursor)
            if frames:
                self.frame_cursor = frames[-1].seq
            self.pipe.send(WorkerUpdate(self.seq, status, job.error_trace, view, delta, frames))
            return self.seq

    def run(self, stop: threading.Event) -> None:
        """Publish until the run has ended and that was published (nothing changes after that)."""
        while not stop.wait(PUBLISH_EVERY):
            ended = not self.job.state.active
            try:
                self.publish()
            except (OSError, EOFError):  # the parent is gone: nobody to publish to
                return
            if ended:
                return


def _handle(job: TrainingJob, op: str, args: tuple) -> Any:
    if op == "pause":
        return job.pause()
    if op == "resume":
        return job.resume()
    if op == "step_once":
        return job.step_once(*args)
    if op == "stop":
        return job.stop(*args)
    if op == "update_hparams":
        job.update_hparams(**args[0])
        job.wait_changes_applied()
        return None
    if op == "call":
        fn, fn_args, fn_kwargs = args
        if not job.wait_ready(120):
            raise RuntimeError("the job's trainer is not ready")
        return job.call(fn, *fn_args, **fn_kwargs)
    raise ValueError(f"unknown worker command {op!r}")


_MAIN_SWAP = threading.Lock()


@contextmanager
def _no_main_for_children() -> Iterator[None]:
    """Start a spawned child without re-running the parent's `__main__`.

    spawn runs the parent's main script again in the child (as `__mp_main__`) so that objects pickled
    from it can be found. The worker needs nothing from it: its target and arguments live in this
    package. And a host that runs scripts as its `__main__` (Streamlit installs each page run's app
    script there) would have every worker run the whole app, in bare mode, before it trains. While
    the child's preparation data is taken, `__main__` is an empty module; the host's is put back
    unless the host replaced it meanwhile.
    """
    with _MAIN_SWAP:
        host_main = sys.modules.get("__main__")
        empty = types.ModuleType("__main__")
        sys.modules["__main__"] = empty
        try:
            yield
        finally:
            if sys.modules.get("__main__") is empty and host_main is not None:
                sys.modules["__main__"] = host_main


def worker_main(commands, updates, config: TrainConfig, paused: bool, args: dict[str, Any]) -> None:
    """The child: run a TrainingJob, answer commands, publish updates; exit on close or when the parent is gone."""
    if args["nice"]:
        os.nice(args["nice"])
    torch.set_num_threads(args["num_threads"])
    job = TrainingJob(config, num_threads=args["num_threads"], max_seconds=args["max_seconds"], name=args["name"],
                      init_from=args["init_from"], frame_maker=args.get("frame_maker"))
    publisher = _Publisher(job, updates)
    stop_publishing = threading.Event()
    job.start(paused=paused)
    thread = threading.Thread(target=publisher.run, args=(stop_publishing,), daemon=True, name="Publisher")
    thread.start()
    try:
        while True:
            if not commands.poll(1.0):
                continue
            try:
                op, op_args = commands.recv()
            except (EOFError, OSError):
                break  # the parent is gone
            if op == "close":
                job.stop()
                commands.send(("ok", (None, publisher.publish())))
                break
            try:
                value = _handle(job, op, op_args)
                # the update goes out before the answer, so the parent's mirror shows the command's effect
                result = ("ok", (value, publisher.publish()))
            except Exception as exc:  # whatever a command raises is sent back and raised in the parent
                logger.debug("worker command %r failed", op, exc_info=True)
                exc.__traceback__ = None
                result = ("error", exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
            commands.send(result)
    except (EOFError, OSError):
        logger.debug("the parent is gone: the worker ends")
    finally:
        job.stop()
        stop_publishing.set()
        try:
            publisher.publish()
        except (OSError, EOFError):
            logger.debug("the parent is gone: the last update was not sent")
        except Exception:  # the exit below must happen whatever went wrong
            logger.warning("the worker's last update could not be sent", exc_info=True)
        updates.close()
        commands.close()
        # End here, without interpreter finalization: a daemon thread still inside torch (the quality
        # evaluator being built, say) would otherwise abort the exit with "terminate called ...".
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _picklable(exc: BaseException) -> bool:
    """Whether the parent can receive this exception as it is (else it gets a RuntimeError with its text)."""
    import pickle
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:  # an exception class may fail to pickle or unpickle in any way
        logger.debug("%s is not picklable", type(exc).__name__, exc_info=True)
        return False
