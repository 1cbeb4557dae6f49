"""Shared fixtures: two projects with their users and keys, API clients, and ClickHouse discipline.

Tests that touch ClickHouse must carry ``@pytest.mark.clickhouse``; everywhere else any ClickHouse
access fails loudly (Snuba's rule). Marked tests share one chDB directory per session (migrated once)
and start with empty tables.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from posthog import request as posthog_request
from rest_framework.test import APIClient

from posthog_clone.accounts.models import Organization, PersonalAPIKey, Team, User
from posthog_clone.accounts.services import organization_create, personal_api_key_create, team_create, user_create
from posthog_clone.clickhouse.client import ClickHouseClient
from tests.queues import QueueProbe, broker_purge, stop_celery_worker

pytest_plugins = ["tests.browser"]  # page_server, through_the_app: the browser tests' fixtures

IN_CI = os.environ.get("CI", "").lower() == "true"


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test fails the run: a test that skips itself (a service down, a feature "not there
    yet") must not pass unseen."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and session.exitstatus == pytest.ExitCode.OK:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; under CI every test must run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def require_service(name: str, host: str, port: int) -> None:
    """Skip outside CI when a service is down; under CI a missing service is a failure, never a skip."""
    if service_reachable(host, port):
        return
    if IN_CI:
        pytest.fail(f"{name} at {host}:{port} is required under CI but unreachable")
    pytest.skip(f"{name} not reachable at {host}:{port} (runs under CI)")


@pytest.fixture(autouse=True)
def _clickhouse_discipline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.node.get_closest_marker("clickhouse"):
        request.getfixturevalue("clickhouse_tables")
        yield
        return

    def blocked(self: ClickHouseClient) -> None:
        raise RuntimeError("ClickHouse accessed in a test without @pytest.mark.clickhouse")

    monkeypatch.setattr(ClickHouseClient, "_client", property(blocked))
    yield


@pytest.fixture(autouse=True, scope="session")
def _fast_paths_through_the_production_entry() -> Iterator[None]:
    """Django's test client (and DRF's) and the live server send capture's paths to the production WSGI entry,
    as a server does: no Django route answers them (tests/wsgi.py)."""
    from django.test.client import ClientHandler
    from django.test.testcases import LiveServerThread

    from tests.wsgi import FastPathsFirstServer, fast_path_client_handler

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClientHandler, "__call__", fast_path_client_handler(ClientHandler.__call__))
        patch.setattr(LiveServerThread, "server_class", FastPathsFirstServer)
        yield


@pytest.fixture(autouse=True)
def _keep_test_connection_open() -> Iterator[None]:
    """Tests that call the WSGI app directly (schemathesis) must not let `request_finished` close the test
    transaction's connection; Django's test Client disconnects the same handler."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fresh_queue(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts with an empty queue (the embedded spool, and in scale mode the broker's ingestion
    queue too), so no test flushes another test's events."""
    settings.SPOOL_PATH = tmp_path_factory.mktemp("spool") / "spool.sqlite3"
    if settings.INGEST_QUEUE == "celery":
        broker_purge()


@pytest.fixture(autouse=True)
def _sdk_connections_closed() -> Iterator[None]:
    """posthog-python keeps requests sessions per process (events, and flags): their kept-alive connections to a
    live server would keep that server's request threads alive past the test, to close the test database's
    connection from the wrong thread when the process exits."""
    yield
    posthog_request._get_session().close()
    posthog_request._get_flags_session().close()


@pytest.fixture(scope="session", autouse=True)
def _celery_worker_stopped_at_the_end() -> Iterator[None]:
    """Scale mode: the Celery test worker some suites start (`tests.queues.celery_worker`) lives until here."""
    yield
    stop_celery_worker()


@pytest.fixture
def queue() -> QueueProbe:
    """What capture has queued so far, on the queue the settings chose."""
    return QueueProbe()


@pytest.fixture(scope="session")
def _clickhouse_migrated() -> None:
    from posthog_clone.clickhouse.migrations import migrate

    migrate()


@pytest.fixture
def clickhouse_tables(_clickhouse_migrated: None) -> None:
    from django.conf import settings

    from posthog_clone.clickhouse import get_client
    from posthog_clone.clickhouse.schema import TABLES

    client = get_client()
    for name in TABLES:
        client.command(f"TRUNCATE TABLE IF EXISTS `{settings.CLICKHOUSE_DATABASE}`.`{name}`")


@dataclass
class Project:
    """A project with its organization, a member and an all-scopes key (healthchecks' Alice/Bob/Charlie idea)."""

    team: Team
    organization: Organization
    user: User
    key: PersonalAPIKey
    key_value: str

    def client(self, value: str | None = None) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {value or self.key_value}")
        return api


def make_project(name: str, email: str) -> Project:
    user = user_create(email=email)
    org = organization_create(name=f"{name} org", owner=user)
    team = team_create(organization=org, name=name)
    user.refresh_from_db()
    key, value = personal_api_key_create(user=user, label="test", scopes=["*"])
    return Project(team=team, organization=org, user=user, key=key, key_value=value)


@pytest.fixture
def project(db: None) -> Project:
    return make_project("Alice's project", "alice@example.com")


@pytest.fixture
def other_project(db: None) -> Project:
    return make_project("Charlie's project", "charlie@example.com")


@pytest.fixture
def team(project: Project) -> Team:
    return project.team


@pytest.fixture
def user(project: Project) -> User:
    return project.user


@pytest.fixture
def api_client(project: Project) -> APIClient:
    return project.client()


@pytest.fixture
def key_with_scopes(project: Project) -> Callable[..., APIClient]:
    """`key_with_scopes("query:read")` → a client authenticated with a key holding just those scopes."""

    def make(*scopes: str, scoped_teams: list[int] | None = None) -> APIClient:
        _, value = personal_api_key_create(
            user=project.user, label="scoped", scopes=list(scopes), scoped_teams=scoped_teams
        )
        return project.client(value)

    return make
