from django.apps import AppConfig

from posthog_clone import registry


class SdkAssetsConfig(AppConfig):
    name = "sdk_assets"
    verbose_name = "posthog-js assets"

    def ready(self) -> None:
        # informational: /_readyz shows whether /static/ can serve posthog-js (never "not ready" for it)
        registry.readiness_check("sdk_assets", "sdk_assets.selectors.release_status")
