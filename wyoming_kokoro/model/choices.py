"""What a model swap can choose from: the backends this install can run, and the bundles in a
folder. Read when someone asks (the web page's model view), never while serving.
"""

from __future__ import annotations

import importlib.machinery
from dataclasses import dataclass
from pathlib import Path

from .bundle import MANIFEST, Bundle, BundleError, read_bundle
from .kokoro import TORCH_EXTRA

BACKENDS = ("onnx", "torch")
_NEEDS = {"onnx": ("onnxruntime",), "torch": ("torch", "kokoro")}
MAX_BUNDLES = 200  # a folder with thousands of entries is listed in part


def missing_backend_modules(backend: str) -> list[str]:
    """The modules ``backend`` needs that are not installed (found without importing them:
    importing torch costs seconds and hundreds of MB). PathFinder looks at sys.path only, so a
    module hidden for a moment (imports.py) still counts as installed."""
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


@dataclass(frozen=True)
class BundleChoice:
    """A bundle directory as the page lists it; ``error`` says why it cannot be read."""

    path: Path
    name: str
    description: str = ""
    backends: tuple[str, ...] = ()
    error: str | None = None


def describe_bundle(path: Path) -> BundleChoice:
    """Read the manifest only (verifying the files means hashing hundreds of MB: the swap
    does that, and refuses a damaged bundle with the reason)."""
    try:
        bundle = read_bundle(path, verify=False)
    except BundleError as err:
        return BundleChoice(path, path.name, error=str(err))
    return choice_of(bundle)


def choice_of(bundle: Bundle) -> BundleChoice:
    backends = tuple(b for b in BACKENDS if b in bundle.roles
                     and (b != "torch" or "torch_config" in bundle.roles))
    return BundleChoice(bundle.root, bundle.name, bundle.description, backends)


def find_bundles(folder: Path | None) -> list[BundleChoice]:
    """The bundles directly inside ``folder`` (directories with a manifest), by name."""
    if folder is None or not folder.is_dir():
        return []
    try:
        entries = sorted(p for p in folder.iterdir() if (p / MANIFEST).is_file())
    except OSError:
        return []
    return [describe_bundle(p) for p in entries[:MAX_BUNDLES]]
