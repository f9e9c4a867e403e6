"""TrainingJob thread lifecycle: start, pause, step_once, resume, live lr, stop; divergence; failures."""
import threading
import time

import pytest
import torch

from gan_core import JobState, TrainConfig, TrainingJob
from tools.harness.waiting import wait_for


@pytest.fixture
def job():
    jobs = []

    def make(**kw):
        j = TrainingJob(TrainConfig(**{"dataset": "ring8", "batch_size": 32, **kw}), num_threads=1)
        jobs.append(j)
        return j
    yield make
    for j in jobs:
        j.stop(timeout=10)
        assert not j.is_alive()


def test_lifecycle(job):
    j = job().start()
    assert j.wait_until(20)
    assert j.state == JobState.RUNNING
    j.pause()
    assert wait_for(lambda: j.state == JobState.PAUSED)
    step = j.trainer.step_count
    time.sleep(0.2)
    assert j.trainer.step_count == step  # paused means paused
    j.step_once(3)
    assert wait_for(lambda: j.trainer.step_count == step + 3)
    time.sleep(0.1)
    assert j.trainer.step_count == step + 3 and j.state == JobState.PAUSED
    rows = j.history.rows()
    assert rows[-1]["step"] == step + 3  # single steps are always recorded
    j.set_lr(lr_g=3e-4)
    j.resume()
    assert wait_for(lambda: j.trainer.step_count > step + 20)
    assert j.trainer.opt_g.param_groups[0]["lr"] == 3e-4
    assert any("lr_g" in text for _, text in j.history.events())
    status = j.status()
    assert status.state == JobState.RUNNING and status.step > 0 and status.device == "cpu"
    assert j.stop(timeout=10)
    assert j.state == JobState.STOPPED and "stopped" in j.message
    assert not j.is_alive() and j._thread not in threading.enumerate()  # the job's thread has ended


def test_budget_finishes_job(job):
    j = job(steps=30).start()
    assert wait_for(lambda: not j.is_alive())
    assert j.state == JobState.FINISHED and j.trainer.step_count == 30
    assert j.status().eta == 0


def test_bad_live_change_is_rejected_in_caller(job):
    j = job().start(paused=True)
    j.wait_ready()
    with pytest.raises(ValueError):
        j.set_lr(lr_g=-1.0)
    with pytest.raises(ValueError):
        j.update_hparams(batch_size=3)


def test_divergence_stops_job_and_keeps_last_good_state(job):
    j = job(dataset="mnist", model="mlp", data_limit=256, lr_g=1.0, lr_d=1.0, loss="lsgan", batch_size=32)
    j.start()
    assert wait_for(lambda: not j.is_alive(), timeout=60)
    assert j.state == JobState.DIVERGED and "diverged" in j.message
    good_step = j.trainer._good_state["step"]
    assert 0 <= good_step < j.trainer.step_count
    params = list(j.trainer.G.parameters()) + list(j.trainer.D.parameters())
    assert all(torch.isfinite(p).all() for p in params)  # rolled back to finite weights


def test_failure_in_thread_is_reported(job):
    j = job(dataset="folder:/definitely/not/here").start()
    assert wait_for(lambda: not j.is_alive())
    assert j.state == JobState.FAILED and "not/here" in j.message
    again = job().start()  # the session can start a new job
    assert again.wait_until(5)


def test_generate_and_save_between_steps(job, tmp_path):
    j = job().start()
    assert j.wait_until(10)
    pts = j.generate(torch.randn(7, 2))
    assert pts.shape == (7, 2)
    path = j.save(tmp_path / "live")
    assert path.is_file()


def test_live_panel_data_of_a_toy_run(job):
    """The live panel's record: the status, copies of the history, the toy spread and the warnings."""
    from app_shared.training_ui.live_data import LivePanelData, live_panel_data
    from gan_core import JobStatus

    j = job(steps=120, snapshot_every=50)
    before = live_panel_data(j)  # not started: no trainer yet
    assert isinstance(before, LivePanelData) and before.kind is None and before.rows == [] and before.spread is None
    assert before.status == JobStatus(JobState.STARTING, budget_steps=120)
    j.start()
    assert wait_for(lambda: not j.is_alive(), timeout=60) and j.state == JobState.FINISHED
    data = live_panel_data(j)
    assert data.status.state == JobState.FINISHED and data.status.step == 120 and data.status.eta == 0
    assert data.kind == "points" and data.dataset == "ring8" and not data.conditional and data.num_classes is None
    assert [r["step"] for r in data.rows][-1] == 120 and data.rows == j.history.rows()
    assert data.snapshot[0] == 100 and data.snapshot[1].shape == (512, 2)
    assert data.spread["num_modes"] == 8 and 0 <= data.spread["modes_covered"] <= 8
    finished = [d for d in data.diagnoses if d.kind == "finished"]
    assert len(finished) == 1 and "budget reached at step 120" in finished[0].text.lower()


def test_paused_time_is_left_out_of_elapsed():
    from gan_core.train.job import PausedTime, active_seconds
    paused = PausedTime()
    for state, now in ((JobState.RUNNING, 1.0), (JobState.PAUSED, 3.0), (JobState.PAUSED, 4.0),
                       (JobState.RUNNING, 7.0), (JobState.PAUSED, 9.0)):
        paused.observe(state, now)
    assert paused.total(9.0) == 4.0 and paused.total(10.5) == 5.5  # 3..7, and 9.. while still paused
    paused.observe(JobState.STOPPED, 10.0)
    assert paused.total(20.0) == 5.0
    assert active_seconds(0.0, 10.0, paused) == 5.0 and active_seconds(None, None, paused) == 0.0


def test_elapsed_stops_while_a_job_is_paused(job):
    j = job().start()
    assert j.wait_until(5)
    j.pause()
    assert wait_for(lambda: j.state == JobState.PAUSED)
    before = j.status().elapsed
    time.sleep(0.6)
    assert j.status().elapsed == pytest.approx(before, abs=0.02)
    j.resume()
    assert wait_for(lambda: j.status().elapsed > before + 0.2)
