"""Schemathesis over every operation in /api/schema/: no 5xx, and documented responses match the schema.

It grows by itself: every endpoint added to the spec is exercised here. Requests carry an all-scopes
personal API key of a real project, and `project_id` path parameters point at that project.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from posthog_clone.wsgi import application
from tests.openapi.conftest import SCHEMATHESIS_CALLS

MAX_EXAMPLES = 20
# POST …/query/ runs real queries: its four operations took 50–75 s each, mostly in schemathesis' coverage
# phase (boundary cases of the polymorphic `query`, whatever max_examples says). Every query kind is fuzzed on
# its own in test_query_kinds_schemathesis.py (coverage phase included), so here they get the examples and
# fuzzing phases only.
QUERY_PATHS = r"/query/"
# The session replay API reads ClickHouse (its recordings and a playlist's recordings): its operations run in a
# test marked for ClickHouse (the others may not touch it).
REPLAY_PATHS = r"/session_recording"
NOT_IN_MAIN = f"{QUERY_PATHS}|{REPLAY_PATHS}"


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
query_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    application,
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}),
).include(path_regex=QUERY_PATHS)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@schema.exclude(path_regex=NOT_IN_MAIN).parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case, project):
    _call(case, project)


@pytest.mark.clickhouse
@schema.include(path_regex=REPLAY_PATHS).parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_replay_operation_conforms(case, project):
    _call(case, project)


@query_schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_query_operation_conforms(case, project):
    _call(case, project)


def _call(case, project) -> None:
    if case.path_parameters and "project_id" in case.path_parameters:
        case.path_parameters["project_id"] = str(project.team.pk)
    SCHEMATHESIS_CALLS[case.operation.label] += 1
    case.call_and_validate(
        headers={"Authorization": f"Bearer {project.key_value}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
