"""Remote config for posthog-js: GET /array/<token>/config and /array/<token>/config.js."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

from flags.models import FeatureFlag

ORIGIN = "https://app.example.com"


def test_config_json(project: Any) -> None:
    response = Client().get(f"/array/{project.team.api_token}/config", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
    config = response.json()
    assert config["supportedCompression"] == ["gzip", "gzip-js"]
    assert config["token"] == project.team.api_token
    assert config["hasFeatureFlags"] is False
    for product in ("sessionRecording", "surveys", "heatmaps", "autocaptureExceptions"):
        assert config[product] is False, product
    # a new project has PostHog's default capture_performance_opt_in = true (network timing, no web vitals)
    assert config["capturePerformance"] == {
        "network_timing": True,
        "web_vitals": False,
        "web_vitals_allowed_metrics": None,
    }


def test_has_feature_flags_follows_active_flags(project: Any) -> None:
    url = f"/array/{project.team.api_token}/config"
    flag = FeatureFlag.objects.create(team=project.team, key="x", filters={"groups": []})
    assert Client().get(url).json()["hasFeatureFlags"] is True
    flag.active = False
    flag.save()
    assert Client().get(url).json()["hasFeatureFlags"] is False


def test_config_js_registers_the_config_for_posthog_js(project: Any) -> None:
    token = project.team.api_token
    response = Client().get(f"/array/{token}/config.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    script = response.content.decode()
    assert "window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};" in script
    match = re.search(r"window\._POSTHOG_REMOTE_CONFIG\[(\"[^\"]+\")\] = (\{.*\});", script)
    assert match is not None
    assert json.loads(match.group(1)) == token
    entry = json.loads(match.group(2))
    assert entry["siteApps"] == []
    assert entry["config"] == Client().get(f"/array/{token}/config").json()


def test_unknown_token_is_404(db: None) -> None:
    assert Client().get("/array/phc_nope/config").status_code == 404
    assert Client().get("/array/phc_nope/config.js").status_code == 404


def test_preflight(project: Any) -> None:
    response = Client().options(
        f"/array/{project.team.api_token}/config",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Headers"] == "content-type"
    assert "GET" in response["Access-Control-Allow-Methods"]
