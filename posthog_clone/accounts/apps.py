from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "posthog_clone.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Imported here, not at the top: posthog_clone.sdk.tokens imports this app's models, which Django loads
        # only after every AppConfig module (Django's documented place for signal wiring).
        from posthog_clone.sdk.tokens import token_cache_connect

        token_cache_connect()
