"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from exports.views import ExportedAssetViewSet

PROJECT_ROUTES: list = [("exports", ExportedAssetViewSet, "exports")]
