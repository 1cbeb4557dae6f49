from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from posthog_clone import registry

        # An export may name a dashboard: a PNG of its tiles, computed in the dashboard's context.
        registry.export_target(
            "dashboard", exists="dashboards.exports.dashboard_exists", panels="dashboards.exports.dashboard_panels"
        )
