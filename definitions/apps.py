from django.apps import AppConfig


class DefinitionsConfig(AppConfig):
    name = "definitions"

    def ready(self) -> None:
        from definitions import signals  # noqa: F401  (enforcement cache invalidation receivers)
