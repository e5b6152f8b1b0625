"""The engine and the reports never import textual: the app only renders what they produce."""

import ast
import subprocess
import sys
from collections.abc import Collection
from itertools import pairwise
from pathlib import Path

ENGINE_MODULES = [
    "netscope.cli",
    "netscope.engine.model",
    "netscope.engine.api",
    "netscope.engine.load.target",
    "netscope.engine.load.checkpoint",
    "netscope.engine.snapshot.build",
    "netscope.engine.worker.session",
    "netscope.engine.worker.process",
    "netscope.engine.profiler.check",
    "netscope.report.check_text",
    "netscope.report.write",
]


def test_engine_imports_without_textual() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'textual' or name.startswith('textual.'):\n"
        "            raise ImportError('textual is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for name in {ENGINE_MODULES!r}:\n"
        "    __import__(name)\n"
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_app_package_is_the_only_textual_importer() -> None:
    import netscope

    root = Path(netscope.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "app" not in path.relative_to(root).parts[:1]
        and any(
            line.lstrip().startswith(("import textual", "from textual"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


# --- layers: one-way imports, found by reading every import statement (function-level too) ---


def _package_root() -> Path:
    import netscope

    return Path(netscope.__file__).parent


def _module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, not __init__)."""
    root = _package_root()
    names = {}
    for path in root.rglob("*.py"):
        parts = ("netscope", *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imports(name: str, path: Path, modules: Collection[str]) -> list[tuple[str, int]]:
    """The netscope modules ``name`` imports, with the line of each import statement.

    Every statement counts wherever it is (a function body, ``if TYPE_CHECKING:``): a layer
    that imports upward only inside a function is still tied to the layer above. ``from pkg
    import name`` names the submodule ``pkg.name`` when there is one, else ``pkg`` itself.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c of a name inside a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append((target, node.lineno))
    return found


def _import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported netscope module: line of the first import of it}."""
    modules = _module_names()
    graph: dict[str, dict[str, int]] = {}
    for name, path in sorted(modules.items()):
        edges = graph.setdefault(name, {})
        for target, line in _imports(name, path, modules):
            edges.setdefault(target, line)
    return graph


def _components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components (Tarjan): modules that reach each other by imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, {})):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle [a, b, ..., a] for each group of modules that import each other."""
    cycles = []
    for component in _components(graph):
        if len(component) < 2:
            continue
        start, members = component[0], set(component)
        parents: dict[str, str] = {}
        queue = [start]
        for node in queue:  # breadth first, inside the component, back to start
            if start in parents:
                break
            for child in sorted(graph[node]):
                if child in members and child not in parents:
                    parents[child] = node
                    queue.append(child)
        path = [start]
        while path[-1] != start or len(path) == 1:
            path.append(parents[path[-1]])
        cycles.append(path[::-1])
    return cycles


def test_engine_never_imports_report_or_app() -> None:
    """The engine is the bottom layer: report/ and app/ use it, never the other way round."""
    modules = _module_names()
    offenders = [
        f"{path.relative_to(_package_root().parent)}:{line} imports {target}"
        for name, path in sorted(modules.items())
        if name == "netscope.engine" or name.startswith("netscope.engine.")
        for target, line in _imports(name, path, modules)
        if target.split(".")[:2] in (["netscope", "report"], ["netscope", "app"])
    ]
    assert offenders == [], "the engine imports a layer above it:\n" + "\n".join(offenders)


def test_netscope_modules_import_each_other_one_way() -> None:
    """No import cycle between netscope's modules, function-level imports included."""
    graph = _import_graph()
    cycles = [
        "\n  ".join(f"{a} (line {graph[a][b]}) -> {b}" for a, b in pairwise(cycle))
        for cycle in _cycles(graph)
    ]
    assert cycles == [], "import cycles:\n  " + "\n\n  ".join(cycles)


def test_the_cycle_finder_finds_every_cycle() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"b": 1, "d": 1}, "d": {"e": 1}, "e": {"c": 1}}
    graph |= {"x": {"y": 1}, "y": {"x": 1}, "z": {"a": 1}}
    assert _cycles(graph) == [["b", "c", "b"], ["x", "y", "x"]]
    assert _cycles({"a": {"b": 1}, "b": {}, "c": {"a": 1, "b": 1}}) == []
