"""Routers whose routes accept an optional trailing slash, as PostHog's do."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
        self.trailing_slash = "/?"
