"""Which inference backends this install can run, found without importing them (importing torch
costs seconds and hundreds of MB)."""

from __future__ import annotations

import importlib.machinery

from ..config import field_of

BACKENDS: tuple[str, ...] = field_of("model.backend")[1]["choices"]
_NEEDS = {"onnx": ("onnxruntime",), "torch": ("torch", "kokoro")}
TORCH_EXTRA = ("the torch backend needs the optional torch extra: "
               "pip install 'wyoming-kokoro[torch]'")


def missing_backend_modules(backend: str) -> list[str]:
    """The modules ``backend`` needs that are not installed. PathFinder looks at sys.path only,
    so a module hidden for a moment (imports.py) still counts as installed."""
    return [name for name in _NEEDS[backend]
            if importlib.machinery.PathFinder.find_spec(name) is None]


def backend_unavailable(backend: str) -> str | None:
    """Why this install cannot run ``backend``, or None when it can."""
    missing = missing_backend_modules(backend)
    if not missing:
        return None
    if backend == "torch":
        return f"{TORCH_EXTRA} ({', '.join(missing)} not installed)"
    return f"{', '.join(missing)} is not installed"
