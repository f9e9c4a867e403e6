"""Faults: divergence mid-run, kill -9 while a checkpoint is being written, exceptions in the training thread."""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from gan_core import JobState, TrainConfig, TrainingJob
from gan_core.data.datasets import Dataset, load_dataset
from gan_core.io.checkpoint import load_checkpoint
from tools.harness.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent



def job_threads(job: TrainingJob) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"TrainingJob-{job.name}" and t.is_alive()]


# ---------------------------------------------------------------- divergence mid-run

def test_divergence_mid_run_stops_job_and_keeps_last_checkpoint(tmp_path, mnist_dir):
    config = TrainConfig(dataset="mnist", data_dir=str(mnist_dir), data_limit=256, model="mlp", loss="lsgan",
                         batch_size=32, steps=5000)
    job = TrainingJob(config, num_threads=1, name="diverge").start()
    try:
        assert job.wait_until(40, timeout=60), job.message
        saved = job.save(tmp_path / "good")
        digest = hashlib.sha256(saved.read_bytes()).hexdigest()
        job.set_lr(lr_g=1.0, lr_d=1.0)  # the largest lr the form allows; this model blows up with it
        assert wait_for(lambda: not job.is_alive(), timeout=90)
        assert job.state == JobState.DIVERGED
        assert "diverged" in job.message and "rolled back" in job.message
        assert job.trainer.step_count < 5000
    finally:
        job.stop()
    assert not job_threads(job)
    # the checkpoint saved before the blow-up is untouched and loads
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
    good = load_checkpoint(saved)
    assert torch.isfinite(good.generate(torch.randn(4, good.z_dim))).all()
    # and the rolled-back state can still be saved and loaded (load_checkpoint rejects NaN weights)
    after = load_checkpoint(job.save(tmp_path / "after"))
    assert torch.isfinite(after.generate(torch.randn(4, after.z_dim))).all()


# ---------------------------------------------------------------- kill -9 while writing checkpoints

WRITER = r"""
import sys
import torch
from gan_core.io.checkpoint import save_checkpoint
from gan_core.nn.models import build_models

path = sys.argv[1]
G, D = build_models("cgan-mlp", 64, (1, 28, 28), 10)  # about 8 MB of weights per write
meta = {"model": "cgan-mlp", "z_dim": 64, "num_classes": 10, "image_shape": [1, 28, 28]}
for version in range(1, 100000):
    with torch.no_grad():
        for p in G.parameters():
            p.fill_(version / 1000)
    save_checkpoint(path, G, dict(meta, version=version), D)
    print(version, flush=True)
"""


def _kill_writer(folder: Path, mode: str, delay: float) -> tuple[int, bool]:
    """Start a writer, let it finish at least one checkpoint, SIGKILL it; returns (versions done, tmp left)."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder / "ckpt")], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        first = proc.stdout.readline()  # the first checkpoint is complete
        assert first.strip() == "1", proc.stderr.read()
        if mode == "mid-write":  # kill the moment a temp file exists: inside a write, before its rename
            assert wait_for(lambda: any(p.name.endswith(".tmp") for p in folder.iterdir()), timeout=20)
        else:
            time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    tmp_left = any(p.name.endswith(".tmp") for p in folder.iterdir())
    return int(first), tmp_left


def test_kill_9_during_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path):
    rng = random.Random(10)
    plans = [("mid-write", 0.0)] * 3 + [("random", rng.uniform(0.0, 0.3)) for _ in range(3)]
    interrupted = 0
    for i, (mode, delay) in enumerate(plans):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        _, tmp_left = _kill_writer(folder, mode, delay)
        interrupted += tmp_left
        gan = load_checkpoint(folder / "ckpt.safetensors")  # raises if torn or missing
        meta = json.loads((folder / "ckpt.json").read_text())
        weights_version = round(float(next(gan.generator.parameters()).detach().flatten()[0]) * 1000)
        # weights are renamed into place before the JSON: the pair is version v, or weights v+1 with JSON v
        assert weights_version in (meta["version"], meta["version"] + 1), (weights_version, meta["version"])
        assert all(torch.isfinite(p).all() for p in gan.generator.parameters())
    print(f"{interrupted} of {len(plans)} kills landed inside a write")
    assert interrupted >= 1, "no kill landed inside a write: the test did not test atomicity"


# ---------------------------------------------------------------- exceptions inside the training thread

@dataclass
class FailingDataset(Dataset):
    """Ring8 that raises on its n-th batch, like a disk or driver error mid-run."""

    fail_at: int = 5
    calls: int = 0

    def sample(self, n, generator=None):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("simulated I/O error while sampling a batch")
        return super().sample(n, generator)


def test_exception_in_thread_is_caught_reported_and_a_new_job_can_start():
    ring = load_dataset("ring8")
    failing = FailingDataset(ring.name, ring.kind, ring.shape, modes=ring.modes, mode_std=ring.mode_std, fail_at=20)
    config = TrainConfig(dataset="ring8", batch_size=32, steps=10_000)
    job = TrainingJob(config, dataset=failing, num_threads=1, name="fails").start()
    assert wait_for(lambda: not job.is_alive(), timeout=30)
    assert job.state == JobState.FAILED
    assert job.message == "RuntimeError: simulated I/O error while sampling a batch"
    assert "Traceback" in job.error_trace and "sample" in job.error_trace
    assert job.trainer.step_count == 19  # the steps before the failure happened and are kept
    assert not job_threads(job) and job.stop()  # stop() on an ended job is harmless
    assert job.status().state == JobState.FAILED and "simulated" in job.status().message
    # the session starts again: a fresh job runs
    again = TrainingJob(TrainConfig(dataset="ring8", batch_size=32, steps=30), num_threads=1, name="again").start()
    assert again.wait_until(30, timeout=30)
    assert wait_for(lambda: not again.is_alive(), timeout=30)
    assert again.state == JobState.FINISHED and not job_threads(again)


def test_exception_while_building_the_trainer_is_reported():
    job = TrainingJob(TrainConfig(dataset="folder:/no/such/folder", steps=5), num_threads=1, name="nodata").start()
    assert job.wait_ready(30)
    assert wait_for(lambda: not job.is_alive(), timeout=30)
    assert job.state == JobState.FAILED and "does not exist" in job.message
    assert job.trainer is None and not job_threads(job)
    with pytest.raises(RuntimeError, match="no trained model"):
        job.save("/tmp/never-written")


def test_server_side_time_cap_ends_a_job():
    """TrainingJob(max_seconds=...) is what the app's per-session job-length cap uses."""
    job = TrainingJob(TrainConfig(dataset="ring8", batch_size=32, steps=10**6), num_threads=1, max_seconds=1.0,
                      name="capped").start()
    assert wait_for(lambda: not job.is_alive(), timeout=30)
    assert job.state == JobState.FINISHED and "budget" in job.message
    assert 0 < job.trainer.step_count < 10**6 and not job_threads(job)
