"""Every operation documents the errors it really answers, and answers the errors it documents.

For each operation of the generated spec, real requests (Django's test client, the whole middleware and
DRF path) try to provoke each error: no credentials, a key that does not exist, a key without the scope,
another organization's member, unknown path ids, throttling at a zero rate, a malformed body, an unlisted
content type, invalid query values. Every 4xx they get must be documented (with the shared error body),
and every documented 400/401/403/404/415/429 must be provoked by one of them.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from openapi.management.commands.generate_api_docs import build_spec
from posthog_clone.accounts.services import personal_api_key_create

METHODS = ("get", "post", "put", "patch", "delete")
UNKNOWN_PROJECT = 10**9
ERROR_REF = {"$ref": "#/components/schemas/Error"}
SDK_EVENT = '{"event": "probe", "distinct_id": "probe"}'
PROVOKED = {"400", "401", "403", "404", "415", "429"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = build_spec()
    paths = spec["paths"].items()
    return [(path, method, op) for path, item in paths for method, op in item.items() if method in METHODS]


def fill(path: str, op: dict[str, Any], project: Any, *, unknown: bool) -> str:
    schemas = {p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "project_id" or (name == "id" and path.startswith("/api/projects/{id}")):
            return str(UNKNOWN_PROJECT if unknown else project.team.pk)
        if name == "token":
            return "phc_unknown" if unknown else project.team.api_token
        if name == "kind":
            return "HogQLQuery"
        if path.startswith("/api/users/"):
            return "@nobody" if unknown else "@me"
        if path.startswith("/api/organizations/") and not unknown:
            return "@current"
        if schemas.get(name, {}).get("type") == "integer":
            return "999999999"
        return str(uuid.uuid4())

    return re.sub(r"\{(\w+)\}", value, path)


def query_of(op: dict[str, Any], project: Any) -> dict[str, str]:
    """Required query parameters with harmless valid values (`token` is the project's)."""
    query = {}
    for p in op.get("parameters", []):
        if p["in"] == "query" and (p.get("required") or p["name"] == "token"):
            query[p["name"]] = project.team.api_token if p["name"] == "token" else "x"
    return query


def send(
    method: str,
    url: str,
    *,
    key: str | None = None,
    query: dict[str, str] | None = None,
    body: str | None = "{}",
    content_type: str = "application/json",
) -> tuple[str, Any]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if query:
        url = url + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    client = Client()
    if method == "get":
        response = client.get(url, **headers)
    else:
        response = getattr(client, method)(url, data=body or "", content_type=content_type, **headers)
    body_json = None
    if response.get("Content-Type", "").startswith("application/json"):
        body_json = response.json()
    return str(response.status_code), body_json


OPERATIONS = operations()


class Probes:
    """What one operation answered to each probe, and what is wrong with it."""

    def __init__(self, where: str, op: dict[str, Any]) -> None:
        self.where, self.op = where, op
        self.documented = set(op["responses"])
        self.answered: dict[str, list[str]] = defaultdict(list)
        self.problems: list[str] = []

    def record(self, name: str, status: str, body: Any) -> None:
        self.answered[status].append(name)
        if status in PROVOKED and status not in self.documented:
            self.problems.append(f"{self.where}: {name} answered an undocumented {status}")
        response = self.op["responses"].get(status, {})
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema == ERROR_REF and set(body or {}) != {"type", "code", "detail", "attr"}:
            self.problems.append(f"{self.where}: {name} answered {status} without the error body: {body}")

    def unprovoked(self) -> list[str]:
        return [
            f"{self.where}: documents {code} but no probe provoked it"
            for code in sorted(self.documented & PROVOKED)
            if not self.answered.get(code)
        ]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_documented_errors_are_the_errors_answered(path, method, op, project, other_project, settings):
    _, unscoped = personal_api_key_create(user=project.user, label="unrelated", scopes=["survey:read"])
    url, query, key = fill(path, op, project, unknown=False), query_of(op, project), project.key_value
    probes = Probes(f"{method.upper()} {path}", op)
    settings.RATE_LIMIT_ENABLED = False
    probes.record("no credentials", *send(method, url, query=query))
    probes.record("unknown key", *send(method, url, key="phx_" + "0" * 40, query=query))
    probes.record("key without the scope", *send(method, url, key=unscoped, query=query))
    probes.record("another organization's key", *send(method, url, key=other_project.key_value, query=query))
    if not op.get("security"):  # public SDK endpoints: the project token travels in the body
        if method == "get" and "data" in query:
            answer = send(method, url, query={**query, "data": quote(SDK_EVENT)})
        else:
            answer = send(method, url, query=query, body=SDK_EVENT)
        probes.record("SDK body without a project token", *answer)
    if "{" in path:
        probes.record("unknown path ids", *send(method, fill(path, op, project, unknown=True), key=key, query=query))
    if "requestBody" in op:
        probes.record("malformed JSON body", *send(method, url, key=key, query=query, body="{"))
        probes.record("text/plain body", *send(method, url, key=key, query=query, body="x", content_type="text/plain"))
    for parameter in op.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] != "token":
            for bad in ("%00", "not-a-valid-value"):
                answer = send(method, url, key=key, query={**query, parameter["name"]: bad}, body="{")
                probes.record(f"query {parameter['name']}={bad}", *answer)
    settings.RATE_LIMIT_ENABLED = True
    settings.THROTTLE_RATES = dict.fromkeys(settings.THROTTLE_RATES, "0/minute")
    probes.record("zero rate limit", *send(method, url, key=key, query=query))
    assert probes.problems + probes.unprovoked() == []
