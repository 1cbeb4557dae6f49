"""Ingestion's Prometheus metrics (rendered at /_metrics by the plumbing, summed over the server's
processes: the engine or Celery workers write, a web process answers the scrape)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_WRITTEN = Counter("ingestion_events_written_total", "Events written to ClickHouse")
EVENTS_DROPPED = Counter("ingestion_events_dropped_total", "Events dropped by ingestion", ["reason"])
QUEUE_DEPTH = Gauge("ingestion_queue_depth", "Events waiting in the embedded spool", multiprocess_mode="mostrecent")
QUEUE_MESSAGES = Gauge(
    "ingestion_queue_messages",
    "Messages (one capture request's events each) waiting on the broker's ingestion queue",
    multiprocess_mode="mostrecent",
)
INSERT_LATENCY = Histogram(
    "clickhouse_insert_duration_seconds",
    "ClickHouse insert latency",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
