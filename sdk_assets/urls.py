"""Plain URLs of this app: posthog-js's files under /static/ (WhiteNoise answers first for the Swagger UI and
admin files, which live in subdirectories; a bare file name falls through to here)."""

from django.urls import re_path

from sdk_assets.views import sdk_asset, sdk_versioned_asset

urlpatterns: list = [
    re_path(r"^static/(?P<name>[^/]+)$", sdk_asset, name="sdk-asset"),
    re_path(
        r"^static/(?P<version>[0-9][0-9A-Za-z.+-]*)/(?P<name>[^/]+)$", sdk_versioned_asset, name="sdk-asset-versioned"
    ),
]
