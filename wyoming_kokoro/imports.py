"""Import guards for heavy optional modules.

thinc (spaCy's machine-learning layer) imports torch whenever torch is installed, only to offer
torch-backed layers that spaCy's small English pipeline never uses. That costs about 600 MB of
RSS and seconds of start-up on a Raspberry Pi — and torch is installed for the torch backend. So
spaCy is imported with torch hidden, unless torch is already loaded. The torch backend imports
torch under the same lock, so the two never race.
"""

from __future__ import annotations

import sys
import threading
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
