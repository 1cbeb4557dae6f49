"""Writes on accounts: organizations, projects, users and personal API keys."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from posthog_clone.accounts.keys import generate_personal_api_key, hash_key_value, mask_key_value
from posthog_clone.accounts.models import Organization, OrganizationMembership, PersonalAPIKey, Team, User
from posthog_clone.accounts.scopes import is_valid_scope


@transaction.atomic
def organization_create(*, name: str, owner: User | None = None) -> Organization:
    org = Organization.objects.create(name=name, slug=slugify(name)[:48])
    if owner is not None:
        OrganizationMembership.objects.create(organization=org, user=owner, level=OrganizationMembership.Level.OWNER)
        if owner.current_organization_id is None:
            owner.current_organization = org
            owner.save(update_fields=["current_organization"])
    return org


def team_create(*, organization: Organization, name: str, timezone: str = "UTC") -> Team:
    team = Team.objects.create(organization=organization, name=name, timezone=timezone)
    for membership in organization.memberships.select_related("user"):
        user = membership.user
        if user.current_team_id is None:
            user.current_team = team
            user.save(update_fields=["current_team"])
    return team


def user_create(*, email: str, password: str | None = None, organization: Organization | None = None) -> User:
    user = User.objects.create_user(email=email, password=password)
    if organization is not None:
        OrganizationMembership.objects.create(organization=organization, user=user)
        user.current_organization = organization
        user.current_team = organization.teams.order_by("id").first()
        user.save(update_fields=["current_organization", "current_team"])
    return user


def personal_api_key_create(
    *,
    user: User,
    label: str,
    scopes: list[str] | None = None,
    scoped_teams: list[int] | None = None,
    scoped_organizations: list[str] | None = None,
) -> tuple[PersonalAPIKey, str]:
    """Create a key; returns the row and the secret value, which is shown once and never stored."""
    scopes = list(scopes) if scopes is not None else ["*"]
    bad = [s for s in scopes if not is_valid_scope(s)]
    if bad:
        raise ValueError(f"Invalid scope: {bad[0]}")
    value = generate_personal_api_key()
    key = PersonalAPIKey.objects.create(
        user=user,
        label=label[:40],
        secure_value=hash_key_value(value),
        mask_value=mask_key_value(value),
        scopes=scopes,
        scoped_teams=scoped_teams or None,
        scoped_organizations=scoped_organizations or None,
    )
    return key, value


def update_team_settings(*, team: Team, changes: dict[str, Any]) -> Team:
    """Apply validated project settings. Query results are cached by a key holding these settings, so a
    change is seen by the next query, not after the cache expires."""
    for field_name, value in changes.items():
        setattr(team, field_name, value)
    if changes:
        team.save(update_fields=[*changes])
    return team
