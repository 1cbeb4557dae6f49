"""Set a user's web console password (the console's password reset): typed twice, or generated and printed."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from console.services import user_set_password
from posthog_clone.accounts.models import User


class Command(BaseCommand):
    help = "Set the web console (/console/) password of the user with this email."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")
        parser.add_argument("--generate", action="store_true", help="Generate a password and print it.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['email']!r}")
        if options["generate"]:
            password = user_set_password(user=user)
            self.stdout.write(f"Console password of {user.email}: {password}")
            return
        password = getpass.getpass("New password: ")
        if password != getpass.getpass("Again: "):
            raise CommandError("The passwords differ")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        user_set_password(user=user, password=password)
        self.stdout.write(f"Console password of {user.email} set.")
