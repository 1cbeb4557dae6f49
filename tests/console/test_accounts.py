"""The demo user's console password (bootstrap, once) and `console_set_password`."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from posthog_clone.accounts.management.commands.bootstrap import DEMO_EMAIL


def _sign_in(email: str, password: str) -> int:
    return Client().post(reverse("console:login"), {"email": email, "password": password}).status_code


@pytest.mark.django_db
def test_bootstrap_prints_the_console_password_once(capsys, settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    call_command("bootstrap")
    first = capsys.readouterr().out
    password = re.search(rf"sign in as {re.escape(DEMO_EMAIL)} / (\S+)  \(shown once\)", first).group(1)
    assert _sign_in(DEMO_EMAIL, password) == 302
    call_command("bootstrap")
    second = capsys.readouterr().out
    assert password not in second and "console_set_password" in second
    assert _sign_in(DEMO_EMAIL, password) == 302  # a second run does not change it


@pytest.mark.django_db
def test_console_set_password_generates_a_new_one(project, capsys) -> None:
    call_command("console_set_password", project.user.email, "--generate")
    password = capsys.readouterr().out.strip().rsplit(": ", 1)[1]
    assert _sign_in(project.user.email, password) == 302
    with pytest.raises(CommandError, match="No user"):
        call_command("console_set_password", "nobody@example.com", "--generate")


@pytest.mark.django_db
def test_console_set_password_asks_twice(project, monkeypatch) -> None:
    answers = iter(["a long new password 1", "a long new password 1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("console_set_password", project.user.email)
    assert _sign_in(project.user.email, "a long new password 1") == 302
    answers = iter(["one password here", "another password"])
    with pytest.raises(CommandError, match="differ"):
        call_command("console_set_password", project.user.email)
