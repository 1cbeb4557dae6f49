"""Where snapshot blobs live, chosen by ``REPLAY_STORAGE_URL``: files under a directory (the embedded
default, ``VAR_DIR/replay``) or an S3-compatible bucket (``s3://bucket/prefix?endpoint_url=…&region=…``, the
credentials from the usual AWS_* variables or the URL's ``access_key``/``secret_key``).

Both take whole objects (one per ingestion batch, project and day: ``replay.ingestion``) and read byte ranges
of them; an object is written whole or not at all (a temporary file renamed, or one PUT), so a crash leaves no
half blob that rows point to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from django.conf import settings


class StorageError(Exception):
    """A blob could not be written or read (retryable: the batch is replayed)."""


class BlobStorage(Protocol):
    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str, start: int, end: int) -> bytes: ...  # [start, end)
    def delete_prefix(self, prefix: str) -> int: ...
    def list_prefixes(self, prefix: str) -> list[str]: ...


class FileStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"bad blob key {key!r}")
        return path

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(str(exc)) from exc

    def read(self, key: str, start: int, end: int) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                handle.seek(start)
                return handle.read(end - start)
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(prefix.rstrip("/"))
        if not path.exists():
            return 0
        count = sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 1
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        return count

    def list_prefixes(self, prefix: str) -> list[str]:
        path = self._path(prefix.rstrip("/")) if prefix else self.root
        if not path.is_dir():
            return []
        return sorted(f"{prefix}{child.name}/" for child in path.iterdir() if child.is_dir())


class S3Storage:
    def __init__(self, bucket: str, prefix: str, options: dict[str, str]):
        import boto3  # only scale mode pays for importing it
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._options = options
        self._local = threading.local()
        self._make = lambda: boto3.session.Session().client(
            "s3",
            endpoint_url=options.get("endpoint_url") or None,
            region_name=options.get("region") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_access_key_id=options.get("access_key") or None,
            aws_secret_access_key=options.get("secret_key") or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}),
        )

    @property
    def client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make()
        return client

    def _call(self, name: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, name)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc

    def write(self, key: str, data: bytes) -> None:
        self._call("put_object", Key=self.prefix + key, Body=data)

    def read(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        reply = self._call("get_object", Key=self.prefix + key, Range=f"bytes={start}-{end - 1}")
        return reply["Body"].read()

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        for page in self._pages(prefix, delimiter=False):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self._call("delete_objects", Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted

    def list_prefixes(self, prefix: str) -> list[str]:
        found = []
        for page in self._pages(prefix, delimiter=True):
            found += [p["Prefix"][len(self.prefix) :] for p in page.get("CommonPrefixes", [])]
        return sorted(found)

    def _pages(self, prefix: str, *, delimiter: bool) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        try:
            yield from self.client.get_paginator("list_objects_v2").paginate(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc


def storage_from_url(url: str) -> BlobStorage:
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("REPLAY_STORAGE_URL s3:// needs a bucket: s3://bucket/prefix")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return S3Storage(parts.netloc, parts.path, options)
    if parts.scheme in ("file", ""):
        return FileStorage(Path(parts.path or url))
    raise ValueError(f"REPLAY_STORAGE_URL: unknown scheme {parts.scheme!r} (file:// or s3://)")


@lru_cache(maxsize=4)
def _storage_for(url: str) -> BlobStorage:
    return storage_from_url(url)


def get_storage() -> BlobStorage:
    return _storage_for(settings.REPLAY_STORAGE_URL)
