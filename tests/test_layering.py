"""The package's layers, read from its imports: data flows one way, and no module imports one
that imports it back.

Every module of ``kpi_workbook`` has a layer (the longest prefix in LAYERS); an import may go
to its own layer or a lower one, never up. The front ends (the CLI, the demo, the Excel
functions and buttons) reach the work through ``kpi_workbook.api`` alone. Imports inside
functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kpi_workbook"

# (prefix, layer): lower numbers are lower layers. A new module falls under its folder's
# prefix; a new folder needs a line here (the test fails until it has one).
LAYERS = {
    "kpi_workbook.words": 0, "kpi_workbook.diagnostics": 0, "kpi_workbook.numbers": 0,
    "kpi_workbook.suggest": 0, "kpi_workbook.progress": 0, "kpi_workbook.data": 0,
    "kpi_workbook.limits": 0,
    "kpi_workbook.rules": 1,
    "kpi_workbook.kinds": 2,
    "kpi_workbook.engine": 3,
    # workbook/: the plumbing, then the file format, then one scorecard (and recalculating a
    # book with other engines, which needs only the format), then the month
    "kpi_workbook.workbook": 4,  # its own modules: files, locks, collector, libreoffice
    "kpi_workbook.workbook.xlsx": 5,
    "kpi_workbook.workbook.scorecard": 6, "kpi_workbook.workbook.recalc": 6,
    "kpi_workbook.workbook.template": 6,  # role templates as workbooks HR edits
    "kpi_workbook.workbook.month": 7,
    "kpi_workbook.api": 8,
    "kpi_workbook.sample": 9, "kpi_workbook.demo": 9, "kpi_workbook.cli": 9, "kpi_workbook.excel": 9,
}
# the front ends: through the API only, never the engine or the workbook layer itself
FRONT_ENDS = ("kpi_workbook.cli", "kpi_workbook.demo", "kpi_workbook.excel")
BEHIND_THE_API = ("kpi_workbook.engine", "kpi_workbook.workbook")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in it. ``from X import y`` is
    the module X.y when that is a module, else X."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def layer(name: str) -> int | None:
    prefixes = [p for p in LAYERS if name == p or name.startswith(p + ".")]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def wrong_imports(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, or from a front end past the API."""
    wrong = []
    for source, targets in edges.items():
        if source == "kpi_workbook":  # the package's own __init__: lazy re-exports of the API
            continue
        for target in sorted(targets):
            if target == "kpi_workbook":
                continue
            if layer(target) > layer(source):
                wrong.append(f"{source} imports {target}, a higher layer")
            if source.startswith(FRONT_ENDS) and target.startswith(BEHIND_THE_API):
                wrong.append(f"{source} imports {target}: front ends go through kpi_workbook.api")
    return wrong


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer():
    assert [m for m in modules() if m != "kpi_workbook" and layer(m) is None] == []


def test_imports_go_down_and_front_ends_through_the_api():
    assert wrong_imports(graph()) == []


def test_no_module_imports_one_that_imports_it_back():
    assert circles(graph()) == []


def test_excel_imports_nothing_of_the_engine_or_the_workbook_layer():
    excel = {m: t for m, t in graph().items() if m.startswith("kpi_workbook.excel")}
    assert excel  # the folder is there and was read
    assert {m: sorted(t for t in ts if t.startswith(BEHIND_THE_API)) for m, ts in excel.items()
            if any(t.startswith(BEHIND_THE_API) for t in ts)} == {}
    assert any("kpi_workbook.api" in ts for ts in excel.values())


@pytest.mark.parametrize("folder", sorted({p.parent for p in PACKAGE.rglob("__init__.py")}),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_each_folder_says_what_it_owns_and_may_import(folder):
    """Each folder's __init__.py docstring: what it owns, and what it may import (or that
    it imports nothing)."""
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(doc) > 40, f"{folder.name}/__init__.py has no docstring saying what it owns"
    assert "import" in doc.lower(), f"{folder.name}/__init__.py does not say what it may import"


def test_the_checks_can_fail():
    """Each check finds what it is there to find, on made-up imports."""
    up = {"kpi_workbook.rules.loader": {"kpi_workbook.engine.score"}}
    assert wrong_imports(up) == ["kpi_workbook.rules.loader imports kpi_workbook.engine.score, a higher layer"]
    sideways = {"kpi_workbook.workbook.xlsx.package": {"kpi_workbook.workbook.scorecard.reader"}}
    assert wrong_imports(sideways)
    past = {"kpi_workbook.excel.functions": {"kpi_workbook.engine.score"}}
    assert wrong_imports(past) == ["kpi_workbook.excel.functions imports kpi_workbook.engine.score: "
                                   "front ends go through kpi_workbook.api"]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_are_resolved_as_python_resolves_them(tmp_path):
    """``from ..x import y`` in a module and in a package's __init__ point at different
    places; ``from . import y`` names the module y."""
    known = {"kpi_workbook.workbook.month.report", "kpi_workbook.workbook.files",
             "kpi_workbook.workbook.collector", "kpi_workbook.workbook.month"}
    module = tmp_path / "report.py"
    module.write_text("from ..files import atomic_output\nfrom .. import collector\n", encoding="utf-8")
    assert imports_of("kpi_workbook.workbook.month.report", module, known) == {
        "kpi_workbook.workbook.files", "kpi_workbook.workbook.collector"}
    init = tmp_path / "__init__.py"
    init.write_text("from ..files import atomic_output\n", encoding="utf-8")
    assert imports_of("kpi_workbook.workbook.month", init, known) == {"kpi_workbook.workbook.files"}


def readme_map() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Development"):]
    return section[section.index("```\nkpi_workbook/") + 4:section.index("\n```", section.index("```\nkpi_workbook/") + 4)]


def test_the_readme_map_matches_the_tree():
    """Every folder and module of the package is on the README's map (the rule kinds, one
    module each, are listed by kind), and every module the map names exists."""
    import re

    text = readme_map()
    tree = {p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    folders = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("__init__.py")} - {"__init__.py"}
    for folder in folders:
        assert f"{Path(folder).parent.name}/" in text, f"{folder} is not on the map"
    kinds = PACKAGE / "kinds"
    off_map = [p.relative_to(PACKAGE).as_posix() for p in tree
               if p.parent != kinds and f"{p.name}" not in text]
    assert off_map == []
    named = set(re.findall(r"\b([a-z_]+\.py)\b", text))
    assert named - {p.name for p in tree} - {"__init__.py"} == set(), "the map names modules the tree lacks"
