"""The embedded model's phoneme vocabulary (symbol -> token id), read without loading a model."""

from __future__ import annotations

from importlib import resources

from wyoming_kokoro.model.embedded import _DATA_PACKAGE
from wyoming_kokoro.model.kokoro import _read_vocab

with resources.as_file(resources.files(_DATA_PACKAGE) / "data" / "vocab.json") as _path:
    VOCAB: dict[str, int] = _read_vocab(_path)
