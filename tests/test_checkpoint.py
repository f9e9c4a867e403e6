"""Checkpoint round-trip, validation, atomic writes."""
import json
import os

import pytest
import torch

from gan_core import CheckpointError, TrainConfig, Trainer, class_labels, load_checkpoint, sample_latents
from gan_core.io.checkpoint import atomic_write_bytes, checkpoint_paths, resolve_checkpoint
from tests.test_models_losses import tiny_images


@pytest.fixture
def trained(tmp_path):
    trainer = Trainer(TrainConfig(dataset="mnist", model="cgan-mlp", z_dim=8, batch_size=16), dataset=tiny_images())
    for _ in range(3):
        trainer.step()
    path = trainer.save(tmp_path / "generator", command="test")
    return trainer, path


def test_round_trip_gives_bit_identical_samples(trained):
    trainer, path = trained
    z, y = sample_latents(6, 8, seed=5), class_labels(6, 10, "balanced")
    before = trainer.generate(z, y)
    gan = load_checkpoint(path)
    after = gan.generate(z, y)
    assert torch.equal(before, after)
    assert gan.num_classes == 10 and gan.z_dim == 8 and gan.image_shape == (1, 28, 28)
    assert gan.discriminator is not None
    p = gan.discriminate(after, y)
    assert p.shape == (6,) and ((p >= 0) & (p <= 1)).all()
    meta = json.loads(path.with_suffix(".json").read_text())
    for key in ("model", "z_dim", "num_classes", "class_names", "image_shape", "dataset", "loss", "steps", "command"):
        assert key in meta
    assert meta["steps"] == 3 and meta["format"].startswith("gan_core.checkpoint")


def test_generate_rejects_class_out_of_range(trained):
    gan = load_checkpoint(trained[1])
    with pytest.raises(ValueError, match="out of range"):
        gan.generate(sample_latents(1, 8, seed=0), torch.tensor([10]))


def test_missing_files(tmp_path, trained):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.safetensors")
    path = trained[1]
    path.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(path)


def test_not_safetensors_and_pickles_are_rejected(tmp_path, trained):
    path = trained[1]
    meta = path.with_suffix(".json").read_bytes()
    bad = tmp_path / "bad.safetensors"
    torch.save({"x": torch.zeros(1)}, bad)  # a pickle-based file under a .safetensors name
    (tmp_path / "bad.json").write_bytes(meta)
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(bad)
    truncated = tmp_path / "trunc.safetensors"
    truncated.write_bytes(path.read_bytes()[:-50])
    (tmp_path / "trunc.json").write_bytes(meta)
    with pytest.raises(CheckpointError):
        load_checkpoint(truncated)


def test_json_that_lies_about_shapes(trained):
    path = trained[1]
    json_path = path.with_suffix(".json")
    meta = json.loads(json_path.read_text())
    meta["z_dim"] = 9
    json_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="shapes do not match"):
        load_checkpoint(path)
    meta["z_dim"], meta["model"] = 8, "unet"
    json_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="unknown model"):
        load_checkpoint(path)
    json_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def boom(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temp file left behind


def test_paths_and_resolution(tmp_path, trained):
    assert checkpoint_paths("a/b.safetensors") == checkpoint_paths("a/b.json") == checkpoint_paths("a/b")
    assert resolve_checkpoint(trained[1].parent) == trained[1]  # a run's --out folder
    with pytest.raises(CheckpointError, match="no pretrained model named"):
        resolve_checkpoint("no-such-model")


def test_toy_checkpoint(tmp_path):
    trainer = Trainer(TrainConfig(dataset="ring8", batch_size=32))
    trainer.step()
    gan = load_checkpoint(trainer.save(tmp_path / "ring"))
    assert gan.kind == "points" and gan.image_shape is None
    assert gan.generate(sample_latents(10, 2, seed=0)).shape == (10, 2)
