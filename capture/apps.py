from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "capture"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from capture.tokens import token_cache_clear
        from posthog_clone.accounts.models import Team

        post_save.connect(token_cache_clear, sender=Team, dispatch_uid="capture_token_cache_save")
        post_delete.connect(token_cache_clear, sender=Team, dispatch_uid="capture_token_cache_delete")
