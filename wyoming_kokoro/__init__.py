"""Kokoro-82M text to speech for Home Assistant over the Wyoming protocol."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wyoming-kokoro")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
