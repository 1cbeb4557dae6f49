"""Plain URLs of this app: the public read of a shared dashboard."""

from django.urls import re_path

from dashboards.views import SharedDashboardView

urlpatterns: list = [re_path(r"^shared/(?P<token>[^/]+)/?$", SharedDashboardView.as_view(), name="shared")]
