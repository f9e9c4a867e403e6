"""The fair job queue (app_shared/jobs.py, app_shared/job_queue.py) with fake jobs: FIFO order, room measured by
cost, one running and one queued job per holder, cancelling, a closed tab leaving the queue, the estimate, tokens."""
import time

import pytest

from app_shared import job_queue as jq
from app_shared import jobs as jobs_mod
from app_shared.jobs import QUEUE_GRACE_S, JobRegistry, ServerBusyError
from gan_core import JobState, JobStatus, TrainConfig

DCGAN = TrainConfig(dataset="mnist", model="dcgan", seconds=60, device="cpu")
TOY = TrainConfig(dataset="ring8", steps=300, device="cpu")
TWO_CORES = jq.Cost(cores=2.0, memory_mib=1e6)


class FakeJob:
    """Stands in for a WorkerJob: alive from start() until finish()/stop(); its status says how long is left."""

    def __init__(self, config, **kw):
        self.config, self.kw = config, kw
        self.started = self.ended = False
        self.paused = None
        self.last_seen = time.monotonic()
        self.left, self.elapsed = 30.0, 1.0

    def start(self, paused=False):
        self.started, self.paused = True, paused
        return self

    def is_alive(self):
        return self.started and not self.ended

    def stop(self, timeout=30.0):
        self.ended = True
        return True

    finish = stop

    def close(self, timeout=10.0):
        self.ended = True

    def touch(self):
        self.last_seen = time.monotonic()

    @property
    def state(self):
        return JobState.RUNNING if self.is_alive() else JobState.FINISHED

    def status(self):
        return JobStatus(self.state, elapsed=self.elapsed, eta=self.left, budget_seconds=self.config.seconds,
                         budget_steps=self.config.steps)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(jobs_mod, "create_job", lambda config, **kw: FakeJob(config, **kw))
    regs = []

    def make(capacity=TWO_CORES, **kw):
        r = JobRegistry(reap_every=3600, admit_every=3600, capacity=capacity, **kw)
        regs.append(r)
        return r
    yield make
    for r in regs:
        r.close()


def test_fifo_order_and_room_by_cost(registry):
    reg = registry()
    a, b, c, d = (reg.submit(owner, DCGAN) for owner in "abcd")
    assert a.running and b.running and c.queued and d.queued  # two DCGANs take both cores
    assert [reg.place(t.token).place for t in (c, d)] == [1, 2] and reg.place(a.token) is None
    toy = reg.submit("e", TOY)
    assert toy.queued and reg.place(toy.token).place == 3  # it would fit nowhere either; FIFO, no jumping ahead
    a.job.finish()
    assert reg.admit() == [c]
    assert c.running and d.queued and reg.place(d.token).place == 1 and reg.place(toy.token).place == 2
    b.job.finish()
    assert reg.admit() == [d]
    c.job.finish()
    assert reg.admit() == [toy]
    assert toy.family == "toy" and toy.job.kw["token"] == toy.token
    assert reg.submit("f", TOY).running  # a toy costs half a core: it fits beside a DCGAN and a toy
    assert reg.submit("g", TOY).queued


def test_max_jobs_still_caps_the_count(registry):
    reg = registry(capacity=jq.Cost(cores=64, memory_mib=1e6), max_jobs=1)
    assert reg.submit("a", TOY).running and reg.submit("b", TOY).queued


def test_one_running_and_one_queued_job_per_holder(registry):
    reg = registry()
    first = reg.submit("a", DCGAN)
    second = reg.submit("a", DCGAN)
    assert first.running and second.queued  # room is free, but the holder's own run has not ended
    other = reg.submit("b", DCGAN)
    assert other.running  # the holder's waiting job holds nobody back
    later = reg.submit("c", DCGAN)
    third = reg.submit("a", DCGAN)  # a second Start while one waits takes the waiting one's place
    assert second.left_queue == "replaced by a newer Start" and reg.ticket(second.token).queued is False
    assert reg.place(third.token).place == 1 and reg.place(later.token).place == 2
    assert [t.token for t in reg.owner_tickets("a")] == [first.token, third.token]
    first.job.finish()
    assert reg.admit() == [third]


def test_cancel_a_queued_job(registry):
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))
    running, a, b = reg.submit("r", DCGAN), reg.submit("a", DCGAN), reg.submit("b", DCGAN)
    assert reg.cancel(a.token, "you left the queue")
    assert not a.queued and a.job is None and a.left_queue == "you left the queue"
    assert reg.place(a.token) is None and reg.place(b.token).place == 1
    assert not reg.cancel(a.token) and not reg.cancel("no-such-token") and not reg.cancel(running.token)
    reg.stop(b.token)  # stop on a queued job takes it out of the queue too
    assert not b.queued and reg.queue_view() == []
    assert running.running


def test_a_closed_tab_leaves_the_queue(registry):
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))
    reg.submit("r", DCGAN, browser_session="open")
    gone = reg.submit("g", DCGAN, browser_session="closed")
    kept = reg.submit("k", DCGAN, browser_session="open")
    alive = {"open": True, "closed": False}.get
    now = time.monotonic()
    assert reg.reap(now=now, session_alive=alive) == []  # a reload reconnects within the grace
    assert gone.queued
    assert reg.reap(now=now + QUEUE_GRACE_S + 1, session_alive=alive) == [gone.token]
    assert not gone.queued and "tab was closed" in gone.left_queue
    assert kept.queued and reg.place(kept.token).place == 1
    reg.attach(kept.token, "k", browser_session="closed")  # re-attached from a new tab: that tab's fate counts
    assert reg.reap(now=now + 2 * QUEUE_GRACE_S + 5, session_alive=alive) == []
    assert reg.reap(now=now + 3 * QUEUE_GRACE_S + 10, session_alive=alive) == [kept.token]


def test_the_estimate_follows_the_running_jobs_budgets():
    one = jq.Cost(cores=1.0)
    starts = jq.estimate_starts(TWO_CORES, running=[(one, 10.0), (one, 30.0)],
                                queued=[(one, 20.0), (one, 5.0), (jq.Cost(cores=2.0), 5.0)])
    assert starts == [10.0, 30.0, 35.0]
    assert jq.estimate_starts(TWO_CORES, running=[], queued=[(one, 9.0)]) == [0.0]
    assert jq.estimate_starts(TWO_CORES, running=[(one, 10.0)], queued=[(one, 9.0), (one, 1.0)], max_jobs=1) == \
        [10.0, 19.0]
    assert jq.expected_seconds(DCGAN, 1800.0) == jq.WORKER_START_S + 60
    # a 60 s budget, a quarter done after 20 s of wall clock: three times as long again
    quarter = JobStatus(JobState.RUNNING, elapsed=20.0, eta=45.0, budget_seconds=60.0)
    assert jq.remaining_seconds(quarter, DCGAN, 1800.0) == pytest.approx(60.0)
    assert jq.remaining_seconds(quarter, DCGAN, max_job_seconds=50.0) == 30.0  # the length cap comes first
    steps = JobStatus(JobState.RUNNING, elapsed=10.0, step=150, budget_steps=300)
    assert jq.remaining_seconds(steps, TOY, 1800.0) == pytest.approx(10.0)
    starting = JobStatus(JobState.STARTING, elapsed=2.0, budget_seconds=60.0)  # no rate yet: its expected length
    assert jq.remaining_seconds(starting, DCGAN, 1800.0) == jq.WORKER_START_S + 58
    assert jq.remaining_seconds(JobStatus(JobState.RUNNING, elapsed=10.0), TOY, 120.0) == 110.0  # no budget
    slow = jq.slowdown([(quarter, DCGAN)], 1800.0)  # it runs 20 / (0.25 * 65) times slower than priced
    assert slow == pytest.approx(20.0 / (0.25 * jq.expected_seconds(DCGAN, 1800.0)))
    assert jq.slowdown([], 1800.0) == 1.0


def test_place_shows_the_estimate(registry):
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))
    running = reg.submit("r", DCGAN)
    running.job.left, running.job.elapsed = 42.0, 18.0  # 30% of its 60 s budget in 18 s: 42 s to go
    first, second = reg.submit("a", DCGAN), reg.submit("b", DCGAN)
    assert reg.place(first.token).estimated_wait_s == pytest.approx(42.0)
    assert reg.place(second.token).estimated_wait_s == pytest.approx(42.0 + jq.expected_seconds(DCGAN, 1800.0))
    view = reg.queue_view()
    assert [(r.place, r.family) for r in view] == [(1, "dcgan"), (2, "dcgan")]
    assert reg.running_view() == [("dcgan", pytest.approx(42.0))]


def test_the_pace_of_finished_jobs_scales_the_next_estimates(registry):
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))
    first = reg.submit("a", DCGAN)
    waiting = reg.submit("b", DCGAN)
    first.job.ended_at = first.started_at + 2 * jq.expected_seconds(DCGAN, 1800.0)  # took twice its price
    first.job.finish()
    assert reg.admit() == [waiting]
    assert reg._pace == pytest.approx(2.0)
    waiting.job.left, waiting.job.elapsed = None, 1.0  # just started: no rate of its own yet
    third = reg.submit("c", DCGAN)
    expected = 2 * jq.expected_seconds(DCGAN, 1800.0)
    assert reg.place(third.token).estimated_wait_s == pytest.approx(expected - 1.0)
    assert jq.updated_pace(2.0, 0.5, DCGAN, 1800.0) == pytest.approx(1.5)  # never faster than priced


def test_job_cost_by_family():
    assert jq.family_of(TOY) == "toy" and jq.family_of(DCGAN) == "dcgan"
    assert jq.family_of(TrainConfig(dataset="mnist", model="cgan-mlp-proj")) == "mlp"
    assert jq.job_cost(TOY).cores < jq.job_cost(DCGAN).cores
    assert jq.job_cost(TOY).memory_mib < jq.job_cost(DCGAN).memory_mib
    gpu = jq.job_cost(TrainConfig(dataset="mnist", model="dcgan", device="cuda"))
    assert gpu.gpu_mib == jq.PRICES["dcgan"].gpu_mib and gpu.cores == jq.GPU_FEED_CORES
    capacity = jq.machine_capacity()
    assert capacity.cores >= 1 and capacity.memory_mib > 0


def test_tokens_are_unguessable_and_reach_only_their_job(registry):
    reg = registry()
    a, b = reg.submit("a", TOY), reg.submit("b", TOY)
    assert len(a.token) >= 32 and a.token != b.token
    assert reg.get(a.token) is a.job and reg.get(b.token) is b.job
    assert reg.ticket("x" * 32) is None and reg.get(a.token[:-1]) is None and reg.attach("nope", "c") is None
    assert reg.attach(a.token, "c").owner == "c"  # the holder of the token is now its owner


def test_experiments_share_the_room_but_do_not_queue(registry):
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))

    class Work:
        alive = False

        def start(self):
            self.alive = True
            return self

        def is_alive(self):
            return self.alive

        def request_stop(self):
            self.alive = False

    work = reg.start_experiment("x", Work())
    queued = reg.submit("a", DCGAN)
    assert queued.queued and reg.busy_slots() == 1  # the experiment holds the core
    with pytest.raises(ServerBusyError, match="wait in the queue"):
        reg.start_experiment("y", Work())
    work.request_stop()
    assert reg.admit() == [queued]


def test_with_ray_every_job_is_admitted_and_rays_place_is_shown(registry, monkeypatch):
    class PendingJob(FakeJob):
        place = 2

        def queue_place(self):
            return self.place

    monkeypatch.setattr(jobs_mod, "ray_enabled", lambda: True)
    monkeypatch.setattr(jobs_mod, "create_job", lambda config, **kw: PendingJob(config, **kw))
    monkeypatch.setattr(jobs_mod, "find_job", lambda token: None)
    reg = registry(capacity=jq.Cost(cores=1.0, memory_mib=1e6))
    tickets = [reg.submit(o, DCGAN) for o in "abc"]
    assert all(t.job is not None and t.job.started for t in tickets)
    assert tickets[0].job.kw["token"] == tickets[0].token  # the actor is named by the token
    place = reg.place(tickets[2].token)
    assert place.place == 2 and place.estimated_wait_s is None
    tickets[2].job.place = None  # Ray placed it
    assert reg.place(tickets[2].token) is None
    survivor = PendingJob(DCGAN).start()  # the app restarted: a token it does not hold is asked of the cluster
    monkeypatch.setattr(jobs_mod, "find_job", lambda token: survivor if token == "t" * 32 else None)
    assert reg.get("t" * 32) is survivor and reg.ticket("u" * 32) is None
    assert reg.attach("t" * 32, "z").owner == "z"
