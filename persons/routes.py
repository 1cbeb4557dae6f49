"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

PROJECT_ROUTES: list = []
