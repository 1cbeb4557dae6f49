"""Prometheus metrics at /_metrics, in the text format, for the whole server in one scrape.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``manage.py serve`` sets it for its web processes and the engine;
the compose file shares one directory between the web and worker containers), every process writes its
values to files there and a scrape reads them all (prometheus_client's multiprocess mode): counters are
summed over processes, gauges take the value most recently set. Without it, the scrape shows this process.

The plumbing defines the HTTP metrics; apps define their own (``capture/metrics.py``,
``ingestion/metrics.py``) and register scrape hooks (``posthog_clone.registry.scrape_hook``) for gauges read
at scrape time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from posthog_clone import METRICS_DIR_ENV, registry
from posthog_clone.clickhouse import timing as clickhouse_timing

logger = logging.getLogger(__name__)

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "status"])
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with clickhouse_timing.measuring() as spent:
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        REQUEST_LATENCY.observe(elapsed)
        if spent.queries:  # a standard header: browsers' developer tools and benchmarks read it
            clickhouse = f'clickhouse;dur={spent.seconds * 1000:.2f};desc="{spent.queries} queries"'
            response.headers["Server-Timing"] = f"{clickhouse}, app;dur={elapsed * 1000:.2f}"
        REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response


def metrics_text() -> bytes:
    for name, hook in registry.SCRAPE_HOOKS.items():
        try:
            hook()
        except Exception as exc:  # noqa: BLE001 - a dependency that is down must not take the page with it
            logger.warning("metrics scrape hook failed", extra={"hook": name, "error": f"{type(exc).__name__}: {exc}"})
    if os.environ.get(METRICS_DIR_ENV):
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process)
        return generate_latest(every_process)
    return generate_latest()


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
