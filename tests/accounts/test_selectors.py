"""The per-request lookups build their instances from one SQL row each: every field must equal what the ORM
loads (UUIDs, decimals, JSON, aware datetimes, booleans, nulls), on SQLite and on PostgreSQL."""

from __future__ import annotations

import gc
import threading
import weakref
from decimal import Decimal

import pytest
from django.db import connections, models
from django.utils import timezone

from posthog_clone.accounts.keys import hash_key_value
from posthog_clone.accounts.models import OrganizationMembership, PersonalAPIKey, Team, User
from posthog_clone.accounts.selectors import active_key_by_secure_value, team_with_membership
from posthog_clone.accounts.services import personal_api_key_create
from tests.conftest import make_project


def _values(instance: models.Model) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _assert_same(loaded: models.Model, expected: models.Model) -> None:
    assert type(loaded) is type(expected)
    assert not loaded._state.adding and loaded._state.db == expected._state.db
    got, want = _values(loaded), _values(expected)
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}


def test_key_and_its_user_equal_the_orms(project):
    key, _ = personal_api_key_create(
        user=project.user, label="selector", scopes=["query:read"], scoped_teams=[project.team.pk]
    )
    PersonalAPIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now(), scoped_organizations=["x"])

    loaded = active_key_by_secure_value(key.secure_value)

    _assert_same(loaded, PersonalAPIKey.objects.get(pk=key.pk))
    assert loaded.scopes == ["query:read"] and loaded.scoped_teams == [project.team.pk]
    assert timezone.is_aware(loaded.last_used_at) and timezone.is_aware(loaded.created_at)
    assert "user" in loaded._state.fields_cache  # loaded with the key: no query to reach it
    _assert_same(loaded.user, User.objects.get(pk=project.user.pk))


def test_no_key_for_an_unknown_hash_or_an_inactive_user(project):
    assert active_key_by_secure_value(hash_key_value("phx_nope")) is None
    User.objects.filter(pk=project.user.pk).update(is_active=False)
    assert active_key_by_secure_value(project.key.secure_value) is None


def test_team_with_membership_equals_the_orms(project, other_project):
    Team.objects.filter(pk=project.team.pk).update(
        session_recording_sample_rate=Decimal("0.25"),
        session_recording_linked_flag={"id": 1, "key": "flag"},
        capture_console_log_opt_in=None,
        anonymize_ips=True,
        test_account_filters=[{"key": "email", "value": "@x.com", "operator": "not_icontains"}],
    )

    team = team_with_membership(project.team.pk, project.user.pk)

    _assert_same(team, Team.objects.get(pk=project.team.pk))
    assert team.session_recording_sample_rate == Decimal("0.25") and team.capture_console_log_opt_in is None
    assert team._member is True
    assert team_with_membership(project.team.pk, other_project.user.pk)._member is False
    assert team_with_membership(project.team.pk, None)._member is False


def test_membership_follows_the_membership_rows(project, other_project):
    assert team_with_membership(other_project.team.pk, project.user.pk)._member is False
    OrganizationMembership.objects.create(organization=other_project.organization, user=project.user)
    assert team_with_membership(other_project.team.pk, project.user.pk)._member is True


def test_no_team_for_ids_no_row_can_have(project):
    missing = Team.objects.order_by("-pk").first().pk + 1
    for team_id in (missing, 0, -1, 2**63, 2**70):
        assert team_with_membership(team_id, project.user.pk) is None


@pytest.mark.django_db(transaction=True)
def test_a_finished_threads_connection_is_not_kept(transactional_db):
    """The converters are the connection's methods: cached past the thread, they would keep its connection."""
    project = make_project("Threads", "threads@example.com")
    seen: list[weakref.ref] = []

    def lookup() -> None:
        try:
            assert active_key_by_secure_value(project.key.secure_value).pk == project.key.pk
            assert team_with_membership(project.team.pk, project.user.pk)._member is True
            seen.append(weakref.ref(connections["default"]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=lookup)
    thread.start()
    thread.join()
    gc.collect()
    assert len(seen) == 1 and seen[0]() is None
