"""The move of Person and PersonDistinctId from the ingestion app to persons (persons 0001, ingestion 0002)
keeps the rows of a database the earlier migrations made: the database is taken back to before the move,
rows are written through the models as they were then, and migrating forward finds them as persons'."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from persons.models import Person, PersonDistinctId

BEFORE_THE_MOVE = [("ingestion", "0001_initial"), ("persons", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # the next executor reads the applied migrations afresh
    return executor


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_persons_and_their_distinct_ids_survive_the_move_to_the_persons_app(team):
    person_type = ContentType.objects.get_for_model(Person)
    try:
        graph = _migrate(BEFORE_THE_MOVE).loader.graph
        before = [n for n in graph.leaf_nodes() if n[0] not in ("ingestion", "persons")] + [BEFORE_THE_MOVE[0]]
        old_apps = MigrationExecutor(connection).loader.project_state(before).apps
        OldPerson = old_apps.get_model("ingestion", "Person")
        OldDistinctId = old_apps.get_model("ingestion", "PersonDistinctId")
        OldContentType = old_apps.get_model("contenttypes", "ContentType")
        assert OldContentType.objects.get(pk=person_type.pk).app_label == "ingestion"  # as it was before

        created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        old = OldPerson.objects.create(
            team_id=team.pk, uuid=uuid.uuid4(), properties={"plan": "pro"}, is_identified=True, created_at=created,
            version=3,
        )  # fmt: skip
        for did in ("anon-1", "user@example.com"):
            OldDistinctId.objects.create(team_id=team.pk, person_id=old.pk, distinct_id=did, version=1)
    finally:
        _migrate(_latest())

    person = Person.objects.get(pk=old.pk)
    fields = (person.team_id, person.uuid, person.properties, person.is_identified, person.created_at, person.version)
    assert fields == (team.pk, old.uuid, {"plan": "pro"}, True, created, 3)
    assert sorted(person.distinct_ids.values_list("distinct_id", "version")) == [("anon-1", 1), ("user@example.com", 1)]
    assert ContentType.objects.get(pk=person_type.pk).app_label == "persons"  # and its permissions with it

    # the tables work as persons' own: new rows, the unique constraint, the cascade
    PersonDistinctId.objects.create(team=team, person=person, distinct_id="anon-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonDistinctId.objects.create(team=team, person=person, distinct_id="anon-2")
    person.delete()
    assert not PersonDistinctId.objects.filter(team=team).exists()
