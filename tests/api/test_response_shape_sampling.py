"""Responses are checked against their declared shape: every one under STRICT_RESPONSE_VALIDATION (tests), a
sample otherwise (the first of each endpoint in a process, then one in a hundred)."""

from __future__ import annotations

import uuid

from posthog_clone.api.validation import SHAPE_CHECK_EVERY, SHAPE_CHECK_FIRST, shape_check_due


def test_strict_checks_every_response(settings) -> None:
    settings.STRICT_RESPONSE_VALIDATION = True
    endpoint = f"strict {uuid.uuid4()}"
    assert all(shape_check_due(endpoint) for _ in range(500))


def test_otherwise_the_first_responses_then_one_in_a_hundred(settings) -> None:
    settings.STRICT_RESPONSE_VALIDATION = False
    endpoint, other = f"sampled {uuid.uuid4()}", f"other {uuid.uuid4()}"
    checked = [n for n in range(1, 501) if shape_check_due(endpoint)]
    assert checked == [*range(1, SHAPE_CHECK_FIRST + 1), *range(SHAPE_CHECK_EVERY, 501, SHAPE_CHECK_EVERY)]
    assert shape_check_due(other)  # counted per endpoint
