"""Every library the package imports comes with its install: a module that only the dev
environment has works in every test here and fails for every user (``onnx`` was one: without
it, installs outside dev could not split the graph and never decoded in windows)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "wyoming_kokoro"


def _declared() -> set[str]:
    """Distributions the install brings: dependencies and every extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def _imports() -> dict[str, set[str]]:
    """Top-level modules the package imports (at load time or lazily), with where."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_library_the_package_imports_is_a_dependency_or_an_extras():
    declared = _declared()
    owners = packages_distributions()
    undeclared = {
        module: sorted(where) for module, where in _imports().items()
        if module not in sys.stdlib_module_names and module != PACKAGE
        and not {canonicalize_name(d) for d in owners.get(module, [])} & declared
    }
    assert not undeclared, f"imported, but not a dependency of the install: {undeclared}"


def test_the_check_sees_lazy_imports():
    imports = _imports()
    assert "wyoming_kokoro/engine/onnx_split.py" in imports["onnx"]  # inside a function
    assert "torch" in imports and "torch" in {canonicalize_name(d) for d in
                                              packages_distributions()["torch"]}
