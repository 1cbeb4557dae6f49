"""Profile the worker's processing of realistic batches in process (no HTTP), stage by stage.

    .venv/bin/python -m bench.ingest.profile_batch [--batches 5] [--size 10000] [--pyinstrument]

A throwaway VAR_DIR. The events are the shape `bench.ingest` posts (5,000 users, 4 event names), built
by capture's own functions; the first batch meets unknown users, the next ones known users (the steady
state). Prints per-stage seconds of each batch and, with --pyinstrument, a profile of the last one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench.ingest import in_process_project

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args()
    token = in_process_project("bench-profile-")
    from bench.ingest.__main__ import _bodies
    from capture.services import capture_request_ingest
    from ingestion import worker
    from ingestion.queue import get_spool
    from posthog_clone.server.startup import tune_gc

    bodies = _bodies(token, args.size * args.batches)
    tune_gc()  # as every server process does at start-up
    started, cpu = time.perf_counter(), time.thread_time()
    for body in bodies:
        capture_request_ingest(kind="batch", body=body, query={"compression": "gzip"}, content_type="text/plain",
                               content_encoding="", ip="127.0.0.1")  # fmt: skip
    capture_s, cpu = time.perf_counter() - started, time.thread_time() - cpu
    n = len(bodies) * 100
    print(f"capture (no HTTP): {len(bodies)} requests in {capture_s:.2f}s = {n / capture_s:,.0f} events/s,"
          f" CPU {cpu * 1e6 / n:.1f} µs/event")  # fmt: skip
    profiler = None
    for i in range(args.batches):
        if args.pyinstrument and i == args.batches - 1:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        started, cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
        n = worker.drain_once(args.size)
        took, cpu = time.perf_counter() - started, time.thread_time() - cpu
        process_cpu = time.process_time() - process_cpu
        print(
            f"batch {i}: {n} events in {took:.3f}s = {n / took:,.0f} events/s; this thread's CPU {cpu:.3f}s"
            f" (processing), the process's {process_cpu:.3f}s (with the insert thread and chDB's)"
        )
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    assert get_spool().depth() == 0


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
