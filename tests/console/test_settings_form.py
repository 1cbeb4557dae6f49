"""The Settings page's project form: timezone and replay settings saved through the API's serializer, seen by
remote config (/flags) and by the API; bad values are the form's 400 and change nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from posthog_clone.accounts.models import Team


def flags_recording(project) -> object:
    body = json.dumps({"token": project.team.api_token, "distinct_id": "user-1"})
    answer = Client().post("/flags/?v=2&config=true", body, content_type="application/json")
    assert answer.status_code == 200
    return answer.json()["sessionRecording"]


def form(**changes: str) -> dict[str, str]:
    base = {"timezone": "UTC", "session_recording_retention_period": "30d"}
    return {**base, **changes}


@pytest.mark.django_db
def test_turning_replay_on_reaches_remote_config_and_the_api(project, signed_in) -> None:
    url = reverse("console:project-settings", args=[project.team.pk])
    page = signed_in.get(reverse("console:settings", args=[project.team.pk])).content.decode()
    assert 'name="timezone"' in page and 'value="UTC"' in page and '<option value="Europe/Paris">' in page
    assert flags_recording(project) is False

    saved = signed_in.post(url, form(timezone="Europe/Paris", session_recording_opt_in="on",
                                     capture_console_log_opt_in="on", session_recording_sample_rate="0.5",
                                     session_recording_minimum_duration_milliseconds="2000"))  # fmt: skip
    assert saved.status_code == 302 and saved["Location"].endswith("?saved=1#project-settings-h")
    recording = flags_recording(project)
    assert recording["sampleRate"] == "0.5" and recording["minimumDurationMilliseconds"] == 2000
    assert recording["consoleLogRecordingEnabled"] is True
    api = project.client().get(f"/api/projects/{project.team.pk}/").json()
    assert api["timezone"] == "Europe/Paris" and api["session_recording_opt_in"] is True
    after = signed_in.get(saved["Location"]).content.decode()
    assert "Saved." in after and 'value="Europe/Paris"' in after

    signed_in.post(url, form(timezone="Europe/Paris"))  # every box unticked: recording off again
    assert flags_recording(project) is False
    assert Team.objects.get(pk=project.team.pk).capture_console_log_opt_in is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": ""},
        {"session_recording_sample_rate": "1.5"},
        {"session_recording_sample_rate": "lots"},
        {"session_recording_minimum_duration_milliseconds": "999999"},
        {"session_recording_retention_period": "forever"},
    ],
)
def test_bad_values_are_the_forms_400_and_change_nothing(project, signed_in, changes) -> None:
    before = Team.objects.values().get(pk=project.team.pk)
    url = reverse("console:project-settings", args=[project.team.pk])
    response = signed_in.post(url, form(session_recording_opt_in="on", **changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not saved" in html
    field = next(iter(changes))
    if field != "session_recording_retention_period":  # a <select>: only the message
        assert 'aria-invalid="true"' in html.split(f'name="{field}"')[1].split(">")[0]
    assert Team.objects.values().get(pk=project.team.pk) == before


@pytest.mark.django_db
def test_another_organization_and_no_session_cannot_save(project, other_signed_in) -> None:
    url = reverse("console:project-settings", args=[project.team.pk])
    assert other_signed_in.post(url, form(session_recording_opt_in="on")).status_code == 404
    assert Client().post(url, form(session_recording_opt_in="on")).status_code == 401
    assert Team.objects.get(pk=project.team.pk).session_recording_opt_in is False
