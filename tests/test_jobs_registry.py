"""The process-wide job registry: cap on concurrent jobs, job length cap, idle reaping, clean stops."""
import time

import pytest
import torch

from app_shared.jobs import JobRegistry, ServerBusyError
from gan_core import JobState, TrainConfig
from gan_core.settings import SettingsError

CFG = TrainConfig(dataset="ring8", batch_size=32, num_threads=1)


@pytest.fixture
def registry():
    regs = []

    def make(**kw):
        r = JobRegistry(reap_every=3600, **kw)
        regs.append(r)
        return r
    yield make
    for r in regs:
        r.close()
        assert not r.active_jobs()


def test_cap_holds_with_three_sessions(registry):
    reg = registry(max_jobs=2)
    a = reg.start("a", CFG)
    b = reg.start("b", CFG)
    assert a.wait_until(3) and b.wait_until(3)
    with pytest.raises(ServerBusyError, match="Server busy.*limit on this server is 2"):
        reg.start("c", CFG)
    assert reg.get("c") is None and len(reg.active_jobs()) == 2
    b2 = reg.start("b", CFG)  # a session restarting its own job does not count against itself
    assert not b.is_alive() and b2.wait_until(2)
    assert not b.worker_alive()  # the replaced job's process was closed
    reg.stop("a")
    assert not a.is_alive()
    c = reg.start("c", CFG)
    assert c.wait_until(2)
    assert set(reg.active_jobs()) == {"b", "c"}


class FakeExperiment:
    """Stands in for an Apply experiment: alive from start() until request_stop()."""

    def __init__(self) -> None:
        self.started = self.stopped = False

    def start(self) -> "FakeExperiment":
        self.started = True
        return self

    def is_alive(self) -> bool:
        return self.started and not self.stopped

    def request_stop(self) -> None:
        self.stopped = True


def test_experiments_count_against_the_same_cap(registry):
    reg = registry(max_jobs=2)
    job = reg.start("a", CFG, paused=True)
    first = reg.start_experiment("b", FakeExperiment())
    assert first.is_alive() and reg.experiment("b") is first and reg.busy_slots() == 2
    with pytest.raises(ServerBusyError, match="Server busy: 2 background jobs.*limit on this server is 2"):
        reg.start("c", CFG)  # a training job waits for an experiment's slot...
    refused = FakeExperiment()
    with pytest.raises(ServerBusyError, match="limit on this server is 2"):
        reg.start_experiment("c", refused)  # ...and an experiment for a training job's
    assert not refused.started and reg.get("c") is None and reg.experiment("c") is None
    with pytest.raises(RuntimeError, match="already running in this session"):
        reg.start_experiment("b", FakeExperiment())  # one experiment per session
    job = reg.start("a", CFG, paused=True)  # a session restarting its own training job keeps its slot
    first.request_stop()  # an ended experiment gives its slot back
    assert reg.busy_slots() == 1 and reg.start_experiment("c", FakeExperiment()).is_alive()
    reg.stop("a")
    assert not job.is_alive() and reg.busy_slots() == 1
    second = reg.experiment("c")
    reg.close()
    assert not second.is_alive() and reg.busy_slots() == 0  # closing the registry stops its experiments


def test_idle_job_is_reaped_unless_its_session_is_connected(registry):
    reg = registry(max_jobs=2, idle_timeout=0.5)
    job = reg.start("s", CFG)
    assert job.wait_until(2)
    later = time.monotonic() + 1.0
    assert reg.reap(now=later, session_alive=lambda _sid: True) == []  # tab open on another page
    assert job.is_alive() and job.last_seen >= later - 1.0
    job.last_seen -= 5
    assert reg.reap(session_alive=lambda _sid: None) == ["s"]
    assert not job.is_alive() and job.state == JobState.STOPPED
    assert "nobody watched" in reg.stopped_reason("s")
    assert job.worker_alive()  # a stopped run stays saveable while its tab may come back
    assert reg.reap(now=time.monotonic() + 10, session_alive=lambda _sid: False) == []
    assert reg.get("s") is None  # the ended job of a gone session is dropped...
    assert not job.worker_alive()  # ...and its worker process has ended: its memory is the OS's again


def test_job_length_cap(registry):
    reg = registry(max_job_seconds=0.4)
    job = reg.start("s", CFG)
    deadline = time.monotonic() + 30  # a worker start alone took 9 s at load average 7 on 2 cores
    while job.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not job.is_alive() and job.state == JobState.FINISHED and "budget" in job.message


def test_env_settings(set_env, registry):
    set_env(GAN_MAX_JOBS="3", GAN_MAX_JOB_SECONDS="60", GAN_IDLE_TIMEOUT=None, GAN_JOB_NICE="7")
    reg = registry()
    assert reg.max_jobs == 3 and reg.max_job_seconds == 60 and reg.idle_timeout == 120 and reg.job_nice == 7
    set_env(GAN_MAX_JOBS=None, GAN_JOB_NICE=None)
    reg = registry()
    assert reg.max_jobs == (4 if torch.cuda.is_available() else 2) and reg.job_nice == 10
    set_env(GAN_JOB_NICE="99")  # refused where the settings are read (app start-up), not clamped here
    with pytest.raises(SettingsError, match="GAN_JOB_NICE='99'"):
        registry()
