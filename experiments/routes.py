"""Project-scoped routes: (prefix, viewset, basename), under /api/projects/:id/ and /api/environments/:id/."""

from experiments.views import ExperimentHoldoutViewSet, ExperimentSavedMetricViewSet, ExperimentViewSet

PROJECT_ROUTES: list = [
    ("experiments", ExperimentViewSet, "experiments"),
    ("experiment_holdouts", ExperimentHoldoutViewSet, "experiment_holdouts"),
    ("experiment_saved_metrics", ExperimentSavedMetricViewSet, "experiment_saved_metrics"),
]
