from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"

    def ready(self) -> None:
        from flags import signals  # noqa: F401  (connects the cache invalidation receivers)
