"""Plain URLs of this app (outside /api/projects/:id/)."""

urlpatterns: list = []
