"""Import guards for heavy optional modules.

thinc (spaCy's machine-learning layer) imports torch whenever torch is installed, only to offer
torch-backed layers that spaCy's small English pipeline never uses. That costs about 600 MB of
RSS and seconds of start-up on a Raspberry Pi — and torch is installed for the torch backend. So
spaCy is imported with torch hidden, unless torch is already loaded. The torch backend imports
torch under the same lock, so the two never race.

``import spacy`` also loads spaCy's command line (typer, click, rich, weasel, httpx, jinja2) only
to export ``spacy.info``: 21 MB of RSS a server never uses. ``lean_spacy`` defers it.

phonemizer (misaki's espeak G2P) imports ``segments`` for a backend misaki never uses, and with
it csvw, rdflib, jsonschema and babel: 31 MB of RSS. ``lean_phonemizer`` makes it load lazily.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

TORCH_IMPORT_LOCK = threading.RLock()


@contextmanager
def torch_hidden() -> Iterator[None]:
    """Within this block ``import torch`` fails with ImportError, unless torch is loaded already."""
    with TORCH_IMPORT_LOCK:
        if sys.modules.get("torch") is not None:
            yield
            return
        sys.modules["torch"] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            if sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]


@contextmanager
def lean_spacy() -> Iterator[None]:
    """Within this block ``import spacy`` (misaki's too) loads neither torch (see
    ``torch_hidden``) nor spaCy's command line. ``spacy.info`` still works: it imports the command
    line when called; so does an explicit ``import spacy.cli`` later."""
    with torch_hidden():
        if "spacy" in sys.modules:
            yield
            return
        # spaCy's `from .cli.info import info` takes both from sys.modules as they stand and
        # sets no attribute on spacy: removing them afterwards leaves no trace.
        info = types.ModuleType("spacy.cli.info")
        info.info = _spacy_info  # type: ignore[attr-defined]
        stubs = {"spacy.cli": types.ModuleType("spacy.cli"), "spacy.cli.info": info}
        sys.modules.update(stubs)
        try:
            yield
        finally:
            for name, stub in stubs.items():
                if sys.modules.get(name) is stub:
                    del sys.modules[name]


def _spacy_info(*args, **kwargs):
    from spacy.cli.info import info

    return info(*args, **kwargs)


@contextmanager
def lean_phonemizer() -> Iterator[None]:
    """Within this block phonemizer (misaki's espeak) imports with its ``import segments``
    bound to a stand-in, which imports the real module the first time phonemizer uses it (its
    segments backend; misaki uses only espeak). ``segments`` itself is not touched: anyone else
    importing it gets the real module, as ever.

    Not importlib's ``LazyLoader``: phonemizer reads ``segments.Profile`` in an annotation at
    import time, which would load it."""
    with TORCH_IMPORT_LOCK:
        if {"phonemizer", "segments"} & set(sys.modules) or \
                importlib.util.find_spec("segments") is None:
            yield
            return
        stand_in = _Deferred("segments", stand_ins=("Profile",))
        sys.modules["segments"] = stand_in
        try:
            yield
        finally:
            if sys.modules.get("segments") is stand_in:
                del sys.modules["segments"]


class _Deferred(types.ModuleType):
    """Stands in for a module until an attribute it lacks is asked for: then imports the real
    one and forwards to it. ``stand_ins`` are names that may be read before that (in
    annotations) without loading it."""

    def __init__(self, name: str, stand_ins: tuple[str, ...] = ()) -> None:
        super().__init__(name, f"stands in for {name} until it is used")
        for attr in stand_ins:
            setattr(self, attr, type(attr, (), {"__doc__": f"stands in for {name}.{attr}"}))

    def __getattr__(self, attr: str):
        with TORCH_IMPORT_LOCK:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__.update(vars(real))
        return getattr(real, attr)
