"""Writes on the project tree: create (with ancestors), update, delete, move, link, repair, view logs.

Every path written here is normalized by `file_system.paths` and gets its depth recomputed. Subtree
rewrites are single UPDATE/DELETE statements inside one transaction, whatever the subtree's size.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from rest_framework import serializers

from file_system.models import FOLDER, FileSystem, FileSystemViewLog
from file_system.paths import MAX_PATH_BYTES, ancestor_paths, normalize_path, path_bytes, path_depth, path_fits
from file_system.selectors import descendants, longest_descendant_bytes, team_rows
from posthog_clone.accounts.models import Team, User

WRITABLE = ("path", "type", "ref", "href", "meta", "shortcut")


class TreeError(serializers.ValidationError):
    """A 400 with PostHog's message as `detail` (no attribute)."""

    def __init__(self, detail: str, code: str = "invalid_input") -> None:
        super().__init__(serializers.ErrorDetail(detail, code=code))


def _field_error(attr: str, detail: str, code: str) -> serializers.ValidationError:
    return serializers.ValidationError({attr: [serializers.ErrorDetail(detail, code)]})


def clean_path(raw: str, attr: str = "path") -> str:
    """The normalized path, or a 400 for a path with no segment or one too long to store."""
    path = normalize_path(raw)
    if not path:  # only slashes: as empty as ""; `new_path` keeps PostHog's "new_path is required"
        raise _field_error(
            attr, "new_path is required" if attr == "new_path" else "This field may not be blank.", "blank"
        )
    if not path_fits(path):
        raise _field_error(attr, f"Ensure this path has no more than {MAX_PATH_BYTES} bytes (UTF-8).", "max_length")
    return path


def _check_subtree_fits(item: FileSystem, new_path: str) -> None:
    """Refuse a folder move/link that would push some descendant's path over the stored-path limit."""
    longest = longest_descendant_bytes(item.team, item.path)
    if longest and longest - path_bytes(item.path) + path_bytes(new_path) > MAX_PATH_BYTES:
        raise _field_error(
            "new_path",
            f"A descendant's path would exceed {MAX_PATH_BYTES} bytes (UTF-8) at this new path.",
            "max_length",
        )


def ensure_folders(*, team: Team, path: str, user: User | None) -> list[FileSystem]:
    """Create the missing ancestor folder rows of `path` (one read, one bulk insert)."""
    wanted = ancestor_paths(path)
    if not wanted:
        return []
    existing = set(team_rows(team).filter(type=FOLDER, path__in=wanted).values_list("path", flat=True))
    missing = [
        FileSystem(team=team, path=p, depth=path_depth(p), type=FOLDER, shortcut=False, created_by=user)
        for p in wanted
        if p not in existing
    ]
    return FileSystem.objects.bulk_create(missing)


def file_system_create(*, team: Team, user: User | None, data: dict[str, Any]) -> FileSystem:
    path = clean_path(data["path"])
    with transaction.atomic():
        ensure_folders(team=team, path=path, user=user)
        return FileSystem.objects.create(
            team=team,
            path=path,
            depth=path_depth(path),
            type=data.get("type") or "",
            ref=data.get("ref"),
            href=data.get("href"),
            meta=data.get("meta") or {},
            shortcut=bool(data.get("shortcut", False)),
            created_by=user,
        )


def file_system_update(*, item: FileSystem, data: dict[str, Any]) -> FileSystem:
    """Changes the given fields; a new path recomputes depth but neither creates ancestors nor moves children."""
    for name in WRITABLE:
        if name in data:
            setattr(item, name, data[name])
    if "path" in data:
        item.path = clean_path(data["path"])
        item.depth = path_depth(item.path)
    if item.meta is None:
        item.meta = {}
    item.save()
    return item


def file_system_delete(*, item: FileSystem) -> None:
    """Row-only delete (the object behind a row is untouched); a folder takes its whole subtree with it."""
    with transaction.atomic():
        if item.is_folder:
            descendants(item.team, item.path).delete()
        item.delete()


def _rewrite_subtree(*, team: Team, old: str, new: str) -> int:
    """Every descendant of `old` gets the prefix `new`, in one UPDATE; depth shifts by the prefix change."""
    shift = path_depth(new) - path_depth(old)
    return descendants(team, old).update(
        path=Concat(Value(new), Substr("path", len(old) + 1), output_field=TextField()),
        depth=F("depth") + shift,
    )


def file_system_move(*, item: FileSystem, new_path: str, user: User | None) -> FileSystem:
    """Move to the full `new_path`; a folder carries its subtree and merges into an existing folder there."""
    new_path = clean_path(new_path, "new_path")
    if item.is_folder:
        if new_path == item.path:
            raise TreeError("Cannot move folder into itself")
        if new_path.startswith(item.path + "/"):
            raise TreeError("Cannot move folder into its own subfolder")
        _check_subtree_fits(item, new_path)
    with transaction.atomic():
        ensure_folders(team=item.team, path=new_path, user=user)
        if not item.is_folder:
            item.path, item.depth = new_path, path_depth(new_path)
            item.save(update_fields=["path", "depth"])
            return item
        _rewrite_subtree(team=item.team, old=item.path, new=new_path)
        target = team_rows(item.team).filter(type=FOLDER, path=new_path).exclude(pk=item.pk).first()
        if target is not None:  # merge: the existing folder survives
            item.delete()
            return target
        item.path, item.depth = new_path, path_depth(new_path)
        item.save(update_fields=["path", "depth"])
        return item


def _shortcut_copy(row: FileSystem, *, path: str, user: User | None) -> FileSystem:
    return FileSystem(
        team_id=row.team_id,
        path=path,
        depth=path_depth(path),
        type=row.type,
        ref=row.ref,
        href=row.href,
        meta=row.meta,
        shortcut=True,
        created_by=user,
    )


def file_system_link(*, item: FileSystem, new_path: str, user: User | None) -> FileSystem:
    """Shortcut copies at `new_path`: the item, or a folder and (a snapshot of) its whole subtree."""
    new_path = clean_path(new_path, "new_path")
    if item.is_folder:
        if new_path == item.path:
            raise TreeError("Cannot link folder into itself")
        _check_subtree_fits(item, new_path)
    with transaction.atomic():
        ensure_folders(team=item.team, path=new_path, user=user)
        if not item.is_folder:
            return FileSystem.objects.bulk_create([_shortcut_copy(item, path=new_path, user=user)])[0]
        subtree = list(descendants(item.team, item.path).order_by("depth", "path"))
        copies = [_shortcut_copy(row, path=new_path + row.path[len(item.path) :], user=user) for row in subtree]
        target = team_rows(item.team).filter(type=FOLDER, path=new_path).first()
        if target is None:
            target = _shortcut_copy(item, path=new_path, user=user)
            copies.insert(0, target)
        FileSystem.objects.bulk_create(copies, batch_size=1000)
        return target


def repair_tree(*, team: Team) -> None:
    """Create every missing ancestor folder and fix every wrong depth, over the whole project tree."""
    rows = list(team_rows(team).values_list("pk", "path", "depth", "type"))
    folders = {path for _, path, _, kind in rows if kind == FOLDER}
    wrong = [FileSystem(pk=pk, depth=path_depth(path)) for pk, path, depth, _ in rows if depth != path_depth(path)]
    FileSystem.objects.bulk_update(wrong, ["depth"], batch_size=1000)
    missing = sorted({a for _, path, _, _ in rows for a in ancestor_paths(path)} - folders)
    FileSystem.objects.bulk_create(
        [FileSystem(team=team, path=p, depth=path_depth(p), type=FOLDER, shortcut=False) for p in missing],
        batch_size=1000,
    )


def view_log_record(*, team: Team, user: User, type: str, ref: str, viewed_at: Any = None) -> None:
    FileSystemViewLog.objects.update_or_create(
        team=team, user=user, type=type, ref=ref, defaults={"viewed_at": viewed_at or timezone.now()}
    )
