"""Prometheus metrics, exposed at /_metrics in the text format.

Counters for requests and events, the ingestion queue depth, and ClickHouse insert latency. Each
process has its own registry (the embedded default is one process); in scale mode scrape every web
process and worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

logger = logging.getLogger(__name__)
REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "status"])
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
EVENTS_ACCEPTED = Counter("capture_events_accepted_total", "Events acknowledged with a 200 by capture")
EVENTS_REJECTED = Counter("capture_events_rejected_total", "Capture requests refused", ["status"])
EVENTS_WRITTEN = Counter("ingestion_events_written_total", "Events written to ClickHouse")
EVENTS_DROPPED = Counter("ingestion_events_dropped_total", "Events dropped by ingestion", ["reason"])
QUEUE_DEPTH = Gauge("ingestion_queue_depth", "Events waiting in the embedded spool")
QUEUE_MESSAGES = Gauge(
    "ingestion_queue_messages", "Messages (one capture request's events each) waiting on the broker's ingestion queue"
)
WORKER_LAG = Gauge("ingestion_worker_lag_seconds", "Age of the oldest event in the last batch written")
INSERT_LATENCY = Histogram(
    "clickhouse_insert_duration_seconds",
    "ClickHouse insert latency",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    if settings.INGEST_QUEUE == "spool":
        from ingestion.queue import get_spool

        QUEUE_DEPTH.set(get_spool().depth())
    else:
        from ingestion.broker import depth

        try:
            QUEUE_MESSAGES.set(depth())
        except Exception as exc:  # a broker that is down must not take the metrics page with it (/_readyz says why)
            logger.warning("broker queue depth unavailable", extra={"error": str(exc)})
            QUEUE_MESSAGES.set(float("nan"))
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
