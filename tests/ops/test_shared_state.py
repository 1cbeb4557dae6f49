"""What is kept "in the cache" is shared by the web processes of the default server (`manage.py serve`,
WEB_CONCURRENCY=2): the embedded default's diskcache, and Redis (CACHE_URL) in scale mode. Each check sends
its requests over keep-alive connections held by *both* web processes (found through /proc: which process
holds the server side of each connection), so a per-process answer could not hide:

- an async query's status, polled 20 times alternately through both processes, is 200 with the same result
  every time (and never 404 while it runs);
- a cancelled async query stays gone in both processes, whichever process ran it;
- a rate of N per minute (local evaluation's, set to 60) admits exactly N requests across both processes,
  not twice as many;
- a flag change made through one process is answered by both from the next request on.
"""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.server import free_port, kill, manage, server_env, start_server
from tests.conftest import require_service
from tests.ops.scale import django_database, redis_client

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
# A Redis DB no other test uses (2, 3 and 9-15 are taken); the run's own CACHE_URL when it is on Redis.
REDIS_CACHE_DB = 8
RATE = 60  # RATE_LIMIT_LOCAL_EVALUATION, per minute and personal API key (PostHog's is 600)


def _established_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server side of the TCP connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if (
            state == "01"
            and int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    return None


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def serving_pid(master: int, server_port: int, connection: http.client.HTTPConnection) -> int | None:
    """The web process (a child of ``master``) holding the server side of ``connection``."""
    inode = _established_inode(server_port, connection.sock.getsockname()[1])
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in _children(master):
        fds = Path(f"/proc/{pid}/fd")
        try:
            if any(os.readlink(fd) == target for fd in fds.iterdir()):
                return pid
        except OSError:  # a descriptor closed while listed
            continue
    return None


@dataclass
class Server:
    port: int
    master: int
    token: str
    key: str
    var_env: dict[str, str]
    connections: dict[int, list[http.client.HTTPConnection]] = field(default_factory=dict)

    def request(
        self, connection: http.client.HTTPConnection, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if key is not False:
            headers["Authorization"] = f"Bearer {key or self.key}"
        connection.request(method, path, body=orjson.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        return response.status, orjson.loads(content) if content else None

    def connections_per_process(self, each: int) -> list[list[http.client.HTTPConnection]]:
        """``each`` open keep-alive connections held by each of the two web processes."""
        by_pid: dict[int, list[http.client.HTTPConnection]] = {}
        for _ in range(200):
            if len(by_pid) == 2 and all(len(held) >= each for held in by_pid.values()):
                break
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            assert self.request(connection, "GET", "/_health", key=False)[0] == 200
            pid = serving_pid(self.master, self.port, connection)
            if pid is not None and len(by_pid.setdefault(pid, [])) < each:
                by_pid[pid].append(connection)
            else:
                connection.close()
        assert len(by_pid) == 2 and all(len(held) >= each for held in by_pid.values()), {
            pid: len(held) for pid, held in by_pid.items()
        }
        return list(by_pid.values())


@pytest.fixture(scope="module", params=["embedded", "redis"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var_dir = tmp_path_factory.mktemp(f"shared-{request.param}")
    extra = {}
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)
        run_cache = os.environ.get("CACHE_URL", "")
        extra["CACHE_URL"] = (
            run_cache if run_cache.startswith("redis://") else f"redis://127.0.0.1:6379/{REDIS_CACHE_DB}"
        )
        if not run_cache.startswith("redis://"):  # an earlier run's cached query results would answer 200, not 202
            redis_client(REDIS_CACHE_DB).flushdb()
    port = free_port()
    with django_database(var_dir) as database_url:
        env = server_env(
            var_dir, port, WEB_CONCURRENCY="2", DATABASE_URL=database_url,
            RATE_LIMIT_LOCAL_EVALUATION=f"{RATE}/minute", **extra,
        )  # fmt: skip
        manage(env, "migrate", "--noinput", "-v", "0")
        keys = orjson.loads(manage(env, "bootstrap", "--json"))
        proc = start_server(env)
        try:
            yield Server(port, proc.pid, keys["project_api_key"], keys["personal_api_key"], env)
            assert proc.poll() is None, "the server died"
        finally:
            kill(proc)


def test_async_query_status_is_the_same_from_both_processes(server: Server) -> None:
    first, second = server.connections_per_process(1)
    query = {"kind": "HogQLQuery", "query": "SELECT count() FROM numbers(30000000) WHERE sipHash64(number) = 1"}
    code, started = server.request(first[0], "POST", "/api/projects/@current/query/", {"query": query, "async": True})
    assert code == 202, started
    path = f"/api/projects/@current/query/{started['query_status']['id']}/"
    polls, deadline = [], time.monotonic() + 60
    while not polls or polls[-1][0] != 200:  # while it runs, both processes see it running
        assert time.monotonic() < deadline, polls[-5:]
        polls.append(server.request((first, second)[len(polls) % 2][0], "GET", path))
        assert polls[-1][0] in (200, 202), polls[-1]
        time.sleep(0.1)
    answers = [server.request((first, second)[i % 2][0], "GET", path) for i in range(20)]
    assert [code for code, _ in answers] == [200] * 20
    results = {orjson.dumps(body["query_status"]["results"]["results"]) for _, body in answers}
    assert len(results) == 1 and all(body["query_status"]["complete"] for _, body in answers)


def test_a_cancelled_async_query_stays_gone_in_both_processes(server: Server) -> None:
    first, second = server.connections_per_process(1)
    query = {"kind": "HogQLQuery", "query": "SELECT count() FROM numbers(60000000) WHERE sipHash64(number) = 1"}
    code, started = server.request(first[0], "POST", "/api/projects/@current/query/", {"query": query, "async": True})
    assert code == 202, started
    path = f"/api/projects/@current/query/{started['query_status']['id']}/"
    assert server.request(second[0], "DELETE", path)[0] == 204  # cancelled through the process not running it
    deadline = time.monotonic() + 6  # long enough for the run to finish in the first process
    while time.monotonic() < deadline:
        assert [server.request(c[0], "GET", path)[0] for c in (first, second)] == [404, 404]
        time.sleep(0.5)


def test_a_rate_of_n_per_minute_admits_n_across_both_processes(server: Server) -> None:
    """A fresh key (nothing counted yet) asks for the local-evaluation definitions 1.5 × N times from 8
    connections, 4 held by each process: exactly N are admitted, the rest are 429. (All within one
    minute window: a window that ends meanwhile would rightly admit more as it slides.)"""
    key = manage(server.var_env, "create_personal_api_key", "--email", _email(server), "--scopes", "*").strip()
    if time.time() % 60 > 45:  # the windows are wall-clock minutes: start with 15 s or more of one ahead
        time.sleep(60.2 - time.time() % 60)
    connections = [c for held in server.connections_per_process(4) for c in held]  # (idle ones close in 5 s)
    per_connection = RATE * 3 // 2 // len(connections)
    path = f"/api/feature_flag/local_evaluation/?token={server.token}"

    def send(connection: http.client.HTTPConnection) -> list[int]:
        return [server.request(connection, "GET", path, key=key)[0] for _ in range(per_connection)]

    with ThreadPoolExecutor(max_workers=len(connections)) as pool:
        codes = [code for batch in pool.map(send, connections) for code in batch]
    assert (codes.count(200), codes.count(429), len(codes)) == (RATE, len(codes) - RATE, per_connection * 8)


def test_a_flag_change_through_one_process_is_seen_by_both_at_once(server: Server) -> None:
    first, second = server.connections_per_process(1)
    code, flag = server.request(
        first[0], "POST", "/api/projects/@current/feature_flags/",
        {"key": "shared-flag", "filters": {"groups": [{"rollout_percentage": 100}]}},
    )  # fmt: skip
    assert code == 201, flag
    decide = {"token": server.token, "distinct_id": "someone"}

    def enabled(connection: http.client.HTTPConnection) -> Any:
        code, body = server.request(connection, "POST", "/decide/?v=3", decide, key=False)
        assert code == 200, body
        return body["featureFlags"].get("shared-flag", False)

    for active in (False, True, False):
        assert {enabled(c[0]) for c in (first, second) for _ in range(3)} == {not active}  # both have it cached
        code, _ = server.request(
            second[0], "PATCH", f"/api/projects/@current/feature_flags/{flag['id']}/", {"active": active}
        )
        assert code == 200
        assert [enabled(c[0]) for c in (first, second, first, second)] == [active] * 4


def _email(server: Server) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    code, me = server.request(connection, "GET", "/api/users/@me/")
    connection.close()
    assert code == 200, me
    return me["email"]
