"""Limit/offset pagination: `{count, next, previous, results}`, 100 per page, no practical maximum (PostHog's
default), with `limit` and `offset` clamped to 2^63-1 like PostHog's newest list endpoints: a huge value is a
very large (or empty) page, never a database integer overflow (500)."""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_PAGE_PARAM = 2**63 - 1  # the largest LIMIT / OFFSET SQLite and PostgreSQL accept


class DefaultPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = MAX_PAGE_PARAM

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_PAGE_PARAM)
