"""Own the chDB directory for `manage.py serve` (started by it; see posthog_clone/clickhouse/engine.py).

Runs the ClickHouse migrations, the embedded ingestion worker and the export scheduler, and answers the
web processes' ClickHouse calls. SIGTERM stops it between two ingestion batches.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from posthog_clone.clickhouse import get_client
from posthog_clone.clickhouse.engine import engine_address, engine_authkey, run_engine
from posthog_clone.server.startup import on_engine_start, on_engine_stop

logger = logging.getLogger("engine")
EXIT_WITHIN_SECONDS = 3


class Command(BaseCommand):
    help = "Own the chDB directory for the web processes of `serve` (serve starts it)."
    requires_system_checks: list[str] = []  # serve ran them; they cost the engine a second at every start

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.CLICKHOUSE.backend.value != "chdb":
            raise SystemExit("clickhouse_engine serves an embedded chDB directory; CLICKHOUSE_URL is a server")
        address = engine_address(settings.CLICKHOUSE.path)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        parent = os.getppid()
        server = run_engine(get_client(), address, engine_authkey(settings.SECRET_KEY), on_engine_start)
        logger.info("clickhouse engine ready", extra={"path": settings.CLICKHOUSE.path, "pid": os.getpid()})
        while not stop.wait(0.5):
            if os.getppid() != parent:  # serve died without stopping us (PDEATHSIG covers most of this)
                logger.warning("serve is gone; the engine stops")
                break
        server.stop()
        on_engine_stop(timeout=30)
        logger.info("clickhouse engine stopped", extra={"exit_within_s": EXIT_WITHIN_SECONDS})
        # Nothing is being written any more: leaving Python (non-daemon threads joined, chDB torn down by its
        # destructors) must not keep serve waiting. In one CI run an idle engine logged the line above and was
        # still there 30 s later. SIGALRM's default action ends the process wherever it hangs, C++ included;
        # what chDB holds is as safe as after a kill -9 (parts are renamed into place whole).
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(EXIT_WITHIN_SECONDS)
