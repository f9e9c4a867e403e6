"""The process-wide job registry: cap on concurrent jobs, job length cap, idle reaping, clean stops."""
import time

import pytest

from app_shared.jobs import JobRegistry
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


def test_queued_job_starts_when_a_real_one_ends(registry):
    """With real worker processes: the second job waits while the first runs, and starts once it is stopped."""
    reg = registry(max_jobs=1)
    a = reg.submit("a", CFG)
    b = reg.submit("b", CFG)
    assert a.job.wait_until(3) and b.queued and reg.place(b.token).place == 1
    reg.stop(a.token)
    assert not a.job.is_alive() and b.running and b.job.wait_until(2)
    assert set(reg.active_jobs()) == {b.token}


def test_idle_job_is_reaped_unless_its_session_is_connected(registry):
    reg = registry(max_jobs=2, idle_timeout=0.5)
    ticket = reg.submit("s", CFG)
    job = ticket.job
    assert job.wait_until(2)
    later = time.monotonic() + 1.0
    assert reg.reap(now=later, session_alive=lambda _sid: True) == []  # tab open on another page
    assert job.is_alive() and job.last_seen >= later - 1.0
    job.last_seen -= 5
    assert reg.reap(session_alive=lambda _sid: None) == [ticket.token]
    assert not job.is_alive() and job.state == JobState.STOPPED
    assert "nobody watched" in reg.stopped_reason(ticket.token)
    assert job.worker_alive()  # a stopped run stays saveable while its tab may come back
    assert reg.reap(now=time.monotonic() + 10, session_alive=lambda _sid: False) == []
    assert reg.get(ticket.token) is None  # the ended job of a gone session is dropped...
    assert not job.worker_alive()  # ...and its worker process has ended: its memory is the OS's again


def test_job_length_cap(registry):
    reg = registry(max_job_seconds=0.4)
    job = reg.submit("s", CFG).job
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
    assert reg.max_jobs is None and reg.job_nice == 10  # unset: the measured room alone decides (test_queue.py)
    set_env(GAN_JOB_NICE="99")  # refused where the settings are read (app start-up), not clamped here
    with pytest.raises(SettingsError, match="GAN_JOB_NICE='99'"):
        registry()
