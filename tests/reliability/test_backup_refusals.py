"""`manage.py backup` and `manage.py restore` refuse what they cannot do whole, before touching anything."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path, settings):
    (tmp_path / "something").write_text("x")
    expected = "PostgreSQL" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "is not empty"
    with pytest.raises(CommandError, match=expected):
        call_command("backup", "--out", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["something"]


def test_restore_refuses_a_directory_without_a_manifest(tmp_path):
    (tmp_path / "django.sqlite3").write_bytes(b"")
    with pytest.raises(CommandError, match="holds no manifest.json"):
        call_command("restore", str(tmp_path))


def test_restore_refuses_a_backup_of_another_format(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(CommandError, match="backup format 99"):
        call_command("restore", str(tmp_path))
