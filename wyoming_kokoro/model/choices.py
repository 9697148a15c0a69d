"""What a model swap can choose from: the backends this install can run, and the bundles in a
folder. Read when someone asks (the web page's model view), never while serving.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .backends import BACKENDS
from .bundle import MANIFEST, Bundle, BundleError, read_bundle

MAX_BUNDLES = 200  # a folder with thousands of entries is listed in part


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
