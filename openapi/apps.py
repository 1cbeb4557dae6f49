from django.apps import AppConfig


class OpenapiConfig(AppConfig):
    name = "openapi"

    def ready(self) -> None:
        from openapi import extensions  # noqa: F401 - registers the spec extensions
