"""The on-disk model bundle: one directory, one ``manifest.json``, every file sha256-pinned.

Layout (the Docker image bakes the same layout)::

    <bundle>/
      manifest.json          {"format": 1, "name": ..., "files": {name: sha256}, roles ...}
      kokoro-v1.0.int8.onnx  role "onnx"          (int8 ONNX, for the onnx backend)
      kokoro-v1_0.pth        role "torch"         (optional, for the torch backend)
      config.json            role "torch_config"  (optional, KModel's config)
      voices.npz             role "voices"        (name -> float32 [510, 1, 256] style packs)
      vocab.json             role "vocab"         ({"vocab": {phoneme: id}}; config.json works too)

A bundle is verified whole on load: a missing file, a file not listed, or a sha256 that does not
match refuses the bundle with a message naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import sha256_file, write_atomic

MANIFEST = "manifest.json"
FORMAT = 1
ROLES = ("onnx", "torch", "torch_config", "voices", "vocab")
REQUIRED_ROLES = ("voices", "vocab")
STYLE_ROWS = 510  # a style pack: one 256-wide style vector per phoneme count (Kokoro's limit)
STYLE_DIM = 256


class BundleError(RuntimeError):
    """A model bundle is missing, malformed, or does not match its checksums."""


@dataclass(frozen=True)
class Bundle:
    root: Path
    name: str
    description: str
    sample_rate: int
    files: dict[str, str]  # file name -> sha256
    roles: dict[str, str]  # role -> file name

    def path(self, role: str) -> Path | None:
        name = self.roles.get(role)
        return None if name is None else self.root / name

    def require(self, role: str) -> Path:
        path = self.path(role)
        if path is None:
            raise BundleError(f"model bundle {self.root} has no {role} file "
                              f"(manifest key '{role}')")
        return path


def read_manifest(path: Path, error: type[Exception], what: str, version: int) -> dict:
    """A JSON manifest of format ``version``; ``error`` names the file and what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise error(f"{path}: no {what} there") from err
    except (OSError, ValueError) as err:
        raise error(f"{path}: unreadable {what}: {err}") from err
    if not isinstance(data, dict) or data.get("format") != version:
        raise error(f"{path}: not a format-{version} {what}")
    return data


def read_bundle(root: Path, verify: bool = True) -> Bundle:
    """Read and (by default) verify the bundle in ``root``."""
    root = Path(root)
    manifest_path = root / MANIFEST
    manifest = read_manifest(manifest_path, BundleError, "model bundle manifest", FORMAT)
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{manifest_path}: 'files' must map file names to sha256")
    for name, digest in files.items():
        _check_name(manifest_path, name)
        if not isinstance(digest, str) or len(digest) != 64:
            raise BundleError(f"{manifest_path}: files.{name}: not a sha256 hex digest")
    roles: dict[str, str] = {}
    for role in ROLES:
        name = manifest.get(role)
        if name is None:
            continue
        if name not in files:
            raise BundleError(f"{manifest_path}: {role} file {name!r} is not listed in 'files'")
        roles[role] = name
    for role in REQUIRED_ROLES:
        if role not in roles:
            raise BundleError(f"{manifest_path}: the manifest names no {role} file")
    if "onnx" not in roles and "torch" not in roles:
        raise BundleError(f"{manifest_path}: the manifest names neither an onnx nor a torch model")
    if verify:
        for name, digest in files.items():
            path = root / name
            if not path.is_file():
                raise BundleError(f"{path}: file listed in the manifest is missing")
            actual = sha256_file(path)
            if actual != digest.lower():
                raise BundleError(f"{path}: sha256 mismatch (expected {digest}, got {actual}); "
                                  f"the file is corrupt or was replaced")
    return Bundle(
        root=root,
        name=str(manifest.get("name") or root.name),
        description=str(manifest.get("description") or ""),
        sample_rate=int(manifest.get("sample_rate") or 24000),
        files={k: v.lower() for k, v in files.items()},
        roles=roles,
    )


def write_manifest(root: Path, name: str, roles: dict[str, str], description: str = "",
                   sample_rate: int = 24000, extra_files: tuple[str, ...] = ()) -> Bundle:
    """Hash the role files (and ``extra_files``) in ``root`` and write the manifest atomically."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise BundleError(f"unknown bundle roles: {', '.join(sorted(unknown))}")
    names = list(dict.fromkeys([*roles.values(), *extra_files]))
    files = {n: sha256_file(root / n) for n in names}
    manifest = {"format": FORMAT, "name": name, "description": description,
                "sample_rate": sample_rate, **roles, "files": files}
    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
    write_atomic(root / MANIFEST, [data])
    return read_bundle(root, verify=False)


def _check_name(manifest_path: Path, name: object) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name \
            or name in (".", "..") or name == MANIFEST:
        raise BundleError(f"{manifest_path}: {name!r} is not a plain file name in the bundle")
