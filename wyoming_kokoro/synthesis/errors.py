"""The one error a front end turns into a protocol answer (a Wyoming ``error``, an HTTP body)."""

from __future__ import annotations


class RequestError(ValueError):
    """The request cannot be served as asked; the message is for the client, the code for
    the protocol (and the metrics' outcome label)."""

    def __init__(self, message: str, code: str = "bad-request") -> None:
        super().__init__(message)
        self.code = code
