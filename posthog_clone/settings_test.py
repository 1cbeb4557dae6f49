"""Test settings: the real settings with a throwaway var/ directory, fast hashing and strict contracts."""

import os
import tempfile

_tmp = tempfile.mkdtemp(prefix="posthog_clone_test_")
os.environ.setdefault("VAR_DIR", _tmp)
# The console's pinned libraries: where `make test` installed them (the checkout's var/), not the throwaway dir.
os.environ.setdefault(
    "CONSOLE_VENDOR_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var", "console-vendor"),
)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("INGEST_WORKER_IN_PROCESS", "false")

from posthog_clone.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STRICT_RESPONSE_VALIDATION = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
