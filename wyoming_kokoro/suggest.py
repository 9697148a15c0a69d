"""The one "did you mean" hint for every unknown name (config keys and values, voices)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or "" when none is close."""
    hint = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""
