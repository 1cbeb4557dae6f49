"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from persons.views import PersonViewSet

PROJECT_ROUTES: list = [("persons", PersonViewSet, "persons")]
