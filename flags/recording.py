"""The project's replay settings as remote config: posthog-js's `sessionRecording` object and `capturePerformance`
(replay_surveys_experiments.md §1.1). Pure: a Team and the request's headers in, JSON-ready values out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from posthog_clone.accounts.models import Team

SNAPSHOT_ENDPOINT = "/s/"
CANVAS_FPS = 3
CANVAS_QUALITY = "0.4"
# Mobile SDKs send no Origin or Referer: recording_domains (a list of web origins) does not apply to them.
MOBILE_USER_AGENTS = ("posthog-android", "posthog-ios", "posthog-react-native", "posthog-flutter")


def session_recording(team: Team, headers: Mapping[str, str]) -> dict[str, Any] | bool:
    """`false` unless the project records and the page's origin may; else the settings posthog-js reads."""
    if not team.session_recording_opt_in or not recording_permitted(team.recording_domains, headers):
        return False
    canvas = bool((team.session_replay_config or {}).get("record_canvas"))
    return {
        "endpoint": SNAPSHOT_ENDPOINT,
        "consoleLogRecordingEnabled": bool(team.capture_console_log_opt_in),
        "recorderVersion": "v2",
        "sampleRate": sample_rate(team.session_recording_sample_rate),
        "minimumDurationMilliseconds": team.session_recording_minimum_duration_milliseconds or None,
        "linkedFlag": linked_flag(team.session_recording_linked_flag),
        "networkPayloadCapture": team.session_recording_network_payload_capture_config or None,
        "masking": team.session_recording_masking_config or None,
        "urlTriggers": team.session_recording_url_trigger_config or [],
        "urlBlocklist": team.session_recording_url_blocklist_config or [],
        "eventTriggers": team.session_recording_event_trigger_config or [],
        "triggerMatchType": team.session_recording_trigger_match_type_config or None,
        "scriptConfig": None,
        "recordCanvas": canvas,
        "canvasFps": CANVAS_FPS if canvas else None,
        "canvasQuality": CANVAS_QUALITY if canvas else None,
        "version": 1,
    }


def capture_performance(team: Team) -> dict[str, Any] | bool:
    """Network timing (which posthog-js also folds into the recording's network options) or `false`."""
    if not team.capture_performance_opt_in:
        return False
    return {"network_timing": True, "web_vitals": False, "web_vitals_allowed_metrics": None}


def sample_rate(rate: Decimal | float | str | None) -> str | None:
    """As the newer servers send it: "0.5" (not "0.50"); everything (1 or none) → null."""
    if rate is None:
        return None
    value = Decimal(str(rate))
    if value >= 1:
        return None
    return format(value.normalize(), "f") if value else "0"


def linked_flag(flag: Any) -> str | dict[str, str] | None:
    """The flag key, or `{flag, variant}` when a variant is set."""
    if not isinstance(flag, dict) or not flag.get("key"):
        return None
    if flag.get("variant"):
        return {"flag": flag["key"], "variant": flag["variant"]}
    return flag["key"]


def recording_permitted(domains: list[str] | None, headers: Mapping[str, str]) -> bool:
    """No domains: any page. Else the request's Origin (or Referer) must be one of them, `https://*.x.com`
    covering x.com's subdomains; mobile SDKs (no Origin) are let through."""
    if not domains:
        return True
    candidates = [_origin(headers.get("Origin")), _origin(headers.get("Referer"))]
    if not any(candidates):
        return any(agent in headers.get("User-Agent", "").lower() for agent in MOBILE_USER_AGENTS)
    return any(_matches(domain, candidate) for domain in domains for candidate in candidates if candidate)


def _origin(value: str | None) -> tuple[str, str, int | None] | None:
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port


def _matches(domain: str, origin: tuple[str, str, int | None]) -> bool:
    allowed = _origin(domain.replace("://*.", "://wildcard-placeholder."))
    if allowed is None:
        return False
    scheme, host, port = allowed
    if (scheme, port) != (origin[0], origin[2]):
        return False
    if host.startswith("wildcard-placeholder."):
        suffix = host.removeprefix("wildcard-placeholder")
        return origin[1].endswith(suffix)
    return host == origin[1]
