"""Celery worker batching: what one worker process does with N messages of 100 events (an SDK request
each), per strategy, next to the raw chDB insert of the same rows in the same run.

    .venv/bin/python -m bench.celery_batching [--messages 300] [--group 10,50]

Strategies (each on fresh uuids, same distinct ids, the one processing path `ingest_batch`):
  per-message   one `ingest_batch` + insert per message (what a plain Celery task does);
  async-insert  per message, but the insert with async_insert=1, wait_for_async_insert=1;
  group of K    K messages accumulated into one `ingest_batch` + insert (what Batches tasks do).
Raw = the same rows already built, inserted as 10,000-row JSONEachRow inserts. A throwaway VAR_DIR,
SQLite + chDB, no broker: the broker's cost is the same for every strategy.
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


def _messages(token: str, team_id: int, n: int) -> list[list]:
    from ingestion.envelope import CapturedEvent

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = []
    for m in range(n):
        msg = []
        for i in range(100):
            u = str(uuid.uuid4())
            ev = {"event": ("$pageview", "$autocapture", "signed_up")[i % 3], "uuid": u,
                  "distinct_id": f"user-{(m * 100 + i) % 2000}",
                  "properties": {"$session_id": f"s-{m % 90}", "$current_url": "https://x.io/p", "n": i}}  # fmt: skip
            msg.append(CapturedEvent(uuid=u, distinct_id=ev["distinct_id"], ip="127.0.0.1", timestamp=now,
                data=orjson.dumps(ev).decode(), now=now, sent_at=None, token=token, team_id=team_id,
                event=ev["event"]))  # fmt: skip
        out.append(msg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--group", default="10,50", help="comma-separated K for the accumulated strategy")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    os.environ.update(VAR_DIR=str(var_dir), SECRET_KEY="bench", DJANGO_SETTINGS_MODULE="posthog_clone.settings",
                      LOG_LEVEL="WARNING", INGEST_WORKER_IN_PROCESS="false")  # fmt: skip
    for name in ("DATABASE_URL", "CLICKHOUSE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        from ingestion.pipeline import ingest_batch, process_batch
        from ingestion.processing import EVENT_COLUMNS
        from ingestion.tasks import batch_token
        from posthog_clone.accounts.models import Team
        from posthog_clone.clickhouse import get_client, table
        from posthog_clone.clickhouse.migrations import migrate

        migrate()
        call_command("bootstrap", "--json", stdout=open(os.devnull, "w"))  # noqa: SIM115
        team = Team.objects.get()
        client = get_client()
        n_events = args.messages * 100

        def warm() -> None:  # persons and definitions caches in the state a running worker has them
            for msg in _messages(team.api_token, team.pk, 20):
                ingest_batch(msg, token=batch_token(msg))

        def timed(label: str, run) -> float:
            msgs = _messages(team.api_token, team.pk, args.messages)
            started = time.perf_counter()
            run(msgs)
            rate = n_events / (time.perf_counter() - started)
            print(f"  {label:<16} {rate:>10,.0f} events/s", flush=True)
            return rate

        def per_message(msgs: list[list]) -> None:
            for msg in msgs:
                ingest_batch(msg, token=batch_token(msg))

        def async_insert(msgs: list[list]) -> None:
            for msg in msgs:
                body = process_batch(msg).body
                client._client.raw_insert(table("events"), column_names=list(EVENT_COLUMNS), insert_block=body,
                                          fmt="JSONCompactEachRow", settings={
                    "input_format_skip_unknown_fields": 1, "async_insert": 1, "wait_for_async_insert": 1})  # fmt: skip

        def grouped(k: int):
            def run(msgs: list[list]) -> None:
                for i in range(0, len(msgs), k):
                    envs = [e for msg in msgs[i : i + k] for e in msg]
                    ingest_batch(envs, token=batch_token(envs))

            return run

        warm()
        print(f"{args.messages} messages x 100 events, one process (SQLite + chDB):")
        results = {"per-message": timed("per-message", per_message)}
        results["async-insert"] = timed("async-insert", async_insert)
        for k in (int(x) for x in args.group.split(",")):
            results[f"group of {k}"] = timed(f"group of {k}", grouped(k))
        envs = [e for msg in _messages(team.api_token, team.pk, args.messages) for e in msg]
        bodies = [process_batch(envs[i : i + 10_000]).body for i in range(0, len(envs), 10_000)]
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            client.insert_json_rows(table("events"), body, dedup_token=f"raw-{i}", columns=EVENT_COLUMNS)
        raw = n_events / (time.perf_counter() - started)
        print(f"  {'raw insert':<16} {raw:>10,.0f} events/s (rows prebuilt, 10k per insert)")
        count = client.query(f"SELECT count() FROM {table('events')}").rows[0][0]
        assert count == n_events * (len(results) + 1) + 2000, count
        print("ratio to raw:  " + "  ".join(f"{k} {v / raw:.3f}" for k, v in results.items()))
        best = max(results, key=results.get)
        print(f"best: {best}, {results[best] / results['per-message']:.1f}x per-message")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
