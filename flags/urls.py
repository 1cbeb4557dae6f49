"""Plain URLs of this app (outside /api/projects/:id/): the SDK-facing flag endpoints."""

from django.urls import re_path

from flags.local_evaluation import LocalEvaluationView
from flags.public_views import decide_view, flags_view, remote_config_js_view, remote_config_view

urlpatterns: list = [
    re_path(r"^flags/definitions/?$", LocalEvaluationView.as_view(), name="flags-definitions"),
    re_path(r"^flags/?$", flags_view, name="flags"),
    re_path(r"^decide/?$", decide_view, name="decide"),
    re_path(r"^array/(?P<token>[^/]+)/config\.js$", remote_config_js_view, name="remote-config-js"),
    re_path(r"^array/(?P<token>[^/]+)/config/?$", remote_config_view, name="remote-config"),
    re_path(r"^api/feature_flag/local_evaluation/?$", LocalEvaluationView.as_view(), name="local-evaluation"),
]
