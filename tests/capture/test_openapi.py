"""The capture endpoints are described in /api/schema/ like PostHog's capture spec."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

PATHS = ["/e/", "/i/v0/e/", "/capture/", "/track/", "/engage/", "/batch/"]


@pytest.fixture
def spec(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.parametrize("path", PATHS)
def test_capture_path_is_documented(spec, path):
    post = spec["paths"][path]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
    }
    assert {"200", "400", "401", "413", "503"} <= set(post["responses"])
    assert {"ip", "compression"} <= {p["name"] for p in post["parameters"]}
    assert "data" in {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
    assert post["security"] == []


def test_capture_schemas_resolve(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["CaptureSuccess"]["properties"]["status"]["type"] == "integer"
    assert schemas["Error"]["required"] == ["type", "code", "detail", "attr"]
    post = spec["paths"]["/e/"]["post"]
    assert post["responses"]["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "batch" in schemas["CaptureBatch"]["properties"]
