"""posthog_clone.sdk.tokens: the project-API-key → team cache, cleared by any Team save or delete (receivers the
module connects itself, not any endpoint app)."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_delete, post_save

from posthog_clone.accounts.models import Team
from posthog_clone.sdk.tokens import team_id_for_token, token_cache_clear


@pytest.mark.django_db
def test_hits_and_misses_are_cached(team, django_assert_num_queries) -> None:
    with django_assert_num_queries(2):
        assert team_id_for_token(team.api_token) == team.pk
        assert team_id_for_token("phc_nobody") is None
    with django_assert_num_queries(0):
        assert team_id_for_token(team.api_token) == team.pk
        assert team_id_for_token("phc_nobody") is None


@pytest.mark.django_db
def test_a_deleted_team_token_stops_resolving_at_once(other_project, team) -> None:
    doomed = other_project.team
    assert team_id_for_token(doomed.api_token) == doomed.pk
    doomed.delete()
    assert team_id_for_token(doomed.api_token) is None
    assert team_id_for_token(team.api_token) == team.pk


@pytest.mark.django_db
def test_a_new_token_resolves_at_once_after_a_save(team) -> None:
    assert team_id_for_token("phc_brand_new_token_value") is None  # negatively cached
    team.api_token = "phc_brand_new_token_value"
    team.save()
    assert team_id_for_token("phc_brand_new_token_value") == team.pk


def test_the_receivers_are_connected_once() -> None:
    for signal in (post_save, post_delete):
        receivers = [r for r in signal._live_receivers(Team)[0] if r is token_cache_clear]
        assert len(receivers) == 1
