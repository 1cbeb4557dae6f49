"""Capture's Prometheus metrics (rendered at /_metrics by the plumbing, summed over the web processes)."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS_ACCEPTED = Counter("capture_events_accepted_total", "Events acknowledged with a 200 by capture")
