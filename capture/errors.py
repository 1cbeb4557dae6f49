"""Capture's client-visible errors: PostHog's `{type, code, detail, attr}` body with the codes of the
capture reference §6. Raised by the pure decoding/parsing functions, turned into a response by the view.
"""

from __future__ import annotations

from typing import Any

NO_DATA_DETAIL = "No data found. Make sure to use a POST request when sending the payload in the body of the request."
MISSING_API_KEY_DETAIL = "API key not provided. You can find your project API key in PostHog project settings."
INVALID_TOKEN_DETAIL = "Project API key invalid. You can find your project API key in PostHog project settings."


class CaptureError(Exception):
    """A request capture refuses as a whole; nothing from it is queued."""

    def __init__(self, status: int, type: str, code: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.type = type
        self.code = code
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": None}

    def __repr__(self) -> str:
        return f"CaptureError({self.status}, {self.code!r}, {self.detail!r})"


def malformed(why: str) -> CaptureError:
    return CaptureError(400, "validation_error", "invalid_payload", f"Malformed request data: {why}")


def invalid_payload(why: str) -> CaptureError:
    return CaptureError(400, "validation_error", "invalid_payload", f"Invalid payload: {why}")


def no_data() -> CaptureError:
    return CaptureError(400, "validation_error", "no_data", NO_DATA_DETAIL)


def too_large() -> CaptureError:
    return CaptureError(413, "client_error", "request_too_large", "Request too large.")


def missing_api_key() -> CaptureError:
    return CaptureError(401, "authentication_error", "missing_api_key", MISSING_API_KEY_DETAIL)


def bad_token_shape(reason: str) -> CaptureError:
    return CaptureError(401, "authentication_error", reason, f"Provided API key is not valid: {reason}")


def invalid_token() -> CaptureError:
    return CaptureError(401, "authentication_error", "invalid_token", INVALID_TOKEN_DETAIL)


def unavailable() -> CaptureError:
    return CaptureError(503, "server_error", "server_error", "Unable to store event. Please try again.")
