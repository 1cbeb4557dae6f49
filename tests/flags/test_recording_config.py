"""The project's replay settings in every remote config posthog-js reads (/flags v1 and v2 with config, /decide,
/array/<token>/config and config.js), shaped as replay_surveys_experiments.md §1.1 says; set through the
projects API, seen at once."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from flags.recording import linked_flag, recording_permitted, sample_rate

ORIGIN = "https://shop.example.com"
RECORDING_DEFAULTS = {
    "endpoint": "/s/",
    "consoleLogRecordingEnabled": True,
    "recorderVersion": "v2",
    "sampleRate": None,
    "minimumDurationMilliseconds": None,
    "linkedFlag": None,
    "networkPayloadCapture": None,
    "masking": None,
    "urlTriggers": [],
    "urlBlocklist": [],
    "eventTriggers": [],
    "triggerMatchType": None,
    "scriptConfig": None,
    "recordCanvas": False,
    "canvasFps": None,
    "canvasQuality": None,
    "version": 1,
}


def _config_js(token: str, **headers: Any) -> dict[str, Any]:
    script = Client().get(f"/array/{token}/config.js", **headers).content.decode()
    match = re.search(r"window\._POSTHOG_REMOTE_CONFIG\[\"[^\"]+\"\] = (\{.*\});", script)
    assert match is not None, script
    return json.loads(match.group(1))["config"]


def configs(project: Any, origin: str | None = ORIGIN, **headers: Any) -> dict[str, dict[str, Any]]:
    """Every remote config answer posthog-js (old and new) may read, by endpoint."""
    token = project.team.api_token
    if origin:
        headers["HTTP_ORIGIN"] = origin
    body = json.dumps({"token": token, "distinct_id": "user-1"})

    def post(path: str) -> dict[str, Any]:
        response = Client().post(path, body, content_type="application/json", **headers)
        assert response.status_code == 200, response.content
        return response.json()

    return {
        "flags v2": post("/flags/?v=2&config=true"),
        "flags (no v)": post("/flags/"),
        "flags v1": post("/flags/?v=1&config=true"),
        "decide v3": post("/decide/?v=3"),
        "decide v4": post("/decide/?v=4"),
        "config": Client().get(f"/array/{token}/config", **headers).json(),
        "config.js": _config_js(token, **headers),
    }


def patch(project: Any, **changes: Any) -> None:
    response = project.client().patch(f"/api/projects/{project.team.pk}/", changes, format="json")
    assert response.status_code == 200, response.content


def test_opted_out_is_false_everywhere(project: Any) -> None:
    for name, config in configs(project).items():
        assert config["sessionRecording"] is False, name


def test_opted_in_defaults_everywhere(project: Any) -> None:
    patch(project, session_recording_opt_in=True)
    for name, config in configs(project).items():
        assert config["sessionRecording"] == RECORDING_DEFAULTS, name


# (settings written through the API, the keys of `sessionRecording` they change)
SHAPES = [
    ({"session_recording_sample_rate": "0.70"}, {"sampleRate": "0.7"}),
    ({"session_recording_sample_rate": 0.05}, {"sampleRate": "0.05"}),
    ({"session_recording_sample_rate": 0}, {"sampleRate": "0"}),
    ({"session_recording_sample_rate": 1}, {"sampleRate": None}),
    ({"session_recording_minimum_duration_milliseconds": 2000}, {"minimumDurationMilliseconds": 2000}),
    ({"session_recording_minimum_duration_milliseconds": 0}, {"minimumDurationMilliseconds": None}),
    ({"session_recording_linked_flag": {"id": 1, "key": "beta"}}, {"linkedFlag": "beta"}),
    (
        {"session_recording_linked_flag": {"id": 1, "key": "beta", "variant": "test"}},
        {"linkedFlag": {"flag": "beta", "variant": "test"}},
    ),
    ({"session_recording_linked_flag": {"id": 1, "key": "beta", "variant": None}}, {"linkedFlag": "beta"}),
    (
        {"session_recording_network_payload_capture_config": {"recordHeaders": True, "recordBody": True}},
        {"networkPayloadCapture": {"recordHeaders": True, "recordBody": True}},
    ),
    (
        {"session_recording_masking_config": {"maskAllInputs": False, "maskTextSelector": "*"}},
        {"masking": {"maskAllInputs": False, "maskTextSelector": "*"}},
    ),
    (
        {
            "session_recording_url_trigger_config": [
                {"url": "^https://shop\\.example\\.com/checkout", "matching": "regex"}
            ]
        },
        {"urlTriggers": [{"url": "^https://shop\\.example\\.com/checkout", "matching": "regex"}]},
    ),
    (
        {"session_recording_url_blocklist_config": [{"url": "/admin", "matching": "regex"}]},
        {"urlBlocklist": [{"url": "/admin", "matching": "regex"}]},
    ),
    ({"session_recording_event_trigger_config": ["signup"]}, {"eventTriggers": ["signup"]}),
    ({"session_recording_trigger_match_type_config": "any"}, {"triggerMatchType": "any"}),
    ({"session_recording_trigger_match_type_config": "all"}, {"triggerMatchType": "all"}),
    ({"capture_console_log_opt_in": False}, {"consoleLogRecordingEnabled": False}),
    ({"capture_console_log_opt_in": None}, {"consoleLogRecordingEnabled": False}),
    (
        {"session_replay_config": {"record_canvas": True}},
        {"recordCanvas": True, "canvasFps": 3, "canvasQuality": "0.4"},
    ),
    ({"session_replay_config": {"record_canvas": False}}, {}),
    ({"session_recording_retention_period": "1y"}, {}),
    ({"recording_domains": ["https://shop.example.com"]}, {}),
    ({"recording_domains": ["https://*.example.com"]}, {}),
]


@pytest.mark.parametrize(("changes", "changed"), SHAPES, ids=[json.dumps(s)[:70] for s, _ in SHAPES])
def test_each_setting_reaches_every_remote_config(project: Any, changes: dict, changed: dict) -> None:
    patch(project, session_recording_opt_in=True, **changes)
    for name, config in configs(project).items():
        assert config["sessionRecording"] == {**RECORDING_DEFAULTS, **changed}, name


def test_the_reference_example(project: Any) -> None:
    """The newest shape of §1.1, from the settings that produce it."""
    patch(
        project,
        session_recording_opt_in=True,
        capture_console_log_opt_in=True,
        session_recording_sample_rate="0.7",
        session_recording_minimum_duration_milliseconds=2000,
    )
    assert configs(project)["flags v2"]["sessionRecording"] == {
        "endpoint": "/s/", "consoleLogRecordingEnabled": True, "recorderVersion": "v2", "sampleRate": "0.7",
        "minimumDurationMilliseconds": 2000, "linkedFlag": None, "networkPayloadCapture": None, "masking": None,
        "urlTriggers": [], "urlBlocklist": [], "eventTriggers": [], "triggerMatchType": None, "scriptConfig": None,
        "recordCanvas": False, "canvasFps": None, "canvasQuality": None, "version": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("origin", "headers", "records"),
    [
        ("https://shop.example.com", {}, True),
        ("https://other.example.com", {}, False),
        ("http://shop.example.com", {}, False),
        ("https://shop.example.com:8443", {}, False),
        (None, {"HTTP_REFERER": "https://shop.example.com/cart?x=1"}, True),
        (None, {"HTTP_REFERER": "https://evil.test/shop.example.com"}, False),
        (None, {}, False),
        (None, {"HTTP_USER_AGENT": "posthog-android/3.1.0"}, True),
        ("https://a.b.example.org", {}, True),
        ("https://example.org", {}, False),
    ],
)
def test_recording_domains(project: Any, origin: str | None, headers: dict, records: bool) -> None:
    patch(
        project, session_recording_opt_in=True, recording_domains=["https://shop.example.com", "https://*.example.org"]
    )
    for name, config in configs(project, origin=origin, **headers).items():
        assert (config["sessionRecording"] is not False) is records, name
        assert "domains" not in (config["sessionRecording"] or {})


def test_capture_performance(project: Any) -> None:
    on = {"network_timing": True, "web_vitals": False, "web_vitals_allowed_metrics": None}
    assert all(config["capturePerformance"] == on for config in configs(project).values())
    patch(project, capture_performance_opt_in=False)
    assert all(config["capturePerformance"] is False for config in configs(project).values())


def test_a_settings_change_is_seen_at_once(project: Any) -> None:
    token = project.team.api_token
    assert Client().get(f"/array/{token}/config").json()["sessionRecording"] is False  # now cached
    patch(project, session_recording_opt_in=True)
    assert Client().get(f"/array/{token}/config").json()["sessionRecording"]["endpoint"] == "/s/"
    patch(project, session_recording_opt_in=False)
    assert Client().get(f"/array/{token}/config").json()["sessionRecording"] is False


def test_minimal_get_config_stays_off(project: Any) -> None:
    patch(project, session_recording_opt_in=True)
    assert Client().get("/flags/").json()["sessionRecording"] is False  # no token, no project


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(None, None), (Decimal("1.00"), None), (Decimal("0.50"), "0.5"), (Decimal("0.00"), "0"), (0.25, "0.25"),
     ("0.10", "0.1"), (Decimal("0.01"), "0.01")],
)  # fmt: skip
def test_sample_rate_strings(rate: Any, expected: str | None) -> None:
    assert sample_rate(rate) == expected


def test_linked_flag_forms() -> None:
    assert linked_flag(None) is None
    assert linked_flag({"id": 1, "key": "k"}) == "k"
    assert linked_flag({"id": 1, "key": "k", "variant": ""}) == "k"
    assert linked_flag({"id": 1, "key": "k", "variant": "v"}) == {"flag": "k", "variant": "v"}


def test_recording_permitted_without_domains() -> None:
    assert recording_permitted([], {})
    assert recording_permitted(None, {"Origin": "https://anything.test"})
    assert not recording_permitted(["https://a.test"], {"Origin": "not a url"})
