"""The harness is one package (tools/harness) that tests and benchmarks share: benchmarks and the harness import
nothing from the test suite, and the app imports neither."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def top_level_imports(path: Path) -> set[str]:
    """The first component of every absolute import in a file (lazy imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def offenders(folders: tuple[str, ...], forbidden: set[str]) -> list[str]:
    return sorted(f"{p.relative_to(REPO)} imports {', '.join(sorted(top_level_imports(p) & forbidden))}"
                  for folder in folders for p in (REPO / folder).rglob("*.py") if top_level_imports(p) & forbidden)


def test_benchmarks_and_the_harness_do_not_import_the_tests():
    assert (REPO / "tools" / "harness" / "streamlit_server.py").is_file()
    assert offenders(("benchmarks", "tools"), {"tests"}) == []


def test_the_app_does_not_import_the_harness_or_the_tests():
    assert offenders(("gan_core", "app_shared", "app_pages"), {"tools", "tests", "benchmarks"}) == []
    assert not top_level_imports(REPO / "app.py") & {"tools", "tests", "benchmarks"}


def test_the_check_sees_an_import(tmp_path):
    bad = tmp_path / "bench.py"
    bad.write_text("def f():\n    from tests.conftest import require\n    import tools.harness.waiting\n")
    assert top_level_imports(bad) == {"tests", "tools"}
