"""Strict readers for settings that come from the environment.

Every helper raises ``ImproperlyConfigured`` naming the variable when a value is malformed, so a bad
deployment stops at start-up instead of misbehaving later. Never use ``bool(os.environ[...])``.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_secret(name: str, default: str = "") -> str:
    """Read ``NAME`` or the file named by ``NAME_FILE`` (docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path!r}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected true/false/1/0, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}: must be >= {minimum}, got {value}")
    return value


def env_choice(name: str, choices: tuple[str, ...], *, default: str) -> str:
    raw = os.environ.get(name, "").strip().lower() or default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as ``480/minute``; ``off`` or ``none`` disables it."""
    raw = os.environ.get(name, default).strip()
    if raw.lower() in {"off", "none", ""}:
        return None
    num, _, period = raw.partition("/")
    if not num.isdigit() or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name}: expected '<n>/<second|minute|hour|day>', got {raw!r}")
    return raw


_SETTING_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")
_JEMALLOC_PAIR = re.compile(r"[a-z_]+:[A-Za-z0-9_.\-]+")


def env_server_settings(name: str) -> dict[str, str]:
    """ClickHouse server settings as comma-separated ``name=value`` pairs, dots for nested sections
    (``max_thread_pool_free_size=64,merge_tree.old_parts_lifetime=60``)."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in os.environ.get(name, "").split(",")):
        if not item:
            continue
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not _SETTING_NAME.fullmatch(key) or not value or any(c in value for c in "<>&"):
            raise ImproperlyConfigured(
                f"{name}: expected comma-separated setting=value pairs (dots for sections, e.g. "
                f"merge_tree.old_parts_lifetime=60), got {item!r}"
            )
        out[key] = value
    return out


def env_jemalloc_conf(name: str, default: str) -> str:
    """jemalloc options ``key:value,key:value`` (``dirty_decay_ms:1000``); set but empty: none."""
    raw = os.environ.get(name, default)
    value = raw.strip()
    if value and not all(_JEMALLOC_PAIR.fullmatch(pair.strip()) for pair in value.split(",")):
        raise ImproperlyConfigured(f"{name}: expected jemalloc options key:value,key:value, got {raw!r}")
    return ",".join(pair.strip() for pair in value.split(",")) if value else ""


# ClickHouse's join_algorithm values, for CHDB_QUERY_JOIN_ALGORITHM ("default" there: the setting is not sent)
JOIN_ALGORITHMS = ("default", "prefer_partial_merge", "partial_merge", "hash", "parallel_hash", "grace_hash",
                   "direct", "full_sorting_merge", "auto")  # fmt: skip


class ClickHouseBackend(enum.Enum):
    EMBEDDED = "chdb"
    SERVER = "http"


@dataclass(frozen=True)
class ClickHouseConfig:
    backend: ClickHouseBackend
    path: str = ""  # chDB data directory
    host: str = ""
    port: int = 8123
    username: str = "default"
    password: str = ""
    database: str = "default"
    secure: bool = False


def parse_clickhouse_url(name: str, url: str) -> ClickHouseConfig:
    """``chdb:///abs/path`` selects embedded chDB; ``http(s)://user:pass@host:port/db`` a server."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: malformed URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ImproperlyConfigured(f"{name}: expected chdb:///absolute/path, got {url!r}")
        return ClickHouseConfig(backend=ClickHouseBackend.EMBEDDED, path=path)
    if scheme in {"http", "https", "clickhouse"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name}: missing host in {url!r}")
        try:
            port = parts.port or (8443 if scheme == "https" else 8123)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: bad port in {url!r}") from exc
        database = parts.path.strip("/") or parse_qs(parts.query).get("database", ["default"])[0]
        return ClickHouseConfig(
            backend=ClickHouseBackend.SERVER,
            host=parts.hostname,
            port=port,
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=database,
            secure=scheme == "https",
        )
    raise ImproperlyConfigured(
        f"{name}: unknown scheme {parts.scheme!r} in {url!r}; use chdb:///path or http(s)://host:port/db"
    )


def parse_database_url(name: str, url: str) -> dict:
    import dj_database_url

    scheme = urlsplit(url).scheme.lower()
    allowed = {"sqlite", "postgres", "postgresql", "pgsql"}
    if scheme not in allowed:
        raise ImproperlyConfigured(
            f"{name}: unknown scheme {scheme!r} in {url!r}; use sqlite:///path or postgres://..."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60)
    except Exception as exc:  # dj-database-url raises several types
        raise ImproperlyConfigured(f"{name}: malformed URL {url!r}: {exc}") from exc
    if config.get("ENGINE", "").endswith("sqlite3"):
        config["OPTIONS"] = {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
        # kept open like PostgreSQL's (60 s): closing a WAL database's last connection after every request
        # checkpoints it, ~3 ms a request on /query/
    elif not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}: missing database name in {url!r}")
    return config


def parse_broker_url(name: str, url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"redis", "rediss", "amqp", "pyamqp", "memory"}:
        raise ImproperlyConfigured(f"{name}: unknown scheme {scheme!r} in {url!r}; use redis://host:6379/0")
    return url
