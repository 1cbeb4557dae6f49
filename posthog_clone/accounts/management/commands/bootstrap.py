"""Create a demo organization, project, user and all-scopes personal API key if none exist (idempotent).

The demo user's web console password is set and printed once (then `manage.py console_set_password`).

The key's secret is printed when it is created and kept in var/demo_keys.json (mode 600) so later runs
can print it again; the database only ever holds its hash.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from posthog_clone.accounts.keys import hash_key_value
from posthog_clone.accounts.models import PersonalAPIKey, Team, User
from posthog_clone.accounts.services import organization_create, personal_api_key_create, team_create, user_create

DEMO_EMAIL = "demo@posthog-clone.local"


def keys_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_keys.json"


def _stored_key() -> str | None:
    try:
        value = json.loads(keys_file().read_text())["personal_api_key"]
    except (OSError, ValueError, KeyError):
        return None
    return value if PersonalAPIKey.objects.filter(secure_value=hash_key_value(value)).exists() else None


@transaction.atomic
def bootstrap() -> dict[str, Any]:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = user_create(email=DEMO_EMAIL, password=None)
        org = organization_create(name="Demo organization", owner=user)
        team_create(organization=org, name="Demo project")
        user.refresh_from_db()
    console_password = None
    if not user.has_usable_password():  # once: the web console's sign-in (reset: manage.py console_set_password)
        console_password = secrets.token_urlsafe(12)
        user.set_password(console_password)
        user.save(update_fields=["password"])
    team = user.current_team or Team.objects.filter(organization__memberships__user=user).order_by("id").first()
    value = _stored_key()
    created = False
    if value is None:
        _, value = personal_api_key_create(user=user, label="bootstrap", scopes=["*"])
        path = keys_file()
        path.write_text(json.dumps({"personal_api_key": value}))
        os.chmod(path, 0o600)
        created = True
    return {
        "project_id": team.pk,
        "project_api_key": team.api_token,
        "personal_api_key": value,
        "host": os.environ.get("SITE_URL", settings.SITE_URL),
        "created": created,
        "email": user.email,
        "console_password": console_password,
    }


class Command(BaseCommand):
    help = "Create the demo organization, project, user and personal API key if missing; print the keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Print the keys as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        info = bootstrap()
        created = info.pop("created")
        password = info.pop("console_password")
        email = info.pop("email")
        if options["json"]:
            self.stdout.write(json.dumps(info))
            return
        self.stdout.write(f"Project id:        {info['project_id']}")
        self.stdout.write(f"Project API key:   {info['project_api_key']}   (SDKs send events with this)")
        self.stdout.write(
            f"Personal API key:  {info['personal_api_key']}   ({'new' if created else 'from var/demo_keys.json'})"
        )
        self.stdout.write(f"Host:              {info['host']}")
        console = f"Console:           {info['host']}/console/  sign in as {email}"
        if password:
            self.stdout.write(f"{console} / {password}  (shown once)")
        else:
            self.stdout.write(f"{console}  (password: manage.py console_set_password {email})")
        self.stdout.write(
            f'Try: curl -H "Authorization: Bearer {info["personal_api_key"]}" {info["host"]}/api/users/@me/'
        )
