"""Embedded chDB's memory bounds (issue 26): the config file VAR_DIR/chdb-config.xml holds the defaults or the
operator's values, and the engine process of a real `manage.py serve` runs with them (asked through its
socket, as a web process asks it)."""

from __future__ import annotations

import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.test import override_settings

from bench.server import kill, manage, server_env, start_server, wait_healthy
from posthog_clone.clickhouse import chdb_server_config
from posthog_clone.clickhouse.chdb_config import PART_REMOVAL_THRESHOLD
from posthog_clone.clickhouse.engine import EngineClient, engine_address, engine_authkey
from tests.reliability.processes import free_port

MB = 2**20


def _file(tmp_path) -> dict[str, str]:
    """Every leaf of the written file as dotted name → text."""
    root = ET.parse(chdb_server_config().write(tmp_path / "chdb-config.xml")).getroot()
    assert root.tag == "clickhouse"
    out = {}
    for section in root:
        if len(section):
            out.update({f"{section.tag}.{leaf.tag}": leaf.text for leaf in section})
        else:
            out[section.tag] = section.text
    return out


def test_the_config_file_holds_the_defaults(tmp_path):
    assert _file(tmp_path) == {
        "mark_cache_size": str(64 * MB),
        "primary_index_cache_size": str(64 * MB),
        "query_condition_cache_size": str(16 * MB),
        "uncompressed_cache_size": "0",
        "merge_tree.concurrent_part_removal_threshold": str(PART_REMOVAL_THRESHOLD),
    }  # no max_server_memory_usage: chDB's own limit (90% of the machine's memory)
    assert chdb_server_config().jemalloc_conf == "dirty_decay_ms:1000,muzzy_decay_ms:1000"


@override_settings(
    CHDB_MARK_CACHE_MB=8,
    CHDB_PRIMARY_INDEX_CACHE_MB=4,
    CHDB_QUERY_CONDITION_CACHE_MB=0,
    CHDB_UNCOMPRESSED_CACHE_MB=32,
    CHDB_MAX_SERVER_MEMORY_MB=2048,
    CHDB_SERVER_SETTINGS={
        "max_thread_pool_free_size": "64",
        "merge_tree.old_parts_lifetime": "60",
        "mark_cache_size": str(9 * MB),
    },  # fmt: skip
)
def test_the_config_file_holds_the_operators_values_and_extra_settings_come_last(tmp_path):
    assert _file(tmp_path) == {
        "mark_cache_size": str(9 * MB),  # CHDB_SERVER_SETTINGS wins over CHDB_MARK_CACHE_MB
        "primary_index_cache_size": str(4 * MB),
        "query_condition_cache_size": "0",
        "uncompressed_cache_size": str(32 * MB),
        "max_server_memory_usage": str(2048 * MB),
        "max_thread_pool_free_size": "64",
        "merge_tree.concurrent_part_removal_threshold": str(PART_REMOVAL_THRESHOLD),
        "merge_tree.old_parts_lifetime": "60",
    }


def _effective(client: EngineClient) -> dict[str, str]:
    names = ["mark_cache_size", "primary_index_cache_size", "query_condition_cache_size", "uncompressed_cache_size",
             "max_server_memory_usage", "max_thread_pool_free_size"]  # fmt: skip
    rows = client.query("SELECT name, value FROM system.server_settings WHERE name IN {n:Array(String)}", {"n": names})
    out = dict(rows.rows)
    tree = client.query("SELECT name, value FROM system.merge_tree_settings WHERE name IN {n:Array(String)}",
                        {"n": ["concurrent_part_removal_threshold", "old_parts_lifetime"]})  # fmt: skip
    out.update({f"merge_tree.{k}": v for k, v in tree.rows})
    stats = client.query("SELECT stats FROM system.jemalloc_stats").rows[0][0]
    for line in stats.splitlines():
        line = line.strip()
        if line.startswith(("opt.dirty_decay_ms:", "opt.muzzy_decay_ms:")):
            name, value = line.split(":", 1)
            out[name] = value.split()[0]
    return out


@pytest.mark.slow
@pytest.mark.own_processes
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {},
            {"mark_cache_size": str(64 * MB), "primary_index_cache_size": str(64 * MB),
             "query_condition_cache_size": str(16 * MB), "uncompressed_cache_size": "0",
             "merge_tree.concurrent_part_removal_threshold": str(PART_REMOVAL_THRESHOLD),
             "opt.dirty_decay_ms": "1000", "opt.muzzy_decay_ms": "1000"},
        ),
        (
            {"CHDB_MARK_CACHE_MB": "8", "CHDB_PRIMARY_INDEX_CACHE_MB": "4", "CHDB_QUERY_CONDITION_CACHE_MB": "2",
             "CHDB_UNCOMPRESSED_CACHE_MB": "32", "CHDB_MAX_SERVER_MEMORY_MB": "3072",
             "CHDB_SERVER_SETTINGS": "max_thread_pool_free_size=64,merge_tree.old_parts_lifetime=60",
             "CHDB_JEMALLOC_CONF": "dirty_decay_ms:2500,muzzy_decay_ms:0"},
            {"mark_cache_size": str(8 * MB), "primary_index_cache_size": str(4 * MB),
             "query_condition_cache_size": str(2 * MB), "uncompressed_cache_size": str(32 * MB),
             "max_server_memory_usage": str(3072 * MB), "max_thread_pool_free_size": "64",
             "merge_tree.old_parts_lifetime": "60", "opt.dirty_decay_ms": "2500", "opt.muzzy_decay_ms": "0"},
        ),
    ],
    ids=["defaults", "overrides"],
)  # fmt: skip
def test_the_engine_of_a_real_server_runs_with_the_configured_bounds(tmp_path, extra, expected):
    port = free_port()
    env = server_env(tmp_path, port, **extra)
    manage(env, "migrate", "--noinput", "-v", "0")
    proc = start_server(env)
    try:
        wait_healthy(proc, port, path="/_readyz")
        address = engine_address(str((tmp_path / "clickhouse").resolve()))
        secret = Path(env["SECRET_KEY_FILE"]).read_text().strip() if env.get("SECRET_KEY_FILE") else env["SECRET_KEY"]
        client = EngineClient(address, engine_authkey(secret))
        effective = _effective(client)
        client.close()
    finally:
        kill(proc, signal.SIGTERM)
    assert {name: effective.get(name) for name in expected} == expected
    if not extra:  # chDB's own limit when none is set: 90% of the machine's memory, far above any bound here
        assert int(effective["max_server_memory_usage"]) > 3072 * MB
    written = (tmp_path / "chdb-config.xml").read_text()
    assert written.startswith("<clickhouse>")
    log = (tmp_path / "server.log").read_text()
    assert "chDB was loaded before its jemalloc options were set" not in log
