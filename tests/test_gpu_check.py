"""benchmarks/gpu_check.py (make gpu-check): the dry run on the CPU takes every step the CUDA run takes,
with the packages a bare GPU machine has (Streamlit, torchvision and ONNX made unimportable here)."""
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from gan_core.io.checkpoint import list_pretrained, load_checkpoint
from gan_core.nn.models import MODEL_NAMES

REPO = Path(__file__).resolve().parent.parent
MISSING_THERE = ("streamlit", "torchvision", "onnx", "onnxruntime", "onnxscript", "altair", "pyarrow")


def run_without_app_packages(*args: str, timeout: float = 150) -> subprocess.CompletedProcess:
    """python -m benchmarks.gpu_check ARGS, in an interpreter where importing any of MISSING_THERE fails."""
    code = (f"import runpy, sys\nfor name in {MISSING_THERE!r}:\n    sys.modules[name] = None\n"
            f"sys.argv = ['gpu_check', *{list(args)!r}]\nrunpy.run_module('benchmarks.gpu_check', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check")
    done = run_without_app_packages("--out", str(out), "--dry-run-cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads((out / "gpu-check.json").read_text())


def test_dry_run_takes_every_step_within_a_minute(dry_run):
    _, report = dry_run
    assert report["ok"] and report["mode"] == "dry-run-cpu" and report["not_allowed_modules_imported"] == []
    assert report["seconds"] <= 60, report["step_seconds"]
    assert {row["model"] for row in report["throughput"]} == set(MODEL_NAMES)
    assert all(row["images_per_s"] > 0 and row["ok"] for row in report["throughput"])
    job = report["worker_job"]
    assert job["ok"] and job["worker_device"] == "cpu" and job["paused_state"] == "paused"
    assert job["steps_while_paused"] == 0 and job["resumed"] and job["stopped_state"] == "stopped"
    assert job["saved_steps"] == job["steps"] > job["paused_at"] and job["samples_finite"]
    ddp = report["torchrun"]
    assert ddp["ok"] and ddp["backend"] == "gloo" and ddp["world_size"] == 1 and ddp["ranks_equal"]
    assert ddp["steps"] == 10


def test_dry_run_retrains_every_shipped_model_and_measures_it_like_the_shipped_one(dry_run):
    out, report = dry_run
    rows = {row["name"]: row for row in report["retrain"]}
    assert set(rows) == set(list_pretrained())
    trained = [row for row in rows.values() if "skipped" not in row]
    assert {row["name"] for row in trained} >= {"mnist-cgan", "ring8"}
    for row in trained:
        assert row["steps"] == row["budget_steps"] and row["ended_by"] == "steps"
        assert row["new_metrics"]["n"] == row["shipped_metrics"]["n"] == 100
    cgan = rows["mnist-cgan"]
    for which in ("new_metrics", "shipped_metrics"):  # both classifiers, and the verdict of the worse
        metrics = cgan[which]
        assert {"class_accuracy", "judge_class_accuracy", "judged_class_accuracy", "judged_by"} <= set(metrics)
    assert cgan["shipped_metrics"]["judged_class_accuracy"] > 0.9 > cgan["new_metrics"]["judged_class_accuracy"]
    assert rows["ring8"]["shipped_metrics"]["modes_covered"] == 8
    files = sorted(p.name for p in out.iterdir())  # what the device tool brings back: at most 8 plain files
    assert len(files) <= 8 and files[0] == "gpu-check.json" and all(f.startswith("models-") for f in files[1:])
    listed = [name for archive in report["archives"] for name in archive["files"]]
    assert {f"{row['name']}.{suffix}" for row in trained for suffix in ("safetensors", "json", "png")} <= set(listed)
    with tarfile.open(out / report["archives"][0]["archive"]) as tar:
        tar.extractall(out / "unpacked", filter="data")
    gan = load_checkpoint(out / "unpacked" / "mnist-cgan.safetensors")
    assert gan.meta["steps"] == cgan["steps"] and gan.meta["gpu_check"]["ended_by"] == "steps"
    assert gan.meta["metrics"]["judged_class_accuracy"] == cgan["new_metrics"]["judged_class_accuracy"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the real check would run")
def test_without_cuda_it_says_so_and_exits_2(tmp_path):
    done = run_without_app_packages("--out", str(tmp_path / "o"), timeout=60)
    assert done.returncode == 2 and "no CUDA device" in done.stderr and "--dry-run-cpu" in done.stderr
    assert not (tmp_path / "o").exists()
