"""The queued envelope: one captured event as capture hands it to ingestion (PostHog's Kafka message).

One typed structure for both queue kinds (the embedded spool and Celery), and one compact form for both
(``dumps``); a broker message carries it compressed, as text (``pack``). ``data`` is the client's
event re-serialised as JSON text; the other fields are resolved by capture and win over the client's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields
from typing import Any

import lz4.frame
import orjson


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 5x more, and capture builds one per event
class CapturedEvent:
    uuid: str  # client uuid or a generated UUIDv7, canonical lower-case text
    distinct_id: str  # ≤ 200 chars
    ip: str | None  # client IP as seen by capture (never overrides a client `$ip`)
    data: str  # the event JSON text: event, properties, $set, $set_once, timestamp, offset…
    now: str  # server receive time, ISO 8601 with Z
    sent_at: str | None  # client send time, ISO 8601, when known
    token: str  # project API key (phc_…)
    team_id: int  # resolved from the token at capture
    event: str  # event name
    timestamp: str  # resolved event time, ISO 8601 with Z (§8 of the capture reference)
    historical_migration: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CapturedEvent:
        return cls(**raw)


_FIELDS = tuple(f.name for f in fields(CapturedEvent))


def dumps(events: list[CapturedEvent]) -> bytes:
    """The spool's form of a request's envelopes: one array of field values per event, in field order
    (a third of the size of keyed objects, three times faster to write and to read back)."""
    return orjson.dumps(
        [
            [
                e.uuid,
                e.distinct_id,
                e.ip,
                e.data,
                e.now,
                e.sent_at,
                e.token,
                e.team_id,
                e.event,
                e.timestamp,
                e.historical_migration,
            ]
            for e in events
        ]  # fmt: skip
    )


def loads(payload: bytes) -> list[CapturedEvent]:
    """``dumps``'s envelopes; also reads the keyed objects that spools written before held."""
    raws = orjson.loads(payload)
    if raws and isinstance(raws[0], dict):
        return [CapturedEvent.from_dict(raw) for raw in raws]
    return [CapturedEvent(*raw) for raw in raws]


def pack(events: list[CapturedEvent]) -> str:
    """A broker message's form of a request's envelopes: ``dumps``, LZ4-compressed, as base64 text (a JSON
    string in the Celery message): a fifth of the bytes Redis stores, and one string for kombu to encode."""
    return base64.b64encode(lz4.frame.compress(dumps(events))).decode("ascii")


def unpack(text: str) -> list[CapturedEvent]:
    """``pack``'s envelopes."""
    return loads(lz4.frame.decompress(base64.b64decode(text)))  # garbage fails LZ4's frame checks
