"""The engine channel: a web process's ClickHouse calls answered by the process owning chDB."""

from __future__ import annotations

import uuid

import pytest

from posthog_clone.clickhouse import get_client, timing
from posthog_clone.clickhouse.engine import EngineClient, engine_authkey, run_engine
from posthog_clone.clickhouse.errors import ClickHouseError

pytestmark = pytest.mark.clickhouse


@pytest.fixture
def engine():
    address = f"\0posthog-clone-engine-test-{uuid.uuid4().hex}"
    server = run_engine(get_client(), address, engine_authkey("secret"), lambda: None)
    yield address
    server.stop()


def test_a_query_through_the_engine_returns_the_engines_result(engine):
    client = EngineClient(engine, engine_authkey("secret"))
    result = client.query("SELECT {n:UInt32} + 1 AS x, toDateTime64('2026-01-02 03:04:05', 6, 'UTC') AS t", {"n": 41})
    assert result.columns == ["x", "t"]
    assert result.rows[0][0] == 42
    assert str(result.rows[0][1]) == "2026-01-02 03:04:05"


def test_a_query_through_the_engine_records_the_engines_own_time(engine):
    client = EngineClient(engine, engine_authkey("secret"))
    client.query("SELECT 1")  # connected: the handshake is not part of what follows
    with timing.measuring() as spent:
        result = client.query("SELECT sleep(0.05) AS s")
        client.query("SELECT 2")
    assert spent.queries == 2
    assert 0.05 <= result.elapsed <= spent.seconds  # measured in the engine, around chDB's call
    client.query("SELECT 3")
    assert spent.queries == 2  # recorded only while measuring


def test_a_clickhouse_error_in_the_engine_reaches_the_caller_with_its_code(engine):
    client = EngineClient(engine, engine_authkey("secret"))
    with pytest.raises(ClickHouseError) as info:
        client.query("SELECT no_such_function(1)")
    assert info.value.code == 46 and not info.value.retryable
    assert client.query("SELECT 1").rows == [(1,)]  # the connection is still usable


def test_a_client_without_the_secret_is_refused(engine):
    client = EngineClient(engine, engine_authkey("another secret"), connect_wait=0.5)
    with pytest.raises(ClickHouseError, match="refused"):
        client.query("SELECT 1")


def test_no_engine_is_a_retryable_error_after_the_wait():
    client = EngineClient("\0posthog-clone-engine-nobody", engine_authkey("secret"), connect_wait=0.3)
    with pytest.raises(ClickHouseError, match="not reachable"):
        client.query("SELECT 1")
