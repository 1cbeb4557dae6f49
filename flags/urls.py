"""Plain URLs of this app (outside /api/projects/:id/): the SDK-facing flag endpoints."""

from django.urls import re_path

from flags.local_evaluation import LocalEvaluationView
from flags.public_views import DecideView, FlagsView, RemoteConfigScriptView, RemoteConfigView

urlpatterns: list = [
    re_path(r"^flags/definitions/?$", LocalEvaluationView.as_view(), name="flags-definitions"),
    re_path(r"^flags/?$", FlagsView.as_view(), name="flags"),
    re_path(r"^decide/?$", DecideView.as_view(), name="decide"),
    re_path(r"^array/(?P<token>[^/]+)/config\.js$", RemoteConfigScriptView.as_view(), name="remote-config-js"),
    re_path(r"^array/(?P<token>[^/]+)/config/?$", RemoteConfigView.as_view(), name="remote-config"),
    re_path(r"^api/feature_flag/local_evaluation/?$", LocalEvaluationView.as_view(), name="local-evaluation"),
]
