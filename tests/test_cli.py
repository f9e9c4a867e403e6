"""The command line end to end: a short real training run, sampling, errors and exit codes."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.data.datasets import toy_modes
from gan_core.eval.metrics import toy_mode_metrics

REPO = Path(__file__).resolve().parent.parent


def gan_core_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "gan_core", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ring")
    result = gan_core_cli("train", "--dataset", "ring8", "--model", "toy", "--steps", 2500, "--seed", 1,
                          "--out", out, "--no-progress")
    assert result.returncode == 0, result.stderr
    return out, result


def test_short_ring8_run_covers_most_modes(ring_run, tmp_path):
    out, result = ring_run
    for name in ("generator.safetensors", "generator.json", "generator.png"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "generator.json").read_text())
    assert meta["steps"] == 2500 and meta["dataset"] == "ring8" and "--steps 2500" in meta["command"]
    npz = tmp_path / "s.npz"
    sampled = gan_core_cli("sample", "--model", out, "--n", 2000, "--seed", 3, "--out", npz)
    assert sampled.returncode == 0, sampled.stderr
    points = np.load(npz)["points"]
    assert points.shape == (2000, 2) and points.dtype == np.float32
    modes, std = toy_modes("ring8")
    metrics = toy_mode_metrics(torch.from_numpy(points), modes, std)
    assert metrics["modes_covered"] >= 6, metrics


def test_sample_png_and_reproducible_npz(ring_run, tmp_path):
    out, _ = ring_run
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        assert gan_core_cli("sample", "--model", out / "generator.safetensors", "--n", 50, "--seed", 9,
                            "--out", path).returncode == 0
    assert np.array_equal(np.load(a)["points"], np.load(b)["points"])
    png = tmp_path / "g.png"
    assert gan_core_cli("sample", "--model", out, "--n", 100, "--out", png).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_conditional_image_sampling(tmp_path, mnist_dir):
    out = tmp_path / "c"
    result = gan_core_cli("train", "--dataset", "mnist", "--data-dir", mnist_dir, "--model", "cgan-mlp",
                          "--steps", 20, "--data-limit", 512, "--out", out, "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "10k test split" in result.stderr  # the note about MNIST's test split is shown
    npz = tmp_path / "s.npz"
    assert gan_core_cli("sample", "--model", out, "--n", 30, "--labels", "balanced", "--out", npz).returncode == 0
    data = np.load(npz)
    assert data["images"].shape == (30, 1, 28, 28) and data["images"].dtype == np.float32
    assert data["images"].min() >= -1 and data["images"].max() <= 1
    assert data["labels"].dtype == np.int64 and data["labels"].tolist() == [i // 3 for i in range(30)]
    three = tmp_path / "k.npz"
    assert gan_core_cli("sample", "--model", out, "--n", 4, "--labels", 3, "--out", three).returncode == 0
    assert np.load(three)["labels"].tolist() == [3, 3, 3, 3]
    bad = gan_core_cli("sample", "--model", out, "--n", 4, "--labels", 10, "--out", three)
    assert bad.returncode == 2 and "out of range" in bad.stderr


@pytest.mark.parametrize("args,needle", [
    (["--dataset", "cifar"], "unknown dataset"),
    (["--model", "unet"], "unknown model"),
    (["--loss", "focal"], "unknown loss"),
    (["--lr", "0"], "lr_g must be"),
    (["--lr", "nan"], "lr_g must be"),
    (["--batch-size", "0"], "batch size"),
    (["--z-dim", "0"], "z_dim"),
])
def test_bad_train_input_exits_2_with_one_line(tmp_path, args, needle, gan_in_process):
    result = gan_in_process("train", "--steps", 1, "--out", tmp_path / "x", *args)
    assert result.returncode == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()  # nothing written


def test_missing_checkpoint_exits_2(tmp_path, gan_in_process):
    result = gan_in_process("sample", "--model", tmp_path / "nope.safetensors", "--n", 1, "--out", tmp_path / "a.npz")
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_divergence_exits_3(tmp_path, mnist_dir):
    result = gan_core_cli("train", "--dataset", "mnist", "--model", "mlp", "--loss", "lsgan", "--lr", 1.0,
                          "--data-limit", 256, "--batch-size", 32, "--steps", 2000, "--out", tmp_path, "--no-progress")
    assert result.returncode == 3 and "diverged" in result.stderr
    assert (tmp_path / "generator.safetensors").is_file()  # the last good weights were kept


def test_train_from_a_preset_with_overrides(tmp_path):
    """`train --preset SLUG`: the preset's fields, with the flags given on top."""
    from gan_core.teach.presets import get_preset

    preset = get_preset("ring8-label-smoothing")
    out = tmp_path / "p"
    result = gan_core_cli("train", "--preset", preset.slug, "--steps", 15, "--lr-d", 5e-4, "--out", out,
                          "--no-progress")
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "generator.json").read_text())["config"]
    assert config["label_smoothing"] == preset.settings["label_smoothing"] == 0.1  # from the preset
    assert config["lr_g"] == preset.settings["lr_g"] == 1e-3 and config["dataset"] == "ring8"
    assert config["lr_d"] == 5e-4 and config["steps"] == 15  # the flags win
    assert (out / "generator.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_preset_is_one_line_listing_the_slugs(tmp_path, gan_in_process):
    from gan_core.teach.presets import PRESETS

    result = gan_in_process("train", "--preset", "no-such-preset", "--steps", 5, "--out", tmp_path / "x")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "unknown preset 'no-such-preset'" in result.stderr and all(slug in result.stderr for slug in PRESETS)
    assert not (tmp_path / "x").exists()


def test_gan_console_script_is_python_m_gan_core(tmp_path):
    """pyproject's `gan` entry point runs the same main as `python -m gan_core`: the same help, the same errors."""
    from importlib.metadata import entry_points

    from gan_core.cli.main import main

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "gan"]
    assert script.value == "gan_core.cli.main:main" and script.load() is main
    gan = Path(sys.executable).with_name("gan")
    assert gan.is_file(), f"{gan} is missing: install the project (pip install -e .)"
    for args in (["--help"], ["train", "--help"]):
        via_script = subprocess.run([str(gan), *args], cwd=REPO, capture_output=True, text=True, timeout=120)
        via_module = gan_core_cli(*args, timeout=120)
        assert via_script.returncode == via_module.returncode == 0, via_script.stderr
        assert via_script.stdout == via_module.stdout
        if args == ["--help"]:
            top_help = via_module.stdout
    assert all(name in top_help for name in ("train", "sample", "eval", "train-classifier"))
    assert "--preset SLUG" in via_module.stdout
    args = ["sample", "--model", tmp_path / "nope.safetensors", "--out", tmp_path / "x.npz"]
    bad = subprocess.run([str(gan), *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and bad.stderr == gan_core_cli(*args).stderr


def test_save_at_seconds_writes_the_shorter_runs_checkpoints(tmp_path):
    """`--save-at-seconds 1,2` in a 3 s run: two more checkpoints, each recording the --seconds run it stands for."""
    out = tmp_path / "s"
    result = gan_core_cli("train", "--dataset", "ring8", "--model", "toy", "--seconds", 3, "--save-at-seconds", "2,1",
                          "--num-threads", 1, "--out", out, "--no-progress")
    assert result.returncode == 0, result.stderr
    final = json.loads((out / "generator.json").read_text())
    steps = []
    for at in (1, 2):
        meta = json.loads((out / f"generator-at-{at}s.json").read_text())
        assert meta["saved_at_seconds"] == at and meta["train_seconds"] >= at
        assert f"--seconds {float(at)}" in meta["command"] and "--save-at" not in meta["command"]
        assert (out / f"generator-at-{at}s.png").read_bytes()[:4] == b"\x89PNG"
        steps.append(meta["steps"])
    assert 0 < steps[0] < steps[1] < final["steps"]


@pytest.mark.parametrize("args,needle", [
    (["--seconds", 2, "--save-at-seconds", "x"], "expected seconds like 60,180"),
    (["--seconds", 2, "--save-at-seconds", "0"], "expected positive seconds"),
    (["--seconds", 2, "--save-at-seconds", "5"], "must be below --seconds 2"),
    (["--dataset", "mnist", "--model", "progan", "--seconds", 9, "--save-at-seconds", "2"], "growing model"),
    (["--dataset", "ring8", "--lr-decay", "0.5", "--seconds", 9, "--save-at-seconds", "2"], "lr decay (0.5 of"),
    (["--dataset", "ring8", "--lr-decay", "1.5", "--seconds", 9], "lr_decay must be in [0, 1]"),
])
def test_bad_save_at_seconds_exits_2(tmp_path, args, needle, gan_in_process):
    result = gan_in_process("train", "--out", tmp_path / "x", *args)
    assert result.returncode == 2 and needle in result.stderr
    assert not (tmp_path / "x").exists()


def test_eval_record_writes_metrics_into_the_checkpoint_json(ring_run, tmp_path):
    import shutil

    out, _ = ring_run
    for suffix in (".safetensors", ".json"):
        shutil.copy(out / f"generator{suffix}", tmp_path / f"g{suffix}")
    before = json.loads((tmp_path / "g.json").read_text())
    weights = (tmp_path / "g.safetensors").read_bytes()
    result = gan_core_cli("eval", "--model", tmp_path / "g", "--n", 500, "--record", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    after = json.loads((tmp_path / "g.json").read_text())
    assert after["metrics"]["modes_covered"] == printed["modes_covered"] and after["metrics"]["n"] == 500
    assert after["metrics"]["eval_command"].endswith("--n 500 --seed 0 --labels balanced")
    assert {k: v for k, v in after.items() if k != "metrics"} == {k: v for k, v in before.items() if k != "metrics"}
    assert (tmp_path / "g.safetensors").read_bytes() == weights
