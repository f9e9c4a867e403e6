"""The process-wide registry of background work: a fair queue for training jobs, job tokens, and reaping.

One server is shared by a class. Start always succeeds: a training job that cannot run yet waits in a
first-in, first-out queue and starts as soon as the jobs before it have started and the running ones
leave room for it. Room is measured (app_shared/job_queue.py): each job holds a share of the machine
set by its model family and device, and jobs run while their shares fit in the cores, memory and GPU
memory of the machine (GAN_MAX_JOBS, when set, also caps how many run at once). Apply's experiments
hold a share too; they are refused, not queued, while training jobs wait or the room is taken.

Every training job has a `JobTicket` with an unguessable token (secrets.token_urlsafe): the page keeps it
in its link and a cookie, so a refresh, a new tab or a reconnect finds the job again; nobody reaches a
job without its token. A holder (the session that started or last re-attached the job) has at most one
running and one queued job: a second Start while one waits takes the waiting one's place.
A running job whose page stopped touching it for GAN_IDLE_TIMEOUT seconds while its tab is closed is
stopped, as is every job after GAN_MAX_JOB_SECONDS; a queued job whose tab has been closed for
QUEUE_GRACE_S leaves the queue. Jobs are made by one factory, `create_job`: a local worker process
(`gan_core.WorkerJob`, niced by GAN_JOB_NICE) or, with GAN_RAY_ADDRESS set, a Ray actor
(`gan_core.train.ray_job.RayJob`), which Ray queues itself: then every job is admitted at once and the
place shown is the job's place in Ray's pending queue.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import streamlit as st

from app_shared import job_queue as jq
from app_shared.housekeeping import Every, session_connected
from gan_core import JobState, TrainConfig, WorkerJob
from gan_core.settings import settings
from gan_core.teach.toy_frames import frame_maker_for

logger = logging.getLogger(__name__)
REAP_EVERY = 5.0  # seconds between reaper passes
ADMIT_EVERY = 0.5  # seconds between admission passes (a job ending frees room for the next)
QUEUE_GRACE_S = 15.0  # a queued job's tab may be gone this long (a reload) before the job leaves the queue
TOKEN_BYTES = 24  # secrets.token_urlsafe(24): 32 URL-safe characters


class ServerBusyError(RuntimeError):
    """An Apply experiment cannot start now: training jobs wait or hold the room an experiment needs."""


class BackgroundWork(Protocol):
    """What the registry needs of an Apply experiment (gan_core.teach.synthetic.ExperimentJob)."""

    def start(self) -> BackgroundWork: ...

    def is_alive(self) -> bool: ...

    def request_stop(self) -> None: ...


WorkT = TypeVar("WorkT", bound=BackgroundWork)


def ray_enabled() -> bool:
    return bool(getattr(settings(), "ray_address", None))


def create_job(config: TrainConfig, *, token: str, max_seconds: float, name: str, init_from: str | None,
               nice: int, frame_maker: Any, owner: str = "") -> Any:
    """The one place a training job is made: a Ray actor with GAN_RAY_ADDRESS set, else a local worker process.
    A Ray job copies its checkpoint back now and then into its holder's session folder (loadable on Explore),
    so a run whose node dies keeps its last one."""
    if ray_enabled():
        from app_shared.session import safe_name  # (not at import: app.py checks the settings after importing this)
        from gan_core.train.ray_job import RayJob
        autosave = settings().app_runs_dir / safe_name(owner, "cluster") / f"cluster-{token[:8]}" if owner else None
        return RayJob(config, token=token, max_seconds=max_seconds, name=name, init_from=init_from, nice=nice,
                      frame_maker=frame_maker, autosave_to=autosave)
    return WorkerJob(config, max_seconds=max_seconds, name=name, init_from=init_from, nice=nice,
                     frame_maker=frame_maker)


def find_job(token: str) -> Any | None:
    """A job this process does not hold, found again by its token (Ray's named, detached actors outlive the
    app); None for a token that reaches nothing (a malformed one included) or when the cluster cannot be asked."""
    if not ray_enabled():
        return None
    from gan_core.train.ray_job import RayJob
    try:
        return RayJob.attach(token)
    except ValueError:  # not a token's shape: it reaches nothing
        return None
    except RuntimeError:  # the cluster did not answer: logged, and the page says the link reaches nothing
        logger.warning("could not look for job %s… on the Ray cluster", token[:6], exc_info=True)
        return None


@dataclass(eq=False)
class JobTicket:
    """One training job from Start to its end: its token, holder, cost, and the job once admitted."""

    token: str
    owner: str  # the session key that started it or last re-attached it
    config: TrainConfig
    family: str
    cost: jq.Cost
    submitted_at: float  # monotonic
    init_from: str | None = None
    paused: bool = False
    name: str = ""
    browser_session: str | None = None
    job: Any = None  # a WorkerJob / RayJob once admitted; None while it waits in the local queue
    started_at: float | None = None
    left_queue: str = ""  # why it left the queue without running ("" while queued or once admitted)
    last_seen: float = field(default_factory=time.monotonic)  # touched by the page while it waits
    gone_since: float | None = None  # when its tab was first seen closed while it waited
    paced: bool = False  # its end has been folded into the registry's pace

    @property
    def queued(self) -> bool:
        return self.job is None and not self.left_queue

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_alive()

    def pending_place(self) -> int | None:
        """A Ray job's place in Ray's pending queue (RayJob.queue_place); None for a placed or local job."""
        probe = getattr(self.job, "queue_place", None)
        return probe() if probe is not None else None


@dataclass(frozen=True)
class QueuePlace:
    """Where one ticket waits: its 1-based place, how many wait, how long it has waited and should still wait."""

    place: int
    of: int
    waited_s: float
    estimated_wait_s: float | None  # None: not known (Ray's queue)
    family: str


class JobRegistry:
    """Thread-safe: tokens -> tickets, the FIFO queue, experiments, the admission pass and the idle reaper."""

    def __init__(self, max_jobs: int | None = None, max_job_seconds: float | None = None,
                 idle_timeout: float | None = None, reap_every: float = REAP_EVERY,
                 capacity: jq.Cost | None = None, admit_every: float = ADMIT_EVERY) -> None:
        self.max_jobs = max_jobs or settings().max_jobs  # None: the measured room alone decides
        self.max_job_seconds = max_job_seconds or settings().max_job_seconds
        self.idle_timeout = idle_timeout or settings().idle_timeout
        self.job_nice = settings().job_nice  # how much lower than the server's the workers' CPU priority is
        self.capacity = capacity or jq.machine_capacity()
        self._lock = threading.RLock()
        self._tickets: dict[str, JobTicket] = {}
        self._queue: list[str] = []  # tokens, first in first
        self._stopped_reasons: dict[str, str] = {}
        self._experiments: dict[str, BackgroundWork] = {}
        self._pace: float | None = None  # how much longer than priced recent jobs ran (jq.updated_pace)
        self._reaper = Every(reap_every, self.reap, name="JobReaper")
        self._admitter = Every(admit_every, self.admit, name="JobAdmitter")

    # ------------------------------------------------------------ submitting and admitting

    def submit(self, owner: str, config: TrainConfig, init_from: str | None = None, paused: bool = False,
               browser_session: str | None = None, name: str = "") -> JobTicket:
        """Queue a training job for `owner`; it starts at once when there is room. Never refused for load.

        A job of the owner that still runs keeps running (the new one waits for it to end); a job of the
        owner that still waits is replaced by this one, in its place. ValueError for a bad config."""
        config = config.validate()
        ticket = JobTicket(token=secrets.token_urlsafe(TOKEN_BYTES), owner=owner, config=config,
                           family=jq.family_of(config), cost=jq.job_cost(config), submitted_at=time.monotonic(),
                           init_from=init_from, paused=paused, name=name or owner, browser_session=browser_session)
        with self._lock:
            waiting = [t for t in self._queue if self._tickets[t].owner == owner]
            if waiting:
                place = self._queue.index(waiting[0])
                for token in waiting:
                    self._leave_queue(token, "replaced by a newer Start")
                self._queue.insert(place, ticket.token)
            else:
                self._queue.append(ticket.token)
            self._tickets[ticket.token] = ticket
        self.admit()
        return ticket

    def admit(self) -> list[JobTicket]:
        """The one admission pass: start queued jobs in order while they fit. Returns those started.

        With Ray every job is started at once (Ray queues them). Locally the queue is strict FIFO: a job
        that does not fit holds back the ones behind it, so a big job is never starved by small ones. A
        holder's queued job waits for that holder's running one to end, without holding anyone back."""
        started = []
        with self._lock:
            self._learn_pace()
            used, count = self._room_taken()
            busy_owners = {t.owner for t in self._tickets.values() if t.running}
            for token in list(self._queue):
                ticket = self._tickets[token]
                if ticket.owner in busy_owners:
                    continue
                if not ray_enabled() and not self._fits(ticket.cost, used, count):
                    break
                self._queue.remove(token)
                self._start(ticket)
                if ticket.job is None:  # it could not start (said in its ticket): the next one may
                    continue
                used, count = used + ticket.cost, count + 1
                busy_owners.add(ticket.owner)
                started.append(ticket)
        return started

    def _learn_pace(self) -> None:
        """Fold each job that ran its whole budget into the pace the estimates use (lock held)."""
        for ticket in self._tickets.values():
            job = ticket.job
            if job is None or ticket.paced or job.is_alive():
                continue
            ticket.paced = True
            ended = getattr(job, "ended_at", None)
            if job.state == JobState.FINISHED and ended is not None and ticket.started_at is not None:
                self._pace = jq.updated_pace(self._pace, ended - ticket.started_at, ticket.config,
                                             self.max_job_seconds)

    def _room_taken(self) -> tuple[jq.Cost, int]:
        """The room held now and by how many jobs: live training jobs and experiments (lock held)."""
        self._experiments = {k: e for k, e in self._experiments.items() if e.is_alive()}
        running = [t for t in self._tickets.values() if t.running]
        used = sum((t.cost for t in running), jq.Cost()) + sum((jq.EXPERIMENT_COST for _ in self._experiments),
                                                              jq.Cost())
        return used, len(running) + len(self._experiments)

    def _fits(self, cost: jq.Cost, used: jq.Cost, count: int) -> bool:
        """Whether one more job of this cost fits; on an idle machine any one job does."""
        return count == 0 or ((used + cost).fits_in(self.capacity) and (self.max_jobs is None or count < self.max_jobs))

    def _start(self, ticket: JobTicket) -> None:
        """Make and start the ticket's job (called with the lock held: the pass admits one job at a time)."""
        job = create_job(ticket.config, token=ticket.token, max_seconds=self.max_job_seconds, name=ticket.name,
                         init_from=ticket.init_from, nice=self.job_nice, frame_maker=frame_maker_for(ticket.config),
                         owner=ticket.owner)
        job.touch()
        try:
            job.start(paused=ticket.paused)
        except Exception as exc:  # the ticket must not stay "admitted" without a job that runs
            logger.exception("job %s did not start", ticket.name)
            ticket.left_queue = f"could not start: {exc}"
            return
        ticket.job, ticket.started_at = job, time.monotonic()

    def _leave_queue(self, token: str, reason: str) -> None:
        if token in self._queue:
            self._queue.remove(token)
            self._tickets[token].left_queue = reason
            self._stopped_reasons[token] = reason

    # ------------------------------------------------------------ tickets and jobs by token

    def ticket(self, token: str | None) -> JobTicket | None:
        """The ticket of a token, or None (an unknown token reaches nothing). With Ray, a job this process
        does not hold (the app restarted) is looked for among the cluster's actors."""
        if not token:
            return None
        with self._lock:
            found = self._tickets.get(token)
        if found is not None or not ray_enabled():
            return found
        job = find_job(token)
        if job is None:
            return None
        config = job.config
        ticket = JobTicket(token=token, owner="", config=config, family=jq.family_of(config),
                           cost=jq.job_cost(config), submitted_at=time.monotonic(), job=job,
                           started_at=time.monotonic())
        with self._lock:
            return self._tickets.setdefault(token, ticket)

    def attach(self, token: str | None, owner: str, browser_session: str | None = None) -> JobTicket | None:
        """Re-attach a job to the page that holds its token (a reload, a new tab): it becomes the holder."""
        ticket = self.ticket(token)
        if ticket is None:
            return None
        with self._lock:
            ticket.owner, ticket.browser_session = owner, browser_session
            ticket.last_seen, ticket.gone_since = time.monotonic(), None
        if ticket.job is not None:
            ticket.job.touch()
        return ticket

    def get(self, token: str | None) -> Any | None:
        """The job of a token (None while it waits, or for an unknown token)."""
        ticket = self.ticket(token)
        return ticket.job if ticket is not None else None

    def touch(self, token: str | None) -> None:
        """The page watches this ticket (queued or running)."""
        ticket = self.ticket(token)
        if ticket is not None:
            ticket.last_seen = time.monotonic()
            if ticket.job is not None:
                ticket.job.touch()

    def active_jobs(self) -> dict[str, Any]:
        """Jobs that hold room: started and not yet ended (running, paused or loading), by token."""
        with self._lock:
            return {k: t.job for k, t in self._tickets.items() if t.running}

    def owner_tickets(self, owner: str) -> list[JobTicket]:
        """The owner's running and queued tickets (at most one of each)."""
        with self._lock:
            return [t for t in self._tickets.values() if t.owner == owner and (t.running or t.queued)]

    def cancel(self, token: str | None, reason: str = "cancelled") -> bool:
        """Take a queued job out of the queue; True when it was waiting."""
        with self._lock:
            waiting = token in self._queue
            if waiting:
                self._leave_queue(token, reason)
        if waiting:
            self.admit()
        return waiting

    def stop(self, token: str, reason: str = "") -> bool:
        """Stop a running job (a queued one leaves the queue); the ended job stays readable by its token."""
        if self.cancel(token, reason or "cancelled"):
            return True
        job = self.get(token)
        if job is None:
            return True
        if reason:
            with self._lock:
                self._stopped_reasons[token] = reason
        stopped = job.stop()
        self.admit()
        return stopped

    def stopped_reason(self, token: str) -> str:
        with self._lock:
            return self._stopped_reasons.get(token, "")

    def forget(self, token: str) -> None:
        """Stop a job, end its worker process and drop its ticket (its token reaches nothing any more)."""
        with self._lock:
            if token in self._queue:
                self._queue.remove(token)
            ticket = self._tickets.pop(token, None)
        if ticket is not None and ticket.job is not None:
            ticket.job.close()

    # ------------------------------------------------------------ the queue as the pages show it

    def _estimates(self) -> dict[str, float]:
        """Seconds until each queued ticket should start (call with the lock held)."""
        live = [(t, t.job.status()) for t in self._tickets.values() if t.running]
        pace = self._pace or 1.0
        running = [(t.cost, jq.remaining_seconds(status, t.config, self.max_job_seconds, pace))
                   for t, status in live]
        running += [(jq.EXPERIMENT_COST, 0.0) for _ in self._experiments]  # experiments are short: unknown end
        slower = jq.slowdown([(status, t.config) for t, status in live], self.max_job_seconds, default=pace)
        queued = [self._tickets[token] for token in self._queue]
        lengths = [(t.cost, slower * jq.expected_seconds(t.config, self.max_job_seconds)) for t in queued]
        starts = jq.estimate_starts(self.capacity, running, lengths, max_jobs=self.max_jobs)
        return {t.token: s for t, s in zip(queued, starts, strict=True)}

    def place(self, token: str | None) -> QueuePlace | None:
        """Where a waiting ticket stands (None once it runs or left): locally in this queue, with Ray in Ray's."""
        ticket = self.ticket(token)
        if ticket is None:
            return None
        now = time.monotonic()
        if ticket.job is not None:
            ray_place = ticket.pending_place()
            if ray_place is None or not ticket.job.is_alive():
                return None
            since = getattr(ticket.job, "pending_since", None) or ticket.submitted_at
            return QueuePlace(ray_place, self.pending_count(), now - since, None, ticket.family)
        with self._lock:
            if token not in self._queue:
                return None
            estimates = self._estimates()
            return QueuePlace(self._queue.index(token) + 1, len(self._queue), now - ticket.submitted_at,
                              estimates[token], ticket.family)

    def pending_count(self) -> int:
        """How many wait: in this queue, plus Ray's pending jobs."""
        with self._lock:
            tickets = list(self._tickets.values())
            local = len(self._queue)
        return local + sum(1 for t in tickets
                           if t.job is not None and t.job.is_alive() and t.pending_place() is not None)

    def queue_view(self) -> list[QueuePlace]:
        """The whole queue, anonymous (presenter mode): places, kinds, waits and estimated starts."""
        now = time.monotonic()
        with self._lock:
            estimates = self._estimates()
            rows = [QueuePlace(i + 1, len(self._queue), now - self._tickets[tok].submitted_at, estimates[tok],
                               self._tickets[tok].family) for i, tok in enumerate(self._queue)]
            pending = [t for t in self._tickets.values() if t.job is not None and t.job.is_alive()]
        for ticket in pending:  # Ray's own pending queue
            place = ticket.pending_place()
            if place is not None:
                since = getattr(ticket.job, "pending_since", None) or ticket.submitted_at
                rows.append(QueuePlace(place, 0, now - since, None, ticket.family))
        return rows

    def running_view(self) -> list[tuple[str, float]]:
        """(family, seconds left) of each running job, anonymous."""
        with self._lock:
            running = [t for t in self._tickets.values() if t.running]
        return [(t.family, jq.remaining_seconds(t.job.status(), t.config, self.max_job_seconds)) for t in running]

    # ------------------------------------------------------------ Apply's experiments

    def start_experiment(self, key: str, work: WorkT) -> WorkT:
        """Start a session's Apply experiment (not yet started) in the room training jobs share.

        ServerBusyError while training jobs wait or there is no room; RuntimeError while this session's last
        experiment runs."""
        with self._lock:
            mine = self._experiments.get(key)
            if mine is not None and mine.is_alive():
                raise RuntimeError("an experiment is already running in this session: stop it first")
            used, count = self._room_taken()
            if self._queue or not self._fits(jq.EXPERIMENT_COST, used, count):
                waiting = len(self._queue)
                raise ServerBusyError(
                    f"the server's room is taken by {count} background job{'s' if count != 1 else ''}"
                    f"{f' and {waiting} training job(s) wait in the queue' if waiting else ''}. Experiments do "
                    "not queue: run it again when a job ends (training jobs end after their budget, or "
                    f"{self.max_job_seconds / 60:.0f} min at most).")
            self._experiments[key] = work.start()
        return work

    def experiment(self, key: str) -> BackgroundWork | None:
        with self._lock:
            return self._experiments.get(key)

    def busy_slots(self) -> int:
        """How many background jobs hold room now: live training jobs plus running experiments."""
        with self._lock:
            self._experiments = {k: e for k, e in self._experiments.items() if e.is_alive()}
            return sum(1 for t in self._tickets.values() if t.running) + len(self._experiments)

    # ------------------------------------------------------------ reaping

    def reap(self, now: float | None = None,
             session_alive: Callable[[str | None], bool | None] = session_connected) -> list[str]:
        """Stop jobs nobody watches, take closed tabs' jobs out of the queue, drop ended jobs of gone
        sessions. Returns the tokens stopped or taken out of the queue."""
        now = time.monotonic() if now is None else now
        stopped = []
        with self._lock:
            tickets = list(self._tickets.values())
        for ticket in tickets:
            alive = session_alive(ticket.browser_session)
            if ticket.queued:
                if alive:
                    ticket.last_seen, ticket.gone_since = now, None
                    continue
                if alive is False and ticket.gone_since is None:
                    ticket.gone_since = now
                closed = alive is False and now - ticket.gone_since >= QUEUE_GRACE_S
                if closed or now - ticket.last_seen > self.idle_timeout:
                    with self._lock:
                        self._leave_queue(ticket.token, "left the queue: its tab was closed")
                    stopped.append(ticket.token)
                continue
            job = ticket.job
            if job is None:  # left the queue: forgotten once nobody can come back for it
                if alive is not True and now - ticket.last_seen > self.idle_timeout:
                    with self._lock:
                        self._tickets.pop(ticket.token, None)
                continue
            if not job.is_alive():
                if alive is False and now - job.last_seen > self.idle_timeout:
                    with self._lock:  # the session is gone: end the worker of its finished job
                        if self._tickets.get(ticket.token) is ticket:
                            self._tickets.pop(ticket.token)
                    job.close()
                continue
            if alive:  # the tab is open (perhaps on another page): the job is watched
                job.touch()
                continue
            if now - job.last_seen > self.idle_timeout:
                with self._lock:
                    self._stopped_reasons[ticket.token] = (
                        f"stopped: nobody watched it for {self.idle_timeout:.0f} s "
                        "(the tab was closed or the page left idle)")
                job.stop()
                stopped.append(ticket.token)
        if stopped:
            self.admit()
        return stopped

    def close(self) -> None:
        """Stop every job, end every worker process, the reaper and the admission pass (tests, shutdown)."""
        self._reaper.close()
        self._admitter.close()
        with self._lock:
            self._queue.clear()
        for token in list(self._tickets):
            self.forget(token)
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
