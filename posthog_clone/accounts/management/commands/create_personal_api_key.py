"""Create a personal API key for a user and print its secret once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from posthog_clone.accounts.models import User
from posthog_clone.accounts.services import personal_api_key_create


class Command(BaseCommand):
    help = "Create a personal API key (phx_…) for --email with the given scopes; the secret is printed once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--label", default="cli")
        parser.add_argument("--scopes", nargs="+", default=["*"], help="e.g. event_definition:read query:read, or *")
        parser.add_argument(
            "--project", type=int, action="append", dest="projects", help="Restrict to these project ids"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['email']!r}")
        try:
            _, value = personal_api_key_create(
                user=user, label=options["label"], scopes=options["scopes"], scoped_teams=options["projects"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(value)
