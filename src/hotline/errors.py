"""Domain errors with stable machine-readable codes; the HTTP layer and the CLI map them once."""

from __future__ import annotations

from typing import Any


class HotlineError(Exception):
    """Base error. `code` is stable (clients match on it); `message` is for people, in Chinese."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(HotlineError):
    code = "invalid-input"
    http_status = 422


class NotFound(HotlineError):
    code = "not-found"
    http_status = 404


class Conflict(HotlineError):
    code = "conflict"
    http_status = 409


class Forbidden(HotlineError):
    code = "forbidden"
    http_status = 403


class TooManyAttempts(HotlineError):
    code = "too-many-attempts"
    http_status = 429
