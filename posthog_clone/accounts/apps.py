from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "posthog_clone.accounts"
    label = "accounts"
    verbose_name = "Accounts"
