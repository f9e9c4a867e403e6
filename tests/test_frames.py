"""The frame recorder behind the playground's animation: its rate, its bounded buffer, "frames since N",
the toy frame's contents, and frames recorded by a TrainingJob and mirrored by a WorkerJob."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from gan_core import JobState, Trainer, TrainingJob, WorkerJob
from gan_core.teach import toy_viz
from gan_core.teach.presets import PRESETS
from gan_core.teach.toy_frames import FRAME_ARROWS, FRAME_GRID, FRAME_MANIFOLD, FRAME_POINTS, ToyFrame, toy_frame
from gan_core.train.frames import FrameBuffer, FrameRecorder
from tools.harness.waiting import wait_for


@dataclass(frozen=True)
class Dummy:
    seq: int
    step: int
    time: float


class FakeTrainer:
    step_count = 0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def dummy(trainer, seq: int, t: float) -> Dummy:
    return Dummy(seq, trainer.step_count, t)


def test_recorder_records_at_its_rate_by_wall_time_and_every_forced_step():
    clock, trainer = Clock(), FakeTrainer()
    rec = FrameRecorder(dummy, rate=20, min_rate=10, clock=clock)
    recorded = []
    for step in range(1, 401):  # 2 s at 200 steps/s
        trainer.step_count = step
        clock.now += 0.005
        recorded.append(rec.after_step(trainer))
    assert 39 <= sum(recorded) <= 41, "20 frames per second of training, not one per step"
    times = [f.time for f in rec.since(-1)]
    assert np.allclose(np.diff(times), 0.05, atol=0.0051)
    before = len(rec.since(-1))
    for step in range(401, 406):  # single steps, all within one interval
        trainer.step_count = step
        clock.now += 0.001
        assert rec.after_step(trainer, forced=True)
    assert [f.step for f in rec.since(-1)[before:]] == [401, 402, 403, 404, 405]


def test_recorder_stretches_its_interval_when_frames_are_costly():
    def slow(trainer, seq, t):
        time.sleep(0.01)  # 10 ms a frame: 20 per second would take 20% of the time
        return Dummy(seq, trainer.step_count, t)
    rec = FrameRecorder(slow, rate=20, min_rate=5, max_share=0.1)
    assert rec.interval == pytest.approx(0.05)
    rec.record(FakeTrainer())
    assert rec.interval >= 0.095 and rec.interval <= 0.2, "cost / share, within [1/rate, 1/min_rate]"
    cheap = FrameRecorder(dummy, rate=20, min_rate=5)
    cheap.record(FakeTrainer())
    assert cheap.interval == pytest.approx(0.05)
    with pytest.raises(ValueError):
        FrameRecorder(dummy, rate=10, min_rate=20)


def test_buffer_is_bounded_and_answers_frames_since():
    buf = FrameBuffer(capacity=5)
    buf.extend([Dummy(i, i, 0.0) for i in range(12)])
    assert len(buf) == 5 and [f.seq for f in buf.since(-1)] == [7, 8, 9, 10, 11]
    assert [f.seq for f in buf.since(9)] == [10, 11]
    assert buf.since(11) == [] and buf.latest().seq == 11
    assert [f.seq for f in buf.since(2)] == [7, 8, 9, 10, 11], "older than the buffer: what is held"
    with pytest.raises(ValueError):
        FrameBuffer(0)


def test_catch_up_records_only_when_the_trainer_moved():
    rec, trainer = FrameRecorder(dummy), FakeTrainer()
    assert rec.catch_up(trainer) and not rec.catch_up(trainer)
    trainer.step_count = 3
    assert rec.catch_up(trainer) and rec.buffer.latest().step == 3


@pytest.fixture(scope="module")
def toy_trainer() -> Trainer:
    torch.set_num_threads(1)
    trainer = Trainer(PRESETS["ring8-nonsaturating"].config(seed=0))
    for _ in range(30):
        trainer.step()
    return trainer


def test_toy_frame_holds_the_toy_views_quantised(toy_trainer):
    frame = toy_frame(toy_trainer, 4, 1.5)
    assert (frame.seq, frame.step, frame.time, frame.extent) == (4, 30, 1.5, 3.0)
    assert frame.fake.shape == (FRAME_POINTS, 2) and frame.fake.dtype == np.int16
    assert frame.arrows.shape == (FRAME_ARROWS, 2) and frame.manifold.shape == (FRAME_MANIFOLD, FRAME_MANIFOLD, 2)
    assert frame.surface.shape == (FRAME_GRID, FRAME_GRID) and frame.surface.dtype == np.uint8
    assert frame.nbytes < 4096, "small enough to send 20 a second"
    fake, grads = toy_viz.generator_gradients(toy_trainer.sampling_generator, toy_trainer.D, toy_trainer.loss,
                                              toy_trainer.fixed_z[:FRAME_POINTS])
    assert np.abs(frame.fake_points() - fake).max() < 1e-3
    assert np.abs(frame.arrow_vectors() - grads[:FRAME_ARROWS]).max() < 1e-4 * frame.arrow_length + 1e-6
    _, _, surface = toy_viz.decision_surface(toy_trainer.D, 3.0, FRAME_GRID, True)
    assert frame.probability and (frame.surface_lo, frame.surface_hi) == (0.0, 1.0)
    assert np.abs(frame.surface_values() - surface).max() <= 0.5 / 255 + 1e-6
    assert frame.surface.max() > frame.surface.min(), "D's surface has contrast"
    manifold = toy_viz.generator_manifold(toy_trainer.sampling_generator, 2, FRAME_MANIFOLD)
    assert np.abs(frame.manifold_points() - manifold).max() < 1e-3


def test_toy_frame_of_a_critic_spans_its_own_range():
    torch.set_num_threads(1)
    trainer = Trainer(PRESETS["ring8-wgan-gp"].config(seed=0))
    trainer.step()
    frame = toy_frame(trainer, 0, 0.0)
    assert not frame.probability and frame.surface_lo < frame.surface_hi
    assert frame.surface.min() == 0 and frame.surface.max() == 255


def test_a_training_job_records_at_least_ten_frames_a_second_and_one_per_single_step():
    torch.set_num_threads(1)
    job = TrainingJob(PRESETS["ring8-nonsaturating"].config(seed=0), num_threads=1, frame_maker=toy_frame).start()
    try:
        assert job.wait_until(20, timeout=60)
        first = job.frames_since(-1)
        assert first[0].seq == 0 and first[0].step == 0, "a frame of the start, before any step"
        time.sleep(2.0)
        frames = [f for f in job.frames_since(-1) if f.step > 0]
        span = frames[-1].time - frames[0].time
        assert (len(frames) - 1) / span >= 10, f"{len(frames)} frames in {span:.2f} s"
        assert len({f.step for f in frames}) == len(frames), "each frame a different step"
        job.pause()
        assert wait_for(lambda: job.state == JobState.PAUSED)
        assert wait_for(lambda: job.frames_since(-1)[-1].step == job.trainer.step_count, timeout=5), \
            "paused: the last frame is where the run stopped"
        last = job.frames_since(-1)[-1]
        job.step_once(3)
        assert wait_for(lambda: job.trainer.step_count == last.step + 3)
        assert wait_for(lambda: len(job.frames_since(last.seq)) >= 3, timeout=5)
        assert [f.step for f in job.frames_since(last.seq)] == [last.step + 1, last.step + 2, last.step + 3]
        assert isinstance(last, ToyFrame)
    finally:
        job.stop()


def test_a_worker_job_mirrors_its_frames_without_a_round_trip():
    job = WorkerJob(PRESETS["ring8-nonsaturating"].config(seed=0, num_threads=1), frame_maker=toy_frame,
                    name="frames").start()
    try:
        assert job.wait_until(20, timeout=120), job.message
        assert wait_for(lambda: len(job.frames_since(-1)) >= 10, timeout=30)
        frames = job.frames_since(-1)
        assert [f.seq for f in frames] == list(range(frames[0].seq, frames[-1].seq + 1)), "none lost, in order"
        tail = frames[-1].seq
        assert wait_for(lambda: job.frames_since(tail), timeout=10), "new frames keep arriving"
        assert all(f.seq > tail for f in job.frames_since(tail))
    finally:
        job.close()
    plain = WorkerJob(PRESETS["ring8-nonsaturating"].config(seed=0, num_threads=1), name="no-frames").start()
    try:
        assert plain.wait_until(5, timeout=120)
        assert plain.frames_since(-1) == [], "no frame maker, no frames"
    finally:
        plain.close()
