"""Encoders that produce what each PostHog SDK generation sends, and envelope comparison helpers."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import lz4.frame
import orjson
from lzstring import LZString


@dataclass(frozen=True)
class Encoded:
    method: str
    query: str = ""
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


def js_string(text: str) -> str:
    """A Python str holding the UTF-16 code units a JavaScript string has (what lz-string compresses)."""
    raw = text.encode("utf-16-le")
    return "".join(chr(int.from_bytes(raw[i : i + 2], "little")) for i in range(0, len(raw), 2))


def lz64(json_bytes: bytes) -> str:
    """posthog-js's `LZString.compressToBase64(JSON.stringify(...))`."""
    return LZString().compressToBase64(js_string(json_bytes.decode()))


ENCODINGS: dict[str, Callable[[bytes], Encoded]] = {
    "json": lambda j: Encoded("POST", body=j),
    "text_plain": lambda j: Encoded("POST", body=j, content_type="text/plain"),
    "gzip_query_hint": lambda j: Encoded("POST", "compression=gzip", gzip.compress(j), "text/plain"),
    "gzip_js_query_hint": lambda j: Encoded("POST", "compression=gzip-js", gzip.compress(j), "text/plain"),
    "gzip_content_encoding": lambda j: Encoded(
        "POST", body=gzip.compress(j), headers={"HTTP_CONTENT_ENCODING": "gzip"}
    ),
    "gzip_magic_no_hint": lambda j: Encoded("POST", body=gzip.compress(j), content_type="text/plain"),
    "base64_body": lambda j: Encoded("POST", body=_b64(j).encode(), content_type="text/plain"),
    "base64_query_hint": lambda j: Encoded("POST", "compression=base64", _b64(j).encode(), "text/plain"),
    "form_json": lambda j: Encoded(
        "POST", body=b"data=" + quote_plus(j).encode(), content_type="application/x-www-form-urlencoded"
    ),
    # posthog-js without gzip: base64 in a form, `+` left unescaped (form decoding turns it into a space)
    "form_base64_unescaped_plus": lambda j: Encoded(
        "POST",
        body=f"data={_b64(j)}&compression=base64".encode(),
        content_type="application/x-www-form-urlencoded",
    ),
    "form_base64": lambda j: Encoded(
        "POST", body=f"data={quote(_b64(j), safe='')}".encode(), content_type="application/x-www-form-urlencoded"
    ),
    "form_lz64": lambda j: Encoded(
        "POST",
        body=f"data={quote(lz64(j), safe='')}&compression=lz64".encode(),
        content_type="application/x-www-form-urlencoded",
    ),
    "get_json": lambda j: Encoded("GET", "data=" + quote(j, safe="")),
    "get_base64_no_padding": lambda j: Encoded("GET", "data=" + quote(_b64(j).rstrip("="), safe="")),
    "get_lz64": lambda j: Encoded("GET", f"compression=lz64&data={quote(lz64(j))}"),
    "lz4_content_encoding": lambda j: Encoded(
        "POST", body=lz4.frame.compress(j), headers={"HTTP_CONTENT_ENCODING": "lz4"}
    ),
    "lz4_query_hint": lambda j: Encoded("POST", "compression=lz4", lz4.frame.compress(j)),
}


def send(client: Any, path: str, encoded: Encoded, **extra: str) -> Any:
    url = f"{path}?{encoded.query}" if encoded.query else path
    headers = {**encoded.headers, **extra}
    if encoded.method == "GET":
        return client.get(url, **headers)
    return client.generic("POST", url, encoded.body, content_type=encoded.content_type, **headers)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
