"""WorkerJob: a training run in its own process, steered and mirrored from the parent (the app's jobs)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import types

import numpy as np
import pytest
import torch

from gan_core import JobState, TrainConfig, WorkerJob, load_checkpoint
from gan_core.train import history as history_mod
from gan_core.train.history import MetricsHistory
from tests import worker_probes as probes
from tools.harness.waiting import wait_for

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def nice_of(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])


def pid_alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def worker():
    jobs = []

    def make(**kw) -> WorkerJob:
        init_from, nice = kw.pop("init_from", None), kw.pop("nice", 0)
        job = WorkerJob(TrainConfig(**{"dataset": "ring8", "batch_size": 32, "num_threads": 1, **kw}),
                        init_from=init_from, nice=nice, name="test")
        jobs.append(job)
        return job
    yield make
    for job in jobs:
        job.close()
        assert not job.worker_alive()


def test_lifecycle_controls_mirror_and_close(worker, tmp_path):
    job = worker(nice=5).start()
    assert job.wait_until(30, timeout=120), job.message
    pid = job.pid
    assert pid != os.getpid() and nice_of(pid) == min(19, nice_of(os.getpid()) + 5)  # pages come first
    job.step_once(4)  # pauses, then exactly 4 steps
    assert wait_for(lambda: job.state == JobState.PAUSED)
    step = job.trainer.step_count
    time.sleep(0.6)
    assert job.trainer.step_count == step
    job.step_once(3)
    assert wait_for(lambda: job.trainer.step_count == step + 3)
    assert job.history.rows()[-1]["step"] == step + 3  # the mirror has the child's records
    job.set_lr(lr_g=3e-4)  # applied before set_lr returns, and visible in the mirror at once
    assert job.trainer.config.lr_g == 3e-4 and job.call(probes.generator_lr) == pytest.approx(3e-4)
    assert any("lr_g" in text for _, text in job.history.events())
    with pytest.raises(ValueError, match="lr_g must be"):
        job.set_lr(lr_g=-1.0)  # refused in the parent; nothing is sent
    with pytest.raises(ValueError, match="cannot change dataset"):
        job.update_hparams(dataset="mnist")
    assert job.trainer.config.lr_g == 3e-4
    job.resume()
    assert wait_for(lambda: job.trainer.step_count > step + 50, timeout=60)
    x = job.generate(torch.randn(5, 2))
    assert x.shape == (5, 2) and torch.isfinite(x).all()
    with pytest.raises(TypeError):  # an error in a call comes back as itself; the job runs on
        job.call(probes.discriminator_probability, "not points")
    assert job.state == JobState.RUNNING
    status = job.status()
    assert status.state == JobState.RUNNING and status.step > 0 and status.device == "cpu"
    assert job.stop(timeout=30) and job.state == JobState.STOPPED and not job.is_alive()
    assert job.worker_alive()  # still up after the run: saving a stopped run is common
    path = job.save(tmp_path / "after-stop")
    gan = load_checkpoint(path)
    assert gan.meta["steps"] == job.trainer.step_count and gan.z_dim == 2
    job.close()
    assert not job.worker_alive() and not pid_alive(pid)


def test_failure_in_child_is_reported_and_a_new_job_runs(worker):
    job = worker(dataset="folder:/no/such/folder", steps=5).start()
    assert wait_for(lambda: not job.is_alive(), timeout=120)
    assert job.state == JobState.FAILED and "no/such/folder" in job.message and job.trainer is None
    with pytest.raises(RuntimeError, match="no trained model"):
        job.generate(torch.randn(1, 2))
    again = worker(steps=20).start()
    assert wait_for(lambda: not again.is_alive(), timeout=120)
    assert again.state == JobState.FINISHED and again.trainer.step_count == 20


def test_killed_worker_marks_job_failed(worker):
    job = worker().start()
    assert job.wait_until(5, timeout=120)
    os.kill(job.pid, signal.SIGKILL)
    assert wait_for(lambda: not job.is_alive(), timeout=30)
    assert job.state == JobState.FAILED and "ended unexpectedly" in job.message
    with pytest.raises(RuntimeError, match="training process"):
        job.pause()


def test_fork_from_checkpoint_counts_steps_from_there(worker, tmp_path):
    first = worker(steps=25).start()
    assert wait_for(lambda: not first.is_alive(), timeout=120)
    path = first.save(tmp_path / "base")
    fork = worker(steps=10, lr_g=5e-4, init_from=str(path)).start()
    assert wait_for(lambda: not fork.is_alive(), timeout=120)
    assert fork.state == JobState.FINISHED and fork.trainer.step_count == 35
    assert fork.trainer.config.lr_g == 5e-4 and any("forked from base" in t for _, t in fork.history.events())


def test_worker_exits_when_its_parent_is_killed(tmp_path):
    """A server killed with -9 leaves no training process behind."""
    pid_file = tmp_path / "worker.pid"
    script = textwrap.dedent(f"""
        import time
        from gan_core import TrainConfig, WorkerJob
        if __name__ == "__main__":
            job = WorkerJob(TrainConfig(dataset="ring8", batch_size=32, num_threads=1)).start()
            assert job.wait_until(3, timeout=120)
            open({str(pid_file)!r}, "w").write(str(job.pid))
            time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    try:
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=120)
        worker_pid = int(pid_file.read_text())
        assert pid_alive(worker_pid)
        parent.kill()
        parent.wait(10)
        assert wait_for(lambda: not pid_alive(worker_pid), timeout=20)
    finally:
        parent.kill()
        if pid_file.exists() and pid_alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_history_mirror_follows_thinning(monkeypatch):
    """A mirror fed deltas at random moments equals the original, across snapshot thinning."""
    monkeypatch.setattr(history_mod, "MAX_SNAPSHOTS", 8)
    source, mirror = MetricsHistory(), MetricsHistory()
    rng = np.random.default_rng(0)
    cursor = None
    for step in range(1, 200):
        source.append({"step": step, "loss": float(step)})
        if step % 3 == 0:
            source.add_snapshot(step, np.full((2, 2), step, dtype=np.float32))
        if step % 50 == 0:
            source.add_event(step, f"event {step}")
            source.add_eval({"step": step, "score": step / 10})
        if rng.random() < 0.2:
            delta, cursor = source.delta(cursor)
            mirror.apply_delta(delta)
    delta, cursor = source.delta(cursor)
    mirror.apply_delta(delta)
    assert mirror.rows() == source.rows() and mirror.events() == source.events() and mirror.evals() == source.evals()
    assert [s for s, _ in mirror.snapshots()] == [s for s, _ in source.snapshots()]
    assert len(source.snapshots()) <= 8 and all((a == s).all() for s, a in mirror.snapshots())
    empty, _ = source.delta(cursor)
    assert not empty["rows"] and not empty["snapshots"] and empty["keep"] is None


def test_worker_does_not_rerun_the_hosts_main_script(worker, tmp_path, monkeypatch):
    """Streamlit installs each run's app script as `__main__`; spawn would run it again in every worker
    (the whole app, in bare mode, before training). The worker starts without it."""
    marker = tmp_path / "main-ran"
    script = tmp_path / "host_app.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the host script ran in the worker')\n")
    host_main = types.ModuleType("__main__")
    host_main.__file__ = str(script)  # what Streamlit's script runner sets; no __spec__
    monkeypatch.setitem(sys.modules, "__main__", host_main)
    job = worker().start()
    assert sys.modules["__main__"] is host_main, "the host's __main__ is back right after the start"
    assert job.wait_until(10, timeout=120), job.message
    assert not marker.exists(), marker.read_text()
