"""Shapes of the replay API for the OpenAPI document and request validation (replay reference §1.7)."""

from __future__ import annotations

from rest_framework import serializers


class RecordingPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    distinct_ids = serializers.ListField(child=serializers.CharField())
    properties = serializers.DictField()
    created_at = serializers.DateTimeField(allow_null=True)
    uuid = serializers.CharField(allow_null=True)


class SessionRecordingSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The session id.")
    distinct_id = serializers.CharField()
    viewed = serializers.BooleanField()
    viewers = serializers.ListField(child=serializers.CharField(), help_text="Emails of other users who viewed it.")
    recording_duration = serializers.IntegerField()
    active_seconds = serializers.IntegerField()
    inactive_seconds = serializers.IntegerField()
    start_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField()
    click_count = serializers.IntegerField()
    keypress_count = serializers.IntegerField()
    mouse_activity_count = serializers.IntegerField()
    console_log_count = serializers.IntegerField()
    console_warn_count = serializers.IntegerField()
    console_error_count = serializers.IntegerField()
    start_url = serializers.CharField(allow_null=True)
    person = RecordingPersonSerializer()
    retention_period_days = serializers.IntegerField()
    expiry_time = serializers.DateTimeField()
    recording_ttl = serializers.IntegerField()
    snapshot_source = serializers.CharField()
    snapshot_library = serializers.CharField(allow_null=True)
    ongoing = serializers.BooleanField()
    activity_score = serializers.FloatField()
    has_summary = serializers.BooleanField()
    summary_outcome = serializers.CharField(allow_null=True)
    external_references = serializers.ListField(child=serializers.DictField())
    matches_filters = serializers.DictField(allow_null=True)
    storage = serializers.CharField()


class SessionRecordingListSerializer(serializers.Serializer):
    results = SessionRecordingSerializer(many=True)
    has_next = serializers.BooleanField()
    version = serializers.IntegerField()


class SessionRecordingListQuerySerializer(serializers.Serializer):
    """Documentation of the list's parameters; each is JSON-decoded and checked by ``replay.records``."""

    date_from = serializers.CharField(required=False, help_text='Relative ("-3d", the default) or ISO date.')
    date_to = serializers.CharField(required=False)
    person_uuid = serializers.CharField(required=False)
    distinct_ids = serializers.CharField(required=False, help_text="JSON list of distinct ids.")
    session_ids = serializers.CharField(required=False, help_text="JSON list of session ids.")
    having_predicates = serializers.CharField(
        required=False,
        help_text='JSON list, e.g. [{"type":"recording","key":"duration","operator":"gt","value":60}].',
    )
    events = serializers.CharField(
        required=False,
        help_text='JSON list of event filters, e.g. [{"id":"$pageview","type":"events","properties":[…]}] '
        '("id": null is any event): sessions with a matching event (by $session_id) in the date range.',
    )
    actions = serializers.CharField(
        required=False, help_text='JSON list of action filters, e.g. [{"id":12,"type":"actions"}], as events.'
    )
    properties = serializers.CharField(
        required=False,
        help_text="JSON list of property filters: event, group and hogql ones on the session's events (with "
        "events/actions: on their events), person and cohort ones on the recording's person.",
    )
    operand = serializers.CharField(
        required=False,
        help_text="AND (default): every event/action filter, and the person filters, must match; OR: any.",
    )
    order = serializers.CharField(required=False, help_text="start_time (default), duration, active_seconds, …")
    order_direction = serializers.CharField(required=False, help_text="ASC or DESC (default).")
    limit = serializers.CharField(required=False)
    offset = serializers.CharField(required=False)


class ViewedSerializer(serializers.Serializer):
    viewed = serializers.BooleanField(required=False)
    analyzed = serializers.BooleanField(required=False)
    player_metadata = serializers.JSONField(required=False)

    def validate(self, attrs: dict) -> dict:
        if "viewed" not in attrs and "analyzed" not in attrs:
            raise serializers.ValidationError("At least one of 'viewed' or 'analyzed' must be provided.")
        return attrs


class RecordingSuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class SnapshotSourceSerializer(serializers.Serializer):
    source = serializers.CharField()
    start_timestamp = serializers.DateTimeField()
    end_timestamp = serializers.DateTimeField()
    blob_key = serializers.CharField()


class SnapshotSourcesSerializer(serializers.Serializer):
    sources = SnapshotSourceSerializer(many=True)


class SnapshotsQuerySerializer(serializers.Serializer):
    source = serializers.CharField(required=False, help_text="Absent: the sources list; blob_v2: the lines.")
    start_blob_key = serializers.CharField(required=False)
    end_blob_key = serializers.CharField(required=False)
    blob_key = serializers.CharField(required=False)
    decompress = serializers.CharField(required=False)


class BulkIdsSerializer(serializers.Serializer):
    session_recording_ids = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=100, allow_empty=False
    )


class BulkViewedSerializer(serializers.Serializer):
    session_recording_ids = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=20, allow_empty=False
    )


class BatchCheckExistsSerializer(serializers.Serializer):
    session_ids = serializers.ListField(child=serializers.CharField(max_length=200), max_length=100)


class BatchCheckExistsResultSerializer(serializers.Serializer):
    results = serializers.DictField(child=serializers.BooleanField())


class BulkViewedResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    total_requested = serializers.IntegerField()


class BulkDeleteResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    deleted_count = serializers.IntegerField()
    total_requested = serializers.IntegerField()
    failed_ids = serializers.ListField(child=serializers.CharField())


class PlaylistSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    short_id = serializers.CharField(read_only=True)
    name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    derived_name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    pinned = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.SerializerMethodField()
    deleted = serializers.BooleanField(required=False)
    filters = serializers.JSONField(required=False, allow_null=True)
    last_modified_at = serializers.DateTimeField(read_only=True)
    last_modified_by = serializers.SerializerMethodField()
    recordings_counts = serializers.SerializerMethodField()
    type = serializers.ChoiceField(choices=["collection", "filters"], required=False, allow_null=True)

    def _user(self, user) -> dict | None:  # type: ignore[no-untyped-def]
        if user is None:
            return None
        return {"id": user.pk, "uuid": str(getattr(user, "uuid", "")), "email": user.email,
                "first_name": getattr(user, "first_name", "")}  # fmt: skip

    def get_created_by(self, playlist) -> dict | None:  # type: ignore[no-untyped-def]
        return self._user(playlist.created_by)

    def get_last_modified_by(self, playlist) -> dict | None:  # type: ignore[no-untyped-def]
        return self._user(playlist.last_modified_by)

    def get_recordings_counts(self, playlist) -> dict:  # type: ignore[no-untyped-def]
        from replay.playlists import recordings_counts

        return recordings_counts(playlist, self.context["request"].user)

    def validate_filters(self, value):  # type: ignore[no-untyped-def]
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object.")
        return value


class PlaylistRecordingsSerializer(serializers.Serializer):
    session_recording_ids = serializers.ListField(child=serializers.CharField(max_length=200), max_length=20)


class PlaylistBulkAddResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    added_count = serializers.IntegerField()
    total_requested = serializers.IntegerField()


class PlaylistBulkDeleteResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    deleted_count = serializers.IntegerField()
    total_requested = serializers.IntegerField()
