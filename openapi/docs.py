"""Render the OpenAPI spec as markdown: one file per operationId plus an index page per tag.

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


def render(spec: dict[str, Any]) -> dict[str, str]:
    """Relative file name → markdown text."""
    components = spec.get("components", {}).get("schemas", {})
    files: dict[str, str] = {}
    by_tag: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
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
            "```json",
            json.dumps(document, indent=2, sort_keys=True),
            "```",
            "",
        ]
        files[f"operations/{op_id}.md"] = "\n".join(lines)
        for tag in op.get("tags") or ["untagged"]:
            by_tag[tag].append((op_id, method.upper(), path, title))
    index = ["# API reference", "", "| Page | Operations |", "|---|---|"]
    for tag in sorted(by_tag):
        entries = sorted(by_tag[tag], key=lambda e: (e[2], e[1]))
        page = [f"# {tag}", "", "| Operation | Method | Path |", "|---|---|---|"]
        page += [f"| [{title}](operations/{op_id}.md) | {m} | `{p}` |" for op_id, m, p, title in entries]
        files[f"{slug(tag)}.md"] = "\n".join(page) + "\n"
        index.append(f"| [{tag}]({slug(tag)}.md) | {len(entries)} |")
    files["README.md"] = "\n".join(index) + "\n"
    return files
