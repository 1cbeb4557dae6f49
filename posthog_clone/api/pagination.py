"""Limit/offset pagination: `{count, next, previous, results}`, 100 per page, no maximum (PostHog's default)."""

from rest_framework.pagination import LimitOffsetPagination


class DefaultPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = None
