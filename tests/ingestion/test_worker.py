"""The embedded worker's drain: batches written in order, the insert of one beside the processing of the
next; a failed insert leaves every batch it had taken in flight, and the retry writes each event once."""

from __future__ import annotations

import pytest

from ingestion import worker
from ingestion.pipeline import Insert, process_batch
from ingestion.queue import enqueue, get_spool
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.errors import ClickHouseError
from tests.ingestion.conftest import envelope

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _on_the_spool(settings, tmp_path):
    settings.INGEST_QUEUE = "spool"  # also in the CI run whose queue is the broker: this is the spool's worker
    settings.SPOOL_PATH = tmp_path / "spool.sqlite3"
    settings.INGEST_BATCH_SIZE = 4


def _counts(team_id: int) -> tuple[int, int]:
    sql = f"SELECT count(), uniqExact(uuid) FROM {table('events')} WHERE team_id = {{t:Int64}}"
    return get_client().query(sql, {"t": team_id}).rows[0]


def _inflight() -> int:
    return get_spool()._conn().execute("SELECT COUNT(*) FROM inflight_batches").fetchone()[0]


def test_drain_writes_every_batch_and_leaves_nothing_in_flight(team):
    for r in range(5):
        enqueue([envelope(team, "e", f"u{r}-{i}") for i in range(3)])  # 5 requests → 5 batches of at most 4

    assert worker.drain() == 15
    assert _counts(team.pk) == (15, 15)
    assert get_spool().depth() == 0 and _inflight() == 0
    assert worker.drain() == 0


def test_drain_once_writes_one_batch(team):
    for r in range(3):
        enqueue([envelope(team, "e", f"u{r}-{i}") for i in range(2)])

    assert worker.drain_once() == 4
    assert _counts(team.pk) == (4, 4)
    assert get_spool().depth() == 2 and _inflight() == 0


def test_an_insert_failing_while_the_next_batch_is_processed_is_replayed_with_it_each_event_once(
    team, monkeypatch, merges_stopped
):
    sent = [[envelope(team, "e", f"u{r}-{i}") for i in range(4)] for r in range(3)]
    for events in sent:
        enqueue(events)
    real, calls = ClickHouseClient.insert_json_rows, []

    def first_events_insert_lands_then_fails(self, target, body, **kwargs):  # ClickHouse is the edge
        if target != table("events"):
            return real(self, target, body, **kwargs)  # the persons mirror
        calls.append(kwargs["dedup_token"])
        real(self, target, body, **kwargs)  # it reached ClickHouse, but the answer is lost
        raise ClickHouseError("Timeout exceeded", code=159, retryable=True)

    with monkeypatch.context() as patch:
        patch.setattr(ClickHouseClient, "insert_json_rows", first_events_insert_lands_then_fails)
        patch.setattr("ingestion.pipeline.time.sleep", lambda s: None)
        with pytest.raises(ClickHouseError):
            worker.drain()
    assert len(set(calls)) == 1  # the first batch only: the second was processed, never sent
    assert _inflight() == 2 and get_spool().depth() == 12  # both recorded, nothing forgotten

    assert worker.drain() == 12
    assert _counts(team.pk) == (12, 12)  # the first batch, sent 6 times under one token, is there once
    assert get_spool().depth() == 0 and _inflight() == 0


def test_a_batch_failing_to_process_while_one_is_inserted_lets_that_one_complete(team, monkeypatch, merges_stopped):
    for r in range(3):
        enqueue([envelope(team, "e", f"u{r}-{i}") for i in range(4)])
    real, built = worker.process_batch, []

    def second_fails(envelopes):
        built.append(len(envelopes))
        if len(built) == 2:
            raise RuntimeError("the database went away")
        return real(envelopes)

    with monkeypatch.context() as patch:
        patch.setattr(worker, "process_batch", second_fails)
        with pytest.raises(RuntimeError, match="went away"):  # the processing error, not hidden
            worker.drain()
    assert _counts(team.pk) == (4, 4)  # the first batch was written and forgotten
    assert _inflight() == 1 and get_spool().depth() == 8  # the second stays recorded

    assert worker.drain() == 8
    assert _counts(team.pk) == (12, 12)
    assert get_spool().depth() == 0 and _inflight() == 0


def test_a_batch_refused_for_good_while_the_next_is_processed_is_written_row_by_row(team, monkeypatch):
    import dataclasses

    from ingestion.models import DeadLetter

    bad = dataclasses.replace(envelope(team, "bad", "u-bad"), uuid="not-a-uuid")
    enqueue([envelope(team, "ok", "u1"), bad, envelope(team, "ok", "u2")])
    enqueue([envelope(team, "ok", f"u{i}") for i in range(3, 6)])

    assert worker.drain() == 6
    assert _counts(team.pk) == (5, 5)
    assert [letter.payload["uuid"] for letter in DeadLetter.objects.all()] == ["not-a-uuid"]
    assert get_spool().depth() == 0 and _inflight() == 0


def test_whole_batches_only_leaves_a_partial_one_for_later(team):
    for r in range(3):
        enqueue([envelope(team, "e", f"u{r}-{i}") for i in range(3)])  # 9 events, batches of at most 4

    # a batch never splits a request: 3 events each; after the first, 6 queued still fill a batch, 3 do not
    assert worker.drain(whole=True) == 6
    assert get_spool().depth() == 3 and _inflight() == 0
    assert worker.drain() == 3


def test_a_stopping_worker_takes_no_further_batch(team):
    for r in range(3):
        enqueue([envelope(team, "e", f"u{r}-{i}") for i in range(4)])
    worker._stopping.set()
    try:
        assert worker.drain() == 0
    finally:
        worker._stopping.clear()
    assert get_spool().depth() == 12


def test_a_batch_replayed_after_a_crash_is_written_even_when_its_token_was_logged_without_its_rows(team):
    """A crash inside a chDB insert, after the table logged the block's token and before the part was renamed
    into place, leaves the token in the deduplication log and the rows nowhere. Built here without a crash:
    the batch is taken (recorded in flight, as a crash leaves it), inserted under its token, and its rows
    deleted; the log still holds the token, so the same token drops the same rows again."""
    sent = [envelope(team, "e", f"u{i}") for i in range(4)]
    enqueue(sent)
    batch = get_spool().next_batch(4)
    processed = process_batch(batch.events)
    Insert(processed, token=batch.token).wait()
    where = f"team_id = {team.pk}"
    get_client().command(f"ALTER TABLE {table('events')} DELETE WHERE {where} SETTINGS mutations_sync = 2")
    Insert(processed, token=batch.token).wait()
    assert _counts(team.pk) == (0, 0)  # the premise: this token is spent, its rows are not there

    assert worker.drain() == 4  # the replay: the batch recorded in flight

    assert _counts(team.pk) == (4, 4)
    assert get_spool().depth() == 0 and _inflight() == 0


def test_a_batch_replayed_after_a_crash_writes_only_the_events_not_written_yet(team, merges_stopped):
    sent = [envelope(team, "e", f"u{i}") for i in range(4)]
    enqueue(sent)
    batch = get_spool().next_batch(4)
    Insert(process_batch(batch.events[:3]), token="an-attempt-cut-short").wait()  # three of four landed

    assert worker.drain() == 4

    assert _counts(team.pk) == (4, 4)  # the three once, the fourth written now
    assert get_spool().depth() == 0 and _inflight() == 0
