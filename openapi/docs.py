"""Render the OpenAPI spec as markdown: one file per operationId (its responses, success and error, as a table,
then its JSON schema) plus an index page per tag listing each operation's error codes.

Output is deterministic (sorted keys and files, no timestamps) so CI can regenerate and diff it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untagged"


def referenced_schemas(node: Any, components: dict[str, Any], found: dict[str, Any]) -> None:
    """Collect every component schema `node` refers to, recursively."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found and name in components:
                found[name] = components[name]
                referenced_schemas(components[name], components, found)
        for value in node.values():
            referenced_schemas(value, components, found)
    elif isinstance(node, list):
        for value in node:
            referenced_schemas(value, components, found)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in sorted(spec.get("paths", {}).items())
        for method, op in sorted(item.items())
        if method in HTTP_METHODS
    ]


def schema_label(schema: dict[str, Any]) -> str:
    """A component name, `array of` one, `a or b` for anyOf/oneOf, else the JSON type."""
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return f"array of {schema_label(schema['items'])}"
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return " or ".join(schema_label(s) for s in alternatives)
    return f"`{schema['type']}`" if "type" in schema else ""


def body_of(response: dict[str, Any]) -> str:
    """The body a response documents, as a short label per media type, or `none`."""
    labels = []
    for media, content in sorted(response.get("content", {}).items()):
        name = schema_label(content.get("schema", {}))
        labels.append(f"{name} ({media})" if name else f"({media})")
    return ", ".join(labels) or "none"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def responses_table(op: dict[str, Any]) -> list[str]:
    """Every documented status, success and error, with its description and body."""
    lines = ["## Responses", "", "| Status | Description | Body |", "|---|---|---|"]
    for code, response in sorted(op.get("responses", {}).items()):
        lines.append(f"| {code} | {cell(response.get('description', ''))} | {body_of(response)} |")
    return [*lines, ""]


def render(spec: dict[str, Any]) -> dict[str, str]:
    """Relative file name → markdown text."""
    components = spec.get("components", {}).get("schemas", {})
    files: dict[str, str] = {}
    by_tag: dict[str, list[tuple[str, str, str, str, str]]] = defaultdict(list)
    for path, method, op in operations(spec):
        op_id = op["operationId"]
        schemas: dict[str, Any] = {}
        referenced_schemas(op, components, schemas)
        document = {"paths": {path: {method: op}}, "components": {"schemas": dict(sorted(schemas.items()))}}
        title = op.get("summary") or op_id
        lines = [
            f"# {title}",
            "",
            f"`{method.upper()} {path}` · operationId `{op_id}`",
            "",
            op.get("description", "").strip() or title,
            "",
            *responses_table(op),
            "## Schema",
            "",
            "```json",
            json.dumps(document, indent=2, sort_keys=True),
            "```",
            "",
        ]
        files[f"operations/{op_id}.md"] = "\n".join(lines)
        for tag in op.get("tags") or ["untagged"]:
            errors = ", ".join(c for c in sorted(op.get("responses", {})) if c[:1] in "45")
            by_tag[tag].append((op_id, method.upper(), path, title, errors or "none"))
    index = ["# API reference", "", "| Page | Operations |", "|---|---|"]
    for tag in sorted(by_tag):
        entries = sorted(by_tag[tag], key=lambda e: (e[2], e[1]))
        page = [f"# {tag}", "", "| Operation | Method | Path | Errors |", "|---|---|---|---|"]
        page += [f"| [{title}](operations/{op_id}.md) | {m} | `{p}` | {e} |" for op_id, m, p, title, e in entries]
        files[f"{slug(tag)}.md"] = "\n".join(page) + "\n"
        index.append(f"| [{tag}]({slug(tag)}.md) | {len(entries)} |")
    files["README.md"] = "\n".join(index) + "\n"
    return files
