"""The embedded queue: durable appends, batches bounded by size, exact replay of an in-flight batch."""

import os
import subprocess
import sys
import textwrap

import orjson
import pytest

from ingestion import spool as spool_module
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
    assert spool.next_batch(1000) is None  # a damaged row is quarantined, never replayed as other events
    [quarantined] = spool.quarantined()
    assert quarantined.payload == damaged and "RuntimeError" in quarantined.error


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


class _GatedSpool(Spool):
    """Each commit waits for its gate: the test decides when a commit ends."""

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self.gates: list = []
        self.groups: list[list[int]] = []

    def _commit(self, group):
        import threading

        gate = threading.Event()
        self.groups.append(sorted(p.n for p in group))
        self.gates.append(gate)
        assert gate.wait(10)
        super()._commit(group)


def _until(condition) -> None:
    import time

    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_a_request_returns_when_the_commit_holding_its_row_ends_not_a_later_one(tmp_path):
    import threading

    spool = _GatedSpool(tmp_path / "s.sqlite3")
    posted = {}

    def post(n: int) -> threading.Thread:  # a request of n events: n tells the requests apart
        thread = threading.Thread(target=spool.append, args=([event(n * 100 + j) for j in range(n)],))
        thread.start()
        posted[n] = thread
        return thread

    post(1)
    _until(lambda: len(spool.gates) == 1)  # request 1 commits alone
    post(2), post(3)
    _until(lambda: len(spool._pending) == 2)  # 2 and 3 wait behind that commit
    spool.gates[0].set()
    _until(lambda: len(spool.gates) == 2)
    assert spool.groups == [[1], [2, 3]]  # one of them commits both rows
    post(4)
    _until(lambda: len(spool._pending) == 1)
    spool.gates[1].set()
    _until(lambda: len(spool.gates) == 3)  # request 4's commit has started and is held
    posted[2].join(5), posted[3].join(5)
    assert not posted[2].is_alive() and not posted[3].is_alive()  # neither waited for request 4's commit
    assert posted[4].is_alive() and spool.groups[2] == [4]
    spool.gates[2].set()
    posted[4].join(5)
    assert spool.depth() == 1 + 2 + 3 + 4


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


def _damage(spool: Spool, row_id: int, how: str) -> None:
    (payload,) = spool._conn().execute("SELECT payload FROM spool WHERE id = ?", (row_id,)).fetchone()
    damaged = {
        "flip": payload[:30] + bytes([payload[30] ^ 0x10]) + payload[31:],  # a bit flipped on disk
        "cut": payload[: len(payload) // 2],  # a torn write
        "magic": b"\x00" + payload[1:],  # no longer a frame: read as an earlier version's JSON
    }[how]
    spool._conn().execute("UPDATE spool SET payload = ? WHERE id = ?", (damaged, row_id))


@pytest.mark.parametrize("how", ["flip", "cut", "magic"])
def test_a_corrupt_row_is_quarantined_with_a_warning_and_the_rest_drains(tmp_path, caplog, how):
    spool = Spool(tmp_path / "s.sqlite3")
    for i in range(1, 4):
        spool.append([event(i * 10 + j) for j in range(5)])
    _damage(spool, 2, how)
    with caplog.at_level("WARNING", logger="ingestion.spool"):
        batch = spool.next_batch(100)
    assert [e.uuid for e in batch.events] == [event(i * 10 + j).uuid for i in (1, 3) for j in range(5)]
    spool.complete(batch)
    assert spool.depth() == 0 and spool.next_batch(100) is None
    [quarantined] = spool.quarantined()
    assert (quarantined.id, quarantined.n) == (2, 5)
    [record] = [r for r in caplog.records if r.message == "corrupt spool row quarantined"]
    assert record.levelname == "WARNING" and record.row == 2


def test_a_row_holding_another_number_of_events_than_it_says_is_quarantined(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append([event(1), event(2)])
    spool._conn().execute("UPDATE spool SET n = 3")
    assert spool.next_batch(100) is None
    assert "2 events where the row says 3" in spool.quarantined()[0].error


def test_a_corrupt_row_inside_a_crash_left_batch_is_quarantined_and_the_batch_replays_the_rest(tmp_path):
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    for i in range(1, 4):
        spool.append([event(i)])
    taken = spool.next_batch(100)
    _damage(spool, 2, "flip")
    replay = Spool(path).next_batch(100)  # after kill -9, the same batch (same token) without the bad row
    assert (replay.first_id, replay.last_id, replay.token) == (taken.first_id, taken.last_id, taken.token)
    assert [e.uuid for e in replay.events] == [event(1).uuid, event(3).uuid]


def test_a_stretch_of_only_corrupt_rows_is_skipped_to_the_next_good_one(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    for i in range(1, 5):
        spool.append([event(i)])
    for row in (1, 2):
        _damage(spool, row, "cut")
    batch = spool.next_batch(2)
    assert [e.uuid for e in batch.events] == [event(3).uuid, event(4).uuid]
    assert [q.id for q in spool.quarantined()] == [1, 2]


def test_a_paused_spool_gives_no_new_batch_but_replays_one_in_flight(tmp_path):
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    spool.append([event(1)])
    taken = spool.next_batch(100)
    spool.append([event(2)])
    other = Spool(path)  # the backup pauses from another process
    other.pause(60)
    assert spool.paused()
    replay = Spool(path).next_batch(100)
    assert replay.token == taken.token  # what is in flight still finishes
    spool.complete(replay)
    assert spool.in_flight() == 0
    assert spool.next_batch(100) is None  # nothing new is taken
    spool.append([event(3)])  # capture goes on
    other.resume()
    assert [e.uuid for e in spool.next_batch(100).events] == [event(2).uuid, event(3).uuid]


def test_a_pause_landing_while_a_batch_is_read_takes_no_batch(tmp_path, monkeypatch):
    """The backup's race (CI: a restored copy held one batch twice): the worker saw no pause, the backup then
    paused and found nothing in flight, and the worker went on to record and write its batch while the copy
    ran. Now the batch is recorded only if no pause came in between; else nothing is taken."""
    path = tmp_path / "s.sqlite3"
    spool = Spool(path)
    spool.append([event(1)])
    backup = Spool(path)
    checks, original = [], Spool.paused

    def paused_then_backup_pauses(self):
        answer = original(self)
        if not checks:  # right after the worker's first check, the backup pauses and looks at what is in flight
            backup.pause(60)
            checks.append(backup.in_flight())
        return answer

    monkeypatch.setattr(Spool, "paused", paused_then_backup_pauses)
    assert spool.next_batch(100) is None  # not taken: the backup saw nothing in flight, and nothing is
    assert checks == [0] and spool.in_flight() == 0
    backup.resume()
    assert [e.uuid for e in spool.next_batch(100).events] == [event(1).uuid]


def test_a_pause_ends_by_itself_when_its_lease_runs_out(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append([event(1)])
    spool.pause(-1)  # a backup that died without resuming
    assert not spool.paused()
    assert spool.next_batch(100) is not None


def test_appends_are_refused_below_the_free_space_floor(tmp_path):
    import os

    stat = os.statvfs(tmp_path)
    free = stat.f_bavail * stat.f_frsize
    spool = Spool(tmp_path / "s.sqlite3", min_free_bytes=free + 2**40)  # a terabyte more than there is
    with pytest.raises(SpoolUnavailable, match="below SPOOL_MIN_FREE_MB"):
        spool.append([event(1)])
    assert spool.depth() == 0
    assert Spool(tmp_path / "s.sqlite3", min_free_bytes=2**20).append([event(1)]) is None


@pytest.mark.django_db
def test_dead_letters_lists_the_quarantined_spool_rows(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.INGEST_QUEUE = "spool"
    spool = get_spool()
    spool.append([event(1), event(2)])
    _damage(spool, 1, "flip")
    assert spool.next_batch(100) is None
    out = StringIO()
    call_command("dead_letters", stdout=out)
    assert "spool-row-1\t2 events\t" in out.getvalue() and "quarantined: RuntimeError" in out.getvalue()


def test_a_batch_ends_at_its_payload_byte_cap(tmp_path, monkeypatch):
    """Large messages (session replay snapshots) end a batch by size before its event count."""
    spool = Spool(tmp_path / "spool.sqlite3", fsync=False)
    big = "x" * 50_000
    for i in range(5):
        spool.append([CapturedEvent(uuid=f"00000000-0000-0000-0000-00000000000{i}", distinct_id="d", ip=None,
                      data=big + str(i), now="2026-01-01T00:00:00.000Z", sent_at=None, token="phc", team_id=1,
                      event="$snapshot_items", timestamp="2026-01-01T00:00:00.000Z")])  # fmt: skip
    monkeypatch.setattr(spool_module, "BATCH_MAX_PAYLOAD_BYTES", 1)  # lz4 shrinks the x's: any cap under one row
    first = spool.next_batch(1000)
    assert len(first.events) == 1  # the first row is always taken, then the cap ends the batch
    monkeypatch.setattr(spool_module, "BATCH_MAX_PAYLOAD_BYTES", 64 * 2**20)
    rest = spool.next_batch(1000, after_id=first.last_id)
    assert len(rest.events) == 4
