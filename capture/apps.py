from django.apps import AppConfig

from capture.paths import CAPTURE_PATHS
from posthog_clone import registry


class CaptureConfig(AppConfig):
    name = "capture"

    def ready(self) -> None:
        for kind in CAPTURE_PATHS:  # WSGI-native handlers, in front of Django (posthog_clone/wsgi.py)
            registry.fast_path((f"/{kind}", f"/{kind}/"), "capture.views.capture", kind=kind)
