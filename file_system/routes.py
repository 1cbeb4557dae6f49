"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from file_system.views import FileSystemViewSet

PROJECT_ROUTES: list = [("file_system", FileSystemViewSet, "file_system")]
