"""posthog_clone.sdk.decoding, table-driven (capture vectors 25 and 26, lz-string parity, the §2 order)."""

from __future__ import annotations

import base64
import gzip
import random
import string

import lz4.frame
import pytest
from lzstring import LZString

from posthog_clone.sdk.decoding import (
    compression_name,
    decode_payload,
    decode_request,
    gunzip,
    lz_string_decompress_base64,
)
from posthog_clone.sdk.errors import SDKError
from tests.capture.helpers import js_string, lz64

EVENT = {"event": "x", "properties": {"distinct_id": "a+b/c", "s": "ü😀"}}
JSON = b'{"event":"x","properties":{"distinct_id":"a+b/c","s":"\xc3\xbc\xf0\x9f\x98\x80"}}'
B64 = base64.b64encode(JSON).decode()


def decode(body=b"", query=None, ct="", ce="", legacy=False, max_bytes=10**6, form=None):
    return decode_payload(
        body=body,
        query=query or {},
        form=form,
        content_type=ct,
        content_encoding=ce,
        legacy=legacy,
        max_bytes=max_bytes,
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("gzip", "gzip"),
        ("gzip-js", "gzip"),
        ("GZIP", "gzip"),
        ("lz64", "lz64"),
        ("lz-string", "lz64"),
        ("base64", "base64"),
        ("b64", "base64"),
        ("lz4", "lz4"),
        ("unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_v25_compression_names(value, expected):
    assert compression_name(value) == expected


def test_v26_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * 64 * 1024)
    with pytest.raises(SDKError) as caught:
        gunzip(bomb, 1024)
    assert (caught.value.status, caught.value.code) == (413, "request_too_large")
    exact = gzip.compress(b"a" * 1024)
    assert gunzip(exact, 1024) == b"a" * 1024
    with pytest.raises(SDKError):
        gunzip(gzip.compress(b"a" * 1025), 1024)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": JSON, "ct": "application/json"},
        {"body": JSON, "ct": "text/plain"},
        {"body": gzip.compress(JSON)},  # magic bytes, no hint
        {"body": gzip.compress(JSON), "query": {"compression": "gzip-js"}},
        {"body": gzip.compress(JSON), "ce": "gzip"},
        {"body": base64.b64encode(gzip.compress(JSON)), "query": {"compression": "gzip"}},
        {"body": B64.encode()},
        {"body": B64.rstrip("=").encode(), "legacy": True},
        {"body": B64.encode(), "query": {"compression": "b64"}},
        {"body": base64.b64encode(B64.encode()), "legacy": True},  # legacy paths unwrap twice
        {"body": f"data={B64}&compression=base64".encode(), "ct": "application/x-www-form-urlencoded"},
        {"body": f"data={B64}".encode(), "ct": "text/plain"},  # a form body whatever the type
        {"body": b"", "form": {"data": B64.replace("+", " "), "compression": "base64"}},
        {"body": f"compression=lz64&data={lz64(JSON)}".encode(), "ct": "application/x-www-form-urlencoded"},
        {"body": lz64(JSON).encode(), "query": {"compression": "lz-string"}},
        {"query": {"data": B64.replace("+", " ")}},
        {"query": {"data": JSON.decode()}},
        {"query": {"data": lz64(JSON).replace("+", " "), "compression": "lz64"}},
        {"body": b"ignored", "query": {"data": JSON.decode()}},
        {"body": lz4.frame.compress(JSON), "ce": "lz4"},
        {"body": lz4.frame.compress(JSON), "query": {"compression": "LZ4"}},
    ],
)
def test_every_encoding_decodes_to_the_same_json(kwargs):
    assert decode(**kwargs) == EVENT


def test_form_fields_next_to_data_are_returned():
    decoded = decode_request(
        body=f"data={B64}&api_key=phc_x&sent_at=2024-01-01T00:00:00Z".encode(),
        query={},
        form=None,
        content_type="application/x-www-form-urlencoded",
        content_encoding="",
        legacy=False,
        max_bytes=10**6,
    )
    assert decoded.payload == EVENT
    assert decoded.form["api_key"] == "phc_x"


@pytest.mark.parametrize(
    "kwargs, status, detail_start",
    [
        ({"body": b""}, 400, "No data found."),
        ({"body": b"  \n"}, 400, "No data found."),
        ({"query": {"data": ""}}, 400, "No data found."),
        ({"body": gzip.compress(JSON)[:-6]}, 400, "Malformed request data: Failed to decompress data."),
        ({"body": b"\x1f\x8b\x08garbage"}, 400, "Malformed request data: Failed to decompress data."),
        ({"body": JSON, "query": {"compression": "gzip"}}, 400, "Malformed request data: Failed to decompress data."),
        ({"body": b"!!!", "query": {"compression": "lz64"}}, 400, "Malformed request data: Failed to decompress data."),
        (
            {"body": b"AAAA", "query": {"compression": "lz64"}},
            400,
            "Malformed request data: Failed to decompress data.",
        ),
        (
            {"body": b"%%%", "query": {"compression": "base64"}},
            400,
            "Malformed request data: Failed to decompress data.",
        ),
        ({"body": b"\x04\x22\x4d\x18garbage", "ce": "lz4"}, 400, "Malformed request data: Failed to decompress data."),
        (
            {"body": lz4.frame.compress(JSON)[:-8], "ce": "lz4"},
            400,
            "Malformed request data: Failed to decompress data.",
        ),
        ({"body": b"\xff\xfe\x00{"}, 400, "Malformed request data: Invalid JSON:"),
        ({"body": b'{"event": "x",}'}, 400, "Malformed request data: Invalid JSON:"),
        ({"body": b"undefined"}, 400, "Malformed request data: Invalid JSON:"),
        ({"body": b"[" * 10_000 + b"]" * 10_000}, 400, "Malformed request data: Invalid JSON:"),
        ({"body": b"x" * 2000, "max_bytes": 1000}, 413, "Request too large."),
        ({"body": gzip.compress(b" " * 5000), "max_bytes": 1000}, 413, "Request too large."),
        ({"body": lz4.frame.compress(b" " * 5000), "ce": "lz4", "max_bytes": 1000}, 413, "Request too large."),
        (
            {
                "body": LZString().compressToBase64("a" * 50_000).encode(),
                "query": {"compression": "lz64"},
                "max_bytes": 1000,
            },
            413,
            "Request too large.",
        ),
    ],
)
def test_bad_payloads_are_4xx(kwargs, status, detail_start):
    with pytest.raises(SDKError) as caught:
        decode(**kwargs)
    assert caught.value.status == status
    assert caught.value.detail.startswith(detail_start)


def test_nan_and_infinity_read_as_null():
    assert decode(body=b'{"a": NaN, "b": Infinity, "c": -Infinity}') == {"a": None, "b": None, "c": None}


def test_lz_string_matches_the_lzstring_package_and_javascript_utf16():
    rng = random.Random(7)
    for _ in range(200):
        text = "".join(rng.choice(string.printable + "éü中😀") for _ in range(rng.randint(1, 400)))
        compressed = LZString().compressToBase64(js_string(text))
        assert lz_string_decompress_base64(compressed.encode(), 10**6) == text
        bmp = text.replace("😀", "")
        compressed = LZString().compressToBase64(bmp)
        assert lz_string_decompress_base64(compressed.encode(), 10**6) == LZString().decompressFromBase64(compressed)
