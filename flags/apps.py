from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"

    def ready(self) -> None:
        from flags import openapi, signals  # noqa: F401  (cache invalidation receivers, spec extension)
