"""Every URL pattern of the project has a documented operation: summary, typed schemas, security."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from openapi.management.commands.generate_api_docs import build_spec

# Infrastructure and UI routes that are not API operations.
UNDOCUMENTED = ("admin/", "api/schema/", "_health", "_readyz", "_metrics", "static/")


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
    }
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
