"""Pure builders of the public flag payloads: remote config, /flags (v1 legacy and v2) and /decide shapes
(capture.md §14)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flags.evaluation import FlagResult
from flags.recording import capture_performance, session_recording
from posthog_clone.accounts.models import Team

SUPPORTED_COMPRESSION = ["gzip", "gzip-js"]


def remote_config(*, team: Team, has_feature_flags: bool, headers: Mapping[str, str]) -> dict[str, Any]:
    """What posthog-js needs to start: compression, session replay and performance capture as the project
    (and, for replay, the page's origin) set them, and every other optional product switched off."""
    return {
        "token": team.api_token,
        "supportedCompression": SUPPORTED_COMPRESSION,
        "hasFeatureFlags": has_feature_flags,
        "captureDeadClicks": False,
        "capturePerformance": capture_performance(team),
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "elementsChainAsString": True,
        "errorTracking": {"autocaptureExceptions": False, "suppressionRules": []},
        "sessionRecording": session_recording(team, headers),
        "heatmaps": False,
        "surveys": False,
        "productTours": False,
        "siteApps": [],
    }


def minimal_config() -> dict[str, Any]:
    """The config-only answer to GET /flags (no evaluation)."""
    return {
        "supportedCompression": SUPPORTED_COMPRESSION,
        "config": {"enable_collect_everything": True},
        "toolbarParams": {},
        "isAuthenticated": False,
        "sessionRecording": False,
    }


def decide_config(*, team: Team, has_feature_flags: bool, headers: Mapping[str, str]) -> dict[str, Any]:
    """Config fields flattened into /flags?config=true and /decide answers."""
    return {
        **remote_config(team=team, has_feature_flags=has_feature_flags, headers=headers),
        "config": {"enable_collect_everything": True},
        "toolbarParams": {},
        "isAuthenticated": False,
    }


def flag_detail(result: FlagResult) -> dict[str, Any]:
    return {
        "key": result.key,
        "enabled": result.enabled,
        "variant": result.variant,
        "reason": {
            "code": result.reason,
            "condition_index": result.condition_index,
            "description": result.description,
        },
        "metadata": {
            "id": result.flag_id,
            "version": result.version,
            "description": None,
            "payload": result.payload,
            "has_experiment": False,
        },
    }


def flags_v2(results: dict[str, FlagResult]) -> dict[str, Any]:
    return {"flags": {key: flag_detail(result) for key, result in results.items()}}


def flags_legacy(results: dict[str, FlagResult]) -> dict[str, Any]:
    """`featureFlags` with every flag (false included) and payloads of the enabled ones."""
    return {
        "featureFlags": {key: result.value for key, result in results.items()},
        "featureFlagPayloads": {
            key: result.payload for key, result in results.items() if result.enabled and result.payload is not None
        },
    }


def decide_flags(results: dict[str, FlagResult], version: int) -> dict[str, Any]:
    """/decide: v1 a list of enabled keys, v2 a map of enabled keys, v3 the legacy map, v4+ the v2 flags."""
    if version >= 4:
        return flags_v2(results)
    if version == 3:
        return flags_legacy(results)
    enabled = {key: result.value for key, result in results.items() if result.enabled}
    if version == 2:
        return {"featureFlags": enabled}
    return {"featureFlags": list(enabled)}


FlagsPart = tuple[dict[str, Any], bool]
# An endpoint's shape: (results, query `v`, query `config`) → (the flags part, whether config fields join it).
Shape = Callable[[dict[str, FlagResult], str | None, str | None], FlagsPart]


def flags_shape(results: dict[str, FlagResult], version: str | None, config: str | None) -> FlagsPart:
    """/flags: no `v` and no `config` means v=2 with config; v=1 (or only `config`) the legacy shape."""
    if version is None and config is None:
        number, with_config = 2, True
    else:
        number, with_config = _int(version, default=1), (config or "").lower() in ("true", "1")
    return (flags_v2(results) if number >= 2 else flags_legacy(results)), with_config


def decide_shape(results: dict[str, FlagResult], version: str | None, config: str | None) -> FlagsPart:
    """/decide: config always; flags shaped by `v` (see ``decide_flags``)."""
    return decide_flags(results, _int(version, default=1)), True


def _int(value: str | None, *, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
