"""Helpers for survey tests: create surveys through the API, insert survey events straight into ClickHouse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from surveys.selectors import served_surveys_clear


@pytest.fixture(autouse=True)
def _fresh_served_cache() -> Iterator[None]:
    served_surveys_clear()
    yield
    served_surveys_clear()


def surveys_url(project: Any) -> str:
    return f"/api/projects/{project.team.pk}/surveys/"


def create_survey(project: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "NPS",
        "type": "popover",
        "questions": [{"type": "rating", "question": "How likely?", "scale": 10, "display": "number"}],
        **fields,
    }
    response = project.client().post(surveys_url(project), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()
