"""The one ingestion pipeline, assembled here for every runner (the embedded worker, the Celery task, the
broker drain): ``process_batch`` runs the steps of a batch in order (normalize, schema enforcement, persons,
definitions, rows) and ``Insert`` writes the result into ``events`` with a deduplication token, or, when
ClickHouse refuses the batch for good, row by row with dead letters for the rows it never takes.

``ingest_batch`` is both at once. The embedded worker calls them apart to overlap the insert of one batch
(on its insert thread) with the processing of the next.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from definitions.enforcement import team_rules, violations
from definitions.ingestion import definitions_ingest
from ingestion.envelope import CapturedEvent
from ingestion.metrics import EVENTS_DROPPED, EVENTS_WRITTEN, INSERT_LATENCY
from ingestion.models import DeadLetter, IngestionWarning
from ingestion.processing import EVENT_COLUMNS, NormalizedEvent, body_rows, event_time, normalize, rows_build
from persons.ingestion import PersonWarning, persons_process
from posthog_clone import registry
from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")
_seen_teams: set[int] = set()
UUIDS_A_QUERY = 5000  # ~200 KB of parameters
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def enforce_schemas(events: list[NormalizedEvent]) -> list[NormalizedEvent]:
    """Drop events violating an enforced schema, recording a `schema_validation_failed` warning each."""
    enforcing = {team_id for team_id in {ev.team_id for ev in events} if team_rules(team_id)}
    if not enforcing:  # the usual case: one cached lookup per project, nothing per event
        return events
    kept, warnings = [], []
    for ev in events:
        errors = violations(ev.team_id, ev.event, ev.properties) if ev.team_id in enforcing else None
        if errors:
            details = {"eventUuid": ev.uuid, "eventName": ev.event, "distinctId": ev.distinct_id, "errors": errors}
            warnings.append(IngestionWarning(team_id=ev.team_id, type="schema_validation_failed", details=details))
        else:
            kept.append(ev)
    IngestionWarning.objects.bulk_create(warnings)
    if warnings:
        EVENTS_DROPPED.labels("schema_validation_failed").inc(len(warnings))
    return kept


def record_person_warnings(warnings: list[PersonWarning]) -> None:
    """The persons step's warnings, written in the transaction of the persons they concern."""
    IngestionWarning.objects.bulk_create(
        [IngestionWarning(team_id=w.team_id, type=w.type, details=w.details) for w in warnings]
    )


def _mark_teams_ingested(team_ids: set[int]) -> None:
    new = team_ids - _seen_teams
    if new:
        Team.objects.filter(pk__in=new, ingested_event=False).update(ingested_event=True)
        _seen_teams.update(new)


@dataclass(slots=True)
class Processed:
    """A batch ready to write: its envelopes (dead letters are made of them), the ``rows_build`` body of the
    events kept, and how many they are."""

    envelopes: list[CapturedEvent]
    body: bytes
    rows: int


def handled_apart(envelopes: list[CapturedEvent]) -> list[CapturedEvent]:
    """Hand the envelopes an app handles (``registry.event_handler``, e.g. replay's snapshots) to their
    handlers, at once; the envelopes left are events."""
    handlers = registry.event_handlers()
    if not handlers or not any(e.event in handlers for e in envelopes):
        return envelopes
    taken: dict[str, list[CapturedEvent]] = {}
    kept = []
    for envelope in envelopes:
        if envelope.event in handlers:
            taken.setdefault(envelope.event, []).append(envelope)
        else:
            kept.append(envelope)
    for name, group in taken.items():
        handlers[name](group)
    return kept


def process_batch(envelopes: list[CapturedEvent]) -> Processed:
    """Run the steps of a batch before its insert: the envelopes apps handle, then normalize, schema
    enforcement, persons, definitions, rows."""
    started = time.perf_counter()
    events = enforce_schemas([normalize(e) for e in handled_apart(envelopes)])
    people = persons_process(events, record_warnings=record_person_warnings)
    t_persons = time.perf_counter()
    definitions_ingest(events=events)
    t_defs = time.perf_counter()
    _mark_teams_ingested({ev.team_id for ev in events})
    now = datetime.now(UTC)
    body = rows_build(events, people, ingested_at=now)
    logger.info(
        "batch processed",
        extra={
            "events": len(events),
            "persons_s": round(t_persons - started, 4),
            "definitions_s": round(t_defs - t_persons, 4),
            "rows_s": round(time.perf_counter() - t_defs, 4),
        },  # fmt: skip
    )
    return Processed(envelopes, body, len(events))


class _Here(Executor):
    """Runs the insert at once on the calling thread (the Celery task, the broker drain)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


_HERE = _Here()


class Insert:
    """The insert of one processed batch into ``events`` under its deduplication token, started on
    ``executor`` (by default at once, on the calling thread; the embedded worker passes its insert thread).
    ``wait`` returns once ClickHouse holds the batch: a batch it refuses for good goes row by row there, on
    the caller's thread and database connection; a retryable error propagates (the batch is replayed)."""

    def __init__(self, batch: Processed, *, token: str, executor: Executor = _HERE):
        self.batch, self.token = batch, token
        self._insert = executor.submit(insert_events, batch.body, token=token, rows=batch.rows)

    def done(self) -> bool:
        """Whether the insert has returned (``wait`` would not block on ClickHouse)."""
        return self._insert.done()

    def wait(self) -> None:
        try:
            self._insert.result()
        except ClickHouseError as exc:
            if exc.retryable:
                raise
            insert_one_by_one(self.batch.envelopes, self.batch.body, token=self.token, error=exc)


def ingest_batch(envelopes: list[CapturedEvent], *, token: str) -> None:
    """Process and write one batch on the calling thread (the Celery task, the broker drain)."""
    Insert(process_batch(envelopes), token=token).wait()


def insert_events(body: bytes, *, token: str, rows: int, attempts: int = 5) -> None:
    """Insert a ``rows_build`` body with backoff on retryable errors; non-retryable errors propagate at once."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            if body:
                seconds = get_client().insert_json_rows(table("events"), body, dedup_token=token, columns=EVENT_COLUMNS)
                INSERT_LATENCY.observe(seconds)
                EVENTS_WRITTEN.inc(rows)
            return
        except ClickHouseError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            logger.warning("retryable ClickHouse error, backing off", extra={"attempt": attempt, "error": str(exc)})
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def dead_letter(envelopes: list[CapturedEvent], error: str) -> None:
    DeadLetter.objects.bulk_create([DeadLetter(team_id=e.team_id, payload=e.to_dict(), error=error) for e in envelopes])
    EVENTS_DROPPED.labels("dead_letter").inc(len(envelopes))
    logger.error("events dead-lettered", extra={"events": len(envelopes), "error": error})


def insert_one_by_one(envelopes: list[CapturedEvent], body: bytes, *, token: str, error: ClickHouseError) -> None:
    """After ClickHouse rejected a whole batch for good: its rows one by one (each with its own token); only
    the rows it can never take become dead letters."""
    logger.error("batch rejected, writing rows one by one", extra={"error": str(error)})
    by_uuid = {e.uuid: e for e in envelopes}
    for i, line in enumerate(body_rows(body)):
        try:
            insert_events(line, token=f"{token}-{i}", rows=1)
        except ClickHouseError as row_exc:
            if row_exc.retryable:
                raise
            uuid = orjson.loads(line)[0]  # EVENT_COLUMNS starts with uuid
            dead_letter([by_uuid[uuid]] if uuid in by_uuid else [], str(row_exc))


def written_uuids(envelopes: list[CapturedEvent]) -> set[str]:
    """Which of these events ``events`` holds already (by uuid; the team and day narrow the read), asked
    ``UUIDS_A_QUERY`` at a time (a server takes query parameters in the URL, at most 1 MB of it)."""
    candidates = [e for e in envelopes if _UUID.fullmatch(e.uuid)]  # others were never written
    sql = (
        f"SELECT DISTINCT toString(uuid) FROM {table('events')} WHERE team_id IN {{teams:Array(Int64)}} "
        f"AND toDate(timestamp) IN {{days:Array(Date)}} AND uuid IN {{uuids:Array(UUID)}}"
    )
    written: set[str] = set()
    for i in range(0, len(candidates), UUIDS_A_QUERY):
        chunk = candidates[i : i + UUIDS_A_QUERY]
        params = {
            "teams": sorted({e.team_id for e in chunk}),
            "days": sorted({event_time(e).date() for e in chunk}),
            "uuids": [e.uuid for e in chunk],
        }
        written.update(row[0] for row in get_client().query(sql, params).rows)
    return written


def without_written(envelopes: list[CapturedEvent], *, looked_up: list[CapturedEvent]) -> list[CapturedEvent]:
    """``envelopes`` less the events ``events`` holds already, of those ``looked_up`` (the ones that may have
    landed: a replayed batch, redelivered messages)."""
    written = written_uuids(looked_up)
    if not written:
        return envelopes
    logger.info("events written before, skipped", extra={"events": len(written)})
    return [e for e in envelopes if e.uuid not in written]


def unwritten(envelopes: list[CapturedEvent], token: str, *, maybe_written: bool) -> tuple[list[CapturedEvent], str]:
    """The events to write and the token to write them under. After an attempt that may have landed (a batch
    taken and never completed, a message delivered again or retried): without the events ``events`` holds (one
    query, only then), under a new token (``replay_token``). Otherwise all of them, under ``token``."""
    if not maybe_written:
        return envelopes, token
    return without_written(envelopes, looked_up=envelopes), replay_token(token)


def replay_token(token: str) -> str:
    """The token of a batch written again after an attempt that may have landed, once ``without_written`` has
    dropped what landed: never the earlier attempt's. An attempt cut short by a crash can leave its
    token in the table's deduplication log without its part (ClickHouse logs the block before it renames the
    part into place), and the same token would then drop the rows that never landed."""
    return f"{token}-again-{uuid.uuid4().hex[:12]}"
