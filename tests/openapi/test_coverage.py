"""Every URL pattern of the project has a documented operation: summary, typed schemas, security, and the
error responses its view can answer."""

from __future__ import annotations

import re
import uuid

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.authentication import SessionAuthentication

from openapi.management.commands.generate_api_docs import build_spec
from posthog_clone.registry import FAST_PATHS

# Infrastructure and UI routes that are not API operations.
UNDOCUMENTED = ("admin/", "api/schema/", "_health", "_readyz", "_metrics", "static/", "console/")  # console: pages


def walk(patterns, prefix: str = "") -> list[str]:
    routes: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            routes += walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            routes.append(prefix + str(p.pattern))
    return routes


def normalise(route: str) -> str:
    """Turn a Django route or regex into a comparable OpenAPI-ish path."""
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    route = route.replace("/?", "/").replace("\\", "")
    route = re.sub(r"\{[^}]+\}", "{}", "/" + route.lstrip("/"))
    return route if route.endswith("/") else route + "/"


def test_every_route_has_a_documented_operation():
    spec = build_spec()
    documented = {normalise(path) for path in spec["paths"]}
    routes = {
        normalise(r)
        for r in walk(get_resolver().url_patterns)
        if not r.lstrip("^").startswith(UNDOCUMENTED) and "format" not in r and r != "^api/"
    } | {normalise(path) for path in FAST_PATHS}  # answered in front of Django (capture)
    missing = sorted(routes - documented)
    assert missing == [], f"routes without an operation in /api/schema/: {missing}"


def test_every_operation_has_summary_schemas_and_security():
    spec = build_spec()
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                problems.append(f"{where}: no summary")
            if not op.get("responses") or not any(str(c).startswith("2") for c in op["responses"]):
                problems.append(f"{where}: no success response")
            ok = (
                next(v for c, v in op.get("responses", {}).items() if str(c).startswith("2"))
                if op.get("responses")
                else {}
            )
            if str(next(iter(op.get("responses", {"": 0})))) != "204" and not ok.get("content") and method != "delete":
                problems.append(f"{where}: success response has no schema")
            if method in {"post", "put", "patch"} and "requestBody" not in op and not path.startswith(("/e", "/batch")):
                problems.append(f"{where}: no request body schema")
            if "security" not in op and not op.get("x-public"):
                problems.append(f"{where}: no security")
    assert problems == [], "\n".join(problems)


ERROR_REF = {"$ref": "#/components/schemas/Error"}
PAGINATION = {"limit", "offset", "format"}  # format: DRF's renderer override (an unknown one is a 404)


def view_of(path: str, op: dict) -> type | None:
    """The DRF view class serving `path` (None for plain Django views and the fast paths such as capture)."""
    if path in FAST_PATHS:
        return None
    samples = {"project_id": "1", "token": "phc_sample", "kind": "HogQLQuery"}
    types = {p["name"]: p.get("schema", {}).get("type") for p in op.get("parameters", []) if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in samples:
            return samples[name]
        if path.startswith("/api/users/"):
            return "@me"
        if path.startswith("/api/organizations/"):
            return "@current"
        return "1" if types.get(name) == "integer" or path.startswith("/api/projects/{id}") else str(uuid.uuid4())

    return getattr(resolve(re.sub(r"\{(\w+)\}", value, path)).func, "cls", None)


def expected_errors(path: str, method: str, op: dict) -> set[str] | None:
    """What the view can answer, read from its classes (None when no DRF view serves the path)."""
    cls = view_of(path, op)
    if cls is None:
        return None
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    expected = set()
    if "requestBody" in op or query - PAGINATION:
        expected.add("400")
    if cls.authentication_classes:
        expected.add("401")
    scoped = getattr(cls, "scope_object", None) is not None
    session = any(issubclass(a, SessionAuthentication) for a in cls.authentication_classes)
    if scoped or (method != "get" and session):
        expected.add("403")
    if "{" in path:
        expected.add("404")
    scopes = next((s["PersonalAPIKeyAuth"] for s in op.get("security", []) if "PersonalAPIKeyAuth" in s), None)
    if cls.throttle_classes and not (scoped and not scopes):
        expected.add("429")
    return expected


def test_every_operation_documents_its_errors_with_the_shared_body_and_describes_success():
    """400 (a body, or a query parameter beyond the clamped limit/offset), 401 (authenticated), 403 (scoped,
    membership, CSRF), 404 (path ids), 429 (throttled): exactly those a DRF view can answer; public SDK
    operations at least those; every error with PostHog's `{type, code, detail, attr}` component and every
    response described."""
    spec = build_spec()
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"type", "code", "detail", "attr"}
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            responses = op["responses"]
            for code, response in responses.items():
                if not response.get("description", "").strip():
                    problems.append(f"{where}: {code} has no description")
                if code[0] in "45":
                    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                    if schema != ERROR_REF and ERROR_REF not in schema.get("anyOf", []):
                        problems.append(f"{where}: {code} does not answer the shared Error body")
            documented = {c for c in responses if c in {"400", "401", "403", "404", "429"}}
            expected = expected_errors(path, method, op)
            if expected is None and op.get("security"):
                problems.append(f"{where}: an authenticated operation that no DRF view serves")
            if expected is None:  # written by hand (capture): a body or a query can always be refused
                expected = {"400"} if "requestBody" in op or op.get("parameters") else set()
            public = not op.get("security")
            if "400" in documented - expected and any(p["in"] == "query" for p in op.get("parameters", [])):
                expected.add("400")  # limit/offset validated by a query serializer (test_error_responses shows it)
            if (public and not expected <= documented) or (not public and expected != documented):
                problems.append(f"{where}: documents {sorted(documented)}, the view answers {sorted(expected)}")
    assert problems == [], "\n".join(problems)
