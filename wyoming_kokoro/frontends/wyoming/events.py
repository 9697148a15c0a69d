"""Reading Wyoming events defensively.

``wyoming.event.async_read_event`` turns most malformed input into a silent disconnect and lets
some through as exceptions (an event without ``type``). A server facing arbitrary clients needs to
tell the client what was wrong, in one line, and never read unbounded input; hence this reader.
"""

from __future__ import annotations

import asyncio
import json

from wyoming.event import Event

MAX_HEADER = 64 * 1024  # asyncio's default line limit
MAX_DATA = 8 * 1024 * 1024  # event data (JSON): 8 MiB is 30x the longest text we accept
MAX_PAYLOAD = 16 * 1024 * 1024


class ProtocolError(ValueError):
    """The client sent something that is not a well-formed Wyoming event."""


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event, None at end of stream; ProtocolError for malformed input."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise ProtocolError("connection closed in the middle of an event header") from None
        return None
    except asyncio.LimitOverrunError:
        raise ProtocolError(f"event header line longer than {MAX_HEADER} bytes") from None
    header = _parse_object(line, "event header")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ProtocolError("event header has no 'type'")
    data = header.get("data") if header.get("data") is not None else {}
    if not isinstance(data, dict):
        raise ProtocolError(f"{event_type}: 'data' must be a JSON object")
    data_length = _length(header, "data_length", MAX_DATA, event_type)
    if data_length:
        extra = _parse_object(await _read_exactly(reader, data_length, event_type), "event data")
        data = {**data, **extra}
    payload_length = _length(header, "payload_length", MAX_PAYLOAD, event_type)
    payload = await _read_exactly(reader, payload_length, event_type) if payload_length else None
    return Event(type=event_type, data=data, payload=payload)


def _parse_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise ProtocolError(f"{what} is not valid UTF-8") from None
    except ValueError:
        raise ProtocolError(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _length(header: dict, key: str, limit: int, event_type: str) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"{event_type}: '{key}' must be a non-negative integer")
    if value > limit:
        raise ProtocolError(f"{event_type}: '{key}' of {value} bytes exceeds the limit of {limit}")
    return value


async def _read_exactly(reader: asyncio.StreamReader, n: int, event_type: str) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as err:
        raise ProtocolError(f"{event_type}: connection closed after {len(err.partial)} of "
                            f"{n} promised bytes") from None
