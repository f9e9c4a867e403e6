"""The process-wide registry of background work: caps how much runs at once and reaps abandoned jobs.

One server is shared by a class, so background work is rationed under one cap: at most GAN_MAX_JOBS
jobs (default 2 on CPU, 4 with a GPU) — training jobs, running or paused, and the Apply page's
experiments together — at a time, each training job for at most GAN_MAX_JOB_SECONDS (default
1800) of wall-clock time. A session keeps one training job and one experiment. A training job whose
page stopped touching it (job.touch(), done by the live areas every second) for GAN_IDLE_TIMEOUT
seconds (default 120) while its browser session is no longer connected — a closed tab — is stopped
by a reaper thread, and the worker process of an ended job is closed once its session is gone.
Each training job runs in its own worker process (`gan_core.WorkerJob`) at a lower CPU priority
(GAN_JOB_NICE, default 10), so pages stay quick while students train and a job's memory goes back
to the OS when its worker closes; an experiment is a thread of the server process.
Nothing here steps a model; the registry only starts, tracks and stops jobs.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import streamlit as st
import torch

from app_shared.housekeeping import Every, session_connected
from gan_core import TrainConfig, WorkerJob
from gan_core.settings import settings
from gan_core.teach.toy_frames import frame_maker_for

logger = logging.getLogger(__name__)
REAP_EVERY = 5.0  # seconds between reaper passes


class ServerBusyError(RuntimeError):
    """The server already runs its maximum number of background jobs (training runs and experiments)."""


class BackgroundWork(Protocol):
    """What the registry needs of an Apply experiment (gan_core.teach.synthetic.ExperimentJob)."""

    def start(self) -> BackgroundWork: ...

    def is_alive(self) -> bool: ...

    def request_stop(self) -> None: ...


WorkT = TypeVar("WorkT", bound=BackgroundWork)


def default_max_jobs() -> int:
    """GAN_MAX_JOBS, or when it is unset 2 on CPU and 4 with CUDA."""
    return settings().max_jobs or (4 if torch.cuda.is_available() else 2)


class JobRegistry:
    """Thread-safe map of session key -> WorkerJob with a cap and an idle reaper."""

    def __init__(self, max_jobs: int | None = None, max_job_seconds: float | None = None,
                 idle_timeout: float | None = None, reap_every: float = REAP_EVERY) -> None:
        self.max_jobs = max_jobs or default_max_jobs()
        self.max_job_seconds = max_job_seconds or settings().max_job_seconds
        self.idle_timeout = idle_timeout or settings().idle_timeout
        self.job_nice = settings().job_nice  # how much lower than the server's the workers' CPU priority is
        self._lock = threading.Lock()
        self._jobs: dict[str, WorkerJob] = {}
        self._browser_sessions: dict[str, str | None] = {}
        self._stopped_reasons: dict[str, str] = {}
        self._experiments: dict[str, BackgroundWork] = {}
        self._reaper = Every(reap_every, self.reap, name="JobReaper")

    # ------------------------------------------------------------ jobs

    def active_jobs(self) -> dict[str, WorkerJob]:
        """Jobs that hold a slot: started and not yet ended (running, paused or loading)."""
        with self._lock:
            return {k: j for k, j in self._jobs.items() if j.is_alive()}

    def _busy(self, training_key: str | None = None, experiment_key: str | None = None) -> int:
        """How many slots are taken (call with the lock held), not counting the given key's own job."""
        self._experiments = {k: e for k, e in self._experiments.items() if e.is_alive()}
        return (sum(1 for k, j in self._jobs.items() if k != training_key and j.is_alive())
                + sum(1 for k in self._experiments if k != experiment_key))

    def _refuse_if_full(self, running: int) -> None:
        if running >= self.max_jobs:
            raise ServerBusyError(
                f"Server busy: {running} background job{'s' if running != 1 else ''} (training runs and Apply "
                f"experiments) already running, the limit on this server is {self.max_jobs}. Try again when one "
                f"finishes (training jobs stop after {self.max_job_seconds / 60:.0f} min, or "
                f"{self.idle_timeout:.0f} s after their tab closes).")

    def get(self, key: str) -> WorkerJob | None:
        with self._lock:
            return self._jobs.get(key)

    def start(self, key: str, config: TrainConfig, init_from: str | None = None, paused: bool = False,
              browser_session: str | None = None, name: str = "") -> WorkerJob:
        """Start this session's job (closing its previous one); ServerBusyError when the cap is reached.

        `init_from`: a checkpoint (already checked to lie in an allowed folder) to fork the run from."""
        old = self.get(key)
        if old is not None and old.is_alive():
            old.stop()
        with self._lock:
            self._refuse_if_full(self._busy(training_key=key))
            job = WorkerJob(config, max_seconds=self.max_job_seconds, name=name or key, init_from=init_from,
                            nice=self.job_nice, frame_maker=frame_maker_for(config))
            replaced = self._jobs.get(key)
            self._jobs[key] = job
            self._browser_sessions[key] = browser_session
            self._stopped_reasons.pop(key, None)
            job.touch()
            job.start(paused=paused)
        if replaced is not None and replaced is not job:
            replaced.close()  # its curves were archived by the page; its process is no longer needed
        return job

    def start_experiment(self, key: str, work: WorkT) -> WorkT:
        """Start a session's Apply experiment (not yet started) in a slot of the same cap as training jobs.

        ServerBusyError when every slot is taken; RuntimeError while this session's last experiment runs."""
        with self._lock:
            mine = self._experiments.get(key)
            if mine is not None and mine.is_alive():
                raise RuntimeError("an experiment is already running in this session: stop it first")
            self._refuse_if_full(self._busy(experiment_key=key))
            self._experiments[key] = work.start()
        return work

    def experiment(self, key: str) -> BackgroundWork | None:
        with self._lock:
            return self._experiments.get(key)

    def busy_slots(self) -> int:
        """Slots taken now: live training jobs plus running experiments."""
        with self._lock:
            return self._busy()

    def stop(self, key: str, reason: str = "") -> bool:
        """Stop and forget nothing: the ended job stays readable until the session starts another."""
        job = self.get(key)
        if job is None:
            return True
        if reason:
            with self._lock:
                self._stopped_reasons[key] = reason
        return job.stop()

    def stopped_reason(self, key: str) -> str:
        with self._lock:
            return self._stopped_reasons.get(key, "")

    def forget(self, key: str) -> None:
        """Stop a session's job, end its worker process and drop it from the registry."""
        with self._lock:
            job = self._jobs.pop(key, None)
            self._browser_sessions.pop(key, None)
        if job is not None:
            job.close()

    # ------------------------------------------------------------ reaping

    def reap(self, now: float | None = None,
             session_alive: Callable[[str | None], bool | None] = session_connected) -> list[str]:
        """Stop jobs nobody watches; drop ended jobs of sessions that are gone. Returns the keys stopped."""
        now = time.monotonic() if now is None else now
        stopped = []
        with self._lock:
            items = list(self._jobs.items())
            sessions = dict(self._browser_sessions)
        for key, job in items:
            alive = session_alive(sessions.get(key))
            if not job.is_alive():
                if alive is False and now - job.last_seen > self.idle_timeout:
                    with self._lock:  # the session is gone: end the worker of its finished job
                        if self._jobs.get(key) is job:
                            self._jobs.pop(key)
                            self._browser_sessions.pop(key, None)
                    job.close()
                continue
            if alive:  # the tab is open (perhaps on another page): the job is watched
                job.touch()
                continue
            if now - job.last_seen > self.idle_timeout:
                with self._lock:
                    self._stopped_reasons[key] = (f"stopped: nobody watched it for {self.idle_timeout:.0f} s "
                                                  "(the tab was closed or the page left idle)")
                job.stop()
                stopped.append(key)
        return stopped

    def close(self) -> None:
        """Stop every job, end every worker process and the reaper (tests, server shutdown)."""
        self._reaper.close()
        for key in list(self._jobs):
            self.forget(key)
        with self._lock:
            experiments, self._experiments = list(self._experiments.values()), {}
        for work in experiments:
            work.request_stop()  # it ends after the classifier being trained now


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    """The one registry of this server process, shared by all sessions."""
    return JobRegistry()


def browser_session_id() -> str | None:
    """Streamlit's id of the current browser connection (to notice a closed tab)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        return ctx.session_id if ctx is not None else None
    except (ImportError, AttributeError):  # a Streamlit without this internal API: no tab tracking
        logger.warning("cannot read Streamlit's browser session id", exc_info=True)
        return None
