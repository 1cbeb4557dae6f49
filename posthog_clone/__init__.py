"""posthog_clone: a PostHog-compatible analytics backend.

Imported first by every process (Django's settings, the Celery app), so the choice of how metrics are kept
is made here, before any metric exists: with ``PROMETHEUS_MULTIPROC_DIR`` set, each process writes its values
to a file named after its host and pid in that directory (containers sharing it each count pids from 1).
"""

import os
import socket

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


_HOST = socket.gethostname()  # read once: prometheus_client asks for the id at every update of every value


def metrics_process_id(pid: int | None = None) -> str:
    """The name of a process's metrics files: host and pid."""
    return f"{_HOST}_{os.getpid() if pid is None else pid}"


def use_metrics_dir() -> None:
    """Every metric made from now on in this process (and its forks) is kept in ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import values  # only where a metrics directory is in use

    values.ValueClass = values.MultiProcessValue(metrics_process_id)


if os.environ.get(METRICS_DIR_ENV) == "":  # set but empty (an .env copied as it is) means unset, as documented
    del os.environ[METRICS_DIR_ENV]
if os.environ.get(METRICS_DIR_ENV):
    use_metrics_dir()
