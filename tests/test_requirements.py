"""requirements.txt / requirements-dev.txt are pyproject.toml's dependencies, compiled and pinned (`make requirements`).

The test fails when someone edits pyproject.toml without re-pinning, hand-edits a pin, or the venv holds other
versions than the pins (so the tests ran on a set nobody else would install).
"""
from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(name: str, text: str | None = None) -> dict[str, list[Requirement]]:
    """The requirement lines of a compiled file by canonical name (a name may be pinned twice, under exclusive
    markers), after checking that every line is an exact pin."""
    out: dict[str, list[Requirement]] = {}
    for line in (text if text is not None else (ROOT / name).read_text()).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{name}: {line!r} is not pinned with =="
        out.setdefault(canonicalize_name(req.name), []).append(req)
    return out


def pin_here(reqs: list[Requirement], extra: str = "") -> Requirement | None:
    """The pin that applies on this interpreter and platform."""
    env = dict(default_environment(), extra=extra)
    live = [r for r in reqs if r.marker is None or r.marker.evaluate(env)]
    assert len(live) <= 1, f"two pins apply at once: {live}"
    return live[0] if live else None


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def drift(file: str, declared: list[str], pinned: dict[str, list[Requirement]]) -> list[str]:
    """What in pyproject.toml's `declared` list the pinned file lacks or pins outside its specifier."""
    problems = []
    for text in declared:
        want = Requirement(text)
        reqs = pinned.get(canonicalize_name(want.name))
        if not reqs:
            problems.append(f"{want.name} is in pyproject.toml but not in {file}")
        for req in reqs or ():
            version = next(iter(req.specifier)).version
            if not want.specifier.contains(version, prereleases=True):
                problems.append(f"{file} pins {req.name}=={version}, outside pyproject.toml's {want}")
    return problems


def test_every_pyproject_dependency_is_pinned_within_its_specifier():
    project = pyproject()
    for file, declared in (("requirements.txt", project["dependencies"]),
                           ("requirements-dev.txt", project["dependencies"] + project["optional-dependencies"]["dev"])):
        problems = drift(file, declared, pins(file))
        assert not problems, "; ".join(problems) + ": run `make requirements`"


def test_the_check_sees_drift():
    pinned = pins("x.txt", "torch==2.14.1\nnumpy==2.4.6 ; python_full_version < '3.12'\n")
    assert drift("x.txt", ["torch==2.14.1", "numpy"], pinned) == []
    assert drift("x.txt", ["torch==2.15.0", "tqdm"], pinned) == [
        "x.txt pins torch==2.14.1, outside pyproject.toml's torch==2.15.0",
        "tqdm is in pyproject.toml but not in x.txt"]
    with pytest.raises(AssertionError, match="not pinned"):
        pins("x.txt", "numpy>=2\n")


def test_dev_file_pins_the_app_file_at_the_same_versions():
    app, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    for name, reqs in app.items():
        assert name in dev, f"{name} is pinned in requirements.txt but not in requirements-dev.txt"
        assert sorted(map(str, reqs)) == sorted(map(str, dev[name])), f"{name}: {reqs} vs {dev[name]}"
    assert set(dev) - set(app), "requirements-dev.txt adds no test tool"


def test_both_files_say_how_they_were_compiled():
    for file in ("requirements.txt", "requirements-dev.txt"):
        head = (ROOT / file).read_text().splitlines()[:2]
        assert "uv pip compile pyproject.toml" in head[1] and f"-o {file}" in head[1], head


def test_the_venv_holds_the_pinned_versions():
    """What pytest runs on is what `pip install -r requirements-dev.txt` installs."""
    wrong = []
    for name, reqs in pins("requirements-dev.txt").items():
        req = pin_here(reqs)
        if req is None:
            continue
        want = next(iter(req.specifier)).version
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have != want:
            wrong.append(f"{name}: pinned {want}, installed {have}")
    assert not wrong, "the venv differs from requirements-dev.txt (make .venv/.installed-dev): " + "; ".join(wrong)


def test_the_makefile_installs_from_the_pinned_files():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --disable-pip-version-check -r requirements.txt" in makefile
    assert "pip install --disable-pip-version-check -r requirements-dev.txt" in makefile
    assert "--no-deps -e ." in makefile, "gan_core itself is installed without resolving anything again"
