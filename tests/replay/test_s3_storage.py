"""Scale mode's blob storage against a real S3-compatible server: moto's server mode, in its own process
(issue 27 acceptance 3). The same tests as the embedded file storage, and the `/s/` path end to end."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import orjson
import pytest

from ingestion.worker import flush
from replay.storage import FileStorage, S3Storage, get_storage, storage_from_url
from tests.conftest import service_reachable
from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not service_reachable("127.0.0.1", port):
            assert process.poll() is None, "moto server exited"
            assert time.monotonic() < deadline, "moto server did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def s3_url(s3_server, monkeypatch, settings) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bucket = f"replay-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/recordings?endpoint_url={s3_server}&region=us-east-1"
    settings.REPLAY_STORAGE_URL = url
    return url


def _exercise(storage) -> None:
    storage.write("1/2024-07-01/a.jsonl", b"line one\nline two\n")
    storage.write("1/2024-07-02/b.jsonl", b"x" * 10)
    storage.write("2/2024-07-01/c.jsonl", b"other project")
    assert storage.read("1/2024-07-01/a.jsonl", 0, 9) == b"line one\n"
    assert storage.read("1/2024-07-01/a.jsonl", 9, 18) == b"line two\n"
    assert storage.list_prefixes("1/") == ["1/2024-07-01/", "1/2024-07-02/"]
    assert storage.delete_prefix("1/2024-07-01/") == 1
    assert storage.list_prefixes("1/") == ["1/2024-07-02/"]
    assert storage.read("2/2024-07-01/c.jsonl", 6, 13) == b"project"


def test_s3_storage(s3_url):
    storage = storage_from_url(s3_url)
    assert isinstance(storage, S3Storage)
    _exercise(storage)


def test_file_storage_behaves_the_same(tmp_path: Path):
    storage = storage_from_url(f"file://{tmp_path}")
    assert isinstance(storage, FileStorage)
    _exercise(storage)


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_snapshots_through_s3_end_to_end(project, s3_url):
    assert isinstance(get_storage(), S3Storage)
    items = session_events(now_ms() - 60_000, seconds=30, clicks=3)
    assert post_snapshots([snapshot(project.team.api_token, "s3-session", items)]).status_code == 200
    flush()
    base = f"/api/environments/{project.team.pk}/session_recordings/s3-session"
    assert project.client().get(f"{base}/").json()["click_count"] == 3
    lines = project.client().get(f"{base}/snapshots/", {"source": "blob_v2", "start_blob_key": 0, "end_blob_key": 0})
    assert [orjson.loads(line)[1] for line in lines.content.split(b"\n")] == items
    bucket = s3_url.split("/")[2]
    keys = [o["Key"] for o in get_storage().client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith(f"recordings/{project.team.pk}/")
