"""A measurement for target 2's next step, not the pipeline: what would the engine's CPU an event be if ClickHouse
parsed the event JSON instead of the worker?

    .venv/bin/python -m bench.ingest.clickhouse_parses [--batches 4] [--size 20000]

A throwaway VAR_DIR. The events are `bench.ingest`'s (5,000 users, 4 event names, no `$set`), made into envelopes
by capture's own functions. Each batch goes two ways, one after the other, in this process:

- **today**: `process_batch` (normalize, persons, definitions, rows) and its insert into `events`;
- **proposed**: rows built from the envelopes without parsing `data` (the person looked up by distinct id in a
  dict loaded from Postgres after today's run of the batch, as a warm cache would hold it), inserted into a `Null`
  staging table whose materialized view writes `events_proposed` (a table like `events`): ClickHouse takes the
  `properties` object out of the event JSON, adds `$ip` and `$sent_at`, and takes `$elements_chain`.

Printed per batch: this thread's CPU an event in Python, and the process's CPU an event during the insert (chDB
runs in this process); then the means of the steady batches (all but the first) and whether every row of
`events_proposed` equals its row in `events` (properties, elements chain, timestamp, person).

What the proposed way leaves out, so its Python figure is a floor: definitions (they need each event's property
keys and types), the persons step of events that change a person (`$set`, `$identify`, …: parsed in Python, as
today), `$set`/`$set_once` copied into properties, `$elements` converted to a chain, and timestamps not in
capture's form.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest import in_process_project

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STAGING_COLUMNS = (
    "uuid", "event", "data", "timestamp", "team_id", "distinct_id", "ip", "sent_at", "created_at", "person_id",
    "person_created_at", "person_properties", "person_mode", "_timestamp",
)  # fmt: skip
PERSON_CHANGING = frozenset({"$identify", "$create_alias", "$merge_dangerously", "$set"})


def _proposed_tables(events: str) -> tuple[str, str]:
    """The `Null` staging table and `events_proposed` (fed by the view); their names."""
    from posthog_clone.clickhouse import get_client

    client = get_client()
    staging, target = events[:-1] + "_staging`", events[:-1] + "_proposed`"  # `posthog`.`events` → …`events_…`
    client.command(f"CREATE TABLE {target} AS {events}")
    client.command(
        f"CREATE TABLE {staging} (uuid UUID, event String, data String, timestamp DateTime64(6, 'UTC'), "
        "team_id Int64, distinct_id String, ip String, sent_at String, created_at DateTime64(6, 'UTC'), "
        "person_id UUID, person_created_at DateTime64(3, 'UTC'), person_properties String, "
        "person_mode Enum8('full' = 0, 'propertyless' = 1, 'force_upgrade' = 2), _timestamp DateTime) ENGINE = Null"
    )
    props = "JSONExtractRaw(data, 'properties')"
    comma = f"if(length({props}) > 2, ',', '')"
    with_ip = f"if(ip = '' OR JSONHas(data, 'properties', '$ip'), '', concat({comma}, '\"$ip\":', toJSONString(ip)))"
    with_sent_at = "if(sent_at = '', '', concat(',\"$sent_at\":', toJSONString(sent_at)))"
    properties = f"concat(substring({props}, 1, length({props}) - 1), {with_ip}, {with_sent_at}, '}}')"
    client.command(
        f"CREATE MATERIALIZED VIEW {staging[:-1]}_mv` TO {target} AS SELECT uuid, event, {properties} AS properties, "
        "timestamp, team_id, distinct_id, JSONExtractString(data, 'properties', '$elements_chain') AS elements_chain, "
        "created_at, person_id, person_created_at, person_properties, person_mode, _timestamp "
        f"FROM {staging}"
    )
    return staging, target


def _persons() -> dict[tuple[int, str], tuple[str, str, str]]:
    import orjson

    from ingestion.processing import ch_datetime
    from persons.models import PersonDistinctId

    return {
        (pdi.team_id, pdi.distinct_id): (
            str(pdi.person.uuid),
            ch_datetime(pdi.person.created_at)[:23],
            orjson.dumps(pdi.person.properties).decode(),
        )
        for pdi in PersonDistinctId.objects.select_related("person")
    }


def _proposed_body(envelopes: list, persons: dict) -> bytes:
    import orjson

    from ingestion.processing import ch_datetime

    created_at = ch_datetime(datetime.now(UTC))
    version = created_at[:19]
    rows = []
    for e in envelopes:
        if e.event in PERSON_CHANGING or '"$set' in e.data:
            orjson.loads(e.data)  # an event that changes its person is parsed, as today (none in this dataset)
        person_id, person_created, person_properties = persons[(e.team_id, e.distinct_id)]
        t = e.timestamp  # capture's form, 2026-12-07T10:00:00.000Z
        rows.append([
            e.uuid, e.event, e.data, f"{t[:10]} {t[11:23]}000", e.team_id, e.distinct_id, e.ip or "",
            e.sent_at or "", created_at, person_id, person_created, person_properties, "full", version,
        ])  # fmt: skip
    return orjson.dumps(rows)[1:-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    token = in_process_project("bench-ch-parses-")
    import orjson

    from bench.ingest.__main__ import _bodies
    from capture.parsing import capture_events_build
    from ingestion.pipeline import insert_events, process_batch
    from posthog_clone.clickhouse import get_client, table
    from posthog_clone.sdk.tokens import team_id_for_token
    from posthog_clone.server.startup import tune_gc

    bodies = _bodies(token, args.size * args.batches)
    per_batch = args.size // 100
    batches = []
    for i in range(args.batches):
        envelopes = []
        for body in bodies[i * per_batch : (i + 1) * per_batch]:
            envelopes += capture_events_build(
                payload=orjson.loads(gzip.decompress(body)), engage=False, query={}, form={}, now=datetime.now(UTC),
                ip="127.0.0.1", max_event_bytes=1_000_000, team_for_token=team_id_for_token,
            )  # fmt: skip
        batches.append(envelopes)
    events = table("events")
    staging, target = _proposed_tables(events)
    client = get_client()
    tune_gc()
    figures: dict[str, list[tuple[float, float]]] = {"today": [], "proposed": []}
    persons: dict[tuple[int, str], tuple[str, str, str]] = {}
    for i, envelopes in enumerate(batches):
        n = len(envelopes)
        for way in ("today", "proposed"):
            cpu = time.thread_time()
            if way == "today":
                body = process_batch(envelopes).body
            else:
                body = _proposed_body(envelopes, persons)
            python = (time.thread_time() - cpu) * 1e6 / n
            cpu = time.process_time()
            if way == "today":
                insert_events(body, token=f"today-{i}", rows=n)
            else:
                client.insert_json_rows(staging, body, dedup_token=f"proposed-{i}", columns=STAGING_COLUMNS)
            insert = (time.process_time() - cpu) * 1e6 / n
            if i:
                figures[way].append((python, insert))
            print(f"batch {i} {way:>8}: Python {python:5.2f} µs an event, insert {insert:5.2f} (process CPU)")
            if way == "today":
                persons = _persons()  # the persons today's run wrote: a warm cache (not timed)
    for way, rows in figures.items():
        python = statistics.mean(r[0] for r in rows)
        insert = statistics.mean(r[1] for r in rows)
        total = python + insert
        print(f"{way:>8}, batches 1-{args.batches - 1}: Python {python:.2f} + insert {insert:.2f} = {total:.2f} µs")
    differ = client.query(
        f"SELECT count() FROM (SELECT * FROM {events} FINAL) AS a FULL OUTER JOIN (SELECT * FROM {target} FINAL) AS b "
        "ON a.uuid = b.uuid WHERE a.properties != b.properties OR a.elements_chain != b.elements_chain "
        "OR a.timestamp != b.timestamp OR a.person_id != b.person_id OR a.person_properties != b.person_properties"
    ).rows[0][0]
    stored = client.query(f"SELECT count() FROM {target} FINAL").rows[0][0]
    print(f"stored the proposed way: {stored:,} rows of {args.batches * args.size:,}; differing from today: {differ:,}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
