"""Shared test fixtures. Under CI=true a test that lacks its data or browser fails instead of skipping."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
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


@pytest.fixture(autouse=True)
def _torch_threads():
    """Tests run on 2 cores alongside each other's servers: keep torch to its default but deterministic."""
    import torch
    torch.manual_seed(0)
    yield
