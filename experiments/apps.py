from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"

    def ready(self) -> None:
        # /query/ answers ExperimentQuery and ExperimentExposureQuery: the kinds live here (they read experiments
        # and use this app's statistics) and join query.kinds.KINDS; the query app never imports this app.
        from experiments.query_kinds import register

        register()
