"""OpenAI-compatible speech: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices.

The body streams out as sentences are synthesized (chunked transfer). The first piece of audio
is awaited before the status line is sent, so a request that fails at once (unknown voice,
nothing to speak, busy) still gets a proper error; a failure later can only cut the stream.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ...synthesis.errors import RequestError
from ...synthesis.utterance import SPEED_RANGE, Utterance
from .encode import FORMATS, UNSUPPORTED, Encoder, Format
from .errors import ApiError, from_request_error
from .keys import SERVICE, read_json

_LOGGER = logging.getLogger(__name__)

MODEL_IDS = ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
"""Accepted as ``model`` (OpenAI clients send their own model names); all mean the active one."""
CREATED = 1_735_689_600  # 2025-01-01, a fixed "created" for /v1/models


@dataclass(frozen=True)
class SpeechRequest:
    input: str
    voice: str | None
    format: Format
    speed: float
    stream: bool


def parse_speech(body: Any) -> SpeechRequest:
    """Validate a speech request body; ApiError (400) naming the field otherwise."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    model = body.get("model", "kokoro")
    if not isinstance(model, str) or model not in MODEL_IDS:
        raise ApiError(400, f"unknown model {model!r}; use one of {', '.join(MODEL_IDS)}",
                       param="model", code="model_not_found")
    text = body.get("input")
    if not isinstance(text, str):
        raise ApiError(400, "'input' must be a string", param="input", code="invalid_type")
    if not text.strip():
        raise ApiError(400, "'input' is empty", param="input", code="empty_input")
    voice = body.get("voice")
    if isinstance(voice, dict):  # newer OpenAI clients may send {"id": "..."}
        voice = voice.get("id")
    if voice is not None and not isinstance(voice, str):
        raise ApiError(400, "'voice' must be a string", param="voice", code="invalid_type")
    name = body.get("response_format", "mp3")
    if name in UNSUPPORTED:
        raise ApiError(400, f"response_format {name!r} is not supported by this server; use "
                       f"one of {', '.join(FORMATS)}", param="response_format",
                       code="unsupported_format")
    if not isinstance(name, str) or name not in FORMATS:
        raise ApiError(400, f"response_format must be one of {', '.join(FORMATS)}",
                       param="response_format", code="invalid_value")
    speed = body.get("speed", 1.0)
    lo, hi = SPEED_RANGE
    if (isinstance(speed, bool) or not isinstance(speed, (int, float))
            or not math.isfinite(speed) or not lo <= speed <= hi):
        raise ApiError(400, f"'speed' must be a number from {lo} to {hi}", param="speed",
                       code="invalid_value")
    stream = body.get("stream", True)
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false", param="stream",
                       code="invalid_type")
    if body.get("stream_format", "audio") != "audio":
        raise ApiError(400, "only stream_format 'audio' is supported", param="stream_format",
                       code="unsupported_value")
    return SpeechRequest(text, voice or None, FORMATS[name], float(speed), stream)


async def speech(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    req = parse_speech(await read_json(request))
    try:
        async with service.utterance(voice=req.voice, speed=req.speed,
                                     source="http") as utterance:
            utterance.feed(req.input)
            utterance.finish()
            return await _respond(request, req, utterance)
    except RequestError as err:
        raise from_request_error(err) from None


async def _respond(request: web.Request, req: SpeechRequest,
                   utterance: Utterance) -> web.StreamResponse:
    fmt = req.format
    encoder = Encoder(fmt, utterance.format.rate, streaming=req.stream)
    audio = utterance.audio()
    headers = {"Content-Type": fmt.content_type,
               "Content-Disposition": f'inline; filename="speech.{fmt.name}"',
               "X-Sample-Rate": str(utterance.format.rate)}
    try:
        first = await anext(audio, None)
        if first is None:
            raise ApiError(400, "the input has nothing to speak", param="input",
                           code="empty_input")
        if not req.stream:
            pcm = first + b"".join([chunk async for chunk in audio])
            body = await _run(encoder, encoder.encode, pcm) + await _run(encoder, encoder.finish)
            return web.Response(body=body, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            await _stream(response, encoder, first, audio)
        except ConnectionError:
            _LOGGER.info("HTTP client went away mid-reply; the rest is cancelled")
        except Exception:  # headers are out: all that is left is to cut the stream short
            _LOGGER.exception("speech failed mid-stream; closing the connection")
            if request.transport is not None:
                request.transport.abort()
        return response
    finally:
        await audio.aclose()
        encoder.close()


async def _stream(response: web.StreamResponse, encoder: Encoder, first: bytes,
                  audio: AsyncIterator[bytes]) -> None:
    pcm: bytes | None = first
    while pcm is not None:
        if data := await _run(encoder, encoder.encode, pcm):
            await response.write(data)
        pcm = await anext(audio, None)
    if data := await _run(encoder, encoder.finish):
        await response.write(data)
    await response.write_eof()


async def _run(encoder: Encoder, method, *args):
    """Compressing encoders run on a thread, so the event loop keeps serving meanwhile."""
    if encoder.format.threaded:
        return await asyncio.to_thread(method, *args)
    return method(*args)


async def models(request: web.Request) -> web.Response:
    data = [{"id": name, "object": "model", "created": CREATED, "owned_by": "wyoming-kokoro"}
            for name in MODEL_IDS]
    return web.json_response({"object": "list", "data": data})


async def voices(request: web.Request) -> web.Response:
    return web.json_response({"voices": [v.name for v in request.app[SERVICE].catalog()]})
