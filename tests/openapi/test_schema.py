import re

import pytest
import yaml
from openapi_spec_validator import validate


@pytest.fixture
def spec(client):
    res = client.get("/api/schema/")
    assert res.status_code == 200
    return yaml.safe_load(res.content)


@pytest.mark.django_db
def test_schema_validates_as_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)
    assert spec["components"]["securitySchemes"]["PersonalAPIKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API key (phx_...)",
    }


@pytest.mark.django_db
def test_operation_ids_are_posthog_style(spec):
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values() if isinstance(op, dict)}
    assert {"users_retrieve", "projects_list", "projects_retrieve", "organizations_retrieve"} <= ids


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_docs_pages_reference_no_external_url(client, url):
    res = client.get(url)
    assert res.status_code == 200
    html = res.content.decode()
    external = [
        u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if u.startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert "static/drf_spectacular_sidecar" in html


@pytest.mark.django_db
def test_sidecar_assets_are_served(client):
    html = client.get("/api/schema/swagger-ui/").content.decode()
    asset = re.search(r"""src=["']([^"']*swagger-ui-bundle\.js)""", html).group(1)
    assert client.get(asset).status_code == 200
