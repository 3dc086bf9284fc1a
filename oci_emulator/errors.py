"""OCI API errors raised by the emulator's state and API layers.

Real OCI answers every failure with an HTTP status plus a JSON body ``{"code", "message"}``, and the SDK turns that
into ``oci.exceptions.ServiceError(status, code, message)``. Clients (the scaler included) branch on the status and
code, so the emulator must produce the same pairs. Raising typed errors from the pure queue logic and rendering them
in one place keeps the pairing consistent and lets unit tests assert on the error class without HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """A failure that the HTTP layer renders as an OCI error response."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalServerError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(ApiError):
    status = 400
    code = "InvalidParameter"


class MissingParameter(ApiError):
    status = 400
    code = "MissingParameter"


class NotAuthenticated(ApiError):
    status = 401
    code = "NotAuthenticated"


class NotAuthorizedOrNotFound(ApiError):
    status = 404
    code = "NotAuthorizedOrNotFound"


class MethodNotAllowed(ApiError):
    status = 405
    code = "MethodNotAllowed"


class IncorrectState(ApiError):
    status = 409
    code = "IncorrectState"


class NoEtagMatch(ApiError):
    """An ``if-match`` that names another version of the resource than the current one (optimistic concurrency)."""

    status = 412
    code = "NoEtagMatch"


class TooManyRequests(ApiError):
    status = 429
    code = "TooManyRequests"


class InternalServerError(ApiError):
    status = 500
    code = "InternalServerError"


_DEFAULT_CODES: dict[int, str] = {
    400: "InvalidParameter",
    401: "NotAuthenticated",
    404: "NotAuthorizedOrNotFound",
    405: "MethodNotAllowed",
    409: "IncorrectState",
    412: "NoEtagMatch",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def default_code(status: int) -> str:
    """The OCI error code that normally accompanies ``status`` (used for injected faults without an explicit code)."""
    if status in _DEFAULT_CODES:
        return _DEFAULT_CODES[status]
    return "InternalServerError" if status >= 500 else "InvalidParameter"
