"""Errors in OpenAI's JSON shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...synthesis.errors import RequestError

# Service error codes -> (HTTP status, the request field at fault).
_REQUEST_ERRORS: dict[str, tuple[int, str | None]] = {
    "busy": (503, None),
    "unknown-voice": (400, "voice"),
    "too-long": (413, "input"),
    "empty-text": (400, "input"),
    "language-unavailable": (422, "voice"),
    "bad-phonemes": (400, "input"),
}

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
          405: "invalid_request_error", 413: "invalid_request_error", 503: "server_error"}


class ApiError(Exception):
    """Answered as an OpenAI-style error with ``status``."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}

    def response(self) -> web.Response:
        return error_response(self.status, self.message, param=self.param, code=self.code,
                              headers=self.headers)


def error_response(status: int, message: str, *, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None
                   ) -> web.Response:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body: dict[str, Any] = {"message": message, "type": kind, "param": param, "code": code}
    return web.json_response({"error": body}, status=status, headers=headers)


def from_request_error(err: RequestError) -> ApiError:
    status, param = _REQUEST_ERRORS.get(err.code, (400, None))
    headers = {"Retry-After": "1"} if status == 503 else None
    return ApiError(status, str(err), param=param, code=err.code.replace("-", "_"),
                    headers=headers)
