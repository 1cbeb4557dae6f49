"""HogQL errors. Exposed ones are safe to show users (HTTP 400 with their `code_name`)."""

from __future__ import annotations


class BaseHogQLError(Exception):
    code_name = "hogql_error"

    def __init__(self, message: str, *, start: int | None = None, end: int | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.fix = fix

    def __str__(self) -> str:
        return self.message


class ExposedHogQLError(BaseHogQLError):
    """An error caused by the user's query: the message is shown as is."""


class HogQLSyntaxError(ExposedHogQLError):
    code_name = "hogql_syntax_error"


class HogQLQueryError(ExposedHogQLError):
    code_name = "hogql_query_error"


class ResolutionError(HogQLQueryError):
    """A name that does not resolve against the virtual schema (PostHog exposes these as 400 too)."""


class InternalHogQLError(BaseHogQLError):
    """A bug in the compiler, never shown to users."""
