import json

import pytest
from django.core.management import call_command

from posthog_clone.accounts.keys import hash_key_value
from posthog_clone.accounts.models import PersonalAPIKey, Team


@pytest.mark.django_db
def test_bootstrap_is_idempotent_and_prints_same_key(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("bootstrap", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("bootstrap", "--json")
    second = json.loads(capsys.readouterr().out)
    assert first == second
    assert set(first) == {"project_id", "project_api_key", "personal_api_key", "host"}
    assert Team.objects.count() == 1 and PersonalAPIKey.objects.count() == 1
    key = PersonalAPIKey.objects.get()
    assert key.secure_value == hash_key_value(first["personal_api_key"])
    assert key.scopes == ["*"]
    assert Team.objects.get().api_token == first["project_api_key"]
