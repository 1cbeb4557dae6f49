"""posthog-python and posthog-node, unmodified, against a live server (acceptance 2).

Every call answers 200 (the SDKs report no error) and its event is in the queue with the distinct_id,
uuid, timestamp and properties the SDK sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from posthog import Posthog

from ingestion.envelope import CapturedEvent

pytestmark = pytest.mark.django_db(transaction=True)

NODE_SCRIPT = Path(__file__).parent / "js" / "node_capture.mjs"
JS_PACKAGE_JSON = Path(__file__).parents[1] / "js" / "package.json"


def by_uuid(events: list[CapturedEvent]) -> dict[str, CapturedEvent]:
    return {e.uuid: e for e in events}


@pytest.mark.parametrize("gzip", [False, True], ids=["json", "gzip"])
def test_posthog_python_calls_are_queued(live_server: Any, queue, team, gzip: bool) -> None:
    errors: list[str] = []
    client = Posthog(
        team.api_token,
        host=live_server.url,
        flush_interval=0.05,
        gzip=gzip,
        max_retries=0,
        on_error=lambda error, _batch: errors.append(repr(error)),
    )
    sent = {
        "view": (str(uuid.uuid4()), datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        "buy": (str(uuid.uuid4()), datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)),
    }
    for name, (event_uuid, moment) in sent.items():
        returned = client.capture(
            name, distinct_id="py-user", properties={"price": 12.5, "tags": ["a"]}, uuid=event_uuid, timestamp=moment
        )
        assert returned == event_uuid
    set_uuid = client.set(distinct_id="py-user", properties={"email": "py@example.com"})
    alias_uuid = client.alias("py-anon", "py-user")
    group_uuid = client.group_identify("company", "acme", {"plan": "pro"})
    client.flush()
    client.shutdown()
    assert errors == []

    queued = by_uuid(queue.all_events())
    assert set(queued) == {sent["view"][0], sent["buy"][0], set_uuid, alias_uuid, group_uuid}
    for name, (event_uuid, moment) in sent.items():
        envelope = queued[event_uuid]
        data = orjson.loads(envelope.data)
        assert (envelope.event, envelope.distinct_id, envelope.team_id) == (name, "py-user", team.pk)
        assert data["properties"]["price"] == 12.5
        assert data["properties"]["tags"] == ["a"]
        assert data["properties"]["$lib"] == "posthog-python"
        # posthog-python sends sent_at: the stored time is the SDK's timestamp moved by the clock skew
        skew = datetime.fromisoformat(envelope.now) - datetime.fromisoformat(envelope.sent_at)
        assert abs(skew.total_seconds()) < 5
        resolved = datetime.fromisoformat(envelope.timestamp)
        assert abs((resolved - moment - skew).total_seconds()) < 0.002
    identify = queued[set_uuid]
    assert (identify.event, identify.distinct_id) == ("$set", "py-user")
    assert orjson.loads(identify.data)["$set"] == {"email": "py@example.com"}  # top-level, kept as sent
    alias = queued[alias_uuid]
    assert alias.event == "$create_alias"
    assert orjson.loads(alias.data)["properties"]["alias"] == "py-user"
    group = queued[group_uuid]
    assert group.event == "$groupidentify"
    assert orjson.loads(group.data)["properties"]["$group_type"] == "company"
    assert orjson.loads(group.data)["properties"]["$group_set"] == {"plan": "pro"}


@pytest.mark.node
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_posthog_node_calls_are_queued(live_server: Any, queue, team) -> None:
    events = [
        {
            "distinctId": "node-user",
            "event": f"node-{i}",
            "properties": {"i": i, "nested": {"ok": True}},
            "uuid": str(uuid.uuid4()),
            "timestamp": f"2024-05-01T10:00:0{i}.000Z",
        }
        for i in range(5)
    ]
    run = subprocess.run(
        ["node", str(NODE_SCRIPT), json.dumps({"host": live_server.url, "token": team.api_token, "events": events})],
        capture_output=True,
        text=True,
        timeout=60,
        env={"SDK_PACKAGE_JSON": str(JS_PACKAGE_JSON), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"errors": []}

    queued = queue.all_events()
    assert {e.team_id for e in queued} == {team.pk}
    found = by_uuid(queued)
    for sent in events:
        envelope = found[sent["uuid"]]
        data = orjson.loads(envelope.data)
        assert (envelope.event, envelope.distinct_id) == (sent["event"], "node-user")
        assert data["properties"]["i"] == sent["properties"]["i"]
        assert data["properties"]["nested"] == {"ok": True}
        assert data["properties"]["$lib"] == "posthog-node"
        skew = datetime.fromisoformat(envelope.now) - datetime.fromisoformat(envelope.sent_at)
        resolved = datetime.fromisoformat(envelope.timestamp)
        assert abs((resolved - datetime.fromisoformat(sent["timestamp"]) - skew).total_seconds()) < 0.002
    names = [e.event for e in queued]
    assert {"$identify", "$create_alias", "$groupidentify"} <= set(names)
    assert len(queued) == len(events) + 3
