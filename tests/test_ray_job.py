"""RayJob on a local Ray cluster: a head with no CPUs and two one-CPU worker nodes on 127.0.0.1 (`make test-cluster`).

Jobs land on worker nodes, never on the head; pause, resume, step, live lr, save (bytes through the object store)
and the mirrored history and frames work as with a local WorkerJob; with more jobs than CPUs the extra one waits in
Ray's queue with its place, then runs; a job started with a token is found again by a new driver (the app after a
restart); killing a job's node ends it with a plain message and its last periodic checkpoint still loads.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time

import pytest

from gan_core import JobState, TrainConfig, load_checkpoint
from gan_core.settings import settings
from gan_core.teach.toy_frames import frame_maker_for
from tests.conftest import require
from tools.harness.waiting import wait_for

pytestmark = pytest.mark.cluster
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def toy_config(**kw) -> TrainConfig:
    return TrainConfig(**{"dataset": "ring8", "batch_size": 32, "num_threads": 1, **kw})


@pytest.fixture(scope="module")
def cluster():
    require(importlib.util.find_spec("ray") is not None, 'Ray (pip install -e ".[cluster]")')
    from tools.harness.ray_cluster import local_cluster
    old = os.environ.get("GAN_RAY_ADDRESS")
    with local_cluster(workers=2, worker_cpus=1) as c:
        os.environ["GAN_RAY_ADDRESS"] = c.address
        settings.cache_clear()
        try:
            yield c
        finally:
            if old is None:
                os.environ.pop("GAN_RAY_ADDRESS", None)
            else:
                os.environ["GAN_RAY_ADDRESS"] = old
            settings.cache_clear()


@pytest.fixture
def jobs(cluster):
    from gan_core.train.ray_job import RayJob
    made = []

    def make(config=None, **kw) -> RayJob:
        job = RayJob(config or toy_config(), **kw)
        made.append(job)
        return job

    yield make
    for job in made:
        job.close()


def worker_node_ids(cluster) -> set[str]:
    return {node.node_id for node in cluster.worker_nodes}


def test_a_job_runs_on_a_worker_node_and_is_steered_like_a_local_one(cluster, jobs, tmp_path):
    config = toy_config()
    job = jobs(config, name="steer", frame_maker=frame_maker_for(config)).start()
    assert job.wait_ready(120) and job.wait_until(30, 60), job.status()
    node = job.node_id()
    assert node in worker_node_ids(cluster) and node != cluster.head_node.node_id
    assert job.state == JobState.RUNNING and job.status().device == "cpu"

    job.pause()
    assert wait_for(lambda: job.state == JobState.PAUSED, 10)
    held = job.trainer.step_count
    job.step_once(3)
    assert wait_for(lambda: job.trainer.step_count == held + 3, 10), (held, job.trainer.step_count)

    job.set_lr(lr_g=1e-4, lr_d=3e-4)
    assert (job.trainer.config.lr_g, job.trainer.config.lr_d) == (1e-4, 3e-4)
    assert any("lr" in text for _, text in job.history.events())

    weights = job.save(tmp_path / "mid")  # bytes through the object store, written here
    gan = load_checkpoint(weights)
    assert gan.meta["steps"] == job.trainer.step_count and gan.z_dim == 2

    job.resume()
    assert job.wait_until(held + 60, 60)
    assert len(job.history.rows()) >= 3 and job.history.latest_snapshot() is not None
    assert job.frames_since(-1), "the playground's frames are mirrored"
    assert job.stop() and job.state == JobState.STOPPED


def test_with_more_jobs_than_cpus_the_extra_one_waits_with_its_place_then_runs(cluster, jobs):
    first, second = jobs(name="q1").start(), jobs(name="q2").start()
    assert first.wait_until(5, 120) and second.wait_until(5, 120)
    assert {first.node_id(), second.node_id()} == worker_node_ids(cluster)  # one per node: each asks for 1 CPU
    third = jobs(name="q3").start()
    assert wait_for(lambda: third.queue_place() == 1, 30), third.status()
    assert third.state == JobState.STARTING and "place 1" in third.status().message
    assert not third.wait_until(1, 3), "no room: it must wait"
    fourth = jobs(name="q4").start()
    assert wait_for(lambda: fourth.queue_place() == 2, 30), fourth.status()
    t0 = time.monotonic()
    third.pause()  # sent ahead: the page does not wait for room
    assert fourth.stop() and time.monotonic() - t0 < 5, "leaving the queue does not wait for room either"
    assert fourth.state == JobState.STOPPED and "before it started" in fourth.status().message
    first.close()
    assert wait_for(lambda: third.state == JobState.PAUSED, 120), third.status()
    third.resume()
    assert third.wait_until(5, 60), third.status()
    assert third.queue_place() is None and third.node_id() in worker_node_ids(cluster)


def test_a_token_job_is_found_again_by_a_new_driver(cluster, jobs, tmp_path):
    """The app restarts: the first driver (a process) starts a named job and exits; this one re-attaches."""
    from gan_core.train.ray_job import RayJob
    token = "reattach-token-0123456789"
    script = textwrap.dedent(f"""
        import tools.harness.ray_cluster  # loopback-only Ray, before ray is imported
        from gan_core import TrainConfig
        from gan_core.train.ray_job import RayJob
        job = RayJob(TrainConfig(dataset="ring8", batch_size=32, num_threads=1), name="first-server",
                     token={token!r}, autosave_to={str(tmp_path / "auto")!r}).start()
        assert job.wait_until(20, 120), job.status()
        job.detach()
        print("STEP", job.trainer.step_count, flush=True)
    """)
    env = dict(os.environ, GAN_RAY_ADDRESS=cluster.address)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert RayJob.attach("no-such-token-000000") is None
    job = RayJob.attach(token)
    assert job is not None
    try:
        assert job.wait_until(40, 60), job.status()
        assert job.name == "first-server" and job.node_id() in worker_node_ids(cluster)
        assert job.history.rows()[0]["step"] < 20, "the whole history comes back, not only what followed"
        job.pause()
        assert wait_for(lambda: job.state == JobState.PAUSED, 10)
        assert job.autosave_to == tmp_path / "auto", "the periodic checkpoint goes where the first server chose"
    finally:
        job.close()
    assert load_checkpoint(tmp_path / "auto").meta["steps"] >= 40, "closing copies the last checkpoint back"


def test_killing_the_jobs_node_gives_a_plain_message_and_keeps_its_checkpoint(cluster, jobs, tmp_path):
    job = jobs(name="doomed", autosave_to=tmp_path / "autosave", autosave_every=0.5).start()
    assert job.wait_until(30, 120)
    assert wait_for(lambda: job.last_autosave_step is not None, 30)
    node_id = job.node_id()
    node = next(n for n in cluster.worker_nodes if n.node_id == node_id)
    cluster.remove_node(node, allow_graceful=False)
    try:
        assert wait_for(lambda: job.state == JobState.FAILED, 60), job.status()
        message = job.status().message
        assert "node running this job went down" in message and "autosave.safetensors" in message, message
        assert "Error" not in message and "Traceback" not in message
        gan = load_checkpoint(tmp_path / "autosave")
        assert gan.meta["steps"] == job.last_autosave_step > 0
        with pytest.raises(RuntimeError, match="went down"):
            job.pause()
    finally:
        cluster.add_node(**__import__("tools.harness.ray_cluster", fromlist=["node_args"]).node_args(1))


def test_the_apps_registry_runs_jobs_on_the_cluster_and_finds_them_after_a_restart(cluster, tmp_path, monkeypatch):
    """Through app_shared.jobs (what the pages use): with GAN_RAY_ADDRESS set, a submitted job is a RayJob on a
    worker node; a fresh registry (the app restarted) reaches it by its token and steers it."""
    monkeypatch.setenv("GAN_APP_RUNS_DIR", str(tmp_path))
    settings.cache_clear()
    from app_shared.jobs import JobRegistry
    from gan_core.train.ray_job import RayJob
    first, restarted, other = JobRegistry(), JobRegistry(), JobRegistry()
    try:
        ticket = first.submit("student-a", toy_config(), name="via-registry")
        assert wait_for(lambda: ticket.job is not None, 30), "with Ray every job is admitted: Ray queues"
        job = ticket.job
        assert isinstance(job, RayJob) and job.wait_until(10, 120), job.status()
        assert job.node_id() in worker_node_ids(cluster)
        job.detach()  # the first server goes away without ending its jobs
        again = restarted.ticket(ticket.token)
        assert again is not None and again.job is not job and again.job.wait_until(job.trainer.step_count + 5, 60)
        again.job.pause()
        assert wait_for(lambda: again.job.state == JobState.PAUSED, 10)
        assert other.ticket("x" * 32) is None, "a wrong token reaches nothing"
    finally:
        for registry in (restarted, first, other):
            registry.close()
        settings.cache_clear()
