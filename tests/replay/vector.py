"""The replay reference's §1.6 test vector: one `/s/` request of 8 rrweb events (§1.8's DOM)."""

from __future__ import annotations

from typing import Any

T = 1720000000000
SESSION = "0190b2d4-5f2c-7d00-8c3a-1a2b3c4d5e6f"
WINDOW = "0190b2d4-5f2d-7000-9d1e-0a0b0c0d0e0f"
DOM = {
    "node": {
        "type": 0,
        "id": 1,
        "childNodes": [
            {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2},
            {
                "type": 2,
                "tagName": "html",
                "attributes": {},
                "id": 3,
                "childNodes": [
                    {"type": 2, "tagName": "head", "attributes": {}, "id": 4, "childNodes": []},
                    {
                        "type": 2,
                        "tagName": "body",
                        "attributes": {},
                        "id": 5,
                        "childNodes": [
                            {
                                "type": 2,
                                "tagName": "button",
                                "attributes": {"id": "buy"},
                                "id": 6,
                                "childNodes": [{"type": 3, "textContent": "Buy", "id": 7}],
                            },
                            {"type": 2, "tagName": "input", "attributes": {"type": "text"}, "id": 8, "childNodes": []},
                        ],
                    },
                ],
            },
        ],
    },
    "initialOffset": {"left": 0, "top": 0},
}


def _console(level: str, message: str) -> dict[str, Any]:
    return {"plugin": "rrweb/console@1", "payload": {"level": level, "payload": [message], "trace": []}}


def events(t: int = T) -> list[dict[str, Any]]:
    return [
        {"type": 4, "data": {"href": "https://example.com/pricing", "width": 1280, "height": 720}, "timestamp": t},
        {"type": 2, "data": DOM, "timestamp": t + 10},
        {"type": 3, "data": {"source": 1, "positions": [{"x": 10, "y": 20, "id": 6, "timeOffset": 0}]},
         "timestamp": t + 1000},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 6, "x": 10, "y": 20}, "timestamp": t + 2000},
        {"type": 3, "data": {"source": 5, "text": "hello", "isChecked": False, "id": 8}, "timestamp": t + 3000},
        {"type": 6, "data": _console("error", '"boom"'), "timestamp": t + 4000},
        {"type": 6, "data": _console("log", '"hi"'), "timestamp": t + 4500},
        {"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": 400}, "timestamp": t + 20000},
    ]  # fmt: skip


def snapshot_event(
    data: list[dict[str, Any]], *, session: str = SESSION, window: str | None = WINDOW, token: str = "phc_test"
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "$snapshot_bytes": 1300,
        "$session_id": session,
        "$lib": "web",
        "$lib_version": "1.300.0",
        "distinct_id": "user-42",
        "token": token,
        "$config_defaults": "unset",
        "$snapshot_data": data,
    }
    if window is not None:
        properties["$window_id"] = window
    return {
        "uuid": "0190b2d4-6a00-7000-8000-00000000a001",
        "event": "$snapshot",
        "offset": 12,
        "properties": properties,
    }
