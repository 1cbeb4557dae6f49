"""The per-message ``ingest_events`` task (scale mode wherever the batching bootstep does not run): a message
that comes back after an attempt that may have landed is completed, never dropped under a spent token and
never written twice. Run through Celery's own task call (``apply``), with the real pipeline and chDB."""

from __future__ import annotations

import pytest

from ingestion.batching import batch_token
from ingestion.envelope import pack
from ingestion.pipeline import ingest_batch
from ingestion.tasks import ingest_events
from posthog_clone.clickhouse import get_client, table
from tests.ingestion.conftest import envelope

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


def _counts(team_id: int) -> tuple[int, int]:
    sql = f"SELECT count(), uniqExact(uuid) FROM {table('events')} WHERE team_id = {{t:Int64}}"
    return get_client().query(sql, {"t": team_id}).rows[0]


def _spend_token_without_rows(team, envelopes) -> None:
    """What a worker killed between ClickHouse logging the block's token and renaming its part leaves: the
    token in the deduplication log, the rows nowhere (built by inserting, then deleting the rows)."""
    ingest_batch(envelopes, token=batch_token(envelopes))
    get_client().command(f"ALTER TABLE {table('events')} DELETE WHERE team_id = {team.pk} SETTINGS mutations_sync = 2")
    ingest_batch(envelopes, token=batch_token(envelopes))
    assert _counts(team.pk) == (0, 0)  # the spent token drops the same rows again


@pytest.mark.parametrize(
    "again",
    [
        {"headers": {"redelivered": True}},  # kombu's Redis restore marks the message's headers
        {"retries": 1},  # a retry after a retryable ClickHouse error
    ],
    ids=["redelivered", "retried"],
)
def test_a_message_back_after_a_spent_token_is_written(team, again) -> None:
    envelopes = [envelope(team, "e", f"t-{i}") for i in range(4)]
    _spend_token_without_rows(team, envelopes)

    result = ingest_events.apply(args=[pack(envelopes)], **again)

    assert result.successful(), result.traceback
    assert _counts(team.pk) == (4, 4)


def test_a_message_back_after_a_partial_write_is_completed_without_duplicates(team) -> None:
    envelopes = [envelope(team, "e", f"p-{i}") for i in range(4)]
    ingest_batch(envelopes[:3], token="an earlier attempt's")

    assert ingest_events.apply(args=[pack(envelopes)], headers={"redelivered": True}).successful()

    assert _counts(team.pk) == (4, 4)


def test_a_first_delivery_keeps_the_messages_own_token(team) -> None:
    envelopes = [envelope(team, "e", f"f-{i}") for i in range(2)]
    assert ingest_events.apply(args=[pack(envelopes)]).successful()
    assert ingest_events.apply(args=[pack(envelopes)]).successful()  # a duplicate publish: the token drops it
    assert _counts(team.pk) == (2, 2)
