from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "posthog_clone.server"
    label = "server"
    verbose_name = "Server processes"
