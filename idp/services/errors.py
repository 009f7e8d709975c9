"""Domain exceptions raised by services; each audience's blueprint renders them."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule of the provider refused the request. ``field`` names the input at fault."""

    code = "invalid_request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    code = "invalid_input"


class Conflict(ServiceError):
    code = "conflict"


class NotFound(ServiceError):
    code = "not_found"
