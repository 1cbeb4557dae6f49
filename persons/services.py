"""Writes on persons: delete a person with its distinct ids, here and in ClickHouse."""

from __future__ import annotations

import orjson
from django.db import transaction

from persons.models import Person
from posthog_clone.clickhouse import get_client, table


def person_delete(*, person: Person) -> None:
    """Tombstone the person and its distinct ids in ClickHouse (is_deleted=1, version+1), then delete the rows."""
    distinct_ids = list(person.distinct_ids.all())
    client = get_client()
    person_row = {
        "id": str(person.uuid),
        "created_at": person.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "team_id": person.team_id,
        "properties": "{}",
        "is_identified": int(person.is_identified),
        "is_deleted": 1,
        "version": person.version + 1,
    }
    client.insert_json_rows(table("person"), orjson.dumps(person_row))
    if distinct_ids:
        body = b"\n".join(
            orjson.dumps(
                {
                    "team_id": person.team_id,
                    "distinct_id": pdi.distinct_id,
                    "person_id": str(person.uuid),
                    "is_deleted": 1,
                    "version": pdi.version + 1,
                }
            )
            for pdi in distinct_ids
        )
        client.insert_json_rows(table("person_distinct_id2"), body)
    with transaction.atomic():
        person.distinct_ids.all().delete()
        person.delete()
