"""Session replay ingestion end to end: gzip `/s/` requests posted over HTTP until their blocks are stored
(blob objects written, `session_replay_events` rows inserted, the spool empty), next to the raw write speed of
the same blob storage measured in the same run.

    .venv/bin/python -m bench.replay [--requests 2000] [--clients 4] [--events 150]

A throwaway VAR_DIR; `manage.py serve` in the embedded default (in-process worker, blobs under VAR_DIR/replay).
Each request is what posthog-js 1.300 sends: gzip of a JSON array with one `$snapshot` event of `--events`
rrweb events (a meta event, a full snapshot of a generated DOM, mouse moves, clicks, inputs, scrolls and
console logs), one session per request. Bodies are built before the clock starts. End to end = first request
→ spool empty (a batch leaves the spool only after its blobs and rows are written); the rows are then counted
and their `size` summed (the JSONL bytes stored). Raw = `FileStorage.write` (temp file, fsync, rename) of the
same number of JSONL bytes in objects of the size the worker wrote, in this process.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson

from bench.server import ROOT, free_port, kill, manage, server_env, start_server, wait_healthy


def _dom(rng: random.Random, nodes: int) -> dict:
    children = [
        {"type": 2, "tagName": "div", "attributes": {"class": f"row-{i}", "data-x": str(rng.random())}, "id": 10 + i,
         "childNodes": [{"type": 3, "textContent": f"Item {i} {rng.random():.6f} lorem ipsum", "id": 5000 + i}]}
        for i in range(nodes)
    ]  # fmt: skip
    return {"node": {"type": 0, "id": 1, "childNodes": [{"type": 2, "tagName": "html", "attributes": {}, "id": 3,
            "childNodes": [{"type": 2, "tagName": "body", "attributes": {}, "id": 5, "childNodes": children}]}]},
            "initialOffset": {"left": 0, "top": 0}}  # fmt: skip


def _items(rng: random.Random, start: int, count: int) -> list[dict]:
    items = [
        {"type": 4, "data": {"href": "https://shop.example.com/checkout", "width": 1280, "height": 720},
         "timestamp": start},
        {"type": 2, "data": _dom(rng, 120), "timestamp": start + 5},
    ]  # fmt: skip
    for i in range(count - 2):
        t, kind = start + 10 + i * 40, i % 10
        if kind < 5:
            data = {"source": 1, "positions": [{"x": rng.randint(0, 1280), "y": rng.randint(0, 720), "id": 10 + i % 120,
                    "timeOffset": -k * 10} for k in range(3)]}  # fmt: skip
        elif kind < 7:
            data = {"source": 2, "type": 2, "id": 10 + i % 120, "x": rng.randint(0, 1280), "y": rng.randint(0, 720)}
        elif kind == 7:
            data = {"source": 5, "text": "x" * (i % 20), "isChecked": False, "id": 10 + i % 120}
        elif kind == 8:
            data = {"source": 3, "id": 1, "x": 0, "y": i * 3}
        else:
            items.append({"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {"level": "log",
                          "payload": [f'"step {i}"'], "trace": []}}, "timestamp": t})  # fmt: skip
            continue
        items.append({"type": 3, "data": data, "timestamp": t})
    return items


def _bodies(token: str, n: int, events: int) -> list[bytes]:
    rng, now = random.Random(27), int(time.time() * 1000)
    bodies = []
    for r in range(n):
        session = str(uuid.uuid4())
        event = {"event": "$snapshot", "properties": {"$session_id": session, "$window_id": session,
                 "$snapshot_data": _items(rng, now - 600_000 + r, events), "distinct_id": f"user-{r % 500}",
                 "token": token, "$lib": "web", "$lib_version": "1.300.0"}}  # fmt: skip
        bodies.append(gzip.compress(orjson.dumps([event])))
    return bodies


def _post_all(port: int, bodies: list[bytes], clients: int, progress: list[int]) -> None:
    def run(part: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in part:
            conn.request("POST", "/s/?compression=gzip-js&ver=1.300.0", body, {"Content-Type": "text/plain"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            progress[0] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(bodies[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _raw_storage_mb_s(root: Path, total: int, object_bytes: int) -> float:
    from replay.storage import FileStorage

    storage, chunk = FileStorage(root), os.urandom(min(object_bytes, total) or 1)
    written, i, started = 0, 0, time.perf_counter()
    while written < total:
        storage.write(f"1/2026-01-01/raw-{i}.jsonl", chunk)
        written, i = written + len(chunk), i + 1
    return written / 2**20 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--events", type=int, default=150, help="rrweb events per request")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    try:
        port = free_port()
        env = server_env(var_dir, port, INGEST_WORKER_IN_PROCESS="true")
        manage(env, "migrate", "--noinput", "-v", "0")
        token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
        print(f"building {args.requests:,} /s/ requests of {args.events} rrweb events…", flush=True)
        bodies = _bodies(token, args.requests, args.events)
        gzip_bytes = sum(len(b) for b in bodies)
        json_bytes = sum(len(gzip.decompress(b)) for b in bodies)
        server = start_server(env)
        wait_healthy(server, port, path="/_readyz")
        from ingestion.spool import Spool

        spool, progress = Spool(var_dir / "spool.sqlite3"), [0]
        started = time.perf_counter()
        poster = threading.Thread(target=_post_all, args=(port, bodies, args.clients, progress))
        poster.start()
        while poster.is_alive():
            poster.join(timeout=2)
            print(
                f"  posted {progress[0]:,}  queued {spool.depth():,}  {time.perf_counter() - started:.1f}s", flush=True
            )
        posted_s = time.perf_counter() - started
        while spool.depth():
            time.sleep(0.05)
        e2e_s = time.perf_counter() - started
        kill(server, 15)
        code = (
            "from posthog_clone.clickhouse import get_client, table;"
            "r=get_client().query(f'SELECT count(), sum(size), sum(event_count), count(DISTINCT blob_key) "
            'FROM {table("session_replay_events")} FINAL\').rows[0];print(*r)'
        )
        rows, stored_bytes, stored_events, objects = map(int, manage(env, "shell", "-c", code).split()[-4:])
        assert rows == args.requests, f"{rows} blocks stored, {args.requests} posted"
        assert stored_events == args.requests * args.events, stored_events
        print("measuring the raw write speed of the same storage…", flush=True)
        raw = _raw_storage_mb_s(var_dir / "raw", stored_bytes, max(stored_bytes // max(objects, 1), 1))
        mb = 2**20
        e2e_lines = stored_bytes / mb / e2e_s
        print(f"requests:             {args.requests:,} ({rows:,} blocks, {objects:,} blob objects)")
        print(f"gzip posted:          {gzip_bytes / mb:.1f} MB ({json_bytes / mb:.1f} MB JSON, "
              f"{stored_bytes / mb:.1f} MB JSONL stored)")  # fmt: skip
        print(f"posting done:         {posted_s:.1f}s  ({gzip_bytes / mb / posted_s:.2f} MB/s gzip accepted)")
        print(f"end to end:           {e2e_s:.1f}s  {gzip_bytes / mb / e2e_s:.2f} MB/s gzip, "
              f"{e2e_lines:.1f} MB/s JSONL stored, {args.requests / e2e_s:,.0f} requests/s")  # fmt: skip
        print(f"raw storage write:    {raw:.1f} MB/s (FileStorage, fsync, objects of {stored_bytes // objects:,} B)")
        print(f"ratio (JSONL e2e / raw storage): {e2e_lines / raw:.3f}")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
