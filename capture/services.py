"""Capture's one write: decode a request, build its envelopes, hand them to the durable queue."""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings

from capture.metrics import EVENTS_ACCEPTED
from capture.parsing import capture_events_build
from capture.paths import REPLAY_KIND
from capture.replay import replay_events_build
from ingestion.queue import QueueUnavailable, enqueue
from posthog_clone.sdk.decoding import decode_request
from posthog_clone.sdk.errors import unavailable
from posthog_clone.sdk.tokens import team_id_for_token

logger = logging.getLogger("capture")
BATCH_KIND = "batch"
LEGACY_KINDS = frozenset({"e", "capture", "track", "engage"})


def capture_request_ingest(
    *,
    kind: str,
    body: bytes,
    query: Mapping[str, str],
    content_type: str,
    content_encoding: str,
    ip: str | None,
    user_agent: str = "",
) -> int:
    """Queue a capture request's events durably; returns how many. Raises SDKError (4xx/503)."""
    now = datetime.now(UTC)
    decoded = decode_request(
        body=body,
        query=query,
        form=None,
        content_type=content_type,
        content_encoding=content_encoding,
        legacy=kind in LEGACY_KINDS,
        max_bytes=settings.CAPTURE_MAX_DECOMPRESSED_BYTES,
    )
    if kind == REPLAY_KIND:
        events = replay_events_build(
            payload=decoded.payload,
            query=query,
            form=decoded.form,
            now=now,
            ip=ip,
            user_agent=user_agent,
            team_for_token=team_id_for_token,
        )
    else:
        events = capture_events_build(
            payload=decoded.payload,
            engage=kind == "engage",
            query=query,
            form=decoded.form,
            now=now,
            ip=ip,
            max_event_bytes=settings.CAPTURE_MAX_EVENT_BYTES,
            team_for_token=team_id_for_token,
        )
    try:
        enqueue(events)
    except (QueueUnavailable, sqlite3.Error, OSError) as exc:  # the spool could not even be opened: same answer
        logger.warning(
            "capture refused: the queue did not store the events", extra={"events": len(events), "error": str(exc)}
        )
        raise unavailable() from None
    EVENTS_ACCEPTED.inc(len(events))
    return len(events)


def body_limit(kind: str) -> int:
    if kind == REPLAY_KIND:
        return settings.CAPTURE_MAX_REPLAY_BODY_BYTES
    return settings.CAPTURE_MAX_BATCH_BODY_BYTES if kind == BATCH_KIND else settings.CAPTURE_MAX_BODY_BYTES


def client_ip_resolve(*, query_ip: str | None, forwarded_for: str | None, peer: str | None) -> str | None:
    """`ip` query parameter (if it is an address), else the first X-Forwarded-For entry when the peer is a
    trusted proxy (IPv4 `:port` stripped), else the peer (§10)."""
    if query_ip and _is_ip(query_ip):
        return query_ip
    if forwarded_for and _trusted(peer):
        first = forwarded_for.split(",", 1)[0].strip()
        if first.startswith("[") and "]" in first:  # [IPv6]:port
            first = first[1 : first.index("]")]
        elif first.count(":") == 1:  # IPv4 with a port (Azure gateways); IPv6 has several colons
            first = first.split(":", 1)[0]
        if _is_ip(first):
            return first
    return peer or None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(peer: str | None) -> bool:
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if networks is None:
        return True
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
    """None means every peer is trusted (`*`)."""
    if "*" in entries:
        return None
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry)
