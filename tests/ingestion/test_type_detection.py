"""Property type detection rules (definitions reference §3.5), one row per rule."""

from __future__ import annotations

import pytest

from definitions.type_detection import detect_property_type

NOW = 1_790_000_000.0  # 2026-09-21

CASES = [
    ("utm_source", 42, "String"),
    ("UTM_medium", True, "String"),
    ("$feature/beta", True, "String"),
    ("$feature_flag_response", False, "String"),
    ("$survey_response_2", 5, "String"),
    ("created_at", "2024-01-02", "DateTime"),
    ("signup_time", NOW - 100, "DateTime"),
    ("signup_time", 1_000, "Numeric"),  # older than six months: just a number
    ("updatedAt", int(NOW), "DateTime"),
    ("count", int(NOW), "Numeric"),  # no date keyword in the key
    ("flag", " TRUE ", "Boolean"),
    ("flag", "false", "Boolean"),
    ("when", "2024-01-02T03:04:05Z", "DateTime"),
    ("when", "2024-01-02T03:04:05.123+02:00", "DateTime"),
    ("when", "2024-01-02 03:04:05", "DateTime"),
    ("when", "02-01-2024 03:04:05", "DateTime"),
    ("when", "2024/01/02 03:04:05", "DateTime"),
    ("when", "02/01/2024", "DateTime"),
    ("when", "Tue, 02 Jan 2024 10:00:00 +0000", "DateTime"),
    ("when", "02 Jan 2024 10:00:00", "DateTime"),
    ("plan", "pro", "String"),
    ("zip", "12345", "String"),  # numeric-looking strings stay String
    ("price", 9.99, "Numeric"),
    ("n", 3, "Numeric"),
    ("ok", True, "Boolean"),
    ("nothing", None, None),
    ("obj", {"a": 1}, None),
    ("arr", [1, 2], None),
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES)
def test_detected_type(key, value, expected):
    assert detect_property_type(key, value, now=NOW) == expected
