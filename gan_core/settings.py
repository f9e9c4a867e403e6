"""Every environment setting of the engine and the app, read and checked in one place.

`settings()` reads them once (the app at start-up, the command line before a command runs) and
refuses a bad value with a `SettingsError` whose one-line message names the variable, the value
and what is allowed, instead of each module guessing a fallback or crashing at import.
torchrun's own launch variables (WORLD_SIZE, RANK, LOCAL_RANK, ...) are not settings: they are
read where a launch is joined (`gan_core.train.distributed`).
"""
from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """An environment setting has a value that is not allowed; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """The environment settings, parsed. The README's "Settings" section lists them."""

    data_dir: Path | None = None  # GAN_DATA_DIR: an extra folder searched for MNIST / Fashion-MNIST
    download_dir: Path = Path.home() / ".cache" / "gan_core"  # GAN_DOWNLOAD_DIR: downloads; eval's feature stats
    app_runs_dir: Path = REPO_ROOT / "runs" / "app"  # GAN_APP_RUNS_DIR: the app's per-session checkpoints
    max_jobs: int | None = None  # GAN_MAX_JOBS: None = no count cap (the job queue's measured room decides)
    max_job_seconds: float = 1800.0  # GAN_MAX_JOB_SECONDS: wall-clock length of one training job
    idle_timeout: float = 120.0  # GAN_IDLE_TIMEOUT: seconds before a closed tab's job is stopped
    job_nice: int = 10  # GAN_JOB_NICE: how much lower the training workers' CPU priority is (0..19)
    cpu_turns: bool = True  # GAN_CPU_TURNS: short page computations take turns (app_shared/cpu_turns.py)
    warm_up: bool = True  # GAN_WARM_UP: at start, prepare Explore's models in a background thread (tests: 0)
    ddp_debug_dir: Path | None = None  # GAN_DDP_DEBUG_DIR: tests only; each DDP rank writes its weights here
    ray_address: str | None = None  # GAN_RAY_ADDRESS: a Ray cluster ("auto", "HOST:PORT", "ray://..."); None = local
    ray_job_cpus: float = 1.0  # GAN_RAY_JOB_CPUS: CPUs each training actor asks the cluster for
    ray_job_gpus: float = 0.0  # GAN_RAY_JOB_GPUS: GPUs each training actor asks for (a fraction is allowed)
    ray_namespace: str = "gan-playground"  # GAN_RAY_NAMESPACE: this app's named actors live here


class _Reader:
    """Parses one variable at a time from `environ`; every refusal has the same shape of message."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    @staticmethod
    def refuse(name: str, value: str, allowed: str) -> SettingsError:
        return SettingsError(f"{name}={value!r} is not allowed: it must be {allowed}")

    def seconds(self, name: str, default: float) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        allowed = f"a finite number of seconds above 0 (unset: {default:g})"
        try:
            value = float(raw)
        except ValueError:
            raise self.refuse(name, raw, allowed) from None
        if not (math.isfinite(value) and value > 0):
            raise self.refuse(name, raw, allowed)
        return value

    def whole(self, name: str, default: int | None, minimum: int, maximum: int | None = None,
              unset: str = "") -> int | None:
        raw = self._raw(name)
        if raw is None:
            return default
        span = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        allowed = f"a whole number {span} (unset: {unset or default})"
        try:
            value = int(raw)
        except ValueError:
            raise self.refuse(name, raw, allowed) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise self.refuse(name, raw, allowed)
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise self.refuse(name, raw, f"1 or 0 (also true/false, yes/no, on/off; unset: {int(default)})")

    def amount(self, name: str, default: float, minimum: float, maximum: float, above_minimum: bool = False) -> float:
        """A finite number in [minimum, maximum] (or (minimum, maximum] with above_minimum): CPUs, GPU fractions."""
        raw = self._raw(name)
        if raw is None:
            return default
        low = f"above {minimum:g}" if above_minimum else f"at least {minimum:g}"
        allowed = f"a number {low} and at most {maximum:g}, fractions allowed (unset: {default:g})"
        try:
            value = float(raw)
        except ValueError:
            raise self.refuse(name, raw, allowed) from None
        if not math.isfinite(value) or value > maximum or value < minimum or (above_minimum and value == minimum):
            raise self.refuse(name, raw, allowed)
        return value

    def ray_address(self, name: str) -> str | None:
        """"auto", "local", HOST:PORT or ray://HOST:PORT: what ray.init(address=...) accepts."""
        raw = self._raw(name)
        if raw is None or raw in ("auto", "local") or re.fullmatch(r"(ray://)?[A-Za-z0-9.\-\[\]:]+:\d{1,5}", raw):
            return raw
        raise self.refuse(name, raw, '"auto", "local", HOST:PORT or ray://HOST:PORT (unset: jobs run as local '
                                     'processes)')

    def word(self, name: str, default: str) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", raw):
            raise self.refuse(name, raw, f"letters, digits, '_', '-' or '.', at most 64 (unset: {default})")
        return raw

    def folder(self, name: str, default: Path | None, must_exist: bool = False) -> Path | None:
        raw = self._raw(name)
        if raw is None:
            return default
        path = Path(raw).expanduser()
        if path.exists() and not path.is_dir():
            raise self.refuse(name, raw, "a folder, and this is a file")
        if must_exist and not path.is_dir():
            raise self.refuse(name, raw, "an existing folder, and there is none at this path (or leave it unset)")
        return path


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Parse and check every setting in `environ`; raise SettingsError on the first bad value."""
    read = _Reader(environ)
    defaults = Settings()
    return Settings(
        data_dir=read.folder("GAN_DATA_DIR", None, must_exist=True),
        download_dir=read.folder("GAN_DOWNLOAD_DIR", defaults.download_dir),
        app_runs_dir=read.folder("GAN_APP_RUNS_DIR", defaults.app_runs_dir),
        max_jobs=read.whole("GAN_MAX_JOBS", None, minimum=1, unset="no cap: the measured room decides"),
        max_job_seconds=read.seconds("GAN_MAX_JOB_SECONDS", defaults.max_job_seconds),
        idle_timeout=read.seconds("GAN_IDLE_TIMEOUT", defaults.idle_timeout),
        job_nice=read.whole("GAN_JOB_NICE", defaults.job_nice, minimum=0, maximum=19),
        cpu_turns=read.flag("GAN_CPU_TURNS", defaults.cpu_turns),
        warm_up=read.flag("GAN_WARM_UP", defaults.warm_up),
        ddp_debug_dir=read.folder("GAN_DDP_DEBUG_DIR", None),
        ray_address=read.ray_address("GAN_RAY_ADDRESS"),
        ray_job_cpus=read.amount("GAN_RAY_JOB_CPUS", defaults.ray_job_cpus, minimum=0.0, maximum=1024.0,
                                 above_minimum=True),
        ray_job_gpus=read.amount("GAN_RAY_JOB_GPUS", defaults.ray_job_gpus, minimum=0.0, maximum=64.0),
        ray_namespace=read.word("GAN_RAY_NAMESPACE", defaults.ray_namespace),
    )


@functools.cache
def settings() -> Settings:
    """This process's settings, read from os.environ on first use and kept (tests: settings.cache_clear())."""
    return load_settings(os.environ)
