"""Query errors as API errors: HogQL and ClickHouse user errors → 400 `validation_error`; timeouts → 400
`query_timeout` (a clean client error: the query must be narrowed; PostHog answers 504 here).

The error types other apps catch live here: `ExposedHogQLError` (any error the user can fix, re-exported
from `query.hogql.errors`), `QueryTimeoutError` and `ClickHouseUserError`."""

from __future__ import annotations

from rest_framework import exceptions, status

from query.hogql.errors import ExposedHogQLError

__all__ = [
    "ClickHouseUnavailable",
    "ClickHouseUserError",
    "ExposedHogQLError",
    "QueryTimeout",
    "QueryTimeoutError",
    "QueryValidationError",
    "TooManyQueries",
    "as_api_exception",
]


class ClickHouseUserError(ExposedHogQLError):
    """ClickHouse rejected the query for a reason the user can fix (type mismatch, unknown function…)."""

    def __init__(self, message: str, *, code_name: str):
        super().__init__(message)
        self.code_name = code_name


class QueryTimeoutError(ExposedHogQLError):
    code_name = "query_timeout"


class QueryValidationError(exceptions.ValidationError):
    def __init__(self, error: ExposedHogQLError):
        super().__init__(detail=str(error), code=error.code_name)


class QueryTimeout(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "query_timeout"
    error_type = "validation_error"


class ClickHouseUnavailable(exceptions.APIException):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "ClickHouse error while executing query."
    default_code = "clickhouse_error"
    error_type = "server_error"


class TooManyQueries(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Too many simultaneous queries. Try again later."
    default_code = "too_many_simultaneous_queries"
    error_type = "server_error"


def as_api_exception(error: Exception) -> exceptions.APIException:
    if isinstance(error, QueryTimeoutError):
        return QueryTimeout(detail=str(error))
    if isinstance(error, ExposedHogQLError):
        return QueryValidationError(error)
    return ClickHouseUnavailable()
