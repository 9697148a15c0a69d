"""Which modules a fresh interpreter has loaded: for tests that pin what an import costs."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(modules: list[str], *steps: str, timeout: float = 120) -> list[list[str]]:
    """Run ``steps`` (Python statements) in turn in a new interpreter; after each, which of
    ``modules`` it has loaded (sorted)."""
    lines = ["import json, sys"]
    for step in steps:
        lines += [step, f"print(json.dumps(sorted(set({modules!r}) & set(sys.modules))))"]
    result = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()[-len(steps):]]
