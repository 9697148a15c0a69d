"""Source manifests: where a model bundle's files come from, each pinned by sha256.

A source manifest (``manifests/kokoro-v1.0.json`` ships with the package) lists plain files and,
optionally, voice packs (``.pt`` tensors or ``.npy`` arrays) that are packed into one ``.npz``::

    {"format": 1, "name": ..., "description": ..., "sample_rate": 24000,
     "roles": {"onnx": "model.onnx", "vocab": "config.json", "voices": "voices.npz", ...},
     "files": [{"name": "model.onnx", "url": "https://...", "sha256": "...", "size": 123}],
     "voices": {"file": "voices.npz", "packs": [{"name": "af_heart", "url": ..., "sha256": ...}]}}

Loading checks everything that would make the fetched bundle fail :func:`read_bundle`: plain file
names, sha256 digests, http(s) URLs, every role naming a listed file, and the required roles.
"""

from __future__ import annotations

import fnmatch
import importlib.resources as resources
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .bundle import MANIFEST, REQUIRED_ROLES, ROLES, read_manifest

FORMAT = 1
DEFAULT = "kokoro-v1.0"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VOICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SourceError(ValueError):
    """A source manifest is malformed; the message names the manifest and the entry."""


@dataclass(frozen=True)
class Remote:
    """One file to download: where from, and the sha256 it must have."""

    name: str
    url: str
    sha256: str
    size: int | None = None


@dataclass(frozen=True)
class Sources:
    name: str
    description: str
    sample_rate: int
    roles: dict[str, str]  # role -> file name in the bundle
    files: tuple[Remote, ...]  # downloaded as they are
    voices_file: str | None = None  # the .npz the voice packs are packed into
    packs: tuple[Remote, ...] = ()  # Remote.name is the voice name

    def select(self, voices: list[str] | None = None, torch: bool = True) -> Sources:
        """A copy limited to the voices matching ``voices`` (glob patterns), without the torch
        weights when ``torch`` is false."""
        packs = self.packs
        if voices:
            packs = tuple(p for p in packs if any(fnmatch.fnmatchcase(p.name, v) for v in voices))
            if not packs:
                raise SourceError(f"{self.name}: no voice matches {', '.join(voices)}; "
                                  f"voices: {', '.join(p.name for p in self.packs)}")
        roles = dict(self.roles)
        files = self.files
        if not torch:
            for role in ("torch", "torch_config"):
                roles.pop(role, None)
            kept = set(roles.values())
            files = tuple(f for f in files if f.name in kept)
        selected = replace(self, roles=roles, files=files, packs=packs)
        _check_roles(selected, self.name)
        return selected


def builtin(name: str = DEFAULT) -> Path:
    """Path of a source manifest shipped with the package."""
    path = resources.files(__package__) / "manifests" / f"{name}.json"
    if not path.is_file():
        raise SourceError(f"no built-in model manifest named {name!r}")
    return Path(str(path))


def load_sources(path: Path) -> Sources:
    """Read and check a source manifest; raise :class:`SourceError` naming the problem."""
    where = str(path)
    data = read_manifest(Path(path), SourceError, "model manifest", FORMAT)
    name = _text(data, "name", where)
    roles = data.get("roles")
    if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
        raise SourceError(f"{where}: 'roles' must map roles to file names")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise SourceError(f"{where}: unknown roles {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(ROLES)}")
    files = data.get("files")
    if not isinstance(files, list) or not files:
        raise SourceError(f"{where}: 'files' must be a list of {{name, url, sha256}}")
    remotes = tuple(_remote(entry, f"{where}: files[{i}]") for i, entry in enumerate(files))
    voices_file: str | None = None
    packs: tuple[Remote, ...] = ()
    voices = data.get("voices")
    if voices is not None:
        if not isinstance(voices, dict):
            raise SourceError(f"{where}: 'voices' must be {{file, packs}}")
        voices_file = _file_name(voices.get("file"), f"{where}: voices.file")
        if not voices_file.endswith(".npz"):
            raise SourceError(f"{where}: voices.file must name an .npz file")
        entries = voices.get("packs")
        if not isinstance(entries, list) or not entries:
            raise SourceError(f"{where}: voices.packs must be a list of {{name, url, sha256}}")
        packs = tuple(_remote(entry, f"{where}: voices.packs[{i}]", voice=True)
                      for i, entry in enumerate(entries))
        _unique([p.name for p in packs], f"{where}: voices.packs")
    _unique([r.name for r in remotes] + ([voices_file] if voices_file else []), f"{where}: files")
    sample_rate = data.get("sample_rate", 24000)
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
        raise SourceError(f"{where}: sample_rate must be a positive integer")
    sources = Sources(name=name, description=str(data.get("description") or ""),
                      sample_rate=sample_rate, roles=dict(roles), files=remotes,
                      voices_file=voices_file, packs=packs)
    _check_roles(sources, where)
    return sources


def _check_roles(sources: Sources, where: str) -> None:
    names = {r.name for r in sources.files} | ({sources.voices_file} - {None})
    for role, file in sources.roles.items():
        if file not in names:
            raise SourceError(f"{where}: role {role} names {file!r}, which is not fetched")
    for role in REQUIRED_ROLES:
        if role not in sources.roles:
            raise SourceError(f"{where}: the manifest names no {role} file")
    if "onnx" not in sources.roles and "torch" not in sources.roles:
        raise SourceError(f"{where}: the manifest names neither an onnx nor a torch model")


def _remote(entry: Any, where: str, voice: bool = False) -> Remote:
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: must be {{name, url, sha256}}")
    name = entry.get("name")
    if voice:
        if not isinstance(name, str) or not _VOICE_NAME.match(name):
            raise SourceError(f"{where}: {name!r} is not a voice name")
    else:
        name = _file_name(name, f"{where}.name")
    url = entry.get("url")
    parsed = urlparse(url) if isinstance(url, str) else None
    if not isinstance(url, str) or parsed is None or parsed.scheme not in ("http", "https") \
            or not parsed.netloc:
        raise SourceError(f"{where}: url must be an http(s) URL, got {url!r}")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not _SHA256.match(digest.lower()):
        raise SourceError(f"{where}: sha256 must be 64 hex digits, got {digest!r}")
    size = entry.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise SourceError(f"{where}: size must be a byte count, got {size!r}")
    return Remote(name=name, url=url, sha256=digest.lower(), size=size)


def _file_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name \
            or name in (".", "..") or name == MANIFEST or name.startswith("."):
        raise SourceError(f"{where}: {name!r} is not a plain file name")
    return name


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise SourceError(f"{where}: '{key}' must be a non-empty string")
    return value


def _unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SourceError(f"{where}: {name!r} is listed twice")
        seen.add(name)
