"""GET /phonemes: what the model will be asked to say, so a user can fix a name before a
reply says it wrong (see README, "Pronunciation")."""

from __future__ import annotations

from aiohttp import web

from ...synthesis.errors import RequestError
from .errors import ApiError, from_request_error
from .keys import SERVICE


async def phonemes(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    text = request.query.get("text", "")
    if not text.strip():
        raise ApiError(400, "'text' is empty", param="text", code="empty_input")
    limit = service.config.text.max_chars
    if len(text) > limit:
        raise ApiError(413, f"'text' is longer than the limit of {limit} characters "
                       f"(text.max_chars)", param="text", code="too_long")
    try:
        return web.json_response(await service.preview(text, request.query.get("voice")))
    except RequestError as err:
        raise from_request_error(err) from None
