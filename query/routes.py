"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from query.views import QueryViewSet

PROJECT_ROUTES: list = [("query", QueryViewSet, "query")]
