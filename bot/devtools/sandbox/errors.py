"""Errors the sandbox answers with, and the two APIs' error bodies.

Domain code raises `ApiError`; the server turns it into MK.IO's or Contro's error shape
depending on which API the request was for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Api = Literal["mkio", "contro"]

MKIO_CODES: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
CONTRO_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
DEFAULT_MESSAGES: dict[int, str] = {
    400: "The request is invalid.",
    401: "Authentication failed.",
    403: "Access denied.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "The request conflicts with the current state.",
    429: "Rate limit exceeded. Try again later.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable.",
    504: "Gateway timeout.",
}


class ApiError(Exception):
    """An error answer. `code` is API-specific; None picks the API's code for the status."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = dict(headers or {})


def default_message(status: int) -> str:
    return DEFAULT_MESSAGES.get(status, f"HTTP {status}.")


def mkio_error_body(error: ApiError, ref: str) -> dict[str, Any]:
    """`{"error": {"code", "detail"}, "status", "ref"}`, as MK.IO answers every error."""
    code = error.code or MKIO_CODES.get(error.status, f"Error{error.status}")
    return {"error": {"code": code, "detail": error.detail}, "status": error.status, "ref": ref}


def contro_error_body(error: ApiError) -> dict[str, Any]:
    """`{"success": false, "error": ...}`.

    Contro uses a plain message for some errors and `{"code", "message"}` for others; the
    sandbox answers 400 with the object form and everything else with the string form, so
    clients meet both.
    """
    if error.status == 400:
        code = error.code or CONTRO_CODES[400]
        return {"success": False, "error": {"code": code, "message": error.detail}}
    return {"success": False, "error": error.detail}


def error_body(api: Api, error: ApiError, ref: str) -> dict[str, Any]:
    return mkio_error_body(error, ref) if api == "mkio" else contro_error_body(error)
