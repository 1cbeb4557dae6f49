"""`?format=csv` for list endpoints PostHog offers as CSV (actions, cohort persons): the `results` rows of the
JSON body, one column per key of the first row; nested values as JSON text."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        rows = data.get("results") if isinstance(data, dict) and "results" in data else data
        if not isinstance(rows, list):  # an error body: keep it readable
            rows = [data] if isinstance(data, dict) else []
        columns: list[str] = list(rows[0]) if rows and isinstance(rows[0], dict) else []
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
        return buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else value


def json_errors(request: Request, response: Any) -> Any:
    """Errors stay PostHog's JSON body even when `?format=csv` asked for CSV (call from `finalize_response`)."""
    if getattr(response, "status_code", 200) >= 400 and isinstance(
        getattr(request, "accepted_renderer", None), CSVRenderer
    ):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response
