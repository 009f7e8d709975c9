"""The shape of the code: imports go one way, only services commit, modules stay small.

Read from the source with ``ast``, nothing is imported. An import counts
wherever it is written, at module level or inside a function: a function-level
import is a dependency all the same, only a later one.

An import names its most specific module: ``from idp.services import sso``
depends on ``idp.services.sso``, ``from idp.extensions import db`` on
``idp.extensions``, and ``from idp import create_app`` on ``idp.app``, where
``idp/__init__.py`` takes the name from. A package importing its own
submodules (a blueprint's ``__init__`` loading its views) is how the package is
assembled, not a dependency, and is not counted.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("idp", "consent_screens", "clients")
MAX_LINES = 400

#: Where ``.commit()`` may be called: the services own the session.
COMMIT_ALLOWED = ("idp/services/", "idp/cli/", "migrations/")
#: Where the project's own code lives, for the commit rule.
COMMIT_SCANNED = ("idp", "consent_screens", "clients", "examples", "migrations")

#: Blueprint packages: each imports services, models, ``idp.oauth`` and shared
#: helpers, never another blueprint. Only ``idp/app.py`` puts them together.
BLUEPRINTS = (
    "idp.login",
    "idp.account",
    "idp.api",
    "idp.ops",
    "consent_screens",
    "clients",
    "idp.admin",
    "idp.ssf",
)
COMPOSITION_ROOT = "idp.app"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    function_level: bool


@cache
def modules() -> dict[str, Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, is_package)
    return found


@cache
def tree(name: str) -> ast.Module:
    module = modules()[name]
    return ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))


def reexported_from(package: str, name: str) -> str | None:
    """The module a package's ``__init__`` takes ``name`` from, if it imports it."""
    if package not in modules() or not modules()[package].is_package:
        return None
    for node in tree(package).body:
        if isinstance(node, ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            base = absolute(modules()[package], node)
            if f"{base}.{name}" in modules():
                return f"{base}.{name}"
            return base if base in modules() else None
    return None


def absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.package.split(".")
    parts = parts[: len(parts) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


def targets(module: Module, node: ast.AST) -> list[str]:
    """The project modules one import statement depends on."""
    found = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules():
                name = name.rpartition(".")[0]
            if name:
                found.append(name)
    elif isinstance(node, ast.ImportFrom):
        base = absolute(module, node)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            if full in modules():
                found.append(full)
            elif base in modules():
                found.append(reexported_from(base, alias.name) or base)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@cache
def imports() -> tuple[Import, ...]:
    found = []
    for module in modules().values():
        function_lines = {
            line
            for fn in ast.walk(tree(module.name))
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for line in range(fn.lineno, (fn.end_lineno or fn.lineno) + 1)
        }
        for node in ast.walk(tree(module.name)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in targets(module, node):
                if target == module.name:
                    continue
                if module.is_package and within(target, module.name):
                    continue  # the package assembling its own submodules
                found.append(
                    Import(module.name, target, node.lineno, node.lineno in function_lines)
                )
    return tuple(dict.fromkeys(found))  # one per statement and target


def describe(edge: Import) -> str:
    where = "inside a function" if edge.function_level else "at module level"
    return f"{modules()[edge.source].rel}:{edge.line} imports {edge.target} ({where})"


def find_cycles() -> list[list[Import]]:
    """One shortest cycle per strongly connected group of modules."""
    graph: dict[str, dict[str, Import]] = {name: {} for name in modules()}
    for edge in imports():
        graph[edge.source].setdefault(edge.target, edge)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)

    cycles = []
    for group in groups:
        start = min(group)
        # Breadth-first from start back to start, inside the group.
        paths = {start: []}
        queue = [start]
        cycle = None
        while queue and cycle is None:
            node = queue.pop(0)
            for nxt, edge in sorted(graph[node].items()):
                if nxt not in group:
                    continue
                if nxt == start:
                    cycle = paths[node] + [edge]
                    break
                if nxt not in paths:
                    paths[nxt] = paths[node] + [edge]
                    queue.append(nxt)
        cycles.append(cycle)
    return cycles


def test_the_import_graph_is_read_from_the_source():
    # The rules below are only as good as the graph: check it sees what is there.
    edges = {(e.source, e.target) for e in imports()}
    assert ("idp.app", "idp.config") in edges  # module level
    assert ("idp.app", "idp.cli.commands") in edges  # inside create_app
    assert ("idp.cli", "idp.app") in edges
    assert ("idp.login.views", "idp.login") in edges  # a view module uses its blueprint
    assert ("idp.login", "idp.login.views") not in edges  # the package assembling itself
    assert len(modules()) > 50


def test_there_is_no_import_cycle():
    cycles = find_cycles()
    message = []
    for cycle in cycles:
        chain = " -> ".join([cycle[0].source] + [edge.target for edge in cycle])
        message.append(f"import cycle {chain}:")
        message.extend(f"  {describe(edge)}" for edge in cycle)
    assert not cycles, (
        "\n".join(message) + "\nBreak each cycle: move what both need into the lower module, "
        "or let the caller pass it in; a function-level import does not break a cycle."
    )


def commit_calls(path: Path) -> list[int]:
    """Lines calling ``<something session>.commit()``: a session's or ``db.session``'s."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"
            and re.search(r"session", ast.unparse(node.func.value), re.IGNORECASE)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_commit_calls_are_found():
    sample = ROOT / "idp" / "services" / "notification_delivery.py"
    assert commit_calls(sample), "the check no longer sees db.session.commit() in the services"


def test_only_services_commands_and_migrations_commit():
    offenders = []
    for top in COMMIT_SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(COMMIT_ALLOWED):
                continue
            offenders.extend(f"{rel}:{line}" for line in commit_calls(path))
    assert not offenders, (
        "the session is committed outside idp/services/ (and the commands, migrations):\n  "
        + "\n  ".join(offenders)
        + "\nMove the write and its commit into a service function the code calls."
    )


def test_no_module_is_longer_than_400_lines():
    long = []
    for module in modules().values():
        count = len(module.path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            long.append(f"{module.rel}: {count} lines")
    assert not long, (
        f"modules over {MAX_LINES} lines:\n  "
        + "\n  ".join(long)
        + "\nSplit each along a responsibility into modules a reader takes in at one sitting."
    )


def blueprint_of(name: str) -> str | None:
    return next((bp for bp in BLUEPRINTS if within(name, bp)), None)


def test_blueprints_do_not_import_each_other():
    offenders = []
    for edge in imports():
        target_bp = blueprint_of(edge.target)
        if target_bp is None:
            continue
        source_bp = blueprint_of(edge.source)
        if source_bp == target_bp or edge.source == COMPOSITION_ROOT:
            continue
        if source_bp is None:
            offenders.append(
                f"{describe(edge)}: only {COMPOSITION_ROOT} imports blueprints; move what "
                f"{edge.source} needs out of {target_bp} into idp.services or a shared module"
            )
        else:
            offenders.append(
                f"{describe(edge)}: blueprint {source_bp} reaches into blueprint {target_bp}; "
                "move what both need into idp.services or a shared module"
            )
    assert not offenders, "\n".join(offenders)
