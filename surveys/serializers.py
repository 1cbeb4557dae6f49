"""Request and response shapes of /api/projects/:id/surveys/ (replay_surveys_experiments.md §2.1–2.2). Field
rules live here; rules that need the database (flag ids, name uniqueness) live in services."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import nh3
from rest_framework import serializers

from posthog_clone.accounts.serializers import UserBasicSerializer
from surveys.models import Survey

INT_MAX = 2**31 - 1  # the columns are PositiveIntegerField: larger values are a 400, not the database's 500

QUESTION_TYPES = ("open", "link", "rating", "single_choice", "multiple_choice")
BRANCHING_TYPES = ("next_question", "end", "response_based", "specific_question")
URL_MATCH_TYPES = ("icontains", "exact", "regex", "not_regex", "is_not", "not_icontains")
LINK_SCHEMES = ("https", "mailto")
EXTERNAL_FORBIDDEN_CONDITIONS = ("url", "selector", "deviceTypes", "seenSurveyWaitPeriodInDays")
MAX_ITERATIONS = 500
ROLLS_OUT_TO_EVERYONE = (
    "Invalid operation: User targeting rolls out to everyone. If you want to roll out to everyone, delete this "
    "targeting"
)


def _error(message: str, code: str = "invalid") -> serializers.ValidationError:
    return serializers.ValidationError(message, code=code)


def sanitize(text: Any) -> Any:
    """HTML in survey texts is cleaned (an allow-list), never refused."""
    return nh3.clean(text) if isinstance(text, str) else text


def _check_branching(question: dict[str, Any]) -> None:
    branching = question.get("branching")
    if branching is None:
        return
    if not isinstance(branching, dict) or branching.get("type") not in BRANCHING_TYPES:
        raise _error(f"Question branching type must be one of {list(BRANCHING_TYPES)}")
    if branching["type"] == "specific_question" and (
        isinstance(branching.get("index"), bool) or not isinstance(branching.get("index"), int)
    ):
        raise _error("Question branching index must be an integer")
    if branching["type"] == "response_based":
        if question.get("type") not in ("rating", "single_choice"):
            raise _error("Response-based branching is only for rating and single choice questions")
        if not isinstance(branching.get("responseValues"), dict):
            raise _error("Question branching responseValues must be an object")


def _check_question(question: Any) -> dict[str, Any]:
    if not isinstance(question, dict):
        raise _error("Questions must be a list of objects")
    text = question.get("question")
    if not isinstance(text, str) or not text.strip():
        raise _error("Question text is required")
    if question.get("type") not in QUESTION_TYPES:
        raise _error(f"Question type must be one of {list(QUESTION_TYPES)}")
    if question.get("descriptionContentType", "text") not in ("text", "html"):
        raise _error("Question descriptionContentType must be one of ['text', 'html']")
    choices = question.get("choices")
    if question["type"] in ("single_choice", "multiple_choice") or choices is not None:
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise _error("Question choices must be a list of strings")
        if not choices:
            raise _error("Question choices cannot be empty")
    if question["type"] == "link":
        link = question.get("link")
        if not isinstance(link, str) or link.split(":", 1)[0].lower() not in LINK_SCHEMES or ":" not in link:
            raise _error(f"Link must be a URL with one of these schemes: [{', '.join(LINK_SCHEMES)}]")
    if question["type"] == "rating":
        if question.get("scale", 10) not in (3, 5, 7, 10):
            raise _error("Rating question scale must be one of 3, 5, 7 or 10")
        if question.get("display", "number") not in ("number", "emoji"):
            raise _error("Rating question display must be one of ['number', 'emoji']")
    _check_branching(question)
    cleaned = {**question, "question": sanitize(text), "description": sanitize(question.get("description"))}
    if question.get("description") is None:
        cleaned.pop("description")
    if not cleaned.get("id"):
        cleaned["id"] = str(uuid.uuid4())
    return cleaned


def validate_questions(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _error("Questions must be a list of objects")
    return [_check_question(question) for question in value]


def validate_conditions(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _error("Conditions must be an object")
    if value.get("urlMatchType") is not None and value["urlMatchType"] not in URL_MATCH_TYPES:
        raise _error(f"urlMatchType must be one of {list(URL_MATCH_TYPES)}")
    wait = value.get("seenSurveyWaitPeriodInDays")
    if wait is not None and (isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait < 0):
        raise _error("seenSurveyWaitPeriodInDays must be a number of days, 0 or more")
    for name in ("events", "cancelEvents", "actions"):
        part = value.get(name)
        if part is not None and (not isinstance(part, dict) or not isinstance(part.get("values", []), list)):
            raise _error(f"Conditions {name} must be an object with a list of values")
    for event in (value.get("events") or {}).get("values", []):
        if not isinstance(event, dict) or not isinstance(event.get("name"), str):
            raise _error("Conditions events values must each have a name")
    return value


def validate_appearance(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _error("Appearance must be an object")
    delay = value.get("surveyPopupDelaySeconds")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
        raise _error("Survey popup delay seconds must be a number 0 or more")
    for name in ("thankYouMessageHeader", "thankYouMessageDescription"):
        if name in value:
            value = {**value, name: sanitize(value[name])}
    return value


def rolls_out_to_everyone(filters: dict[str, Any]) -> bool:
    groups = filters.get("groups") or []
    return any(
        isinstance(group, dict) and group.get("rollout_percentage") in (100, None) and not group.get("properties")
        for group in groups
    )


class MinimalFlagSerializer(serializers.Serializer):
    """The flags of a survey, as PostHog nests them."""

    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    name = serializers.CharField()
    key = serializers.CharField()
    filters = serializers.JSONField()
    deleted = serializers.BooleanField()
    active = serializers.BooleanField()
    ensure_experience_continuity = serializers.BooleanField()


class FlagKeySerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_null=True)


class SurveySerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    linked_flag = MinimalFlagSerializer(read_only=True, allow_null=True)
    linked_flag_id = serializers.IntegerField(read_only=True, allow_null=True)
    targeting_flag = MinimalFlagSerializer(read_only=True, allow_null=True)
    internal_targeting_flag = MinimalFlagSerializer(read_only=True, allow_null=True)
    questions = serializers.JSONField(allow_null=True, help_text="The questions, each with id, type, question…")
    conditions = serializers.JSONField(allow_null=True, help_text="URL, selector, events, wait period…")
    appearance = serializers.JSONField(allow_null=True, help_text="Free-form UI settings.")
    iteration_start_dates = serializers.JSONField(allow_null=True)
    response_sampling_daily_limits = serializers.JSONField(allow_null=True)
    feature_flag_keys = serializers.SerializerMethodField()
    user_access_level = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = [
            "id",
            "name",
            "description",
            "type",
            "schedule",
            "linked_flag",
            "linked_flag_id",
            "targeting_flag",
            "internal_targeting_flag",
            "questions",
            "conditions",
            "appearance",
            "created_at",
            "created_by",
            "start_date",
            "end_date",
            "archived",
            "responses_limit",
            "feature_flag_keys",
            "iteration_count",
            "iteration_frequency_days",
            "iteration_start_dates",
            "current_iteration",
            "current_iteration_start_date",
            "response_sampling_start_date",
            "response_sampling_interval_type",
            "response_sampling_interval",
            "response_sampling_limit",
            "response_sampling_daily_limits",
            "enable_partial_responses",
            "user_access_level",
        ]
        read_only_fields = fields

    def get_feature_flag_keys(self, survey: Survey) -> list[dict[str, str | None]]:
        def key(flag: Any) -> str | None:
            return flag.key if flag is not None else None

        return [
            {"key": "linked_flag_key", "value": key(survey.linked_flag)},
            {"key": "targeting_flag_key", "value": key(survey.targeting_flag)},
            {"key": "internal_targeting_flag_key", "value": key(survey.internal_targeting_flag)},
            {"key": "internal_response_sampling_flag_key", "value": key(survey.internal_response_sampling_flag)},
        ]

    def get_user_access_level(self, survey: Survey) -> str:
        return "editor"


class SurveyInputSerializer(serializers.Serializer):
    """Create and update (PATCH: every field optional). Write-only: the flag ids, `targeting_flag_filters` and
    `remove_targeting_flag`."""

    name = serializers.CharField(max_length=400)
    description = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=Survey.Type.choices)
    schedule = serializers.CharField(required=False, allow_null=True)
    questions = serializers.JSONField(required=False, allow_null=True)
    conditions = serializers.JSONField(required=False, allow_null=True)
    appearance = serializers.JSONField(required=False, allow_null=True)
    start_date = serializers.DateTimeField(required=False, allow_null=True)
    end_date = serializers.DateTimeField(required=False, allow_null=True)
    archived = serializers.BooleanField(required=False)
    responses_limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=INT_MAX)
    iteration_count = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=INT_MAX)
    iteration_frequency_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=INT_MAX)
    response_sampling_start_date = serializers.DateTimeField(required=False, allow_null=True)
    response_sampling_interval_type = serializers.ChoiceField(
        choices=Survey.SamplingInterval.choices, required=False, allow_null=True
    )
    response_sampling_interval = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=INT_MAX
    )
    response_sampling_limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=INT_MAX)
    response_sampling_daily_limits = serializers.JSONField(required=False, allow_null=True)
    enable_partial_responses = serializers.BooleanField(required=False, allow_null=True)
    linked_flag_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    targeting_flag_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    targeting_flag_filters = serializers.JSONField(
        required=False, allow_null=True, help_text="Feature-flag `filters` for the survey's targeting flag."
    )
    remove_targeting_flag = serializers.BooleanField(required=False, allow_null=True)

    def validate_name(self, value: str) -> str:
        return sanitize(value)

    def validate_description(self, value: str) -> str:
        return sanitize(value)

    def validate_schedule(self, value: str | None) -> str | None:
        if value is not None and value not in Survey.Schedule.values:
            raise _error("Schedule must be one of: once, recurring, always")
        return value

    def validate_questions(self, value: Any) -> list[dict[str, Any]] | None:
        return validate_questions(value)

    def validate_conditions(self, value: Any) -> dict[str, Any] | None:
        return validate_conditions(value)

    def validate_appearance(self, value: Any) -> dict[str, Any] | None:
        return validate_appearance(value)

    def validate_iteration_count(self, value: int | None) -> int | None:
        if value is not None and value > MAX_ITERATIONS:
            raise _error(f"Iteration count cannot be more than {MAX_ITERATIONS}")
        return value

    def validate_targeting_flag_filters(self, value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("groups", []), list):
            raise _error("targeting_flag_filters must be feature flag filters (an object with groups)")
        if rolls_out_to_everyone(value):
            raise _error(ROLLS_OUT_TO_EVERYONE)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        survey_type = attrs.get("type") or getattr(self.instance, "type", None)
        if survey_type == Survey.Type.EXTERNAL_SURVEY:
            _check_external(attrs)
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end < start:
            raise _error("end_date must be after start_date")
        return attrs


def _check_external(attrs: dict[str, Any]) -> None:
    if attrs.get("linked_flag_id") is not None:
        raise _error("External surveys cannot have a linked feature flag")
    if attrs.get("targeting_flag_filters"):
        raise _error("External surveys cannot have targeting")
    conditions = attrs.get("conditions") or {}
    if any(conditions.get(name) for name in EXTERNAL_FORBIDDEN_CONDITIONS):
        raise _error("External surveys cannot have URL, selector, device or wait period conditions")
    if (attrs.get("appearance") or {}).get("surveyPopupDelaySeconds"):
        raise _error("External surveys cannot have a popup delay")


class SurveyListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, help_text="Part of the name or description.")
    archived = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only archived (true) or not (false)."
    )


class StatsQuerySerializer(serializers.Serializer):
    date_from = serializers.CharField(required=False, help_text="ISO 8601 with time zone.")
    date_to = serializers.CharField(required=False, help_text="ISO 8601 with time zone.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("date_from", "date_to"):
            if name in attrs:
                attrs[name] = _aware(attrs[name])
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise _error("date_from must be before date_to")
        return attrs


BAD_DATE = (
    "Invalid date format. Please use ISO 8601 format with timezone info (e.g. 2024-01-01T00:00:00Z or "
    "2024-01-01T00:00:00+00:00)"
)


def _aware(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _error(BAD_DATE) from None
    if moment.tzinfo is None:
        raise _error(BAD_DATE)
    return moment


class EventStatsSerializer(serializers.Serializer):
    total_count = serializers.IntegerField()
    unique_persons = serializers.IntegerField()
    first_seen = serializers.CharField(allow_null=True)
    last_seen = serializers.CharField(allow_null=True)
    unique_persons_only_seen = serializers.IntegerField()
    total_count_only_seen = serializers.IntegerField()


class RatesSerializer(serializers.Serializer):
    response_rate = serializers.FloatField()
    dismissal_rate = serializers.FloatField()
    unique_users_response_rate = serializers.FloatField()
    unique_users_dismissal_rate = serializers.FloatField()


class ProjectStatsSerializer(serializers.Serializer):
    stats = serializers.DictField(child=EventStatsSerializer(), help_text="Keyed by event name.")
    rates = RatesSerializer()


class SurveyStatsSerializer(ProjectStatsSerializer):
    survey_id = serializers.CharField()
    start_date = serializers.CharField(allow_null=True)
    end_date = serializers.CharField(allow_null=True)


class PublicSurveySerializer(serializers.Serializer):
    """One survey as posthog-js reads it (`description` deliberately left out)."""

    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    linked_flag_key = serializers.CharField(allow_null=True)
    targeting_flag_key = serializers.CharField(allow_null=True)
    internal_targeting_flag_key = serializers.CharField(allow_null=True)
    questions = serializers.JSONField()
    conditions = serializers.JSONField(allow_null=True)
    appearance = serializers.JSONField(allow_null=True)
    start_date = serializers.CharField(allow_null=True)
    end_date = serializers.CharField(allow_null=True)
    current_iteration = serializers.IntegerField(allow_null=True)
    current_iteration_start_date = serializers.CharField(allow_null=True)
    schedule = serializers.CharField(allow_null=True)
    enable_partial_responses = serializers.BooleanField(allow_null=True)


class PublicSurveysSerializer(serializers.Serializer):
    surveys = PublicSurveySerializer(many=True)
    survey_config = serializers.JSONField(allow_null=True)


class PublicSurveysQuerySerializer(serializers.Serializer):
    token = serializers.CharField(required=False, allow_blank=True, help_text="The project API key (phc_…).")
    api_key = serializers.CharField(required=False, allow_blank=True, help_text="Legacy name of `token`.")
