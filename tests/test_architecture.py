"""monitor/ is a few rooms in layers (docs/architecture.md): a room imports only rooms below it,
and no module reaches back to one that imports it. The import graph is read from the source."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

MONITOR = Path(__file__).resolve().parents[1] / "monitor"

# Lower first; rooms on one rank do not import each other.
LAYERS = [
    {"core"},
    {"files", "store"},
    {"roster"},
    {"counts", "admin"},
    {"figures"},
    {"evidence"},
    {"ingest"},
    {"reports", "demo"},
    {"cli"},
]
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}
TOP = {"monitor.__main__": "cli"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in MONITOR.rglob("*.py"):
        parts = path.relative_to(MONITOR.parent).with_suffix("").parts
        if "migrations" in parts:
            continue  # a revision imports nothing of the program (test_migrations)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                out.add(whole if whole in modules else node.module)
    return out


def _room(module: str) -> str:
    return TOP.get(module) or module.split(".")[1]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {m for m in _imports(path, modules) if m in modules and m != name}
        for name, path in modules.items()
        if name != "monitor"
    }


def test_every_module_lives_in_a_room_of_the_layers():
    loose = sorted(m for m in _modules() if m != "monitor" and m not in TOP and _room(m) not in RANK)
    flat = sorted(p.name for p in MONITOR.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert loose == [] and flat == [], "each module belongs to one room of LAYERS"


def test_rooms_import_only_rooms_below_them():
    upward = [
        f"{module} ({_room(module)}) imports {target} ({_room(target)})"
        for module, targets in _graph().items()
        for target in targets
        if _room(target) != _room(module) and RANK[_room(target)] >= RANK[_room(module)]
    ]
    assert upward == []


def test_no_module_imports_one_that_imports_it():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_domain_knows_no_screen():
    reaching = defaultdict(list)
    modules = _modules()
    for name, path in modules.items():
        for target in _imports(path, modules):
            if target.split(".")[0] in {"streamlit", "ui", "app_pages", "app"}:
                reaching[name].append(target)
    assert dict(reaching) == {}


def test_the_checks_see_an_upward_import_and_a_circle(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The walk itself: a store module importing figures, and two modules importing each other."""
    package = tmp_path / "monitor"
    for room, body in {
        "store": "from monitor.figures.tally import total\n",
        "figures": "from monitor.store.keep import kept\n",
    }.items():
        (package / room).mkdir(parents=True)
        (package / room / "__init__.py").write_text("")
        (package / room / ("keep.py" if room == "store" else "tally.py")).write_text(body)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(f"{__name__}.MONITOR", package)
    assert _graph() == {
        "monitor.store": set(),
        "monitor.figures": set(),
        "monitor.store.keep": {"monitor.figures.tally"},
        "monitor.figures.tally": {"monitor.store.keep"},
    }
    try:
        test_rooms_import_only_rooms_below_them()
    except AssertionError as exc:
        assert "monitor.store.keep (store) imports monitor.figures.tally (figures)" in str(exc)
    else:
        raise AssertionError("the upward import went unseen")
    try:
        test_no_module_imports_one_that_imports_it()
    except AssertionError as exc:
        assert "monitor.figures.tally" in str(exc)
    else:
        raise AssertionError("the circle went unseen")


MAX_FUNCTION = 60  # lines from `def` to the last line, its docstring left out
MAX_MODULE = 400


def _is_table(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function whose body only returns or assigns one literal: a table, however long."""
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    literal = (ast.Dict, ast.List, ast.Tuple, ast.Set)
    return len(body) == 1 and isinstance(body[0], ast.Return | ast.Assign) and isinstance(body[0].value, literal)


def _function_size(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    size = (function.end_lineno or function.lineno) - function.lineno + 1
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        size -= (first.end_lineno or first.lineno) - first.lineno + 1
    return size


def test_functions_and_modules_stay_small():
    long_functions, long_modules = [], []
    for name, path in sorted(_modules().items()):
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > MAX_MODULE:
            long_modules.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_table(node):
                if _function_size(node) > MAX_FUNCTION:
                    long_functions.append(f"{name}.{node.name}: {_function_size(node)} lines")
    assert (long_functions, long_modules) == ([], [])
