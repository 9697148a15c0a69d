"""The house's shape, pinned: no module of the package imports another that imports it back
(type-only and lazy imports included), and only the command line builds the App."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wyoming_kokoro"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules)
            if len(submodules) < len(node.names):  # names from the module itself
                found.add(target)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    cycles = []

    def visit(node: str, trail: list[str], done: set[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in done:
                visit(nxt, [*trail, nxt], done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start], done)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_only_the_command_line_builds_the_app():
    importers = {name for name, targets in graph().items() if "wyoming_kokoro.app" in targets}
    assert importers == {"wyoming_kokoro.__main__"}


def test_the_front_ends_reach_no_further_than_the_service():
    """A front end knows its protocol and the service's interface: not the engine, not the
    model loading, not the text pipeline's insides."""
    for name, targets in graph().items():
        if name.startswith("wyoming_kokoro.frontends."):
            reached = {t for t in targets if t.startswith(("wyoming_kokoro.engine",
                                                           "wyoming_kokoro.model",
                                                           "wyoming_kokoro.synthesis.render",
                                                           "wyoming_kokoro.synthesis.scheduler"))}
            assert not reached, (name, reached)
