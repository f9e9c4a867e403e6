"""Shared test fixtures. Under CI=true a test that lacks its data or browser fails instead of skipping."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# No start-up warm-up in the tests' app runs (in-process AppTest and the servers they start): its ONNX exports in
# a background thread would compete with the tests and race torch's global tracing state (tests/
# test_browser_first_image.py tests the warm-up itself).
os.environ.setdefault("GAN_WARM_UP", "0")
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when something a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    require((SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), f"MNIST files in {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    require((DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
            "Fashion-MNIST from Debian's dataset-fashion-mnist package")
    return DEBIAN_FASHION


@pytest.fixture
def set_env(monkeypatch):
    """set_env(GAN_X=value, GAN_Y=None): set or unset environment settings for one test; `settings()`
    reads them afresh now, and the real environment again after the test."""
    from gan_core.settings import settings

    def set_values(**values) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        settings.cache_clear()

    yield set_values
    settings.cache_clear()


@pytest.fixture
def gan_in_process(capsys, caplog):
    """gan_in_process(*args): `gan ARGS` through the same main() in this process, as a CompletedProcess.

    For bad input, which stops before any training: a Python start imports torch, seconds on 2 cores, and
    test_gan_console_script_is_python_m_gan_core checks the real process's exit status and stderr. Warnings
    logged count as stderr lines, as they would in a process of its own."""
    from gan_core.cli.main import main

    def run(*args) -> subprocess.CompletedProcess:
        root_handlers = list(logging.getLogger().handlers)
        with caplog.at_level(logging.WARNING):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code
            finally:
                logging.getLogger().handlers[:] = root_handlers  # main()'s basicConfig must not outlive the call
        out = capsys.readouterr()
        logged = "".join(f"{r.levelname} {r.name}: {r.getMessage()}\n" for r in caplog.records)
        caplog.clear()
        return subprocess.CompletedProcess(args, code, out.out, out.err + logged)
    return run


@pytest.fixture(autouse=True)
def _torch_threads():
    """Tests run on 2 cores alongside each other's servers: keep torch to its default but deterministic."""
    import torch
    torch.manual_seed(0)
    yield


TRAIN_PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "train" / "page.py")


@pytest.fixture
def train_app(tmp_path, monkeypatch, set_env):
    """train_app(page=TRAIN_PAGE, query=None): fresh AppTests over a clean job registry and a temporary runs
    folder, at batch 64 (small, fast steps); every job they started is stopped, and checked stopped, after."""
    from streamlit.testing.v1 import AppTest

    import app_shared.models
    import app_shared.session
    from app_shared import jobs as jobs_mod
    monkeypatch.setattr(app_shared.session, "APP_RUNS_DIR", tmp_path)
    monkeypatch.setattr(app_shared.models, "APP_RUNS_DIR", tmp_path)
    set_env(GAN_MAX_JOBS=2)  # settings are read once: set_env makes them read this afresh
    jobs_mod.job_registry.clear()
    made = []

    def make(page: str = TRAIN_PAGE, query: dict | None = None) -> AppTest:
        at = AppTest.from_file(page, default_timeout=60)
        at.query_params.update(query or {})
        at.session_state["tr_batch_size"] = 64
        made.append(at)
        return at
    yield make
    for at in made:
        job = at.session_state["job"] if "job" in at.session_state else None
        if job is not None:
            job.stop(timeout=20)
            assert not job.is_alive()
    jobs_mod.job_registry().close()
    jobs_mod.job_registry.clear()
