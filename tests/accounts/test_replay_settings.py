"""The session replay settings on the projects API: read, written, validated as PostHog does, and guarded like
every project write."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix

DEFAULTS = {
    "session_recording_opt_in": False,
    "session_recording_sample_rate": None,
    "session_recording_minimum_duration_milliseconds": None,
    "session_recording_linked_flag": None,
    "session_recording_network_payload_capture_config": None,
    "session_recording_masking_config": None,
    "session_recording_url_trigger_config": [],
    "session_recording_url_blocklist_config": [],
    "session_recording_event_trigger_config": [],
    "session_recording_trigger_match_type_config": None,
    "session_recording_retention_period": "30d",
    "session_replay_config": None,
    "recording_domains": [],
    "capture_console_log_opt_in": True,
    "capture_performance_opt_in": True,
}

EVERYTHING = {
    "session_recording_opt_in": True,
    "session_recording_sample_rate": "0.70",
    "session_recording_minimum_duration_milliseconds": 2000,
    "session_recording_linked_flag": {"id": 7, "key": "beta", "variant": "test"},
    "session_recording_network_payload_capture_config": {"recordHeaders": True, "recordBody": False},
    "session_recording_masking_config": {"maskAllInputs": True, "maskTextSelector": ".secret", "blockSelector": None},
    "session_recording_url_trigger_config": [{"url": "/checkout.*", "matching": "regex"}],
    "session_recording_url_blocklist_config": [{"url": "/admin", "matching": "regex"}],
    "session_recording_event_trigger_config": ["signup", "purchase"],
    "session_recording_trigger_match_type_config": "any",
    "session_recording_retention_period": "90d",
    "session_replay_config": {"record_canvas": True},
    "recording_domains": ["https://shop.example.com", "https://*.example.org:8443"],
    "capture_console_log_opt_in": False,
    "capture_performance_opt_in": False,
}


def _url(project: Any) -> str:
    return f"/api/projects/{project.team.pk}/"


def test_defaults_are_posthogs(project: Any, api_client: Any) -> None:
    body = api_client.get(_url(project)).json()
    assert {key: body[key] for key in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize("prefix", ["projects", "environments"])
def test_every_setting_round_trips(project: Any, api_client: Any, prefix: str) -> None:
    res = api_client.patch(_url(project), EVERYTHING, format="json")
    assert res.status_code == 200, res.content
    assert {key: res.json()[key] for key in EVERYTHING} == EVERYTHING
    body = api_client.get(_url(project)).json()
    assert {key: body[key] for key in EVERYTHING} == EVERYTHING
    project.team.refresh_from_db()
    assert project.team.session_recording_retention_days == 90


def test_numbers_and_nulls(project: Any, api_client: Any) -> None:
    url = _url(project)
    assert (
        api_client.patch(url, {"session_recording_sample_rate": 0.5}, format="json").json()[
            "session_recording_sample_rate"
        ]
        == "0.50"
    )
    cleared = {
        "session_recording_sample_rate": None,
        "session_recording_linked_flag": None,
        "session_recording_url_trigger_config": None,
        "session_recording_trigger_match_type_config": None,
        "recording_domains": None,
    }
    body = api_client.patch(url, cleared, format="json").json()
    assert body["session_recording_sample_rate"] is None
    assert body["session_recording_url_trigger_config"] == [] and body["recording_domains"] == []
    flag = {"id": 3, "key": "beta"}
    assert (
        api_client.patch(url, {"session_recording_linked_flag": flag}, format="json").json()[
            "session_recording_linked_flag"
        ]
        == flag
    )


BAD = [
    ("session_recording_opt_in", "yes please"),
    ("session_recording_sample_rate", 1.5),
    ("session_recording_sample_rate", -0.1),
    ("session_recording_sample_rate", 0.555),
    ("session_recording_sample_rate", "lots"),
    ("session_recording_minimum_duration_milliseconds", -1),
    ("session_recording_minimum_duration_milliseconds", 30001),
    ("session_recording_minimum_duration_milliseconds", "soon"),
    ("session_recording_linked_flag", "beta"),
    ("session_recording_linked_flag", {"key": "beta"}),
    ("session_recording_linked_flag", {"id": 1, "key": "beta", "extra": 1}),
    ("session_recording_linked_flag", {"id": "1", "key": "beta"}),
    ("session_recording_linked_flag", {"id": 1, "key": ""}),
    ("session_recording_network_payload_capture_config", {"recordCookies": True}),
    ("session_recording_network_payload_capture_config", {"recordBody": "yes"}),
    ("session_recording_network_payload_capture_config", [True]),
    ("session_recording_masking_config", {"maskAllInputs": "always"}),
    ("session_recording_masking_config", {"maskEverything": True}),
    ("session_recording_url_trigger_config", [{"url": "/x"}]),
    ("session_recording_url_trigger_config", [{"url": "/x", "matching": "exact"}]),
    ("session_recording_url_trigger_config", [{"url": "", "matching": "regex"}]),
    ("session_recording_url_trigger_config", "/x"),
    ("session_recording_url_blocklist_config", [{"url": 5, "matching": "regex"}]),
    ("session_recording_url_blocklist_config", [{"url": "/x", "matching": "regex"}] * 101),
    ("session_recording_event_trigger_config", "signup"),
    ("session_recording_event_trigger_config", ["signup", 5]),
    ("session_recording_event_trigger_config", [""]),
    ("session_recording_event_trigger_config", ["sign\x00up"]),
    ("session_recording_url_trigger_config", [{"url": "/a\x00", "matching": "regex"}]),
    ("session_recording_masking_config", {"maskTextSelector": "\x00"}),
    ("session_recording_trigger_match_type_config", "some"),
    ("session_recording_retention_period", "2y"),
    ("session_replay_config", {"record_canvas": "yes"}),
    ("session_replay_config", {"record_audio": True}),
    ("recording_domains", "https://example.com"),
    ("recording_domains", ["example.com"]),
    ("recording_domains", ["https://example.com/path"]),
    ("recording_domains", ["ftp://example.com"]),
    ("capture_console_log_opt_in", "maybe"),
    ("capture_performance_opt_in", [1]),
]


@pytest.mark.parametrize(("attr", "value"), BAD, ids=[f"{a}={v!r}"[:60] for a, v in BAD])
def test_bad_settings_are_posthog_400s(project: Any, api_client: Any, attr: str, value: Any) -> None:
    url = _url(project)
    before = api_client.get(url).json()
    res = api_client.patch(url, {attr: value}, format="json")
    assert res.status_code == 400, res.content
    body = res.json()
    assert (body["type"], body["attr"]) == ("validation_error", attr)
    assert isinstance(body["detail"], str) and body["detail"]
    assert api_client.get(url).json() == before


def test_replay_settings_write_auth_matrix(project: Any, other_project: Any) -> None:
    """No key 401, a key without project:write (or with only project:read) 403, another project's key 403."""
    assert_auth_matrix(
        project, other_project, "PATCH", _url(project), scope="project:write", data={"session_recording_opt_in": True}
    )
    project.team.refresh_from_db()
    assert project.team.session_recording_opt_in is False


def test_another_projects_key_cannot_turn_recording_on(project: Any, other_project: Any) -> None:
    res = other_project.client().patch(_url(project), {"session_recording_opt_in": True}, format="json")
    assert res.status_code == 403
    project.team.refresh_from_db()
    assert project.team.session_recording_opt_in is False
