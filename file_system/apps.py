from django.apps import AppConfig


class FileSystemConfig(AppConfig):
    name = "file_system"

    def ready(self) -> None:
        from file_system.registrations import register_all

        register_all()  # tree rows follow the registered domain objects (post_save / post_delete)
