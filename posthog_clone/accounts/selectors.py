"""The two lookups every API request makes: the personal API key it carries (with its user), and the project it
names (with the requester's membership).

They run on every request, so each is one SQL statement, written once from the models' own table and column
names, whose rows are turned into model instances by ``_Rows``: the database's converters for each column (what
the ORM's compiler applies) worked out once per thread's connection, then ``Model.from_db``, which is how the ORM
builds instances from rows. ``Model.objects.raw`` did the same per query and cost more than the query: it mapped
the columns, ordered the model's fields and asked the backend for every column's converters on each call
(docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import connection, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from posthog_clone.accounts.models import OrganizationMembership, PersonalAPIKey, Team, User

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type[Model], field: str) -> str:
    return _q(model._meta.get_field(field).column)


def _columns(model: type[Model], alias: str) -> str:
    return ", ".join(f"{alias}.{_q(f.column)}" for f in model._meta.concrete_fields)


class _Rows:
    """Rows of ``sql`` as instances of ``models``: each row holds every concrete column of the first model, then
    of the next, in ``_meta.concrete_fields`` order, then ``extra`` plain values."""

    def __init__(self, sql: str, models: Sequence[type[Model]], extra: int = 0):
        self.sql = sql
        self.models = list(models)
        self.fields: list[Field] = [f for model in self.models for f in model._meta.concrete_fields]
        self.extra = extra
        # Per thread, as Django's connections are: the converters are methods of the connection's backend, so a
        # cache shared between threads would keep every thread's connection alive after the thread ended.
        self._local = threading.local()

    def _for(self, conn: BaseDatabaseWrapper) -> list[tuple[int, Any, list[Converter]]]:
        """(position, column expression, converters) of the columns that have converters on this connection (what
        the ORM's compiler asks for each column), asked once per thread and connection."""
        cached = getattr(self._local, "converters", None)
        if cached is not None and cached[0] is conn:
            return cached[1]
        found = []
        for i, field in enumerate(self.fields):
            col = field.get_col(field.model._meta.db_table)
            converters = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if converters:
                found.append((i, col, converters))
        self._local.converters = (conn, found)
        return found

    def first(self, params: Sequence[Any]) -> tuple[list[Model], list[Any]] | None:
        """The first row's model instances and extra values, or None when there is no row."""
        conn = connections[router.db_for_read(self.models[0])]  # the database the ORM would read
        with conn.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, col, converters in self._for(conn):
            for convert in converters:
                values[i] = convert(values[i], col, conn)
        instances, start = [], 0
        for model in self.models:
            end = start + len(model._meta.concrete_fields)
            instances.append(model.from_db(conn.alias, None, values[start:end]))
            start = end
        return instances, values[start : start + self.extra]


@cache
def _key_rows() -> _Rows:
    key, user = _q(PersonalAPIKey._meta.db_table), _q(User._meta.db_table)
    joined = f"u.{_q(User._meta.pk.column)} = k.{_column(PersonalAPIKey, 'user')}"
    sql = (
        f"SELECT {_columns(PersonalAPIKey, 'k')}, {_columns(User, 'u')} FROM {key} k INNER JOIN {user} u ON {joined}"
        f" WHERE k.{_column(PersonalAPIKey, 'secure_value')} = %s AND u.{_column(User, 'is_active')}"
    )
    return _Rows(sql, [PersonalAPIKey, User])


@cache
def _team_rows() -> _Rows:
    team, member = _q(Team._meta.db_table), _q(OrganizationMembership._meta.db_table)
    organization = _column(Team, "organization")
    sql = (
        f"SELECT {_columns(Team, 't')}, EXISTS(SELECT 1 FROM {member} m"
        f" WHERE m.{_column(OrganizationMembership, 'organization')} = t.{organization}"
        f" AND m.{_column(OrganizationMembership, 'user')} = %s) FROM {team} t WHERE t.{_q(Team._meta.pk.column)} = %s"
    )
    return _Rows(sql, [Team], extra=1)


def active_key_by_secure_value(secure_value: str) -> PersonalAPIKey | None:
    """The key with this hash whose user is active, its ``user`` loaded; None if there is none."""
    found = _key_rows().first([secure_value])
    if found is None:
        return None
    (key, user), _ = found
    key.user = user
    return key  # type: ignore[return-value]


def team_with_membership(team_id: int, user_id: int | None) -> Team | None:
    """The team, with ``_member``: whether ``user_id`` belongs to its organization. None for an id no row can have
    (the databases refuse integers beyond 64 bits, where the ORM answered no rows)."""
    if not 0 < team_id < 2**63:
        return None
    found = _team_rows().first([user_id, team_id])
    if found is None:
        return None
    (team,), (member,) = found
    team._member = bool(member)  # type: ignore[attr-defined]
    return team  # type: ignore[return-value]
