"""Turning the bytes of a public SDK request (capture, /flags, /decide, …) into JSON (capture reference §2).
Pure: no Django, no database.

Order: payload = query ``data`` if non-empty, else the body (a urlencoded form body gives its ``data``
field, with the space-to-plus repair of base64); compression hint = query ``compression``, then form
``compression``, then ``Content-Encoding``; gzip whenever the bytes start with the gzip magic whatever
the hint; lz-string / base64 / lz4 by hint; base64 also by shape; then UTF-8 and JSON (NaN/Infinity →
null). Decompression streams and stops at ``max_bytes`` (413), so a small bomb cannot fill memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import lz4.frame
import orjson

from posthog_clone.sdk.errors import malformed, no_data, too_large

GZIP_MAGIC = b"\x1f\x8b\x08"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

_COMPRESSION_NAMES = {
    "gzip": "gzip",
    "gzip-js": "gzip",
    "lz64": "lz64",
    "lz-string": "lz64",
    "base64": "base64",
    "b64": "base64",
    "lz4": "lz4",
}
_FORM_FIELD = re.compile(rb"(?:^|&)(?:data|_|ip|compression|ver|api_key|token|sent_at)=")
_BASE64_CHARS = re.compile(rb"[A-Za-z0-9+/=_\-]+")
_BASE64_CHARS_WITH_SPACES = re.compile(rb"[A-Za-z0-9+/= ]+")
_LZ_ALPHABET = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SIX_BITS = [format(v & 63, "06b") for v in range(65)]  # "=" (64) carries no bits
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class DecodedRequest:
    payload: Any  # the parsed JSON
    form: dict[str, str] = field(default_factory=dict)  # urlencoded fields next to `data` (api_key, sent_at…)
    compression: str | None = None  # normalised hint that applied, if any


def compression_name(value: str | None) -> str | None:
    """Normalise a compression hint; unknown names are "unsupported" (None), never an error (§17 #25)."""
    if not value:
        return None
    return _COMPRESSION_NAMES.get(value.strip().lower())


def decode_payload(
    *,
    body: bytes,
    query: Mapping[str, str],
    form: Mapping[str, str] | None,
    content_type: str,
    content_encoding: str,
    legacy: bool,
    max_bytes: int,
) -> Any:
    """The JSON an SDK request carries. Raises SDKError (400 / 413)."""
    return decode_request(
        body=body,
        query=query,
        form=form,
        content_type=content_type,
        content_encoding=content_encoding,
        legacy=legacy,
        max_bytes=max_bytes,
    ).payload


def decode_request(
    *,
    body: bytes,
    query: Mapping[str, str],
    form: Mapping[str, str] | None,
    content_type: str,
    content_encoding: str,
    legacy: bool,
    max_bytes: int,
) -> DecodedRequest:
    """Like decode_payload, also returning the form fields and the compression that applied."""
    fields: dict[str, str] = dict(form) if form else {}
    raw: bytes
    query_data = query.get("data") or ""
    if query_data:
        raw = query_data.encode("utf-8", "surrogatepass")
    elif fields.get("data"):
        raw = fields["data"].encode("utf-8", "surrogatepass")
    elif _looks_like_form(body) and not _is_json_type(content_type):
        fields = _parse_form(body)
        raw = fields.get("data", "").encode("utf-8", "surrogatepass")
    else:
        raw = body
    if not raw.strip():
        raise no_data()
    if len(raw) > max_bytes:
        raise too_large()

    hint = (
        compression_name(query.get("compression"))
        or compression_name(fields.get("compression"))
        or compression_name(content_encoding)
    )
    if hint in ("base64", "lz64") or (raw is not body and b" " in raw):
        raw = _repair_spaces(raw)
    data = _decompress(raw, hint, max_bytes)
    if legacy and not isinstance(data, str):
        data = unwrap_base64(data, max_bytes)
    return DecodedRequest(payload=parse_json(data), form=fields, compression=hint)


def parse_json(data: bytes | str) -> Any:
    """JSON with NaN / Infinity read as null; pathological nesting is a 400, never a RecursionError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        first_error = str(exc)
    try:
        return json.loads(data, parse_constant=lambda _name: None, parse_int=_int_like_orjson)
    except RecursionError:
        raise malformed("Invalid JSON: nesting too deep") from None
    except (ValueError, TypeError):
        raise malformed(f"Invalid JSON: {first_error}") from None


def _int_like_orjson(text: str) -> int | float:
    """Integers past 64 bits become floats, as orjson (and JavaScript) read them."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(value)


def _decompress(raw: bytes, hint: str | None, max_bytes: int) -> bytes | str:
    if raw.startswith(GZIP_MAGIC):
        return gunzip(raw, max_bytes)
    if hint == "gzip":
        unwrapped = _b64decode(raw)
        if unwrapped is not None and unwrapped.startswith(GZIP_MAGIC):
            return gunzip(unwrapped, max_bytes)
        raise malformed("Failed to decompress data. Not a gzip stream.")
    if hint == "lz64":
        return lz_string_decompress_base64(raw, max_bytes)
    if hint == "lz4":
        return lz4_frame_decompress(raw, max_bytes)
    if hint == "base64":
        unwrapped = _b64decode(raw)
        if unwrapped is None:
            raise malformed("Failed to decompress data. Invalid base64.")
        return gunzip(unwrapped, max_bytes) if unwrapped.startswith(GZIP_MAGIC) else unwrapped
    return unwrap_base64(raw, max_bytes)


def unwrap_base64(raw: bytes, max_bytes: int) -> bytes:
    """Base64 by shape: kept only if it decodes to gzip or to UTF-8 text; otherwise the original."""
    stripped = raw.strip()
    if not stripped or not _BASE64_CHARS.fullmatch(stripped):
        return raw
    unwrapped = _b64decode(stripped)
    if unwrapped is None:
        return raw
    if unwrapped.startswith(GZIP_MAGIC):
        return gunzip(unwrapped, max_bytes)
    try:
        unwrapped.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return unwrapped


def _b64decode(raw: bytes) -> bytes | None:
    text = raw.strip().replace(b"-", b"+").replace(b"_", b"/").rstrip(b"=")
    if not text or len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _repair_spaces(raw: bytes) -> bytes:
    """Form decoding turns base64's `+` into spaces; put them back (only for base64-looking data)."""
    if b" " in raw and _BASE64_CHARS_WITH_SPACES.fullmatch(raw.strip()):
        return raw.strip().replace(b" ", b"+")
    return raw


def gunzip(raw: bytes, max_bytes: int) -> bytes:
    """Stream-decompress gzip, aborting with 413 once the output passes ``max_bytes``."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = raw
    try:
        while pending:
            out += decompressor.decompress(pending, max_bytes + 1 - len(out))
            if len(out) > max_bytes:
                raise too_large()
            pending = decompressor.unconsumed_tail
            if decompressor.eof:
                break
        if not decompressor.eof:
            raise malformed("Failed to decompress data. Truncated gzip stream.")
    except zlib.error as exc:
        raise malformed(f"Failed to decompress data. {exc}") from None
    return bytes(out)


def lz4_frame_decompress(raw: bytes, max_bytes: int) -> bytes:
    decompressor = lz4.frame.LZ4FrameDecompressor()
    out = bytearray()
    pending = raw
    try:
        while not decompressor.eof:
            chunk = decompressor.decompress(pending, max_length=_CHUNK)
            out += chunk
            if len(out) > max_bytes:
                raise too_large()
            pending = b""
            if not chunk and decompressor.needs_input:
                raise malformed("Failed to decompress data. Truncated lz4 frame.")
    except RuntimeError as exc:
        raise malformed(f"Failed to decompress data. {exc}") from None
    return bytes(out)


def lz_string_decompress_base64(raw: bytes, max_chars: int) -> str:
    """lz-string's ``decompressFromBase64`` with an output bound (lz-string can expand quadratically).

    Same algorithm and result as ``lzstring.LZString().decompressFromBase64`` (checked against it in
    tests); that port builds its whole output before returning, so it cannot stop a bomb early.
    """
    try:
        text = raw.decode("ascii").strip().replace(" ", "+")
        values = [_LZ_ALPHABET[c] for c in text]
    except (UnicodeDecodeError, KeyError):
        raise malformed("Failed to decompress data. Invalid lz64 payload.") from None
    result = _lz_decode(values, max_chars)
    if not result:
        raise malformed("Failed to decompress data. Invalid lz64 payload.")
    if _SURROGATE.search(result):  # JS strings are UTF-16: join surrogate pairs into code points
        result = result.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return result


def _lz_decode(values: list[int], max_chars: int) -> str | None:
    length = len(values)
    if not length:
        return None
    # Each base64 character carries 6 bits, most significant first; lz-string reads codes least
    # significant bit first. Reading a reversed slice of one bit string keeps the loop per code, not per bit.
    total_bits = 6 * length
    bits = "".join(_SIX_BITS[v] for v in values) + "0" * 64
    position = 0

    def read_bits(count: int) -> int:
        nonlocal position
        chunk = bits[position : position + count]
        position += count
        if len(chunk) < count:  # past the end reads zeros, as in JavaScript
            chunk += "0" * (count - len(chunk))
        return int(chunk[::-1], 2)

    dictionary: dict[int, str] = {}
    first = read_bits(2)
    if first == 2:
        return ""
    if first not in (0, 1):
        return None
    word = chr(read_bits(8 if first == 0 else 16))
    dictionary[3] = word
    dict_size, num_bits, enlarge_in = 4, 3, 4
    result = [word]
    total = 1
    while True:
        if position >= total_bits:
            return ""
        code = read_bits(num_bits)
        if code in (0, 1):
            dictionary[dict_size] = chr(read_bits(8 if code == 0 else 16))
            code = dict_size
            dict_size += 1
            enlarge_in -= 1
        elif code == 2:
            return "".join(result)
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1
        if code in dictionary:
            entry = dictionary[code]
        elif code == dict_size:
            entry = word + word[0]
        else:
            return None
        total += len(entry)
        if total > max_chars:
            raise too_large()
        result.append(entry)
        dictionary[dict_size] = word + entry[0]
        dict_size += 1
        enlarge_in -= 1
        word = entry
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1


def _looks_like_form(body: bytes) -> bool:
    return bool(_FORM_FIELD.search(body[:128]))


def _is_json_type(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except UnicodeDecodeError:
        raise malformed("Form data is not valid UTF-8.") from None
    except ValueError:
        raise malformed("Too many form fields.") from None
    return dict(pairs)


__all__ = [
    "DecodedRequest",
    "compression_name",
    "decode_payload",
    "decode_request",
    "parse_json",
    "unwrap_base64",
]
