"""WSGI entry point (gunicorn posthog_clone.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
application = get_wsgi_application()
