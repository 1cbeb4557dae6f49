"""The client-visible errors of the public SDK endpoints: PostHog's `{type, code, detail, attr}` body with the
codes of the capture reference §6. Raised by the pure decoding/parsing functions of any public endpoint,
turned into a response (with CORS) by ``posthog_clone.sdk.http.error_response``.
"""

from __future__ import annotations

from typing import Any

NO_DATA_DETAIL = "No data found. Make sure to use a POST request when sending the payload in the body of the request."
MISSING_API_KEY_DETAIL = "API key not provided. You can find your project API key in PostHog project settings."
INVALID_TOKEN_DETAIL = "Project API key invalid. You can find your project API key in PostHog project settings."


class SDKError(Exception):
    """A request a public endpoint refuses as a whole (nothing from it is kept)."""

    def __init__(self, status: int, type: str, code: str, detail: str, *, retry_after: int | None = None):
        super().__init__(detail)
        self.status = status
        self.type = type
        self.code = code
        self.detail = detail
        self.retry_after = retry_after  # seconds, sent as `Retry-After` (a 503 the client should retry)

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": None}

    def __repr__(self) -> str:
        return f"SDKError({self.status}, {self.code!r}, {self.detail!r})"


def malformed(why: str) -> SDKError:
    return SDKError(400, "validation_error", "invalid_payload", f"Malformed request data: {why}")


def unreadable_body() -> SDKError:
    """The server could not deliver the body (a bad chunk size, a body cut short): capture's malformed 400."""
    return malformed("the request body could not be read (it ended early or its chunked encoding is invalid)")


def invalid_payload(why: str) -> SDKError:
    return SDKError(400, "validation_error", "invalid_payload", f"Invalid payload: {why}")


def no_data() -> SDKError:
    return SDKError(400, "validation_error", "no_data", NO_DATA_DETAIL)


def too_large() -> SDKError:
    return SDKError(413, "client_error", "request_too_large", "Request too large.")


def missing_api_key() -> SDKError:
    return SDKError(401, "authentication_error", "missing_api_key", MISSING_API_KEY_DETAIL)


def bad_token_shape(reason: str) -> SDKError:
    return SDKError(401, "authentication_error", reason, f"Provided API key is not valid: {reason}")


def invalid_token(code: str = "invalid_token") -> SDKError:
    """An API key no project has. Capture answers code `invalid_token`, /flags and /decide `invalid_api_key`."""
    return SDKError(401, "authentication_error", code, INVALID_TOKEN_DETAIL)


def method_not_allowed(method: str) -> SDKError:
    return SDKError(405, "invalid_request", "method_not_allowed", f'Method "{method}" not allowed.')


# A 503's `Retry-After`: a full disk or a broker restart lasts seconds to minutes; SDKs retry 5xx on their own
# schedule (posthog-js: 3 s doubling), a client that reads the header waits this long.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def unavailable() -> SDKError:
    """Nothing of the request was stored (the queue refused it): retry later."""
    return SDKError(
        503,
        "server_error",
        "server_error",
        "Unable to store event. Please try again.",
        retry_after=UNAVAILABLE_RETRY_AFTER_SECONDS,
    )
