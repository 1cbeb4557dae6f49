"""The two lookups every API request makes: the personal API key it carries, and the project it names.

They run on every request, so they are written once as SQL (from the models' own table and column names)
and run with ``Model.objects.raw``: the same rows as the ORM queries they replace, without building and
compiling a QuerySet each time, which cost more than the queries themselves (about 0.5 ms for the key with
its user, 1 ms for the team with its membership check, against 0.1 ms each as raw SQL; docs/performance.md).
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from posthog_clone.accounts.models import OrganizationMembership, PersonalAPIKey, Team, User


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type, field: str) -> str:
    return _q(model._meta.get_field(field).column)


@cache
def _key_sql() -> str:
    key, user = _q(PersonalAPIKey._meta.db_table), _q(User._meta.db_table)
    joined = f"u.{_q(User._meta.pk.column)} = k.{_column(PersonalAPIKey, 'user')}"
    return (
        f"SELECT k.* FROM {key} k INNER JOIN {user} u ON {joined}"
        f" WHERE k.{_column(PersonalAPIKey, 'secure_value')} = %s AND u.{_column(User, 'is_active')}"
    )


@cache
def _user_sql() -> str:
    return f"SELECT * FROM {_q(User._meta.db_table)} WHERE {_q(User._meta.pk.column)} = %s"


@cache
def _team_sql() -> str:
    team, member = _q(Team._meta.db_table), _q(OrganizationMembership._meta.db_table)
    organization = _column(Team, "organization")
    return (
        f"SELECT t.*, EXISTS(SELECT 1 FROM {member} m WHERE m.{_column(OrganizationMembership, 'organization')} ="
        f" t.{organization} AND m.{_column(OrganizationMembership, 'user')} = %s) AS _member"
        f" FROM {team} t WHERE t.{_q(Team._meta.pk.column)} = %s"
    )


def active_key_by_secure_value(secure_value: str) -> PersonalAPIKey | None:
    """The key with this hash whose user is active, its ``user`` loaded; None if there is none."""
    key = next(iter(PersonalAPIKey.objects.raw(_key_sql(), [secure_value])), None)
    if key is not None:
        key.user = next(iter(User.objects.raw(_user_sql(), [key.user_id])))
    return key


def team_with_membership(team_id: int, user_id: int | None) -> Team | None:
    """The team, with ``_member``: whether ``user_id`` belongs to its organization. None for an id no row can have
    (the databases refuse integers beyond 64 bits, where the ORM answered no rows)."""
    if not 0 < team_id < 2**63:
        return None
    team = next(iter(Team.objects.raw(_team_sql(), [user_id, team_id])), None)
    if team is not None:
        team._member = bool(team._member)
    return team
