"""GAN_RAY_* settings are read and refused like the others, and RayJob offers every public member WorkerJob does
(pages cannot tell the two apart). Fast: no cluster (that is tests/test_ray_job.py, `make test-cluster`)."""
import inspect

import pytest

from gan_core import WorkerJob
from gan_core.settings import SettingsError, load_settings
from gan_core.train.ray_job import RayJob, check_token


def test_ray_settings_are_read_and_checked():
    s = load_settings({"GAN_RAY_ADDRESS": "127.0.0.1:6379", "GAN_RAY_JOB_CPUS": "2", "GAN_RAY_JOB_GPUS": "0.25"})
    assert (s.ray_address, s.ray_job_cpus, s.ray_job_gpus, s.ray_namespace) == ("127.0.0.1:6379", 2.0, 0.25,
                                                                                 "gan-playground")
    assert load_settings({}).ray_address is None, "unset: jobs run as local processes"
    assert load_settings({"GAN_RAY_ADDRESS": "ray://head.example:10001"}).ray_address == "ray://head.example:10001"
    for name, value in [("GAN_RAY_JOB_CPUS", "0"), ("GAN_RAY_JOB_GPUS", "-0.5"), ("GAN_RAY_JOB_GPUS", "nan"),
                        ("GAN_RAY_ADDRESS", "my cluster"), ("GAN_RAY_NAMESPACE", "../x")]:
        with pytest.raises(SettingsError, match=name):
            load_settings({name: value})


def test_ray_job_has_worker_jobs_interface():
    def public(cls):
        return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
    missing = public(WorkerJob) - public(RayJob)
    assert not missing, f"RayJob lacks {missing}"
    worker_args = list(inspect.signature(WorkerJob.__init__).parameters)
    assert list(inspect.signature(RayJob.__init__).parameters)[:len(worker_args)] == worker_args


def test_tokens_are_checked_before_they_name_an_actor():
    assert check_token("abcDEF-123_xyz") == "abcDEF-123_xyz"
    for bad in ("", "short", "has space in it", "../../etc/passwd", "x" * 200):
        with pytest.raises(ValueError):
            check_token(bad)


def test_the_cluster_requirements_pin_the_extra_and_agree_with_the_dev_pins():
    """requirements-cluster.txt (`make requirements`; `make test-cluster` installs it) = requirements-dev.txt plus
    the `cluster` extra, compiled with the dev pins as constraints: the same versions, plus Ray and its needs."""
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parent.parent

    def pins(name):
        out = {}
        for line in (root / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                req = Requirement(line)
                out.setdefault(req.name.lower(), set()).add(str(req))
        return out

    dev, cluster = pins("requirements-dev.txt"), pins("requirements-cluster.txt")
    assert "--extra cluster" in (root / "requirements-cluster.txt").read_text().splitlines()[1]
    assert {n: v for n, v in dev.items() if cluster.get(n) != v} == {}, "run `make requirements`"
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["cluster"]
    for text in extra:
        want = Requirement(text)
        pinned = [Requirement(r) for r in cluster.get(want.name.lower(), ())]
        assert pinned and all(want.specifier.contains(next(iter(r.specifier)).version) for r in pinned), want
