"""Scale mode's Celery ingestion worker: events/s of one worker process writing N broker messages of 100 events
(an SDK request each) into chDB, batching against one message per insert, next to the raw chDB insert of the
same rows in the same run.

    .venv/bin/python -m bench.celery_batching [--messages 1000] [--broker redis://127.0.0.1:6379/0]

  celery worker    a real `celery -A posthog_clone worker --pool solo` process owning its chDB, from the moment
                   the messages appear on its queue until each is acknowledged (bench/celery_batching/
                   worker_process.py; Redis brokers only);
  batching thread  the same consumer (ingestion.consumer's IngestionConsumer, the thread the worker runs for the
                   ingestion queue) in this process, from its start until every message is acknowledged;
  one per insert   what the worker did before: each message taken, written as its own insert (the
                   ``ingest_events`` task's path, without Celery's dispatch), acknowledged;
  raw insert       the same rows already built, inserted INGEST_BATCH_SIZE rows at a time.
The limits are the settings' (INGEST_BATCH_SIZE events, INGEST_BATCH_MESSAGES messages, INGEST_FLUSH_INTERVAL_MS).
Every case on fresh uuids (same distinct ids, persons made in a warm-up), through the real broker on queues
of its own (removed at the end), SQLite + chDB, GC tuned as the worker tunes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
NOW = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())  # capture's envelope form (capture.parsing.iso)


def _messages(token: str, team_id: int, n: int) -> list[list]:
    from ingestion.envelope import CapturedEvent

    out = []
    for m in range(n):
        msg = []
        for i in range(100):
            u = str(uuid.uuid4())
            ev = {"event": ("$pageview", "$autocapture", "signed_up")[i % 3], "uuid": u,
                  "distinct_id": f"user-{(m * 100 + i) % 2000}",
                  "properties": {"$session_id": f"s-{m % 90}", "$current_url": "https://x.io/p", "n": i}}  # fmt: skip
            msg.append(CapturedEvent(uuid=u, distinct_id=ev["distinct_id"], ip="127.0.0.1", timestamp=NOW,
                data=orjson.dumps(ev).decode(), now=NOW, sent_at=None, token=token, team_id=team_id,
                event=ev["event"]))  # fmt: skip
        out.append(msg)
    return out


def _setup(var_dir: Path, broker: str) -> None:
    os.environ.update(VAR_DIR=str(var_dir), SECRET_KEY="bench", DJANGO_SETTINGS_MODULE="posthog_clone.settings",
                      LOG_LEVEL="WARNING", INGEST_WORKER_IN_PROCESS="false", CELERY_BROKER_URL=broker)  # fmt: skip
    for name in ("DATABASE_URL", "CLICKHOUSE_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.CELERY_TASK_DEFAULT_QUEUE = f"bench-ingestion-{uuid.uuid4().hex[:8]}"  # read by ingestion.broker
    call_command("migrate", "--noinput", verbosity=0)
    from posthog_clone.clickhouse.migrations import migrate

    migrate()
    call_command("bootstrap", "--json", stdout=open(os.devnull, "w"))  # noqa: SIM115


def _remove_queue(app, name: str) -> None:
    """The bench's queue and its binding gone from the broker."""
    from posthog_clone.redis_transport import Channel, inflight_key

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        if isinstance(channel, Channel):
            with channel.conn_or_acquire() as client:
                client.delete(name, inflight_key(name), f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
        else:
            channel.queue_delete(name)
            channel.exchange_delete(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000, help="messages of 100 events for the batching worker")
    parser.add_argument("--one-per-insert", type=int, default=200, help="messages for one message per insert")
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--no-process", action="store_true", help="skip the `celery worker` process case")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    load = os.getloadavg()
    try:
        _setup(var_dir, args.broker)
        from ingestion import broker
        from ingestion.batching import Limits, batch_token
        from ingestion.consumer import IngestionConsumer, drain
        from ingestion.pipeline import ingest_batch, process_batch
        from ingestion.processing import EVENT_COLUMNS
        from posthog_clone.accounts.models import Team
        from posthog_clone.celery import app
        from posthog_clone.clickhouse import get_client, table
        from posthog_clone.server.startup import tune_gc

        team = Team.objects.get()
        client = get_client()
        limits = Limits.from_settings()

        def publish(n: int) -> int:
            msgs = _messages(team.api_token, team.pk, n)
            started = time.perf_counter()
            for msg in msgs:
                broker.publish(msg)
            rate = n / (time.perf_counter() - started)
            assert broker.depth() == n, broker.depth()
            return rate

        publish(20)
        drain()  # warm: persons and definitions caches in the state a running worker has them
        tune_gc()
        bounds = f"{limits.events} events / {limits.messages} messages / {limits.interval * 1000:.0f} ms"
        print(f"broker {args.broker.split('@')[-1]}, queue {broker.queue_name()}; SQLite + chDB here; limits {bounds}")

        rates, target = {}, args.messages * 100
        if args.broker.startswith(("redis://", "rediss://")) and not args.no_process:
            from bench.celery_batching import worker_process

            rate, cpu = worker_process.run(args.broker, args.messages, _messages, var_dir / "worker")
            rates["celery worker"] = rate
            print(f"  {'celery worker':<16} {rate:>10,.0f} events/s  ({args.messages} messages; "
                  f"CPU {cpu / target * 1e6:.1f} µs an event)")  # fmt: skip

        published = publish(args.messages)
        worker = IngestionConsumer(broker.queue_name(), limits)
        started, cpu = time.perf_counter(), time.process_time()
        worker.start()
        while worker.events < target:
            time.sleep(0.002)
        rates["batching thread"] = target / (time.perf_counter() - started)
        cpu = time.process_time() - cpu
        worker.stop()
        print(f"  {'batching thread':<16} {rates['batching thread']:>10,.0f} events/s  ({args.messages} messages; "
              f"CPU {cpu / target * 1e6:.1f} µs an event; published at {published:,.0f} messages/s)")  # fmt: skip

        publish(args.one_per_insert)
        started = time.perf_counter()
        for message in broker.queued_messages():
            envelopes = broker.message_events(message.body)
            ingest_batch(envelopes, token=batch_token(envelopes))
            message.ack()
        rates["one per insert"] = single = args.one_per_insert * 100 / (time.perf_counter() - started)
        print(f"  {'one per insert':<16} {single:>10,.0f} events/s  ({args.one_per_insert} messages)")

        envs = [e for msg in _messages(team.api_token, team.pk, args.messages) for e in msg]
        bodies = [process_batch(envs[i : i + limits.events]).body for i in range(0, len(envs), limits.events)]
        started, cpu = time.perf_counter(), time.process_time()
        for i, body in enumerate(bodies):
            client.insert_json_rows(table("events"), body, dedup_token=f"raw-{i}", columns=EVENT_COLUMNS)
        raw = len(envs) / (time.perf_counter() - started)
        cpu = time.process_time() - cpu
        print(f"  {'raw insert':<16} {raw:>10,.0f} events/s  (rows prebuilt, {limits.events} per insert; "
              f"CPU {cpu / len(envs) * 1e6:.1f} µs an event)")  # fmt: skip

        [[count, unique]] = client.query(f"SELECT count(), uniqExact(uuid) FROM {table('events')}").rows
        assert count == unique == 2000 + (2 * args.messages + args.one_per_insert) * 100, (count, unique)
        print("ratio to raw:  " + "  ".join(f"{name} {rate / raw:.3f}" for name, rate in rates.items()))
        best = max(rate for name, rate in rates.items() if name != "one per insert")
        print(f"batching = {best / single:.1f}x one per insert")
        print(f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; cores {os.cpu_count()}")
        _remove_queue(app, broker.queue_name())
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
