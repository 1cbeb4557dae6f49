"""flags.requests: decoding /flags bodies (posthog_clone.sdk's decoder) and picking out the fields."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory

from flags.requests import decode_flags_body, flags_request_from_payload
from posthog_clone.sdk.errors import SDKError

PAYLOAD = {"token": "phc_x", "distinct_id": "d1", "person_properties": {"plan": "pro+"}}
TEXT = json.dumps(PAYLOAD).encode()
B64 = base64.b64encode(TEXT)
FORM = "application/x-www-form-urlencoded"


def decode_body(body: bytes, *, content_type: str, compression: str) -> Any:
    """`compression` goes where each SDK puts it: `gzip` as Content-Encoding, the others as a query hint."""
    headers = {"HTTP_CONTENT_ENCODING": "gzip"} if compression == "gzip" else {}
    path = f"/flags/?v=2&compression={compression}" if compression and compression != "gzip" else "/flags/?v=2"
    return decode_flags_body(RequestFactory().post(path, body, content_type=content_type, **headers))


@pytest.mark.parametrize(
    ("body", "content_type", "compression"),
    [
        (TEXT, "application/json", ""),
        (TEXT, "text/plain", ""),
        (gzip.compress(TEXT), "text/plain", ""),  # posthog-js: gzip, no hint
        (gzip.compress(TEXT), "application/json", "gzip"),  # posthog-node/python: Content-Encoding gzip
        (gzip.compress(TEXT), "text/plain", "gzip-js"),
        (B64, "text/plain", "base64"),
        (B64.rstrip(b"="), "text/plain", "b64"),  # padding repaired
        (urlencode({"data": B64.decode(), "compression": "base64"}).encode(), FORM, ""),  # posthog-js 1.300
        (urlencode({"data": B64.decode()}).encode(), FORM, ""),
        (urlencode({"data": TEXT.decode()}).encode(), FORM, ""),
    ],
)
def test_decodes_every_sdk_encoding(body: bytes, content_type: str, compression: str) -> None:
    assert decode_body(body, content_type=content_type, compression=compression) == PAYLOAD


@pytest.mark.parametrize(
    ("body", "content_type", "compression", "code"),
    [
        (b"", "application/json", "", "no_data"),
        (b"{not json", "application/json", "", "invalid_payload"),
        (b"\x1f\x8b\x08garbage", "text/plain", "", "invalid_payload"),
        (b"!!!", "text/plain", "base64", "invalid_payload"),
        (b"\xff\xfe", "application/json", "", "invalid_payload"),
        (b"data=", FORM, "", "no_data"),
    ],
)
def test_undecodable_bodies_are_bad_requests(body: bytes, content_type: str, compression: str, code: str) -> None:
    with pytest.raises(SDKError) as caught:
        decode_body(body, content_type=content_type, compression=compression)
    assert (caught.value.status, caught.value.type, caught.value.code) == (400, "validation_error", code)


@pytest.mark.parametrize(
    ("payload", "query", "token", "distinct_id"),
    [
        ({"token": "phc_a", "distinct_id": "u"}, {}, "phc_a", "u"),
        ({"$token": "phc_a", "$distinct_id": "u"}, {}, "phc_a", "u"),
        ({"api_key": " phc_a\n", "distinct_id": 23}, {}, "phc_a", "23"),
        ({"distinct_id": 23.5}, {"token": "phc_q"}, "phc_q", "23.5"),
        ({"token": "phc_a", "distinct_id": "x" * 250}, {}, "phc_a", "x" * 200),
    ],
)
def test_token_and_distinct_id(payload: dict[str, Any], query: dict[str, str], token: str, distinct_id: str) -> None:
    parsed = flags_request_from_payload(payload, query)
    assert (parsed.token, parsed.distinct_id) == (token, distinct_id)


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"distinct_id": "u"}, 401, "missing_api_key"),
        ({"token": "", "distinct_id": "u"}, 401, "missing_api_key"),
        ({"token": {"a": 1}, "distinct_id": "u"}, 401, "missing_api_key"),
        ({"token": "phc_a"}, 400, "missing_distinct_id"),
        ({"token": "phc_a", "distinct_id": None}, 400, "missing_distinct_id"),
        ({"token": "phc_a", "distinct_id": " "}, 400, "missing_distinct_id"),
        ({"token": "phc_a", "distinct_id": True}, 400, "missing_distinct_id"),
        ([{"token": "phc_a"}], 400, "invalid_payload"),
    ],
)
def test_request_errors(payload: Any, status: int, code: str) -> None:
    with pytest.raises(SDKError) as caught:
        flags_request_from_payload(payload, {})
    assert (caught.value.status, caught.value.code) == (status, code)


def test_optional_fields() -> None:
    parsed = flags_request_from_payload(
        {
            "token": "phc_a",
            "distinct_id": "u",
            "groups": {"company": 42, "none": None},
            "group_properties": {"company": {"tier": "x"}, "bad": "not a dict"},
            "person_properties": "not a dict",
            "$device_id": "dev-1",
            "flag_keys": ["a", 2],
            "disable_flags": True,
        },
        {},
    )
    assert parsed.groups == {"company": "42"}
    assert parsed.group_properties == {"company": {"tier": "x"}, "bad": {}}
    assert parsed.person_properties == {}
    assert (parsed.device_id, parsed.flag_keys, parsed.disable_flags) == ("dev-1", ["a", "2"], True)
