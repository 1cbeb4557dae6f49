from django.apps import AppConfig


class ClickHouseConfig(AppConfig):
    name = "posthog_clone.clickhouse"
    label = "clickhouse"
    verbose_name = "ClickHouse"
