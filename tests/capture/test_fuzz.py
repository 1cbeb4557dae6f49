"""Schemathesis over the capture operations only: generated bodies and params never get a 5xx and every
answer matches the documented response schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from posthog_clone.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/(e|i/v0/e|capture|track|engage|batch)/$"
)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_capture_operations_conform(case, project):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
