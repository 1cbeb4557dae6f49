"""Request and response shapes of the file system API (PostHog's item JSON and list envelope)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from file_system.models import FileSystem
from file_system.search import MAX_SEARCH_TOKENS, tokenize
from posthog_clone.accounts.serializers import UserBasicSerializer

# No page-size cap (as PostHog), only a bound that keeps LIMIT/OFFSET inside the databases' integers.
MAX_PAGE_PARAM = 2**31 - 1

ORDER_BY_HELP = (
    "`path`/`-path` (case-sensitive), `created_at`/`-created_at`, `last_viewed_at`/`-last_viewed_at` "
    "(the requester's views); anything else means `-created_at`. Unset: folders first when `depth` is "
    "given, then case-insensitive path."
)


class FileSystemSerializer(serializers.ModelSerializer):
    path = serializers.CharField(help_text="Full escaped path including the item's own name (`\\/` is a literal /).")
    depth = serializers.IntegerField(read_only=True, allow_null=True, help_text="Number of path segments.")
    type = serializers.CharField(help_text="`folder` or an object type such as `feature_flag`.")
    ref = serializers.CharField(allow_null=True, help_text="The object's id or short id.")
    href = serializers.CharField(allow_null=True, help_text="Front-end URL of the object.")
    meta = serializers.JSONField(help_text="Free-form metadata, typically `created_at` and `created_by`.")
    shortcut = serializers.BooleanField(allow_null=True, help_text="True for a link copy.")
    last_viewed_at = serializers.SerializerMethodField(
        help_text="The requester's last view; only set when ordering by `last_viewed_at`."
    )

    class Meta:
        model = FileSystem
        fields = ["id", "path", "depth", "type", "ref", "href", "meta", "shortcut", "created_at", "last_viewed_at"]
        read_only_fields = ["id", "depth", "created_at", "last_viewed_at"]

    def get_last_viewed_at(self, item: FileSystem) -> str | None:
        value = getattr(item, "last_viewed_at", None)
        return serializers.DateTimeField().to_representation(value) if value else None


class FileSystemInputSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Full path of the new row; missing ancestor folders are created.")
    type = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text='Defaults to `""`.')
    ref = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=100, help_text="Id.")
    href = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Front-end URL.")
    meta = serializers.JSONField(required=False, allow_null=True, help_text="Free-form metadata.")
    shortcut = serializers.BooleanField(required=False, allow_null=True, help_text="Defaults to false.")

    def validate_meta(self, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        return value


class FileSystemPatchSerializer(FileSystemInputSerializer):
    path = serializers.CharField(required=False, help_text="A new path recomputes depth; children do not follow.")


class FileSystemListQuerySerializer(serializers.Serializer):
    depth = serializers.CharField(required=False, help_text="Exact number of segments (non-integers are ignored).")
    parent = serializers.CharField(required=False, help_text="All descendants of this folder path.")
    path = serializers.CharField(required=False, help_text="Exact path.")
    type = serializers.CharField(required=False, help_text="Exact type.")
    not_type = serializers.CharField(required=False, help_text="Exclude this type.")
    type__startswith = serializers.CharField(required=False, help_text="Type prefix, e.g. `hog_function/`.")
    ref = serializers.CharField(required=False, help_text="Exact ref; originals are listed before shortcuts.")
    created_at__gt = serializers.DateTimeField(required=False, help_text="Created after (ISO 8601).")
    created_at__lt = serializers.DateTimeField(required=False, help_text="Created before (ISO 8601).")
    search = serializers.CharField(
        required=False,
        help_text="Mini-language: plain words, quotes, `-`/`!` negation, `path:`, `name:`, `user:`/`author:` "
        "(`user:me`), `type:` (trailing `/` = prefix), `ref:`.",
    )
    order_by = serializers.CharField(required=False, help_text=ORDER_BY_HELP)
    limit = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_PAGE_PARAM, help_text="Page size (default 100, no cap)."
    )
    offset = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PAGE_PARAM, help_text="Rows to skip.")

    def validate_depth(self, value: str) -> int | None:
        try:
            return int(value)
        except ValueError:
            return None  # PostHog ignores a non-integer depth

    def validate_search(self, value: str) -> str:
        if len(tokenize(value)) > MAX_SEARCH_TOKENS:
            raise serializers.ValidationError(f"Search supports at most {MAX_SEARCH_TOKENS} terms.", code="max_length")
        return value


class FileSystemPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows matching the filters.")
    next = serializers.CharField(allow_null=True, help_text="URL of the next page.")
    previous = serializers.CharField(allow_null=True, help_text="URL of the previous page.")
    results = FileSystemSerializer(many=True, help_text="This page's rows.")
    users = UserBasicSerializer(many=True, help_text="Creators (`meta.created_by`) of the page's rows.")


class NewPathSerializer(serializers.Serializer):
    new_path = serializers.CharField(
        error_messages={"required": "new_path is required", "blank": "new_path is required"},
        help_text="The item's full new path including its own name (not the destination folder).",
    )


class EmptyBodySerializer(serializers.Serializer):
    """No body: the action's input is the URL (and, for `count_by_path`, the query string)."""


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows strictly below the folder, at any depth.")


class CountByPathQuerySerializer(serializers.Serializer):
    path = serializers.CharField(
        error_messages={"required": "path parameter is required", "blank": "path parameter is required"},
        help_text="Folder path; the folder need not exist as a row.",
    )


class UnfiledQuerySerializer(serializers.Serializer):
    type = serializers.CharField(required=False, help_text="Only this object type (e.g. `feature_flag`).")


class ViewLogInputSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=100, help_text="Object type.")
    ref = serializers.CharField(max_length=100, help_text="Object id or short id.")
    viewed_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")


class ViewLogQuerySerializer(serializers.Serializer):
    type = serializers.CharField(required=False, help_text="Only views of this type.")
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_PARAM, help_text="At most this many, newest first."
    )


class ViewLogSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Object type.")
    ref = serializers.CharField(help_text="Object id or short id.")
    viewed_at = serializers.DateTimeField(help_text="When the requester last viewed it.")


class UndoItemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Object type.")
    ref = serializers.CharField(help_text="Object id or short id.")
    path = serializers.CharField(required=False, help_text="Where to put the row back (ancestors are created).")


class UndoDeleteSerializer(serializers.Serializer):
    items = UndoItemSerializer(many=True, help_text="Rows to restore.")


class UndoneItemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Object type.")
    ref = serializers.CharField(help_text="Object id or short id.")


class UndoneSerializer(serializers.Serializer):
    undone = UndoneItemSerializer(many=True, help_text="What was restored.")
