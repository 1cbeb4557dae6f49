"""Organizations, projects (teams), users, memberships and personal API keys.

One environment per project, so a project's id is also its team id (``team_id`` in ClickHouse).
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def generate_project_token() -> str:
    return "phc_" + secrets.token_urlsafe(32).replace("-", "").replace("_", "")[:43]


def generate_secret_token() -> str:
    return "phs_" + secrets.token_urlsafe(32).replace("-", "").replace("_", "")[:43]


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    slug = models.SlugField(max_length=48, blank=True)
    members_can_use_personal_api_keys = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


# Replay retention choices (PostHog's); "legacy" is the plan default of older projects, 30 days here.
RETENTION_PERIOD_DAYS = {"legacy": 30, "30d": 30, "90d": 90, "1y": 365, "5y": 1825}
RETENTION_PERIOD_CHOICES = [(value, value) for value in RETENTION_PERIOD_DAYS]
MAX_MINIMUM_DURATION_MS = 30_000


class Team(models.Model):
    """A project. ``api_token`` (phc_) selects it at ingestion; it never authenticates the private API."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, default="Default project")
    timezone = models.CharField(max_length=240, default="UTC")
    api_token = models.CharField(max_length=200, unique=True, default=generate_project_token)
    secret_api_token = models.CharField(max_length=200, unique=True, default=generate_secret_token)
    anonymize_ips = models.BooleanField(default=False)
    ingested_event = models.BooleanField(default=False)
    # PostHog's team settings the insights read: weeks start Sunday (null or 0) or Monday (1); the filters
    # `filterTestAccounts: true` ANDs onto every series (a list of property filters).
    week_start_day = models.PositiveSmallIntegerField(null=True, blank=True, choices=[(0, "Sunday"), (1, "Monday")])
    test_account_filters = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Session replay: PostHog's project settings, which remote config (/flags, /decide, /array/<token>/config)
    # turns into posthog-js's `sessionRecording` object (replay_surveys_experiments.md §1.1).
    session_recording_opt_in = models.BooleanField(default=False)
    session_recording_sample_rate = models.DecimalField(
        null=True,
        blank=True,
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    session_recording_minimum_duration_milliseconds = models.IntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(MAX_MINIMUM_DURATION_MS)]
    )
    session_recording_linked_flag = models.JSONField(null=True, blank=True)  # {id, key[, variant]}
    session_recording_network_payload_capture_config = models.JSONField(null=True, blank=True)
    session_recording_masking_config = models.JSONField(null=True, blank=True)
    session_recording_url_trigger_config = models.JSONField(default=list, blank=True)  # [{url, matching}]
    session_recording_url_blocklist_config = models.JSONField(default=list, blank=True)
    session_recording_event_trigger_config = models.JSONField(default=list, blank=True)  # [event name]
    session_recording_trigger_match_type_config = models.CharField(
        null=True, blank=True, max_length=24, choices=[("any", "any"), ("all", "all")]
    )
    session_recording_retention_period = models.CharField(max_length=6, choices=RETENTION_PERIOD_CHOICES, default="30d")
    session_replay_config = models.JSONField(null=True, blank=True)  # {record_canvas}
    recording_domains = models.JSONField(default=list, blank=True)  # origins allowed to record; [] = any
    capture_console_log_opt_in = models.BooleanField(null=True, blank=True, default=True)
    capture_performance_opt_in = models.BooleanField(null=True, blank=True, default=True)

    class Meta:
        verbose_name = "project"

    @property
    def session_recording_retention_days(self) -> int:
        return RETENTION_PERIOD_DAYS.get(self.session_recording_retention_period, 30)

    @property
    def project_id(self) -> int:
        return self.pk

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


def _user_distinct_id() -> str:
    return secrets.token_urlsafe(24)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    distinct_id = models.CharField(max_length=200, default=_user_distinct_id, unique=True)
    current_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.email


class OrganizationMembership(models.Model):
    class Level(models.IntegerChoices):
        MEMBER = 1
        ADMIN = 8
        OWNER = 15

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organization_memberships")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")]


def _key_id() -> str:
    return secrets.token_urlsafe(16)


class PersonalAPIKey(models.Model):
    """``secure_value`` = ``sha256$<hex>`` of the key; the key itself is never stored."""

    id = models.CharField(primary_key=True, max_length=50, default=_key_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_api_keys")
    label = models.CharField(max_length=40)
    secure_value = models.CharField(max_length=300, unique=True)
    mask_value = models.CharField(max_length=11)
    scopes = models.JSONField(null=True, blank=True)
    scoped_teams = models.JSONField(null=True, blank=True)
    scoped_organizations = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.label} {self.mask_value}"
