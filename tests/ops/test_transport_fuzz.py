"""Raw-socket HTTP against a real server (`manage.py serve`, the embedded default's two web processes, under
granian and under gunicorn): bad chunk sizes, chunked and Content-Length bodies cut short, conflicting
framing, oversized headers, slow and stalled bodies, garbage request lines and seeded random mutations of
valid requests, on every capture path, /flags, /decide and API parsers. No answer is ever a 5xx (nor
Django's HTML error page), nothing is logged as a server error, and the server keeps serving afterwards.
About 25 s for both servers, their start included. (In process, per exception class of each server:
tests/ops/test_body_transport.py.)"""

from __future__ import annotations

import random
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from bench.server import free_port, kill, manage, server_env, start_server
from posthog_clone.sdk.errors import NO_DATA_DETAIL, unreadable_body

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]

CAPTURE_PATHS = ["/e/", "/e", "/batch/", "/batch", "/i/v0/e/", "/capture/", "/track/", "/engage/"]
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


@dataclass
class Server:
    port: int
    token: str
    key: str
    log: Path
    kind: str


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The default server, under each HTTP server `serve` can run (WEB_SERVER)."""
    var_dir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    port = free_port()
    env = server_env(var_dir, port, WEB_CONCURRENCY="2", WEB_THREADS="8", WEB_SERVER=request.param)
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = orjson.loads(manage(env, "bootstrap", "--json"))
    proc = start_server(env)
    try:
        yield Server(port, keys["project_api_key"], keys["personal_api_key"], var_dir / "server.log", request.param)
        assert proc.poll() is None, "the server died"
    finally:
        kill(proc)


@dataclass
class Case:
    name: str
    data: bytes  # sent at once
    trickle: tuple[bytes, ...] = ()  # then sent piece by piece, `pause` apart
    pause: float = 0.0
    close_write: bool = False  # then close the write side (a body cut short: the server sees its end)


def _response_complete(received: bytes) -> bool:
    """One whole response is in (its head and its Content-Length body or last chunk)."""
    head_end = received.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head, body = received[:head_end].lower(), received[head_end + 4 :]
    if (length := re.search(rb"\r\ncontent-length: *(\d+)", head)) is not None:
        return len(body) >= int(length.group(1))
    return b"transfer-encoding: chunked" in head and body.endswith(b"0\r\n\r\n")


def _read(sock: socket.socket, received: bytes, patience: float) -> tuple[bytes, bool]:
    """Read until one whole response is in, the server closes, or ``patience`` passes; (bytes, closed)."""
    deadline = time.monotonic() + patience
    while not _response_complete(received) and (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:  # reset
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def exchange(port: int, case: Case, patience: float = 0.75) -> bytes:
    """Send the case and read the first answer. A server that is still waiting for the rest of a request
    after ``patience`` (a mutation cut the body short) sees the write side closed, and gets as long again."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(case.data)
            for piece in case.trickle:
                time.sleep(case.pause)
                sock.sendall(piece)
            if case.close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may answer (400, 431…) and close before the request is all sent
            pass
        received, closed = _read(sock, b"", patience if not case.close_write else 3 * patience)
        if not received and not closed and not case.close_write:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                return received
            received, _ = _read(sock, received, patience)
        return received


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def malformed_cases(server: Server) -> list[Case]:
    event = orjson.dumps({"api_key": server.token, "event": "fuzz", "distinct_id": "d"})
    auth = f"Authorization: Bearer {server.key}"
    targets = [(p, ()) for p in CAPTURE_PATHS] + [
        ("/flags/?v=2", ()),
        ("/decide/?v=3", ()),
        ("/api/projects/@current/annotations/", (auth,)),
        ("/api/projects/@current/query/", (auth,)),
        ("/api/projects/@current/feature_flags/", (auth,)),
    ]
    cases = []
    for path, extra in targets:
        chunked = head("POST", path, "Content-Type: application/json", "Transfer-Encoding: chunked", *extra)

        def sized(length: object, *more: str, path: str = path, extra: tuple = extra) -> bytes:
            return head("POST", path, "Content-Type: application/json", f"Content-Length: {length}", *extra, *more)

        n = len(event)
        pieces = tuple(event[i : i + 8] for i in range(0, n, 8))
        cases += [
            Case(f"{path} chunk size ZZZ", chunked + b"ZZZ\r\n{}\r\n0\r\n\r\n"),
            Case(f"{path} chunk size negative", chunked + b"-5\r\n{}\r\n0\r\n\r\n"),
            Case(f"{path} chunk size huge", chunked + b"FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n"),
            Case(f"{path} chunk extension garbage", chunked + b"2;\x00\x01\r\n{}\r\n0\r\n\r\n"),
            Case(f"{path} chunk without terminator", chunked + b"2\r\n{}XX0\r\n\r\n"),
            Case(f"{path} chunked cut short", chunked + b"64\r\n" + event[:12], close_write=True),
            Case(f"{path} chunked no last chunk", chunked + b"%x\r\n" % n + event + b"\r\n", close_write=True),
            Case(f"{path} content-length cut short", sized(n + 50) + event, close_write=True),
            Case(f"{path} content-length not a number", sized("abc") + event),
            Case(f"{path} content-length negative", sized(-1) + event),
            Case(f"{path} both framings", sized(n, "Transfer-Encoding: chunked") + event),
            Case(f"{path} two content-lengths", sized(n, "Content-Length: 3") + event),
            Case(f"{path} gzip claimed, not sent", sized(n, "Content-Encoding: gzip") + event),
            Case(f"{path} slow body", sized(n), trickle=pieces, pause=0.05),
            Case(f"{path} stalled then gone", sized(n + 100) + event[:5], (event[5:10],), 1.0, close_write=True),
        ]
    cases += [
        Case("garbage request line", b"GARBAGE\r\n\r\n"),
        Case("binary request line", bytes(range(256)) + b"\r\n\r\n"),
        Case("tls hello", bytes.fromhex("160301020001000000") + b"\x00" * 64),
        Case("http/9.9", b"POST /e/ HTTP/9.9\r\nHost: x\r\n\r\n"),
        Case("no host", b"POST /batch/ HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"),
        Case("lf only", b"POST /batch/ HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\n\n{}"),
        Case("oversized request line", b"GET /e/?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        Case("oversized header", head("POST", "/batch/", "X-Big: " + "b" * 20_000, "Content-Length: 2") + b"{}"),
        Case("too many headers", head("POST", "/e/", *[f"X-H{i}: v" for i in range(300)], "Content-Length: 2") + b"{}"),
        Case("header without colon", head("POST", "/e/", "NoColonHere", "Content-Length: 2") + b"{}"),
        Case("obsolete folding", head("POST", "/e/", "X-A: a", " folded", "Content-Length: 2") + b"{}"),
        Case("nul in path", b"GET /e/\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        Case("slow headers", b"POST /e/ HTTP/1.1\r\n", trickle=(b"Host: 127.0.0.1\r\n", b"X-A: 1\r\n\r\n"), pause=0.3),
    ]  # fmt: skip
    return cases


def mutated_cases(server: Server, count: int, seed: int = 26) -> list[Case]:
    """Valid capture and flags requests with random bytes flipped, inserted, deleted or cut off."""
    rng = random.Random(seed)
    batch = orjson.dumps({"api_key": server.token, "batch": [{"event": "fuzz", "distinct_id": "d"}] * 3})
    valid = [
        head("POST", path, "Content-Type: application/json", f"Content-Length: {len(batch)}") + batch
        for path in [*CAPTURE_PATHS, "/flags/?v=2", "/decide/?v=3"]
    ] + [
        head("POST", "/batch/", "Transfer-Encoding: chunked") + b"%x\r\n" % len(batch) + batch + b"\r\n0\r\n\r\n",
    ]
    cases = []
    for i in range(count):
        data = bytearray(rng.choice(valid))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            match rng.randrange(4):
                case 0:
                    data[at] = rng.randrange(256)
                case 1:
                    data[at:at] = rng.choice([b"\r\n", b"\x00", b":", b" ", b"0", b"\xff", b"{"])
                case 2:
                    del data[at : at + rng.randint(1, 8)]
                case _:
                    del data[at:]
        cases.append(Case(f"mutation {i}", bytes(data)))
    return cases


def statuses(received: bytes) -> list[int]:
    return [int(code) for code in STATUS.findall(received)]


def test_malformed_transport_never_gets_a_5xx_and_the_server_keeps_serving(server: Server) -> None:
    cases = malformed_cases(server) + mutated_cases(server, 200)
    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda case: (case, exchange(server.port, case)), cases))
    seen: dict[int, int] = {}
    for case, received in answers:
        codes = statuses(received)
        for code in codes:
            seen[code] = seen.get(code, 0) + 1
        assert all(code < 500 for code in codes), (case.name, received[:600])
        assert b"Server Error" not in received and b"Traceback" not in received, (case.name, received[:600])
    assert seen.get(400, 0) >= len(malformed_cases(server)) // 2, seen  # the malformed were refused, not ignored
    by_name = {case.name: statuses(received) for case, received in answers}
    for path in ("/batch/", "/e/"):  # the two requests: capture's JSON 400, not Django's HTML 500
        for name in (f"{path} chunk size ZZZ", f"{path} chunked cut short"):
            assert by_name[name][:1] == [400], (name, by_name[name])

    # nothing logged as a server error (a refused Host is Django's security log, at error level, with a 400)
    errors = [
        line
        for line in server.log.read_text().splitlines()
        if ("[ERROR]" in line or '"level":"error"' in line or "Internal Server Error" in line)
        and "django.security.DisallowedHost" not in line
    ]
    assert not errors, errors[:5]
    # still serving: a valid batch from each of several connections (both web processes) and /flags
    batch = orjson.dumps({"api_key": server.token, "batch": [{"event": "after", "distinct_id": "d"}]})
    for _ in range(6):
        valid = Case("valid", head("POST", "/batch/", f"Content-Length: {len(batch)}") + batch)
        ok = exchange(server.port, valid, patience=10)
        assert statuses(ok)[:1] == [200] and ok.endswith(b'{"status":1}'), ok[:600]
    flags = orjson.dumps({"token": server.token, "distinct_id": "d"})
    valid = Case("flags", head("POST", "/flags/?v=2", f"Content-Length: {len(flags)}") + flags)
    ok = exchange(server.port, valid, patience=10)
    assert statuses(ok)[:1] == [200], ok[:600]


def test_a_malformed_chunked_body_gets_capture_json_400(server: Server) -> None:
    """The issue's exact request, its whole answer: PostHog's error body with CORS, never HTML. (gunicorn
    hands the app the chunk error: the body could not be read; granian's hyper hands it an empty body.)"""
    received = exchange(
        server.port,
        Case("zzz", head("POST", "/batch/", "Content-Type: application/json", "Transfer-Encoding: chunked")
             + b"ZZZ\r\n{}\r\n0\r\n\r\n"),
        patience=10,
    )  # fmt: skip
    first, _, rest = received.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 400 "), received[:600]
    assert b"application/json" in first.lower() and b"access-control-allow-origin: *" in first.lower()
    body = orjson.loads(rest[: int(re.search(rb"(?i)content-length: (\d+)", first).group(1))])
    assert set(body) == {"type", "code", "detail", "attr"} and body["type"] == "validation_error", body
    unreadable = unreadable_body()
    assert (body["code"], body["detail"]) in {(unreadable.code, unreadable.detail), ("no_data", NO_DATA_DETAIL)}
