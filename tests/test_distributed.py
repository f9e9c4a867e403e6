"""DDP under torchrun, 2 CPU processes (gloo): one checkpoint, written once, and equal weights on both ranks.

Each rank writes its final weights to $GAN_DDP_DEBUG_DIR/rankN.safetensors (a test-only hook), so
the ranks are compared tensor by tensor here, not only by the hashes the checkpoint JSON records.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from gan_core.data.datasets import load_dataset
from gan_core.io.checkpoint import load_checkpoint
from gan_core.nn.models import build_models
from gan_core.train.distributed import DEBUG_DIR_ENV, launch_info, weights_hash

REPO = Path(__file__).resolve().parent.parent
TORCHRUN = Path(sys.executable).with_name("torchrun")


def torchrun(args: list, debug_dir: Path, via_module: bool = False, timeout: float = 150):
    launcher = [sys.executable, "-m", "torch.distributed.run"] if via_module or not TORCHRUN.exists() \
        else [str(TORCHRUN)]
    env = dict(os.environ, OMP_NUM_THREADS="1", **{DEBUG_DIR_ENV: str(debug_dir)})
    env.pop("WORLD_SIZE", None)
    cmd = [*launcher, "--standalone", "--nproc_per_node", "2", "-m", "gan_core", "train", "--no-progress",
           *map(str, args)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def check_single_equal_checkpoint(result, out: Path, debug_dir: Path, steps: int) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    # exactly one checkpoint, written by rank 0 only, and no temp files left behind
    assert sorted(p.name for p in out.iterdir()) == ["generator.json", "generator.png", "generator.safetensors"]
    assert result.stdout.count("wrote ") == 1, result.stdout
    assert result.stderr.count("training ") == 1, result.stderr[-3000:]
    meta = json.loads((out / "generator.json").read_text())
    dist = meta["distributed"]
    assert dist["world_size"] == 2 and dist["backend"] == "gloo" and meta["steps"] == steps
    assert len(dist["weight_hashes"]) == 2 and dist["ranks_equal"] is True
    assert dist["weight_hashes"][0] == dist["weight_hashes"][1]
    # the ranks' own weights, tensor by tensor, and the saved checkpoint equal to them
    ranks = [load_file(str(debug_dir / f"rank{r}.safetensors")) for r in (0, 1)]
    saved = load_file(str(out / "generator.safetensors"))
    assert set(ranks[0]) == set(ranks[1]) == set(saved)
    for name in saved:
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        assert torch.equal(ranks[0][name], saved[name]), name
    gan = load_checkpoint(out / "generator.safetensors")
    initial, _ = build_models(meta["model"], meta["z_dim"], gan.image_shape, gan.num_classes)
    moved = [not torch.equal(a, b) for a, b in zip(gan.generator.state_dict().values(),
                                                   initial.state_dict().values(), strict=True)]
    assert any(moved), "training changed nothing"
    return meta


def test_torchrun_ring8_two_ranks(tmp_path):
    out, debug = tmp_path / "out", tmp_path / "debug"
    result = torchrun(["--dataset", "ring8", "--steps", 30, "--batch-size", 64, "--out", out], debug)
    meta = check_single_equal_checkpoint(result, out, debug, steps=30)
    assert meta["command"].startswith("torchrun --nproc_per_node 2 -m gan_core train")
    points = load_checkpoint(out / "generator").generate(torch.randn(100, 2))
    assert points.shape == (100, 2) and torch.isfinite(points).all()


def test_python_m_torch_distributed_run_on_mnist_slice(tmp_path, mnist_dir):
    """cgan-mlp has BatchNorm in G: running stats are averaged over ranks before saving."""
    out, debug = tmp_path / "out", tmp_path / "debug"
    result = torchrun(["--dataset", "mnist", "--data-dir", mnist_dir, "--data-limit", 256, "--model", "cgan-mlp",
                       "--batch-size", 32, "--steps", 12, "--out", out], debug, via_module=True)
    meta = check_single_equal_checkpoint(result, out, debug, steps=12)
    assert meta["distributed"]["batch_size_per_rank"] == 32
    images = load_checkpoint(out / "generator").generate(torch.randn(10, meta["z_dim"]), torch.arange(10))
    assert images.shape == (10, 1, 28, 28)


def test_divergence_under_torchrun_keeps_last_good_checkpoint(tmp_path, mnist_dir):
    out, debug = tmp_path / "out", tmp_path / "debug"
    result = torchrun(["--dataset", "mnist", "--data-dir", mnist_dir, "--data-limit", 256, "--model", "mlp",
                       "--loss", "lsgan", "--lr", 1.0, "--batch-size", 32, "--steps", 2000, "--out", out], debug)
    assert result.returncode != 0 and "diverged" in result.stderr, result.stderr[-3000:]
    meta = json.loads((out / "generator.json").read_text())
    assert meta["diverged"] is True and meta["steps"] < 2000
    gan = load_checkpoint(out / "generator.safetensors")  # finite: load_checkpoint rejects NaN weights
    assert torch.isfinite(gan.generate(torch.randn(4, meta["z_dim"]))).all()


# ---------------------------------------------------------------- in-process pieces

def test_not_under_torchrun_means_single_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert launch_info() is None
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert launch_info() is None
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    info = launch_info()
    assert (info.rank, info.world_size, info.local_rank, info.local_world_size, info.is_main) == (3, 4, 1, 2, False)


def test_shards_are_disjoint_and_cover_the_data(tmp_path):
    from gan_core.data.datasets import Dataset
    images = torch.arange(10, dtype=torch.float32).view(10, 1, 1, 1)
    full = Dataset("t", "image", (1, 1, 1), ("a", "b"), images=images, labels=torch.arange(10) % 2)
    a, b = full.shard(0, 2), full.shard(1, 2)
    got_a, got_b = set(a.images.flatten().tolist()), set(b.images.flatten().tolist())
    assert not got_a & got_b and got_a | got_b == set(range(10))
    assert torch.equal(a.labels, a.images.flatten().long() % 2)
    assert load_dataset("ring8").shard(1, 2).name == "ring8"  # toys are infinite: not split


def test_weights_hash_sees_any_change():
    g, d = build_models("toy", 2, None, None)
    before = weights_hash(g, d)
    assert weights_hash(g, d) == before
    with torch.no_grad():
        next(d.parameters()).view(-1)[0] += 1e-6
    assert weights_hash(g, d) != before
