"""Start-up refuses bad configuration with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from posthog_clone.env import ClickHouseBackend, env_bool, env_int, parse_clickhouse_url, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


def run_check(tmp_path, **env):
    full = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x",
        "DJANGO_SETTINGS_MODULE": "posthog_clone.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLICKHOUSE_URL", "mysql://localhost/x"),
        ("CLICKHOUSE_URL", "chdb://relative/path"),
        ("CLICKHOUSE_URL", "http://:8123/db"),
        ("DATABASE_URL", "mongodb://localhost/x"),
        ("DATABASE_URL", "postgres://localhost"),
        ("CELERY_BROKER_URL", "kafka://localhost:9092"),
        ("DEBUG", "maybe"),
        ("INGEST_BATCH_SIZE", "lots"),
        ("INGEST_PERSONS_CACHE_SIZE", "-1"),
        ("CHDB_MARK_CACHE_MB", "64MB"),
        ("CHDB_PRIMARY_INDEX_CACHE_MB", "-5"),
        ("CHDB_QUERY_CONDITION_CACHE_MB", "lots"),
        ("CHDB_UNCOMPRESSED_CACHE_MB", "1.5"),
        ("CHDB_MAX_SERVER_MEMORY_MB", "100"),  # a limit no engine starts under
        ("CHDB_SERVER_SETTINGS", "max_thread_pool_free_size"),
        ("CHDB_SERVER_SETTINGS", "merge_tree.old_parts_lifetime=<60>"),
        ("CHDB_SERVER_SETTINGS", "Bad-Name=1"),
        ("CHDB_JEMALLOC_CONF", "dirty_decay_ms=1000"),
        ("CHDB_QUERY_EXTERNAL_GROUP_BY_MB", "16MB"),
        ("CHDB_QUERY_EXTERNAL_GROUP_BY_MB", "-1"),
        ("CHDB_QUERY_JOIN_ALGORITHM", "merge"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, name, value):
    result = run_check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}:" in result.stderr


def test_secret_key_required_without_debug(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="posthog_clone.settings", DEBUG="false")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY:" in result.stderr


def test_debug_generates_secret_key_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="posthog_clone.settings", DEBUG="true")
    for _ in range(2):
        assert (
            subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True).returncode
            == 0
        )
    assert len((tmp_path / "secret_key").read_text()) > 40


def test_clickhouse_url_parsing():
    embedded = parse_clickhouse_url("CLICKHOUSE_URL", "chdb:///data/ch")
    assert embedded.backend is ClickHouseBackend.EMBEDDED and embedded.path == "/data/ch"
    server = parse_clickhouse_url("CLICKHOUSE_URL", "https://app:s%40cret@ch.internal:8443/posthog")
    assert (
        server.backend,
        server.host,
        server.port,
        server.username,
        server.password,
        server.database,
        server.secure,
    ) == (ClickHouseBackend.SERVER, "ch.internal", 8443, "app", "s@cret", "posthog", True)


def test_database_url_parsing():
    assert parse_database_url("DATABASE_URL", "postgres://u@127.0.0.1:5432/test")["NAME"] == "test"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL:"):
        parse_database_url("DATABASE_URL", "oracle://x/y")


def test_env_bool_and_int_are_strict(monkeypatch):
    monkeypatch.setenv("FLAG", "False")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "nope")
    with pytest.raises(ImproperlyConfigured, match="FLAG:"):
        env_bool("FLAG", True)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured, match="N: must be >= 0"):
        env_int("N", 1, minimum=0)
