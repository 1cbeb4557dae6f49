"""Automatic tree rows for domain objects: register a model once and its saves and deletes keep one row
under `Unfiled/<Type>/<name>` (or a `_create_in_folder` given at creation) in step with the object.

    register(Syncable(type="feature_flag", model=FeatureFlag, represent=..., live=...))

On creation the row is made (with its missing ancestor folders); on a rename only the last segment of
every row for (team, type, ref), shortcuts included, changes, so a folder the user chose is kept; a
soft-deleted or deleted object loses its rows. `unfiled` re-creates rows that are missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.signals import post_delete, post_save

from file_system.models import FileSystem
from file_system.paths import escape_segment, join_path, normalize_path, path_depth, path_fits, split_path
from file_system.services import TreeError, clean_path, ensure_folders, repair_tree
from posthog_clone.accounts.models import Team


@dataclass(frozen=True)
class Representation:
    """How one object appears in the tree."""

    team_id: int
    ref: str
    name: str
    href: str
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: Any = None
    created_by_id: int | None = None
    should_delete: bool = False


@dataclass(frozen=True)
class Syncable:
    type: str
    model: type[Model]
    base_folder: str
    represent: Callable[[Any], Representation]
    live: Callable[[Team], QuerySet]  # objects that must have a row (for `unfiled`)
    ref_field: str = "pk"  # the model field `ref` holds


REGISTRY: dict[str, Syncable] = {}


def register(syncable: Syncable) -> None:
    REGISTRY[syncable.type] = syncable
    uid = f"file_system_sync_{syncable.type}"
    post_save.connect(_on_save, sender=syncable.model, dispatch_uid=uid, weak=False)
    post_delete.connect(_on_delete, sender=syncable.model, dispatch_uid=uid, weak=False)


def _syncable_for(model: type[Model]) -> Syncable | None:
    return next((s for s in REGISTRY.values() if s.model is model), None)


def _rows(syncable: Syncable, rep: Representation) -> QuerySet[FileSystem]:
    return FileSystem.objects.filter(team_id=rep.team_id, type=syncable.type, ref=rep.ref)


def _leaf_name(rep: Representation) -> str:
    return rep.name or "Untitled"


def new_row(syncable: Syncable, rep: Representation, folder: str | None = None) -> FileSystem:
    path = join_path([*split_path(folder or syncable.base_folder), _leaf_name(rep)])
    return FileSystem(
        team_id=rep.team_id,
        path=path,
        depth=path_depth(path),
        type=syncable.type,
        ref=rep.ref,
        href=rep.href,
        meta=rep.meta,
        shortcut=False,
        created_by_id=rep.created_by_id,
        **({"created_at": rep.created_at} if rep.created_at else {}),
    )


def sync_object(syncable: Syncable, instance: Any) -> None:
    """Upsert the object's rows; `instance._create_in_folder` replaces the base folder for a new row."""
    rep = syncable.represent(instance)
    rows = _rows(syncable, rep)
    if rep.should_delete:
        rows.delete()
        return
    with transaction.atomic():
        existing = list(rows)
        if not any(not row.shortcut for row in existing):
            folder = getattr(instance, "_create_in_folder", None)
            row = new_row(syncable, rep, normalize_path(folder) if folder else None)
            if not path_fits(row.path):  # a chosen folder too long to store: file it in the default one
                row = new_row(syncable, rep)
            ensure_folders(team=Team(pk=rep.team_id), path=row.path, user=None)
            row.save(force_insert=True)
        leaf = escape_segment(_leaf_name(rep))
        for row in existing:
            parent = join_path(split_path(row.path)[:-1])
            renamed = f"{parent}/{leaf}" if parent else leaf
            if (row.path, row.href) != (renamed, rep.href):
                row.path, row.depth, row.href = renamed, path_depth(renamed), rep.href
                row.save(update_fields=["path", "depth", "href"])


def _on_save(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    syncable = _syncable_for(sender)
    if syncable is not None and not raw:
        sync_object(syncable, instance)


def _on_delete(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    syncable = _syncable_for(sender)
    if syncable is not None:
        rep = syncable.represent(instance)
        _rows(syncable, rep).delete()


def create_unfiled(*, team: Team, type: str | None = None) -> int:
    """Rows for live objects that have no original (non-shortcut) row; returns how many were created."""
    created = 0
    for syncable in REGISTRY.values():
        if type and syncable.type != type:
            continue
        filed = FileSystem.objects.filter(team=team, type=syncable.type).filter(Q(shortcut=False) | Q(shortcut=None))
        have = set(filed.values_list("ref", flat=True))
        reps = (syncable.represent(obj) for obj in syncable.live(team).iterator())
        rows = [new_row(syncable, rep) for rep in reps if rep.ref not in have and not rep.should_delete]
        FileSystem.objects.bulk_create(rows, batch_size=1000)
        created += len(rows)
    return created


def file_unfiled(*, team: Team, type: str | None = None) -> int:
    """`unfiled`: create the missing rows, then repair folders and depths tree-wide, all in one transaction."""
    with transaction.atomic():
        created = create_unfiled(team=team, type=type)
        repair_tree(team=team)
    return created


def restore_rows(*, team: Team, items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """`undo_delete` for row-only deletes: put each object's original row back (at `path` if given)."""
    unsupported = next((item["type"] for item in items if item["type"] not in REGISTRY), None)
    if unsupported is not None:
        raise TreeError(f"Undo for type '{unsupported}' is not supported.")
    undone = []
    with transaction.atomic():
        for item in items:
            syncable = REGISTRY[item["type"]]
            obj = _find(syncable, team, item["ref"])
            if obj is None:
                raise TreeError(f"No {item['type']} with ref '{item['ref']}' in this project.", code="not_found")
            rep = syncable.represent(obj)
            row = _rows(syncable, rep).filter(Q(shortcut=False) | Q(shortcut=None)).first()
            if row is None:
                row = new_row(syncable, rep)
            if item.get("path"):
                row.path = clean_path(item["path"])
                row.depth = path_depth(row.path)
            ensure_folders(team=team, path=row.path, user=None)
            row.save()
            undone.append({"type": item["type"], "ref": item["ref"]})
    return undone


def _find(syncable: Syncable, team: Team, ref: str) -> Any | None:
    try:
        return syncable.live(team).filter(**{syncable.ref_field: ref}).first()
    except (ValueError, TypeError, DjangoValidationError):  # a ref that cannot be this model's id
        return None
