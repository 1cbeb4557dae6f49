from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"

    def ready(self) -> None:
        from posthog_clone import registry

        # An export may name an insight instead of a query: the exports app asks here what to draw or tabulate.
        registry.export_target(
            "insight", exists="insights.exports.insight_exists", panels="insights.exports.insight_panels"
        )
