from django.apps import AppConfig

from posthog_clone import registry


class CaptureConfig(AppConfig):
    name = "capture"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from capture.paths import CAPTURE_PATHS
        from capture.tokens import token_cache_clear
        from posthog_clone.accounts.models import Team

        post_save.connect(token_cache_clear, sender=Team, dispatch_uid="capture_token_cache_save")
        post_delete.connect(token_cache_clear, sender=Team, dispatch_uid="capture_token_cache_delete")
        for kind in CAPTURE_PATHS:  # answered by the lean WSGI handler (posthog_clone/wsgi.py)
            registry.fast_path((f"/{kind}", f"/{kind}/"), "capture.views.capture_view", kind=kind)
