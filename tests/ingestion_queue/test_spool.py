"""The embedded queue: durable appends, batches bounded by size, exact replay of an in-flight batch."""

import os
import subprocess
import sys
import textwrap

import orjson
import pytest

from ingestion.envelope import CapturedEvent
from ingestion.queue import QueueUnavailable, enqueue, get_spool
from ingestion.spool import Spool, SpoolUnavailable


def event(i: int) -> CapturedEvent:
    return CapturedEvent(
        uuid=f"00000000-0000-7000-8000-{i:012d}",
        distinct_id=f"user-{i}",
        ip="127.0.0.1",
        data='{"event":"e","properties":{}}',
        now="2024-01-01T00:00:00Z",
        sent_at=None,
        token="phc_x",
        team_id=1,
        event="e",
        timestamp="2024-01-01T00:00:00Z",
    )


def test_envelope_round_trips(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append([event(1), event(2)])
    assert spool.all_events() == [event(1), event(2)]
    assert spool.depth() == 2


def test_every_envelope_field_survives_the_spool_in_its_place(tmp_path):
    distinct = CapturedEvent(
        uuid="00000000-0000-7000-8000-000000000009", distinct_id="d", ip="10.0.0.9", data='{"event":"x"}',
        now="2024-01-01T00:00:01.000Z", sent_at="2024-01-01T00:00:02.000Z", token="phc_t", team_id=42,
        event="x", timestamp="2024-01-01T00:00:03.000Z", historical_migration=True,
    )  # fmt: skip
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append([distinct, event(1)])
    assert spool.next_batch(10).events == [distinct, event(1)]


def test_rows_written_as_keyed_objects_by_an_earlier_version_still_replay(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    old_payload = orjson.dumps([event(1).to_dict(), event(2).to_dict()])
    spool._conn().execute("INSERT INTO spool (n, payload) VALUES (2, ?)", (old_payload,))
    spool.append([event(3)])
    assert spool.next_batch(10).events == [event(1), event(2), event(3)]


def test_uncompressed_rows_written_by_an_earlier_version_still_replay(tmp_path):
    from ingestion.envelope import dumps

    spool = Spool(tmp_path / "s.sqlite3")
    spool._conn().execute("INSERT INTO spool (n, payload) VALUES (2, ?)", (dumps([event(1), event(2)]),))
    spool.append([event(3)])
    assert spool.next_batch(10).events == [event(1), event(2), event(3)]


def test_payloads_are_checksummed_lz4_frames_a_quarter_of_the_json(tmp_path):
    import lz4.frame

    from ingestion.envelope import dumps

    events = [event(i) for i in range(100)]
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(events)
    (payload,) = spool._conn().execute("SELECT payload FROM spool").fetchone()
    assert lz4.frame.decompress(payload) == dumps(events)
    assert len(payload) * 4 < len(dumps(events))
    damaged = payload[:40] + bytes([payload[40] ^ 0xFF]) + payload[41:]
    spool._conn().execute("UPDATE spool SET payload = ?", (damaged,))
    with pytest.raises(RuntimeError):  # a damaged row is refused, never replayed as other events
        spool.next_batch(1000)


def test_batches_are_bounded_by_event_count_but_never_split_a_request(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    for i in range(5):
        spool.append([event(i * 10 + j) for j in range(3)])
    batch = spool.next_batch(max_events=7)
    assert len(batch.events) == 6  # two requests of 3; a third would exceed 7
    spool.complete(batch)
    assert spool.depth() == 9


def test_inflight_batch_is_replayed_identically_after_a_crash(tmp_path):
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    spool.append([event(1)])
    spool.append([event(2)])
    first = spool.next_batch(max_events=100)
    spool.append([event(3)])  # arrives while the batch is being written
    reopened = Spool(path)  # as after kill -9: a new process opens the same file
    replay = reopened.next_batch(max_events=100)
    assert (replay.first_id, replay.last_id, replay.token) == (first.first_id, first.last_id, first.token)
    assert replay.events == [event(1), event(2)]
    reopened.complete(replay)
    assert [e.uuid for e in reopened.next_batch(max_events=100).events] == [event(3).uuid]


def test_two_inflight_batches_are_replayed_each_as_it_was_after_a_crash(tmp_path):
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    for i in range(1, 5):
        spool.append([event(i)])
    first = spool.next_batch(max_events=2)  # inserting
    second = spool.next_batch(max_events=1, after_id=first.last_id)  # being processed meanwhile
    assert [e.uuid for e in second.events] == [event(3).uuid]
    spool.append([event(5)])
    reopened = Spool(path)  # kill -9 with both in flight
    replay = reopened.next_batch(max_events=100)
    assert (replay.first_id, replay.last_id, replay.token, replay.events) == (
        first.first_id, first.last_id, first.token, first.events)  # fmt: skip
    replay_2 = reopened.next_batch(max_events=100, after_id=replay.last_id)
    assert (replay_2.first_id, replay_2.last_id, replay_2.token) == (second.first_id, second.last_id, second.token)
    reopened.complete(replay)
    reopened.complete(replay_2)
    assert [e.uuid for e in reopened.next_batch(max_events=100).events] == [event(4).uuid, event(5).uuid]


def test_a_batch_taken_after_one_in_flight_starts_past_it(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    for i in range(1, 4):
        spool.append([event(i)])
    first = spool.next_batch(max_events=1)
    later = spool.next_batch(max_events=100, after_id=first.last_id)
    assert [e.uuid for e in later.events] == [event(2).uuid, event(3).uuid]
    assert spool.next_batch(max_events=100, after_id=later.last_id) is None


def test_an_earlier_versions_single_inflight_batch_is_carried_over_and_replayed(tmp_path):
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    for i in range(1, 4):
        spool.append([event(i)])
    first = spool.next_batch(max_events=2)
    conn = spool._conn()  # as the previous version recorded it: one row in `inflight`, no inflight_batches
    conn.execute("DELETE FROM inflight_batches")
    conn.execute("INSERT INTO inflight (only, first_id, last_id) VALUES (1, ?, ?)", (first.first_id, first.last_id))
    reopened = Spool(path)
    replay = reopened.next_batch(max_events=1)  # the recorded batch whole, whatever the batch size now
    assert (replay.first_id, replay.last_id, replay.token) == (first.first_id, first.last_id, first.token)
    assert reopened._conn().execute("SELECT COUNT(*) FROM inflight").fetchone() == (0,)
    Spool(path)  # opening it again carries nothing twice
    reopened.complete(replay)
    assert [e.uuid for e in reopened.next_batch(max_events=100).events] == [event(3).uuid]


def test_append_survives_sigkill(tmp_path):
    path = tmp_path / "s.sqlite3"
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from tests.ingestion_queue.test_spool import event
        from ingestion.spool import Spool
        Spool({str(path)!r}).append([event(7)])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DJANGO_SETTINGS_MODULE": ""})
    assert result.returncode == -9
    assert Spool(path).all_events() == [event(7)]


def test_enqueue_reports_a_full_spool_and_stores_nothing(settings, tmp_path):
    settings.INGEST_QUEUE = "spool"
    settings.SPOOL_PATH = tmp_path / "full.sqlite3"
    spool = get_spool()
    enqueue([event(1)])
    conn = spool._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now "full" for SQLite
    big = [event(i) for i in range(2, 2000)]
    with pytest.raises(QueueUnavailable, match="full"):
        enqueue(big)
    assert [e.uuid for e in spool.all_events()] == [event(1).uuid]


def test_concurrent_appends_are_group_committed_each_request_stored_once_and_whole(tmp_path):
    import threading

    spool = Spool(tmp_path / "s.sqlite3")
    barrier = threading.Barrier(8)

    def post(t: int) -> None:
        barrier.wait()
        for r in range(25):
            spool.append([event(t * 1000 + r * 10 + j) for j in range(3)])

    threads = [threading.Thread(target=post, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    uuids = [e.uuid for e in spool.all_events()]
    assert len(uuids) == len(set(uuids)) == 8 * 25 * 3
    rows = spool._conn().execute("SELECT payload FROM spool ORDER BY id").fetchall()
    assert len(rows) == 8 * 25  # one row per request, never merged or split by the group commit
    for t in range(8):  # each client's requests keep their order
        mine = [u for u in uuids if int(u[-12:]) // 1000 == t]
        assert mine == sorted(mine)


def test_a_failed_group_commit_fails_every_request_in_it_and_stores_none(tmp_path):
    import sqlite3

    spool = Spool(tmp_path / "s.sqlite3")
    with sqlite3.connect(spool.path) as conn:
        conn.execute("CREATE TRIGGER full BEFORE INSERT ON spool BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(SpoolUnavailable, match="disk full"):
        spool.append([event(1)])
    assert spool.depth() == 0
    with sqlite3.connect(spool.path) as conn:
        conn.execute("DROP TRIGGER full")
    spool.append([event(2)])  # the spool recovers once the disk does
    assert [e.uuid for e in spool.all_events()] == [event(2).uuid]
