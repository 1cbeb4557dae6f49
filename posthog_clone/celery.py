"""The Celery app used in scale mode (CELERY_BROKER_URL set): `celery -A posthog_clone worker`."""

from __future__ import annotations

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# redis:// and rediss:// brokers use the transport that never drops a message a killed worker had taken.
TRANSPORT_ALIASES.update(dict.fromkeys(("redis", "rediss"), "posthog_clone.redis_transport:Transport"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")

app = Celery("posthog_clone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
