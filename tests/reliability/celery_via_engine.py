"""`celery -A posthog_clone worker …` whose ClickHouse is chDB served by a separate engine process
(`manage.py clickhouse_engine`) over the engine's socket, the way serve's web processes reach it: the
test can then take ClickHouse away (kill the engine) and give it back while the worker runs, as it would
stop and start a ClickHouse server. A call finds the engine gone at once (connection refused, like a
server's closed port) and waits one second for it to come back (as a client's connect timeout would).

Run as ``python -m tests.reliability.celery_via_engine worker -Q ingestion …``."""

from __future__ import annotations

import os
import sys

import django

CONNECT_WAIT_SECONDS = 1.0


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
    django.setup()
    from celery.__main__ import main as celery_main
    from django.conf import settings

    from posthog_clone import clickhouse
    from posthog_clone.clickhouse.engine import EngineClient, engine_address, engine_authkey

    settings.CLICKHOUSE_ENGINE_ADDRESS = engine_address(settings.CLICKHOUSE.path)
    clickhouse._client = EngineClient(
        settings.CLICKHOUSE_ENGINE_ADDRESS, engine_authkey(settings.SECRET_KEY), connect_wait=CONNECT_WAIT_SECONDS
    )
    sys.argv = ["celery", "-A", "posthog_clone", *sys.argv[1:]]
    celery_main()


if __name__ == "__main__":
    main()
