import pytest
from django.conf import settings

from posthog_clone.clickhouse import ClickHouseError, get_client, table
from posthog_clone.clickhouse.errors import ClickHouseError as Err


@pytest.mark.clickhouse
def test_query_binds_parameters_and_reports_types():
    result = get_client().query("SELECT {s:String} AS s, {n:Int64} + 1 AS n", {"s": "it's '; DROP", "n": 41})
    assert result.columns == ["s", "n"]
    assert result.types == ["String", "Int64"]
    assert result.rows == [("it's '; DROP", 42)]


@pytest.mark.clickhouse
def test_errors_come_out_as_one_type_without_stack_trace():
    with pytest.raises(ClickHouseError) as info:
        get_client().query("SELECT nope FROM system.one")
    assert info.value.code == 47
    assert info.value.name == "UNKNOWN_IDENTIFIER"
    assert info.value.retryable is False
    assert "Stack trace" not in str(info.value)


@pytest.mark.clickhouse
def test_json_insert_with_dedup_token_is_idempotent():
    client = get_client()
    row = (
        b'{"uuid":"01823e89-f75d-0000-0d4d-3d43e54f6de5","event":"e","properties":"{}",'
        b'"timestamp":"2024-01-01 00:00:00",'
        b'"team_id":1,"distinct_id":"d","elements_chain":"","created_at":"2024-01-01 00:00:00","person_id":'
        b'"00000000-0000-0000-0000-000000000000","person_mode":"full","_timestamp":"2024-01-01 00:00:00"}'
    )
    for _ in range(3):
        client.insert_json_rows(table("events"), row, dedup_token="batch-1")
    assert client.query(f"SELECT count() FROM {table('events')}").rows == [(1,)]


def test_retryable_flag_from_code():
    assert Err.from_exception(RuntimeError("Code: 159. DB::Exception: Timeout exceeded (TIMEOUT_EXCEEDED)")).retryable
    assert not Err.from_exception(RuntimeError("Code: 62. DB::Exception: Syntax error (SYNTAX_ERROR)")).retryable


def test_unmarked_tests_cannot_reach_clickhouse():
    with pytest.raises(RuntimeError, match="without @pytest.mark.clickhouse"):
        get_client().query("SELECT 1")


def test_database_name_default():
    assert settings.CLICKHOUSE_DATABASE == "posthog"
