"""`/s/`: from decoded JSON to the queue envelopes of session replay (replay reference §1.3, §1.4 steps 1–2).
Pure: no Django, no database.

Each `$snapshot` event is validated (a `$session_id` of at most 70 ASCII letters, digits and dashes; a
`$snapshot_data` array or object) and the items of the events of one (session, window) are folded into one
`$snapshot_items` envelope, in the order received. One bad event fails the whole request (400) before
anything is queued. What the items mean (counts, active time, the blob) is ingestion's (``replay.ingestion``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from capture.parsing import (
    capture_token_extract,
    distinct_id_extract,
    iso,
    request_shape_read,
    sent_at_resolve,
    uuid_resolve,
)
from ingestion.envelope import CapturedEvent
from posthog_clone.sdk.errors import invalid_payload, invalid_token

SNAPSHOT_EVENT = "$snapshot"
SNAPSHOT_ITEMS = "$snapshot_items"  # the folded message (PostHog's name for it)
MAX_SESSION_ID_CHARS = 70
_SESSION_ID = re.compile(r"[A-Za-z0-9-]{1,70}")


def replay_events_build(
    *,
    payload: Any,
    query: Mapping[str, str],
    form: Mapping[str, str],
    now: datetime,
    ip: str | None,
    user_agent: str,
    team_for_token: Callable[[str], int | None],
) -> list[CapturedEvent]:
    """The `$snapshot_items` envelopes of one `/s/` request (one per session and window); raises SDKError."""
    raw = request_shape_read(payload=payload, engage=False)
    token = capture_token_extract(raw=raw, events=raw.events, query=query, form=form)
    team_id = team_for_token(token)
    if team_id is None:
        raise invalid_token()
    sent_at = sent_at_resolve(body_sent_at=raw.sent_at, query=query, form=form)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for event in raw.events:
        if event.get("event") != SNAPSHOT_EVENT:
            continue  # PostHog's replay capture reads `$snapshot` events only
        properties = event.get("properties")
        if not isinstance(properties, dict):
            raise invalid_payload("$snapshot events must have a properties object")
        session_id = session_id_validate(properties.get("$session_id"))
        items = snapshot_items(properties)
        window_id = properties.get("$window_id")
        window_id = window_id if isinstance(window_id, str) and window_id else session_id
        key = (session_id, window_id)
        group = groups.get(key)
        if group is None:
            source = properties.get("$snapshot_source")
            groups[key] = group = {
                "uuid": uuid_resolve(event.get("uuid")),
                "distinct_id": distinct_id_extract(event=event, properties=properties),
                "properties": {
                    "$session_id": session_id,
                    "$window_id": window_id,
                    "$snapshot_source": source if isinstance(source, str) and source else "web",
                    "$lib": library_resolve(properties.get("$lib"), user_agent),
                    "$snapshot_items": [],
                },
            }
        group["properties"]["$snapshot_items"].extend(items)
    if not groups:
        raise invalid_payload('no "$snapshot" events in the request')
    now_text = iso(now)
    sent_at_text = iso(sent_at) if sent_at else None
    built = []
    for group in groups.values():
        properties = group["properties"]
        properties["distinct_id"] = group["distinct_id"]
        data = {"event": SNAPSHOT_ITEMS, "uuid": group["uuid"], "properties": properties}
        built.append(
            CapturedEvent(
                uuid=group["uuid"],
                distinct_id=group["distinct_id"],
                ip=ip,
                data=orjson.dumps(data).decode(),
                now=now_text,
                sent_at=sent_at_text,
                token=token,
                team_id=team_id,
                event=SNAPSHOT_ITEMS,
                timestamp=now_text,
            )
        )
    return built


def session_id_validate(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_payload('$snapshot events must have a string "$session_id"')
    if len(value) > MAX_SESSION_ID_CHARS:
        raise invalid_payload(f'"$session_id" is longer than {MAX_SESSION_ID_CHARS} characters')
    if not _SESSION_ID.fullmatch(value):
        raise invalid_payload('"$session_id" may hold only ASCII letters, digits and "-"')
    return value


def snapshot_items(properties: dict[str, Any]) -> list[Any]:
    """`$snapshot_data` as a list (very old SDKs sent one object)."""
    if "$snapshot_data" not in properties:
        raise invalid_payload('$snapshot events must contain property "$snapshot_data"!')
    data = properties["$snapshot_data"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise invalid_payload('"$snapshot_data" must be an array or an object')


def library_resolve(lib: Any, user_agent: str) -> str:
    """`$lib`, else the User-Agent's product token when it names posthog, else "web" (§1.4 step 2)."""
    if isinstance(lib, str) and lib:
        return lib
    product = user_agent.split("/", 1)[0].strip() if user_agent else ""
    if "posthog" in product.lower():
        return product
    return "web"
