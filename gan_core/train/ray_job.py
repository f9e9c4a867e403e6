"""RayJob: a TrainingJob that runs as a Ray actor on a cluster, steered and mirrored like WorkerJob.

Why: past one machine a class trains on a Ray cluster, the tool departments already run for GPU
jobs. With GAN_RAY_ADDRESS set, each training job is one actor asking the cluster for
GAN_RAY_JOB_CPUS CPUs and GAN_RAY_JOB_GPUS GPUs (a fraction is allowed); Ray places it on a node
with room, or keeps it in its own pending queue while the cluster is full (`queue_place()` reads
that queue). The page sees the same object as a local WorkerJob: start, pause, resume, step_once,
stop, live hyper-parameters, save, the history and samples (mirrored from `poll` a few times a
second), the playground's frames, and `call` for the playground's field.

Nothing is shared on disk: a fork's starting checkpoint goes to the actor as bytes, and checkpoints
come back as bytes through Ray's object store; the app writes them (`save`, and an automatic copy
every AUTOSAVE_EVERY seconds into `autosave_to`, so that a job whose node dies keeps its last
checkpoint). A job started with a token is a named, detached actor in this app's namespace: it
outlives the web server that started it, and `RayJob.attach(token)` finds it again from any
server of the app. An actor nobody polls for `orphan_after` seconds stops its run and exits, so a
closed tab's job still ends after the idle timeout.

Ray is an optional dependency (the `cluster` extra): it is imported when a RayJob is made.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from gan_core.device import default_num_threads
from gan_core.io.checkpoint import atomic_write_bytes, checkpoint_paths
from gan_core.settings import settings
from gan_core.train.config import TrainConfig
from gan_core.train.frames import Frame, FrameBuffer, FrameMaker
from gan_core.train.history import MetricsHistory
from gan_core.train.job import TrainingJob
from gan_core.train.mirrored_job import MirroredJob
from gan_core.train.records import JobState, JobStatus, TrainerView
from gan_core.train.trainer import Trainer
from gan_core.train.worker import _handle

POLL_EVERY = 0.25  # seconds between the mirror's polls of the actor
AUTOSAVE_EVERY = 60.0  # seconds between checkpoints copied back to the app while a run makes progress
CALL_TIMEOUT = 300.0  # a save or a field never takes this long
UNAVAILABLE_GRACE = 30.0  # seconds an unreachable actor may take to come back before its job counts as lost
ACTOR_PREFIX = "gan-job-"
QUEUEABLE = ("pause", "resume", "step_once", "update_hparams")  # sent ahead to a job that waits for room
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")
logger = logging.getLogger(__name__)
_connect_lock = threading.Lock()


class RayUnavailableError(RuntimeError):
    """Ray is not installed or the cluster cannot be reached; the message says how to fix it."""


def _ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailableError('GAN_RAY_ADDRESS is set but Ray is not installed: pip install -e ".[cluster]"') \
            from None
    return ray


def connect(address: str | None = None, namespace: str | None = None) -> None:
    """Join the Ray cluster once per process (GAN_RAY_ADDRESS, this app's namespace), no dashboard."""
    ray = _ray()
    with _connect_lock:
        if ray.is_initialized():
            return
        address = address or settings().ray_address or "auto"
        try:
            ray.init(address=address, namespace=namespace or settings().ray_namespace, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError) as exc:
            raise RayUnavailableError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None


def check_token(token: str) -> str:
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise ValueError("a job token is 8 to 128 letters, digits, '_' or '-'")
    return token


def actor_name(suffix: str) -> str:
    """gan-job-<submission time, ns>-<token or a random id>: the time orders Ray's pending queue (`queue_places`),
    the suffix finds a token's job again (`RayJob.attach`)."""
    return f"{ACTOR_PREFIX}{time.time_ns():020d}-{suffix}"


def _name_time(name: str) -> int:
    try:
        return int(name[len(ACTOR_PREFIX):].split("-", 1)[0])
    except ValueError:
        return 2 ** 63


# ---------------------------------------------------------------- the actor (runs on a cluster node)

@dataclass(frozen=True)
class ActorUpdate:
    """One poll's answer: like WorkerUpdate, plus the cursors the mirror sends back next time."""

    status: JobStatus
    error_trace: str
    trainer: TrainerView | None
    history: dict[str, Any]
    cursor: dict[str, int]
    frames: list[Frame] = field(default_factory=list)


def checkpoint_files(trainer: Trainer, **extra: Any) -> dict[str, bytes]:
    """The trainer's checkpoint in the one format, as {".safetensors": bytes, ".json": bytes}."""
    with tempfile.TemporaryDirectory(prefix="gan-ckpt-") as tmp:
        weights, meta = checkpoint_paths(trainer.save(Path(tmp) / "ckpt", **extra))
        return {".safetensors": weights.read_bytes(), ".json": meta.read_bytes()}


class TrainingActor:
    """Holds one TrainingJob on a cluster node. Threaded (max_concurrency): a poll is answered while a command
    waits for the trainer, as the worker's publisher and command loop do."""

    def __init__(self, config: TrainConfig, paused: bool, args: dict[str, Any]) -> None:
        torch.set_num_threads(args["num_threads"])
        self._tmp = tempfile.TemporaryDirectory(prefix="gan-ray-job-")
        init_from = None
        if args.get("init_files"):  # the fork's checkpoint came as bytes: this node needs no shared disk
            init_from = Path(self._tmp.name) / "init"
            for suffix, data in args["init_files"].items():
                (init_from.parent / (init_from.name + suffix)).write_bytes(data)
        self.config = config
        self.name = args["name"]
        self.autosave_to = args.get("autosave_to")  # the app's path for the periodic copy, for whoever re-attaches
        self.job = TrainingJob(config, num_threads=args["num_threads"], max_seconds=args["max_seconds"],
                               name=args["name"], init_from=str(init_from) if init_from else None,
                               frame_maker=args.get("frame_maker"))
        self.job.start(paused=paused)
        self.last_poll = time.monotonic()
        self.orphan_after = float(args["orphan_after"])
        threading.Thread(target=self._watch_orphan, daemon=True, name="OrphanWatch").start()

    def describe(self) -> dict[str, Any]:
        import ray
        return {"config": self.config, "name": self.name, "node_id": ray.get_runtime_context().get_node_id(),
                "autosave_to": self.autosave_to}

    def poll(self, cursor: dict[str, int] | None, frame_seq: int) -> ActorUpdate:
        self.last_poll = time.monotonic()
        job = self.job
        status = job.status()  # before the history: an ended state comes with the whole history
        trainer = job.trainer
        history = trainer.history if trainer is not None else MetricsHistory()
        delta, cursor = history.delta(cursor if trainer is not None else None)
        view = TrainerView.of(trainer) if trainer is not None else None
        return ActorUpdate(status, job.error_trace, view, delta, cursor, job.frames_since(frame_seq))

    def command(self, op: str, args: tuple) -> Any:
        self.last_poll = time.monotonic()
        return _handle(self.job, op, args)

    def checkpoint(self, extra: dict[str, Any]) -> dict[str, bytes]:
        if not self.job.wait_ready(120):
            raise RuntimeError("the job's trainer is not ready")
        return self.job.call(checkpoint_files, **extra)

    def close(self) -> None:
        self.job.stop()

    def _watch_orphan(self) -> None:
        """Nobody has polled for `orphan_after` s (its server and tab are gone): stop the run, then the actor."""
        while time.monotonic() - self.last_poll < self.orphan_after:
            time.sleep(min(5.0, self.orphan_after / 4))
        logger.warning("job %s: nobody polled it for %.0f s; it ends", self.name, self.orphan_after)
        self.job.stop()
        os._exit(0)


_remote_actor = None


def _actor_class():
    global _remote_actor
    if _remote_actor is None:
        _remote_actor = _ray().remote(TrainingActor)
    return _remote_actor


# ---------------------------------------------------------------- the mirror (runs in the app)

class RayJob(MirroredJob):
    """The TrainingJob interface over a Ray actor; the constructor takes WorkerJob's arguments plus
    `token` (a named, detached actor found again by `attach`) and `autosave_to` (where the periodic
    checkpoint goes; None: no periodic checkpoint)."""

    def __init__(self, config: TrainConfig, num_threads: int | None = None, max_seconds: float | None = None,
                 name: str = "", init_from: str | None = None, nice: int = 0,
                 frame_maker: FrameMaker | None = None, token: str | None = None,
                 autosave_to: str | os.PathLike | None = None, autosave_every: float = AUTOSAVE_EVERY,
                 orphan_after: float | None = None) -> None:
        del nice  # the cluster's nodes train; the app server does not
        self.config = config.validate()
        self.name = name
        self.token = check_token(token) if token is not None else None
        self.message = ""
        self.error_trace = ""
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.last_seen = time.monotonic()
        self.autosave_to = Path(autosave_to) if autosave_to is not None else None
        self.autosave_every = autosave_every
        self.last_autosave_step: int | None = None
        cpus, gpus = settings().ray_job_cpus, settings().ray_job_gpus
        self.resources = {"num_cpus": cpus, "num_gpus": gpus}
        self._args = {"num_threads": num_threads or max(1, int(cpus)) or default_num_threads(),
                      "max_seconds": max_seconds, "name": name, "frame_maker": frame_maker,
                      "orphan_after": orphan_after or max(settings().idle_timeout, 30.0),
                      "init_files": _read_checkpoint(init_from) if init_from else None,
                      "autosave_to": str(self.autosave_to) if self.autosave_to is not None else None}
        self._state = JobState.STARTING
        self._history = MetricsHistory()
        self._frames = FrameBuffer()
        self._frame_seq = -1
        self._cursor: dict[str, int] | None = None
        self._view: TrainerView | None = None
        self._status: JobStatus | None = None
        self._placed = threading.Event()  # the actor answered once: it runs on a node
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._closing = threading.Event()
        self._poll_lock = threading.Lock()
        self._actor = None
        self._poller: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self, paused: bool = False) -> RayJob:
        if self._actor is not None:
            raise RuntimeError("this job was already started")
        connect()
        options: dict[str, Any] = dict(self.resources, max_concurrency=4, max_restarts=0,
                                       name=actor_name(uuid.uuid4().hex if self.token is None else self.token))
        if self.token is not None:  # outlives this server: found again by attach(token)
            if _find_named(self.token) is not None:
                raise ValueError("a job with this token already exists")
            options.update(lifetime="detached")
        self.started_at = time.monotonic()
        self._actor = _actor_class().options(**options).remote(self.config, paused, self._args)
        self._start_poller()
        return self

    @classmethod
    def attach(cls, token: str, autosave_to: str | os.PathLike | None = None,
               autosave_every: float = AUTOSAVE_EVERY) -> RayJob | None:
        """The job started with `token`, from any server of this app (after a restart too), or None. Its periodic
        checkpoint goes on to the path its first server chose unless `autosave_to` says otherwise."""
        check_token(token)
        connect()
        ray = _ray()
        name = _find_named(token)
        if name is None:
            return None
        try:
            actor = ray.get_actor(name)
        except ValueError:  # it ended meanwhile
            return None
        info = ray.get(actor.describe.remote(), timeout=60)
        job = cls(info["config"], name=info["name"], token=token, autosave_to=autosave_to or info.get("autosave_to"),
                  autosave_every=autosave_every)
        job._actor = actor
        job.started_at = time.monotonic()
        job._start_poller()
        return job

    def stop(self, timeout: float = 30.0) -> bool:
        if self._ended.is_set():
            return True
        if self._actor is not None and not self._placed.is_set() and self.queue_place() is not None:
            self._leave_queue()  # still waiting for room: nothing runs yet, so nothing waits for it
            return True
        try:
            self._request("stop", timeout, timeout=timeout + 10)
        except RuntimeError:  # the actor is gone: the poller marks the job ended
            logger.debug("job %s: stop not answered", self.name, exc_info=True)
        return self._ended.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the run, copy its last checkpoint back (when autosaving) and end the actor."""
        actor = self._actor
        if actor is None:
            return
        self.stop(timeout)
        if self._state != JobState.FAILED:
            self._autosave(force=True)
        self._closing.set()
        try:
            _ray().kill(actor, no_restart=True)
        except Exception:  # already dead, or the cluster is gone: nothing left to end
            logger.debug("job %s: kill failed", self.name, exc_info=True)
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout)
        self._mark_gone("the job was closed")

    def detach(self) -> None:
        """Stop mirroring without ending the actor (a named job goes on; `attach` finds it again)."""
        self._closing.set()
        if self._poller is not None:
            self._poller.join(5)

    # ------------------------------------------------------------ reading

    @property
    def pid(self) -> int | None:
        return None  # the run's process lives on a cluster node

    def is_alive(self) -> bool:
        return self._actor is not None and not self._ended.is_set()

    def worker_alive(self) -> bool:
        return self.is_alive()

    def queue_place(self) -> int | None:
        """1 for the next job the cluster will place, 2 for the one after it, ...; None when not waiting for room
        (placed, starting on a node, or ended)."""
        if self._actor is None or self._placed.is_set() or self._ended.is_set():
            return None
        return queue_places().get(self._actor._actor_id.hex())

    @property
    def queued(self) -> bool:
        """True while the cluster is full and the actor waits in Ray's pending queue."""
        return self.queue_place() is not None

    def node_id(self) -> str | None:
        """The Ray node the actor runs on (None while queued)."""
        if not self._placed.is_set():
            return None
        return _ray().get(self._actor.describe.remote(), timeout=60)["node_id"]

    def status(self) -> JobStatus:
        status = self._status or JobStatus(self._state, budget_steps=self.config.steps,
                                           budget_seconds=self.config.seconds)
        message = self.message
        if not message and not self._placed.is_set() and not self._ended.is_set():
            place = self.queue_place()
            message = (f"queued: waiting for room on the cluster, place {place}" if place
                       else "starting on a cluster node")
        elapsed = status.elapsed if self._status is not None else (
            (self.ended_at or time.monotonic()) - self.started_at if self.started_at is not None else 0.0)
        return replace(status, state=self._state, message=message, elapsed=elapsed)

    def save(self, path, **extra: Any) -> Path:
        """Checkpoint the current models: the actor sends the bytes through the object store, the app writes them."""
        files = self._get(self._actor.checkpoint.remote(extra), CALL_TIMEOUT, "save")
        return write_checkpoint_files(path, files)

    # ------------------------------------------------------------ talking to the actor

    def _get(self, ref, timeout: float, what: str) -> Any:
        ray = _ray()
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise RuntimeError(f"the training actor did not answer {what!r}") from None
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            if self._ended.is_set() and self.message:
                raise RuntimeError(f"the job has ended: {self.message}") from None
            raise RuntimeError(f"the training actor has ended ({type(exc).__name__})") from None
        except ray.exceptions.RayTaskError as exc:
            raise exc.as_instanceof_cause() from None

    def _request(self, op: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        if self._actor is None:
            raise RuntimeError("the job has not been started")
        if self._ended.is_set() and self._state == JobState.FAILED and op != "call":
            raise RuntimeError(f"the job has ended: {self.message}")
        ref = self._actor.command.remote(op, args)
        if op in QUEUEABLE and not self._placed.is_set():
            return None  # waiting for room: Ray runs the actor's calls in order, right after it starts
        value = self._get(ref, timeout, op)
        try:
            self._poll_once(timeout=30)  # the mirror shows the command's effect before the caller goes on
        except _ray().exceptions.RayActorError as exc:  # it answered, then died (killed by another driver)
            raise RuntimeError(f"the job's actor is gone: {type(exc).__name__}") from exc
        return value

    def _leave_queue(self) -> None:
        """End a job that never got room: its actor is dropped from Ray's pending queue."""
        self._closing.set()
        try:
            _ray().kill(self._actor, no_restart=True)
        except Exception:  # already gone: nothing to drop
            logger.debug("job %s: kill while queued failed", self.name, exc_info=True)
        self._state = JobState.STOPPED
        self.message = "stopped before it started (it was waiting for room on the cluster)"
        self.ended_at = time.monotonic()
        self._ready.set()
        self._ended.set()

    def _start_poller(self) -> None:
        self._poller = threading.Thread(target=self._poll_loop, daemon=True, name=f"RayJobPoller-{self.name}")
        self._poller.start()

    def _poll_once(self, timeout: float) -> bool:
        """One poll applied to the mirror; False when the actor did not answer in time (still queued)."""
        ray = _ray()
        with self._poll_lock:
            ref = self._actor.poll.remote(self._cursor, self._frame_seq)
            try:
                update = ray.get(ref, timeout=timeout)
            except ray.exceptions.GetTimeoutError:
                ray.cancel(ref)
                return False
            self._apply(update)
        return True

    def _poll_loop(self) -> None:
        ray = _ray()
        last_save = time.monotonic()
        unavailable_since: float | None = None
        while not self._closing.is_set():
            try:
                if not self._poll_once(timeout=5.0 if self._placed.is_set() else 1.0):
                    continue
                unavailable_since = None
            except ray.exceptions.ActorUnavailableError as exc:  # perhaps a blip; a dead node soon reads as died
                unavailable_since = unavailable_since or time.monotonic()
                if time.monotonic() - unavailable_since < UNAVAILABLE_GRACE:
                    self._closing.wait(0.5)
                    continue
                if not self._closing.is_set():
                    self._node_lost(exc)
                return
            except ray.exceptions.RayActorError as exc:
                if not self._closing.is_set():
                    self._node_lost(exc)
                return
            except Exception:  # a mirror that cannot read must still say the job is gone
                logger.warning("job %s: polling the actor failed", self.name, exc_info=True)
                self._mark_gone("the cluster could not be reached")
                return
            if self._ended.is_set():
                self._autosave(force=True)
                return
            if time.monotonic() - last_save >= self.autosave_every:
                self._autosave()
                last_save = time.monotonic()
            self._closing.wait(POLL_EVERY)

    def _apply(self, update: ActorUpdate) -> None:
        self._placed.set()
        self._cursor = update.cursor
        self._history.apply_delta(update.history)
        self._frames.extend(update.frames)
        if update.frames:
            self._frame_seq = update.frames[-1].seq
        self._status = update.status
        self.message, self.error_trace = update.status.message, update.error_trace
        if update.trainer is not None:
            self._view = replace(update.trainer, history=self._history)
        state = update.status.state
        self._state = state
        if update.trainer is not None or not state.active:
            self._ready.set()
        if not state.active:
            self.ended_at = self.ended_at or time.monotonic()
            self._ended.set()

    def _autosave(self, force: bool = False) -> None:
        """Copy the current checkpoint back into `autosave_to` when the run made progress since the last copy."""
        if self.autosave_to is None or self._view is None or self._actor is None:
            return
        step = self._view.step_count
        if step == self.last_autosave_step or (step == 0 and not force):
            return
        try:
            files = self._get(self._actor.checkpoint.remote({"autosaved": True}), CALL_TIMEOUT, "save")
            write_checkpoint_files(self.autosave_to, files)
            self.last_autosave_step = int(json.loads(files[".json"])["steps"])
        except Exception:  # the node may be going down: the previous copy stays
            logger.warning("job %s: periodic checkpoint failed", self.name, exc_info=True)

    def _node_lost(self, exc: BaseException) -> None:
        step = self._view.step_count if self._view is not None else 0
        if self.last_autosave_step is not None:
            kept = (f"its last checkpoint, from step {self.last_autosave_step}, is kept as "
                    f"{checkpoint_paths(self.autosave_to)[0].name}")
        else:
            kept = "no checkpoint had been saved yet"
        logger.warning("job %s: actor lost", self.name, exc_info=exc)
        self._mark_gone(f"the cluster node running this job went down at step {step}; {kept}. Start it again "
                        "(from that checkpoint) when you are ready")

    def _mark_gone(self, message: str) -> None:
        if self._state.active:
            self._state = JobState.FAILED
            self.message = message
        self.ended_at = self.ended_at or time.monotonic()
        self._ready.set()
        self._ended.set()


def _find_named(token: str) -> str | None:
    """The actor name of the live job started with `token` in this app's namespace, or None."""
    from ray.util import list_named_actors
    names = [n for n in list_named_actors() if n.startswith(ACTOR_PREFIX) and n.endswith("-" + token)]
    return max(names, key=_name_time) if names else None


def _read_checkpoint(path: str | os.PathLike) -> dict[str, bytes]:
    weights, meta = checkpoint_paths(path)
    return {".safetensors": weights.read_bytes(), ".json": meta.read_bytes()}


def write_checkpoint_files(path: str | os.PathLike, files: dict[str, bytes]) -> Path:
    """Write a checkpoint that came as bytes (weights first, each atomically); returns the weights path."""
    weights, meta = checkpoint_paths(path)
    atomic_write_bytes(weights, files[".safetensors"])
    atomic_write_bytes(meta, files[".json"])
    return weights


def queue_places() -> dict[str, int]:
    """actor id (hex) -> place in the cluster's pending queue, for the training actors not yet running.

    Read from the cluster's control store (GCS) directly, so it needs no dashboard; ordered by submission time
    (in the actor's name), the order in which Ray places pending actors as room frees up. An actor whose process
    is still starting on a node counts too, for the few seconds that takes."""
    from ray._private import state
    pending = [a for a in state.actors(actor_state_name="PENDING_CREATION").values()
               if a["ActorClassName"].endswith("TrainingActor") and a["Name"].startswith(ACTOR_PREFIX)]
    pending.sort(key=lambda a: (_name_time(a["Name"]), a["ActorID"]))
    return {a["ActorID"]: i + 1 for i, a in enumerate(pending)}
