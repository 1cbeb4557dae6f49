"""Schemathesis over every operation in /api/schema/: no 5xx, and documented responses match the schema.

It grows by itself: every endpoint added to the spec is exercised here. Requests carry an all-scopes
personal API key of a real project, and `project_id` path parameters point at that project.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from posthog_clone.wsgi import application
from tests.openapi.conftest import SCHEMATHESIS_CALLS

MAX_EXAMPLES = 20


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case, project):
    if case.path_parameters and "project_id" in case.path_parameters:
        case.path_parameters["project_id"] = str(project.team.pk)
    SCHEMATHESIS_CALLS[case.operation.label] += 1
    case.call_and_validate(
        headers={"Authorization": f"Bearer {project.key_value}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
