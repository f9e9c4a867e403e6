"""Every repository path, module, `make` target and link the docs name exists.

The docs are README.md, docs/*.md, ARCHITECTURE.md and benchmarks/RESULTS.md. A file is renamed often (the harness,
the training UI and Explore's JS moved in one week); this test fails until the docs follow.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "benchmarks" / "RESULTS.md",
        *sorted((ROOT / "docs").glob("*.md"))]
# Where the app or the tests write at run time (git-ignored): the docs may name files there that a clone lacks
GENERATED = ("runs/", "tests/artifacts/", "static/models/", "benchmarks/results/tmp/", ".venv/")
PACKAGES = ("gan_core", "app_shared", "app_pages", "benchmarks", "tools", "tests")
CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
MAKE = re.compile(r"\bmake ([a-z][\w.\-/]*)")
MODULE = re.compile(r"^(?:python -m )?((?:" + "|".join(PACKAGES) + r")(?:\.\w+)+)")


def top_level() -> set[str]:
    return {p.name for p in ROOT.iterdir() if not p.name.startswith(".git")} - {".venv", "runs", "node_modules"}


def repo_paths(text: str) -> set[str]:
    """Backticked words that start with a top-level entry of the repository, e.g. `gan_core/train/config.py`."""
    tops = top_level()
    found = set()
    for span in CODE.findall(text):
        for word in span.split():
            word = word.rstrip(".,;:)").split("::")[0]
            if "/" not in word and word not in tops:
                continue
            if any(c in word for c in "<>*{}$…") or re.search(r"/[A-Z]+(?:[./]|$)", word) or word.startswith("/"):
                continue  # a placeholder (NAME, <page>, OUT/...), a glob or an absolute path
            if word.split("/")[0] in tops and not word.startswith(GENERATED):
                found.add(word)
    return found


def links(text: str) -> set[str]:
    return {t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t) and not t.startswith("#")}


def make_targets(text: str) -> set[str]:
    return set(MAKE.findall(text)) - {"sure", "a", "the", "it"}


def modules(text: str) -> set[str]:
    found = set()
    for span in CODE.findall(text):
        match = MODULE.match(span.strip())
        if match:
            found.add(match.group(1))
    return found


@functools.cache
def defined_names(path: Path) -> set[str]:
    """Top-level functions, classes and assignments of a module, and the methods and fields of its classes."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def module_exists(dotted: str) -> bool:
    """`a.b.c` is a module or package, or a module followed by names it defines (gan_core.x.func)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if source.is_file():
            rest = parts[cut:]
            return not rest or rest[0] in defined_names(source) or (base.is_dir() and base.joinpath(rest[0]).exists())
    return False


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a markdown file."""
    slugs = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return slugs


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_and_link_exists(doc):
    text = doc.read_text()
    missing = sorted(p for p in repo_paths(text) if not (ROOT / p).exists())
    for target in links(text):
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve()
        if not file.exists():
            missing.append(f"link {target}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            missing.append(f"link {target} (no such heading)")
    assert not missing, f"{doc.relative_to(ROOT)} names what does not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_and_module_exists(doc):
    text = doc.read_text()
    makefile = (ROOT / "Makefile").read_text()
    missing = [f"make {t}" for t in sorted(make_targets(text))
               if not re.search(rf"^{re.escape(t)}\s*:", makefile, re.M)]
    missing += [m for m in sorted(modules(text)) if not module_exists(m)]
    assert not missing, f"{doc.relative_to(ROOT)} names what does not exist: {missing}"


def test_the_checker_finds_what_is_missing():
    text = ("`gan_core/train/config.py` `gan_core/no_such.py` `OUT/NAME.json` `runs/x.png` "
            "`python -m benchmarks.no_such` `gan_core.train.config.TrainConfig` [x](docs/nowhere.md) make run")
    assert repo_paths(text) == {"gan_core/train/config.py", "gan_core/no_such.py"}
    assert links(text) == {"docs/nowhere.md"}
    assert make_targets(text) == {"run"}
    assert modules(text) == {"benchmarks.no_such", "gan_core.train.config.TrainConfig"}
    assert module_exists("gan_core.train.config.TrainConfig") and not module_exists("benchmarks.no_such")
    assert not module_exists("gan_core.train.config.NoSuchThing")


def test_the_readme_fits_a_screen_or_two():
    assert len((ROOT / "README.md").read_bytes()) <= 10_000
