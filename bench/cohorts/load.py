"""`python -m bench.cohorts.load N TEAM_ID`: write N synthetic persons of project TEAM_ID (plus 1 % as many of
another project, which no cohort of TEAM_ID may count) straight into the ClickHouse `person` table of this
VAR_DIR's chDB, with progress on stderr. Run as its own process: one process holds a chDB directory.

Person i: `plan` by i mod 20 (0-11 free, 12-16 pro, 17-18 enterprise, 19 trial: 25 % pro), an `email`,
a `country` and a numeric `seats`."""

from __future__ import annotations

import os
import sys
import time
import uuid

import orjson

BATCH = 100_000
COLUMNS = ("id", "created_at", "team_id", "properties", "is_identified", "is_deleted", "version")
OTHER_TEAM_OFFSET = 1_000_000  # the other project's id: far from any real one in a fresh VAR_DIR


def plan(i: int) -> str:
    slot = i % 20
    return "free" if slot < 12 else "pro" if slot < 17 else "enterprise" if slot < 19 else "trial"


def row(i: int, team_id: int) -> bytes:
    country = ("DE", "FR", "US", "GB", "JP")[i % 5]
    props = {"plan": plan(i), "email": f"user{i}@example{i % 97}.com", "country": country, "seats": i % 50}
    person_id = uuid.UUID(int=(team_id << 64) + i)
    return orjson.dumps([str(person_id), "2025-01-01 00:00:00.000", team_id, orjson.dumps(props).decode(), 1, 0, 0])


def progress(done: int, total: int, started: float) -> None:
    width, filled = 30, int(30 * done / max(total, 1))
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\rloading persons [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def load(total: int, team_id: int) -> None:
    from posthog_clone.clickhouse import get_client, table
    from posthog_clone.clickhouse.migrations import migrate

    migrate()
    client, started = get_client(), time.perf_counter()
    jobs = [(team_id, total), (team_id + OTHER_TEAM_OFFSET, max(total // 100, 1))]
    everything, done = sum(n for _, n in jobs), 0
    for team, count in jobs:
        for start in range(0, count, BATCH):
            body = b"\n".join(row(i, team) for i in range(start, min(start + BATCH, count)))
            client.insert_json_rows(table("person"), body, columns=COLUMNS)
            done += min(BATCH, count - start)
            progress(done, everything, started)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
    import django

    django.setup()
    load(int(sys.argv[1]), int(sys.argv[2]))
