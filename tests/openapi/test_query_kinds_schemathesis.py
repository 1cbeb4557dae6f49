"""Schemathesis over `POST /query/`, once per query kind: bodies generated from that kind's request schema
alone, so each kind gets its own examples (the spec's polymorphic `query` would spread them over all kinds).
No 5xx, and every documented response matches the schema. New kinds in `query.kinds.KINDS` join by themselves.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from posthog_clone.wsgi import application
from query.kinds import KINDS
from tests.openapi.conftest import SCHEMATHESIS_CALLS

pytestmark = pytest.mark.clickhouse
MAX_EXAMPLES = 25
QUERY_PATH = "/api/projects/{project_id}/query/"

_SPEC = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).raw_schema


def _schema_for(kind: str) -> Any:
    """The spec cut to `POST /query/` (JSON bodies only), its `query` node being `kind`'s request schema."""
    spec = copy.deepcopy(_SPEC)
    operation = spec["paths"][QUERY_PATH]["post"]
    body = operation["requestBody"]["content"]
    operation["requestBody"]["content"] = {"application/json": body["application/json"]}
    spec["paths"] = {QUERY_PATH: {"post": operation}}
    spec["components"]["schemas"]["QueryNodeRequest"] = {"$ref": f"#/components/schemas/{kind}Request"}
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.app = application
    return loaded


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def _make_test(kind: str):
    @_schema_for(kind).parametrize()
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def test(case, project):
        case.path_parameters["project_id"] = str(project.team.pk)
        SCHEMATHESIS_CALLS[f"query:{kind}"] += 1
        case.call_and_validate(
            headers={"Authorization": f"Bearer {project.key_value}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    test.__name__ = f"test_{kind}_conforms"
    return test


for _kind in KINDS:
    globals()[f"test_{_kind}_conforms"] = _make_test(_kind)
