from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"

    def ready(self) -> None:
        from posthog_clone import registry

        # Queries name actions (ActionsNode, matchesAction) by id or name; the query app reads their steps here.
        registry.query_reference("action", "actions.selectors.action_for_query")
