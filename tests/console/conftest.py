"""Console fixtures: a signed-in browser-like client for Alice's project, and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from console.services import user_set_password
from console.vendor import PACKAGES
from posthog_clone.npm_packages import files_installed

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_throttle_left_over() -> Iterator[None]:
    cache.clear()  # sign-in failure counters of an earlier test
    yield


@pytest.fixture
def signed_in(project) -> Client:
    user_set_password(user=project.user, password=PASSWORD)
    client = Client()
    client.force_login(project.user)
    return client


@pytest.fixture
def other_signed_in(other_project) -> Client:
    client = Client()
    client.force_login(other_project.user)
    return client


@pytest.fixture
def console_libraries() -> Path:
    """The pinned Chart.js, htmx and rrweb-player the pages load: `make test` installed them where the test
    settings point CONSOLE_VENDOR_DIR (the checkout's var/console-vendor); fetched now if not."""
    vendor = Path(settings.CONSOLE_VENDOR_DIR)
    if not all(files_installed(vendor, package) for package in PACKAGES):
        call_command("fetch_console_assets")
    return vendor
