"""Reads of the project tree: the list query (filters, search, ordering), descendants, counts, view logs."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Func, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Length, Lower, Substr
from django.db.models.lookups import Exact

from file_system.models import FOLDER, FileSystem, FileSystemViewLog
from file_system.search import search_q
from posthog_clone.accounts.models import Team, User

PLAIN_ORDERINGS = {name: (name,) for name in ("path", "-path", "created_at", "-created_at")}


def descendants_q(folder_path: str) -> Q:
    """Rows strictly below `folder_path` at any depth: the stored string starts with `folder_path + "/"`.

    `startswith` alone is case-insensitive on SQLite (LIKE), so an exact comparison of the prefix
    keeps `Docs/` and `docs/` apart on every database.
    """
    prefix = folder_path + "/"
    return Q(path__startswith=prefix) & Q(Exact(Substr("path", 1, Length(Value(prefix))), Value(prefix)))


class OctetLength(Func):
    """Length in bytes (UTF-8), as the path limit counts it."""

    function = "OCTET_LENGTH"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="LENGTH(CAST(%(expressions)s AS BLOB))", **extra)


def team_rows(team: Team) -> QuerySet[FileSystem]:
    return FileSystem.objects.filter(team=team)


def descendants(team: Team, folder_path: str) -> QuerySet[FileSystem]:
    return team_rows(team).filter(descendants_q(folder_path))


def longest_descendant_bytes(team: Team, folder_path: str) -> int:
    return descendants(team, folder_path).aggregate(longest=Max(OctetLength("path")))["longest"] or 0


def count_descendants(team: Team, folder_path: str) -> int:
    return descendants(team, folder_path).count()


def filter_rows(queryset: QuerySet[FileSystem], params: dict[str, Any], *, user: Any) -> QuerySet[FileSystem]:
    """AND-combine the list filters; `params` is the validated query string."""
    exact = {name: params[name] for name in ("depth", "path", "type", "ref") if params.get(name) is not None}
    queryset = queryset.filter(**exact)
    if params.get("parent"):
        queryset = queryset.filter(descendants_q(params["parent"]))
    if params.get("not_type"):
        queryset = queryset.exclude(type=params["not_type"])
    if params.get("type__startswith"):
        queryset = queryset.filter(type__startswith=params["type__startswith"])
    if params.get("created_at__gt"):
        queryset = queryset.filter(created_at__gt=params["created_at__gt"])
    if params.get("created_at__lt"):
        queryset = queryset.filter(created_at__lt=params["created_at__lt"])
    if params.get("search"):
        queryset = queryset.filter(search_q(params["search"], user=user))
    return queryset


def _last_viewed(team: Team, user: Any) -> Subquery:
    logs = FileSystemViewLog.objects.filter(team=team, user_id=user.pk, type=OuterRef("type"), ref=OuterRef("ref"))
    return Subquery(logs.values("viewed_at")[:1])


def order_rows(queryset: QuerySet[FileSystem], params: dict[str, Any], *, team: Team, user: Any) -> QuerySet:
    """`ref` → originals first; `order_by` options; else folders first (with `depth`) then lower(path)."""
    order_by = params.get("order_by")
    if params.get("ref") is not None:
        return queryset.order_by("shortcut", Lower("path"), "id")
    if order_by in PLAIN_ORDERINGS:
        return queryset.order_by(*PLAIN_ORDERINGS[order_by], "id")
    if order_by in ("last_viewed_at", "-last_viewed_at") and getattr(user, "is_authenticated", False):
        queryset = queryset.annotate(last_viewed_at=_last_viewed(team, user))
        if order_by == "last_viewed_at":
            return queryset.order_by(
                Case(When(last_viewed_at__isnull=True, then=Value(0)), default=Value(1)),
                "last_viewed_at",
                "created_at",
                "id",
            )
        return queryset.order_by(
            Case(When(last_viewed_at__isnull=True, then=Value(1)), default=Value(0)),
            "-last_viewed_at",
            "-created_at",
            "-id",
        )
    if order_by:
        return queryset.order_by("-created_at", "-id")
    if params.get("depth") is not None:
        folders_first = Case(When(type=FOLDER, then=Value(0)), default=Value(1), output_field=IntegerField())
        return queryset.order_by(folders_first, Lower("path"), "id")
    return queryset.order_by(Lower("path"), "id")


def _is_user_id(value: Any) -> bool:
    """An integer a user primary key could be: `meta` is free-form, so 10**30 or -1 must not reach the query."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def page_users(rows: list[FileSystem], team: Team) -> list[User]:
    """Creators named by integer `meta.created_by` on this page, limited to the organization's members."""
    ids = {
        row.meta["created_by"] for row in rows if isinstance(row.meta, dict) and _is_user_id(row.meta.get("created_by"))
    }
    if not ids:
        return []
    return list(
        User.objects.filter(pk__in=ids, organization_memberships__organization_id=team.organization_id).order_by("pk")
    )


def view_logs(team: Team, user: Any, *, type: str | None, limit: int | None) -> QuerySet[FileSystemViewLog]:
    logs = FileSystemViewLog.objects.filter(team=team, user_id=user.pk).order_by("-viewed_at", "-id")
    if type:
        logs = logs.filter(type=type)
    return logs[:limit] if limit else logs
