import hashlib

from django.core.management import call_command
from django.db import connection

from posthog_clone.accounts.keys import generate_personal_api_key, hash_key_value, mask_key_value
from posthog_clone.accounts.models import PersonalAPIKey
from posthog_clone.accounts.services import personal_api_key_create


def test_key_format_hash_and_mask():
    value = generate_personal_api_key()
    assert value.startswith("phx_") and len(value) == 51 and value[4:].isalnum()
    assert hash_key_value(value) == "sha256$" + hashlib.sha256(value.encode()).hexdigest()
    assert mask_key_value(value) == f"phx_...{value[-4:]}"


def test_database_holds_only_the_hash(project):
    _, value = personal_api_key_create(user=project.user, label="x", scopes=["*"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_personalapikey")
        dump = repr(cursor.fetchall())
    assert value not in dump
    assert value[4:] not in dump
    assert hash_key_value(value) in dump


def test_create_personal_api_key_command_prints_secret_once(project, capsys):
    call_command("create_personal_api_key", "--email", project.user.email, "--scopes", "query:read")
    value = capsys.readouterr().out.strip()
    key = PersonalAPIKey.objects.get(secure_value=hash_key_value(value))
    assert key.scopes == ["query:read"]


def test_invalid_scope_is_refused(project):
    import pytest

    with pytest.raises(ValueError, match="Invalid scope: nonsense:read"):
        personal_api_key_create(user=project.user, label="x", scopes=["nonsense:read"])
