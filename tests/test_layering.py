"""The layers point one way: app pages -> app_shared -> gan_core, and no import cycle anywhere.

No page imports another page (what two pages share lives in app_shared), and gan_core holds no UI choice (see
`ui_choices`), so app_shared takes none from gan_core.teach or anywhere else in the engine.

Every import counts, including the ones inside functions (a lazy import is still a dependency).
Run on its own: `python -m pytest tests/test_layering.py -q`.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("gan_core", "app_shared", "app_pages")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules that this file imports (resolved to modules, not to names inside them)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def package_graph(graph: dict[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """gan_core.train.job -> gan_core.train: the graph between subpackages (a package's __init__ re-exports are
    left out)."""
    def group(name: str) -> str:
        return ".".join(name.split(".")[:depth])

    inits = {n for n in graph if (REPO / n.replace(".", "/") / "__init__.py").exists()}
    out: dict[str, set[str]] = {}
    for name, deps in graph.items():
        if name in inits:
            continue
        out.setdefault(group(name), set()).update(group(d) for d in deps if group(d) != group(name) and d not in inits)
    return out


def test_no_import_cycle_between_modules():
    assert find_cycle(import_graph()) is None


def test_no_import_cycle_between_gan_core_subpackages():
    graph = {k: v for k, v in package_graph(import_graph()).items() if k.startswith("gan_core")}
    assert find_cycle(graph) is None


def test_the_engine_knows_nothing_of_the_app_or_streamlit():
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith("gan_core"):
            assert not [d for d in deps if d.startswith(("app_shared", "app_pages"))], name
    for path in (REPO / "gan_core").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.M), f"{path} imports streamlit"
    for name, deps in graph.items():
        if name.startswith("app_shared"):
            assert not [d for d in deps if d.startswith("app_pages")], f"{name} imports a page"


def page_of_module(name: str) -> str | None:
    """app_pages.train.page -> "train"; None for a module outside app_pages' page folders."""
    parts = name.split(".")
    return parts[1] if parts[0] == "app_pages" and len(parts) > 2 else None


def page_to_page_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where one page's module imports another page's."""
    return sorted((name, dep) for name, deps in graph.items() for dep in deps
                  if page_of_module(name) and page_of_module(dep) and page_of_module(dep) != page_of_module(name))


def test_no_page_imports_another_page():
    assert page_to_page_imports(import_graph()) == []


# A UI choice is a decision about how the app presents the engine: which page something opens on, which widget or
# panel shows it, the record one panel draws from. Such names belong in app_shared / app_pages, never in gan_core:
UI_FIELD_NAMES = {"page", "pages", "widget", "widget_key", "panel"}  # a field or parameter that picks a page/widget
UI_CLASS_WORDS = ("Panel", "Widget", "Page")  # a record shaped for one panel, widget or page


def ui_choices(source: str, filename: str = "<source>") -> list[str]:
    """The UI choices a module's source makes: classes named for a panel/widget/page, and class fields, function
    parameters or keyword arguments named `page`, `widget`, `panel`... (where something opens or shows)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ClassDef):
            if any(word in node.name for word in UI_CLASS_WORDS):
                found.append(f"class {node.name}")
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) \
                        and item.target.id in UI_FIELD_NAMES:
                    found.append(f"{node.name}.{item.target.id}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            found += [f"{node.name}({a.arg})" for a in args if a.arg in UI_FIELD_NAMES]
        elif isinstance(node, ast.keyword) and node.arg in UI_FIELD_NAMES:
            found.append(f"{node.arg}=...")
    return found


def test_gan_core_makes_no_ui_choice():
    """LivePanelData, Preset.page and friends live in app_shared: the engine says what a preset trains, the app
    says where it opens."""
    offences = {str(p.relative_to(REPO)): ui_choices(p.read_text(), str(p))
                for p in (REPO / "gan_core").rglob("*.py")}
    assert {k: v for k, v in offences.items() if v} == {}


def test_the_checkers_find_a_page_import_and_a_ui_choice():
    graph = {"app_pages.playground.page": {"app_pages.train.form", "app_pages.playground.plot", "app_shared.jobs"},
             "app_pages.train.page": {"app_pages.train.form"}, "app_shared.jobs": {"gan_core"}}
    assert page_to_page_imports(graph) == [("app_pages.playground.page", "app_pages.train.form")]
    planted = ("from dataclasses import dataclass\n@dataclass\nclass Preset:\n    slug: str\n    page: str\n"
               "class LivePanelData:\n    pass\ndef presets_for(page): ...\nx = dict(page='train')\n")
    assert sorted(ui_choices(planted)) == ["Preset.page", "class LivePanelData", "page=...", "presets_for(page)"]
    assert ui_choices("def step(trainer, batch): return trainer.step(batch)\n") == []


def test_the_checker_finds_a_cycle_and_a_package_cycle():
    """The checker itself can fail: a two-module loop and a loop between subpackages are both found."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    graph = {"gan_core.x.one": {"gan_core.y.two"}, "gan_core.y.two": {"gan_core.x.three"}, "gan_core.x.three": set()}
    assert find_cycle(graph) is None
    assert find_cycle(package_graph(graph)) == ["gan_core.x", "gan_core.y", "gan_core.x"]
