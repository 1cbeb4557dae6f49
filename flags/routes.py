"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from flags.views import FeatureFlagViewSet

PROJECT_ROUTES: list = [("feature_flags", FeatureFlagViewSet, "feature_flags")]
